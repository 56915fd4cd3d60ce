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
load, load_archive, locked, atomic_write = store_lib.load, store_lib.load_archive, store_lib.locked, store_lib.atomic_write
archive_path, lock_path, exists, getenv, Outcome = (store_lib.archive_path, store_lib.lock_path, store_lib.exists,
                                                    store_lib.getenv, store_lib.Outcome)

# Module options shared by every module that reads or writes the board
# (documented in doc_fragments/board.py).
BOARD_OPTIONS = {
    "path": {"type": "path", "required": True, "aliases": ["dest"]},
    "lock_timeout": {"type": "float", "default": 10},
}

_clean_value = format_lib.clean_value


# --------------------------------------------------------------------------- sections


def ensure_sections(board: Board, kinds=SECTIONS, reset: bool = False, insert_after: str | None = None) -> list[str]:
    """Add missing sections (at the end, or after the last line matching ``insert_after``); with
    ``reset``, empty existing ones. Returns the names of the sections added or reset."""
    done = []
    missing = [kind for kind in kinds if not board.has(kind)]
    for kind in kinds:
        if reset and board.has(kind):
            block = board.blocks()[kind.name]
            if format_lib.split_lines(block.body) != empty_section(kind):
                block.replace(format_lib.new_block(kind, board.newline).body)
                done.append(kind.name)
    if missing:
        new_parts: list = []
        for kind in missing:
            new_parts.append(format_lib.new_block(kind, board.newline))
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
        import re  # only here: the module avoids re's import cost (see _board_format)

        pattern = re.compile(insert_after)
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
    if entry.get("Status").upper() == "IN_PROGRESS" and holder not in ("", "-", agent):
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
             write: bool = True, create: bool = False, backup=None) -> Outcome:
    """Locked read-modify-write (``_board_store.transact``) that archives what the policy moves off."""
    return store_lib.transact(path, operation, lock_timeout, write, create, backup,
                              lambda board: archive(board, policy or ArchivePolicy()))


def update(path: str, operation, lock_timeout: float = 10.0, policy: ArchivePolicy | None = None):
    """transact() for callers that want only the operation's result (the orchestra command)."""
    return transact(path, operation, lock_timeout, policy).result


def ensure_board(path: str, kinds=SECTIONS, present: bool = True, reset: bool = False, insert_after: str | None = None,
                 create: bool = False, check_mode: bool = False, lock_timeout: float = 10.0, backup=None) -> Outcome:
    """The ``board`` module's work: managed sections present (added, or emptied with ``reset``) or absent.

    The outcome's result is the list of section names added, reset or removed.
    """
    if not exists(path):
        if not present:
            return Outcome([], "", "")
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
