"""The board format and its operations, on strings and temp files. No agents, no Ansible."""

from __future__ import annotations

import datetime
import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.moana.orchestration.plugins.module_utils import _board as B

T0 = datetime.datetime(2026, 11, 24, 9, 0)

# The seed's two formats ("Format de Mise à Jour"), ids filled in, inside the markers.
SEED_BOARD = """# Moana Yachting

Project notes the user wrote.

<!-- BEGIN moana.orchestration: task-queue -->
## Task Assignment Queue

### [TASK-001] Titre
- **Assigned To**: amp
- **Priority**: HIGH
- **Status**: PENDING
- **Description**: Build the booking form
- **Files Involved**: src/booking.tsx
- **Date**: 2026-11-24 09:00

<!-- END moana.orchestration: task-queue -->

<!-- BEGIN moana.orchestration: completion-log -->
## Task Completion Log

### [TASK-000] COMPLETED
- **Completed By**: codex
- **Date**: 2026-11-23 18:00
- **Duration**: 12 minutes
- **Changes Made**: Added tests
- **Files Modified**: tests/booking.test.ts

<!-- END moana.orchestration: completion-log -->
"""


def full(text: str = SEED_BOARD) -> B.Board:
    board = B.parse(text)
    B.ensure_sections(board)
    return B.parse(board.render())


def test_seed_examples_parse():
    board = B.parse(SEED_BOARD)
    task = board.section(B.TASKS).entries[0]
    assert task.entry_id == "TASK-001" and task.heading == "Titre"
    assert B.task_facts(task)["assigned_to"] == "amp" and task.get("Files Involved") == "src/booking.tsx"
    done = B.completion_facts(board.section(B.COMPLETIONS).entries[0])
    assert done == {"id": "TASK-000", "completed_by": "codex", "date": "2026-11-23 18:00", "duration": "12 minutes",
                    "changes": "Added tests", "files": "tests/booking.test.ts"}


def test_the_seed_template_placeholder_is_named_not_guessed():
    text = SEED_BOARD.replace("### [TASK-001] Titre", "### [TASK-XXX] Titre")
    with pytest.raises(B.BoardParseError) as err:
        B.parse(text).section(B.TASKS).entries
    assert err.value.line == 8 and "has no id" in str(err.value)


@pytest.mark.parametrize("text", [
    SEED_BOARD,
    SEED_BOARD.replace("\n", "\r\n"),
    "\ufeff" + SEED_BOARD,
    SEED_BOARD.rstrip("\n"),
    "",
    "no markers at all\n",
    "trailing spaces   \n\n\n<!-- BEGIN moana.orchestration: messages -->\n<!-- END moana.orchestration: messages -->",
])
def test_parse_then_render_is_byte_for_byte(text):
    board = B.parse(text)
    for kind in B.SECTIONS:
        if board.has(kind):
            board.section(kind)  # parsing a section must not change its bytes either
    rendered = board.render()
    expected = text if not text.endswith("-->") else text + "\n"  # a block always ends its last line
    assert rendered == expected


def test_crlf_boards_stay_crlf_after_an_edit():
    board = full(SEED_BOARD.replace("\n", "\r\n"))
    B.add_task(board, "Another", "codex", at=T0)
    out = board.render()
    assert "\r\n" in out and "\n" not in out.replace("\r\n", "")


def test_task_lifecycle_with_duration_and_status():
    board = full()
    B.set_status(board, "amp", "IDLE", role="worker", at=T0)
    task = B.add_task(board, "Login form", "amp", "high", "two\nlines", "a.ts", at=T0)
    assert task.entry_id == "TASK-002"  # after TASK-001 queued and TASK-000 completed
    assert "- **Description**: two\n  lines\n" in board.render()
    B.start_task(board, "2", "amp", at=T0 + datetime.timedelta(minutes=5))
    row = board.section(B.STATUS).find("amp")
    assert (row["State"], row["Current Task"], row["Role"]) == ("IN_PROGRESS", "TASK-002", "worker")
    done = B.complete_task(board, "TASK-002", "amp", "did it", "a.ts", at=T0 + datetime.timedelta(minutes=47))
    assert done.get("Duration") == "42 minutes"
    assert board.section(B.TASKS).find("TASK-002") is None
    assert board.section(B.COMPLETIONS).entries[-1].entry_id == "TASK-002"
    assert board.section(B.STATUS).find("amp")["State"] == "IDLE"
    text = B.parse(board.render())
    assert B.facts(text)["completions"][-1]["changes"] == "did it"


