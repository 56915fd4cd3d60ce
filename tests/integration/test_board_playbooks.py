"""board, board_task and board_info through real ansible-playbook runs."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.playbook

USER_TEXT = "# Project\r\n\r\nNotes with CRLF endings.\r\n"


def play(tasks):
    return [{"name": "board", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]


def board_task(path, **args):
    return {"name": "Board", "moana.orchestration.board": {"path": str(path), **args}}


def test_board_sections_idempotent_check_and_diff(tmp_path, playbook):
    path = tmp_path / "CLAUDE.md"
    path.write_bytes(USER_TEXT.encode())

    check = playbook(play([board_task(path)]), "--check", "--diff")
    assert check.returncode == 0 and check.recap()["changed"] == 1
    assert "+<!-- BEGIN moana.orchestration: task-queue -->" in check.stdout
    assert path.read_bytes() == USER_TEXT.encode()  # check mode wrote nothing

    first = playbook(play([board_task(path)]))
    assert first.recap()["changed"] == 1
    assert first.result("Board")["sections"] == ["task-queue", "completion-log", "llm-status", "messages"]
    text = path.read_bytes().decode()
    assert text.startswith(USER_TEXT) and "\n" not in text.replace("\r\n", "")

    second = playbook(play([board_task(path)]), "--diff")
    assert second.returncode == 0 and second.recap()["changed"] == 0
    assert path.read_bytes().decode() == text

    absent = playbook(play([board_task(path, sections=["messages"], state="absent", backup=True)]))
    assert absent.recap()["changed"] == 1
    backup = absent.result("Board")["backup_file"]
    with open(backup, "rb") as stream:
        assert stream.read().decode() == text
    assert "moana.orchestration: messages" not in path.read_text()


def test_missing_board_needs_create_and_malformed_board_is_untouched(tmp_path, playbook):
    path = tmp_path / "CLAUDE.md"
    run = playbook(play([board_task(path)]))
    assert run.returncode != 0
    assert "does not exist; set create: true" in run.results[-1]["result"]["msg"]
    assert not path.exists()

    created = playbook(play([board_task(path, create=True)]))
    assert created.recap()["changed"] == 1 and path.read_text().startswith("# CLAUDE.md\n\n<!-- BEGIN")

    broken = path.read_text() + "<!-- BEGIN moana.orchestration: messages -->\n"
    path.write_text(broken)
    run = playbook(play([board_task(path)]))
    assert run.returncode != 0
    message = run.results[-1]["result"]["msg"]
    assert "section 'messages' is begun twice" in message and ":%d:" % broken.count("\n") in message
    assert path.read_text() == broken


def test_board_task_and_board_info(tmp_path, playbook):
    path = tmp_path / "CLAUDE.md"
    add = {"name": "Task", "register": "task", "moana.orchestration.board_task": {
        "path": str(path), "title": "Unit tests", "assigned_to": "codex", "priority": "LOW", "files": "api.ts"}}
    info = {"name": "Info", "moana.orchestration.board_info": {"path": str(path), "stale_after": 60}}
    first = playbook(play([board_task(path, create=True), add, info]))
    assert first.returncode == 0, first.stdout
    assert first.result("Task")["id"] == "TASK-001" and first.result("Task")["created"] is True
    facts = first.result("Info")
    assert facts["exists"] and facts["tasks_by_agent"] == {"codex": ["TASK-001"]} and facts["tasks"][0]["files"] == "api.ts"

    again = playbook(play([add]))
    assert again.recap()["changed"] == 0 and again.result("Task")["id"] == "TASK-001"

    raise_priority = {"name": "Raise", "moana.orchestration.board_task": {"path": str(path), "id": "1", "priority": "HIGH",
                                                                          "status": "IN_PROGRESS"}}
    check = playbook(play([raise_priority]), "--check", "--diff")
    assert check.recap()["changed"] == 1 and "+- **Priority**: HIGH" in check.stdout
    assert "- **Priority**: LOW" in path.read_text()
    playbook(play([raise_priority]))
    text = path.read_text()
    started = next(line for line in text.splitlines() if line.startswith("- **Started**: "))
    path.write_text(text.replace(started, "- **Started**: 2020-01-01 00:00"))
    stale = playbook(play([info]))
    assert stale.result("Info")["stale_tasks"] == ["TASK-001"]

    missing = playbook(play([{"name": "Info", "moana.orchestration.board_info": {"path": str(tmp_path / "none.md")}}]))
    assert missing.returncode == 0 and missing.result("Info")["exists"] is False
    unknown = playbook(play([{"name": "Task", "moana.orchestration.board_task": {"path": str(path), "id": "TASK-9", "priority": "LOW"}}]))
    assert unknown.returncode != 0 and "TASK-009 is not in the task queue" in unknown.results[-1]["result"]["msg"]
