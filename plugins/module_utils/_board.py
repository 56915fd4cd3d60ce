# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The board (CLAUDE.md): its operations, over its format and its storage. Standard library only.

Three modules are the only code that reads or writes the board:

- ``_board_format``: markers, entries and the status table; parse and render
  (user text and untouched entries byte for byte);
- ``_board_store``: the lock, atomic writes, the archive file, the locked
  read-modify-write (``transact``);
- this module: sections, tasks, status, messages, archiving, facts; it
  re-exports what callers use of the other two, so callers import only it.

An operation reads only the sections and entries it needs and splices what it
changes into the file's text (see docs/architecture.md, "The board").
"""

from __future__ import annotations

try:
    from ansible_collections.moana.orchestration.plugins.module_utils import _board_format as format_lib
    from ansible_collections.moana.orchestration.plugins.module_utils import _board_store as store_lib
except ImportError:  # deployed on a target: the files sit side by side
    import _board_format as format_lib  # type: ignore[no-redef]
    import _board_store as store_lib  # type: ignore[no-redef]

# What callers use of the format and the storage, under the names they always had.
DATE_FORMAT, PRIORITIES, TASK_STATUSES, AGENT_STATES = (format_lib.DATE_FORMAT, format_lib.PRIORITIES,
                                                        format_lib.TASK_STATUSES, format_lib.AGENT_STATES)
SectionKind, TASKS, COMPLETIONS, STATUS, MESSAGES = (format_lib.SectionKind, format_lib.TASKS, format_lib.COMPLETIONS,
                                                     format_lib.STATUS, format_lib.MESSAGES)
SECTIONS, SECTION_BY_NAME = format_lib.SECTIONS, format_lib.SECTION_BY_NAME
BoardError, BoardParseError, NotFound, Conflict, LockTimeout = (format_lib.BoardError, format_lib.BoardParseError,
                                                                format_lib.NotFound, format_lib.Conflict,
                                                                format_lib.LockTimeout)
Board, Block, Entry, EntrySection, StatusSection = (format_lib.Board, format_lib.Block, format_lib.Entry,
                                                    format_lib.EntrySection, format_lib.StatusSection)
parse, empty_section, id_number = format_lib.parse, format_lib.empty_section, format_lib.id_number
now, format_date, parse_date = format_lib.now, format_lib.format_date, format_lib.parse_date
agent_key = format_lib.agent_key
backup_copy = store_lib.backup_copy
load, load_archive, locked, atomic_write = store_lib.load, store_lib.load_archive, store_lib.locked, store_lib.atomic_write
archive_path, lock_path, exists, getenv, Outcome = (store_lib.archive_path, store_lib.lock_path, store_lib.exists,
                                                    store_lib.getenv, store_lib.Outcome)
parse_mode, NEW_FILE_MODE = store_lib.parse_mode, store_lib.NEW_FILE_MODE

# Who the collection's own board messages come from (the dispatcher's, start's).
SENDER = "orchestra"

# Module options shared by every module that reads or writes the board
# (documented in doc_fragments/board.py).
BOARD_OPTIONS = {
    "path": {"type": "path", "required": True, "aliases": ["dest"]},
    "lock_timeout": {"type": "float", "default": 10},
}

_clean_value = format_lib.clean_value


# --------------------------------------------------------------------------- sections


def ensure_sections(board: Board, kinds=SECTIONS, reset: bool = False, insert_after: str | None = None,
                    agents=None) -> list[str]:
    """Make the board's sections managed: adopt in place those written without markers
    (``adopt_sections``), add the missing ones (at the end, or after the last line matching
    ``insert_after``) and, with ``reset``, empty the others; give the board its identity when its task
    queue has none. A section created or emptied numbers its ids after the highest one the board or
    its archive shows, so none is reused. Returns the names of the sections adopted, added or reset
    (``board.adopted`` names those adopted)."""
    pattern = _compile(insert_after)  # a bad pattern stops everything before anything changes
    highest = _Highest(board)
    done = adopt_sections(board, kinds, agents, highest)
    for kind in kinds:
        if reset and board.has(kind) and kind.name not in done:
            block = board.blocks()[kind.name]
            body = format_lib.new_block(kind, board.newline, highest.of(kind),
                                        board.board_id() if kind is TASKS else None).body
            if block.body != body:
                block.replace(body)
                done.append(kind.name)
    missing = [kind for kind in kinds if not board.has(kind)]
    if missing:
        new_parts: list = []
        for kind in missing:
            new_parts.append(format_lib.new_block(kind, board.newline, highest.of(kind),
                                                  store_lib.new_board_id() if kind is TASKS else None))
            new_parts.append(board.newline)
        new_parts.pop()  # no blank line after the last new section
        _insert(board, new_parts, pattern)
        done.extend(kind.name for kind in missing)
    if TASKS in kinds and board.has(TASKS) and board.board_id() is None:
        queue = board.section(TASKS)
        queue.set_board_id(store_lib.new_board_id())
        board.touch(queue)
    if done:
        board.changed = True
    return done


class _Highest:
    """The highest TASK and MSG numbers the board's text and its archive show (read once, when asked)."""

    def __init__(self, board: Board):
        self.board, self.numbers = board, None

    def of(self, kind: SectionKind) -> int:
        if not kind.prefix:
            return 0
        if self.numbers is None:
            board = self.board
            texts = [board.text] + [part.body for part in board.parts
                                    if isinstance(part, Block) and part.source is not board.text]
            if board.path:
                try:
                    texts.append(store_lib.read_bytes(archive_path(board.path)).decode("utf-8", "replace"))
                except FileNotFoundError:
                    pass
            found = [format_lib.highest_ids(text) for text in texts]
            self.numbers = {prefix: max(each[prefix] for each in found) for prefix in ("TASK", "MSG")}
        return self.numbers[kind.prefix]


