"""The original scripts' CLAUDE.md adopted through real ansible-playbook runs, then used by the real `orchestra`."""

from __future__ import annotations

import os
import subprocess

import pytest

pytestmark = pytest.mark.playbook

TEAM = ["claude", "amp", "antigravity", "codex"]

# As the original scripts and their agents write it: the four headings, no markers, entries in the
# "Format de Mise à Jour" shape with upper-case agent names, a status table with other columns.
SEED = """# Moana Yachting — CLAUDE.md

Notes the user wrote.

## Task Assignment Queue

### [TASK-001] Implement user authentication
- **Assigned To**: AMP
- **Priority**: HIGH
- **Status**: PENDING
- **Description**: Add JWT auth to the API
- **Files Involved**: backend/auth.py
- **Date**: 2025-12-22 10:30

### [TASK-002] Booking calendar tests
- **Assigned To**: Codex
- **Priority**: LOW
- **Status**: IN_PROGRESS
- **Description**: unit tests
- **Files Involved**: tests/calendar.test.ts
- **Date**: 2025-12-22 10:35

## Task Completion Log

### [TASK-000] COMPLETED
- **Completed By**: Codex
- **Date**: 2025-12-21 18:00
- **Duration**: 12 minutes
- **Changes Made**: project set up
- **Files Modified**: package.json

## Current LLM Status

| LLM | Status | Current Task | Last Updated |
|-----|--------|--------------|--------------|
| Claude | IDLE | - | - |
| AMP | IDLE | - | - |

## Inter-LLM Messages

### [MSG-001] claude -> amp
- **From**: claude
- **To**: amp
- **Date**: 2025-12-22 10:31
- **Text**: TASK-001 is yours

## Project conventions

Use pnpm.""".replace("\n", "\r\n")  # CRLF, no final newline

OURS = ("<!-- BEGIN moana.orchestration: ", "<!-- END moana.orchestration: ", "<!-- last-id: ", "<!-- board-id: ")


