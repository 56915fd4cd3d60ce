# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Typing a message into an agent's pane so that its CLI receives it as one submitted prompt.

What agent CLIs need (see docs/architecture.md, "Delivery"): text without
control or escape characters (a board message must never drive the
terminal); short single-line text typed as literal keys, anything longer
pasted from a tmux buffer with bracketed paste, so a TUI takes it as one
input; the submit key sent on its own after a pause; and a check that the
text left the input line, with the submit key retried a few times, because a
TUI busy redrawing can drop a key. Only an idle agent is typed to; otherwise
the caller is told to queue. Before the submit key, the whole text must show on
the input line, ending at the cursor: a dialog that came up and took keys, or a
paste cut short, would otherwise submit a part of it (or answer the dialog).
Then nothing is submitted, what was typed is cleared when the input line holds
only it, and the caller is told to queue. Standard library only.
"""

from __future__ import annotations

import os
import threading
import time

try:
    from ansible_collections.moana.orchestration.plugins.module_utils import _agents, _board_store as store_lib, _tmux
except ImportError:  # deployed with the orchestra command: the files sit side by side
    import _agents  # type: ignore[no-redef]
    import _board_store as store_lib  # type: ignore[no-redef]
    import _tmux  # type: ignore[no-redef]

# Single-line text up to this many characters is typed as keys; longer text is pasted.
LITERAL_LIMIT = 200
# Bytes per set-buffer command (tmux refuses messages over 16 KiB).
CHUNK_BYTES = 4000
# Seconds the typed text may take, past the submit pause, to show whole on the input line: a loaded
# machine can take seconds to echo a paste, and only a text a dialog swallowed waits this long.
SHOW_TIMEOUT = 5.0
# A text longer than the screen shows only its end: this many of its last characters (whitespace aside)
# filling the screen up to the cursor count as the whole.
OVERFLOW_CHARS = 200


class DeliveryError(RuntimeError):
    """The text cannot be delivered as given (empty once cleaned, unknown pane)."""


def sanitise(text: str) -> str:
    """Drop escape sequences and control characters; keep newlines (CR and CRLF become LF) and turn tabs
    into spaces. Nothing that reaches a pane can move its cursor, change its modes or end a paste."""
    out: list[str] = []
    i, size = 0, len(text)
    while i < size:
        char = text[i]
        code = ord(char)
        if char == "\x1b":
            i = _skip_escape(text, i)
            continue
        if char == "\r":
            out.append("\n")
            i += 2 if text.startswith("\r\n", i) else 1
            continue
        if char == "\t":
            out.append(" ")
        elif char == "\n" or (code >= 0x20 and code != 0x7F and not 0x80 <= code <= 0x9F):
            out.append(char)
        i += 1
    return "".join(out).strip("\n")


def _skip_escape(text: str, start: int) -> int:
    """Index just past the escape sequence starting at ``start`` (CSI, OSC/DCS/APC strings, or ESC + one)."""
    i = start + 1
    if i >= len(text):
        return i
    kind = text[i]
    if kind == "[":  # CSI: parameters and intermediates, then one final byte 0x40-0x7e
        i += 1
        while i < len(text) and not 0x40 <= ord(text[i]) <= 0x7E:
            i += 1
        return i + 1
    if kind in "]PX^_":  # strings ended by BEL or ESC \
        i += 1
        while i < len(text):
            if text[i] == "\x07":
                return i + 1
            if text[i] == "\x1b":
                return i + 2 if text.startswith("\x1b\\", i) else i
            i += 1
        return i
    return i + 1


def chunks(text: str, limit: int = CHUNK_BYTES) -> list[str]:
    """Cut text into pieces of at most ``limit`` UTF-8 bytes, never inside a character."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in text:
        length = len(char.encode("utf-8"))
        if current and size + length > limit:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += length
    if current:
        pieces.append("".join(current))
    return pieces


def as_keys(text: str) -> bool:
    """Whether the (clean) text is typed as keys rather than pasted."""
    return "\n" not in text and len(text) <= LITERAL_LIMIT


def _input_mark(screen) -> tuple:
    return (screen.facts.get("cursor_y"), screen.cursor_line) if screen else (None, "")


def squeeze(text: str) -> str:
    """The text without whitespace: how it compares with a screen that wrapped and indented it."""
    return "".join(text.split())


def _up_to_cursor(screen) -> list[str]:
    row = screen.facts.get("cursor_y", "")
    row = int(row) if row.isdigit() else len(screen.lines) - 1
    rows = [line.rstrip() for line in screen.lines[:row + 1]]
    return rows + [""] * (row + 1 - len(rows))  # capture-pane leaves out the blank rows at the bottom


