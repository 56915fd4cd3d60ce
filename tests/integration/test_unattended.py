"""An unattended team with the real CLIs against the scripted model server: real Claude Code orchestrates, real
Codex works, and a person is told through a real command and a real webhook receiver on loopback. Both CLIs
report their state through their own hooks (Claude Code's merged into the project's settings beside the
user's own hook, which still runs; Codex's notify program on its command line).

Codex's model stalls on its first task (the scripted reply waits): its screen shows it working with nothing
moving but its timer, so the dispatcher calls it stuck, tells the orchestrator on the board, and a person;
health names it. The stalled turn ends without the work done: once Codex is idle again it gets the nudge,
once, and finishes the task. The orchestrator then plans a second task, which Codex fails: the failure and,
once the orchestrator sits idle with nothing open, the end of the plan go out. The webhook answers the first
POST with a 500, so every event is also a retry.
"""

from __future__ import annotations

import json
import os
import signal
import sys

import pytest

import real_team
from webhook import Receiver
from conftest import REPO, end_team, files_holding, leaks, wait_for
from ansible_collections.moana.orchestration.plugins.module_utils import _board as B
from ansible_collections.moana.orchestration.plugins.module_utils import _process as P

pytestmark = pytest.mark.playbook
SESSION = "moana-orchestration"
NUDGE = "Carry on with your task: run orchestra task list --agent codex"
STALL = 40  # seconds the scripted model keeps Codex's first task waiting
TOKEN = "hook-token-5f1e"


