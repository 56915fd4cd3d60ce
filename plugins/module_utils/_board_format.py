# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The board's format: markers, entries, the status table; parse and render. Standard library only.

The board keeps the four sections of the original scripts, each between
markers, in the markdown shape people and agents already read and edit by
hand:

    <!-- BEGIN moana.orchestration: task-queue -->
    ## Task Assignment Queue
    <!-- last-id: TASK-002 -->

    ### [TASK-002] Add a login form
    - **Assigned To**: amp
    - **Priority**: HIGH
    - **Status**: PENDING
    - **Description**: ...
    - **Files Involved**: src/login.tsx
    - **Date**: 2026-11-24 14:30

    <!-- END moana.orchestration: task-queue -->

Everything outside the markers is the user's and is written back byte for
byte, as is every managed entry an operation did not touch. Nothing is read
that an operation does not need: the markers are found with ``str.find``, a
section is looked at only when asked for, an entry is found by searching for
its ``### [ID]`` header, and its fields are parsed only when read. Rendering
splices what changed into the text it was parsed from, so the cost of an
operation does not grow with the entries it does not touch.

This module imports nothing that costs start-up time (no ``re``, ``os`` or
``datetime`` at import): the ``orchestra`` command loads it on every call.
"""

from __future__ import annotations

import time

_MARKER_HEAD = "<!-- "
_MARKER_ORIGIN = " moana.orchestration: "
_MARKER_TAIL = " -->"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_LAST_ID_HEAD = "<!-- last-id: "
_BOARD_ID_HEAD = "<!-- board-id: "
_HEX = frozenset("0123456789abcdef")

DATE_FORMAT = "%Y-%m-%d %H:%M"
PRIORITIES = ("HIGH", "MEDIUM", "LOW")
TASK_STATUSES = ("PENDING", "IN_PROGRESS", "BLOCKED", "FAILED")
AGENT_STATES = ("IDLE", "IN_PROGRESS", "BLOCKED", "OFFLINE")
TASK_FIELDS = ("Assigned To", "Priority", "Status", "Description", "Files Involved", "Date", "Started", "Reason")
COMPLETION_FIELDS = ("Completed By", "Date", "Duration", "Changes Made", "Files Modified")
MESSAGE_FIELDS = ("From", "To", "Date", "Text")
STATUS_COLUMNS = ("Agent", "Role", "State", "Current Task", "Last Update")


class SectionKind:
    """One kind of managed section: marker name, markdown heading, id prefix of its
    entries (None for the status table) and field or column order."""

    __slots__ = ("name", "title", "prefix", "fields")

    def __init__(self, name: str, title: str, prefix: str | None, fields: tuple[str, ...]):
        self.name, self.title, self.prefix, self.fields = name, title, prefix, fields


TASKS = SectionKind("task-queue", "Task Assignment Queue", "TASK", TASK_FIELDS)
COMPLETIONS = SectionKind("completion-log", "Task Completion Log", "TASK", COMPLETION_FIELDS)
STATUS = SectionKind("llm-status", "Current LLM Status", None, STATUS_COLUMNS)
MESSAGES = SectionKind("messages", "Inter-LLM Messages", "MSG", MESSAGE_FIELDS)
SECTIONS = (TASKS, COMPLETIONS, STATUS, MESSAGES)
SECTION_BY_NAME = {kind.name: kind for kind in SECTIONS}


class BoardError(ValueError):
    """A board that cannot be read or an operation that cannot be done; names the problem and the fix."""


class BoardParseError(BoardError):
    """The board file is malformed; nothing was written."""

    def __init__(self, path: str | None, line: int, problem: str):
        self.path, self.line, self.problem = path, line, problem
        super().__init__("%s:%d: %s" % (path or "<board>", line, problem))


class NotFound(BoardError):
    """No task, message, section or board with that name."""


class Conflict(BoardError):
    """The operation clashes with the board's state (a task another agent holds, ...)."""


class LockTimeout(BoardError):
    """Another writer held the board's lock for longer than the timeout."""


# --------------------------------------------------------------------------- lines

# Parsing uses string methods, not the re module: importing re costs about
# as much as the rest of an `orchestra` command (see bench/board_cli.py).


def match_marker(line: str):
    """('BEGIN' | 'END', name) for a marker line, else None."""
    if not line.startswith(_MARKER_HEAD):
        return None
    body = line.rstrip(" \t")
    if not body.endswith(_MARKER_TAIL):
        return None
    body = body[len(_MARKER_HEAD):-len(_MARKER_TAIL)]
    kind, sep, name = body.partition(_MARKER_ORIGIN)
    if not sep or kind not in ("BEGIN", "END") or not name or not _NAME_CHARS.issuperset(name):
        return None
    return kind, name


