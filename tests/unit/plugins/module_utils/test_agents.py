"""Agent state from the screen: the patterns against screens captured from the real CLIs."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ansible_collections.moana.orchestration.plugins.module_utils import _agents as A

SCREENS = Path(__file__).parent / "fixtures" / "screens"


def screen(name: str) -> list[str]:
    return (SCREENS / (name + ".txt")).read_text(encoding="utf-8").split("\n")


# Each fixture is named TYPE-STATE-what.txt and was captured from the real CLI (see fixtures/screens/README.md).
FIXTURES = sorted(p.stem for p in SCREENS.glob("*.txt"))


def test_every_type_with_a_real_cli_has_idle_busy_or_waiting_fixtures():
    kinds = {tuple(name.split("-")[:2]) for name in FIXTURES}
    assert {("claude", "idle"), ("claude", "busy"), ("claude", "waiting"), ("codex", "idle"), ("codex", "busy"),
            ("codex", "waiting"), ("amp", "idle"), ("amp", "waiting")} <= kinds


@pytest.mark.parametrize("name", FIXTURES)
def test_fixture_screens_classify_as_named(name):
    agent_type, expected = name.split("-")[:2]
    lines = screen(name)
    assert A.classify(agent_type, lines, age=300.0, previous=lines) == expected


def test_a_claude_trust_dialog_is_waiting_although_it_shows_the_prompt_character():
    lines = screen("claude-waiting-trust")
    assert any(line.lstrip().startswith("❯") for line in lines)
    assert A.classify("claude", lines) == "waiting"


def test_busy_claude_keeps_its_prompt_line_but_reads_busy():
    lines = screen("claude-busy")
    assert any(line.strip() == "❯" for line in lines)
    assert A.classify("claude", lines) == "busy"


@pytest.mark.parametrize("name", ["codex-waiting-trust", "codex-waiting-model", "claude-waiting-permission",
                                  "claude-waiting-trust", "claude-waiting-api-key"])
def test_every_numbered_choice_dialog_is_waiting_by_its_choices_alone(name):
    lines = screen(name)
    assert A._has_choices(A.tail(lines))
    # Without the dialog's own words: the choices and the selection marker are enough.
    bare = [line for line in A.tail(lines) if A.CHOICE.match(line)]
    assert A.classify("codex", bare) == "waiting" and A.classify("claude", bare) == "waiting"


def test_codex_dialogs_show_a_prompt_like_marker_but_read_waiting():
    for name in ("codex-waiting-trust", "codex-waiting-model"):
        lines = screen(name)
        assert any(line.startswith("› 1. ") for line in lines)
        assert A.classify("codex", lines) == "waiting"


def test_a_numbered_list_in_the_transcript_above_the_prompt_is_not_a_dialog():
    idle = screen("codex-idle-finished")
    at = max(i for i, line in enumerate(idle) if line.startswith("› Ask Codex"))
    with_list = idle[:at] + ["› 1. first do this", "  2. then that", ""] + idle[at:]
    assert A.classify("codex", with_list) == "idle"
    claude = screen("claude-idle-finished")
    at = max(i for i, line in enumerate(claude) if line.startswith("❯"))
    assert A.classify("claude", claude[:at] + ["❯ 1. first", "  2. second"] + claude[at:]) == "idle"


def test_the_selection_may_be_on_any_choice():
    assert A.classify("codex", ["  1. Try new model", "› 2. Use existing model"]) == "waiting"
    # A lone numbered line is no list of choices.
    assert A.classify("codex", ["› 2. Use existing model"], age=300) != "waiting"
    assert A.classify("claude", ["❯ 1. Yes", "", "something else"], age=300) != "waiting"


def test_real_screens_against_the_scripted_model_server_read_as_the_cli_shows():
    # Idle with a placeholder on the prompt line, busy with the prompt line still shown, idle again after.
    assert A.classify("codex", screen("codex-idle-scripted")) == "idle"
    assert any("› Ask Codex to do anything" in line for line in screen("codex-idle-scripted"))
    for name in ("claude-busy-command", "claude-busy-reply", "codex-busy-command", "codex-busy-reply"):
        assert A.classify(name.split("-", maxsplit=1)[0], screen(name)) == "busy", name
    for name in ("claude-idle-finished", "codex-idle-finished"):
        assert A.classify(name.split("-", maxsplit=1)[0], screen(name)) == "idle", name


def test_dead_and_exited_to_a_shell_win_over_the_screen():
    idle = screen("claude-idle")
    assert A.classify("claude", idle, dead=True) == "dead"
    assert A.classify("claude", idle, exited_to_shell=True) == "dead"


def test_nothing_known_is_starting_when_young_and_unknown_later():
    blank = ["", "loading..."]
    assert A.classify("claude", blank, age=2.0) == "starting"
    assert A.classify("claude", blank, age=600.0) == "unknown"
    assert A.classify("claude", blank) == "unknown"


def test_amp_and_generic_read_a_moving_screen_as_busy():
    idle = screen("amp-idle")
    moved = idle[:-1] + ["spinner ⠋"] + idle[-1:]
    assert A.classify("amp", moved, previous=idle) == "busy"
    assert A.classify("amp", idle, previous=idle) == "idle"
    assert A.classify("generic", ["$ run", "output 1"], previous=["$ run"]) == "busy"
    assert A.classify("generic", ["$ run", "output 1"], previous=["$ run", "output 1"]) == "idle"
    assert A.classify("generic", ["$ run"], age=500.0) == "unknown"  # one read cannot tell


def test_simulated_agents_show_their_work_and_prompt():
    assert A.classify("simulated", ["[12:00:00] amp: working on TASK-001: x"]) == "busy"
    assert A.classify("simulated", ["[12:00:00] amp: completed TASK-001", "❯"]) == "idle"


def test_the_last_lines_only_count():
    old_dialog = ["Do you want to use this API key?"] + [""] * 3 + ["line %d" % n for n in range(A.TAIL)]
    assert A.classify("claude", old_dialog + ["❯"]) == "idle"


def test_a_state_is_reported_once_two_reads_agree():
    tracker = A.Tracker()
    assert tracker.see("%1", "idle") == "unknown"
    assert tracker.see("%1", "idle") == "idle"
    assert tracker.see("%1", "busy") == "idle"  # one read of busy is not enough
    assert tracker.see("%1", "busy") == "busy"
    tracker.forget("%1")
    assert tracker.see("%1", "busy") == "unknown"


def test_a_stale_read_is_not_the_first_of_two():
    now = [0.0]
    tracker = A.Tracker(max_age=2.0, clock=lambda: now[0])
    tracker.see("%1", "idle")
    now[0] = 5.0
    assert tracker.see("%1", "idle") == "unknown" and not tracker.stable["%1"]
    now[0] = 5.1
    assert tracker.see("%1", "idle") == "idle" and tracker.stable["%1"]


def test_a_simulated_agent_is_idle_only_with_its_prompt_on_the_last_line():
    assert A.classify("simulated", ["❯ [orchestra] TASK-001 is assigned to you", "[12:00:00] amp: assigned"], age=99) == "unknown"


def test_a_simulated_agent_back_at_its_prompt_is_idle_whatever_it_printed_before():
    screen = ["[12:00:00] codex: working on TASK-004: x", "[12:00:01] codex: completed TASK-004", "❯"]
    assert A.classify("simulated", screen) == "idle"


def test_where_only_motion_tells_work_a_screen_must_be_still_a_while_to_read_idle():
    screen = ["$ run", "output 1"]
    assert A.classify("generic", screen, previous=screen, still_for=0.2) == "busy"
    assert A.classify("generic", screen, previous=screen, still_for=A.QUIET_SECONDS) == "idle"
    assert A.classify("claude", ["❯"], previous=["x"], still_for=0.0) == "idle"  # claude says when it is busy


def test_each_type_says_how_it_takes_typed_input():
    assert A.patterns_of("claude").submit_key == "Enter" and A.patterns_of("claude").clear_key == "C-u"
    assert A.patterns_of("codex").pasted[0].search("› [Pasted Content 2289 chars]")
    assert A.patterns_of("claude").pasted[0].search("❯ [Pasted text #1 +4 lines]")
    assert A.patterns_of("generic").clear_key is None
    assert A.patterns_of("simulated").submit_delay == 0.05
    # Codex takes an Enter within about 0.12 s of fast keys as a new line of a paste.
    assert A.patterns_of("codex").submit_delay > 0.12 and 0 < A.patterns_of("claude").submit_delay < 0.3
    assert A.patterns_of("no-such-type") is A.PATTERNS["generic"]


# --------------------------------------------------------------------------- stuck agents


def test_the_progress_key_ignores_timers_counts_spinners_and_tips_but_not_the_work():
    claude = screen("claude-busy-reply")
    later = [line.replace("✢ Lollygagging…", "✶ Lollygagging… (41s · ↓ 1.2k tokens)")
             .replace("Start with small features", "Use /memory to edit") for line in claude]
    assert A.progress_key(later) == A.progress_key(claude)
    moved = claude[:-3] + ["● Bash(orchestra task start TASK-001)"] + claude[-3:]
    assert A.progress_key(moved) != A.progress_key(claude)
    codex = screen("codex-busy-reply")
    assert A.progress_key([line.replace("• Working (2s", "◦ Working (95s") for line in codex]) == A.progress_key(codex)
    assert "/tmp/lab/run#/project" in A.progress_key(codex)  # only a spinner's glyph is taken off a line's start


def test_an_agent_busy_without_progress_or_on_a_dialog_too_long_is_stuck_once_then_moves_on():
    now = [0.0]
    watch = A.StuckWatch(busy_seconds=60, dialog_seconds=120, clock=lambda: now[0])
    assert watch.see("codex", "busy", "working on it") is None
    now[0] = 59
    assert watch.see("codex", "busy", "working on it") is None
    now[0] = 61
    kind, entry = watch.see("codex", "busy", "working on it")
    assert kind == "stuck" and entry["since"] == 0 and "busy with an unchanged screen for 61 s" in entry["reason"]
    now[0] = 200
    assert watch.see("codex", "busy", "working on it") is None  # said once
    assert watch.stuck["codex"]["state"] == "busy"
    kind, entry = watch.see("codex", "idle")
    assert kind == "moved" and entry["now"] == "idle" and "codex" not in watch.stuck
    # Progress resets the clock; an idle agent is never stuck; a dialog has its own threshold.
    now[0] = 300
    watch.see("amp", "busy", "step 1")
    now[0] = 350
    assert watch.see("amp", "busy", "step 2") is None
    now[0] = 400
    assert watch.see("amp", "busy", "step 2") is None
    watch.see("claude", "idle")
    now[0] = 5000
    assert watch.see("claude", "idle") is None
    watch.see("boss", "waiting", "")
    now[0] = 5119
    assert watch.see("boss", "waiting", "") is None
    now[0] = 5121
    assert watch.see("boss", "waiting", "")[1]["reason"].startswith("waiting on a dialog for a person for 121 s")


def test_without_thresholds_nobody_is_stuck():
    now = [0.0]
    watch = A.StuckWatch(None, None, clock=lambda: now[0])
    watch.see("codex", "busy", "x")
    now[0] = 1e6
    assert watch.see("codex", "busy", "x") is None and not watch.stuck


# --------------------------------------------------------------------------- usage and rate limits


def test_limit_screens_say_when_the_limit_lifts_and_whether_the_cli_retries_by_itself():
    now = time.mktime((2026, 12, 2, 17, 50, 0, 0, 0, -1))
    retrying = A.limit_facts("claude", screen("claude-limited-retrying"), now)
    assert retrying == {"retrying": True, "reset": now + 19}  # "API error · Retrying in 19s · attempt 6/10"
    assert A.limit_facts("claude", screen("claude-limited-rejected"), now) == {"retrying": False, "reset": 1796240000.0}
    usage = A.limit_facts("codex", screen("codex-limited-usage"), now)  # "... or try again at 7:33 PM."
    assert usage["retrying"] is False and time.localtime(usage["reset"])[3:5] == (19, 33) and usage["reset"] > now
    assert A.limit_facts("codex", screen("codex-limited-retries"), now) == {"retrying": False, "reset": None}
    assert A.limit_facts("codex", screen("codex-idle-finished"), now) is None
    late = A.limit_facts("codex", screen("codex-limited-usage"), now + 3 * 3600)  # 7:33 PM has passed: tomorrow's
    assert late["reset"] - usage["reset"] == 86400


def test_a_limit_the_agent_went_past_or_only_talks_about_is_no_limit():
    rejected = screen("claude-limited-rejected")
    at = max(i for i, line in enumerate(rejected) if "Request rejected (429)" in line)
    went_on = rejected[:at + 1] + ["❯ go on", "● Done.", ""] + rejected[at + 1:]
    assert A.classify("claude", rejected) == "limited" and A.classify("claude", went_on) == "idle"
    talk = [line.replace("● API Error: Request rejected (429) ·", "● Fixed the bug where API Error: usage limit reached")
            for line in rejected]
    assert A.classify("claude", talk) == "idle"