def _compile(insert_after: str | None):
    if not insert_after:
        return None
    import re  # only here: the module avoids re's import cost (see _board_format)

    try:
        return re.compile(insert_after)
    except re.error as exc:
        raise BoardError("insert_after %r is not a valid regular expression: %s; fix the pattern (a literal "
                         "character such as '[' or '(' needs a backslash)" % (insert_after, exc)) from None


def _insert(board: Board, new_parts: list, pattern) -> None:
    """Place new blocks after the last user line matching ``pattern`` (compiled), else at the end."""
    nl = board.newline
    if pattern is not None:
        found = None
        for index, part in enumerate(board.parts):
            if not isinstance(part, str):
                continue
            offset = 0
            for line in part.split("\n"):
                if offset == len(part):
                    break  # the text ended with a line ending: no line follows it
                offset = min(offset + len(line) + 1, len(part))
                if pattern.search(line[:-1] if line.endswith("\r") else line):
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
    if isinstance(last, Block) and not last.end.endswith("\n"):
        last.end += nl  # an adopted section that ended the file without a line ending
    if board.parts and isinstance(last, str) and last and not last.endswith("\n"):
        board.parts.append(nl + nl)
    elif board.parts and text.strip() and not (isinstance(last, str) and last.endswith(nl + nl)):
        board.parts.append(nl)
    board.parts.extend(new_parts)


# --------------------------------------------------------------------------- adopting sections written without markers


def _heading_key(title: str) -> str:
    return " ".join(title.split()).lower()


def _headings(text: str) -> list[tuple[int, int, int, str]]:
    """(start, end of line, level, title) of each level 1 or 2 markdown heading in ``text``, outside
    code fences."""
    found = []
    fence = ""
    pos, size = 0, len(text)
    while pos < size:
        end = text.find("\n", pos)
        end = size if end < 0 else end + 1
        start, line = pos, text[pos:end].rstrip("\r\n")
        if pos == 0 and line.startswith("\ufeff"):
            start, line = 1, line[1:]
        stripped = line.lstrip(" ")
        if fence:
            if stripped.startswith(fence):
                fence = ""
        elif stripped.startswith("```") or stripped.startswith("~~~"):
            fence = stripped[:3]
        elif line.startswith("#"):
            level = len(line) - len(line.lstrip("#"))
            if level <= 2 and (len(line) == level or line[level] in " \t"):
                found.append((start, end, level, line[level:].strip().rstrip("#").strip()))
        pos = end
    return found