def shows_whole(screen, clean: str, patterns=None) -> bool:
    """Whether the screen shows all of ``clean`` on the input line, ending at the cursor.

    Wrapping, indentation and the prompt marker do not count (whitespace is
    ignored and only the end must match); a text too long for the screen
    counts when the screen up to the cursor is all its end; a paste that the
    CLI shows as a placeholder (``Patterns.pasted``) counts when the
    placeholder is on the cursor's line and its count of characters or lines
    (when it has one) is the text's.
    """
    if screen is None:
        return False
    rows = _up_to_cursor(screen)
    if patterns is not None and patterns.line_input and (not rows or not rows[-1].strip()):
        return False  # a line-by-line program took the text and left it above the cursor
    shown, want = squeeze("".join(rows)), squeeze(clean)
    if shown.endswith(want):
        return True
    if len(shown) >= OVERFLOW_CHARS and want.endswith(shown):
        return True
    for placeholder in patterns.pasted if patterns else ():
        match = placeholder.search(rows[-1]) if rows else None
        if match:
            counts = match.groupdict()
            if counts.get("chars") and int(counts["chars"]) != len(clean):
                continue
            if counts.get("lines") and int(counts["lines"]) != clean.count("\n"):
                continue
            return True
    return False


def _own_input(screen, clean: str, patterns) -> bool:
    """The input line (from its prompt marker to the cursor) holds something, and only a piece of ``clean``."""
    rows = _up_to_cursor(screen)
    starts = [i for i, line in enumerate(rows) if line.lstrip().startswith(patterns.prompt)] if patterns.prompt else []
    if not starts:
        return False
    first = rows[starts[-1]].lstrip()
    marker = next(m for m in patterns.prompt if first.startswith(m))
    held = squeeze(first[len(marker):] + "".join(rows[starts[-1] + 1:]))
    return bool(held) and held in squeeze(clean)


def _clear_own_input(server, pane_id: str, agent_type: str, clean: str, sleep) -> bool:
    """Empty the input line with the CLI's clear key while it holds only a piece of ``clean`` and the agent
    reads idle (never keys into a dialog); returns whether it holds none of it now."""
    patterns = _agents.patterns_of(agent_type)
    screen = _tmux.read_screen(server, pane_id)
    if not patterns.clear_key or screen is None:
        return False
    for dummy in range(len(_up_to_cursor(screen)) + 1):  # the key clears one wrapped row at a time
        if _agents.classify(agent_type, screen.lines) != "idle" or not _own_input(screen, clean, patterns):
            break
        _tmux.send_key(server, pane_id, patterns.clear_key)
        sleep(0.1)
        screen = _tmux.read_screen(server, pane_id)
        if screen is None:
            return False
    return _agents.classify(agent_type, screen.lines) == "idle" and not _own_input(screen, clean, patterns)


def wait_for_idle(server, pane_id: str, agent_type: str, timeout: float, tracker=None, poll: float = 0.05,
                  sleep=time.sleep, clock=time.monotonic, ready=("idle",)):
    """Wait up to ``timeout`` for the agent to be idle (a state of ``ready``); returns (state, screen) as last
    seen."""
    tracker = tracker or _agents.Tracker()
    deadline = clock() + timeout
    while True:
        state, screen = _agents.observe(server, pane_id, agent_type, poll, tracker=tracker, sleep=sleep)
        if state in ready or state == "dead" or clock() >= deadline:
            return state, screen
        sleep(poll)


def deliver(server, pane_id: str, text: str, agent_type: str = "generic", submit_key: str | None = None,
            submit_delay: float | None = None, wait_timeout: float = 30.0, retries: int = 3, tracker=None,
            sleep=time.sleep, clock=time.monotonic, ready=("idle",)) -> dict:
    """Type ``text`` into the pane and submit it, once the agent is idle (a state of ``ready``: the dispatcher
    tells an agent at its prompt under a usage limit that the limit lifted).

    ``submit_key`` and ``submit_delay`` default to the agent type's (``_agents.PATTERNS``).
    The pane is held (``_tmux.pane_lock``) from the idle check to the
    submit check, so no other process types into it meanwhile; waiting for
    the lock counts in ``wait_timeout``.

    Returns ``status``: ``delivered`` (the text left the input line),
    ``queued`` (the agent was not idle within ``wait_timeout``, or another
    process was typing into it: nothing was typed; or, with ``typed``, the
    whole text never showed on the input line: nothing was submitted, and
    ``cleared`` says whether what was typed was taken off it; ``state`` says
    what the agent shows) or ``failed`` (typed, but still on the input line
    after ``retries`` more presses of the submit key).
    """
    clean = sanitise(text)
    if not clean:
        raise DeliveryError("the message is empty once control characters are removed; nothing to send")
    started = clock()
    result = {"state": "busy", "method": "keys" if as_keys(clean) else "paste", "attempts": 0,
              "text": clean, "waited": 0.0}
    try:
        with _tmux.pane_lock(server, pane_id, wait_timeout, sleep=sleep, clock=clock):
            remaining = max(0.0, wait_timeout - (clock() - started))
            _deliver_held(server, pane_id, clean, agent_type, submit_key, submit_delay, remaining, retries, tracker,
                          sleep, clock, result, ready)
    except _tmux.PaneBusy as exc:
        result.update(status="queued", message="%s: nothing typed" % exc)
    result["waited"] = round(clock() - started, 3)
    return result


