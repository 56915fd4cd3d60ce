# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an agent is doing, from its pane's screen and process.

States: ``starting``, ``idle`` (at its prompt, ready for input), ``busy``
(working), ``waiting`` (a login, trust or permission dialog that needs a
person), ``limited`` (held by a usage or rate limit), ``dead`` (the pane is dead, or the CLI exited and left its shell
behind) and ``unknown``. ``classify`` is pure: per agent type a small table of
screen patterns, looked for in the last lines of the screen, plus the pane's
facts. ``observe`` reads a pane until the same state shows twice in a row,
because a TUI redrawing can show anything for a moment. Standard library only;
tests/unit/plugins/module_utils/fixtures/screens holds screens captured from
the real CLIs.
"""

from __future__ import annotations

import re
import time

try:
    from ansible_collections.moana.orchestration.plugins.module_utils import _process, _tmux
except ImportError:  # deployed with the orchestra command: the files sit side by side
    import _process  # type: ignore[no-redef]
    import _tmux  # type: ignore[no-redef]

SHELLS = frozenset(("sh", "bash", "dash", "zsh", "fish", "ksh", "mksh", "tcsh", "csh"))
# How many of the last non-blank lines the patterns look at.
TAIL = 14
# A pane whose program started less than this long ago and shows nothing known is starting.
STARTING_SECONDS = 30.0
# Where only motion tells work (Amp, generic): the screen must be still this long to read idle.
QUIET_SECONDS = 1.0
# Dialogs of every CLI: a list of numbered choices, one of them selected with a marker ("› 1. Trust and
# continue" / "  2. Back"), or a footer that says how to answer.
SELECTION_MARKERS = ("›", "❯", ">")
CHOICE = re.compile(r"^\s*(?:[›❯>]\s*)?(\d{1,2})[.)]\s+\S")
DIALOG_FOOTERS = ("enter continue", "enter/esc confirm")


class Patterns:
    """One agent type's screen patterns: substrings (case-insensitive) that mean waiting or busy, and the
    start of the line that is its input prompt (idle); and how it takes typed input: the key that submits
    it and the pause between typing and that key."""

    def __init__(self, waiting: tuple[str, ...] = (), busy: tuple[str, ...] = (), prompt: tuple[str, ...] = (),
                 box: bool = False, busy_when_changing: bool = False, prompt_last: bool = False,
                 submit_key: str = "Enter", submit_delay: float = 0.3, clear_key: str | None = None,
                 pasted: tuple[str, ...] = (), line_input: bool = False, limited: tuple[str, ...] = (),
                 retrying: str | None = None):
        self.waiting = tuple(w.lower() for w in waiting)
        self.busy = tuple(b.lower() for b in busy)
        self.prompt = prompt
        self.prompt_last = prompt_last  # a line-by-line program: only its last line says what it does
        self.box = box  # idle is an input box drawn with ╭ ... ╰ (Amp)
        self.busy_when_changing = busy_when_changing  # no busy text known: a screen that moves is working
        # The real TUIs take fast input as a paste: the submit key waits a moment.
        self.submit_key, self.submit_delay = submit_key, submit_delay
        # A program reading whole lines from the terminal: a line it took stays above the cursor, which waits
        # on an empty row (in a TUI's input box such a row may be a new line of the input, not a submit).
        self.line_input = line_input
        # The key that empties the input line (pressed again for each wrapped row), None when none is known.
        self.clear_key = clear_key
        # What the input line shows instead of a long paste (regular expressions; the groups ``chars`` and
        # ``lines`` are the paste's count of characters and of line breaks).
        self.pasted = tuple(re.compile(p) for p in pasted)
        # A usage or rate limit: lines (regular expressions, case-insensitive) that end a turn the limit cut
        # short, and the line of a CLI retrying on its own (its group ``seconds``: until the next try).
        self.limited = tuple(re.compile(p, re.I) for p in limited)
        self.retrying = re.compile(retrying, re.I) if retrying else None


PATTERNS = {
    # Claude Code 2.1: dialogs list choices after "❯ 1."; the prompt is a "❯" line between two rules;
    # while working the footer says "esc to interrupt" (and the prompt line stays).
    "claude": Patterns(
        waiting=("Yes, I trust this folder", "Do you want to use this API key", "Do you want to proceed?",
                 "Do you want to make this edit", "Do you want to create", "Select login method",
                 "Enter to confirm", "Press Enter to continue", "Choose the text style"),
        busy=("esc to interrupt",),
        prompt=("❯", ">"),
        # An Enter 0.02 s after the typed text was taken whole (20 of 20): 0.1 s leaves a margin.
        submit_delay=0.1, clear_key="C-u", pasted=(r"\[Pasted text #\d+(?: \+(?P<lines>\d+) lines?)?\]",),
        # Against a 429 it retries ("API error · Retrying in 19s · attempt 6/10"), then ends the turn with
        # "API Error: Request rejected (429) · ..."; a subscription's "usage limit reached ... reset(s) at 5pm".
        # Anchored at the line's start (its marker, then the words): a reply that talks of limits is no limit.
        limited=(r"^\s*[●⎿]?\s*API Error: Request rejected \(429\)",
                 r"^\s*[●⎿]?\s*(?:Claude )?(?:AI )?usage limit reached", r"^\s*[●⎿]?\s*\d+-hour limit reached"),
        retrying=r"^\s*\S?\s*API error · Retrying in (?P<seconds>\d+)s",
    ),
    # Codex 0.169: sign-in and approval screens; "• Working (3s • esc to interrupt)"; the prompt is a "›" line.
    "codex": Patterns(
        waiting=("Sign in with ChatGPT", "Press enter to continue", "Allow Codex to work in this folder",
                 "Would you like to run the following command", "Would you like to make the following edits",
                 "Press enter to confirm"),
        busy=("esc to interrupt",),
        prompt=("›",),
        # Keys that come fast are a paste, and an Enter within ~0.12 s of them a new line of it: 0.15 s
        # was the shortest pause whose Enter submitted 20 deliveries of 20; 0.25 s leaves a margin.
        submit_delay=0.25, clear_key="C-u", pasted=(r"\[Pasted Content (?P<chars>\d+) chars\]",),
        # "■ You've hit your usage limit. ... try again at 7:33 PM." (a typographic apostrophe on the screen);
        # "■ exceeded retry limit, last status: 429".
        limited=(r"^\s*■\s*You.ve hit your usage limit", r"^\s*■\s*exceeded retry limit, last status: 429"),
    ),
    # Amp: a login question and onboarding pages, then an input box; no busy text is known, so a screen
    # that changes between two reads (its spinner) counts as working.
    "amp": Patterns(
        waiting=("Would you like to log in to Amp", "Space to continue", "Enter to get started",
                 "Allow this command", "Approve", "esc to cancel"),
        box=True,
        busy_when_changing=True,
    ),
    # Any other program: at rest is idle, moving is busy.
    "generic": Patterns(busy_when_changing=True, line_input=True),
    # orchestra simulate: "working on TASK-..." while busy, a "❯" prompt when idle; it reads whole lines.
    "simulated": Patterns(busy=("working on",), prompt=("❯",), prompt_last=True, submit_delay=0.05, line_input=True),
}


def patterns_of(agent_type: str) -> Patterns:
    """The agent type's row (unknown types are generic programs)."""
    return PATTERNS.get(agent_type, PATTERNS["generic"])