class ScriptedTeam:
    """A team of real CLIs against the scripted model server under ``tmp_path``: the user's own CLI settings,
    the team's variables (``settings`` on top of what every test here sets), the playbook runs' environment,
    and what the tests read back (the board, the panes' screens)."""

    def __init__(self, tmp_path, tmux, playbook, real_clis, server, agents: list[dict], **settings):
        self.tmp_path, self.tmux, self.playbook = tmp_path, tmux, playbook
        self.project, self.home = tmp_path / "project", tmp_path / "home"
        self.project.mkdir(exist_ok=True)
        real_team.write_homes(self.home, server.url)
        self.board = self.project / "CLAUDE.md"
        variables = {"orchestration_agents": agents, "orchestration_project_dir": str(self.project),
                     "orchestration_home": str(tmp_path / "orchestra"), "orchestration_tmux_socket_name": tmux.socket_name,
                     "orchestration_npm_bin": str(real_clis["claude"].parent), "orchestration_stop_timeout": 10,
                     "orchestration_claude_trust_project": True, "orchestration_dispatcher_scan": 1, **settings}
        (tmp_path / "vars.json").write_text(json.dumps(variables))
        self.environment = {"HOME": str(self.home), "DISABLE_AUTOUPDATER": "1",
                            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1", "CLAUDE_CODE_TMPDIR": str(tmp_path / "claude-tmp")}

    def run(self, name: str, *extra: str):
        return self.playbook((REPO / "playbooks" / ("%s.yml" % name)).read_text(), "-e",
                             "@%s" % (self.tmp_path / "vars.json"), *extra, env=self.environment)

    def facts(self) -> dict:
        return B.facts(B.load(str(self.board)))

    def screens(self) -> str:
        return "\n".join("--- %s\n%s" % (name, self.tmux("capture-pane", "-p", "-t", pane["id"]))
                         for name, pane in self.tmux.panes(SESSION).items())

    def end(self) -> None:
        end_team(self.tmp_path / "orchestra", self.tmux.socket_name)


def scenario() -> dict:
    task = "orchestra task add --to codex --priority LOW --title '%s' --description 'part of the cache'"
    return {"default": {"text": "Noted."}, "rules": [
        {"agent": "claude", "match": r"^# You are claude, the orchestrator", "times": 1,
         "replies": [{"command": task % "Test the cache", "delay": real_team.THINK}, {"text": "One task assigned."}]},
        {"agent": "claude", "match": r"TASK-001 was completed", "times": 1,
         "replies": [{"command": task % "Lint the cache"}, {"text": "Second task assigned."}]},
        # The first task: claimed, then the model stalls and the turn ends with the work not done.
        {"agent": "codex", "match": r"TASK-001 is assigned to you", "times": 1, "replies": [
            {"command": "orchestra task show TASK-001", "delay": real_team.THINK},
            {"command": "orchestra task start TASK-001"},
            {"text": "Still thinking about TASK-001.", "delay": STALL}]},
        {"agent": "codex", "match": "^" + NUDGE, "replies": [
            {"command": "orchestra task done TASK-001 --changes 'tested the cache' --files tests/test_cache.py"},
            {"text": "Finished TASK-001."}]},
        {"agent": "codex", "match": r"TASK-002 is assigned to you", "times": 1, "replies": [
            {"command": "orchestra task show TASK-002"},
            {"command": "orchestra task start TASK-002"},
            {"command": "orchestra task fail TASK-002 --reason 'no linter installed'"},
            {"text": "TASK-002 failed."}]},
    ]}


def test_a_stuck_agent_a_failed_task_and_the_plans_end_reach_a_person_and_the_board(
        tmux, tmp_path, playbook, real_clis, model_server):
    server = model_server(scenario())
    receiver = Receiver([500], TOKEN)  # the first POST refused, to be sent again
    events_file = tmp_path / "events.jsonl"
    agents = [
        {"name": "claude", "role": "orchestrator", "command": "claude",
         "environment": {"ANTHROPIC_BASE_URL": server.base_url("claude"), "ANTHROPIC_AUTH_TOKEN": "scripted"}},
        {"name": "codex", "role": "worker", "complexity": "low", "command": "codex --dangerously-bypass-approvals-and-sandbox",
         "environment": {"LOCAL_OPENAI_KEY": "scripted"}},
    ]
    team = ScriptedTeam(tmp_path, tmux, playbook, real_clis, server, agents, orchestration_codex_trust_project=True,
                        orchestration_codex_daemon=False, orchestration_stuck_busy_minutes=0.1,
                        orchestration_stuck_nudge=NUDGE, orchestration_hooks=True,
                        orchestration_notify={"webhook": receiver.url, "timeout": 5, "retries": 2, "cooldown": 600,
                                              "command": [sys.executable, "-c", "import sys; open(sys.argv[1], 'a')"
                                                          ".write(sys.stdin.read())", str(events_file)]})
    project = team.project
    (project / ".claude").mkdir()
    user_hook_log = tmp_path / "user-hook.log"
    mine = {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "echo stopped >> '%s'" % user_hook_log}]}]}}
    (project / ".claude" / "settings.local.json").write_text(json.dumps(mine))
    run, facts = team.run, team.facts

    def screens():
        return team.screens() + "\nevents: %s" % receiver.events()

    try:
        started = run("start", "-vvv", "--diff")
        assert started.returncode == 0, started.stdout[-3000:]
        # The webhook's address (its token) is a secret: in the dispatcher's environment only.
        assert leaks(TOKEN, started) == [] and files_holding(TOKEN, tmp_path / "orchestra") == []
        dispatcher = P.read_record(str(next((tmp_path / "orchestra" / "teams").glob("*/dispatcher.pid"))))
        with open("/proc/%d/environ" % dispatcher["pid"], "rb") as stream:
            assert ("ORCHESTRA_NOTIFY_WEBHOOK=%s" % receiver.url).encode() in stream.read().split(b"\0")

        # Stuck: told to a person (after the webhook's 500, retried), to the orchestrator on the board, in health.
        wait_for(lambda: "stuck" in receiver.events(), 60, "the stuck event at the webhook", screens)
        stuck = receiver.bodies[receiver.events().index("stuck")]
        assert stuck["agent"] == "codex" and stuck["state"] == "busy" and stuck["team"] == SESSION, stuck
        assert "codex looks stuck: busy with an unchanged screen" in stuck["text"], stuck
        told = [m for m in facts()["messages"] if m["to"] == "claude" and "codex looks stuck" in m["text"]]
        assert len(told) == 1 and told[0]["from"] == "orchestra", facts()["messages"]
        during = run("health")
        assert during.returncode != 0, during.stdout
        report = during.result("Build the health report")["report"]
        assert [a["agent"] for a in report["stuck"]["agents"]] == ["codex"], report["stuck"]
        assert any(p.startswith("agent codex: stuck since") for p in report["problems"]), report["problems"]

        # The stalled turn ends, Codex is idle again with its task in progress: the nudge, then the work.
        wait_for(lambda: "TASK-001" in {c["id"] for c in facts()["completions"]}, 90, "TASK-001 completed", screens)
        wait_for(lambda: "plan_complete" in receiver.events(), 120, "the plan_complete event", screens)
        assert receiver.events() == ["stuck", "task_failed", "plan_complete"], receiver.bodies
        failed = receiver.bodies[1]
        assert failed["task"] == "TASK-002" and failed["agent"] == "codex", failed
        assert receiver.bodies[2]["completed"] == 1 and receiver.bodies[2]["failed"] == 1, receiver.bodies[2]
        assert receiver.posts == 4  # the first one refused with a 500, then sent again
        # The command got the same events, one JSON document each.
        assert [json.loads(line)["event"] for line in events_file.read_text().splitlines()] == receiver.events()

        # The nudge reached Codex's model once, whole; the failed task reached the orchestrator.
        codex_texts = [r["user_text"] for r in server.requests("codex") if r["turns"] == 0 and r["tools"]]
        assert codex_texts.count(NUDGE) == 1, codex_texts
        claude_texts = [r["user_text"] for r in server.requests("claude") if r["turns"] == 0 and r["tools"]]
        assert any("TASK-002 FAILED" in text for text in claude_texts), claude_texts

        # The webhook's address (its token) is in no log; the dispatcher's log says what went out.
        logs = "\n".join(path.read_text(errors="replace") for path in (project / "logs").glob("*.log"))
        assert TOKEN not in logs
        dispatcher_log = (project / "logs" / "dispatcher.log").read_text()
        assert "notify: stuck sent (command ok; webhook HTTP 200)" in dispatcher_log, dispatcher_log
        assert "codex moved on (idle) after it looked stuck" in dispatcher_log, dispatcher_log

        # The CLIs' own reports: the user's hook kept and still run, ours added once; both agents reported.
        settings_file = json.loads((project / ".claude" / "settings.local.json").read_text())
        assert settings_file["hooks"]["Stop"][0] == mine["hooks"]["Stop"][0], settings_file
        assert len(settings_file["hooks"]["Stop"]) == 2 and "orchestra hook" in json.dumps(settings_file["hooks"]["Stop"][1])
        assert "stopped" in user_hook_log.read_text()
        assert "claude: idle, its CLI says (Stop)" in dispatcher_log and "claude: busy, its CLI says (UserPromptSubmit)" in dispatcher_log
        assert "codex: idle, its CLI says (agent-turn-complete)" in dispatcher_log, dispatcher_log
        after = run("health")
        assert after.returncode == 0, after.stdout
        assert {a["agent"]: a["state_source"] for a in after.result("Build the health report")["report"]["agents"]} \
            == {"claude": "hook", "codex": "hook"}
        again = run("start")
        assert again.returncode == 0 and again.recap()["changed"] == 0, again.stdout
    finally:
        receiver.close()
        team.end()


