"""The dispatcher's rounds for an unattended team, over the fake tmux of test_dispatch_loop: a stuck agent is
told to the orchestrator on the board, recorded for health and sent to the notifier, and nudged once when idle
again; an agent on a dialog, a failed task, a restart and the end of a plan are sent to the notifier; the
CLIs' own reports (hooks) are taken over the screen while fresh."""

from __future__ import annotations

import io
import json

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
