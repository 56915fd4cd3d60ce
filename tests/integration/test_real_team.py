"""The seed's team, end to end, with the real CLIs: Claude Code orchestrates, Claude Code through the proxy
slot (the scripted model server runs as the team's proxy) and Codex work, a simulated agent holds Amp's slot.

Everything goes through the playbooks and the agents' own tool shells: the scripted model answers each
agent as a model would, running the commands its prompt and the dispatcher's notices name. The request log
tells what each agent was told and when.
"""

from __future__ import annotations

import json
import re
import threading
import time
from pathlib import Path

import pytest

import real_team
from conftest import REPO, free_port, wait_for
from ansible_collections.moana.orchestration.plugins.module_utils import _agents as A
from ansible_collections.moana.orchestration.plugins.module_utils import _board as B
from ansible_collections.moana.orchestration.plugins.module_utils import _process as P
from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T

pytestmark = pytest.mark.playbook
SESSION = "moana-orchestration"


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
    """Processes whose environment has HOME=home (found as stop finds a session's leftovers): whatever the
    team's CLIs started, daemons included."""
    return ["%d %s" % (pid, " ".join(P.read_cmdline(pid) or [])) for pid, _start in sorted(P.marked(str(home), "HOME"))]


def test_the_real_team_completes_a_three_task_plan_through_the_board(tmux, tmp_path, playbook, real_clis):
    settings, environment, log = real_team.team(tmp_path, free_port(), tmux.socket_name, str(real_clis["claude"].parent))
    (tmp_path / "vars.json").write_text(json.dumps(settings))
    home = Path(environment["HOME"])
    project = Path(settings["orchestration_project_dir"])

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
        routed = {"TASK-%03d" % number: worker for number, (_title, worker) in enumerate(real_team.TASKS.values(), 1)}
        assert {task_id: entry["completed_by"] for task_id, entry in done.items()} == routed, done
        # The model-backed workers ran the notice's own command once (antigravity's requests come through the
        # proxy's address, with no agent prefix).
        requests = real_team.requests(log)
        for task_id, worker in routed.items():
            shown = [r["agent"] or "antigravity" for r in requests
                     if r["reply"].get("command") == "orchestra task show %s" % task_id and r["agent"] != "claude"]
            assert shown == ([] if worker == "amp" else [worker]), (task_id, shown)

        # Every notice reached its agent once, whole, alone on its line.
        # What was typed: not the initial prompts, nor Codex's title request (which quotes its prompt).
        told = [r for r in requests if r["tools"] and r["turns"] == 0 and r["position"] == 0
                and not r["user_text"].startswith(("# You are", "Generate a concise"))]
        for request in told:
            assert real_team.NOTICE_LINE.fullmatch(request["user_text"]), "a merged or half-typed notice: %r" % request["user_text"]
        lines = [(r["agent"], r["user_text"]) for r in told]
        assert len(lines) == len(set(lines)), "a notice typed twice: %s" % lines
        for task_id in done:
            assigned = [a for a, text in lines if "%s is assigned to you" % task_id in text]
            finished = [a for a, text in lines if "%s was completed" % task_id in text]
            assert len(finished) == 1 and finished[0] == "claude", (task_id, lines)
            assert len(assigned) <= 1, (task_id, lines)  # amp is simulated: its notices are typed, not requested
        assert sum(1 for a, text in lines if "is assigned to you" in text) == 2, lines
        assert len(plan_complete()) == 1

        # Each model-backed agent was seen idle, then busy, then idle again, never in a dialog: the proxy's
        # client got ANTHROPIC_AUTH_TOKEN=dummy from the role, which raises no custom API key question.
        for name in ("claude", "antigravity", "codex"):
            assert went_idle_busy_idle(seen[name]), (name, seen[name])
            assert "waiting" not in seen[name], (name, seen[name])
        assert "custom API key" not in (project / "logs" / "antigravity.log").read_text(errors="replace")

        # Timings for the record: start to the first completion and to the plan's end, and each worker's notice
        # latency (bench/real_team.py reports them beside the simulated team's).
        print("real team: start.yml to first completion (%s) %.1fs, to plan complete %.1fs; notice latency %s" % (
            sorted(first)[0], first_at - began, complete_at - began,
            ", ".join("%s %.2fs" % item for item in sorted(real_team.notice_latencies(requests).items()))))

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
        assert [d["name"] for d in failed["died"]] == ["codex"], failed["died"]
        # Its exit status when tmux tells it (tmux sometimes leaves a pane's status empty).
        assert failed["died"][0]["status"] in (2, None), failed["died"]
        assert "pane codex: its program ended within 2s of its start" in failed["msg"], failed["msg"]
        assert "--no-such-option" in failed["msg"], failed["msg"]  # Codex's own words about it
    finally:
        stopped = run("stop")
    assert stopped.returncode == 0, stopped.stdout
