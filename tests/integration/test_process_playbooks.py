"""background_process and background_process_info through real ansible-playbook runs."""

from __future__ import annotations

import sys

import pytest

from conftest import free_port
from test_process import PROGRAMS, gone

pytestmark = pytest.mark.playbook
SECRET = "never-print-me-51c0"


def play(tasks):
    return [{"name": "process", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]


def test_started_twice_check_mode_info_and_stopped_twice(tmp_path, playbook):
    port = free_port()
    common = {"name": "web", "pidfile": str(tmp_path / "web.pid"), "log_file": str(tmp_path / "logs" / "web.log")}
    readiness = {"url": "http://127.0.0.1:%d/health" % port, "json_path": "counts.available", "json_op": "gt",
                 "json_value": 0, "timeout": 10}
    start = {"name": "Start", "moana.orchestration.background_process": dict(
        common, command=[sys.executable, str(PROGRAMS / "http_server.py"), str(port)], readiness=readiness,
        environment={"API_KEY": SECRET})}
    info = {"name": "Info", "moana.orchestration.background_process_info": dict(common, readiness=readiness, log_lines=5)}
    stop = {"name": "Stop", "moana.orchestration.background_process": dict(common, state="stopped")}
    try:
        check = playbook(play([start]), "--check")
        assert check.returncode == 0 and check.recap()["changed"] == 1
        assert not (tmp_path / "web.pid").exists()

        first = playbook(play([start, info]), "-vvv")
        assert first.returncode == 0, first.stdout + first.stderr
        assert first.recap()["changed"] == 1 and SECRET not in first.stdout + first.stderr
        facts = first.result("Info")
        assert facts["running"] and facts["healthy"] and "listening on %d" % port in facts["log_tail"]
        pid = facts["pid"]

        second = playbook(play([start]))
        assert second.returncode == 0 and second.recap()["changed"] == 0
        assert second.result("Start")["pid"] == pid

        stopped = playbook(play([stop, stop, info]))
        assert stopped.returncode == 0 and stopped.recap()["changed"] == 1
        assert gone(pid) and stopped.result("Info")["running"] is False
    finally:
        playbook(play([stop]))


def test_failed_start_reports_the_log(tmp_path, playbook):
    task = {"name": "Start", "moana.orchestration.background_process": {
        "name": "broken", "command": "sh -c 'echo missing config.json >&2; exit 3'",
        "pidfile": str(tmp_path / "b.pid"), "log_file": str(tmp_path / "b.log")}}
    run = playbook(play([task]))
    assert run.returncode != 0
    message = run.result("Start")["msg"]
    assert "broken exited with status 3" in message and "missing config.json" in message