def _part_offsets(board: Board) -> list[int]:
    """Where each part starts in the text the board was parsed from."""
    offsets, position = [], 0
    for part in board.parts:
        offsets.append(position)
        position += len(part) if isinstance(part, str) else len(part.begin) + len(part.body) + len(part.end)
    return offsets


def _content_end(text: str, start: int, stop: int) -> int:
    """The end of the last line in ``text[start:stop]`` that is not blank, its line ending included."""
    last = start + len(text[start:stop].rstrip(" \t\r\n"))
    newline = text.find("\n", last, stop)
    return stop if newline < 0 else newline + 1


def _pristine(block: Block, kind: SectionKind) -> bool:
    """Whether a managed section is as it was created: nothing in it but its heading, counter and table header."""
    if len(block.body) > 1000:
        return False
    lines = [line for line in format_lib.split_lines(block.body)
             if not format_lib.match_last_id(line) and not format_lib.match_board_id(line)]
    return lines == [line for line in empty_section(kind) if not format_lib.match_last_id(line)]


def _check_adopted(board: Board, kind: SectionKind, low: int, high: int, agents) -> None:
    """Read a section about to be adopted whole (``board.text[low:high]``); BoardParseError naming the
    line of an entry that cannot be read, or of a task assigned to an agent not in ``agents``."""
    first = board.line_of(low)
    if kind is STATUS:
        format_lib.parse_status(board.text[low:high], board.path, first, board.newline)
        return
    entries = EntrySection(kind, board.text, low, high, board.path, lambda: first, board.newline).entries
    if kind is TASKS and agents:
        known = {format_lib.agent_key(agent) for agent in agents}
        for entry in entries:
            holder = entry.get("Assigned To")
            if format_lib.agent_key(holder) in known or format_lib.agent_key(holder) in ("", "-", "any"):
                continue
            field = entry.raw.find("- **Assigned To**")
            raise BoardParseError(
                board.path, board.line_of(entry.start + max(field, 0)),
                "%s is assigned to %r, who is not on the team (%s); assign it to one of them (names match "
                "without regard to case) or add that agent to the team" % (entry.entry_id, holder, ", ".join(agents)))