def play(tasks):
    return [{"name": "adopt", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]


def without_our_lines(text: str) -> str:
    return "".join(line for line in text.splitlines(keepends=True) if not line.startswith(OURS))


def orchestra(home, board, *args):
    environ = dict(os.environ, ORCHESTRA_BOARD=str(board))
    environ.pop("ORCHESTRA_AGENT", None)
    proc = subprocess.run([str(home / "bin" / "orchestra"), *args], env=environ, capture_output=True, text=True,
                          check=False)
    assert proc.returncode == 0, "orchestra %s -> %d: %s" % (" ".join(args), proc.returncode, proc.stderr)
    return proc.stdout


def test_start_adopts_the_users_board_once_with_a_copy_and_orchestra_sees_its_tasks(tmp_path, playbook):
    project, home = tmp_path / "project", tmp_path / "home"
    project.mkdir()
    board = project / "CLAUDE.md"
    board.write_bytes(SEED.encode())
    # The archive beside it already holds TASK-006: no id of it comes back either.
    (project / "CLAUDE.archive.md").write_text("# Board archive\n\n### [TASK-006] COMPLETED\n- **Completed By**: amp\n\n")
    install = {"name": "Home", "moana.orchestration.orchestra_home": {
        "path": str(home), "board": str(board), "board_agents": TEAM}}

    check = playbook(play([install]), "--check", "--diff")
    assert check.returncode == 0, check.stdout + check.stderr
    assert check.result("Home")["board_adopted"] == ["task-queue", "completion-log", "llm-status", "messages"]
    assert "+<!-- BEGIN moana.orchestration: task-queue -->" in check.stdout
    assert "+<!-- last-id: TASK-006 -->" in check.stdout and "+<!-- board-id: " in check.stdout
    assert board.read_bytes() == SEED.encode()  # check mode: nothing written, not even a lock or a copy
    assert sorted(os.listdir(project)) == ["CLAUDE.archive.md", "CLAUDE.md"] and not home.exists()

    first = playbook(play([install]))
    assert first.returncode == 0, first.stdout + first.stderr
    result = first.result("Home")
    assert result["changed"] and result["board_adopted"] == result["board_sections"] == [
        "task-queue", "completion-log", "llm-status", "messages"]
    with open(result["board_backup_file"], "rb") as stream:
        assert stream.read() == SEED.encode()
    assert os.path.dirname(result["board_backup_file"]) == str(project)
    text = board.read_bytes().decode("utf-8")
    assert without_our_lines(text) == SEED  # every byte kept, in order
    assert "\n" not in text.replace("\r\n", "") and not text.endswith("\n")  # CRLF, still no final newline
    for heading in ("## Task Assignment Queue", "## Task Completion Log", "## Current LLM Status",
                    "## Inter-LLM Messages"):
        assert text.count(heading + "\r\n") == 1
    assert ("<!-- board-id: %s -->\r\n" % result["board_id"]) in text and len(result["board_id"]) == 16
    assert text.endswith("- **Text**: TASK-001 is yours\r\n<!-- END moana.orchestration: messages -->\r\n\r\n"
                         "## Project conventions\r\n\r\nUse pnpm.")

    second = playbook(play([install]), "--diff")
    assert second.returncode == 0 and second.recap()["changed"] == 0
    assert second.result("Home")["board_id"] == result["board_id"] and "board_backup_file" not in second.result("Home")
    assert board.read_bytes().decode("utf-8") == text

    # The agents' command sees the user's tasks, names matched without regard to case.
    listed = orchestra(home, board, "task", "list", "--to", "amp")
    assert "TASK-001" in listed and "AMP" in listed and "TASK-002" not in listed
    assert "TASK-002" in orchestra(home, board, "task", "list", "--agent", "CODEX")
    assert orchestra(home, board, "task", "add", "--to", "amp", "--title", "Password reset") == "TASK-007\n"
    assert orchestra(home, board, "msg", "send", "--from", "claude", "--to", "amp", "TASK-007 too") == "MSG-002\n"
    assert "TASK-001 started by amp" in orchestra(home, board, "task", "start", "1", "--agent", "amp")
    assert "completed by amp" in orchestra(home, board, "task", "done", "TASK-001", "--agent", "amp")
    assert orchestra(home, board, "status", "set", "amp", "IDLE").startswith("AMP is IDLE")  # its own row
    after = board.read_bytes().decode("utf-8")
    assert "\n" not in after.replace("\r\n", "") and after.endswith("## Project conventions\r\n\r\nUse pnpm.")
    assert after.count("| AMP |") == 1 and after.count("## Current LLM Status") == 1

    info = playbook(play([{"name": "Info", "moana.orchestration.board_info": {"path": str(board)}}]))
    facts = info.result("Info")
    assert facts["board_id"] == result["board_id"]  # operations never change it
    assert [t["id"] for t in facts["tasks"]] == ["TASK-002", "TASK-007"]
    assert [c["id"] for c in facts["completions"]] == ["TASK-000", "TASK-001"]


def test_an_entry_that_cannot_be_read_stops_the_adoption_and_leaves_the_file(tmp_path, playbook):
    project = tmp_path / "project"
    project.mkdir()
    board = project / "CLAUDE.md"
    bad = SEED.replace("- **Assigned To**: Codex", "- **Assigned To**: Gemini")
    board.write_bytes(bad.encode())
    adopt = {"name": "Board", "moana.orchestration.board": {"path": str(board), "agents": TEAM}}

    run = playbook(play([adopt]))
    assert run.returncode != 0
    message = run.results[-1]["result"]["msg"]
    line = bad.split("\r\n").index("- **Assigned To**: Gemini") + 1
    assert message.startswith("%s:%d: TASK-002 is assigned to 'Gemini', who is not on the team" % (board, line))
    assert "assign it to one of them" in message
    assert board.read_bytes() == bad.encode() and sorted(os.listdir(project)) == ["CLAUDE.md", "CLAUDE.md.lock"]

    duplicate = SEED.replace("### [TASK-002] Booking", "### [TASK-001] Booking")
    board.write_bytes(duplicate.encode())
    run = playbook(play([adopt]))
    message = run.results[-1]["result"]["msg"]
    assert run.returncode != 0 and ":15: TASK-001 appears twice in Task Assignment Queue (first on line 7)" in message
    assert board.read_bytes() == duplicate.encode()

    # Fixed, it is adopted by the board module too, with a copy even without backup: true.
    board.write_bytes(SEED.encode())
    done = playbook(play([adopt]))
    adopted = ["task-queue", "completion-log", "llm-status", "messages"]
    assert done.returncode == 0 and done.result("Board")["adopted"] == adopted
    with open(done.result("Board")["backup_file"], "rb") as stream:
        assert stream.read() == SEED.encode()


def test_identity_and_numbering_survive_a_section_removed_and_restored(tmp_path, playbook):
    board = tmp_path / "CLAUDE.md"
    board.write_bytes(SEED.encode())
    ensure = {"name": "Board", "moana.orchestration.board": {"path": str(board)}}
    first = playbook(play([ensure]))
    board_id = first.result("Board")["board_id"]
    assert first.returncode == 0 and board_id

    remove = {"name": "Remove", "moana.orchestration.board": {"path": str(board), "sections": ["messages"],
                                                              "state": "absent"}}
    cycle = playbook(play([remove, ensure]))
    assert cycle.returncode == 0 and cycle.result("Board")["sections"] == ["messages"]
    assert cycle.result("Board")["board_id"] == board_id
    text = board.read_bytes().decode("utf-8")
    assert "<!-- last-id: MSG-001 -->" in text  # MSG-001 went to the archive with the section, and counts
    assert "### [MSG-001] claude -> amp" in (tmp_path / "CLAUDE.archive.md").read_text()

    bad = {"name": "Bad", "moana.orchestration.board": {"path": str(board), "sections": ["messages"],
                                                        "state": "absent", "insert_after": "^## (Project"}}
    run = playbook(play([bad]))
    assert run.returncode != 0
    message = run.results[-1]["result"]["msg"]
    assert message.startswith("insert_after: '^## (Project' is not a valid regular expression: missing ), "
                              "unterminated subpattern")
    assert "Traceback" not in run.stdout + run.stderr and board.read_bytes().decode("utf-8") == text
