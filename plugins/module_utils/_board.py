# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The board (CLAUDE.md): the only code that parses and writes it. Standard library only.

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
byte, as is every managed entry an operation did not touch. Writes are
locked (``flock`` on ``<board>.lock``) read-modify-writes that replace the
file atomically (temp file in the same directory, fsync, rename), so
concurrent agents never lose an update and a reader never sees half a file.
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import os
import time

# Parsing uses string methods, not the re module: importing re costs about
# as much as the rest of an `orchestra` command (see bench/board_cli.py).
_MARKER_HEAD = "<!-- "
_MARKER_ORIGIN = " moana.orchestration: "
_MARKER_TAIL = " -->"
_NAME_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-")
_LAST_ID_HEAD = "<!-- last-id: "


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


# Module options shared by every module that reads or writes the board
# (documented in doc_fragments/board.py).
BOARD_OPTIONS = {
    "path": {"type": "path", "required": True, "aliases": ["dest"]},
    "lock_timeout": {"type": "float", "default": 10},
}


class BoardError(ValueError):
    """A board that cannot be read or an operation that cannot be done; names the problem and the fix."""


class BoardParseError(BoardError):
    """The board file is malformed; nothing was written."""

    def __init__(self, path: str | None, line: int, problem: str):
        self.path, self.line, self.problem = path, line, problem
        super().__init__("%s:%d: %s" % (path or "<board>", line, problem))


class NotFound(BoardError):
    """No task, message or section with that id."""


class Conflict(BoardError):
    """The operation clashes with the board's state (a task another agent holds, ...)."""


class LockTimeout(BoardError):
    """Another writer held the board's lock for longer than the timeout."""


def now() -> datetime.datetime:
    return datetime.datetime.now().replace(second=0, microsecond=0)


def format_date(value: datetime.datetime) -> str:
    return value.strftime(DATE_FORMAT)


def parse_date(value: str) -> datetime.datetime | None:
    try:
        return datetime.datetime.strptime(value.strip(), DATE_FORMAT)
    except ValueError:
        return None


# --------------------------------------------------------------------------- entries


# Plain classes rather than dataclasses: importing dataclasses costs more than
# a whole `orchestra` command is allowed to take (see bench/board_cli.py).
class Entry:
    """One ``### [ID] ...`` block: fields in order, plus lines that are not fields (kept).

    ``raw`` holds the original lines, reused while the entry is unchanged;
    its fields are parsed only when asked for, so an operation on a long
    queue pays only for the entries it reads.
    """

    __slots__ = ("entry_id", "heading", "_fields", "_notes", "raw")

    def __init__(self, entry_id: str, heading: str, fields: dict | None = None, notes: list | None = None,
                 raw: list | None = None):
        self.entry_id = entry_id
        self.heading = heading  # the text after the id on the header line
        self._fields = fields if fields is not None or raw is not None else {}
        self._notes = notes if notes is not None or raw is not None else []
        self.raw = raw

    def _parse_raw(self) -> None:
        fields: dict = {}
        notes: list = []
        last_field = None
        for line in self.raw[1:]:
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
        return self.fields.get(name, default)

    def set(self, name: str, value: str) -> None:
        if self.fields.get(name) != value:
            self.notes  # noqa: B018 - parse the notes too before the raw lines go
            self.fields[name] = value
            self.raw = None

    def drop(self, name: str) -> None:
        if name in self.fields:
            self.notes  # noqa: B018 - parse the notes too before the raw lines go
            del self.fields[name]
            self.raw = None

    def render(self, order: tuple[str, ...]) -> list[str]:
        if self.raw is not None:
            return self.raw
        header = "### [%s]%s" % (self.entry_id, " " + self.heading if self.heading else "")
        lines = [header]
        names = [name for name in order if name in self.fields] + [name for name in self.fields if name not in order]
        for name in names:
            first, *rest = _clean_value(self.fields[name]).split("\n")
            lines.append("- **%s**: %s" % (name, first))
            lines.extend("  " + more for more in rest)
        lines.extend(self.notes)
        lines.append("")
        return lines

    def as_dict(self) -> dict:
        return {"id": self.entry_id, "heading": self.heading, "fields": dict(self.fields)}


def _clean_value(value: str) -> str:
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


class EntrySection:
    """A managed section made of entries (task queue, completion log, messages)."""

    def __init__(self, kind: SectionKind, preamble: list[str], entries: list[Entry], last_id: int | None):
        self.kind = kind
        self.preamble = preamble  # lines before the first entry (heading, counter, user notes)
        self.entries = entries
        self.last_id = last_id  # from the ``<!-- last-id: ... -->`` counter, None when absent
        self.dirty = False

    def find(self, entry_id: str) -> Entry | None:
        return next((entry for entry in self.entries if entry.entry_id == entry_id), None)

    def highest_id(self) -> int:
        numbers = [int(entry.entry_id.split("-")[1]) for entry in self.entries]
        return max(numbers + [self.last_id or 0])

    def render(self) -> list[str]:
        lines = list(self.preamble)
        for entry in self.entries:
            if lines and lines[-1] != "":
                lines.append("")  # entries are separated by a blank line
            lines.extend(entry.render(self.kind.fields))
        return lines