def tail(lines: list[str], count: int = TAIL) -> list[str]:
    """The last ``count`` non-blank lines, right-stripped."""
    kept = [line.rstrip() for line in lines if line.strip()]
    return kept[-count:]


def _has_prompt(lines: list[str], prompt: tuple[str, ...]) -> bool:
    return any(line.lstrip().startswith(prompt) for line in lines) if prompt else False


def _has_choices(lines: list[str]) -> bool:
    """A dialog's numbered choices: the last line that starts with a selection marker is a numbered choice
    next to the one numbered one more or one less. (A numbered list typed earlier shows in a transcript
    with the marker too, but the input prompt's own marker line comes after it.)"""
    marked = [i for i, line in enumerate(lines) if line.lstrip().startswith(SELECTION_MARKERS)]
    if not marked:
        return False
    number = _choice_number(lines[marked[-1]])
    if number is None:
        return False
    around = [_choice_number(lines[i]) for i in (marked[-1] - 1, marked[-1] + 1) if 0 <= i < len(lines)]
    return number - 1 in around or number + 1 in around


def _choice_number(line: str) -> int | None:
    match = CHOICE.match(line)
    return int(match.group(1)) if match else None


def _has_box(lines: list[str]) -> bool:
    bottom = [i for i, line in enumerate(lines) if line.lstrip().startswith("╰")]
    return bool(bottom) and any(line.lstrip().startswith("╭") for line in lines[:bottom[-1]])


