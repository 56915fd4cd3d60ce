"""A CLAUDE.md written without markers is adopted in place; the board's identity; ids never reused."""

from __future__ import annotations

import datetime
import os

import pytest

from ansible_collections.moana.orchestration.plugins.module_utils import _board as B

T0 = datetime.datetime(2026, 11, 24, 9, 0)
TEAM = ["claude", "amp", "antigravity", "codex"]

# The original scripts' board: the four headings, no markers, entries in their format, a status table
# with its own columns. Written with CRLF and without a final newline below.
SEED = """# Moana Yachting

Project notes, *café* — kept.

## Task Assignment Queue

### [TASK-001] Implement user authentication
- **Assigned To**: AMP
- **Priority**: HIGH
- **Status**: PENDING
- **Description**: Add JWT auth to the API
- **Files Involved**: backend/auth.py
- **Date**: 2025-12-22 10:30
- **Reviewer**: julien

### [TASK-003] Write the API tests
- **Assigned To**: Codex
- **Priority**: LOW
- **Status**: PENDING
- **Description**: pytest
- **Files Involved**: tests/
- **Date**: 2025-12-22 10:40

## Task Completion Log

### [TASK-000] COMPLETED
- **Completed By**: Codex
- **Date**: 2025-12-21 18:00
- **Duration**: 12 minutes
- **Changes Made**: project set up
- **Files Modified**: package.json

### [TASK-004] COMPLETED
- **Completed By**: AMP
- **Date**: 2025-12-22 09:00
- **Duration**: 5 minutes
- **Changes Made**: lint
- **Files Modified**: .eslintrc

## Current LLM Status

| LLM | Status | Current Task | Last Updated | Notes |
|-----|--------|--------------|--------------|-------|
| Claude | IDLE | - | - | plans the work |
| AMP | IN_PROGRESS | TASK-001 | 2025-12-22 10:31 | pairing |

## Inter-LLM Messages

### [MSG-002] claude -> amp
- **From**: claude
- **To**: amp
- **Date**: 2025-12-22 10:32
- **Text**: TASK-001 is yours"""

CRLF_SEED = SEED.replace("\n", "\r\n")


def without_our_lines(text: str) -> str:
    """The text with the lines adoption adds taken out again (markers, counters, identity)."""
    ours = ("<!-- BEGIN moana.orchestration: ", "<!-- END moana.orchestration: ", "<!-- last-id: ", "<!-- board-id: ")
    lines = text.splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(ours)]
    out = "".join(kept)
    if lines and lines[-1].startswith(ours) and not lines[-1].endswith("\n"):
        out = out[:-2] if out.endswith("\r\n") else out[:-1]  # the line ending put before the last marker
    return out


def adopt(text: str, agents=tuple(TEAM)) -> B.Board:
    board = B.parse(text, "CLAUDE.md")
    B.ensure_sections(board, agents=agents)
    return board


def test_the_seed_board_is_adopted_in_place_byte_for_byte():
    board = adopt(CRLF_SEED)
    assert board.adopted == ["task-queue", "completion-log", "llm-status", "messages"] and board.warnings == []
    out = board.render()
    assert without_our_lines(out) == CRLF_SEED  # every byte of the user's, in order
    assert "\n" not in out.replace("\r\n", "") and not out.endswith("\n")  # CRLF, and still no final newline
    for title in ("Task Assignment Queue", "Task Completion Log", "Current LLM Status", "Inter-LLM Messages"):
        assert out.count("## " + title) == 1
    assert "<!-- BEGIN moana.orchestration: task-queue -->\r\n## Task Assignment Queue\r\n<!-- last-id: TASK-004 -->\r\n" \
           "<!-- board-id: %s -->\r\n\r\n### [TASK-001]" % board.board_id() in out
    assert "<!-- last-id: MSG-002 -->" in out

    again = B.parse(out, "CLAUDE.md")
    assert B.ensure_sections(again, agents=TEAM) == [] and not again.changed
    facts = B.facts(again)
    assert facts["board_id"] == board.board_id() and len(facts["board_id"]) == 16
    assert [t["id"] for t in facts["tasks"]] == ["TASK-001", "TASK-003"]
    assert facts["tasks"][0]["assigned_to"] == "AMP" and [c["id"] for c in facts["completions"]] == ["TASK-000", "TASK-004"]
    assert facts["agents"][1] == {"agent": "AMP", "role": None, "state": "IN_PROGRESS", "task": "TASK-001",
                                  "updated": "2025-12-22 10:31"}
    assert [m["id"] for m in facts["messages"]] == ["MSG-002"]