def resume_scenario() -> dict:
    task = "orchestra task add --to codex --priority LOW --title 'Test the cache' --description 'part of the cache'"
    return {"default": {"text": "Noted."}, "rules": [
        {"agent": "claude", "match": r"^# You are claude, the orchestrator", "times": 1,
         "replies": [{"command": task, "delay": real_team.THINK}, {"text": "One task assigned."}]},
        # Told that codex came back: ask it to go on.
        {"agent": "claude", "match": r"MSG-\d+ is a message for you", "times": 1,
         "replies": [{"command": "orchestra msg send --to codex 'Go on with TASK-001'"}, {"text": "Told codex."}]},
        {"agent": "claude", "match": r"TASK-001 was completed", "replies": [{"text": "Good."}]},
        # Codex claims the task, then its model takes long: the test kills Codex then.
        {"agent": "codex", "match": r"TASK-001 is assigned to you", "times": 1, "replies": [
            {"command": "orchestra task show TASK-001", "delay": real_team.THINK},
            {"command": "orchestra task start TASK-001"},
            {"text": "Working on it.", "delay": 60}]},
        {"agent": "codex", "match": r"MSG-\d+ is a message for you", "replies": [
            {"command": "orchestra task done TASK-001 --changes 'tested the cache' --files tests/test_cache.py"},
            {"text": "Finished TASK-001."}]},
    ]}


