"""background_process's core with real processes, ports and signals."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import free_port, wait_for
from ansible_collections.moana.orchestration.plugins.module_utils import _process as P

PROGRAMS = Path(__file__).resolve().parent / "programs"


def spec(tmp_path, name="web", command=None, readiness=None, **extra):
    return P.Spec(name, command, pidfile=str(tmp_path / "run" / (name + ".pid")),
                  log_file=str(tmp_path / "logs" / (name + ".log")), readiness=readiness, **extra)


def http_spec(tmp_path, port, available=1, **extra):
    return spec(tmp_path, command=[sys.executable, str(PROGRAMS / "http_server.py"), str(port), str(available)],
                readiness={"url": "http://127.0.0.1:%d/health" % port, "json_path": "counts.available",
                           "json_op": "gt", "json_value": 0, "timeout": 10}, **extra)


def gone(pid: int) -> bool:
    stat = P.read_stat(pid)
    return stat is None or stat[0] in ("Z", "X")


@pytest.fixture
def cleanup():
    specs = []
    yield specs.append
    for item in specs:
        P.stop(item, timeout=1)


def test_http_server_lifecycle(tmp_path, cleanup):
    port = free_port()
    web = http_spec(tmp_path, port, environment={"SECRET_TOKEN": "s3cret"})
    cleanup(web)
    first = P.ensure(web, "started")
    assert first["changed"] and first["running"] and first["healthy"]
    assert "counts.available > 0" in first["probe"]
    pid = first["pid"]
    # Private files, and the secret is not in the pidfile.
    assert os.stat(web.pidfile).st_mode & 0o777 == 0o600 and os.stat(web.log_file).st_mode & 0o777 == 0o600
    assert os.stat(os.path.dirname(web.pidfile)).st_mode & 0o777 == 0o700
    assert "s3cret" not in Path(web.pidfile).read_text()
    # Detached: its own session, not ours.
    assert P.read_stat(pid)[3] == pid != os.getsid(0)

    again = P.ensure(web, "started")
    assert not again["changed"] and again["pid"] == pid and again["uptime"] >= 0

    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: gone(pid), 5, "the killed server's exit")
    down = P.health(web)
    assert not down["running"] and not down["healthy"] and down["stale_pidfile"]

    revived = P.ensure(web, "started")
    assert revived["changed"] and revived["pid"] != pid and revived["healthy"]
    assert revived["actions"] == ["remove stale pidfile %s" % web.pidfile, "start web"]

    restarted = P.ensure(web, "restarted")
    assert restarted["changed"] and restarted["pid"] != revived["pid"]
    assert gone(revived["pid"])

    stopped = P.ensure(web, "stopped")
    assert stopped["changed"] and not stopped["running"] and gone(restarted["pid"])
    assert not os.path.exists(web.pidfile)
    assert not P.ensure(web, "stopped")["changed"]


def test_changed_environment_restarts_and_unhealthy_is_reported(tmp_path, cleanup):
    port = free_port()
    web = http_spec(tmp_path, port)
    cleanup(web)
    pid = P.ensure(web, "started")["pid"]
    changed = http_spec(tmp_path, port, environment={"NEW": "1"})
    result = P.ensure(changed, "started")
    assert result["changed"] and result["pid"] != pid
    assert "changed" in result["actions"][0]

    # Same server, but a probe it fails: reported, then restarted only on request.
    strict = http_spec(tmp_path, port, environment={"NEW": "1"})
    strict.readiness["json_value"] = 5
    with pytest.raises(P.ProcessError, match=r"running \(pid \d+\) but unhealthy: .*counts.available is 1 \(wanted counts.available > 5\)"):
        P.ensure(strict, "started")
    strict.readiness["timeout"] = 1.0
    with pytest.raises(P.ProcessError, match="did not become ready within 1.0s; last probe: .*counts.available is 1"):
        P.ensure(strict, "started", restart_unhealthy=True)
    assert not P.status(strict)["running"]  # a failed start leaves nothing running


def test_sigterm_ignored_means_sigkill_after_the_timeout(tmp_path, cleanup):
    stubborn = spec(tmp_path, "stubborn", [sys.executable, str(PROGRAMS / "ignore_term.py")], stop_timeout=1)
    cleanup(stubborn)
    pid = P.ensure(stubborn, "started")["pid"]
    # It says so once its handler is in place.
    wait_for(lambda: "ignoring SIGTERM" in Path(stubborn.log_file).read_text(), 10, "the program's handler")
    start = time.monotonic()
    result = P.stop(stubborn)
    assert result["killed"] == [pid] and gone(pid)
    assert 1 <= time.monotonic() - start < 5


def test_setsid_grandchild_is_found_and_stopped(tmp_path, cleanup):
    marker = tmp_path / "grandchild.pid"
    forker = spec(tmp_path, "forker", [sys.executable, str(PROGRAMS / "setsid_grandchild.py"), str(marker)])
    cleanup(forker)
    leader = P.ensure(forker, "started")["pid"]
    wait_for(marker.exists, 5, "the grandchild's pid file")
    grandchild = int(marker.read_text())
    state, parent, group, session, dummy = P.read_stat(grandchild)
    # Orphaned, in another session and group: only the token finds it.
    assert session != leader and group != leader and parent != leader
    result = P.stop(forker)
    assert grandchild in result["stopped"]
    wait_for(lambda: gone(grandchild), 5, "the grandchild's exit")


def test_pidfile_naming_an_unrelated_process_is_stale_and_never_signalled(tmp_path, cleanup):
    bystander = subprocess.Popen(["sleep", "60"])
    try:
        web = http_spec(tmp_path, free_port())
        cleanup(web)
        os.makedirs(os.path.dirname(web.pidfile), exist_ok=True)
        stat = P.read_stat(bystander.pid)
        # Same pid and even the same start time, but not the command line we started.
        Path(web.pidfile).write_text(json.dumps({"pid": bystander.pid, "starttime": stat[4], "pgid": bystander.pid,
                                                 "cmdline": ["python3", "server.py"], "token": "web:feedface"}))
        assert P.status(web)["stale_pidfile"] and not P.status(web)["running"]
        assert P.ensure(web, "stopped")["actions"] == ["remove stale pidfile %s" % web.pidfile]
        started = P.ensure(web, "started")
        assert started["running"] and started["pid"] != bystander.pid
        assert bystander.poll() is None, "the unrelated process was signalled"
    finally:
        bystander.kill()
        bystander.wait()


def test_command_that_exits_at_once_fails_with_the_log_tail(tmp_path):
    broken = spec(tmp_path, "broken", ["sh", "-c", "echo cannot open config.json >&2; exit 3"],
                  readiness={"type": "tcp", "port": free_port(), "timeout": 5})
    with pytest.raises(P.ProcessError) as err:
        P.ensure(broken, "started")
    assert "broken exited with status 3 right after it started" in str(err.value)
    assert "cannot open config.json" in str(err.value)
    assert not os.path.exists(broken.pidfile)
    with pytest.raises(P.ProcessError, match="command 'no-such-program-x' was not found"):
        P.ensure(spec(tmp_path, "missing", ["no-such-program-x"]), "started")


def test_port_taken_by_another_program_fails_before_starting(tmp_path, cleanup):
    port = free_port()
    other = subprocess.Popen([sys.executable, str(PROGRAMS / "http_server.py"), str(port)], stdout=subprocess.PIPE)
    try:
        assert other.stdout.readline().startswith(b"listening")
        web = http_spec(tmp_path, port)
        cleanup(web)
        with pytest.raises(P.ProcessError, match=r"127.0.0.1:%d is already in use by another program" % port):
            P.ensure(web, "started")
        assert not os.path.exists(web.pidfile) and other.poll() is None
    finally:
        other.kill()
        other.wait()


@pytest.mark.parametrize("bad, words", [
    ({"name": "a/b", "command": ["x"]}, "name 'a/b' must be"),
    ({"name": "a", "command": ""}, "command is empty"),
    ({"name": "a", "command": ["x"], "chdir": "/nope/nope"}, "chdir: directory /nope/nope does not exist"),
    ({"name": "a", "command": ["x"], "readiness": {"type": "http", "url": "ftp://x"}}, "must be an http://"),
    ({"name": "a", "command": ["x"], "readiness": {"type": "tcp"}}, "a tcp probe needs a port"),
    ({"name": "a", "command": ["x"], "readiness": {"url": "http://h/", "json_path": "a", "json_op": "~"}}, "json_op '~'"),
])
def test_bad_input_is_refused_before_anything_runs(bad, words):
    with pytest.raises(P.ProcessError, match=words.replace("(", r"\(")):
        P.Spec(**bad)