def classify(agent_type: str, lines: list[str], dead: bool = False, exited_to_shell: bool = False,
             age: float | None = None, previous: list[str] | None = None, still_for: float | None = None) -> str:
    """The state one screen shows (before the two-reads rule).

    ``lines`` is the visible screen; ``previous`` the screen of the read
    before and ``still_for`` the seconds it has not changed (for types whose
    only sign of work is a moving screen); ``age`` the seconds since the
    pane's program started.
    """
    if dead or exited_to_shell:
        return "dead"
    patterns = patterns_of(agent_type)
    last = tail(lines, 1 if patterns.prompt_last else TAIL)
    text = "\n".join(last).lower()
    if any(needle in text for needle in patterns.waiting + DIALOG_FOOTERS) or _has_choices(last):
        return "waiting"
    if limit_line(patterns, last) is not None:
        return "limited"
    if any(needle in text for needle in patterns.busy):
        return "busy"
    changing = previous is not None and tail(previous) != last
    if patterns.busy_when_changing and (changing or (still_for is not None and still_for < QUIET_SECONDS)):
        return "busy"
    if _has_prompt(last, patterns.prompt) or (patterns.box and _has_box(last)):
        return "idle"
    if patterns.busy_when_changing and previous is not None and last and not patterns.prompt and not patterns.box:
        return "idle"  # a generic program at rest
    if age is not None and age < STARTING_SECONDS:
        return "starting"
    return "unknown"


# What moves on a working screen without the work moving: timers and counts ("(12s · ↓ 21 tokens)",
# "Working (3s"), a spinner's glyph, and Claude Code's rotating tips.
_TICKING = re.compile(r"\d+")
_SPINNER = re.compile(r"^[·✢✳✶✻✽*•◦]\s*")  # Claude Code's spinner glyphs; Codex's bullet blinks • ◦
_TIMER = re.compile(r"\s*\(#+[smh]\b[^()]*\)")  # "(#s · ↓ #.#k tokens)", which shows once a turn is long


def progress_key(lines: list[str]) -> str:
    """The screen without what moves while nothing progresses (timers, counters, a spinner's glyph, tips):
    a busy agent whose key stays the same has made no visible progress."""
    kept = []
    for line in tail(lines):
        if "Tip:" in line:
            continue
        kept.append(_TIMER.sub("", _SPINNER.sub("", _TICKING.sub("#", line.strip()))))
    return "\n".join(kept)


def limit_line(patterns: Patterns, lines: list[str]) -> int | None:
    """The index of the line that says the agent is held by a usage or rate limit: its CLI retrying, or the
    last turn cut short by one, with no prompt typed since (only the input line's own marker after it)."""
    if patterns.retrying is not None:
        for index in range(len(lines) - 1, -1, -1):
            if patterns.retrying.search(lines[index]):
                return index
    for index in range(len(lines) - 1, -1, -1):
        if any(p.search(lines[index]) for p in patterns.limited):
            later = [line for line in lines[index + 1:] if line.lstrip().startswith(patterns.prompt)] \
                if patterns.prompt else []
            return index if len(later) <= 1 else None
    return None


