"""The dispatcher's rounds for an unattended team, over the fake tmux of test_dispatch_loop: a stuck agent is
told to the orchestrator on the board, recorded for health and sent to the notifier, and nudged once when idle
again; an agent on a dialog, a failed task, a restart and the end of a plan are sent to the notifier; the
CLIs' own reports (hooks) are taken over the screen while fresh."""

from __future__ import annotations

import io
import json
import time

from test_dispatch_loop import Clock, FakeDeliver, FakeTmux, make_config, pane
from test_dispatch_loop import board  # noqa: F401 pylint: disable=unused-import  # a fixture of these tests

from ansible_collections.moana.orchestration.plugins.module_utils import _board as B
from ansible_collections.moana.orchestration.plugins.module_utils import _delivery as DL
from ansible_collections.moana.orchestration.plugins.module_utils import _dispatch as D
from ansible_collections.moana.orchestration.plugins.module_utils import _dispatch_config as C
from ansible_collections.moana.orchestration.plugins.module_utils import _hooks as H

BUSY = ["❯ TASK-001 is assigned to you", "working on TASK-001 (3s)"]
DIALOG = ["Trust this folder?", "› 1. Trust and continue", "  2. Back", "enter continue · esc back"]


class Sent:
    """Stands in for the notifier's sending: what emit let through, in order."""

    def __init__(self, dispatcher):
        self.events: list[dict] = []
        self.notifier = dispatcher.notifier
        self.notifier.queue.put = self.events.append
        self.notifier.thread = object()  # no thread: the events stay here


def alert_dispatcher(tmp_path, board, panes, stuck=None, notify=None, hooks=False):
    tmux = FakeTmux(panes)
    clock, out = Clock(), io.StringIO()
    config = make_config(tmp_path, board)
    config.update(C.with_defaults(dict(config, stuck=stuck or {}, notify=notify, hooks=hooks)))
    dispatcher = D.Dispatcher(config, server=tmux, out=out, clock=clock, sleep=clock.sleep, deliver=FakeDeliver(),
                              wall_clock=clock)
    return dispatcher, clock, out, Sent(dispatcher)


NOTIFY = {"command": "true", "cooldown": 600}


def test_a_busy_agent_without_progress_is_stuck_once_told_recorded_and_nudged_when_idle(tmp_path, board):
    panes = {"claude": pane("%0"), "amp": pane("%1", lines=BUSY), "codex": pane("%2")}
    dispatcher, clock, out, sent = alert_dispatcher(tmp_path, board, panes,
                                                    {"busy_seconds": 60, "nudge": "Carry on: run orchestra task list"},
                                                    NOTIFY)
    dispatcher.scan()
    clock.now += 30
    panes["amp"]["lines"] = [line.replace("(3s)", "(33s)") for line in BUSY]  # only its timer moved
    dispatcher.scan()
    assert not sent.events
    clock.now += 31
    dispatcher.scan()
    dispatcher.scan()  # said once
    assert [(e["event"], e["agent"]) for e in sent.events] == [("stuck", "amp")]
    assert "busy with an unchanged screen for 61 s" in sent.events[0]["text"]
    messages = B.facts(B.load(board))["messages"]
    assert [(m["from"], m["to"]) for m in messages] == [("orchestra", "claude")]
    assert messages[0]["text"].startswith("amp looks stuck: busy with an unchanged screen for 61 s")
    status = json.loads(open(C.status_file(dispatcher.config)).read())
    assert status["agents"]["amp"]["stuck"]["state"] == "busy" and status["agents"]["amp"]["stuck"]["since"] == 1000
    assert "stuck" not in status["agents"]["codex"]
    # Idle again: the nudge is queued once, the record goes.
    panes["amp"]["lines"] = ["done", "❯ "]
    dispatcher.scan()
    dispatcher.scan()
    queued = DL.queued(dispatcher.config["queue_dir"], "amp")
    assert len(queued) == 1 and open(queued[0]).read() == "Carry on: run orchestra task list"
    assert "stuck" not in json.loads(open(C.status_file(dispatcher.config)).read())["agents"]["amp"]
    assert "amp moved on (idle) after it looked stuck" in out.getvalue()


def test_an_agent_on_a_dialog_is_sent_once_per_wait_after_two_scans(tmp_path, board):
    panes = {"claude": pane("%0"), "amp": pane("%1"), "codex": pane("%2", lines=DIALOG)}
    dispatcher, clock, out, sent = alert_dispatcher(tmp_path, board, panes, {"dialog_seconds": 300}, NOTIFY)
    dispatcher.scan()
    assert not sent.events  # one read may be a redraw
    for dummy in range(3):
        clock.now += 5
        dispatcher.scan()
    assert [(e["event"], e["agent"]) for e in sent.events] == [("waiting", "codex")]
    clock.now += 300
    dispatcher.scan()
    assert [e["event"] for e in sent.events] == ["waiting", "stuck"]
    assert "waiting on a dialog for a person for 315 s" in sent.events[1]["text"]