class StatusSection:
    """The Current LLM Status table."""

    def __init__(self, preamble: list[str], rows: list[dict[str, str]], trailer: list[str]):
        self.preamble = preamble
        self.rows = rows
        self.trailer = trailer  # lines after the table
        self.dirty = False

    def find(self, agent: str) -> dict[str, str] | None:
        return next((row for row in self.rows if row["Agent"] == agent), None)

    def render(self) -> list[str]:
        lines = list(self.preamble)
        lines.append("| " + " | ".join(STATUS_COLUMNS) + " |")
        lines.append("| " + " | ".join("---" for _col in STATUS_COLUMNS) + " |")
        for row in self.rows:
            lines.append("| " + " | ".join(_cell(row.get(col, "")) for col in STATUS_COLUMNS) + " |")
        lines.extend(self.trailer)
        return lines


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


# --------------------------------------------------------------------------- document


class Block:
    """One managed section in the file: its marker name, raw inner lines and, once parsed, its model."""

    def __init__(self, name: str, begin_line: int, inner: list[str], begin: str, end: str, body: str | None = None):
        self.name = name
        self.body = body  # the exact text between the markers, written back while the section is untouched
        self.begin_line = begin_line  # 1-based line of the BEGIN marker, for error messages
        self.inner = inner  # lines between the markers, without line endings
        self.begin = begin  # the marker lines as written (kept byte for byte)
        self.end = end
        self.model = None  # EntrySection or StatusSection once parsed


class Board:
    """A parsed board: user text and managed blocks in file order."""

    def __init__(self, path: str | None, parts: list, newline: str, text: str = ""):
        self.path = path
        self.parts = parts  # str (user text, exact) or Block
        self.newline = newline
        self.text = text  # the text it was parsed from
        self.changed = False

    def blocks(self) -> dict[str, Block]:
        return {part.name: part for part in self.parts if isinstance(part, Block)}

    def section(self, kind: SectionKind):
        """The parsed model of a managed section; BoardError when the section is missing."""
        block = self.blocks().get(kind.name)
        if block is None:
            raise NotFound(
                "%s has no %s section (markers 'moana.orchestration: %s'); run the start playbook or "
                "'orchestra board init' to add it" % (self.path or "the board", kind.title, kind.name)
            )
        if block.model is None:
            block.model = _parse_block(self.path, block, kind)
        return block.model

    def has(self, kind: SectionKind) -> bool:
        return kind.name in self.blocks()

    def touch(self, model) -> None:
        model.dirty = True
        self.changed = True

    def render(self) -> str:
        out = []
        for part in self.parts:
            if isinstance(part, str):
                out.append(part)
                continue
            out.append(part.begin)
            if part.model is not None and part.model.dirty:
                lines = part.model.render()
                if lines:
                    out.append(self.newline.join(lines) + self.newline)
            elif part.body is not None:
                out.append(part.body)
            elif part.inner:
                out.append(self.newline.join(part.inner) + self.newline)
            out.append(part.end)
        return "".join(out)


def _lines_with_offsets(text: str):
    start = 0
    number = 0
    while start < len(text):
        end = text.find("\n", start)
        end = len(text) if end == -1 else end + 1
        number += 1
        yield number, text[start:end]
        start = end


def _strip_eol(line: str) -> str:
    if line.endswith("\r\n"):
        return line[:-2]
    if line.endswith("\n"):
        return line[:-1]
    return line


def _inner_lines(text: str) -> list[str]:
    """The lines of a block's body (text ending with a line ending), without their endings."""
    if not text:
        return []
    lines = text.split("\n")
    lines.pop()  # the text ends with a line ending: nothing follows it
    if "\r" in text:
        lines = [line[:-1] if line.endswith("\r") else line for line in lines]
    return lines


