"""The team's health report from gathered facts. No tmux, no processes."""

from __future__ import annotations

from ansible_collections.moana.orchestration.plugins.module_utils import _health as H

AGENTS = [{"name": "claude", "role": "orchestrator"}, {"name": "codex", "role": "worker"}]
BOARD = {"exists": True, "sections": list(H.EXPECTED_SECTIONS), "agents": [{"agent": "codex", "state": "IN_PROGRESS",
         "task": "TASK-002"}], "tasks_by_status": {"IN_PROGRESS": ["TASK-002"]}, "stale_tasks": []}


def pane(name, dead=False, activity=990, state="idle"):
    return {"name": name, "dead": dead, "dead_status": 1 if dead else None, "current_command": "node", "activity": activity,
            "state": state}


def test_a_healthy_team():
    data = H.report(AGENTS, {"exists": True, "panes": [pane("claude"), pane("codex")]}, BOARD, None, "/p/logs", now=1000)
    assert data["healthy"] and data["problems"] == []
    assert data["agents"][1] == {"agent": "codex", "role": "worker", "pane": "alive", "state": "idle", "command": "node",
                                 "board_state": "IN_PROGRESS", "task": "TASK-002", "idle_seconds": 10}
    text = H.render(data)
    assert text.startswith("team: healthy") and "codex   worker        alive  idle   node     IN_PROGRESS  TASK-002  10s" in text


def test_every_problem_is_named():
    board = dict(BOARD, sections=["task-queue", "llm-status"], stale_tasks=["TASK-002"])
    proxy = {"running": True, "healthy": False, "pid": 42, "probe": "counts.available is 0 (wanted > 0)"}
    data = H.report(AGENTS, {"exists": True, "panes": [pane("claude", dead=True)]}, board, proxy, now=1000)
    assert not data["healthy"]
    assert data["problems"] == [
        "agent claude: pane dead (exit status 1)",
        "agent codex: pane missing",
        "proxy: unhealthy: counts.available is 0 (wanted > 0)",
        "board: section(s) completion-log, messages missing: run the start playbook to restore them",
        "board: TASK-002 has been in progress for too long",
    ]
    assert "problems:\n  - agent claude: pane dead (exit status 1)" in H.render(data)


def test_nothing_running():
    data = H.report(AGENTS, {"exists": False, "panes": []}, {"exists": False, "path": "/p/CLAUDE.md"},
                    {"running": False}, now=1000)
    assert data["problems"] == ["tmux session is not running: run the start playbook",
                                "proxy: not running: run the start playbook",
                                "board: /p/CLAUDE.md does not exist: run the start playbook"]


def test_screen_states_that_need_someone_and_a_stopped_dispatcher_are_problems():
    session = {"exists": True, "panes": [pane("claude", state="waiting"), pane("codex", state="dead")]}
    data = H.report(AGENTS, session, BOARD, now=1000, dispatcher={"running": False, "pid": None})
    assert data["problems"] == [
        "agent claude: waiting for a person (a login, trust or permission dialog); attach and answer it",
        "agent codex: its CLI exited and left a shell in the pane; run the start playbook",
        "dispatcher: not running, agents are not told about new tasks: run the start playbook",
    ]
    assert "dispatcher: stopped" in H.render(data)
    running = H.report(AGENTS, {"exists": True, "panes": [pane("claude"), pane("codex", state="busy")]}, BOARD,
                       now=1000, dispatcher={"running": True, "pid": 7})
    assert running["healthy"] and "dispatcher: running, pid 7" in H.render(running)