def test_claims_conflict_clearly():
    board = full()
    B.start_task(board, "TASK-001", "amp", at=T0)
    B.start_task(board, "TASK-001", "amp", at=T0)  # again: nothing to do
    with pytest.raises(B.Conflict, match="already in progress with amp"):
        B.start_task(board, "TASK-001", "codex")
    with pytest.raises(B.Conflict, match="in progress with amp, not codex"):
        B.complete_task(board, "TASK-001", "codex")
    other = B.add_task(board, "For codex", "codex", at=T0)
    with pytest.raises(B.Conflict, match="assigned to codex, not amp"):
        B.start_task(board, other.entry_id, "amp")
    with pytest.raises(B.NotFound, match="TASK-099 is not in the task queue"):
        B.start_task(board, "99", "amp")


def test_fail_keeps_the_task_with_its_reason():
    board = full()
    B.start_task(board, "1", "amp", at=T0)
    B.fail_task(board, "1", "API down\nretry later")
    task = B.task_facts(board.section(B.TASKS).find("TASK-001"))
    assert task["status"] == "FAILED" and task["reason"] == "API down\nretry later"
    B.start_task(board, "1", "amp", at=T0)  # a failed task can be taken again
    assert B.task_facts(board.section(B.TASKS).find("TASK-001"))["reason"] is None


@pytest.mark.parametrize("bad, what", [
    (lambda b: B.add_task(b, "", "amp"), "title is empty"),
    (lambda b: B.add_task(b, "t", "amp", priority="urgent"), "priority 'urgent' is not one of HIGH, MEDIUM, LOW"),
    (lambda b: B.set_status(b, "amp", "sleeping"), "state 'sleeping' is not one of"),
    (lambda b: B.send_message(b, "claude", "amp", "  "), "message text is empty"),
    (lambda b: B.get_task(b, "T-1"), "'T-1' is not a task id"),
])
def test_bad_values_are_named(bad, what):
    with pytest.raises(B.BoardError, match=what.replace("(", r"\(")):
        bad(full())


def test_values_cannot_inject_entries_or_markers():
    board = full()
    B.add_task(board, "x", "amp", description="ok\n### [TASK-999] fake\n<!-- END moana.orchestration: task-queue -->")
    again = B.parse(board.render())
    assert [e.entry_id for e in again.section(B.TASKS).entries] == ["TASK-001", "TASK-002"]
    assert "fake" in again.section(B.TASKS).entries[1].get("Description")


def test_status_table_escapes_pipes_and_keeps_rows():
    board = full()
    B.set_status(board, "a|b", "BLOCKED", role="worker | tests", at=T0)
    again = B.parse(board.render())
    row = again.section(B.STATUS).find("a|b")
    assert row["Role"] == "worker | tests" and row["State"] == "BLOCKED"


@pytest.mark.parametrize("text, line, words", [
    ("<!-- BEGIN moana.orchestration: messages -->\n<!-- BEGIN moana.orchestration: messages -->\n", 2, "begins inside"),
    ("<!-- BEGIN moana.orchestration: messages -->\nx\n<!-- END moana.orchestration: messages -->\n"
     "<!-- BEGIN moana.orchestration: messages -->\n<!-- END moana.orchestration: messages -->\n", 4, "begun twice"),
    ("a\n<!-- BEGIN moana.orchestration: task-queue -->\n## Task Assignment Queue\n", 2, "never closed"),
    ("<!-- END moana.orchestration: task-queue -->\n", 1, "without its BEGIN"),
    ("<!-- BEGIN moana.orchestration: tasks -->\n<!-- END moana.orchestration: tasks -->\n", 1, "unknown section 'tasks'"),
])
def test_malformed_markers_name_the_line(text, line, words):
    with pytest.raises(B.BoardParseError) as err:
        B.parse(text, "CLAUDE.md")
    assert err.value.line == line and words in str(err.value) and str(err.value).startswith("CLAUDE.md:%d:" % line)


