"""The team's health report from gathered facts. No tmux, no processes."""

from __future__ import annotations

import time

from ansible_collections.moana.orchestration.plugins.module_utils import _dispatch as D
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
                                 "board_state": "IN_PROGRESS", "task": "TASK-002", "idle_seconds": 10,
                                 "state_seconds": None, "state_source": "screen"}
    text = H.render(data)
    assert text.startswith("team: healthy") and "codex   worker        alive  idle   node     IN_PROGRESS  TASK-002  10s" in text


def test_a_proxy_listening_beyond_loopback_is_a_problem_with_its_fix_unless_allowed():
    proxy = {"running": True, "healthy": False, "pid": 42, "probe": "GET http://127.0.0.1:8080/health answered 200",
             "listen": "loopback", "listening": ["0.0.0.0:8080"], "exposed": ["0.0.0.0:8080"]}
    session = {"exists": True, "panes": [pane("claude"), pane("codex")]}
    data = H.report(AGENTS, session, BOARD, proxy, now=1000)
    assert len(data["problems"]) == 1 and data["problems"][0].startswith(
        "proxy: listens on 0.0.0.0:8080, which other machines can reach, though orchestration_proxy_loopback_only is true")
    assert "run the start playbook" in data["problems"][0] and "orchestration_proxy_loopback_only: false" in data["problems"][0]
    assert data["proxy"]["exposed"] == ["0.0.0.0:8080"] and "listening on 0.0.0.0:8080" in H.render(data)
    allowed = H.report(AGENTS, session, BOARD, dict(proxy, listen="any", healthy=True), now=1000)
    assert allowed["healthy"] and allowed["proxy"]["listening"] == ["0.0.0.0:8080"]


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


# --------------------------------------------------------------------------- a stuck team, with fixed clocks

NOW = H._epoch("2026-03-02 12:00")
TEAM = AGENTS + [{"name": "amp", "role": "worker"}]


def minutes_ago(minutes: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(NOW - minutes * 60))


def stuck_board(tasks=(), messages=(), board_id=None):
    return dict(BOARD, tasks=list(tasks), completions=[], messages=list(messages), board_id=board_id)


def pending_task(task_id, agent, minutes, title="t"):
    return {"id": task_id, "status": "PENDING", "assigned_to": agent, "title": title, "date": minutes_ago(minutes)}


def running(memory=None, status=None, queue=None, pid=7):
    return {"running": True, "pid": pid, "memory": memory, "status": status, "queue": queue or {}}


def memory_of(board, sent_ids=(), **extra):
    """A dispatcher memory that delivered the notices about ``sent_ids`` (and nothing else)."""
    facts = {k: board[k] for k in ("tasks", "completions", "messages")}
    keys = [key for notices in D.wanted(facts, [a["name"] for a in TEAM], "claude").values() for key, dummy in notices]
    return dict({"version": 2, "board_id": board.get("board_id"), "history": [],
                 "sent": [k for k in keys if D.key_ref(k).partition("@")[0] in sent_ids]}, **extra)


def states_since(pid=7, **agents):
    """A status file: agent -> (state, minutes since)."""
    return {"pid": pid, "agents": {name: {"state": state, "since": NOW - minutes * 60}
                                   for name, (state, minutes) in agents.items()}}


def session_of(**states):
    return {"exists": True, "name": "team", "panes": [pane(name, state=state, activity=NOW - 5)
                                                      for name, state in states.items()]}