def test_adopted_entries_work_with_every_operation():
    board = B.parse(adopt(CRLF_SEED).render())
    assert B.add_task(board, "Next", "amp", at=T0).entry_id == "TASK-005"  # after TASK-004, in the completion log
    assert B.send_message(board, "amp", "claude", "ok", at=T0).entry_id == "MSG-003"
    B.start_task(board, "TASK-001", "amp", at=T0)  # 'AMP' is amp
    B.complete_task(board, "TASK-001", "amp", "auth", at=T0)
    B.set_status(board, "claude", "BLOCKED", at=T0)
    out = board.render()
    assert "\n" not in out.replace("\r\n", "")
    again = B.parse(out)
    status = again.section(B.STATUS)
    assert [row["Agent"] for row in status.rows] == ["Claude", "AMP"]  # found as claude and amp, no row added
    assert status.find("amp")["State"] == "IDLE" and status.find("CLAUDE")["State"] == "BLOCKED"
    # The status table's column the board does not use is kept, after ours.
    assert "| Agent | Role | State | Current Task | Last Update | Notes |" in out and "| plans the work |" in out
    # So is a task's field the board does not use, when the task is written anew.
    B.update_task(again, "TASK-003", priority="HIGH")
    B.set_status(again, "codex", "IDLE", at=T0)
    assert "- **Priority**: HIGH" in again.render() and "| codex | - | IDLE | - | 2026-11-24 09:00 | - |" in again.render()
    assert "- **Reviewer**: julien" in adopt(SEED).render()


def test_an_unreadable_entry_names_its_line_and_changes_nothing():
    unknown = SEED.replace("- **Assigned To**: Codex", "- **Assigned To**: gemini")
    with pytest.raises(B.BoardParseError) as err:
        adopt(unknown)
    line = unknown.splitlines().index("- **Assigned To**: gemini") + 1
    assert err.value.line == line and "TASK-003 is assigned to 'gemini', who is not on the team" in str(err.value)
    assert "assign it to one of them" in str(err.value) and str(err.value).startswith("CLAUDE.md:%d:" % line)
    assert adopt(unknown, agents=None).adopted  # without the team's names, any name is read

    duplicate = SEED.replace("### [TASK-003] Write", "### [TASK-001] Write")
    with pytest.raises(B.BoardParseError, match=r"CLAUDE.md:16: TASK-001 appears twice .*first on line 7\); remove or renumber"):
        adopt(duplicate)
    placeholder = SEED.replace("### [MSG-002] claude -> amp", "### [MSG-XXX] claude -> amp")
    with pytest.raises(B.BoardParseError, match=r":%d: entry .* has no id" % (SEED.splitlines().index("### [MSG-002] claude -> amp") + 1)):
        adopt(placeholder)
    twice = SEED + "\n\n## Task Completion Log\n\nmore\n"
    with pytest.raises(B.BoardParseError, match=r":%d: heading '## Task Completion Log' is written twice \(first on line 24\)"
                       % (twice.count("\n") - 2)):
        adopt(twice)
    table = SEED.replace("| LLM | Status |", "| Who | Mood |")
    with pytest.raises(B.BoardParseError, match=r":%d: the status table has no Agent or State column" % (SEED.splitlines().index(
            "| LLM | Status | Current Task | Last Updated | Notes |") + 1)):
        adopt(table)


def test_failed_adoption_leaves_the_file_untouched(tmp_path):
    path = tmp_path / "CLAUDE.md"
    bad = CRLF_SEED.replace("AMP\r\n- **Priority**: HIGH", "nobody\r\n- **Priority**: HIGH")
    path.write_bytes(bad.encode())
    copies = []
    with pytest.raises(B.BoardParseError, match="TASK-001 is assigned to 'nobody'"):
        B.ensure_board(str(path), agents=TEAM, backup=copies.append)
    assert path.read_bytes() == bad.encode() and copies == []


