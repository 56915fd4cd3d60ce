"""The dispatcher's parts one by one, then its rounds (step, deliver_pending, restart_dead, run) over a fake tmux.

The fake tmux answers what the dispatcher reads (the session's panes, their
screens) and records what it is asked to do; typing itself is a fake
``deliver`` function, since _delivery has tests of its own against real panes.
"""

from __future__ import annotations

import io
import json
import os
import signal
import threading
import time

import pytest

from ansible_collections.moana.orchestration.plugins.module_utils import _board as B
from ansible_collections.moana.orchestration.plugins.module_utils import _dispatch as D
from ansible_collections.moana.orchestration.plugins.module_utils import _dispatch_config as C
from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T


class FakeTmux:
    """One session, 'team', with named panes: {name: {id, dead, pid, lines}}; every command is recorded."""

    def __init__(self, panes: dict[str, dict]):
        self.panes = panes
        self.calls: list[tuple] = []

    def _row(self, index: int, name: str, pane: dict) -> str:
        values = {field: "" for field in T._FIELDS}
        values.update({"session_id": "$1", "session_name": "team", "window_id": "@1", "window_index": "0",
                       "window_name": "main", "@moana_window": "main", "remain-on-exit": "on", "window_activity": "0",
                       "pane_id": pane["id"], "pane_index": str(index), "@moana_pane": name,
                       "pane_pid": str(pane["pid"]), "pane_current_command": "python3",
                       "pane_dead": "1" if pane["dead"] else "0", "pane_pipe": "0"})
        return T._SEP.join(values[field] for field in T._FIELDS)

    def cmd(self, *argv: str) -> T.Result:
        self.calls.append(argv)
        commands: list[list[str]] = [[]]
        for arg in argv:
            if arg == ";":
                commands.append([])
            else:
                commands[-1].append(arg)
        out: list[str] = []
        by_id = {pane["id"]: (name, pane) for name, pane in self.panes.items()}
        for command in commands:
            if command[0] == "list-panes":
                out += [self._row(index, name, pane) for index, (name, pane) in enumerate(self.panes.items())]
            elif command[0] == "display-message":
                name, pane = by_id[command[3]]
                facts = {"pane_id": pane["id"], "@moana_pane": name, "pane_dead": "1" if pane["dead"] else "0",
                         "pane_in_mode": "0", "cursor_x": "2", "cursor_y": str(len(pane["lines"]) - 1),
                         "pane_pid": str(pane["pid"]), "pane_current_command": "python3", "window_activity": "0"}
                out.append(T._SEP.join(facts.get(field, "") for field in T.SCREEN_FIELDS))
            elif command[0] == "capture-pane":
                out += by_id[command[3]][1]["lines"]
        return T.Result(0, "\n".join(out) + "\n", "")

    def commands(self, word: str) -> list[tuple]:
        return [call for call in self.calls if call[0] == word]


class FakeDeliver:
    """Stands in for _delivery.deliver: records (pane id, text); answers 'delivered' unless told a state."""

    def __init__(self):
        self.typed: list[tuple[str, str]] = []
        self.states: dict[str, str] = {}  # pane id -> state that is not idle (nothing typed)
        self.after = None  # called after each delivery

    def __call__(self, server, pane_id, text, agent_type="generic", submit_delay=None, wait_timeout=30.0,
                 tracker=None, sleep=None, clock=None, ready=("idle",)):
        if pane_id in self.states:
            return {"status": "queued", "state": self.states[pane_id], "method": "keys", "attempts": 0,
                    "text": text, "waited": 0.0}
        self.typed.append((pane_id, text))
        if self.after:
            self.after()
        return {"status": "delivered", "state": "idle", "method": "keys", "attempts": 1, "text": text, "waited": 0.1}


class Clock:
    def __init__(self, now: float = 1000.0):
        self.now = now

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


IDLE = ["simulated amp ready", "❯ "]


def pane(pane_id: str, dead: bool = False, lines=None) -> dict:
    return {"id": pane_id, "dead": dead, "pid": os.getpid(), "lines": list(lines or IDLE)}