def test_a_pending_task_whose_idle_worker_was_never_told_is_named_with_its_fix():
    board = stuck_board([pending_task("TASK-001", "amp", 30), pending_task("TASK-002", "codex", 30),
                         pending_task("TASK-003", "amp", 2)])
    status = states_since(claude=("idle", 60), amp=("idle", 20), codex=("idle", 20))
    data = H.report(TEAM, session_of(claude="idle", codex="idle", amp="idle"), board, now=NOW,
                    dispatcher=running(memory_of(board, {"TASK-002"}), status), stuck_minutes=10, log_dir="/l")
    assert data["problems"] == [
        "task TASK-001: PENDING for amp, idle for 20 min and never told: see /l/dispatcher.log, then restart the "
        "dispatcher (stop and start playbooks); or have amp run: orchestra task show TASK-001",
        "dispatcher: running, but notices due for over 10 min were not delivered to idle agents (amp): see "
        "/l/dispatcher.log, then restart it (stop and start playbooks)"]
    assert [(t["task"], t["agent"], t["seconds"]) for t in data["stuck"]["tasks"]] == [("TASK-001", "amp", 1200)]
    assert data["agents"][2]["state_seconds"] == 1200
    # A worker idle for less than the threshold, or busy, is not stuck.
    status = states_since(claude=("idle", 60), amp=("idle", 5), codex=("idle", 20))
    calm = H.report(TEAM, session_of(claude="idle", codex="idle", amp="idle"), board, now=NOW,
                    dispatcher=running(memory_of(board, {"TASK-002"}), status), stuck_minutes=10)
    assert calm["healthy"], calm["problems"]
    busy = H.report(TEAM, session_of(claude="idle", codex="idle", amp="busy"), board, now=NOW,
                    dispatcher=running(memory_of(board, {"TASK-002"}), states_since(amp=("busy", 40))),
                    stuck_minutes=10)
    assert busy["healthy"], busy["problems"]


def test_a_stopped_dispatcher_names_the_start_playbook_and_without_its_status_the_pane_activity_counts():
    board = stuck_board([pending_task("TASK-001", "amp", 30)])
    session = {"exists": True, "name": "team", "panes": [pane("claude", activity=NOW - 5),
                                                         pane("codex", activity=NOW - 5),
                                                         pane("amp", activity=NOW - 900)]}
    data = H.report(TEAM, session, board, now=NOW, stuck_minutes=10,
                    dispatcher={"running": False, "pid": None, "memory": memory_of(board), "status": None, "queue": {}})
    assert data["problems"] == [
        "dispatcher: not running, agents are not told about new tasks: run the start playbook",
        "task TASK-001: PENDING for amp, idle for 15 min and never told: run the start playbook (it starts the "
        "dispatcher); or have amp run: orchestra task show TASK-001"]


def test_a_message_not_delivered_is_named_unless_its_recipient_is_at_work():
    message = {"id": "MSG-004", "from": "claude", "to": "all", "date": minutes_ago(25), "text": "hi"}
    board = stuck_board(messages=[message, dict(message, id="MSG-005", to="amp", date=minutes_ago(3))])
    data = H.report(TEAM, session_of(claude="idle", codex="busy", amp="idle"), board, now=NOW,
                    dispatcher=running(memory_of(board), states_since(amp=("idle", 2), codex=("busy", 30))),
                    stuck_minutes=10)
    assert data["problems"] == [
        "message MSG-004: not delivered to amp for 25 min: see the dispatcher's log, then restart the dispatcher "
        "(stop and start playbooks); or have amp run: orchestra msg list --to amp"]
    assert data["stuck"]["messages"] == [{"message": "MSG-004", "agents": ["amp"], "seconds": 1500,
                                          "fix": data["problems"][0].split(": ", 2)[2]}]
    told = H.report(TEAM, session_of(claude="idle", codex="busy", amp="idle"), board, now=NOW,
                    dispatcher=running(memory_of(board, {"MSG-004"})), stuck_minutes=10)
    assert told["healthy"], told["problems"]