def parse(text: str, path: str | None = None) -> Board:
    """Split the file into user text and managed blocks; BoardParseError on bad markers.

    Markers are found by searching, not by walking every line, and sections
    are parsed lazily (``Board.section``): an operation reads only what it touches.
    """
    first_eol = text.find("\n")
    newline = "\r\n" if first_eol > 0 and text[first_eol - 1] == "\r" else "\n"
    parts: list = []
    user_start = 0
    search = 0
    current: Block | None = None
    body_start = 0
    seen: dict[str, int] = {}
    while True:
        hit = text.find(_MARKER_ORIGIN, search)
        if hit < 0:
            break
        line_start = text.rfind("\n", 0, hit) + 1
        line_end = text.find("\n", hit)
        line_end = len(text) if line_end < 0 else line_end + 1
        search = line_end
        line = text[line_start:line_end]
        match = match_marker(_strip_eol(line))
        if match is None:
            continue
        number = text.count("\n", 0, line_start) + 1
        kind, name = match
        if kind == "BEGIN":
            if current is not None:
                raise BoardParseError(path, number, "section %r begins inside section %r (begun on line %d); "
                                      "add its END marker first" % (name, current.name, current.begin_line))
            if name in seen:
                raise BoardParseError(path, number, "section %r is begun twice (first on line %d); "
                                      "remove one copy" % (name, seen[name]))
            seen[name] = number
            parts.append(text[user_start:line_start])
            current = Block(name, number, [], line if line.endswith("\n") else line + newline, "")
            body_start = line_end
        else:
            if current is None or current.name != name:
                raise BoardParseError(path, number, "END marker for section %r without its BEGIN marker; "
                                      "add the BEGIN marker or remove this line" % name)
            current.body = text[body_start:line_start]
            current.inner = _inner_lines(current.body)
            # A file that ends on the marker gets its line ending: blocks always end with one.
            current.end = line if line.endswith("\n") else line + newline
            parts.append(current)
            current = None
            user_start = line_end
    if current is not None:
        raise BoardParseError(path, current.begin_line, "section %r is never closed; add "
                              "'<!-- END moana.orchestration: %s -->' after its content" % (current.name, current.name))
    parts.append(text[user_start:])
    for part in parts:
        if isinstance(part, Block) and part.name not in SECTION_BY_NAME:
            raise BoardParseError(path, part.begin_line, "unknown section %r; known sections are %s"
                                  % (part.name, ", ".join(SECTION_BY_NAME)))
    return Board(path, [part for part in parts if part != ""], newline, text)


def _parse_block(path: str | None, block: Block, kind: SectionKind):
    if kind is STATUS:
        return _parse_status(path, block)
    return _parse_entries(path, block, kind)


def _parse_entries(path: str | None, block: Block, kind: SectionKind) -> EntrySection:
    lines = block.inner
    starts = [index for index, line in enumerate(lines) if line.startswith("### ")]
    preamble = lines[:starts[0]] if starts else list(lines)
    last_id = None
    for line in preamble:
        counter = match_last_id(line)
        if counter and counter[0] == kind.prefix:
            last_id = counter[1]
    entries: list[Entry] = []
    seen: dict[str, int] = {}
    for position, index in enumerate(starts):
        number = block.begin_line + 1 + index
        entry_id, heading = match_header(lines[index])
        if entry_id is None:
            raise BoardParseError(path, number, "entry %r in %s has no id; write it as '### [%s-001] %s'"
                                  % (lines[index], kind.title, kind.prefix, heading))
        if not entry_id.startswith(kind.prefix + "-"):
            raise BoardParseError(path, number, "entry id %s does not belong in %s (ids there start with %s-)"
                                  % (entry_id, kind.title, kind.prefix))
        if entry_id in seen:
            raise BoardParseError(path, number, "%s appears twice in %s (first on line %d); remove or renumber one"
                                  % (entry_id, kind.title, seen[entry_id]))
        seen[entry_id] = number
        end = starts[position + 1] if position + 1 < len(starts) else len(lines)
        entries.append(Entry(entry_id, heading, raw=lines[index:end]))
    return EntrySection(kind, list(preamble), entries, last_id)


def _parse_status(path: str | None, block: Block) -> StatusSection:
    preamble: list[str] = []
    rows: list[dict[str, str]] = []
    trailer: list[str] = []
    columns: list[str] | None = None
    state = "before"
    for index, line in enumerate(block.inner):
        number = block.begin_line + 1 + index
        is_row = line.strip().startswith("|")
        if state == "before":
            if is_row:
                columns = _split_row(line)
                missing = [col for col in ("Agent", "State") if col not in columns]
                if missing:
                    raise BoardParseError(path, number, "the status table has no %s column; its header must be '| %s |'"
                                          % (" or ".join(missing), " | ".join(STATUS_COLUMNS)))
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
            rows.append({col: row.get(col, "-") for col in STATUS_COLUMNS})
        else:
            state = "after"
            trailer.append(line)
    if columns is None:
        rows, trailer = [], []
    return StatusSection(preamble, rows, trailer)


def empty_section(kind: SectionKind) -> list[str]:
    """The inner lines of a new, empty section."""
    lines = ["## " + kind.title]
    if kind.prefix and kind is not COMPLETIONS:
        lines.append("<!-- last-id: %s-000 -->" % kind.prefix)
    lines.append("")
    if kind is STATUS:
        lines.append("| " + " | ".join(STATUS_COLUMNS) + " |")
        lines.append("| " + " | ".join("---" for _col in STATUS_COLUMNS) + " |")
        lines.append("")
    return lines


def _block_for(kind: SectionKind, newline: str, inner: list[str] | None = None) -> Block:
    return Block(
        kind.name, 0, inner if inner is not None else empty_section(kind),
        "<!-- BEGIN moana.orchestration: %s -->%s" % (kind.name, newline),
        "<!-- END moana.orchestration: %s -->%s" % (kind.name, newline),
    )