@pytest.fixture
def board(tmp_path):
    path = tmp_path / "CLAUDE.md"
    B.atomic_write(str(path), B.new_board_text())
    return str(path)


def make_config(tmp_path, board: str, **agent_overrides) -> dict:
    agents = [{"name": "claude", "role": "orchestrator", "type": "simulated"},
              {"name": "amp", "role": "worker", "type": "simulated"},
              {"name": "codex", "role": "worker", "type": "simulated"}]
    for agent in agents:
        agent.update(agent_overrides.get(agent["name"], {}))
    config = {"session": "team", "board": board, "state_file": str(tmp_path / "state.json"),
              "queue_dir": str(tmp_path / "queue"), "agents": agents, "restart": {"max": 2, "window": 60, "delay": 1}}
    return C.with_defaults(C.check(config, "test"))


def make_dispatcher(tmp_path, board, panes=None, **agent_overrides):
    tmux = FakeTmux(panes if panes is not None else {"claude": pane("%0"), "amp": pane("%1"), "codex": pane("%2")})
    typing, clock, out = FakeDeliver(), Clock(), io.StringIO()
    dispatcher = D.Dispatcher(make_config(tmp_path, board, **agent_overrides), server=tmux, out=out, clock=clock,
                              sleep=clock.sleep, deliver=typing)
    return dispatcher, tmux, typing, out


# --------------------------------------------------------------------------- the parts


def test_board_watch_parses_once_per_change_and_holds_back_a_broken_board(board):
    lines = []
    watch = D.BoardWatch(board, 0.0, lines.append, sleep=lambda s: None)
    assert watch.changed() and watch.facts["tasks"] == []
    assert not watch.changed()
    B.update(board, lambda b: B.add_task(b, "one", "amp"))
    assert watch.changed() and [t["id"] for t in watch.facts["tasks"]] == ["TASK-001"]
    with open(board, "a", encoding="utf-8") as stream:
        stream.write("<!-- END moana.orchestration: messages -->\n")
    assert not watch.changed() and watch.facts is None
    assert "board unreadable, nothing sent until it is fixed" in lines[0]
    os.unlink(board)
    assert not watch.changed() and watch.facts is None


def bare(keys) -> set[str]:
    """Keys without their digests."""
    return {key.rpartition("@")[0] for key in keys}


def all_keys(board: str) -> dict[str, str]:
    """Every notice key the board calls for now, by its bare form."""
    return {key.rpartition("@")[0]: key for notices in D.wanted(B.facts(B.load(board)), ["claude", "amp", "codex"],
                                                                "claude").values() for key, dummy in notices}


def test_sent_state_starts_from_the_board_history_and_survives_a_restart(tmp_path, board):
    B.update(board, lambda b: (B.add_task(b, "todo", "amp"), B.add_task(b, "done", "codex"),
                               B.complete_task(b, "TASK-002", "codex"), B.send_message(b, "claude", "amp", "hi")))
    path = str(tmp_path / "state" / "dispatch.json")
    state = D.SentState.load(path, board, ["claude", "amp", "codex"], "claude", print)
    # The completion and the message are history; the PENDING task is still to be told.
    assert bare(state.sent) == {"TASK-002:COMPLETED>claude"} and len(state.history) == 1
    assert list(D.pending(D.wanted(B.facts(B.load(board)), ["claude", "amp", "codex"], "claude", state.history),
                          state.sent)) == ["amp"]
    state.record([all_keys(board)["TASK-001:PENDING>amp"], "TASK-404:PENDING>amp@00000000"], B.facts(B.load(board)))
    again = D.SentState.load(path, board, ["claude", "amp", "codex"], "claude", print)
    assert bare(again.sent) == {"TASK-002:COMPLETED>claude", "TASK-001:PENDING>amp"} and again.history == state.history


def test_an_unreadable_state_file_is_said_and_started_afresh(tmp_path, board):
    path = tmp_path / "dispatch.json"
    path.write_text("{")
    lines = []
    state = D.SentState.load(str(path), board, ["claude"], "claude", lines.append)
    assert state.sent == set() and "is unreadable" in lines[0]
    assert json.loads(path.read_text()) == {"version": 2, "board_id": B.load(board).board_id(), "history": [], "sent": []}


