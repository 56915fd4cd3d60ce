"""Cleaning and cutting what is typed into panes, and the check that it is whole before it is submitted."""

from __future__ import annotations

from pathlib import Path

import pytest

from ansible_collections.moana.orchestration.plugins.module_utils import _agents as A
from ansible_collections.moana.orchestration.plugins.module_utils import _delivery as D
from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T


@pytest.mark.parametrize("raw, clean", [
    ("plain", "plain"),
    ("a\x1b[31mred\x1b[0m", "ared"),
    ("title\x1b]0;evil\x07after", "titleafter"),
    ("st\x1b]8;;http://x\x1b\\link", "stlink"),
    ("paste end \x1b[201~ injected", "paste end  injected"),
    ("dcs\x1bPq#0\x1b\\end", "dcsend"),
    ("ctrl\x03c\x04d\x1a\x7f", "ctrlcd"),
    ("c1\x9b31mx", "c131mx"),
    ("crlf\r\nnext\rlast", "crlf\nnext\nlast"),
    ("tab\there", "tab here"),
    ("\n\nsurrounded\n\n", "surrounded"),
    ("ünï ❯ 日本", "ünï ❯ 日本"),
    ("lone escape at end\x1b", "lone escape at end"),
    ("\x1b[unterminated", "nterminated"),  # "u" is a final byte, as a terminal reads it
    ("\x1b]0;never ended", ""),
])
def test_sanitise(raw, clean):
    assert D.sanitise(raw) == clean


def test_chunks_respect_the_byte_limit_and_never_split_a_character():
    text = "é" * 3000 + "a" * 10 + "日" * 2000
    pieces = D.chunks(text, 4000)
    assert "".join(pieces) == text
    assert all(len(p.encode("utf-8")) <= 4000 for p in pieces)
    assert len(pieces) == 4  # 12,010 bytes
    assert D.chunks("", 10) == []
    assert D.chunks("abc", 1) == ["a", "b", "c"]


def test_short_single_lines_are_keys_and_the_rest_is_pasted():
    assert D.as_keys("x" * D.LITERAL_LIMIT)
    assert not D.as_keys("x" * (D.LITERAL_LIMIT + 1))
    assert not D.as_keys("two\nlines")


def test_queue_files_are_private_and_come_back_oldest_first(tmp_path):
    first = D.enqueue(str(tmp_path), "amp", "one")
    second = D.enqueue(str(tmp_path), "amp", "two")
    assert D.queued(str(tmp_path), "amp") == [first, second]
    assert (tmp_path / "amp").stat().st_mode & 0o777 == 0o700
    assert (tmp_path / "amp" / first.rsplit("/", 1)[1]).stat().st_mode & 0o777 == 0o600
    assert D.queued(str(tmp_path), "codex") == []
    with pytest.raises(D.DeliveryError):
        D.enqueue(str(tmp_path), "../x", "no")


# The whole-text check before the submit key, on screens of the real CLIs (fixtures/screens).
SCREENS = Path(__file__).parent / "fixtures" / "screens"
NOTICE = "[orchestra] TASK-001 is assigned to you: please read the board entry and start work on the parser rewrite; reply on the board when you are done"


def fixture(name: str) -> list[str]:
    return (SCREENS / (name + ".txt")).read_text(encoding="utf-8").split("\n")


def with_input(name: str, marker: str, rows: list[str]) -> T.Screen:
    """A fixture's idle screen with ``rows`` on its prompt line (the first row after the marker), cursor at the end."""
    lines = fixture(name)
    at = max(i for i, line in enumerate(lines) if line.startswith(marker))
    lines = lines[:at] + [marker + " " + rows[0]] + ["  " + row for row in rows[1:]] + lines[at + 1:]
    return T.Screen({"cursor_y": str(at + len(rows) - 1)}, lines)


WRAPPED = [NOTICE[:116], NOTICE[116:]]


@pytest.mark.parametrize("agent_type, name, marker", [("claude", "claude-idle-finished", "❯"),
                                                      ("codex", "codex-idle-finished", "›")])