def _split_id(text: str):
    """'TASK-007' -> ('TASK', 7); None when it is not an id."""
    prefix, sep, number = text.partition("-")
    if sep and prefix.isalpha() and prefix.isupper() and number.isdigit() and number.isascii():
        return prefix, int(number)
    return None


def id_number(entry_id: str) -> int:
    """The number of an entry id ('MSG-012' -> 12); 0 when it has none."""
    number = entry_id.rpartition("-")[2]
    return int(number) if number.isdigit() and number.isascii() else 0


def match_header(line: str):
    """For '### [ID] rest': (ID or None, rest); None when the line is not an entry header."""
    if not line.startswith("### "):
        return None
    text = line[4:].strip()
    if text.startswith("["):
        close = text.find("]")
        if close > 0 and _split_id(text[1:close]) and (close + 1 == len(text) or text[close + 1] in " \t"):
            return text[1:close], text[close + 1:].strip()
    return None, text


def match_field(line: str):
    """(name, value) for '- **Name**: value', else None."""
    if not line.startswith("- **"):
        return None
    end = line.find("**:", 4)
    if end <= 4 or "*" in line[4:end]:
        return None
    value = line[end + 3:]
    if value[:1] in (" ", "\t"):
        value = value[1:]
    return line[4:end].strip(), value.rstrip()


def match_last_id(line: str):
    """('TASK', 7) for the '<!-- last-id: TASK-007 -->' counter line, else None."""
    body = line.rstrip(" \t")
    if body.startswith(_LAST_ID_HEAD) and body.endswith(_MARKER_TAIL):
        return _split_id(body[len(_LAST_ID_HEAD):-len(_MARKER_TAIL)])
    return None


def last_id_line(prefix: str, number: int) -> str:
    return "%s%s-%03d%s" % (_LAST_ID_HEAD, prefix, number, _MARKER_TAIL)


def match_board_id(line: str) -> str | None:
    """The id of a '<!-- board-id: 1f0c... -->' line, else None."""
    body = line.rstrip(" \t")
    if body.startswith(_BOARD_ID_HEAD) and body.endswith(_MARKER_TAIL):
        value = body[len(_BOARD_ID_HEAD):-len(_MARKER_TAIL)].strip()
        if value and _HEX.issuperset(value):
            return value
    return None


def board_id_line(board_id: str) -> str:
    return "%s%s%s" % (_BOARD_ID_HEAD, board_id, _MARKER_TAIL)


def highest_ids(text: str, prefixes=("TASK", "MSG")) -> dict[str, int]:
    """The highest number written for each id prefix anywhere in ``text``, as '[TASK-007]' or in a
    'last-id: TASK-007' counter; 0 for none. (For sections being created or adopted: their numbering
    resumes after every id the board or its archive ever showed.)"""
    result = {}
    for prefix in prefixes:
        highest = 0
        for head, close in (("[%s-" % prefix, "]"), ("last-id: %s-" % prefix, " ")):
            at = text.find(head)
            while at >= 0:
                start = end = at + len(head)
                while end < len(text) and "0" <= text[end] <= "9":
                    end += 1
                if end > start and text.startswith(close, end):
                    highest = max(highest, int(text[start:end]))
                at = text.find(head, end)
        result[prefix] = highest
    return result


def split_lines(text: str) -> list[str]:
    """The lines of ``text`` without their endings (LF or CRLF); a final line ending starts no line."""
    if not text:
        return []
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    if "\r" in text:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines


def _ends_blank(text: str) -> bool:
    """Whether the last line of ``text`` (which ends with a line ending) is empty; True for no text,
    where nothing needs separating."""
    return not text or text in ("\n", "\r\n") or text.endswith("\n\n") or text.endswith("\n\r\n")


def clean_value(value: str) -> str:
    """A field value as it can be written: no CR, no lines that would read as markup of ours."""
    lines = str(value).replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out = []
    for line in lines:
        stripped = line.strip()
        # A continuation line must not start a new entry or close a section.
        if stripped.startswith("###") or stripped.startswith("<!--"):
            line = "\\" + stripped
        out.append(line.rstrip())
    return "\n".join(out).strip("\n")


# --------------------------------------------------------------------------- dates