def test_malformed_entries_name_the_line():
    dup = SEED_BOARD.replace("<!-- END moana.orchestration: task-queue -->",
                             "### [TASK-001] again\n\n<!-- END moana.orchestration: task-queue -->")
    with pytest.raises(B.BoardParseError, match=r":16: TASK-001 appears twice .*first on line 8"):
        B.parse(dup).section(B.TASKS).entries
    table = ("<!-- BEGIN moana.orchestration: llm-status -->\n| Agent | State |\n| --- | --- |\n| amp | IDLE | extra |\n"
             "<!-- END moana.orchestration: llm-status -->\n")
    with pytest.raises(B.BoardParseError, match=r":4: status row has 3 cells, the header has 2"):
        B.parse(table).section(B.STATUS)


def test_ensure_sections_adds_missing_keeps_existing_and_resets_on_demand():
    board = B.parse(SEED_BOARD)
    assert B.ensure_sections(board) == ["llm-status", "messages"]
    text = board.render()
    # The queue gained the board's identity under its heading; nothing else of it changed.
    identity = "<!-- board-id: %s -->\n" % board.board_id()
    assert text.count(identity) == 1 and text.replace(identity, "").startswith(SEED_BOARD)
    again = B.parse(text)
    assert B.ensure_sections(again) == [] and not again.changed
    assert B.ensure_sections(again, [B.TASKS], reset=True) == ["task-queue"]
    assert again.section(B.TASKS).entries == []


def test_insert_after_places_new_sections_after_a_matching_line():
    board = B.parse("# Title\n## Orchestration\nmy text\n")
    B.ensure_sections(board, [B.MESSAGES], insert_after="^## Orchestration")
    assert board.render() == ("# Title\n## Orchestration\n\n<!-- BEGIN moana.orchestration: messages -->\n"
                              "## Inter-LLM Messages\n<!-- last-id: MSG-000 -->\n\n"
                              "<!-- END moana.orchestration: messages -->\n\nmy text\n")


def test_remove_sections_leaves_user_text():
    board = full("top\n")
    assert B.remove_sections(board) == ["task-queue", "completion-log", "llm-status", "messages"]
    assert board.render().strip() == "top"


def test_archive_moves_oldest_completions_and_old_messages():
    board = full()
    for n in range(5):
        task = B.add_task(board, "t%d" % n, "amp", at=T0)
        B.complete_task(board, task.entry_id, "amp", at=T0)
    B.send_message(board, "a", "b", "old", at=T0 - datetime.timedelta(days=10))
    for n in range(3):
        B.send_message(board, "a", "b", "m%d" % n, at=T0)
    moved = B.archive(board, B.ArchivePolicy(keep_completions=2, keep_messages=2, max_message_age_days=7), at=T0)
    assert [e.entry_id for e in board.section(B.COMPLETIONS).entries] == ["TASK-005", "TASK-006"]
    assert [e.get("Text") for e in board.section(B.MESSAGES).entries] == ["m1", "m2"]
    headers = [line for line in moved if line.startswith("### ")]
    assert headers == ["### [TASK-000] COMPLETED"] + ["### [TASK-%03d] COMPLETED" % n for n in (2, 3, 4)] + [
        "### [MSG-001] a -> b", "### [MSG-002] a -> b"]