def test_an_initial_prompt_left_in_the_queue_is_named_with_what_holds_it():
    data = H.report(TEAM, session_of(claude="idle", codex="waiting", amp="starting"), stuck_board(), now=NOW,
                    dispatcher=running(memory_of(stuck_board()), states_since(codex=("waiting", 1)),
                                       queue={"amp": [NOW - 1200], "codex": [NOW - 700, NOW - 60], "claude": [NOW - 60]}),
                    stuck_minutes=10, dialog_minutes=5)
    assert data["problems"] == [
        "agent amp: its initial prompt (1 message(s) queued for it) not delivered for 20 min: look at its pane "
        "(attach): the dispatcher types it once the agent shows its idle prompt (it reads starting)",
        "agent codex: its initial prompt (2 message(s) queued for it) not delivered for 11 min: attach and answer its "
        "dialog"]
    assert [p["agent"] for p in data["stuck"]["prompts"]] == ["amp", "codex"]


def test_a_dialog_is_a_problem_once_it_has_waited_longer_than_its_threshold():
    session = session_of(claude="waiting", codex="waiting", amp="idle")
    status = states_since(claude=("waiting", 12), codex=("waiting", 2), amp=("idle", 1))
    data = H.report(TEAM, session, stuck_board(), now=NOW, dispatcher=running(None, status), dialog_minutes=5)
    assert data["problems"] == [
        "agent claude: waiting for a person for 12 min (a login, trust or permission dialog); attach "
        "(tmux attach -t team) and answer it"]
    assert data["stuck"]["dialogs"] == [{"agent": "claude", "seconds": 720, "fix": "attach (tmux attach -t team) and answer it"}]
    # A status file from another dispatcher run (another pid) says nothing: a dialog of unknown age is a problem.
    data = H.report(TEAM, session, stuck_board(), now=NOW, dispatcher=running(None, dict(status, pid=99)),
                    dialog_minutes=5)
    assert len([p for p in data["problems"] if "waiting for a person" in p]) == 2


def test_a_memory_of_another_board_is_named():
    board = stuck_board(board_id="board-b")
    data = H.report(TEAM, session_of(claude="idle", codex="idle", amp="idle"), board, now=NOW,
                    dispatcher=running(memory_of(board, board_id="board-a")), stuck_minutes=10)
    assert data["problems"] == [
        "dispatcher: its memory is of another board (identity board-a; the board's is board-b): restart the "
        "dispatcher (run the start playbook): it then follows this board"]
    assert data["stuck"]["dispatcher"][0]["reason"] == "another board"
    # A memory without identity (an older board) is not another board's.
    assert H.report(TEAM, session_of(claude="idle", codex="idle", amp="idle"), board, now=NOW,
                    dispatcher=running(memory_of(board, board_id=None)), stuck_minutes=10)["healthy"]


def test_an_initial_prompt_a_start_never_gave_is_named_with_its_fix():
    owing = dict(pane("codex"), pending="initial prompt")
    data = H.report(AGENTS, {"exists": True, "panes": [pane("claude"), owing]}, BOARD, None, now=1000)
    assert data["problems"] == ["agent codex: never got its initial prompt (a start ended before giving it): "
                                "run the start playbook"]
    given = H.report(AGENTS, {"exists": True, "panes": [pane("claude"), dict(owing, pending=None)]}, BOARD, None, now=1000)
    assert given["healthy"]


def test_an_agent_the_dispatcher_calls_stuck_while_busy_is_named_with_its_fix():
    session = session_of(claude="idle", codex="busy", amp="busy")
    status = states_since(claude=("idle", 1), codex=("busy", 30), amp=("busy", 30))
    status["agents"]["codex"]["stuck"] = {"state": "busy", "since": NOW - 25 * 60,
                                          "reason": "busy with an unchanged screen for 1200 s"}
    data = H.report(TEAM, session, stuck_board(), now=NOW, dispatcher=running(None, status))
    since = time.strftime("%H:%M:%S", time.localtime(NOW - 25 * 60))
    fix = "attach (tmux attach -t team) and look at it: interrupt it (Esc) or give its task to another"
    assert data["problems"] == ["agent codex: stuck since %s, busy with an unchanged screen for 1200 s: %s" % (since, fix)]
    assert data["stuck"]["agents"] == [{"agent": "codex", "reason": "busy with an unchanged screen for 1200 s",
                                        "seconds": 1500, "fix": fix}]
    # Busy again on the screen health reads, but the record is another dispatcher run's: not named; idle: not named.
    assert not H.report(TEAM, session, stuck_board(), now=NOW, dispatcher=running(None, dict(status, pid=99)))["problems"]
    assert not H.report(TEAM, session_of(claude="idle", codex="idle", amp="busy"), stuck_board(), now=NOW,
                        dispatcher=running(None, status))["problems"]