_CLOCK = re.compile(r"\b(?:at|resets?)\s+(\d{1,2})(?::(\d{2}))?\s*([ap]\.?m\.?)?", re.I)
_EPOCH = re.compile(r"\|(\d{10})\b")
_IN = re.compile(r"\b(?:in|after)\s+(\d+)\s*(s|sec|seconds?|m|min|minutes?|h|hours?)\b", re.I)


def limit_facts(agent_type: str, lines: list[str], now: float) -> dict | None:
    """What a limited screen says: ``retrying`` (the CLI tries again by itself) and ``reset`` (when the limit
    lifts, seconds since the epoch: a retry's countdown, an epoch the message carries, 'in 20s', or a clock
    time 'at 7:33 PM', today or else tomorrow), None where it does not say. None when not limited."""
    patterns = patterns_of(agent_type)
    last = tail(lines)
    index = limit_line(patterns, last)
    if index is None:
        return None
    text = " ".join(last[index:index + 3])
    retrying = patterns.retrying.search(last[index]) if patterns.retrying else None
    reset = None
    if retrying:
        reset = now + int(retrying.group("seconds"))
    elif _EPOCH.search(text):
        reset = float(_EPOCH.search(text).group(1))
    elif _IN.search(text):
        amount, unit = _IN.search(text).groups()
        reset = now + int(amount) * {"s": 1, "m": 60, "h": 3600}[unit[0].lower()]
    elif _CLOCK.search(text):
        hour, minute, half = _CLOCK.search(text).groups()
        hour = int(hour) % 12 + (12 if half and half[0].lower() == "p" else 0) if half else int(hour)
        if hour < 24:
            local = time.localtime(now)
            at = time.mktime((local.tm_year, local.tm_mon, local.tm_mday, hour, int(minute or 0), 0, 0, 0, -1))
            reset = at if at > now else at + 86400
    return {"retrying": bool(retrying), "reset": reset}


def exited_to_shell(pid: int | None, current_command: str) -> bool:
    """The pane's first process is a shell with no child left: the CLI it ran has exited."""
    if not pid or current_command not in SHELLS:
        return False
    return not _process.has_children(pid)


class Tracker:
    """The two-reads rule across calls: a state is reported once two consecutive reads agree.

    A read older than ``max_age`` seconds does not count as the first of two:
    the agent may have worked and come back since.
    """

    def __init__(self, max_age: float = 2.0, clock=time.monotonic):
        self.max_age, self.clock = max_age, clock
        self.raw: dict[str, str] = {}
        self.seen_at: dict[str, float] = {}
        self.screens: dict[str, list[str]] = {}
        self.confirmed: dict[str, str] = {}
        self.stable: dict[str, bool] = {}  # the last read agreed with the one just before
        self.changed_at: dict[str, float] = {}  # when the screen last moved

    def see(self, key: str, raw: str, lines: list[str] | None = None) -> str:
        """Record one read; returns the state reported now (the last one two reads agreed on)."""
        now = self.clock()
        previous_at = self.seen_at.get(key)
        self.stable[key] = self.raw.get(key) == raw and previous_at is not None and now - previous_at <= self.max_age
        if self.stable[key]:
            self.confirmed[key] = raw
        self.raw[key] = raw
        self.seen_at[key] = now
        if lines is not None:
            self.screens[key] = lines
        return self.confirmed.get(key, "unknown")

    def forget(self, key: str) -> None:
        for table in (self.raw, self.seen_at, self.screens, self.confirmed, self.stable, self.changed_at):
            table.pop(key, None)


def read_state(server, pane_id: str, agent_type: str, tracker: Tracker, screen=False):
    """Read the pane once (or take ``screen`` already read), feed the tracker; returns (reported state,
    screen or None)."""
    if screen is False:
        screen = _tmux.read_screen(server, pane_id)
    if screen is None:
        return tracker.see(pane_id, "dead"), None
    current = screen.facts.get("pane_current_command", "")
    previous = tracker.screens.get(pane_id)
    now = tracker.clock()
    if previous is None or tail(previous) != tail(screen.lines):
        tracker.changed_at[pane_id] = now
    raw = classify(agent_type, screen.lines, screen.dead, exited_to_shell(screen.pid, current),
                   _process.age(screen.pid) if screen.pid else None, previous,
                   now - tracker.changed_at[pane_id] if previous is not None else None)
    return tracker.see(pane_id, raw, screen.lines), screen


