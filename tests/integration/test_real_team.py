"""The seed's team, end to end, with the real CLIs: Claude Code orchestrates, Claude Code through the proxy
slot (the scripted model server runs as the team's proxy) and Codex work, a simulated agent holds Amp's slot.

Everything goes through the playbooks and the agents' own tool shells: the scripted model answers each
agent as a model would, running the commands its prompt and the dispatcher's notices name. The request log
tells what each agent was told and when.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import threading
import time

import pytest

from conftest import MODEL_SERVER, REPO, ModelServerProcess, free_port, wait_for
from ansible_collections.moana.orchestration.plugins.module_utils import _agents as A
from ansible_collections.moana.orchestration.plugins.module_utils import _board as B
from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T

pytestmark = pytest.mark.playbook
SESSION = "moana-orchestration"
TASKS = {"high": ("Design the cache", "antigravity"), "medium": ("Build the cache", "amp"), "low": ("Test the cache", "codex")}
# One notice line as the dispatcher writes it: "[orchestra] " then "; "-separated notices, each whole.
NOTICE = (r"TASK-\d{3} (is assigned to you|was completed|FAILED): run orchestra task show TASK-\d{3}"
          r"|MSG-\d{3} is a message (for you|to all): run orchestra msg list --to \w+ --since MSG-\d{3}")
NOTICE_LINE = re.compile(r"\[orchestra\] (%s)(; (%s))*" % (NOTICE, NOTICE))
# The model's replies: a pause before the first one of each notice keeps the agent busy long enough to be seen.
THINK = 1.5


def scenario() -> dict:
    adds = [{"command": "orchestra task add --complexity %s --priority HIGH --title '%s' --description 'part of the cache'"
                        % (complexity, title), "description": "Assign %s" % title}
            for complexity, (title, _worker) in TASKS.items()]
    adds[0]["delay"] = THINK
    return {"default": {"text": "Noted."}, "rules": [
        # The orchestrator's initial prompt: split the request into three tasks.
        {"agent": "claude", "match": r"^# You are claude, the orchestrator", "times": 1,
         "replies": [*adds, {"text": "Three tasks assigned."}]},
        # A completion: look at it as the notice says; once nothing is left in the queue, say so to all, once.
        {"agent": "claude", "match": r"(TASK-\d+) was completed: run (orchestra task show TASK-\d+)", "replies": [
            {"command": r"\g<2>", "delay": THINK},
            {"command": "orchestra task list | grep -q '^TASK-' || orchestra msg list | grep -q 'plan complete' "
                        "|| orchestra msg send --to all 'plan complete'"},
            {"text": "Reviewed \\g<1>."}]},
        # A worker's task, through the proxy (Claude Code, no agent prefix) or Codex: the notice's own command,
        # then the task's protocol.
        {"match": r"(TASK-\d+) is assigned to you: run (orchestra task show TASK-\d+)", "replies": [
            {"command": r"\g<2>", "delay": THINK},
            {"command": r"orchestra task start \g<1>"},
            {"command": r"orchestra task done \g<1> --changes 'did \g<1>' --files src/cache.py"},
            {"text": r"Finished \g<1>."}]},
    ]}


def write_homes(home, server_url) -> None:
    """A user's own settings for these CLIs: Bash allowed in Claude Code, a model provider for Codex (whose
    new-model question is answered). What a fresh box lacks to start them unattended (onboarding, trusting the
    project, Codex's daemon off) the role's opt-in variables add."""
    (home / ".claude").mkdir(parents=True)
    (home / ".claude.json").write_text(json.dumps({"numStartups": 3, "projects": {"/elsewhere": {"allowedTools": []}}}))
    (home / ".claude" / "settings.json").write_text(json.dumps({"permissions": {"allow": ["Bash"]}}))
    (home / ".codex").mkdir()
    (home / ".codex" / "config.toml").write_text(
        'model = "gpt-5.5"\nmodel_provider = "local"\n'
        '[model_providers.local]\nname = "Local"\nbase_url = "%s/agent/codex/v1"\nenv_key = "LOCAL_OPENAI_KEY"\n'
        'wire_api = "responses"\n'
        # The answer to Codex's "Try new model / Use existing model" dialog: the model kept.
        '[notice.model_migrations]\n"gpt-5.5" = "gpt-6-sol"\n' % server_url)


class StateLog:
    """Each agent's states as read from its screen, in order, sampled in the background from before start.yml
    runs (the panes are found once the session exists) until stop()."""

    def __init__(self, socket_name: str, session: str, kinds: dict[str, str]):
        self.client = T.Client(socket_name=socket_name)
        self.session, self.kinds = session, kinds  # agent name: agent type
        self.seen: dict[str, list[str]] = {name: [] for name in kinds}
        self.stopping = threading.Event()
        self.errors: list[str] = []
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _panes(self) -> dict[str, str]:
        """{pane id: agent name} once every agent's pane exists; {} before."""
        found = {name: T.find_pane(self.client, self.session, name) for name in self.kinds}
        return {pane_id: name for name, pane_id in found.items() if pane_id} if all(found.values()) else {}

    def _run(self) -> None:
        names: dict[str, str] = {}
        while not self.stopping.is_set():
            try:
                names = names or self._panes()
                observed = A.observe_many(self.client, {p: self.kinds[n] for p, n in names.items()}) if names else {}
            except Exception as exc:  # pylint: disable=broad-except  # reported by stop()
                self.errors.append(repr(exc))
                return
            for pane_id, state in observed.items():
                states = self.seen[names[pane_id]]
                if state != "unknown" and (not states or states[-1] != state):
                    states.append(state)
            self.stopping.wait(0.05)

    def stop(self) -> dict[str, list[str]]:
        self.stopping.set()
        self.thread.join(10)
        assert not self.errors, self.errors
        return self.seen


def went_idle_busy_idle(states: list[str]) -> bool:
    text = " ".join(states)
    return re.search(r"\bidle\b.*\bbusy\b.*\bidle\b", text) is not None


def processes_with_home(home) -> list[str]:
    """Processes whose environment has HOME=home: whatever the team's CLIs started, daemons included."""
    wanted = ("HOME=%s" % home).encode()
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/environ" % pid, "rb") as env:
                if wanted in env.read().split(b"\0"):
                    with open("/proc/%s/cmdline" % pid, "rb") as cmd:
                        found.append("%s %s" % (pid, cmd.read().replace(b"\0", b" ").decode(errors="replace")))
        except OSError:
            continue
    return found


def test_the_real_team_completes_a_three_task_plan_through_the_board(tmux, tmp_path, playbook, real_clis):
    project = tmp_path / "project"
    project.mkdir()
    # A git repository, as a user's project is: Codex asks whether to trust one unless its config says so.
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    home = tmp_path / "home"
    port = free_port()
    server_dir = tmp_path / "model-server"
    server_dir.mkdir()
    (server_dir / "scenario.json").write_text(json.dumps(scenario()))
    server = ModelServerProcess(None, port, server_dir / "scenario.json", server_dir / "requests.jsonl")
    write_homes(home, server.url)
    agents = [
        {"name": "claude", "role": "orchestrator", "command": "claude",
         "environment": {"ANTHROPIC_BASE_URL": server.base_url("claude"), "ANTHROPIC_AUTH_TOKEN": "scripted"}},
        {"name": "amp", "role": "worker", "complexity": "medium", "command": "orchestra simulate --work 0.5 --nudge-only"},
        {"name": "antigravity", "role": "worker", "complexity": "high", "uses_proxy": True,
         "command": "claude --model claude-opus-4-5-thinking"},
        {"name": "codex", "role": "worker", "complexity": "low", "command": "codex --dangerously-bypass-approvals-and-sandbox",
         "environment": {"LOCAL_OPENAI_KEY": "scripted"}},
    ]
    settings = {"orchestration_agents": agents, "orchestration_project_dir": str(project),
                "orchestration_home": str(tmp_path / "orchestra"), "orchestration_tmux_socket_name": tmux.socket_name,
                "orchestration_npm_bin": str(real_clis["claude"].parent), "orchestration_stop_timeout": 10,
                "orchestration_claude_trust_project": True, "orchestration_codex_trust_project": True,
                "orchestration_codex_daemon": False,
                # The scripted model server is the team's proxy: started, probed, checked and stopped as one.
                "orchestration_proxy_port": port,
                "orchestration_proxy_command": "%s %s --port %d --scenario %s --log %s" % (
                    sys.executable, MODEL_SERVER, port, server.scenario, server.log),
                "orchestration_proxy_dir": str(tmp_path / "proxy"), "orchestration_proxy_pidfile": str(tmp_path / "proxy.pid")}
    (tmp_path / "vars.json").write_text(json.dumps(settings))
    # The panes inherit these from the tmux server, which inherits them from the playbook run.
    environment = {"HOME": str(home), "DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
                   "CLAUDE_CODE_TMPDIR": str(tmp_path / "claude-tmp")}

    def run(name, *extra):
        return playbook((REPO / "playbooks" / ("%s.yml" % name)).read_text(), "-e", "@%s" % (tmp_path / "vars.json"),
                        *extra, env=environment)

    board = project / "CLAUDE.md"

    def facts():
        return B.facts(B.load(str(board)))

    def completed():
        return {c["id"]: c for c in facts()["completions"]}

    def plan_complete():
        return [m for m in facts()["messages"] if m["text"] == "plan complete"]

    def screens():
        return "\n".join("--- %s\n%s" % (name, tmux("capture-pane", "-p", "-t", pane["id"]))
                         for name, pane in tmux.panes(SESSION).items())

    began = time.monotonic()
    states = StateLog(tmux.socket_name, SESSION, {"claude": "claude", "amp": "simulated", "antigravity": "claude",
                                                  "codex": "codex"})
    try:
        started = run("start")
        assert started.returncode == 0, started.stdout

        first = wait_for(completed, 120, "a first completed task", screens)
        first_at = time.monotonic()
        during = run("health")
        assert during.returncode == 0, during.stdout
        wait_for(plan_complete, 180, "the orchestrator's 'plan complete' message", screens)
        complete_at = time.monotonic()
        seen = states.stop()
        after = run("health")
        assert after.returncode == 0, after.stdout

        # Each task was done by the worker its complexity routes to, through its own tool shell.
        done = completed()
        assert len(done) == 3, done
        # The orchestrator added them in this order: TASK-001 high, TASK-002 medium, TASK-003 low.
        routed = {"TASK-%03d" % number: worker for number, (_title, worker) in enumerate(TASKS.values(), 1)}
        assert {task_id: entry["completed_by"] for task_id, entry in done.items()} == routed, done
        # The model-backed workers ran the notice's own command once (antigravity's requests come through the
        # proxy's address, with no agent prefix).
        requests = server.requests()
        for task_id, worker in routed.items():
            shown = [r["agent"] or "antigravity" for r in requests
                     if r["reply"].get("command") == "orchestra task show %s" % task_id and r["agent"] != "claude"]
            assert shown == ([] if worker == "amp" else [worker]), (task_id, shown)

        # Every notice reached its agent once, whole, alone on its line.
        # What was typed: not the initial prompts, nor Codex's title request (which quotes its prompt).
        told = [r for r in requests if r["tools"] and r["turns"] == 0 and r["position"] == 0
                and not r["user_text"].startswith(("# You are", "Generate a concise"))]
        for request in told:
            assert NOTICE_LINE.fullmatch(request["user_text"]), "a merged or half-typed notice: %r" % request["user_text"]
        lines = [(r["agent"], r["user_text"]) for r in told]
        assert len(lines) == len(set(lines)), "a notice typed twice: %s" % lines
        for task_id in done:
            assigned = [a for a, text in lines if "%s is assigned to you" % task_id in text]
            finished = [a for a, text in lines if "%s was completed" % task_id in text]
            assert len(finished) == 1 and finished[0] == "claude", (task_id, lines)
            assert len(assigned) <= 1, (task_id, lines)  # amp is simulated: its notices are typed, not requested
        assert sum(1 for a, text in lines if "is assigned to you" in text) == 2, lines
        assert len(plan_complete()) == 1

        # Each model-backed agent was seen idle, then busy, then idle again.
        for name in ("claude", "antigravity", "codex"):
            assert went_idle_busy_idle(seen[name]), (name, seen[name])

        # Timings for the record: start to the first completion and to the plan's end, and the notice latency
        # (the request after the worker's `task done` ran, to the orchestrator's request carrying its notice).
        latencies = []
        for task_id in done:
            wrote = [r["time"] for r in requests if r["turns"] == 3 and "%s is assigned" % task_id in (r["user_text"] or "")]
            arrived = [r["time"] for r in told if "%s was completed" % task_id in r["user_text"]]
            if wrote and arrived:
                latencies.append(arrived[0] - wrote[0])
        print("real team: start.yml to first completion (%s) %.1fs, to plan complete %.1fs; completion notice "
              "latency into Claude Code %s" % (sorted(first)[0], first_at - began, complete_at - began,
                                               ", ".join("%.2fs" % x for x in sorted(latencies))))

        again = run("start")
        assert again.returncode == 0 and again.recap()["changed"] == 0, again.stdout
    finally:
        states.stopping.set()
        stopped = run("stop")
    assert stopped.returncode == 0, stopped.stdout
    wait_for(lambda: not processes_with_home(home), 15, "every process of the team to end",
             lambda: "\n".join(processes_with_home(home)))


def test_start_fails_naming_an_agent_whose_cli_exits_at_once_and_quoting_its_last_lines(tmux, tmp_path, playbook, real_clis):
    """The real Codex given an option it does not know exits with status 2 within a second: start fails, and
    says which agent, how it ended and what it printed, instead of reporting a started team."""
    project = tmp_path / "project"
    project.mkdir()
    agents = [{"name": "boss", "role": "orchestrator", "command": "orchestra simulate --role orchestrator"},
              {"name": "codex", "role": "worker", "complexity": "low", "command": "codex --no-such-option"}]
    settings = {"orchestration_agents": agents, "orchestration_project_dir": str(project),
                "orchestration_home": str(tmp_path / "orchestra"), "orchestration_tmux_socket_name": tmux.socket_name,
                "orchestration_npm_bin": str(real_clis["codex"].parent), "orchestration_dispatcher": False,
                "orchestration_stop_timeout": 3}
    (tmp_path / "vars.json").write_text(json.dumps(settings))

    def run(name):
        return playbook((REPO / "playbooks" / ("%s.yml" % name)).read_text(), "-e", "@%s" % (tmp_path / "vars.json"),
                        env={"HOME": str(tmp_path / "home")})

    try:
        started = run("start")
        assert started.returncode != 0, started.stdout
        failed = started.result("Ensure the session, its windows and one pane per agent")
        assert [(d["name"], d["status"]) for d in failed["died"]] == [("codex", 2)], failed["died"]
        assert "pane codex: its program ended within 3s of its start (exit status 2)" in failed["msg"], failed["msg"]
        assert "--no-such-option" in failed["msg"], failed["msg"]  # Codex's own words about it
    finally:
        stopped = run("stop")
    assert stopped.returncode == 0, stopped.stdout