def test_ensure_board_copies_a_board_before_adopting_it_and_check_mode_writes_nothing(tmp_path):
    path = tmp_path / "CLAUDE.md"
    path.write_bytes(CRLF_SEED.encode())
    check = B.ensure_board(str(path), agents=TEAM, check_mode=True, backup=lambda p: pytest.fail("no copy in check mode"))
    assert check.changed and check.result["adopted"] == ["task-queue", "completion-log", "llm-status", "messages"]
    assert "+<!-- BEGIN moana.orchestration: task-queue -->" not in check.after and check.after.count("BEGIN moana") == 4
    assert os.listdir(tmp_path) == ["CLAUDE.md"]  # not even the lock file
    copies = []
    done = B.ensure_board(str(path), agents=TEAM, backup=lambda p: copies.append(B.backup_copy(p)))
    assert done.result["board_id"] == B.load(str(path)).board_id() and len(copies) == 1
    with open(copies[0], "rb") as stream:
        assert stream.read() == CRLF_SEED.encode()
    # Old messages and completions stay: ensuring the sections archives nothing.
    assert without_our_lines(open(path, newline="").read()) == CRLF_SEED
    assert not os.path.exists(B.archive_path(str(path)))
    assert os.path.basename(copies[0]).startswith("CLAUDE.md.%d." % os.getpid()) and copies[0].endswith("~")
    again = B.ensure_board(str(path), agents=TEAM, backup=lambda p: pytest.fail("nothing to copy"))
    assert not again.changed and again.result == {"sections": [], "adopted": [], "board_id": done.result["board_id"],
                                                  "warnings": []}


def test_sections_are_adopted_where_they_are_and_the_missing_ones_added():
    text = "# P\n\n## Task Assignment Queue\n\n### [TASK-002] a\n- **Assigned To**: amp\n- **Status**: PENDING\n\n## Notes\n\nmine\n"
    board = adopt(text)
    assert board.adopted == ["task-queue"]
    out = board.render()
    assert out.startswith("# P\n\n<!-- BEGIN moana.orchestration: task-queue -->\n## Task Assignment Queue\n"
                          "<!-- last-id: TASK-002 -->\n")
    # The section ends before the next heading of level 2, its blank line left outside the markers.
    assert "- **Status**: PENDING\n<!-- END moana.orchestration: task-queue -->\n\n## Notes\n\nmine\n\n" \
           "<!-- BEGIN moana.orchestration: completion-log -->" in out
    assert [line for line in out.splitlines() if line.startswith("## ")] == [
        "## Task Assignment Queue", "## Notes", "## Task Completion Log", "## Current LLM Status", "## Inter-LLM Messages"]


def test_headings_in_code_fences_and_of_other_levels_are_not_sections():
    text = ("# P\n\n```markdown\n## Task Assignment Queue\n### [TASK-XXX] Titre\n```\n\n"
            "### Task Completion Log\n\n~~~\n## Inter-LLM Messages\n~~~\n")
    board = adopt(text)
    assert board.adopted == [] and board.render().startswith(text)


def test_a_byte_order_mark_stays_first():
    text = "\ufeff## Task Assignment Queue\n\n### [TASK-001] a\n- **Assigned To**: amp\n"
    out = adopt(text).render()
    assert out.startswith("\ufeff<!-- BEGIN moana.orchestration: task-queue -->\n## Task Assignment Queue\n")
    assert [e.entry_id for e in B.parse(out).section(B.TASKS).entries] == ["TASK-001"]


def test_empty_sections_added_beside_the_users_give_way_to_them():
    # What an earlier version's ensure made of such a board: the four sections again, empty, at the end.
    def block(kind):
        made = B.format_lib.new_block(kind, "\n", board_id="00ff00ff00ff00ff" if kind is B.TASKS else None)
        return made.begin + made.body + made.end

    text = SEED + "\n\n" + "\n".join(block(kind) for kind in B.SECTIONS)
    board = adopt(text)
    assert board.adopted == ["task-queue", "completion-log", "llm-status", "messages"]
    out = board.render()
    assert board.board_id() == "00ff00ff00ff00ff"  # the identity the board already had
    for title in ("Task Assignment Queue", "Task Completion Log", "Current LLM Status", "Inter-LLM Messages"):
        assert out.count("## " + title) == 1
    assert [t["id"] for t in B.facts(B.parse(out))["tasks"]] == ["TASK-001", "TASK-003"]
    assert without_our_lines(out) == SEED + "\n"  # the user's text, and the line ending before the last marker