def test_a_fresh_report_of_the_cli_wins_over_the_screen_and_a_stale_one_does_not():
    session = session_of(claude="idle", codex="busy", amp="unknown")
    status = states_since(claude=("idle", 1), codex=("busy", 0.5), amp=("unknown", 1))
    # Codex's screen went busy after its last turn ended (Codex reports no turn's start): its screen wins.
    reports = {"codex": {"state": "idle", "time": NOW - 60, "event": "agent-turn-complete"},
               "amp": {"state": "busy", "time": NOW - 100},  # the screen reads nothing known
               "claude": {"state": "busy", "time": NOW - 120}}  # the screen went idle after it: an interrupted turn
    dispatcher = dict(running(None, status), reports=reports)
    rows = {r["agent"]: r for r in H.report(TEAM, session, stuck_board(), now=NOW, dispatcher=dispatcher)["agents"]}
    assert (rows["codex"]["state"], rows["codex"]["state_source"]) == ("busy", "screen")
    assert (rows["amp"]["state"], rows["amp"]["state_source"]) == ("busy", "hook")
    assert (rows["claude"]["state"], rows["claude"]["state_source"]) == ("idle", "screen")
    status["agents"]["codex"]["since"] = NOW - 600  # read busy since before its turn ended: a misread screen
    rows = {r["agent"]: r for r in H.report(TEAM, session, stuck_board(), now=NOW, dispatcher=dispatcher)["agents"]}
    assert (rows["codex"]["state"], rows["codex"]["state_source"]) == ("idle", "hook")


def test_a_limited_agent_is_named_with_its_reset_and_what_happens_to_its_tasks_under_the_policy():
    session = {"exists": True, "name": "team", "panes": [pane("claude"), pane("codex", state="limited")]}

    def problem(limited, agents=None):
        agents = agents or AGENTS
        status = {"pid": 7, "agents": {"codex": {"state": "limited", "since": 990, "limited": limited}}}
        data = H.report(agents, session, BOARD, now=1000, dispatcher=running(status=status))
        return [p for p in data["problems"] if p.startswith("agent codex")], data["stuck"]["limited"]

    held, limited = problem({"since": 990, "reset": 4600, "policy": "hold"})
    assert held == ["agent codex: held by a usage or rate limit (until %s): nothing is typed into it; its PENDING tasks "
                    "wait for it (orchestration_limit_policy: reroute hands them to another worker of its complexity); "
                    "the dispatcher tells it to go on once the limit lifts" % time.strftime("%H:%M", time.localtime(4600))]
    assert limited == [{"agent": "codex", "reset": 4600, "fix": held[0].split("): ", 1)[1]}]
    rerouted, dummy = problem({"since": 990, "reset": None, "policy": "reroute", "peer": "amp"})
    assert rerouted == ["agent codex: held by a usage or rate limit (its screen gives no reset time): nothing is typed "
                        "into it; its PENDING tasks go to amp, a worker of its complexity; the dispatcher tells it to "
                        "go on once the limit lifts"]
    low = [AGENTS[0], dict(AGENTS[1], complexity="low")]
    nobody, dummy = problem({"since": 990, "reset": None, "policy": "reroute", "peer": None}, low)  # its peer is limited
    assert "its PENDING tasks wait for it: no other worker of complexity low is free to take them" in nobody[0], nobody
    alone, dummy = problem({"since": 990, "reset": None, "policy": "reroute", "peer": None})
    assert "it has no complexity, so no other worker takes them" in alone[0], alone
