"""tmux_session and tmux_session_info through real ansible-playbook runs."""

from __future__ import annotations

import os
import signal

import pytest

pytestmark = pytest.mark.playbook

SECRET = "do-not-print-this-7f3a"


def play(tmux, tasks):
    return [{"name": "tmux layer", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]


def session_task(tmux, tmp_path, name="team", **overrides):
    args = {
        "name": name,
        "socket_name": tmux.socket_name,
        "start_directory": str(tmp_path),
        "environment": {"MOANA_TOKEN": SECRET},
        "windows": [
            {"name": "main", "layout": "tiled", "panes": [
                {"name": "claude", "command": "sleep 600"},
                {"name": "amp", "command": "sleep 600"},
                {"name": "proxy", "command": "sleep 600"},
                {"name": "codex", "command": "sleep 600"},
            ]},
            {"name": "antigravity", "panes": [
                {"name": "antigravity", "command": "sleep 600", "environment": {"API_KEY": SECRET}}]},
        ],
    }
    args.update(overrides)
    if "socket_path" in args:
        del args["socket_name"]
    return {"name": "Ensure session", "moana.orchestration.tmux_session": args, "register": "session"}


def info_task(tmux, name="team", lines=0):
    return {"name": "Read session", "moana.orchestration.tmux_session_info":
            {"name": name, "socket_name": tmux.socket_name, "lines": lines}}


def test_create_idempotent_respawn_and_remove(tmux, tmp_path, playbook):
    first = playbook(play(tmux, [session_task(tmux, tmp_path), info_task(tmux)]), "-vvv")
    assert first.returncode == 0, first.stdout + first.stderr
    assert first.recap()["changed"] == 1
    info = first.result("Read session")
    assert info["exists"] and [p["name"] for p in info["panes"]] == ["claude", "amp", "proxy", "codex", "antigravity"]
    assert all(p["alive"] for p in info["panes"])
    assert SECRET not in first.stdout + first.stderr  # no_log on every environment

    second = playbook(play(tmux, [session_task(tmux, tmp_path)]), "--diff")
    assert second.returncode == 0 and second.recap()["changed"] == 0

    os.kill(tmux.panes("team")["codex"]["pid"], signal.SIGKILL)
    tmux.wait_dead("team", "codex")
    repair = playbook(play(tmux, [session_task(tmux, tmp_path), info_task(tmux)]))
    assert repair.recap()["changed"] == 1
    assert repair.result("Ensure session")["respawned"] == ["codex"]
    assert all(p["alive"] for p in repair.result("Read session")["panes"])

    remove = {"name": "Remove", "moana.orchestration.tmux_session": {"name": "team", "socket_name": tmux.socket_name, "state": "absent"}}
    gone = playbook(play(tmux, [remove, remove, info_task(tmux)]))
    assert gone.returncode == 0 and gone.recap()["changed"] == 1
    assert gone.result("Read session")["exists"] is False


def test_check_mode_and_diff(tmux, tmp_path, playbook):
    check = playbook(play(tmux, [session_task(tmux, tmp_path)]), "--check", "--diff")
    assert check.returncode == 0 and check.recap()["changed"] == 1
    assert not tmux.has_session("team")
    assert '"name": "codex"' in check.stdout and SECRET not in check.stdout

    playbook(play(tmux, [session_task(tmux, tmp_path)]))
    extra = session_task(tmux, tmp_path)
    extra["moana.orchestration.tmux_session"]["windows"][1]["panes"].append({"name": "reviewer", "command": "sleep 600"})
    diff = playbook(play(tmux, [extra]), "--check", "--diff")
    assert diff.recap()["changed"] == 1
    assert '+                    "name": "reviewer",' in diff.stdout
    assert "reviewer" not in tmux.panes("team")


def test_info_reads_screen_lines_and_missing_sessions(tmux, tmp_path, playbook):
    talker = session_task(tmux, tmp_path, name="talk", windows=[{"name": "w", "panes": [
        {"name": "talker", "command": "echo ready-line; sleep 600"}]}])
    wait = {"name": "Wait for output", "ansible.builtin.wait_for": {"timeout": 1}}
    run = playbook(play(tmux, [info_task(tmux, "talk"), talker, wait, info_task(tmux, "talk", lines=5)]))
    assert run.returncode == 0, run.stdout
    results = [r["result"] for r in run.results if r["task"] == "Read session"]
    assert results[0]["exists"] is False and results[0]["panes"] == []
    assert "ready-line" in results[1]["panes"][0]["screen"]


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"name": ""}, "session name is empty"),
        ({"windows": [{"name": "w", "panes": [{"name": "a"}, {"name": "a"}]}]}, "pane 'a' is already described in window 'w'"),
        ({"windows": [{"name": "w", "layout": "spiral", "panes": [{"name": "a"}]}]}, "value of layout must be one of"),
        ({"socket_path": "/nonexistent-dir/sock"}, "directory /nonexistent-dir does not exist"),
    ],
)
def test_bad_input_fails_clearly_and_creates_nothing(tmux, tmp_path, playbook, overrides, message):
    task = session_task(tmux, tmp_path, **overrides)
    run = playbook(play(tmux, [task]))
    assert run.returncode != 0
    failed = [r for r in run.results if r["status"] == "failed"]
    assert failed and message in failed[0]["result"]["msg"]
    assert tmux("list-sessions", check=False) == ""  # no server, no session
    assert not os.path.exists("/nonexistent-dir")