def observe(server, pane_id: str, agent_type: str, interval: float = 0.1, reads: int = 4,
            tracker: Tracker | None = None, sleep=time.sleep):
    """Read until two consecutive reads agree (at most ``reads`` reads); returns (state, last screen).

    ``unknown`` when they never agree. A tracker that already saw the pane
    needs only one more read.
    """
    tracker = tracker or Tracker()
    state, screen = "unknown", None
    for attempt in range(reads):
        state, screen = read_state(server, pane_id, agent_type, tracker)
        if tracker.stable.get(pane_id):
            return state, screen
        if attempt + 1 < reads:
            sleep(interval)
    return "unknown", screen


def observe_many(server, panes: dict[str, str], interval: float = 0.05, reads: int = 4, sleep=time.sleep) -> dict[str, str]:
    """States of several panes ({pane id: agent type}), read in rounds so the two-reads rule costs one pause."""
    tracker = Tracker()
    states: dict[str, str] = {}
    todo = dict(panes)
    for attempt in range(reads):
        screens = _tmux.read_screens(server, list(todo))
        for pane_id, agent_type in list(todo.items()):
            read_state(server, pane_id, agent_type, tracker, screens.get(pane_id))
            if tracker.stable.get(pane_id):
                states[pane_id] = tracker.confirmed[pane_id]
                del todo[pane_id]
        if not todo:
            break
        if attempt + 1 < reads:
            sleep(interval)
    states.update({pane_id: "unknown" for pane_id in todo})
    return states


def add_states(server, panes: list[dict], types: dict[str, str]) -> None:
    """Give each pane (as ``_tmux.session_facts`` lists them) named in ``types`` (pane name: agent type) its
    ``state``, read with ``observe_many``."""
    typed = {p["pane_id"]: types[p["name"]] for p in panes if p["name"] in types}
    states = observe_many(server, typed) if typed else {}
    for pane in panes:
        if pane["pane_id"] in states:
            pane["state"] = states[pane["pane_id"]]


class StuckWatch:
    """Which agents are stuck: busy with no visible progress (the same ``progress_key``) for ``busy_seconds``,
    or waiting on a dialog for ``dialog_seconds`` (None: never). Fed one read per agent per scan; ``stuck``
    holds the stuck agents (reason and since when), each reported once per episode."""

    def __init__(self, busy_seconds: float | None, dialog_seconds: float | None, clock=time.time):
        self.limits = {"busy": busy_seconds, "waiting": dialog_seconds}
        self.clock = clock
        self.stuck: dict[str, dict] = {}
        self.marks: dict[str, tuple[str, str, float]] = {}  # name: (state, progress key, since)

    def see(self, name: str, state: str, key: str = "") -> tuple[str, dict] | None:
        """Record a read: ('stuck', entry) when the agent has just become stuck, ('moved', entry) when a stuck
        agent has just changed state or made progress (``entry["now"]`` its new state); otherwise None."""
        now = self.clock()
        mark = (state, key if state == "busy" else "")
        before = self.marks.get(name)
        if before is None or before[:2] != mark:
            self.marks[name] = mark + (now,)
            if name in self.stuck:
                return "moved", dict(self.stuck.pop(name), now=state)
            return None
        limit, since = self.limits.get(state), before[2]
        if limit is None or name in self.stuck or now - since < limit:
            return None
        what = ("busy with an unchanged screen" if state == "busy" else "waiting on a dialog for a person")
        self.stuck[name] = {"state": state, "since": since, "reason": "%s for %d s" % (what, now - since)}
        return "stuck", self.stuck[name]

    def forget(self, name: str) -> None:
        self.stuck.pop(name, None)
        self.marks.pop(name, None)