def ensure_sections(board: Board, kinds=SECTIONS, reset: bool = False, insert_after: str | None = None) -> list[str]:
    """Add missing sections (at the end, or after the last line matching ``insert_after``); with
    ``reset``, empty existing ones. Returns the names of the sections added or reset."""
    done = []
    missing = [kind for kind in kinds if not board.has(kind)]
    for kind in kinds:
        if reset and board.has(kind):
            block = board.blocks()[kind.name]
            if block.inner != empty_section(kind):
                block.inner, block.model, block.body = empty_section(kind), None, None
                done.append(kind.name)
    if missing:
        new_parts: list = []
        for kind in missing:
            new_parts.append(_block_for(kind, board.newline))
            new_parts.append(board.newline)
        new_parts.pop()  # no blank line after the last new section
        _insert(board, new_parts, insert_after)
        done.extend(kind.name for kind in missing)
    if done:
        board.changed = True
    return done


def _insert(board: Board, new_parts: list, insert_after: str | None) -> None:
    """Place new blocks after the last user line matching ``insert_after``, else at the end."""
    nl = board.newline
    if insert_after:
        import re  # only here: see the note on parsing above

        pattern = re.compile(insert_after)
        found = None
        for index, part in enumerate(board.parts):
            if not isinstance(part, str):
                continue
            offset = 0
            for dummy, line in _lines_with_offsets(part):
                offset += len(line)
                if pattern.search(_strip_eol(line)):
                    found = (index, offset)
        if found is not None:
            index, offset = found
            head, tail = board.parts[index][:offset], board.parts[index][offset:]
            if not head.endswith("\n"):
                head += nl
            board.parts[index:index + 1] = [head + nl] + new_parts + [nl + tail if tail else nl]
            return
    text = "".join(part for part in board.parts if isinstance(part, str))
    last = board.parts[-1] if board.parts else ""
    if board.parts and isinstance(last, str) and last and not last.endswith("\n"):
        board.parts.append(nl + nl)
    elif board.parts and text.strip() and not (isinstance(last, str) and last.endswith(nl + nl)):
        board.parts.append(nl)
    board.parts.extend(new_parts)


def remove_sections(board: Board, kinds=SECTIONS) -> list[str]:
    """Remove managed sections (markers included); returns the names removed."""
    names = {kind.name for kind in kinds}
    removed = [part.name for part in board.parts if isinstance(part, Block) and part.name in names]
    if removed:
        board.parts = [part for part in board.parts if not (isinstance(part, Block) and part.name in names)]
        board.changed = True
    return removed


def new_board_text(kinds=SECTIONS, newline: str = "\n") -> str:
    board = Board(None, ["# CLAUDE.md" + newline + newline], newline)
    ensure_sections(board, kinds)
    return board.render()


# --------------------------------------------------------------------------- operations


def _require(value: str, what: str) -> str:
    value = (value or "").strip()
    if not value:
        raise BoardError("%s is empty; give a value" % what)
    return value


def _choice(value: str, choices: tuple[str, ...], what: str) -> str:
    upper = (value or "").strip().upper().replace("-", "_").replace(" ", "_")
    if upper not in choices:
        raise BoardError("%s %r is not one of %s" % (what, value, ", ".join(choices)))
    return upper


def _next_id(board: Board, kind: SectionKind) -> str:
    section = board.section(kind)
    highest = section.highest_id()
    if kind is TASKS and board.has(COMPLETIONS):
        highest = max(highest, board.section(COMPLETIONS).highest_id())
    if section.last_id is None and board.path:
        # The counter line was removed by hand: ids already archived must not come back.
        archived = [int(e.entry_id.split("-")[1]) for e in load_archive(board.path) if e.entry_id.startswith(kind.prefix + "-")]
        highest = max([highest] + archived)
    number = highest + 1
    section.last_id = number
    for index, line in enumerate(section.preamble):
        if match_last_id(line):
            section.preamble[index] = "<!-- last-id: %s-%03d -->" % (kind.prefix, number)
            break
    else:
        heading = next((i for i, line in enumerate(section.preamble) if line.startswith("## ")), -1)
        section.preamble.insert(heading + 1, "<!-- last-id: %s-%03d -->" % (kind.prefix, number))
    return "%s-%03d" % (kind.prefix, number)


def normalise_id(value: str, prefix: str = "TASK") -> str:
    """'7', 'task-7' and 'TASK-007' all name TASK-007."""
    text = (value or "").strip().upper()
    if text.startswith(prefix + "-"):
        text = text[len(prefix) + 1:]
    if not text.isdigit() or not text.isascii():
        raise BoardError("%r is not a %s id; write it as %s-001" % (value, prefix.lower(), prefix))
    return "%s-%03d" % (prefix, int(text))