def test_a_failed_task_and_the_end_of_the_plan_are_sent_once(tmp_path, board):
    panes = {"claude": pane("%0"), "amp": pane("%1"), "codex": pane("%2")}
    dispatcher, clock, out, sent = alert_dispatcher(tmp_path, board, panes, None, NOTIFY)

    def rounds(count=2):
        for dummy in range(count):
            clock.now += 10
            dispatcher.step()

    rounds()
    assert not sent.events  # no plan yet
    B.update(board, lambda b: (B.add_task(b, "Build it", "amp", "MEDIUM"), B.add_task(b, "Test it", "codex", "LOW")))
    rounds()
    B.update(board, lambda b: B.fail_task(b, "TASK-002", "no test runner", "codex"))
    rounds()
    assert [(e["event"], e.get("task")) for e in sent.events] == [("task_failed", "TASK-002")]
    assert sent.events[0]["agent"] == "codex"
    B.update(board, lambda b: B.complete_task(b, "TASK-001", "amp", "built it", "src/x.py"))
    panes["claude"]["lines"] = BUSY  # the orchestrator at work on what it was told: maybe a new plan
    rounds(4)
    assert [e["event"] for e in sent.events] == ["task_failed"]
    panes["claude"]["lines"] = ["❯ "]
    rounds(4)
    assert [e["event"] for e in sent.events] == ["task_failed", "plan_complete"]
    assert sent.events[1]["completed"] == 1 and sent.events[1]["failed"] == 1


def test_a_restart_is_sent_and_a_give_up_is_stuck(tmp_path, board):
    panes = {"claude": pane("%0"), "amp": pane("%1", dead=True), "codex": pane("%2")}
    dispatcher, clock, out, sent = alert_dispatcher(tmp_path, board, panes, None, dict(NOTIFY, cooldown=0))
    dispatcher.agents["amp"]["auto_restart"] = True
    for dummy in range(8):
        dispatcher.scan()
        clock.now += 10
    assert [e["event"] for e in sent.events] == ["restarted", "restarted", "stuck"], sent.events
    assert "not restarted again" in sent.events[-1]["text"] and sent.events[-1]["state"] == "dead"


def test_a_cli_reporting_busy_gets_nothing_typed_and_its_report_is_recorded_with_its_source(tmp_path, board):
    panes = {"claude": pane("%0"), "amp": pane("%1"), "codex": pane("%2")}
    dispatcher, clock, out, sent = alert_dispatcher(tmp_path, board, panes, hooks=True)
    typing = dispatcher.courier.type_text
    dispatcher.scan()
    clock.now += 1
    H.write_report(str(tmp_path), "amp", "busy", "claude", "UserPromptSubmit", now=clock.now)
    B.update(board, lambda b: B.add_task(b, "Build it", "amp", "MEDIUM"))
    clock.now += 1
    dispatcher.step()  # amp's screen reads idle, but its CLI has just said it is at work: nothing typed
    assert typing.typed == [] and "amp: busy, its CLI says (UserPromptSubmit)" in out.getvalue()
    status = json.loads(open(C.status_file(dispatcher.config)).read())
    assert status["agents"]["amp"]["state"] == "busy" and status["agents"]["amp"]["source"] == "hook"
    H.write_report(str(tmp_path), "amp", "idle", "claude", "Stop", now=clock.now + 0.5)
    clock.now += 1
    dispatcher.step()  # the report's change is seen in the same round: the notice goes at once
    assert [text for pane_id, text in typing.typed] == ["[orchestra] TASK-001 is assigned to you: run orchestra "
                                                        "task show TASK-001"]


def test_a_busy_report_the_screen_has_moved_past_is_stale(tmp_path, board):
    panes = {"claude": pane("%0"), "amp": pane("%1", lines=BUSY), "codex": pane("%2")}
    dispatcher, clock, out, sent = alert_dispatcher(tmp_path, board, panes, hooks=True)
    H.write_report(str(tmp_path), "amp", "busy", "claude", "UserPromptSubmit", now=clock.now)
    dispatcher.step()
    assert dispatcher.reported("amp") == "busy"
    panes["amp"]["lines"] = ["interrupted", "❯ "]  # the turn was cut short (Esc): no Stop hook ran
    clock.now += 10
    dispatcher.scan()
    assert dispatcher.reported("amp") is None  # the screen moved to idle after the report: it says the state
    B.update(board, lambda b: B.add_task(b, "Build it", "amp", "MEDIUM"))
    clock.now += 1
    dispatcher.step()
    assert len(dispatcher.courier.type_text.typed) == 1


NOW = 1796230000.0
LIMITED = ["❯ TASK-001 is assigned to you", "● API Error: Request rejected (429) · Claude AI usage limit reached|%d",
           "✻ Cooked for 0s", "─" * 40, "❯ ", "─" * 40, "  ? for shortcuts"]