def test_the_whole_text_wrapped_after_the_prompt_marker_shows_whole(agent_type, name, marker):
    patterns = A.patterns_of(agent_type)
    assert D.shows_whole(with_input(name, marker, WRAPPED), NOTICE, patterns)
    assert not D.shows_whole(with_input(name, marker, [NOTICE[21:116], NOTICE[116:]]), NOTICE, patterns)
    assert not D.shows_whole(with_input(name, marker, [NOTICE[:116]]), NOTICE, patterns)  # cut short
    assert not D.shows_whole(None, NOTICE, patterns)


def test_a_dialog_that_took_the_keys_does_not_show_the_text():
    dialog = T.Screen({"cursor_y": "30"}, fixture("codex-waiting-model"))
    assert not D.shows_whole(dialog, NOTICE, A.patterns_of("codex"))


def test_pastes_shown_as_placeholders_count_when_their_counts_match():
    text = "x" * 2289
    codex = with_input("codex-idle-finished", "›", ["[Pasted Content 2289 chars]"])
    assert D.shows_whole(codex, text, A.patterns_of("codex"))
    assert not D.shows_whole(codex, text[:-1], A.patterns_of("codex"))
    claude = with_input("claude-idle-finished", "❯", ["[Pasted text #1 +4 lines]"])
    assert D.shows_whole(claude, "\n".join("line %d" % n for n in range(5)), A.patterns_of("claude"))
    assert not D.shows_whole(claude, "one\ntwo", A.patterns_of("claude"))
    assert not D.shows_whole(claude, "\n".join("line %d" % n for n in range(5)), A.patterns_of("generic"))


def test_a_text_longer_than_the_screen_counts_by_its_end():
    text = " ".join("word%d" % n for n in range(3000))
    rows = [text[-4000:][i:i + 100] for i in range(0, 4000, 100)][-30:]
    screen = T.Screen({"cursor_y": "29"}, rows)
    assert D.shows_whole(screen, text)
    assert not D.shows_whole(screen, text + " more")


def test_only_an_input_line_holding_a_piece_of_the_text_is_ours():
    codex = A.patterns_of("codex")
    assert D._own_input(with_input("codex-idle-finished", "›", [NOTICE[21:116], NOTICE[116:]]), NOTICE, codex)
    assert not D._own_input(T.Screen({"cursor_y": "36"}, fixture("codex-idle-finished")), NOTICE, codex)  # placeholder
    assert not D._own_input(with_input("codex-idle-finished", "›", ["someone else's words"]), NOTICE, codex)
    assert not D._own_input(with_input("codex-idle-finished", "›", ["x"]), NOTICE, A.patterns_of("generic"))


class FakePane:
    """A pane for ``deliver``: typing shows ``after_typing``; each key pressed is recorded and may change the screen."""

    def __init__(self, idle: T.Screen, after_typing: T.Screen, on_key=None):
        self.screen, self.after_typing, self.on_key = idle, after_typing, on_key or {}
        self.keys: list[str] = []
        self.typed: list[str] = []

    def install(self, monkeypatch):
        monkeypatch.setattr(T, "read_screens", lambda server, ids: {ids[0]: self.screen})
        monkeypatch.setattr(T, "type_text", self.type)
        monkeypatch.setattr(T, "send_key", self.key)
        monkeypatch.setattr(T, "pane_lock_path", lambda server, pane: str(self.lock))

    def type(self, server, pane_id, text):
        self.typed.append(text)
        self.screen = self.after_typing

    def key(self, server, pane_id, key):
        self.keys.append(key)
        after = self.on_key.get(key, self.screen)
        self.screen = after.pop(0) if isinstance(after, list) else after


def clock_and_sleep():
    now = [0.0]

    def sleep(seconds):
        now[0] += seconds

    return (lambda: now[0]), sleep