def add_task(board: Board, title: str, assigned_to: str, priority: str = "MEDIUM", description: str = "",
             files: str = "", at: datetime.datetime | None = None, status: str = "PENDING") -> Entry:
    section = board.section(TASKS)
    entry = Entry(_next_id(board, TASKS), _clean_value(_require(title, "title")).replace("\n", " "))
    entry.fields = {
        "Assigned To": _require(assigned_to, "assigned_to"),
        "Priority": _choice(priority, PRIORITIES, "priority"),
        "Status": _choice(status, TASK_STATUSES, "status"),
        "Description": _clean_value(description) or "-",
        "Files Involved": _clean_value(files) or "-",
        "Date": format_date(at or now()),
    }
    section.entries.append(entry)
    board.touch(section)
    return entry


def get_task(board: Board, task_id: str) -> Entry:
    task_id = normalise_id(task_id)
    entry = board.section(TASKS).find(task_id)
    if entry is None:
        raise NotFound("%s is not in the task queue (orchestra task list shows the open tasks)" % task_id)
    return entry


def update_task(board: Board, task_id: str, **changes) -> tuple[Entry, list[str]]:
    """Set the given fields of a queued task; returns the task and the names of fields that changed."""
    entry = get_task(board, task_id)
    names = {"title": None, "assigned_to": "Assigned To", "priority": "Priority", "status": "Status",
             "description": "Description", "files": "Files Involved"}
    changed = []
    for key, value in changes.items():
        if value is None:
            continue
        if key == "title":
            title = _clean_value(_require(value, "title")).replace("\n", " ")
            if entry.heading != title:
                entry.heading, entry.raw = title, None
                changed.append("title")
            continue
        if key == "priority":
            value = _choice(value, PRIORITIES, "priority")
        elif key == "status":
            value = _choice(value, TASK_STATUSES, "status")
        elif key == "assigned_to":
            value = _require(value, "assigned_to")
        else:
            value = _clean_value(value) or "-"
        if entry.get(names[key]) != value:
            entry.set(names[key], value)
            changed.append(key)
            if key == "status" and value == "IN_PROGRESS" and not entry.get("Started"):
                entry.set("Started", format_date(now()))
    if changed:
        board.touch(board.section(TASKS))
    return entry, changed


def start_task(board: Board, task_id: str, agent: str, at: datetime.datetime | None = None) -> Entry:
    agent = _require(agent, "agent")
    entry = get_task(board, task_id)
    holder = entry.get("Assigned To")
    status = entry.get("Status").upper()
    if status == "IN_PROGRESS" and holder == agent:
        # Already ours: the task stays as it is, the agent's state follows it.
        if board.has(STATUS):
            set_status(board, agent, "IN_PROGRESS", entry.entry_id, at=at)
        return entry
    if status == "IN_PROGRESS" and holder != agent:
        raise Conflict("%s is already in progress with %s; pick another task or ask the orchestrator"
                       % (entry.entry_id, holder))
    if holder not in ("", "-", "any", agent):
        raise Conflict("%s is assigned to %s, not %s; ask the orchestrator to reassign it"
                       % (entry.entry_id, holder, agent))
    at = at or now()
    entry.set("Assigned To", agent)
    entry.set("Status", "IN_PROGRESS")
    entry.set("Started", format_date(at))
    entry.drop("Reason")
    board.touch(board.section(TASKS))
    if board.has(STATUS):
        set_status(board, agent, "IN_PROGRESS", entry.entry_id, at=at)
    return entry