def adopt_sections(board: Board, kinds=SECTIONS, agents=None, highest=None) -> list[str]:
    """Make managed, in place, the sections written without markers (by a person, or by the original
    scripts): a line '## Task Assignment Queue' (or another section's title) outside the markers, and
    what follows it up to the next heading of level 1 or 2, get the section's markers; the task queue
    and the messages get their counter, after the highest id the board and its archive show, and the
    task queue the board's identity. Their entries keep their ids and every byte.

    Every entry of an adopted section is read first: one without an id, an id written twice, a task
    assigned to an agent not in ``agents`` (when given; names match without regard to case) or a
    status table without Agent and State columns raises BoardParseError with its line, before
    anything changes. A heading written twice is an error too. A managed section still as it was
    created (empty) gives way to the one written by hand; beside a managed section in use, a heading
    of the same name is left alone and named in ``board.warnings``.

    Returns the names of the sections adopted (also added to ``board.adopted``).
    """
    wanted = {_heading_key(kind.title): kind for kind in kinds}
    found: dict = {}
    for index, part in enumerate(board.parts):
        if not isinstance(part, str) or "## " not in part:
            continue
        heads = _headings(part)
        for number, (start, line_end, level, title) in enumerate(heads):
            kind = wanted.get(_heading_key(title)) if level == 2 else None
            if kind is not None:
                stop = heads[number + 1][0] if number + 1 < len(heads) else len(part)
                found.setdefault(kind, []).append((index, start, line_end, stop))
    if not found:
        return []
    offsets = _part_offsets(board)

    def line(index: int, position: int) -> int:
        return board.line_of(offsets[index] + position)

    plans = []
    for kind in kinds:
        places = found.get(kind)
        if not places:
            continue
        if len(places) > 1:
            raise BoardParseError(board.path, line(*places[1][:2]), "heading '## %s' is written twice (first on line %d) "
                                  "outside the managed sections; keep one, so that the board knows which to adopt"
                                  % (kind.title, line(*places[0][:2])))
        index, start, line_end, stop = places[0]
        replaced = board.blocks().get(kind.name)
        if replaced is not None and not _pristine(replaced, kind):
            where = " (line %d)" % board.line_of(replaced.offset) if replaced.offset is not None else ""
            board.warnings.append(
                "%s: '## %s' on line %d is outside the managed section of that name%s, so the team does not see "
                "what it holds; move its entries into the managed section and remove that heading"
                % (board.path or "the board", kind.title, line(index, start), where))
            continue
        content_end = _content_end(board.parts[index], start, stop)
        _check_adopted(board, kind, offsets[index] + start, offsets[index] + content_end, agents)
        plans.append((index, start, line_end, content_end, kind, replaced))
    if not plans:
        return []
    highest = highest or _Highest(board)
    nl = board.newline
    blocks: dict = {}
    for index, start, line_end, content_end, kind, replaced in plans:
        part = board.parts[index]
        body = part[start:content_end]
        at_end = not body.endswith("\n")  # the file ends here without a line ending, and keeps ending so
        if at_end:
            body += nl
        head = line_end - start if part[line_end - 1:line_end] == "\n" else len(body)
        counters = []
        if kind.prefix and kind is not COMPLETIONS:
            counters.append(format_lib.last_id_line(kind.prefix, highest.of(kind)))
        if kind is TASKS:
            kept = replaced and next(filter(None, map(format_lib.match_board_id, format_lib.split_lines(replaced.body))),
                                     None)
            counters.append(format_lib.board_id_line(kept or store_lib.new_board_id()))
        body = body[:head] + "".join(line + nl for line in counters) + body[head:]
        block = Block(kind.name, format_lib.begin_marker(kind.name) + nl,
                      format_lib.end_marker(kind.name) + ("" if at_end else nl), body)
        blocks.setdefault(index, []).append((start, content_end, block))
    parts: list = []
    for index, part in enumerate(board.parts):
        if index not in blocks:
            parts.append(part)
            continue
        cursor = 0
        for start, content_end, block in sorted(blocks[index], key=lambda item: item[0]):
            parts.extend([part[cursor:start], block])
            cursor = content_end
        parts.append(part[cursor:])
    for plan in plans:
        replaced = plan[5]
        if replaced is not None:  # with the blank line that separated it, as it was added
            at = next(i for i, part in enumerate(parts) if part is replaced)
            if at + 1 < len(parts) and parts[at + 1] in ("\n", "\r\n"):
                del parts[at + 1]
            elif at > 0 and parts[at - 1] in ("\n", "\r\n"):
                del parts[at - 1]
                at -= 1
            del parts[at]
    board.parts = [part for part in parts if part != ""]
    names = [plan[4].name for plan in plans]
    board.adopted.extend(names)
    board.changed = True
    return names


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
    """A new id for ``kind``: one past the section's counter, unless that id is already written
    somewhere; then, or without a counter, one past the highest id on the board (and, without a
    counter, in the archive), so ids are never reused."""
    section = board.section(kind)
    sections = [section]
    if kind is TASKS and board.has(COMPLETIONS):
        sections.append(board.section(COMPLETIONS))
    number = None
    if section.last_id is not None:
        candidate = "%s-%03d" % (kind.prefix, section.last_id + 1)
        if not any(each.mentions(candidate) for each in sections):
            number = section.last_id + 1
    if number is None:
        highest = max(each.highest_id() for each in sections)
        if section.last_id is None and board.path:
            # The counter line was removed by hand: ids already archived must not come back.
            archived = [id_number(e.entry_id) for e in load_archive(board.path) if e.entry_id.startswith(kind.prefix + "-")]
            highest = max([highest] + archived)
        number = highest + 1
    section.set_last_id(number)
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
             files: str = "", at=None, status: str = "PENDING") -> Entry:
    section = board.section(TASKS)
    title = _clean_value(_require(title, "title")).replace("\n", " ")
    fields = {
        "Assigned To": _require(assigned_to, "assigned_to"),
        "Priority": _choice(priority, PRIORITIES, "priority"),
        "Status": _choice(status, TASK_STATUSES, "status"),
        "Description": _clean_value(description) or "-",
        "Files Involved": _clean_value(files) or "-",
        "Date": format_date(at),
    }
    entry = Entry(_next_id(board, TASKS), title, fields)
    section.append(entry)
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
                entry.notes  # noqa: B018 - parse the fields and notes before the raw text goes
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
                entry.set("Started", format_date())
    if changed:
        board.touch(board.section(TASKS))
    return entry, changed