def test_ids_are_never_reused_after_archiving(tmp_path):
    path = str(tmp_path / "CLAUDE.md")
    B.atomic_write(path, B.new_board_text())
    policy = B.ArchivePolicy(keep_completions=0)

    def add_and_finish(board):
        task = B.add_task(board, "t", "amp")
        B.complete_task(board, task.entry_id, "amp")
        return task.entry_id

    ids = [B.update(path, add_and_finish, policy=policy) for dummy in range(3)]
    assert ids == ["TASK-001", "TASK-002", "TASK-003"]
    assert [e.entry_id for e in B.load_archive(path)] == ids
    # Even with the counter line removed by hand, the archive keeps ids unique.
    text = open(path).read().replace("<!-- last-id: TASK-003 -->\n", "")
    B.atomic_write(path, text)
    assert B.update(path, lambda b: B.add_task(b, "t", "amp").entry_id) == "TASK-004"


def test_failed_update_leaves_the_file_untouched_and_keeps_mode(tmp_path):
    path = tmp_path / "CLAUDE.md"
    path.write_text(SEED_BOARD)
    os.chmod(path, 0o640)
    before = path.read_bytes()
    with pytest.raises(B.Conflict):
        B.update(str(path), lambda b: (B.start_task(b, "1", "amp"), B.start_task(b, "1", "codex")))
    assert path.read_bytes() == before
    broken = SEED_BOARD.replace("<!-- END moana.orchestration: task-queue -->\n", "")
    path.write_text(broken)
    with pytest.raises(B.BoardParseError):
        B.update(str(path), lambda b: B.add_task(b, "t", "amp"))
    assert path.read_text() == broken
    path.write_text(SEED_BOARD)
    B.update(str(path), lambda b: B.send_message(b, "a", "b", "hi") if b.has(B.MESSAGES) else B.ensure_sections(b))
    assert os.stat(path).st_mode & 0o777 == 0o640
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_stale_tasks_and_facts():
    board = full()
    B.start_task(board, "1", "amp", at=T0)
    facts = B.facts(board, stale_minutes=30, at=T0 + datetime.timedelta(minutes=31))
    assert facts["stale_tasks"] == ["TASK-001"]
    assert facts["tasks_by_agent"] == {"amp": ["TASK-001"]} and facts["tasks_by_status"] == {"IN_PROGRESS": ["TASK-001"]}
    assert B.facts(board, stale_minutes=30, at=T0 + datetime.timedelta(minutes=29))["stale_tasks"] == []


# User text outside the markers: anything, including lines that look like ours.
user_text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=80).map(
    lambda t: t.replace("<!-- BEGIN moana", "<!-- begin moana").replace("<!-- END moana", "<!-- end moana"))
operations = st.lists(st.sampled_from(["add", "start", "done", "fail", "status", "msg", "archive"]), max_size=12)


def block(kind, nl):
    inner = "".join(line + nl for line in B.empty_section(kind))
    return "<!-- BEGIN moana.orchestration: %s -->%s%s<!-- END moana.orchestration: %s -->%s" % (
        kind.name, nl, inner, kind.name, nl)


@settings(max_examples=200, deadline=None)
@given(head=user_text, middle=user_text, tail=user_text, ops=operations, crlf=st.booleans())
def test_user_text_survives_any_operations(head, middle, tail, ops, crlf):
    nl = "\r\n" if crlf else "\n"
    # Markers must start a line, so the user text before each block ends with a newline.
    before_tasks, between = head + nl, middle + nl
    text = (before_tasks + block(B.TASKS, nl) + between + block(B.COMPLETIONS, nl) + block(B.STATUS, nl)
            + block(B.MESSAGES, nl) + tail)
    board = B.parse(text)
    for op in ops:
        queue = board.section(B.TASKS).entries
        with_id = queue[0].entry_id if queue else None
        try:
            if op == "add":
                B.add_task(board, "task", "amp", at=T0)
            elif op == "start" and with_id:
                B.start_task(board, with_id, "amp", at=T0)
            elif op == "done" and with_id:
                B.complete_task(board, with_id, "amp", at=T0)
            elif op == "fail" and with_id:
                B.fail_task(board, with_id, "why")
            elif op == "status":
                B.set_status(board, "amp", "BLOCKED", at=T0)
            elif op == "msg":
                B.send_message(board, "a", "b", "hello\nthere", at=T0)
            elif op == "archive":
                B.archive(board, B.ArchivePolicy(keep_completions=1, keep_messages=1), at=T0)
        except B.Conflict:
            pass
        board = B.parse(board.render())
    out = board.render()
    assert out.startswith(before_tasks + "<!-- BEGIN moana.orchestration: task-queue -->" + nl)
    assert ("<!-- END moana.orchestration: task-queue -->" + nl + between +
            "<!-- BEGIN moana.orchestration: completion-log -->" + nl) in out
    assert out.endswith("<!-- END moana.orchestration: messages -->" + nl + tail)