def test_a_heading_beside_a_managed_section_in_use_is_left_with_a_warning():
    board = B.parse(B.new_board_text())
    B.add_task(board, "in use", "amp", at=T0)
    text = board.render() + "\n## Task Assignment Queue\n\n### [TASK-001] old\n"
    again = B.parse(text, "CLAUDE.md")
    assert B.ensure_sections(again) == [] and not again.changed
    assert again.warnings == ["CLAUDE.md: '## Task Assignment Queue' on line %d is outside the managed section of that "
                              "name (line 3), so the team does not see what it holds; move its entries into the managed "
                              "section and remove that heading" % (text.count("\n", 0, text.rindex("\n## Task")) + 2)]


# --------------------------------------------------------------------------- identity


def test_the_board_id_is_created_added_once_and_never_changed():
    fresh = B.parse(B.new_board_text())
    board_id = fresh.board_id()
    assert board_id and len(board_id) == 16 and B.facts(fresh)["board_id"] == board_id
    assert B.parse(B.new_board_text()).board_id() != board_id
    # An existing managed board without one gets one, once.
    old = B.new_board_text().replace("<!-- board-id: ", "<!-- no-id: ")
    board = B.parse(old)
    assert board.board_id() is None and B.facts(board)["board_id"] is None
    assert B.ensure_sections(board) == [] and board.changed
    added = board.render()
    assert added.replace("<!-- board-id: %s -->\n" % board.board_id(), "") == old
    again = B.parse(added)
    assert B.ensure_sections(again) == [] and not again.changed and again.board_id() == board.board_id()
    # Operations, archiving and a reset keep it.
    for n in range(3):
        task = B.add_task(again, "t%d" % n, "amp", at=T0)
        B.complete_task(again, task.entry_id, "amp", at=T0)
        B.send_message(again, "a", "b", "m", at=T0)
    B.archive(again, B.ArchivePolicy(keep_completions=0, keep_messages=0), at=T0)
    B.ensure_sections(again, [B.TASKS], reset=True)
    assert B.parse(again.render()).board_id() == board.board_id()
    assert B.facts(B.parse(""))["board_id"] is None
    # An identity line written by hand inside an entry is not the board's.
    text = B.new_board_text().replace("<!-- board-id: ", "<!-- x: ") + "\n"
    assert B.parse(text.replace("<!-- last-id: TASK-000 -->", "<!-- last-id: TASK-001 -->\n\n### [TASK-001] t\n"
                                "<!-- board-id: abcdef -->")).board_id() is None