def start_task(board: Board, task_id: str, agent: str, at=None) -> Entry:
    agent = _require(agent, "agent")
    entry = get_task(board, task_id)
    holder = entry.get("Assigned To")
    status = entry.get("Status").upper()
    ours = agent_key(holder) == agent_key(agent)  # names match without regard to case ('AMP' is amp)
    if status == "IN_PROGRESS" and ours:
        # Already ours: the task stays as it is, the agent's state follows it.
        if board.has(STATUS):
            set_status(board, agent, "IN_PROGRESS", entry.entry_id, at=at)
        return entry
    if status == "IN_PROGRESS" and not ours:
        raise Conflict("%s is already in progress with %s; pick another task or ask the orchestrator"
                       % (entry.entry_id, holder))
    if not ours and agent_key(holder) not in ("", "-", "any"):
        raise Conflict("%s is assigned to %s, not %s; ask the orchestrator to reassign it"
                       % (entry.entry_id, holder, agent))
    stamp = format_date(at)
    entry.set("Assigned To", agent)
    entry.set("Status", "IN_PROGRESS")
    entry.set("Started", stamp)
    entry.drop("Reason")
    board.touch(board.section(TASKS))
    if board.has(STATUS):
        set_status(board, agent, "IN_PROGRESS", entry.entry_id, at=at)
    return entry