def test_a_memory_in_the_first_format_is_carried_over(tmp_path, board):
    B.update(board, lambda b: (B.add_task(b, "todo", "amp"), B.add_task(b, "two", "codex"),
                               B.send_message(b, "claude", "amp", "old"), B.send_message(b, "claude", "amp", "new")))
    path = tmp_path / "dispatch.json"
    path.write_text(json.dumps({"message_floor": 1, "sent": ["TASK-001:PENDING>amp", "TASK-404:PENDING>amp"]}))
    state = D.SentState.load(str(path), board, ["claude", "amp", "codex"], "claude", print)
    assert bare(state.sent) == {"TASK-001:PENDING>amp"} and len(state.history) == 1
    todo = D.pending(D.wanted(B.facts(B.load(board)), ["claude", "amp", "codex"], "claude", state.history), state.sent)
    assert {agent: bare(k for k, dummy in notices) for agent, notices in todo.items()} == {
        "amp": {"MSG-002>amp"}, "codex": {"TASK-002:PENDING>codex"}}
    assert json.loads(path.read_text())["version"] == 2


def with_identity(board_id):
    """_board.facts as it is, with ``board_id`` set (the board carries its identity)."""
    real = B.facts

    def facts(board, *args, **kwargs):
        return dict(real(board, *args, **kwargs), board_id=board_id)

    return facts


def test_a_memory_belongs_to_one_board_and_another_board_gets_a_fresh_one(tmp_path, board, monkeypatch):
    agents = ["claude", "amp", "codex"]
    B.update(board, lambda b: (B.add_task(b, "one", "amp"), B.add_task(b, "two", "codex"),
                               B.complete_task(b, "TASK-002", "codex")))
    path = str(tmp_path / "dispatch.json")
    monkeypatch.setattr(B, "facts", with_identity("board-a"))
    lines = []
    state = D.SentState.load(path, board, agents, "claude", lines.append)
    state.record([all_keys(board)["TASK-001:PENDING>amp"]], B.facts(B.load(board)))
    assert json.loads(open(path).read())["board_id"] == "board-a"
    # Another board with the same ids, in the same minute, with the same titles: the identity tells them apart.
    os.unlink(board)
    B.atomic_write(board, B.new_board_text())
    B.update(board, lambda b: (B.add_task(b, "one", "amp"), B.add_task(b, "two", "codex"),
                               B.complete_task(b, "TASK-002", "codex"), B.send_message(b, "codex", "amp", "hi")))
    monkeypatch.setattr(B, "facts", with_identity("board-b"))
    state = D.SentState.load(path, board, agents, "claude", lines.append)
    assert "is another board (identity board-b, the memory's board-a): a fresh memory" in lines[-1]
    todo = D.pending(D.wanted(B.facts(B.load(board)), agents, "claude", state.history), state.sent)
    assert {a: bare(k for k, dummy in n) for a, n in todo.items()} == {"amp": {"TASK-001:PENDING>amp"}}
    assert json.loads(open(path).read())["board_id"] == "board-b"
    # A memory without identity (written before boards had one) takes the board's and keeps what it knows.
    state.board_id = None
    assert not state.follow(B.facts(B.load(board)), agents, "claude", lines.append) and state.board_id == "board-b"
    # A board that was seen missing and is back is a new board, whatever it says.
    assert state.follow(B.facts(B.load(board)), agents, "claude", lines.append, came_back=True)
    assert "was missing and is back" in lines[-1]


def test_without_identity_an_entry_reusing_an_id_with_other_fields_is_news(tmp_path, board):
    agents = ["claude", "amp", "codex"]
    B.update(board, lambda b: B.add_task(b, "one", "amp"))
    state = D.SentState.load(str(tmp_path / "dispatch.json"), board, agents, "claude", print)
    state.record([all_keys(board)["TASK-001:PENDING>amp"]], B.facts(B.load(board)))
    B.atomic_write(board, B.new_board_text())
    B.update(board, lambda b: B.add_task(b, "another title", "amp"))
    assert list(D.pending(D.wanted(B.facts(B.load(board)), agents, "claude", state.history), state.sent)) == ["amp"]