def queue_of(count: int) -> str:
    board = full("top\n")
    for n in range(count):
        B.add_task(board, "task %d" % n, "amp", at=T0)
    return board.render()


def test_an_operation_splices_what_it_changed_and_leaves_other_entries_unread():
    text = queue_of(5).replace("### [TASK-003] task 2", "### [TASK-XXX] hand-written placeholder")
    board = B.parse(text)
    B.start_task(board, "TASK-005", "amp", at=T0)  # found by its header; the placeholder is not read
    B.add_task(board, "new", "codex", at=T0)
    out = board.render()
    assert "### [TASK-XXX] hand-written placeholder\n- **Assigned To**: amp\n" in out
    assert out.count("- **Status**: IN_PROGRESS") == 1 and "### [TASK-006] new" in out
    untouched = text[text.index("### [TASK-001]"):text.index("### [TASK-005]")]
    assert untouched in out
    with pytest.raises(B.BoardParseError, match="has no id"):  # reading the whole queue still checks it
        B.parse(out).section(B.TASKS).entries


def test_an_entry_acted_on_is_checked_for_a_duplicate():
    text = queue_of(3)
    duplicate = text.replace("### [TASK-003] task 2", "### [TASK-001] task 2")
    with pytest.raises(B.BoardParseError, match=r"TASK-001 appears twice .*first on line"):
        B.start_task(B.parse(duplicate), "1", "amp")


def test_ids_skip_one_already_written_above_the_counter():
    text = queue_of(2).replace("### [TASK-002] task 1", "### [TASK-003] task 1")  # counter still says 002
    board = B.parse(text)
    assert B.add_task(board, "next", "amp", at=T0).entry_id == "TASK-004"
    assert "<!-- last-id: TASK-004 -->" in board.render()


def test_entries_removed_and_changed_in_place_keep_the_others_byte_for_byte():
    text = queue_of(4)
    board = B.parse(text)
    B.complete_task(board, "TASK-002", "amp", at=T0)
    B.fail_task(board, "TASK-004", "broken")
    out = board.render()
    for kept in ("TASK-001", "TASK-003"):
        start = text.index("### [%s]" % kept)
        entry = text[start:text.index("### [", start + 1)]
        assert entry in out
    queue = [e.entry_id for e in B.parse(out).section(B.TASKS).entries]
    assert queue == ["TASK-001", "TASK-003", "TASK-004"]
    assert B.parse(out).section(B.TASKS).find("TASK-004").get("Status") == "FAILED"


@pytest.mark.parametrize("value", ["2024-02-29 23:59", "2025-12-31 00:00", "2026-03-01 09:05", "1999-12-31 23:00"])
def test_dates_count_minutes_as_datetime_does(value):
    parsed = B.parse_date(value)
    assert parsed == datetime.datetime.strptime(value, B.DATE_FORMAT)
    later = parsed + datetime.timedelta(days=400, minutes=7)
    assert B.format_lib.minutes(later) - B.format_lib.minutes(value) == 400 * 1440 + 7
    assert B.format_lib.minutes(B.format_date(later)) == B.format_lib.minutes(later)


@pytest.mark.parametrize("value", ["", "2026-02-30 10:00", "2026-13-01 10:00", "2026-01-01 24:00", "26-01-01 10:00",
                                   "2026-01-01", "soon"])
def test_what_is_not_a_date_is_none(value):
    assert B.parse_date(value) is None and B.format_lib.minutes(value) is None