def complete_task(board: Board, task_id: str, agent: str, changes: str = "", files: str = "", at=None) -> Entry:
    """Move a task from the queue to the completion log, with its duration."""
    agent = _require(agent, "agent")
    entry = get_task(board, task_id)
    holder = entry.get("Assigned To")
    if entry.get("Status").upper() == "IN_PROGRESS" and agent_key(holder) not in ("", "-", agent_key(agent)):
        raise Conflict("%s is in progress with %s, not %s" % (entry.entry_id, holder, agent))
    ended = format_lib.minutes(at)
    began = format_lib.minutes(entry.get("Started")) or format_lib.minutes(entry.get("Date")) or ended
    taken = max(0, int((ended - began) // 1))
    done = Entry(entry.entry_id, "COMPLETED", {
        "Completed By": agent,
        "Date": format_date(at),
        "Duration": "%d minute%s" % (taken, "" if taken == 1 else "s"),
        "Changes Made": _clean_value(changes) or "-",
        "Files Modified": _clean_value(files) or "-",
    })
    tasks = board.section(TASKS)
    tasks.remove(entry)
    board.touch(tasks)
    log = board.section(COMPLETIONS)
    log.append(done)
    board.touch(log)
    if board.has(STATUS):
        set_status(board, agent, "IDLE", "-", at=at)
    return done


def fail_task(board: Board, task_id: str, reason: str, agent: str | None = None, at=None) -> Entry:
    entry = get_task(board, task_id)
    entry.set("Status", "FAILED")
    entry.set("Reason", _clean_value(_require(reason, "reason")))
    board.touch(board.section(TASKS))
    who = agent or entry.get("Assigned To")
    if board.has(STATUS) and who and who != "-" and board.section(STATUS).find(who) is not None:
        set_status(board, who, "IDLE", "-", at=at)
    return entry


def set_status(board: Board, agent: str, state: str, task: str | None = None, role: str | None = None,
               at=None) -> dict:
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
        wanted["Last Update"] = format_date(at)
        row.update(wanted)
        board.touch(section)
    return dict(row)


def send_message(board: Board, sender: str, recipient: str, text: str, at=None) -> Entry:
    section = board.section(MESSAGES)
    sender, recipient = _require(sender, "from"), _require(recipient, "to")
    fields = {"From": sender, "To": recipient, "Date": format_date(at), "Text": _clean_value(_require(text, "message text"))}
    entry = Entry(_next_id(board, MESSAGES), "%s -> %s" % (sender, recipient), fields)
    section.append(entry)
    board.touch(section)
    return entry


# --------------------------------------------------------------------------- archive


class ArchivePolicy:
    """How much history the board keeps; the rest moves to the archive file (None: no age limit)."""

    __slots__ = ("keep_completions", "keep_messages", "max_message_age_days")

    def __init__(self, keep_completions: int = 20, keep_messages: int = 50, max_message_age_days: float | None = 7.0):
        self.keep_completions = keep_completions
        self.keep_messages = keep_messages
        self.max_message_age_days = max_message_age_days


def archive(board: Board, policy: ArchivePolicy, at=None) -> list[str]:
    """Take the oldest completions and messages beyond the policy off the board; return their lines.

    Both sections are kept short by this, so reading them whole on every
    write costs the same however long the board's history is.
    """
    moved: list[str] = []
    if board.has(COMPLETIONS) and policy.keep_completions >= 0:
        log = board.section(COMPLETIONS)
        extra = log.count() - policy.keep_completions
        if extra > 0:
            entries = log.entries
            for entry in entries[:extra]:
                moved.extend(format_lib.split_lines(entry.render(COMPLETIONS.fields)))
            log.set_entries(entries[extra:])
            board.touch(log)
    if board.has(MESSAGES):
        messages = board.section(MESSAGES)
        aged = policy.max_message_age_days is not None
        count = messages.count()
        if count and (aged or 0 <= policy.keep_messages < count):
            keep = list(messages.entries)
            if aged:
                ended = format_lib.minutes(at)
                limit = ended - policy.max_message_age_days * 1440
                keep = [m for m in keep if (format_lib.minutes(m.get("Date")) or ended) >= limit]
            if policy.keep_messages >= 0 and len(keep) > policy.keep_messages:
                keep = keep[len(keep) - policy.keep_messages:]
            if len(keep) != len(messages.entries):
                kept = set(id(m) for m in keep)
                for entry in messages.entries:
                    if id(entry) not in kept:
                        moved.extend(format_lib.split_lines(entry.render(MESSAGES.fields)))
                messages.set_entries(keep)
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


def facts(board: Board, stale_minutes: float | None = None, at=None) -> dict:
    """The whole board as plain data (for board_info and ``orchestra --json``)."""
    tasks = [task_facts(e) for e in board.section(TASKS).entries] if board.has(TASKS) else []
    result = {
        "board_id": board.board_id(),
        "sections": [part.name for part in board.parts if isinstance(part, Block)],
        "tasks": tasks,
        "tasks_by_status": {},
        "tasks_by_agent": {},
        "completions": [completion_facts(e) for e in board.section(COMPLETIONS).entries] if board.has(COMPLETIONS) else [],
        "agents": [status_facts(r) for r in board.section(STATUS).rows] if board.has(STATUS) else [],
        "messages": [message_facts(e) for e in board.section(MESSAGES).entries] if board.has(MESSAGES) else [],
        "stale_tasks": [],
    }
    current = format_lib.minutes(at)
    for task in tasks:
        result["tasks_by_status"].setdefault(task["status"], []).append(task["id"])
        result["tasks_by_agent"].setdefault(task["assigned_to"], []).append(task["id"])
        if stale_minutes is not None and task["status"] == "IN_PROGRESS":
            began = format_lib.minutes(task["started"] or task["date"] or "")
            if began is not None and current - began > stale_minutes:
                result["stale_tasks"].append(task["id"])
    return result


def info(path: str, stale_minutes: float | None = None) -> dict:
    """``facts`` of the board at ``path`` with ``exists``; a missing board reads as an empty one."""
    if not exists(path):
        return dict(facts(parse("", path)), exists=False)
    return dict(facts(load(path), stale_minutes), exists=True)


# --------------------------------------------------------------------------- transactions


def transact(path: str, operation, lock_timeout: float = 10.0, policy: ArchivePolicy | None = None,
             write: bool = True, create: bool = False, backup=None, mode: int = NEW_FILE_MODE) -> Outcome:
    """Locked read-modify-write (``_board_store.transact``) that archives what the policy moves off."""
    return store_lib.transact(path, operation, lock_timeout, write, create, backup,
                              lambda board: archive(board, policy or ArchivePolicy()), mode)


def update(path: str, operation, lock_timeout: float = 10.0, policy: ArchivePolicy | None = None):
    """transact() for callers that want only the operation's result (the orchestra command)."""
    return transact(path, operation, lock_timeout, policy).result


def ensure_board(path: str, kinds=SECTIONS, present: bool = True, reset: bool = False, insert_after: str | None = None,
                 create: bool = False, check_mode: bool = False, lock_timeout: float = 10.0, backup=None,
                 backup_always: bool = False, agents=None, mode: int = NEW_FILE_MODE) -> Outcome:
    """The ``board`` module's work: managed sections present (adopted, added, or emptied with ``reset``)
    or absent; see ``ensure_sections``. ``agents``: the team's names, to check the tasks of adopted
    sections against. ``backup(path)`` runs just before an existing board is replaced when sections
    were adopted, or on any change with ``backup_always``. ``mode``: a board created here gets it (and so
    its lock file and archive); an existing one keeps its mode and owner.

    Nothing is archived, except that removing the completion log or the messages moves their entries
    to the archive. The outcome's result: ``sections`` (names adopted, added, reset or removed),
    ``adopted``, ``board_id`` (None without a task queue) and ``warnings``.
    """
    if not exists(path):
        if not present:
            return Outcome({"sections": [], "adopted": [], "board_id": None, "warnings": []}, "", "")
        if not create:
            raise NotFound("board %s does not exist; set create: true to create it, or fix the path" % path)
    _compile(insert_after)  # a bad pattern is reported before the board is read
    adopted: list[str] = []
    removed: list[str] = []

    def operation(board: Board) -> dict:
        if not present:
            # The history of a section removed goes to the archive, as archiving would move it: a
            # section restored later numbers its ids after it.
            for kind in (COMPLETIONS, MESSAGES):
                block = board.blocks().get(kind.name) if kind in kinds else None
                if block is not None:
                    body = block.body
                    first = 0 if body.startswith("### ") else body.find("\n### ") + 1
                    if first > 0 or body.startswith("### "):
                        removed.extend(format_lib.split_lines(body[first:].rstrip("\r\n")) + [""])
            names = remove_sections(board, kinds)
        else:
            if not board.parts:
                board.parts.append("# CLAUDE.md" + board.newline + board.newline)
            names = ensure_sections(board, kinds, reset=reset, insert_after=insert_after, agents=agents)
        adopted.extend(board.adopted)
        return {"sections": names, "adopted": list(board.adopted), "board_id": board.board_id(),
                "warnings": list(board.warnings)}

    def keep_copy(board_path: str) -> None:
        if backup_always or adopted:
            backup(board_path)

    # Only the sections change: the history is archived by the operations' writes, not here (an
    # adopted board keeps every entry it had).
    return store_lib.transact(path, operation, lock_timeout, not check_mode, create,
                              keep_copy if backup is not None else None, lambda board: removed, mode)


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