def test_a_dialog_that_comes_up_and_takes_the_keys_gets_no_submit_and_no_clear_key(monkeypatch, tmp_path):
    idle = T.Screen({"cursor_y": "36"}, fixture("codex-idle-finished"))
    pane = FakePane(idle, T.Screen({"cursor_y": "6"}, fixture("codex-waiting-model")))
    pane.lock = tmp_path / "lock"
    pane.install(monkeypatch)
    clock, sleep = clock_and_sleep()
    result = D.deliver(None, "%1", NOTICE, "codex", sleep=sleep, clock=clock)
    assert result["status"] == "queued" and result["typed"] and not result["cleared"], result
    assert result["state"] == "waiting" and "not submitted" in result["message"]
    assert pane.typed == [NOTICE] and pane.keys == []


def test_a_piece_of_the_text_left_on_an_idle_input_line_is_cleared_and_not_submitted(monkeypatch, tmp_path):
    idle = T.Screen({"cursor_y": "36"}, fixture("codex-idle-finished"))
    piece = with_input("codex-idle-finished", "›", [NOTICE[21:116], NOTICE[116:]])
    pane = FakePane(idle, piece, {"C-u": idle})
    pane.lock = tmp_path / "lock"
    pane.install(monkeypatch)
    clock, sleep = clock_and_sleep()
    result = D.deliver(None, "%1", NOTICE, "codex", sleep=sleep, clock=clock)
    assert result["status"] == "queued" and result["cleared"] and result["state"] == "idle", result
    assert pane.keys == ["C-u"]


def test_the_whole_text_on_the_input_line_is_submitted(monkeypatch, tmp_path):
    idle = T.Screen({"cursor_y": "36"}, fixture("codex-idle-finished"))
    pane = FakePane(idle, with_input("codex-idle-finished", "›", WRAPPED), {"Enter": idle})
    pane.lock = tmp_path / "lock"
    pane.install(monkeypatch)
    clock, sleep = clock_and_sleep()
    result = D.deliver(None, "%1", NOTICE, "codex", sleep=sleep, clock=clock)
    assert result["status"] == "delivered" and pane.keys == ["Enter"], result


def test_a_submit_key_taken_as_a_new_line_of_the_paste_is_pressed_again(monkeypatch, tmp_path):
    # Codex reads keys that come fast as a paste: an early Enter adds a row under the text instead of submitting.
    idle = T.Screen({"cursor_y": "36"}, fixture("codex-idle-finished"))
    typed = with_input("codex-idle-finished", "›", WRAPPED)
    newline = T.Screen({"cursor_y": str(int(typed.facts["cursor_y"]) + 1)}, typed.lines)
    pane = FakePane(idle, typed, {"Enter": [newline, idle]})
    pane.lock = tmp_path / "lock"
    pane.install(monkeypatch)
    clock, sleep = clock_and_sleep()
    result = D.deliver(None, "%1", NOTICE, "codex", sleep=sleep, clock=clock)
    assert result["status"] == "delivered" and pane.keys == ["Enter", "Enter"], result


def test_a_line_by_line_program_that_took_the_text_left_it_above_the_cursor():
    """The terminal echoes what a line-reading program was typed; after Enter the cursor waits on an empty row
    below it: taken (whereas in a TUI's input box an empty row under the text is a new line of the input)."""
    text = "[orchestra] TASK-001 is assigned to you"
    typed = T.Screen({"cursor_y": "0"}, ["❯ " + text, ""])
    taken = T.Screen({"cursor_y": "1"}, ["❯ " + text, ""])
    simulated, codex = A.patterns_of("simulated"), A.patterns_of("codex")
    assert D.shows_whole(typed, text, simulated) and D.shows_whole(typed, text, codex)
    assert not D.shows_whole(taken, text, simulated)
    assert D.shows_whole(taken, text, codex)
    below = T.Screen({"cursor_y": "24"}, ["❯ " + text])  # capture-pane leaves out the blank rows at the bottom
    assert not D.shows_whole(below, text, simulated) and D.shows_whole(below, text, codex)