def test_panes_of_agents_are_found_and_missing_ones_are_absent():
    tmux = FakeTmux({"claude": pane("%0"), "amp": pane("%1", dead=True), "stranger": pane("%7")})
    agents = {"claude": {"type": "simulated"}, "amp": {"type": "simulated"}, "codex": {"type": "simulated"}}
    panes = D.scan_panes(tmux, "team", agents)
    assert panes == {"claude": {"id": "%0", "dead": False, "pid": os.getpid()},
                     "amp": {"id": "%1", "dead": True, "pid": os.getpid()}}
    states = D.read_states(tmux, panes, agents, D._agents.Tracker())
    assert list(states) == ["claude", "amp", "codex"] and states["codex"] == "absent"
    assert len(tmux.commands("display-message")) == 1  # every screen in one call


def test_restarts_wait_their_delay_and_give_up_at_the_limit():
    agents = {"amp": {"auto_restart": True}, "codex": {"auto_restart": True}, "claude": {}}
    restarts = D.Restarts(D.RestartPolicy(1, 60.0, 2.0))
    dead = {"amp": {"dead": True}, "codex": {"dead": True}, "claude": {"dead": True}}
    assert restarts.decide(dead, agents, 100.0) == []  # the first restart waits its delay
    # No value is needed: a respawn runs the pane's own command, which reads the agent's env file again.
    assert restarts.decide(dead, agents, 102.0) == [("amp", "restart", ""), ("codex", "restart", "")]
    assert restarts.restarted("amp", 102.0) == 1
    assert restarts.decide({"amp": {"dead": False}}, agents, 103.0) == []
    decisions = restarts.decide({"amp": {"dead": True}}, agents, 110.0)
    assert decisions[0][:2] == ("amp", "give_up") and "died 1 times within 60 s" in decisions[0][2]
    assert restarts.decide({"amp": {"dead": True}}, agents, 150.0) == []  # amp was given up


def test_the_status_line_is_set_only_when_it_changes():
    tmux, lines = FakeTmux({}), []
    status = D.StatusLine(tmux, "team", True, lines.append)
    status.show({"claude": "idle", "amp": "absent"}, None)
    status.show({"claude": "idle", "amp": "absent"}, None)
    assert [call[-1] for call in tmux.commands("set-option")] == ["claude:idle"]
    D.StatusLine(tmux, "team", False, lines.append).show({"claude": "busy"}, None)
    assert len(tmux.commands("set-option")) == 1


def test_the_courier_logs_each_delivery_and_turns_tmux_errors_into_an_outcome():
    lines, typing = [], FakeDeliver()
    courier = D.Courier(None, None, lines.append, deliver=typing)
    result = courier.deliver("amp", {"type": "simulated", "submit_delay": 0.5}, "%1", "hello", "[KEY]")
    assert result["status"] == "delivered" and lines == ["amp: delivered [KEY] (keys, 1 attempt(s), 0.10 s): hello"]

    def refused(*args, **kwargs):
        raise T.TmuxError("can't find pane: %1")

    assert D.Courier(None, None, lines.append, deliver=refused).deliver("amp", {}, "%1", "x", "l")["status"] == "error"
    assert lines[-1] == "amp: not delivered: can't find pane: %1"


def test_a_stop_is_a_flag_and_sigterm_is_taken_as_one_between_deliveries():
    stop = D.Stop(sleep=lambda s: None)
    assert not stop()
    stop.request("test")
    stop.request("later")
    assert stop() and stop.reason == "test"
    signal_stop = D.SignalStop()
    try:
        assert not signal_stop()
        # To this thread, where it is blocked: it waits to be taken, nothing dies. (Sent to the process, a
        # thread of a test runner's own that does not block it would take it, and die of it.)
        signal.pthread_kill(threading.get_ident(), signal.SIGTERM)
        started = time.monotonic()
        signal_stop.wait(5.0)
        assert time.monotonic() - started < 1.0 and signal_stop() and signal_stop.reason == "SIGTERM"
    finally:
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGTERM})


