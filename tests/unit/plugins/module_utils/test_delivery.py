"""Cleaning and cutting what is typed into panes."""

from __future__ import annotations

import pytest

from ansible_collections.moana.orchestration.plugins.module_utils import _delivery as D


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