def test_restored_sections_resume_after_every_id_the_board_and_archive_show(tmp_path):
    path = str(tmp_path / "CLAUDE.md")
    B.atomic_write(path, B.new_board_text())
    policy = B.ArchivePolicy(keep_completions=1, keep_messages=1, max_message_age_days=None)

    def work(board):
        for dummy in range(3):
            task = B.add_task(board, "t", "amp")
            B.complete_task(board, task.entry_id, "amp")
        for dummy in range(4):
            B.send_message(board, "a", "b", "m")

    B.update(path, work, policy=policy)
    archived = [e.entry_id for e in B.load_archive(path)]
    assert archived == ["TASK-001", "TASK-002", "MSG-001", "MSG-002", "MSG-003"]
    board_id = B.load(path).board_id()

    # The messages section removed (its entries go to the archive) and restored: MSG-004 is not used again.
    B.ensure_board(path, [B.MESSAGES], present=False)
    assert "### [MSG-004] a -> b" in open(B.archive_path(path)).read()
    assert B.ensure_board(path).result["sections"] == ["messages"]
    assert "<!-- last-id: MSG-004 -->" in open(path).read()
    assert B.update(path, lambda b: B.send_message(b, "a", "b", "again").entry_id) == "MSG-005"
    # Deleted by hand, MSG-005 with it, the archive still shows MSG-004: the section comes back after it.
    text = open(path).read()
    begin, end = text.index("<!-- BEGIN moana.orchestration: messages -->"), text.index("<!-- END moana.orchestration: messages -->")
    B.atomic_write(path, text[:begin] + text[end + len("<!-- END moana.orchestration: messages -->\n"):])
    B.ensure_board(path)
    assert "<!-- last-id: MSG-004 -->" in open(path).read()

    # The task queue deleted: its numbering resumes after the completion log (TASK-003) and the archive.
    B.ensure_board(path, [B.TASKS], present=False)
    assert B.ensure_board(path).result["sections"] == ["task-queue"]
    assert B.update(path, lambda b: B.add_task(b, "t", "amp").entry_id) == "TASK-004"
    assert B.load(path).board_id() != board_id  # its identity went with it: a new one

    # Both removed, the completion log too: its entries went to the archive, which keeps ids unique.
    B.update(path, lambda b: B.complete_task(b, "TASK-004", "amp"))
    B.ensure_board(path, [B.TASKS, B.COMPLETIONS], present=False)
    B.ensure_board(path)
    assert B.update(path, lambda b: B.add_task(b, "t", "amp").entry_id) == "TASK-005"

    # The whole board deleted (TASK-005, queued, with it) and created again beside its archive.
    os.unlink(path)
    B.ensure_board(path, create=True)
    text = open(path).read()
    assert "<!-- last-id: TASK-004 -->" in text and "<!-- last-id: MSG-004 -->" in text
    assert B.update(path, lambda b: B.send_message(b, "a", "b", "x").entry_id) == "MSG-005"


def test_a_reset_section_keeps_numbering_after_what_it_held():
    board = B.parse(B.new_board_text())
    for dummy in range(2):
        B.send_message(board, "a", "b", "m", at=T0)
    B.add_task(board, "t", "amp", at=T0)
    board = B.parse(board.render())
    assert B.ensure_sections(board, [B.MESSAGES, B.TASKS], reset=True) == ["messages", "task-queue"]
    board = B.parse(board.render())
    assert board.section(B.MESSAGES).entries == [] and board.section(B.TASKS).entries == []
    assert B.ensure_sections(board, [B.MESSAGES, B.TASKS], reset=True) == [] and not board.changed
    assert B.send_message(board, "a", "b", "m", at=T0).entry_id == "MSG-003"
    assert B.add_task(board, "t", "amp", at=T0).entry_id == "TASK-002"


def test_highest_ids_reads_ids_and_counters_only():
    text = "### [TASK-012] a\n<!-- last-id: MSG-007 -->\n[MSG-003] [TASK-XXX] TASK-099 [TASK-1x] [MSG-010\n"
    assert B.format_lib.highest_ids(text) == {"TASK": 12, "MSG": 7}


# --------------------------------------------------------------------------- names and patterns


def test_agent_names_match_without_regard_to_case():
    board = adopt(SEED)
    with pytest.raises(B.Conflict, match="assigned to AMP, not codex"):
        B.start_task(board, "TASK-001", "codex")
    B.start_task(board, "TASK-001", "Amp", at=T0)
    B.start_task(board, "TASK-001", "amp", at=T0)  # already its own
    with pytest.raises(B.Conflict, match="in progress with Amp, not codex"):
        B.complete_task(board, "TASK-001", "codex")
    B.complete_task(board, "TASK-001", "AMP", at=T0)
    assert B.agent_key("**AMP** ") == "amp"


def test_a_bad_insert_after_pattern_is_named_before_anything_changes(tmp_path):
    path = tmp_path / "CLAUDE.md"
    path.write_text("# P\n")
    with pytest.raises(B.BoardError, match=r"insert_after '\[unclosed' is not a valid regular expression: "
                                           r"unterminated character set"):
        B.ensure_board(str(path), insert_after="[unclosed")
    assert path.read_text() == "# P\n" and os.listdir(tmp_path) == ["CLAUDE.md"]
    board = B.parse("# P\n")
    with pytest.raises(B.BoardError, match="not a valid regular expression"):
        B.ensure_sections(board, insert_after="(")
    assert not board.changed and board.render() == "# P\n"