def test_the_team_module_builds_what_the_dispatcher_reads(tmp_path):
    from ansible_collections.moana.orchestration.plugins.module_utils import _team

    agents, routing = _team.validate([{"name": "claude", "role": "orchestrator", "command": "claude"},
                                      {"name": "amp", "role": "worker", "command": "amp", "auto_restart": True}])
    path = tmp_path / "dispatch.json"
    path.write_text(json.dumps(_team.dispatcher_config(agents, "team", "/p/CLAUDE.md", "/h")))
    config = D.load_config(str(path))
    assert config["restart"] == C.RESTART_DEFAULTS and config["scan"] == 5.0


# --------------------------------------------------------------------------- the rounds


def test_deliver_pending_types_one_line_per_agent_and_saves_what_it_sent(tmp_path, board):
    dispatcher, tmux, typing, out = make_dispatcher(tmp_path, board)
    B.update(board, lambda b: (B.add_task(b, "one", "amp"), B.add_task(b, "two", "amp"), B.add_task(b, "three", "codex")))
    dispatcher.scan()
    assert dispatcher.watch.changed()
    assert dispatcher.deliver_pending() is False
    assert typing.typed == [
        ("%1", "[orchestra] TASK-001 is assigned to you: run orchestra task show TASK-001; "
               "TASK-002 is assigned to you: run orchestra task show TASK-002"),
        ("%2", "[orchestra] TASK-003 is assigned to you: run orchestra task show TASK-003")]
    saved = json.loads((tmp_path / "state.json").read_text())
    assert sorted(bare(saved["sent"])) == ["TASK-001:PENDING>amp", "TASK-002:PENDING>amp", "TASK-003:PENDING>codex"]
    assert dispatcher.deliver_pending() is False and len(typing.typed) == 2  # nothing twice


def test_deliver_pending_types_the_queue_first_and_waits_for_a_busy_agent(tmp_path, board):
    dispatcher, tmux, typing, out = make_dispatcher(tmp_path, board)
    D._delivery.enqueue(str(tmp_path / "queue"), "amp", "your initial prompt")
    B.update(board, lambda b: (B.add_task(b, "one", "amp"), B.add_task(b, "two", "codex")))
    dispatcher.scan()
    dispatcher.watch.changed()
    typing.states["%2"] = "busy"
    assert dispatcher.deliver_pending() is True
    assert [text[:24] for dummy, text in typing.typed] == ["your initial prompt", "[orchestra] TASK-001 is "]
    assert os.listdir(tmp_path / "queue" / "amp") == []
    assert dispatcher.states["codex"] == "busy"
    dispatcher.deliver_pending()
    assert out.getvalue().count("codex: waiting to deliver (agent busy)") == 1  # said once
    del typing.states["%2"]
    assert dispatcher.deliver_pending() is False and typing.typed[-1][0] == "%2"


def test_deliver_pending_stops_between_agents_once_a_stop_is_requested(tmp_path, board):
    dispatcher, tmux, typing, out = make_dispatcher(tmp_path, board)
    B.update(board, lambda b: (B.add_task(b, "one", "amp"), B.add_task(b, "two", "codex")))
    dispatcher.scan()
    dispatcher.watch.changed()
    typing.after = lambda: dispatcher.stop.request("SIGTERM")
    dispatcher.deliver_pending()
    assert [pane_id for pane_id, dummy in typing.typed] == ["%1"]  # amp's line whole; codex not begun
    assert bare(json.loads((tmp_path / "state.json").read_text())["sent"]) == {"TASK-001:PENDING>amp"}