def _deliver_held(server, pane_id: str, clean: str, agent_type: str, submit_key: str | None,
                  submit_delay: float | None, wait_timeout: float, retries: int, tracker, sleep, clock,
                  result: dict, ready=("idle",)) -> None:
    """``deliver``'s work once the pane is held: wait for idle, type, submit, check; fills ``result``."""
    state, screen = wait_for_idle(server, pane_id, agent_type, wait_timeout, tracker, sleep=sleep, clock=clock,
                                  ready=ready)
    result["state"] = state
    if state not in ready:
        result.update(status="queued", message="agent is %s, not idle, after %.0f s: nothing typed" % (state, wait_timeout))
        return
    if screen is not None and screen.in_mode:
        _tmux.leave_mode(server, pane_id)
    if result["method"] == "keys":
        _tmux.type_text(server, pane_id, clean)
    else:
        _tmux.paste_text(server, pane_id, chunks(clean), "moana-%d-%s" % (os.getpid(), pane_id.lstrip("%")))
    patterns = _agents.patterns_of(agent_type)
    sleep(patterns.submit_delay if submit_delay is None else submit_delay)
    screen = _tmux.read_screen(server, pane_id)
    deadline = clock() + SHOW_TIMEOUT
    while not shows_whole(screen, clean, patterns):
        if clock() >= deadline:
            cleared = _clear_own_input(server, pane_id, agent_type, clean, sleep)
            now = _tmux.read_screen(server, pane_id)
            result.update(status="queued", typed=True, cleared=cleared,
                          state=_agents.classify(agent_type, now.lines) if now else "dead",
                          message="typed, but the whole text never showed on the input line (a dialog or a cut "
                                  "paste?): not submitted, %s" % ("cleared" if cleared else "left as it is"))
            return
        sleep(0.05)
        screen = _tmux.read_screen(server, pane_id)
    typed = _input_mark(screen)
    key = submit_key or patterns.submit_key
    pause = 0.1
    for attempt in range(retries + 1):
        _tmux.send_key(server, pane_id, key)
        result["attempts"] = attempt + 1
        for dummy in range(4):  # give the CLI a moment to take the line
            sleep(pause)
            after = _tmux.read_screen(server, pane_id)
            # A TUI that took the key as part of a paste moved the cursor to a new row, text still above it.
            if _input_mark(after) != typed and not shows_whole(after, clean, patterns):
                result.update(status="delivered", message="delivered")
                return
        pause *= 2
    result.update(status="failed",
                  message="typed, but the text is still on the input line after %d presses of %s" % (retries + 1, key))


# Messages that could not be typed yet wait in <queue_dir>/<agent>/ as one file each,
# oldest first by name; the dispatcher types them when the agent is idle.
def enqueue(queue_dir: str, agent: str, text: str) -> str:
    """Leave ``text`` for ``agent`` in the queue; returns the file written (0600, written whole, in 0700 folders)."""
    if not agent or "/" in agent or agent.startswith("."):
        raise DeliveryError("agent name %r cannot name a queue folder" % agent)
    folder = os.path.join(queue_dir, agent)
    store_lib.make_dirs(folder)  # the queue and the agent's folder, 0700
    path = os.path.join(folder, "%020d-%d.txt" % (time.time_ns(), os.getpid()))
    store_lib.atomic_write(path, text, 0o600)
    return path


def queued(queue_dir: str, agent: str) -> list[str]:
    """The files waiting for ``agent``, oldest first."""
    folder = os.path.join(queue_dir, agent)
    try:
        names = sorted(n for n in os.listdir(folder) if n.endswith(".txt") and not n.startswith("."))
    except OSError:
        return []
    return [os.path.join(folder, n) for n in names]


def deliver_all(server, items: list[dict], wait_timeout: float = 30.0, retries: int = 3) -> list[dict]:
    """Deliver several messages to several panes at once, each as soon as its agent is idle.

    ``items``: dicts with ``pane_id``, ``text`` and optionally ``agent_type``,
    ``submit_key``, ``submit_delay``. One thread per pane (tmux serves them in
    turn; the waiting overlaps), so a team of 32 takes about as long as one
    agent. Returns one result per item, in order.
    """
    results: list[dict] = [{} for dummy in items]

    def one(index: int, item: dict) -> None:
        try:
            results[index] = deliver(server, item["pane_id"], item["text"], item.get("agent_type") or "generic",
                                     item.get("submit_key"), item.get("submit_delay"), wait_timeout, retries)
        except (DeliveryError, _tmux.TmuxError) as exc:
            results[index] = {"status": "failed", "state": "unknown", "method": "", "attempts": 0, "waited": 0.0,
                              "message": str(exc)}

    threads = [threading.Thread(target=one, args=(index, item), daemon=True) for index, item in enumerate(items)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results