def complete_task(board: Board, task_id: str, agent: str, changes: str = "", files: str = "",
                  at: datetime.datetime | None = None) -> Entry:
    """Move a task from the queue to the completion log, with its duration."""
    agent = _require(agent, "agent")
    entry = get_task(board, task_id)
    holder = entry.get("Assigned To")
    if entry.get("Status").upper() == "IN_PROGRESS" and holder not in ("", "-", agent):
        raise Conflict("%s is in progress with %s, not %s" % (entry.entry_id, holder, agent))
    at = at or now()
    began = parse_date(entry.get("Started")) or parse_date(entry.get("Date")) or at
    minutes = max(0, int((at - began).total_seconds() // 60))
    done = Entry(entry.entry_id, "COMPLETED")
    done.fields = {
        "Completed By": agent,
        "Date": format_date(at),
        "Duration": "%d minute%s" % (minutes, "" if minutes == 1 else "s"),
        "Changes Made": _clean_value(changes) or "-",
        "Files Modified": _clean_value(files) or "-",
    }
    tasks = board.section(TASKS)
    tasks.entries.remove(entry)
    board.touch(tasks)
    log = board.section(COMPLETIONS)
    log.entries.append(done)
    board.touch(log)
    if board.has(STATUS):
        set_status(board, agent, "IDLE", "-", at=at)
    return done


def fail_task(board: Board, task_id: str, reason: str, agent: str | None = None,
              at: datetime.datetime | None = None) -> Entry:
    entry = get_task(board, task_id)
    entry.set("Status", "FAILED")
    entry.set("Reason", _clean_value(_require(reason, "reason")))
    board.touch(board.section(TASKS))
    who = agent or entry.get("Assigned To")
    if board.has(STATUS) and who and who != "-" and board.section(STATUS).find(who) is not None:
        set_status(board, who, "IDLE", "-", at=at)
    return entry


def set_status(board: Board, agent: str, state: str, task: str | None = None, role: str | None = None,
               at: datetime.datetime | None = None) -> dict:
    agent = _require(agent, "agent")
    state = _choice(state, AGENT_STATES, "state")
    section = board.section(STATUS)
    row = section.find(agent)
    if row is None:
        row = {"Agent": agent, "Role": "-", "State": "-", "Current Task": "-", "Last Update": "-"}
        section.rows.append(row)
    wanted = dict(row)
    wanted["State"] = state
    if task is not None:
        wanted["Current Task"] = normalise_id(task) if task not in ("", "-") else "-"
    elif state in ("IDLE", "OFFLINE"):
        wanted["Current Task"] = "-"
    if role:
        wanted["Role"] = role
    if wanted != row:
        wanted["Last Update"] = format_date(at or now())
        row.update(wanted)
        board.touch(section)
    return dict(row)


def send_message(board: Board, sender: str, recipient: str, text: str, at: datetime.datetime | None = None) -> Entry:
    section = board.section(MESSAGES)
    sender, recipient = _require(sender, "from"), _require(recipient, "to")
    entry = Entry(_next_id(board, MESSAGES), "%s -> %s" % (sender, recipient))
    entry.fields = {"From": sender, "To": recipient, "Date": format_date(at or now()),
                    "Text": _clean_value(_require(text, "message text"))}
    section.entries.append(entry)
    board.touch(section)
    return entry


class ArchivePolicy:
    """How much history the board keeps; the rest moves to the archive file (None: no age limit)."""

    __slots__ = ("keep_completions", "keep_messages", "max_message_age_days")

    def __init__(self, keep_completions: int = 20, keep_messages: int = 50, max_message_age_days: float | None = 7.0):
        self.keep_completions = keep_completions
        self.keep_messages = keep_messages
        self.max_message_age_days = max_message_age_days


def archive(board: Board, policy: ArchivePolicy, at: datetime.datetime | None = None) -> list[str]:
    """Take the oldest completions and messages beyond the policy off the board; return their lines."""
    moved: list[str] = []
    at = at or now()
    if board.has(COMPLETIONS) and policy.keep_completions >= 0:
        log = board.section(COMPLETIONS)
        extra = len(log.entries) - policy.keep_completions
        if extra > 0:
            for entry in log.entries[:extra]:
                moved.extend(entry.render(COMPLETIONS.fields))
            del log.entries[:extra]
            board.touch(log)
    if board.has(MESSAGES):
        messages = board.section(MESSAGES)
        keep = list(messages.entries)
        if policy.max_message_age_days is not None:
            limit = at - datetime.timedelta(days=policy.max_message_age_days)
            keep = [m for m in keep if (parse_date(m.get("Date")) or at) >= limit]
        if policy.keep_messages >= 0 and len(keep) > policy.keep_messages:
            keep = keep[len(keep) - policy.keep_messages:]
        if len(keep) != len(messages.entries):
            kept = set(id(m) for m in keep)
            for entry in messages.entries:
                if id(entry) not in kept:
                    moved.extend(entry.render(MESSAGES.fields))
            messages.entries = keep
            board.touch(messages)
    return moved


# --------------------------------------------------------------------------- facts


def task_facts(entry: Entry) -> dict:
    return {
        "id": entry.entry_id,
        "title": entry.heading,
        "assigned_to": entry.get("Assigned To"),
        "priority": entry.get("Priority"),
        "status": entry.get("Status"),
        "description": entry.get("Description"),
        "files": entry.get("Files Involved"),
        "date": entry.get("Date"),
        "started": entry.get("Started") or None,
        "reason": entry.get("Reason") or None,
    }


def completion_facts(entry: Entry) -> dict:
    return {
        "id": entry.entry_id,
        "completed_by": entry.get("Completed By"),
        "date": entry.get("Date"),
        "duration": entry.get("Duration"),
        "changes": entry.get("Changes Made"),
        "files": entry.get("Files Modified"),
    }


def message_facts(entry: Entry) -> dict:
    return {"id": entry.entry_id, "from": entry.get("From"), "to": entry.get("To"),
            "date": entry.get("Date"), "text": entry.get("Text")}


def status_facts(row: dict) -> dict:
    def dash(value):
        return None if value in ("", "-") else value

    return {"agent": row["Agent"], "role": dash(row["Role"]), "state": row["State"],
            "task": dash(row["Current Task"]), "updated": dash(row["Last Update"])}


def facts(board: Board, stale_minutes: float | None = None, at: datetime.datetime | None = None) -> dict:
    """The whole board as plain data (for board_info and ``orchestra --json``)."""
    at = at or now()
    tasks = [task_facts(e) for e in board.section(TASKS).entries] if board.has(TASKS) else []
    result = {
        "sections": [part.name for part in board.parts if isinstance(part, Block)],
        "tasks": tasks,
        "tasks_by_status": {},
        "tasks_by_agent": {},
        "completions": [completion_facts(e) for e in board.section(COMPLETIONS).entries] if board.has(COMPLETIONS) else [],
        "agents": [status_facts(r) for r in board.section(STATUS).rows] if board.has(STATUS) else [],
        "messages": [message_facts(e) for e in board.section(MESSAGES).entries] if board.has(MESSAGES) else [],
        "stale_tasks": [],
    }
    for task in tasks:
        result["tasks_by_status"].setdefault(task["status"], []).append(task["id"])
        result["tasks_by_agent"].setdefault(task["assigned_to"], []).append(task["id"])
        if stale_minutes is not None and task["status"] == "IN_PROGRESS":
            began = parse_date(task["started"] or task["date"] or "")
            if began is not None and (at - began).total_seconds() / 60 > stale_minutes:
                result["stale_tasks"].append(task["id"])
    return result


def info(path: str, stale_minutes: float | None = None) -> dict:
    """``facts`` of the board at ``path`` with ``exists``; a missing board reads as an empty one."""
    if not os.path.exists(path):
        return dict(facts(parse("", path)), exists=False)
    return dict(facts(load(path), stale_minutes), exists=True)


# --------------------------------------------------------------------------- files


def decode(data: bytes, path: str | None) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise BoardParseError(path, line, "the board is not UTF-8 text; convert it to UTF-8") from None


def load(path: str) -> Board:
    """Read and split the board without locking: writers replace it atomically, so it is always whole."""
    try:
        with open(path, "rb") as stream:
            data = stream.read()
    except FileNotFoundError:
        raise NotFound("board %s does not exist; create it with the start playbook or 'orchestra board init'"
                       % path) from None
    return parse(decode(data, path), path)


def lock_path(path: str) -> str:
    return path + ".lock"


def archive_path(path: str) -> str:
    base, ext = os.path.splitext(path)
    return base + ".archive" + (ext or ".md")


class locked:  # noqa: N801 - used like a function: ``with locked(path):``
    """Hold the board's exclusive lock (flock on ``<board>.lock``); LockTimeout after ``timeout`` seconds.

    flock is released by the kernel when its holder dies, so a killed
    writer never leaves the board locked.
    """

    def __init__(self, path: str, timeout: float = 10.0):
        self.path, self.timeout, self.fd = path, timeout, None

    def __enter__(self):
        path = self.path
        try:
            self.fd = os.open(lock_path(path), os.O_RDWR | os.O_CREAT, 0o600)
        except FileNotFoundError:
            raise NotFound("directory %s does not exist; create it first or fix the board's path"
                           % os.path.dirname(os.path.abspath(path))) from None
        deadline = time.monotonic() + self.timeout
        delay = 0.001
        while True:
            try:
                fcntl.flock(self.fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except OSError as exc:
                if exc.errno not in (errno.EAGAIN, errno.EACCES):
                    self.__exit__()
                    raise
                if time.monotonic() >= deadline:
                    self.__exit__()
                    holder = lock_path(path)
                    raise LockTimeout("could not lock %s within %.1fs: another writer holds %s; retry, or find the "
                                      "stuck process with 'fuser %s'" % (path, self.timeout, holder, holder)) from None
                time.sleep(delay)
                delay = min(delay * 2, 0.05)

    def __exit__(self, *exc_info):
        if self.fd is not None:
            os.close(self.fd)  # closing the descriptor releases the lock
            self.fd = None


def atomic_write(path: str, text: str, mode: int | None = None) -> None:
    """Replace ``path`` with ``text``: temp file beside it, fsync, rename, fsync of the directory."""
    directory = os.path.dirname(os.path.abspath(path))
    if mode is None:
        try:
            mode = os.stat(path).st_mode & 0o7777
        except FileNotFoundError:
            mode = 0o644
    # tempfile would do, but importing it costs a tenth of an `orchestra` command.
    temp = os.path.join(directory, ".%s.%d.%s.tmp" % (os.path.basename(path), os.getpid(), os.urandom(4).hex()))
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(fd, "wb") as stream:
            stream.write(text.encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())
        os.chmod(temp, mode)
        os.replace(temp, path)
    except BaseException:
        try:
            os.unlink(temp)
        except FileNotFoundError:
            pass
        raise
    dir_fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def append_archive(path: str, lines: list[str], newline: str) -> None:
    """Append entries to the archive beside the board (created with a heading), then fsync.

    Runs before the board is replaced: a writer killed in between leaves
    the entries in both files, never in neither.
    """
    target = archive_path(path)
    fresh = not os.path.exists(target)
    fd = os.open(target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    try:
        text = ("# Board archive" + newline + newline if fresh else "") + "".join(line + newline for line in lines)
        os.write(fd, text.encode("utf-8"))
        os.fsync(fd)
    finally:
        os.close(fd)


def load_archive(path: str) -> list[Entry]:
    """Entries moved off the board (completions and messages), oldest first."""
    try:
        with open(archive_path(path), "rb") as stream:
            text = decode(stream.read(), archive_path(path))
    except FileNotFoundError:
        return []
    lines = [_strip_eol(line) for dummy, line in _lines_with_offsets(text)]
    entries = []
    current: list[str] = []
    for line in lines + ["### [END-0]"]:
        if line.startswith("### ") and current:
            block = Block("archive", 0, current, "", "")
            prefix = "MSG" if current[0].startswith("### [MSG-") else "TASK"
            kind = MESSAGES if prefix == "MSG" else COMPLETIONS
            try:
                entries.extend(_parse_entries(archive_path(path), block, kind).entries)
            except BoardError:
                pass  # a hand-damaged archive entry is skipped, the rest still counts
            current = []
        if line.startswith("### "):
            current = [line]
        elif current:
            current.append(line)
    return entries


class Outcome:
    """What a transaction did: the operation's result, whether the board changed, and both texts."""

    __slots__ = ("result", "changed", "before", "after")

    def __init__(self, result, changed: bool, before: str, after: str):
        self.result, self.changed, self.before, self.after = result, changed, before, after

    def diff(self, path: str) -> dict:
        """The board before and after, as Ansible's diff mode shows it."""
        return {"before": self.before, "after": self.after, "before_header": path, "after_header": path}


def transact(path: str, operation, lock_timeout: float = 10.0, policy: ArchivePolicy | None = None,
             write: bool = True, create: bool = False, backup=None) -> Outcome:
    """Locked read-modify-write: ``operation(board)`` edits the parsed board; if it changed anything
    and ``write`` is true, the archive and then the board are written. ``create`` starts from an
    empty file when the board does not exist; ``backup(path)`` runs, under the lock, just before
    an existing board is replaced.

    Any BoardError raised by the parse or the operation leaves the file untouched.
    """
    with locked(path, lock_timeout):
        if create and not os.path.exists(path):
            before, board = "", parse("", path)
        else:
            board = load(path)
            before = board.text
        result = operation(board)
        if not board.changed:
            return Outcome(result, False, before, before)
        moved = archive(board, policy or ArchivePolicy())
        after = board.render()
        if write:
            if moved:
                append_archive(path, moved, board.newline)
            if backup is not None and before:
                backup(path)
            atomic_write(path, after)
        return Outcome(result, after != before, before, after)


def update(path: str, operation, lock_timeout: float = 10.0, policy: ArchivePolicy | None = None):
    """transact() for callers that want only the operation's result (the orchestra command)."""
    return transact(path, operation, lock_timeout, policy).result


def ensure_board(path: str, kinds=SECTIONS, present: bool = True, reset: bool = False, insert_after: str | None = None,
                 create: bool = False, check_mode: bool = False, lock_timeout: float = 10.0, backup=None) -> Outcome:
    """The ``board`` module's work: managed sections present (added, or emptied with ``reset``) or absent.

    The outcome's result is the list of section names added, reset or removed.
    """
    if not os.path.exists(path):
        if not present:
            return Outcome([], False, "", "")
        if not create:
            raise NotFound("board %s does not exist; set create: true to create it, or fix the path" % path)

    def operation(board: Board) -> list[str]:
        if not present:
            return remove_sections(board, kinds)
        if not board.parts:
            board.parts.append("# CLAUDE.md" + board.newline + board.newline)
        return ensure_sections(board, kinds, reset=reset, insert_after=insert_after)

    return transact(path, operation, lock_timeout, write=not check_mode, create=create, backup=backup)


def ensure_task(path: str, task_id: str | None = None, check_mode: bool = False, lock_timeout: float = 10.0,
                **fields) -> Outcome:
    """The ``board_task`` module's work: update the task with ``task_id``, or, without an id, the
    queued task with the same title, else add a new one. The outcome's result is
    ``(task facts, created)``.
    """

    def operation(board: Board):
        section = board.section(TASKS)
        if task_id:
            entry, dummy = update_task(board, task_id, **fields)
            return task_facts(entry), False
        title = _clean_value(_require(fields.get("title") or "", "title (or id)")).replace("\n", " ")
        existing = next((entry for entry in section.entries if entry.heading == title), None)
        if existing is not None:
            entry, dummy = update_task(board, existing.entry_id, **fields)
            return task_facts(entry), False
        entry = add_task(board, title, fields.get("assigned_to") or "", fields.get("priority") or "MEDIUM",
                         fields.get("description") or "", fields.get("files") or "",
                         status=fields.get("status") or "PENDING")
        return task_facts(entry), True

    return transact(path, operation, lock_timeout, write=not check_mode)


def id_number(entry_id: str) -> int:
    """The number of an entry id ('MSG-012' -> 12); 0 when it has none."""
    number = entry_id.rpartition("-")[2]
    return int(number) if number.isdigit() and number.isascii() else 0