def test_deliver_pending_leaves_absent_and_dead_agents_waiting(tmp_path, board):
    panes = {"claude": pane("%0"), "amp": pane("%1", dead=True)}
    dispatcher, tmux, typing, out = make_dispatcher(tmp_path, board, panes=panes)
    B.update(board, lambda b: (B.add_task(b, "one", "amp"), B.add_task(b, "two", "codex")))
    dispatcher.scan()
    dispatcher.watch.changed()
    assert dispatcher.deliver_pending() is True and typing.typed == []
    assert "amp: waiting to deliver (agent dead)" in out.getvalue()
    assert "codex: waiting to deliver (agent absent)" in out.getvalue()


def test_restart_dead_respawns_the_panes_own_command_and_says_so(tmp_path, board):
    prompt = tmp_path / "amp.md"
    prompt.write_text("You are amp.")
    overrides = {"amp": {"auto_restart": True, "typed_prompt": True, "prompt": str(prompt)}}
    panes = {"claude": pane("%0"), "amp": pane("%1")}
    dispatcher, tmux, typing, out = make_dispatcher(tmp_path, board, panes=panes, **overrides)
    dispatcher.scan()
    tmux.panes["amp"]["dead"] = True
    dispatcher.scan()
    assert tmux.commands("respawn-pane") == []  # the first restart waits its delay
    dispatcher.clock.sleep(1.0)
    dispatcher.scan()
    # The pane's own command, kept by tmux, again: no variable on the command line.
    assert tmux.commands("respawn-pane") == [("respawn-pane", "-k", "-t", "%1")]
    facts = B.facts(B.load(board))
    assert {a["agent"]: a["state"] for a in facts["agents"]} == {"amp": "IDLE"}
    assert "amp died and was restarted (1 of 2 within 60 s)" in [m["text"] for m in facts["messages"]]
    assert [open(p).read() for p in D._delivery.queued(str(tmp_path / "queue"), "amp")] == ["You are amp."]


def test_restart_dead_logs_a_refused_respawn_and_tries_again_later(tmp_path, board):
    overrides = {"amp": {"auto_restart": True}}
    dispatcher, tmux, typing, out = make_dispatcher(tmp_path, board, panes={"claude": pane("%0"),
                                                                            "amp": pane("%1", dead=True)}, **overrides)

    def refuse(*argv):
        tmux.calls.append(argv)
        return T.Result(1, "", "can't find pane: %1")

    dispatcher.panes = D.scan_panes(tmux, "team", dispatcher.agents)
    dispatcher.clock.sleep(5.0)
    dispatcher.restarts.died["amp"] = 990.0
    tmux.cmd = refuse
    dispatcher.restart_dead()
    assert "amp: restart failed: tmux respawn-pane failed: can't find pane: %1" in out.getvalue()
    assert dispatcher.restarts.policy.history["amp"] == [] and B.facts(B.load(board))["messages"] == []


def test_step_scans_on_schedule_delivers_on_change_and_looks_again_soon_for_a_busy_agent(tmp_path, board):
    dispatcher, tmux, typing, out = make_dispatcher(tmp_path, board)
    poll, scan = dispatcher.config["poll"], dispatcher.config["scan"]
    assert dispatcher.step() == poll  # first round: board read, panes scanned, nothing to tell
    assert len(tmux.commands("list-panes")) == 1 and typing.typed == []
    assert tmux.commands("set-option")[-1][-1].endswith("| pending 0 · in progress 0 · done 0")
    assert dispatcher.step() == poll and len(tmux.commands("list-panes")) == 1  # nothing changed: no scan
    B.update(board, lambda b: B.add_task(b, "one", "amp"))
    assert dispatcher.step() == poll and [p for p, dummy in typing.typed] == ["%1"]
    B.update(board, lambda b: B.add_task(b, "two", "codex"))
    typing.states["%2"] = "busy"
    started = dispatcher.clock()
    assert dispatcher.step() == D.RETRY  # codex is busy: try again after RETRY, and scan sooner
    assert dispatcher.next_scan == started + scan / 2
    dispatcher.clock.sleep(scan)
    del typing.states["%2"]
    assert dispatcher.step() == poll and len(tmux.commands("list-panes")) == 2 and typing.typed[-1][0] == "%2"
    dispatcher.clock.sleep(C.QUIET)  # a quiet team: half the wake-ups; a scan alone does not count as activity
    assert dispatcher.step() == dispatcher.config["idle_poll"] == 2 * poll
    dispatcher.clock.sleep(scan)
    assert dispatcher.step() == 2 * poll and len(tmux.commands("list-panes")) == 3
    B.update(board, lambda b: B.add_task(b, "three", "amp"))
    assert dispatcher.step() == poll  # the board moved: back to the short poll