# Dates are local wall-clock times with minute resolution, compared as minutes
# since 0001-01-01 (as naive datetimes would be), so neither the datetime nor
# the _strptime module (which loads re) is imported on an operation's path.
_DAYS_BEFORE_MONTH = (0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334)
_DAYS_IN_MONTH = (31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _is_leap(year: int) -> bool:
    return year % 4 == 0 and (year % 100 != 0 or year % 400 == 0)


def _ordinal(year: int, month: int, day: int) -> int:
    """Days since 0000-12-31, as ``datetime.date.toordinal``."""
    before = year - 1
    return (before * 365 + before // 4 - before // 100 + before // 400 + _DAYS_BEFORE_MONTH[month - 1]
            + (1 if month > 2 and _is_leap(year) else 0) + day)


def _date_parts(value: str):
    """(year, month, day, hour, minute) of a 'YYYY-MM-DD HH:MM' date, else None."""
    parts = str(value).split()
    if len(parts) != 2:
        return None
    date, clock = parts[0].split("-"), parts[1].split(":")
    numbers = date + clock
    if len(date) != 3 or len(clock) != 2 or not all(n.isdigit() and n.isascii() for n in numbers):
        return None
    if len(date[0]) != 4 or any(len(n) > 2 for n in numbers[1:]):
        return None
    year, month, day, hour, minute = (int(n) for n in numbers)
    if not (1 <= month <= 12 and hour < 24 and minute < 60 and year >= 1):
        return None
    if not 1 <= day <= _DAYS_IN_MONTH[month - 1] + (1 if month == 2 and _is_leap(year) else 0):
        return None
    return year, month, day, hour, minute


def minutes(value) -> float | None:
    """A date as minutes since 0001-01-01: a 'YYYY-MM-DD HH:MM' text (None when it is not one),
    a datetime, or None for now."""
    if value is None:
        now = time.localtime()
        return _ordinal(now.tm_year, now.tm_mon, now.tm_mday) * 1440 + now.tm_hour * 60 + now.tm_min
    if not isinstance(value, str):  # a datetime
        return (value.toordinal() * 1440 + value.hour * 60 + value.minute + value.second / 60
                + value.microsecond / 60e6)
    parts = _date_parts(value)
    if parts is None:
        return None
    year, month, day, hour, minute = parts
    return _ordinal(year, month, day) * 1440 + hour * 60 + minute


def format_date(value=None) -> str:
    """A datetime (None: now) as the board writes dates."""
    return time.strftime(DATE_FORMAT) if value is None else value.strftime(DATE_FORMAT)


def parse_date(value: str):
    """A board date as a datetime, None when it is not one."""
    parts = _date_parts(value)
    if parts is None:
        return None
    import datetime  # only here: its import costs a sixth of an `orchestra` command

    return datetime.datetime(*parts)


def now():
    """The current time as a datetime, to the minute."""
    import datetime  # see parse_date

    return datetime.datetime.now().replace(second=0, microsecond=0)


# --------------------------------------------------------------------------- entries


# Plain classes rather than dataclasses: importing dataclasses costs more than
# a whole `orchestra` command is allowed to take (see bench/board_cli.py).
class Entry:
    """One ``### [ID] ...`` block: fields in order, plus lines that are not fields (kept).

    ``raw`` holds the entry's exact text (header to the next header, line
    endings included), written back while the entry is unchanged; its fields
    are parsed only when asked for. ``start`` is where the entry began in its
    section's text (None for a new entry).
    """

    __slots__ = ("entry_id", "heading", "_fields", "_notes", "raw", "start")

    def __init__(self, entry_id: str, heading: str, fields: dict | None = None, notes: list | None = None,
                 raw: str | None = None, start: int | None = None):
        self.entry_id = entry_id
        self.heading = heading  # the text after the id on the header line
        self._fields = fields if fields is not None or raw is not None else {}
        self._notes = notes if notes is not None or raw is not None else []
        self.raw = raw
        self.start = start

    def _parse_raw(self) -> None:
        fields: dict = {}
        notes: list = []
        last_field = None
        for line in split_lines(self.raw)[1:]:
            found = match_field(line)
            if found:
                last_field = found[0]
                fields[last_field] = found[1]
            elif line.startswith("  ") and last_field is not None and line.strip():
                fields[last_field] += "\n" + line[2:].rstrip()
            elif line.strip():
                notes.append(line)
                last_field = None
            else:
                last_field = None
        self._fields, self._notes = fields, notes

    @property
    def fields(self) -> dict:
        if self._fields is None:
            self._parse_raw()
        return self._fields

    @fields.setter
    def fields(self, value: dict) -> None:
        self._fields = value
        if self._notes is None:
            self._notes = []
        self.raw = None

    @property
    def notes(self) -> list:
        if self._notes is None:
            self._parse_raw()
        return self._notes

    def get(self, name: str, default: str = "") -> str:
        if self._fields is None:
            # One single-line field read from the text, without parsing the others.
            needle = "\n- **%s**:" % name
            at = self.raw.find(needle)
            if at < 0:
                return default if name not in self.raw else self.fields.get(name, default)
            end = self.raw.find("\n", at + len(needle))
            end = len(self.raw) if end < 0 else end
            if self.raw.startswith("  ", end + 1) or self.raw.find(needle, end) >= 0:
                return self.fields.get(name, default)  # continued, or given twice: the full parse decides
            value = self.raw[at + len(needle):end].rstrip()
            return value[1:] if value[:1] in (" ", "\t") else value
        return self._fields.get(name, default)

    def set(self, name: str, value: str) -> None:
        if self.fields.get(name) != value:
            self.notes  # noqa: B018 - parse the notes too before the raw text goes
            self.fields[name] = value
            self.raw = None

    def drop(self, name: str) -> None:
        if name in self.fields:
            self.notes  # noqa: B018 - parse the notes too before the raw text goes
            del self.fields[name]
            self.raw = None

    def lines(self, order: tuple[str, ...]) -> list[str]:
        """The entry as written anew: header, fields in ``order`` (others after), notes, a blank line."""
        lines = ["### [%s]%s" % (self.entry_id, " " + self.heading if self.heading else "")]
        names = [name for name in order if name in self.fields] + [name for name in self.fields if name not in order]
        for name in names:
            first, *rest = clean_value(self.fields[name]).split("\n")
            lines.append("- **%s**: %s" % (name, first))
            lines.extend("  " + more for more in rest)
        lines.extend(self.notes)
        lines.append("")
        return lines

    def render(self, order: tuple[str, ...], newline: str = "\n") -> str:
        """The entry's text: its original bytes while unchanged."""
        if self.raw is not None:
            return self.raw
        return newline.join(self.lines(order)) + newline

    def as_dict(self) -> dict:
        return {"id": self.entry_id, "heading": self.heading, "fields": dict(self.fields)}


def _header_line(text: str, start: int) -> str:
    end = text.find("\n", start)
    line = text[start:] if end < 0 else text[start:end]
    return line[:-1] if line.endswith("\r") else line


def _entry_end(text: str, start: int, stop: int) -> int:
    """Where the entry whose header begins at ``start`` ends: at the next line starting with '### '."""
    following = text.find("\n### ", start, stop)
    return stop if following < 0 else following + 1


def entries_of(text: str) -> list[Entry]:
    """The TASK and MSG entries in a text (the archive); malformed ones are skipped."""
    entries = []
    start = 0 if text.startswith("### ") else _entry_end(text, 0, len(text))
    while start < len(text):
        end = _entry_end(text, start, len(text))
        found = match_header(_header_line(text, start))
        if found and found[0] and found[0].split("-")[0] in ("TASK", "MSG"):
            entries.append(Entry(found[0], found[1], raw=text[start:end]))
        start = end
    return entries


class EntrySection:
    """A managed section made of entries (task queue, completion log, messages), over its exact text.

    The section is ``source[low:high]`` (the file's text, not a copy of it).
    Until the whole list is asked for (``entries``), the section only knows
    the entries found by id (``find``), those removed and those added, and
    renders by splicing them into its text; the headers of the other entries
    are never looked at. ``entries`` indexes every header and checks them (an
    id, its prefix, no duplicates); from then on the list is the section's
    content.
    """

    def __init__(self, kind: SectionKind, source: str = "", low: int = 0, high: int | None = None,
                 path: str | None = None, first_line=None, newline: str = "\n"):
        self.kind = kind
        self.path = path
        self.newline = newline
        self.source, self.low = source, low
        self.high = len(source) if high is None else high
        self._first_line = first_line  # () -> line number of the section's first line, for errors
        if source.startswith("### ", low, self.high):
            self._head = low
        else:
            following = source.find("\n### ", low, self.high)
            self._head = self.high if following < 0 else following + 1
        self.preamble = split_lines(source[low:self._head])  # heading, counter, user notes
        self._preamble_changed = False
        self.last_id = None  # from the ``<!-- last-id: ... -->`` counter, None when absent
        for line in self.preamble:
            counter = match_last_id(line)
            if counter and counter[0] == kind.prefix:
                self.last_id = counter[1]
        self._entries: list[Entry] | None = None
        self._found: dict[str, Entry] = {}  # original entries found by id, not removed
        self._removed: list[Entry] = []
        self._added: list[Entry] = []
        self.dirty = False

    def _line(self, position: int) -> int:
        first = self._first_line() if self._first_line else 1
        return first + self.source.count("\n", self.low, position)

    def _problem(self, position: int, text: str) -> BoardParseError:
        return BoardParseError(self.path, self._line(position), text)

    def _header_at(self, start: int):
        """(id, heading) of the header at ``start``; BoardParseError when it has no id of this section."""
        line = _header_line(self.source, start)
        entry_id, heading = match_header(line)
        kind = self.kind
        if entry_id is None:
            raise self._problem(start, "entry %r in %s has no id; write it as '### [%s-001] %s'"
                                % (line, kind.title, kind.prefix, heading))
        if not entry_id.startswith(kind.prefix + "-"):
            raise self._problem(start, "entry id %s does not belong in %s (ids there start with %s-)"
                                % (entry_id, kind.title, kind.prefix))
        return entry_id, heading

    @property
    def entries(self) -> list[Entry]:
        """Every entry, in order (indexes and checks all headers, once)."""
        if self._entries is None:
            known = {entry.start: entry for entry in self._found.values()}
            removed = {entry.start for entry in self._removed}
            source, high, seen, entries = self.source, self.high, {}, []
            start = self._head
            while start < high:
                end = _entry_end(source, start, high)
                entry_id, heading = self._header_at(start)
                if entry_id in seen:
                    raise self._problem(start, "%s appears twice in %s (first on line %d); remove or renumber one"
                                        % (entry_id, self.kind.title, self._line(seen[entry_id])))
                seen[entry_id] = start
                if start not in removed:
                    entries.append(known.get(start) or Entry(entry_id, heading, raw=source[start:end], start=start))
                start = end
            self._entries = entries + self._added
            self._found, self._removed, self._added = {}, [], []
        return self._entries

    def set_entries(self, entries: list[Entry]) -> None:
        self._entries = list(entries)
        self._found, self._removed, self._added = {}, [], []

    def _locate(self, entry_id: str) -> Entry | None:
        """The original entry with this id, found by searching for its header; None when not found so."""
        source, high, needle = self.source, self.high, "### [%s]" % entry_id
        hits = []
        at = source.find(needle, self._head, high)
        while at >= 0 and len(hits) < 2:
            after = source[at + len(needle):min(at + len(needle) + 1, high)]
            if (at == self.low or source[at - 1] == "\n") and after in ("", " ", "\t", "\r", "\n"):
                hits.append(at)
            at = source.find(needle, at + 1, high)
        if not hits:
            return None
        if len(hits) > 1:
            raise self._problem(hits[1], "%s appears twice in %s (first on line %d); remove or renumber one"
                                % (entry_id, self.kind.title, self._line(hits[0])))
        start = hits[0]
        heading = self._header_at(start)[1]
        return Entry(entry_id, heading, raw=source[start:_entry_end(source, start, high)], start=start)

    def find(self, entry_id: str) -> Entry | None:
        if self._entries is not None:
            return next((entry for entry in self._entries if entry.entry_id == entry_id), None)
        entry = self._found.get(entry_id) or next((e for e in self._added if e.entry_id == entry_id), None)
        if entry is not None or any(e.entry_id == entry_id for e in self._removed):
            return entry
        entry = self._locate(entry_id)
        if entry is None:
            # Not where a header is usually written: the full index decides (and checks every header).
            return next((e for e in self.entries if e.entry_id == entry_id), None)
        self._found[entry_id] = entry
        return entry

    def append(self, entry: Entry) -> None:
        (self._entries if self._entries is not None else self._added).append(entry)

    def remove(self, entry: Entry) -> None:
        if self._entries is not None:
            self._entries.remove(entry)
        elif entry in self._added:
            self._added.remove(entry)
        else:
            del self._found[entry.entry_id]
            self._removed.append(entry)

    def count(self) -> int:
        """How many entries the section holds (counts header lines; checks nothing)."""
        if self._entries is not None:
            return len(self._entries)
        headers = (self._head < self.high) + self.source.count("\n### ", self._head, self.high)
        return headers - len(self._removed) + len(self._added)

    def mentions(self, entry_id: str) -> bool:
        """Whether the id appears anywhere in the section, as '[ID]' in its text or as an added entry."""
        return (self.source.find("[%s]" % entry_id, self.low, self.high) >= 0
                or any(e.entry_id == entry_id for e in self._added))

    def highest_id(self) -> int:
        return max([id_number(entry.entry_id) for entry in self.entries] + [self.last_id or 0])

    def set_last_id(self, number: int) -> None:
        """Record ``number`` in the section's counter line (added under the heading when missing)."""
        self.last_id = number
        self._set_line(match_last_id, last_id_line(self.kind.prefix, number), ())

    def board_id(self) -> str | None:
        """The board's identity from its '<!-- board-id: ... -->' line (in the task queue), None without one."""
        return next((found for found in map(match_board_id, self.preamble) if found), None)

    def set_board_id(self, board_id: str) -> None:
        """Write the board's identity line (under the counter, or the heading, when missing)."""
        self._set_line(match_board_id, board_id_line(board_id), (match_last_id,))

    def _set_line(self, matches, line: str, after) -> None:
        """Replace the preamble line ``matches`` recognises, else insert ``line`` after the last line one
        of ``after`` recognises, else after the heading."""
        for index, old in enumerate(self.preamble):
            if matches(old):
                self.preamble[index] = line
                break
        else:
            anchor = [i for i, old in enumerate(self.preamble) if any(match(old) for match in after)]
            if not anchor:
                anchor = [next((i for i, old in enumerate(self.preamble) if old.startswith("## ")), -1)]
            self.preamble.insert(anchor[-1] + 1, line)
        self._preamble_changed = True

    def pieces(self) -> list[str]:
        """The section's text in pieces: the original's, with what changed spliced in."""
        nl, order, source = self.newline, self.kind.fields, self.source
        if self._preamble_changed:
            pieces = [nl.join(self.preamble) + nl if self.preamble else ""]
        else:
            pieces = [source[self.low:self._head]]
        if self._entries is not None:
            for entry in self._entries:
                _add_entry(pieces, entry, order, nl)
            return pieces
        cursor = self._head
        edits = [entry for entry in self._found.values() if entry.raw is None] + self._removed
        for entry in sorted(edits, key=lambda e: e.start):
            pieces.append(source[cursor:entry.start])
            if entry.entry_id in self._found:
                _add_entry(pieces, entry, order, nl)
            cursor = _entry_end(source, entry.start, self.high)
        pieces.append(source[cursor:self.high])
        for entry in self._added:
            _add_entry(pieces, entry, order, nl)
        return pieces


def _add_entry(pieces: list[str], entry: Entry, order: tuple[str, ...], newline: str) -> None:
    """Append an entry's text; one written anew follows a blank line."""
    if entry.raw is None:
        tail = ""
        for piece in reversed(pieces):
            tail = piece[-4:] + tail
            if len(tail) >= 4:
                break
        if not _ends_blank(tail):
            pieces.append(newline)
    pieces.append(entry.render(order, newline))


# Column names the status table is also read under (written by hand or by the original scripts),
# compared without regard to case; any other column is kept as it is.
STATUS_ALIASES = {
    "agent": "Agent", "llm": "Agent", "name": "Agent", "model": "Agent",
    "role": "Role",
    "state": "State", "status": "State",
    "current task": "Current Task", "task": "Current Task",
    "last update": "Last Update", "last updated": "Last Update", "updated": "Last Update",
}


def agent_key(name: str) -> str:
    """An agent's name as compared: without regard to case or markdown emphasis ('**AMP**' is 'amp')."""
    return str(name).strip().strip("*_`").strip().lower()


class StatusSection:
    """The Current LLM Status table (one row per agent: parsed whole).

    Rows hold our columns; ``extras`` are the table's other columns (kept,
    after ours, when the table is written anew).
    """

    def __init__(self, preamble: list[str], rows: list[dict[str, str]], trailer: list[str], newline: str = "\n",
                 extras: list[str] | None = None):
        self.preamble = preamble
        self.rows = rows
        self.trailer = trailer  # lines after the table
        self.newline = newline
        self.extras = extras or []
        self.dirty = False

    def find(self, agent: str) -> dict[str, str] | None:
        """The agent's row; names match without regard to case."""
        key = agent_key(agent)
        return next((row for row in self.rows if agent_key(row["Agent"]) == key), None)

    def render(self) -> str:
        columns = STATUS_COLUMNS + tuple(self.extras)
        lines = list(self.preamble)
        lines.append("| " + " | ".join(_cell(col) for col in columns) + " |")
        lines.append("| " + " | ".join("---" for _col in columns) + " |")
        for row in self.rows:
            lines.append("| " + " | ".join(_cell(row.get(col, "")) for col in columns) + " |")
        lines.extend(self.trailer)
        return self.newline.join(lines) + self.newline

    def pieces(self) -> list[str]:
        return [self.render()]


def _cell(value: str) -> str:
    text = " ".join(str(value).split()) or "-"
    return text.replace("|", "\\|")


def _split_row(line: str) -> list[str]:
    body = line.strip()
    body = body[1:] if body.startswith("|") else body
    body = body[:-1] if body.endswith("|") and not body.endswith("\\|") else body
    cells, current, index = [], [], 0
    while index < len(body):
        char = body[index]
        if char == "\\" and body[index + 1:index + 2] == "|":
            current.append("|")
            index += 2
            continue
        if char == "|":
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(char)
        index += 1
    cells.append("".join(current).strip())
    return cells


def status_columns(header: list[str]) -> list[str]:
    """The table's columns under our names (STATUS_ALIASES); others keep theirs, a name taken twice
    stays as written the second time."""
    columns: list[str] = []
    for cell in header:
        name = STATUS_ALIASES.get(" ".join(cell.strip("*_` ").split()).lower(), cell)
        columns.append(cell if name in columns else name)
    return columns


def parse_status(body: str, path: str | None = None, first_line: int = 1, newline: str = "\n") -> StatusSection:
    preamble: list[str] = []
    rows: list[dict[str, str]] = []
    trailer: list[str] = []
    columns: list[str] | None = None
    extras: list[str] = []
    state = "before"
    for index, line in enumerate(split_lines(body)):
        number = first_line + index
        is_row = line.strip().startswith("|")
        if state == "before":
            if is_row:
                columns = status_columns(_split_row(line))
                missing = [col for col in ("Agent", "State") if col not in columns]
                if missing:
                    raise BoardParseError(path, number, "the status table has no %s column; its header must be '| %s |' "
                                          "(other columns are kept)" % (" or ".join(missing), " | ".join(STATUS_COLUMNS)))
                extras = [col for col in columns if col not in STATUS_COLUMNS]
                state = "separator"
            else:
                preamble.append(line)
        elif state == "separator":
            if not line.strip() or line.strip(" \t:|-"):
                raise BoardParseError(path, number, "the status table's header must be followed by a '| --- |' line")
            state = "rows"
        elif state == "rows" and is_row:
            cells = _split_row(line)
            if len(cells) != len(columns):
                raise BoardParseError(path, number, "status row has %d cells, the header has %d" % (len(cells), len(columns)))
            row = dict(zip(columns, cells))
            if not row["Agent"] or row["Agent"] == "-":
                raise BoardParseError(path, number, "status row without an agent name")
            rows.append({col: row.get(col, "-") for col in STATUS_COLUMNS + tuple(extras)})
        else:
            state = "after"
            trailer.append(line)
    if columns is None:
        rows, trailer = [], []
    return StatusSection(preamble, rows, trailer, newline, extras)


def empty_section(kind: SectionKind, last_id: int = 0, board_id: str | None = None) -> list[str]:
    """The inner lines of a new, empty section (the task queue and the messages with their counter at
    ``last_id``; the task queue with the board's identity when ``board_id`` is given)."""
    lines = ["## " + kind.title]
    if kind.prefix and kind is not COMPLETIONS:
        lines.append(last_id_line(kind.prefix, last_id))
    if kind is TASKS and board_id:
        lines.append(board_id_line(board_id))
    lines.append("")
    if kind is STATUS:
        lines.append("| " + " | ".join(STATUS_COLUMNS) + " |")
        lines.append("| " + " | ".join("---" for _col in STATUS_COLUMNS) + " |")
        lines.append("")
    return lines


# --------------------------------------------------------------------------- document


class Block:
    """One managed section in the file: its marker lines, its text and, once parsed, its model.

    The section's text is ``source[low:high]``: the parsed file's own text
    (no copy) or, for a new or reset section, a text of its own.
    """

    __slots__ = ("name", "begin", "end", "source", "low", "high", "offset", "model")

    def __init__(self, name: str, begin: str, end: str, source: str, low: int = 0, high: int | None = None,
                 offset: int | None = None):
        self.name = name
        self.begin = begin  # the marker lines as written (kept byte for byte)
        self.end = end
        self.source, self.low, self.high = source, low, len(source) if high is None else high
        self.offset = offset  # where the BEGIN marker starts in the parsed text (None: a new block)
        self.model = None  # EntrySection or StatusSection once parsed

    @property
    def body(self) -> str:
        """The exact text between the markers."""
        return self.source[self.low:self.high]

    def replace(self, body: str) -> None:
        self.source, self.low, self.high, self.model = body, 0, len(body), None


def begin_marker(name: str) -> str:
    return "%sBEGIN%s%s%s" % (_MARKER_HEAD, _MARKER_ORIGIN, name, _MARKER_TAIL)


def end_marker(name: str) -> str:
    return "%sEND%s%s%s" % (_MARKER_HEAD, _MARKER_ORIGIN, name, _MARKER_TAIL)


def new_block(kind: SectionKind, newline: str, last_id: int = 0, board_id: str | None = None) -> Block:
    return Block(kind.name, begin_marker(kind.name) + newline, end_marker(kind.name) + newline,
                 "".join(line + newline for line in empty_section(kind, last_id, board_id)))


class Board:
    """A parsed board: user text and managed blocks in file order."""

    def __init__(self, path: str | None, parts: list, newline: str, text: str = ""):
        self.path = path
        self.parts = parts  # str (user text, exact) or Block
        self.newline = newline
        self.text = text  # the text it was parsed from
        self.changed = False
        self.adopted: list[str] = []  # sections a person wrote without markers, made managed (ensure_sections)
        self.warnings: list[str] = []

    def board_id(self) -> str | None:
        """The board's identity: the '<!-- board-id: ... -->' line above the task queue's entries; None
        without one. Found with str.find, without parsing the section."""
        block = self.blocks().get(TASKS.name)
        if block is None:
            return None
        if block.model is not None:
            return block.model.board_id()
        source, low, high = block.source, block.low, block.high
        first_entry = source.find("\n### ", low, high)
        high = high if first_entry < 0 else first_entry
        at = source.find(_BOARD_ID_HEAD, low, high)
        while at >= 0:
            if at == low or source[at - 1] == "\n":
                end = source.find("\n", at, high)
                found = match_board_id(_strip_eol(source[at:high if end < 0 else end + 1]))
                if found:
                    return found
            at = source.find(_BOARD_ID_HEAD, at + 1, high)
        return None

    def line_of(self, offset: int) -> int:
        return self.text.count("\n", 0, offset) + 1

    def blocks(self) -> dict[str, Block]:
        return {part.name: part for part in self.parts if isinstance(part, Block)}

    def section(self, kind: SectionKind):
        """The model of a managed section (made on first use); NotFound when the section is missing."""
        block = self.blocks().get(kind.name)
        if block is None:
            raise NotFound(
                "%s has no %s section (markers 'moana.orchestration: %s'); run the start playbook or "
                "'orchestra board init' to add it" % (self.path or "the board", kind.title, kind.name)
            )
        if block.model is None:
            offset = block.offset if block.source is self.text else None

            def first_line():
                return self.line_of(offset) + 1 if offset is not None else 1

            if kind is STATUS:
                block.model = parse_status(block.body, self.path, first_line(), self.newline)
            else:
                block.model = EntrySection(kind, block.source, block.low, block.high, self.path, first_line,
                                           self.newline)
        return block.model

    def has(self, kind: SectionKind) -> bool:
        return any(isinstance(part, Block) and part.name == kind.name for part in self.parts)

    def touch(self, model) -> None:
        model.dirty = True
        self.changed = True

    def pieces(self) -> list[str]:
        """The board's text in pieces (what changed rendered anew, the rest slices of the original)."""
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            out.append(part.begin)
            if part.model is not None and part.model.dirty:
                out.extend(part.model.pieces())
            else:
                out.append(part.body)
            out.append(part.end)
        return out

    def render(self) -> str:
        return "".join(self.pieces())


def _strip_eol(line: str) -> str:
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith("\n"):
        return line[:-1]
    return line


def parse(text: str, path: str | None = None) -> Board:
    """Split the file into user text and managed blocks; BoardParseError on bad markers.

    Markers are found by searching, not by walking every line; sections are
    parsed when an operation asks for them (``Board.section``).
    """
    first_eol = text.find("\n")
    newline = "\r\n" if first_eol > 0 and text[first_eol - 1] == "\r" else "\n"
    parts: list = []
    user_start = 0
    search = 0
    current: Block | None = None
    seen: dict[str, int] = {}

    def line(offset: int) -> int:
        return text.count("\n", 0, offset) + 1

    while True:
        hit = text.find(_MARKER_ORIGIN, search)
        if hit < 0:
            break
        line_start = text.rfind("\n", 0, hit) + 1
        if line_start == 0 and text.startswith("\ufeff"):
            line_start = 1  # a byte order mark stays the user's, before the marker
        line_end = text.find("\n", hit)
        line_end = len(text) if line_end < 0 else line_end + 1
        search = line_end
        marker = text[line_start:line_end]
        match = match_marker(_strip_eol(marker))
        if match is None:
            continue
        kind, name = match
        # A file that ends on a marker gets its line ending: blocks always end with one.
        marker = marker if marker.endswith("\n") else marker + newline
        if kind == "BEGIN":
            if current is not None:
                raise BoardParseError(path, line(line_start), "section %r begins inside section %r (begun on line %d); "
                                      "add its END marker first" % (name, current.name, line(current.offset)))
            if name in seen:
                raise BoardParseError(path, line(line_start), "section %r is begun twice (first on line %d); "
                                      "remove one copy" % (name, line(seen[name])))
            seen[name] = line_start
            parts.append(text[user_start:line_start])
            current = Block(name, marker, "", text, line_end, line_end, line_start)
        else:
            if current is None or current.name != name:
                raise BoardParseError(path, line(line_start), "END marker for section %r without its BEGIN marker; "
                                      "add the BEGIN marker or remove this line" % name)
            current.high, current.end = line_start, marker
            parts.append(current)
            current = None
            user_start = line_end
    if current is not None:
        raise BoardParseError(path, line(current.offset), "section %r is never closed; add "
                              "'<!-- END moana.orchestration: %s -->' after its content" % (current.name, current.name))
    parts.append(text[user_start:])
    for part in parts:
        if isinstance(part, Block) and part.name not in SECTION_BY_NAME:
            raise BoardParseError(path, line(part.offset), "unknown section %r; known sections are %s"
                                  % (part.name, ", ".join(SECTION_BY_NAME)))
    return Board(path, [part for part in parts if part != ""], newline, text)


def decode(data: bytes, path: str | None) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BoardParseError(path, line, "the board is not UTF-8 text; convert it to UTF-8") from None