def test_an_agent_killed_mid_task_comes_back_in_its_own_conversation(tmux, tmp_path, playbook, real_clis, model_server):
    """Codex, killed while its model works on a task, is restarted by the dispatcher with `codex resume` and the
    conversation its notify program recorded: the board tells the orchestrator it came back with its context,
    and its next request to the model carries its earlier prompts."""
    server = model_server(resume_scenario())
    agents = [
        {"name": "claude", "role": "orchestrator", "command": "claude",
         "environment": {"ANTHROPIC_BASE_URL": server.base_url("claude"), "ANTHROPIC_AUTH_TOKEN": "scripted"}},
        {"name": "codex", "role": "worker", "complexity": "low", "auto_restart": True,
         "command": "codex --dangerously-bypass-approvals-and-sandbox", "environment": {"LOCAL_OPENAI_KEY": "scripted"}},
    ]
    team = ScriptedTeam(tmp_path, tmux, playbook, real_clis, server, agents, orchestration_codex_trust_project=True,
                        orchestration_codex_daemon=False, orchestration_hooks=True, orchestration_resume=True)
    facts, screens = team.facts, team.screens

    try:
        started = team.run("start")
        assert started.returncode == 0, started.stdout
        team_dir = next((tmp_path / "orchestra" / "teams").glob("*"))
        wait_for(lambda: any(t["id"] == "TASK-001" and t["status"] == "IN_PROGRESS" for t in facts()["tasks"]), 60,
                 "codex at work on TASK-001", screens)
        session = json.loads((team_dir / "hooks" / "codex.json").read_text())["session"]
        assert session, "Codex's notify program recorded no conversation"
        before = server.requests("codex")
        pane = tmux.panes(SESSION)["codex"]
        os.killpg(int(pane["pid"]), signal.SIGKILL)  # Codex and its native binary, in the middle of its task

        # Restarted in its own conversation: the command resumes it, the board says so.
        def restarted_with_resume():
            now = tmux.panes(SESSION).get("codex") or {}
            words = P.read_cmdline(int(now.get("pid") or 0)) if now.get("pid") and now["pid"] != pane["pid"] else None
            return words if words and "resume" in words else None

        words = wait_for(restarted_with_resume, 30, "codex restarted with codex resume", screens)
        assert session in words, words
        told = wait_for(lambda: [m for m in facts()["messages"] if "codex died and was restarted" in m["text"]], 15,
                        "the board's word to the orchestrator")
        assert "it resumes its own conversation (%s), with its context" % session in told[0]["text"], told
        wait_for(lambda: "TASK-001" in {c["id"] for c in facts()["completions"]}, 90, "TASK-001 completed", screens)
        # Its next request after the restart carried its earlier prompts: the initial prompt and the task's notice.
        after = [r for r in server.requests("codex")[len(before):] if r["user_text"].startswith("[orchestra] MSG-")]
        assert after and after[0]["prompts"] >= 3, [(r["user_text"][:60], r["prompts"]) for r in server.requests("codex")]
        assert all(r["prompts"] == 1 for r in before if r["user_text"].startswith("# You are codex"))

        # A reboot: every process of the team ends at once. start.yml brings each CLI back in its own
        # conversation (Claude Code's --resume, Codex's resume) and tells the orchestrator of the worker.
        recorded = {name: json.loads((team_dir / "hooks" / ("%s.json" % name)).read_text())["session"]
                    for name in ("claude", "codex")}
        asked = len(server.requests("claude"))
        team.end()
        again = team.run("start")
        assert again.returncode == 0, again.stdout
        told = again.result("Mark agents whose pane was (re)started IDLE on the board, telling the orchestrator "
                            "which resume their conversation")["told"]
        assert [(t["agent"], t["session"]) for t in told] == [("codex", recorded["codex"])], told
        for name, session in recorded.items():
            pid = int(tmux.panes(SESSION)[name]["pid"])
            wait_for(lambda: session in (P.read_cmdline(pid) or []), 15, "%s resuming %s" % (name, session), screens)
        text = "codex was started again; it resumes its own conversation (%s), with its context" % recorded["codex"]
        assert [m["to"] for m in facts()["messages"] if m["text"] == text] == ["claude"], json.dumps(facts()["messages"], indent=1)
        # Told of it, the orchestrator answers in its own conversation: its earlier prompts come with the notice.
        notices = wait_for(lambda: [r for r in server.requests("claude")[asked:] if r["user_text"].startswith("[orchestra] MSG-")],
                           60, "the orchestrator's request after the reboot", screens)
        assert notices[0]["prompts"] >= 3, [(r["user_text"][:60], r["prompts"]) for r in server.requests("claude")]
    finally:
        team.end()