def test_run_loops_until_stopped_and_says_why(tmp_path, board):
    dispatcher, tmux, typing, out = make_dispatcher(tmp_path, board)
    B.update(board, lambda b: (B.add_task(b, "one", "amp"), B.add_task(b, "two", "codex")))
    stop = D.Stop(sleep=dispatcher.clock.sleep)
    typing.after = lambda: stop.request("SIGTERM")
    assert dispatcher.run(stop) == 0
    assert [p for p, dummy in typing.typed] == ["%1"]
    log = out.getvalue().splitlines()
    assert "dispatcher watching" in log[0] and log[-1].endswith("dispatcher stopped (SIGTERM)")


def test_a_board_deleted_and_made_again_gets_a_fresh_memory_and_its_notices(tmp_path, board):
    dispatcher, tmux, typing, out = make_dispatcher(tmp_path, board)
    B.update(board, lambda b: B.add_task(b, "one", "amp"))
    dispatcher.step()
    assert [p for p, dummy in typing.typed] == ["%1"]
    os.unlink(board)
    dispatcher.step()  # seen missing
    B.atomic_write(board, B.new_board_text())
    B.update(board, lambda b: (B.add_task(b, "one", "amp"), B.add_task(b, "two", "codex"),
                               B.complete_task(b, "TASK-002", "codex")))
    dispatcher.step()
    # TASK-001 again, same title, same minute: told; the completion already on the new board is history.
    assert [p for p, dummy in typing.typed] == ["%1", "%1"]
    assert "the board was missing and is back" in out.getvalue()


def test_a_board_with_another_identity_while_running_gets_a_fresh_memory(tmp_path, board, monkeypatch):
    monkeypatch.setattr(B, "facts", with_identity("board-a"))
    dispatcher, tmux, typing, out = make_dispatcher(tmp_path, board)
    B.update(board, lambda b: B.add_task(b, "one", "amp"))
    dispatcher.step()
    monkeypatch.setattr(B, "facts", with_identity("board-b"))
    B.update(board, lambda b: B.send_message(b, "claude", "codex", "hello"))  # a write the dispatcher sees
    dispatcher.step()
    # The new memory counts the message as told and the PENDING task as still to tell.
    assert [p for p, dummy in typing.typed] == ["%1", "%1"]
    assert "is another board (identity board-b, the memory's board-a)" in out.getvalue()
    assert json.loads((tmp_path / "state.json").read_text())["board_id"] == "board-b"


def test_the_status_file_records_each_agents_screen_state_and_since_when(tmp_path, board):
    wall = Clock(5000.0)
    dispatcher, tmux, typing, out = make_dispatcher(tmp_path, board)
    dispatcher.status_file.clock = wall
    path = tmp_path / "state.status.json"
    dispatcher.scan()
    first = json.loads(path.read_text())
    board_id = B.load(board).board_id()
    assert first["pid"] == os.getpid() and board_id is not None and first["board_id"] == board_id
    assert set(first["agents"]) == {"claude", "amp", "codex"} and first["agents"]["amp"]["since"] == 5000.0
    mtime = path.stat().st_mtime_ns
    wall.sleep(30)
    dispatcher.scan()
    assert path.stat().st_mtime_ns == mtime  # nothing changed: not written
    tmux.panes["amp"]["lines"] = ["working on TASK-001"]
    wall.sleep(30)
    dispatcher.scan()
    agents = json.loads(path.read_text())["agents"]
    assert agents["amp"]["since"] == 5060.0 and agents["codex"]["since"] == 5000.0
    assert (first["agents"]["amp"]["state"], agents["amp"]["state"]) == ("idle", "busy")