def limited_team(tmp_path, board, policy, reset):
    panes = {"claude": pane("%0"), "amp": pane("%1", lines=[line.replace("%d", str(int(reset))) for line in LIMITED]),
             "codex": pane("%2")}
    tmux = FakeTmux(panes)
    clock, out = Clock(NOW), io.StringIO()
    config = make_config(tmp_path, board, amp={"type": "claude", "complexity": "medium"},
                         codex={"complexity": "medium"})
    config.update(C.with_defaults(dict(config, limits={"policy": policy, "retry_seconds": 600}, notify=NOTIFY)))
    dispatcher = D.Dispatcher(config, server=tmux, out=out, clock=clock, sleep=clock.sleep, deliver=FakeDeliver(),
                              wall_clock=clock)
    return dispatcher, clock, out, Sent(dispatcher), panes


def test_a_limited_agent_gets_nothing_its_tasks_wait_and_it_is_told_to_go_on_after_the_reset(tmp_path, board):
    reset = NOW + 3600
    dispatcher, clock, out, sent, panes = limited_team(tmp_path, board, "hold", reset)
    typing = dispatcher.courier.type_text
    B.update(board, lambda b: B.add_task(b, "Build it", "amp", "MEDIUM"))
    dispatcher.step()
    dispatcher.scan()
    assert dispatcher.limited["amp"]["reset"] == reset
    text = "amp is held by a usage limit until %s: nothing is typed into it until then; its PENDING task(s) " \
           "TASK-001 wait for it" % time.strftime("%H:%M", time.localtime(reset))
    assert [m["text"] for m in B.facts(B.load(board))["messages"]] == [text]
    assert [(e["event"], e["agent"], e["tasks"]) for e in sent.events] == [("limited", "amp", ["TASK-001"])]
    status = json.loads(open(C.status_file(dispatcher.config)).read())["agents"]["amp"]
    assert status["state"] == "limited" and status["limited"]["reset"] == reset and status["limited"]["policy"] == "hold"
    # Nothing typed while the limit holds (the fake courier would type into any pane it is asked to).
    for dummy in range(5):
        clock.now += 60
        dispatcher.step()
        dispatcher.scan()
    assert not [t for t in typing.typed if t[0] == "%1"], typing.typed
    clock.now = reset + 31  # past the reset: told to go on, once; then every retry_seconds while still limited
    dispatcher.scan()
    dispatcher.scan()
    go_on = [t for p, t in typing.typed if p == "%1"]
    assert go_on == ["[orchestra] the usage limit should have lifted: go on with your task (run orchestra task list "
                     "--agent amp)"]
    clock.now += 601
    dispatcher.scan()
    assert len([t for p, t in typing.typed if p == "%1"]) == 2
    # At work again: free, and the task's notice goes as for any idle agent.
    panes["amp"]["lines"] = ["❯ go on", "● On it.", "─" * 40, "❯ ", "─" * 40, "  ? for shortcuts"]
    dispatcher.scan()
    assert "amp" not in dispatcher.limited and "amp: no longer held by a limit (idle)" in out.getvalue()
    assert len(B.facts(B.load(board))["messages"]) == 1  # said once


def test_under_reroute_a_limited_agents_pending_tasks_go_to_a_worker_of_its_complexity(tmp_path, board):
    dispatcher, clock, out, sent, panes = limited_team(tmp_path, board, "reroute", 0)
    panes["amp"]["lines"] = [line.replace("|%d", "") for line in LIMITED]  # no reset time on its screen
    B.update(board, lambda b: (B.add_task(b, "Build it", "amp", "MEDIUM"), B.add_task(b, "Ship it", "amp", "MEDIUM")))
    dispatcher.step()
    dispatcher.scan()
    tasks = {t["id"]: t["assigned_to"] for t in B.facts(B.load(board))["tasks"]}
    assert tasks == {"TASK-001": "codex", "TASK-002": "codex"}
    assert B.facts(B.load(board))["messages"][0]["text"] == (
        "amp is held by a usage limit: nothing is typed into it until then; its PENDING task(s) TASK-001, TASK-002 go to codex")
    assert dispatcher.limited["amp"]["go_on_at"] == clock.now + 600  # no reset known: a retry later
    status = json.loads(open(C.status_file(dispatcher.config)).read())["agents"]["amp"]["limited"]
    assert (status["policy"], status["peer"]) == ("reroute", "codex")  # what health tells
    # A task given to it while the limit holds goes to its peer too, once, said on the board.
    B.update(board, lambda b: B.add_task(b, "Test it", "amp", "MEDIUM"))
    for dummy in range(3):
        clock.now += 5
        dispatcher.step()
        dispatcher.scan()
    tasks = {t["id"]: t["assigned_to"] for t in B.facts(B.load(board))["tasks"]}
    assert tasks["TASK-003"] == "codex", tasks
    assert [m["text"] for m in B.facts(B.load(board))["messages"]][1:] == [
        "amp is still held by a usage limit: its PENDING task(s) TASK-003 go to codex"]
    assert not [t for t in dispatcher.courier.type_text.typed if t[0] == "%1"]