def limit_scenario() -> dict:
    add = "orchestra task add --to sage --priority HIGH --title '%s' --description 'part of the cache'"
    refused = {"error": {"status": 429, "type": "rate_limit_error", "message": "Rate limited for this organization",
                         "headers": {"x-should-retry": "false"}}}
    return {"default": {"text": "Noted."}, "rules": [
        {"agent": "claude", "match": r"^# You are claude, the orchestrator", "times": 1,
         "replies": [{"command": add % "Design the cache", "delay": real_team.THINK},
                     {"command": add % "Review the design"}, {"text": "Two tasks assigned."}]},
        # Sage's first task meets the limit (refused, not to be retried); the go-on after it is answered.
        {"agent": "sage", "match": r"TASK-\d+ is assigned to you", "times": 1, "reply": refused},
        {"agent": "sage", "match": r"usage limit should have lifted", "reply": {"text": "Nothing is left for me."}},
    ]}


def test_an_agent_held_by_a_usage_limit_gets_nothing_its_tasks_go_to_a_peer_and_it_is_told_to_go_on(
        tmux, tmp_path, playbook, real_clis, model_server):
    """Real Claude Code as a worker meets a 429 its client will not retry: its screen reads limited, the board
    says so and its PENDING tasks go to the other worker of its complexity (reroute), nothing is typed into it,
    health names it, a person is told; with no reset time on its screen it is told to go on after the retry
    interval, and is free again once it answers."""
    server = model_server(limit_scenario())
    events = tmp_path / "events.jsonl"
    agents = [
        {"name": "claude", "role": "orchestrator", "command": "claude",
         "environment": {"ANTHROPIC_BASE_URL": server.base_url("claude"), "ANTHROPIC_AUTH_TOKEN": "scripted"}},
        {"name": "sage", "role": "worker", "complexity": "high", "command": "claude",
         "environment": {"ANTHROPIC_BASE_URL": server.base_url("sage"), "ANTHROPIC_AUTH_TOKEN": "scripted"}},
        {"name": "helper", "role": "worker", "complexity": "high", "command": "orchestra simulate --work 0.3 --nudge-only"},
    ]
    team = ScriptedTeam(tmp_path, tmux, playbook, real_clis, server, agents, orchestration_limit_policy="reroute",
                        orchestration_limit_retry_minutes=0.25,
                        orchestration_notify={"command": "cat >> '%s'" % events, "events": ["limited"]})
    project = team.project
    run, facts, screens = team.run, team.facts, team.screens

    try:
        started = run("start")
        assert started.returncode == 0, started.stdout
        told = wait_for(lambda: [m for m in facts()["messages"] if m["text"].startswith("sage is held by a usage limit")],
                        60, "the board's word that sage is limited", screens)
        assert told[0]["to"] == "claude" and told[0]["text"].endswith("go to helper"), told
        during = run("health")
        report = during.result("Build the health report")["report"]
        assert {a["agent"]: a["state"] for a in report["agents"]}["sage"] == "limited", report["agents"]
        assert any(p.startswith("agent sage: held by a usage or rate limit") and "go to helper, a worker of its complexity" in p
                   for p in report["problems"]), report
        # Its tasks were done by its peer; nothing but the go-on was typed into it after the refusal.
        wait_for(lambda: len(facts()["completions"]) == 2, 60, "both tasks completed", screens)
        assert {c["completed_by"] for c in facts()["completions"]} == {"helper"}
        go_on = "[orchestra] the usage limit should have lifted: go on with your task (run orchestra task list --agent sage)"
        # (Claude Code's title request quotes the conversation, the go-on included: only a tooled request counts.)
        wait_for(lambda: any(r["tools"] and r["user_text"].endswith(go_on) for r in server.requests("sage")), 60,
                 "the go-on", screens)
        requests = server.requests("sage")
        seen = [(r["user_text"], r["turns"], (r["reply"] or {}).get("kind")) for r in requests]
        refused = [i for i, r in enumerate(requests) if (r["reply"] or {}).get("kind") == "error"]
        assert len(refused) == 1, seen
        # Claude Code keeps the refused prompt in its conversation, so the go-on may come as the same user turn's
        # second part; either way it is the last thing typed, and the only one.
        typed = [r["user_text"].split("\n\n")[-1] for r in requests[refused[0] + 1:] if r["tools"] and r["turns"] == 0]
        assert typed == [go_on], seen
        log = project / "logs" / "dispatcher.log"
        wait_for(lambda: "sage: no longer held by a limit" in log.read_text(), 30, "sage free again", log.read_text)
        sent = [json.loads(line) for line in events.read_text().splitlines()]
        assert [(e["event"], e["agent"], sorted(e["tasks"])) for e in sent] == [("limited", "sage", ["TASK-001", "TASK-002"])]
    finally:
        team.end()
