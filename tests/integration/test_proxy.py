"""The proxy kept on loopback: the real antigravity-claude-proxy through background_process, and a
stand-in the loopback preload cannot reach (a Python program ignores NODE_OPTIONS), which must fail closed."""

from __future__ import annotations

import json
import os
import shutil
import sys

import pytest

from conftest import REPO, free_port, wait_for
from ansible_collections.moana.orchestration.plugins.module_utils import _process as P

LOOPBACK_JS = REPO / "roles" / "orchestration" / "files" / "loopback-only.js"
STANDIN = REPO / "tests" / "integration" / "programs" / "proxy_standin.py"


def find_proxy() -> str | None:
    local = REPO / ".cache" / "npm" / "bin" / "antigravity-claude-proxy"
    return str(local) if local.exists() else shutil.which("antigravity-claude-proxy")


def listening_addresses(port: int) -> set[str]:
    """Local addresses of sockets listening on ``port``, read from /proc/net (no traffic sent)."""
    found = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with open(table, encoding="ascii") as stream:
            for line in stream.readlines()[1:]:
                local, state = line.split()[1], line.split()[3]
                address, hex_port = local.split(":")
                if state == "0A" and int(hex_port, 16) == port:
                    found.add(address)
    return found


def test_real_proxy_starts_on_loopback_only_and_stops(tmp_path):
    proxy = find_proxy()
    if proxy is None or shutil.which("node") is None:
        pytest.skip("antigravity-claude-proxy or Node.js is not installed (scripts/setup.sh --test installs it with npm)")
    port = free_port()
    url = "http://127.0.0.1:%d/health" % port
    spec = P.Spec("proxy", [proxy, "start"], chdir=str(tmp_path),
                  environment={"PORT": str(port), "HOME": str(tmp_path), "NODE_OPTIONS": "--require %s" % LOOPBACK_JS},
                  pidfile=str(tmp_path / "proxy.pid"), log_file=str(tmp_path / "proxy.log"),
                  readiness={"url": url, "timeout": 30}, listen="loopback")
    try:
        started = P.ensure(spec, "started")
        assert started["running"] and started["healthy"], started
        assert started["listening"] == ["127.0.0.1:%d" % port] and started["exposed"] == []
        # Without accounts it answers but cannot serve: the role's readiness (available > 0) says so.
        strict = dict(spec.readiness, json_path="counts.available", json_op="gt", json_value=0)
        ready, seen = P.probe(P.check_readiness(strict))
        assert not ready and "counts.available is 0" in seen
        assert listening_addresses(port) == {"0100007F"}, "the proxy listens beyond 127.0.0.1"
        assert not P.ensure(spec, "started")["changed"]
    finally:
        stopped = P.ensure(spec, "stopped")
    assert stopped["changed"] and not P.status(spec)["running"]
    # The socket goes with the last of the proxy's processes, which may end a moment after the one recorded.
    wait_for(lambda: listening_addresses(port) == set(), 10, "port %d closed" % port)
    print("proxy %s: started, loopback only, stopped" % proxy, file=sys.stderr)


def standin_spec(tmp_path, port, host, listen):
    return P.Spec("proxy", [sys.executable, str(STANDIN), str(port), host], chdir=str(tmp_path),
                  pidfile=str(tmp_path / "proxy.pid"), log_file=str(tmp_path / "proxy.log"),
                  readiness={"url": "http://127.0.0.1:%d/health" % port, "json_path": "counts.available", "json_op": "gt",
                             "json_value": 0, "timeout": 10}, listen=listen)


def test_a_loopback_only_process_listening_on_every_interface_is_stopped_with_the_address_and_the_fix(tmp_path):
    port = free_port()
    spec = standin_spec(tmp_path, port, "0.0.0.0", "loopback")
    with pytest.raises(P.ProcessError) as failed:
        P.ensure(spec, "started")
    message = str(failed.value)
    assert message.startswith("proxy listens on 0.0.0.0:%d, which other machines can reach" % port), message
    assert "orchestration_proxy_loopback_only: false" in message and message.endswith("it was stopped")
    assert not P.status(spec)["running"] and not os.path.exists(spec.pidfile)
    assert listening_addresses(port) == set()


def test_listeners_are_reported_and_judged_by_listen(tmp_path):
    port = free_port()
    spec = standin_spec(tmp_path, port, "0.0.0.0", "any")
    try:
        started = P.ensure(spec, "started")
        assert started["listening"] == ["0.0.0.0:%d" % port] and started["exposed"] == ["0.0.0.0:%d" % port]
        assert P.health(spec)["healthy"]
        strict = standin_spec(tmp_path, port, "0.0.0.0", "loopback")
        looked = P.health(strict)
        assert looked["running"] and not looked["healthy"] and looked["exposed"] == ["0.0.0.0:%d" % port]
        # Started again, it would listen there again: stopped, and the task fails.
        with pytest.raises(P.ProcessError, match="listens on 0.0.0.0:%d" % port):
            P.ensure(strict, "started")
        assert not P.status(spec)["running"]
    finally:
        P.ensure(spec, "stopped")
    loopback = standin_spec(tmp_path, port, "127.0.0.1", "loopback")
    try:
        started = P.ensure(loopback, "started")
        assert started["healthy"] and started["listening"] == ["127.0.0.1:%d" % port] and started["exposed"] == []
        assert P.health(loopback)["healthy"]
    finally:
        P.ensure(loopback, "stopped")


def proxy_team(tmp_path, tmux, host, **extra):
    """Settings for start.yml: a simulated team whose worker uses the stand-in proxy on ``host``."""
    port = free_port()
    agents = [{"name": "boss", "role": "orchestrator", "command": "orchestra simulate --role orchestrator"},
              {"name": "antigravity", "role": "worker", "complexity": "high", "uses_proxy": True,
               "command": "orchestra simulate"}]
    settings = {"orchestration_agents": agents, "orchestration_project_dir": str(tmp_path / "project"),
                "orchestration_home": str(tmp_path / "my home"), "orchestration_tmux_socket_name": tmux.socket_name,
                "orchestration_stop_timeout": 3, "orchestration_proxy_port": port, "orchestration_dispatcher": False,
                "orchestration_proxy_command": "%s %s %d %s" % (sys.executable, STANDIN, port, host),
                "orchestration_proxy_dir": str(tmp_path / "proxy"), "orchestration_proxy_pidfile": str(tmp_path / "proxy.pid")}
    settings.update(extra)
    return port, settings


def run_playbook(playbook, tmp_path, name, settings):
    (tmp_path / "vars.json").write_text(json.dumps(settings))
    return playbook((REPO / "playbooks" / ("%s.yml" % name)).read_text(), "-e", "@%s" % (tmp_path / "vars.json"))


@pytest.mark.playbook
def test_the_role_stops_a_proxy_listening_beyond_loopback_unless_the_user_allows_it(tmux, tmp_path, playbook):
    port, settings = proxy_team(tmp_path, tmux, "0.0.0.0")
    refused = run_playbook(playbook, tmp_path, "start", settings)
    try:
        assert refused.returncode != 0
        message = refused.result("Start the proxy and wait until it is ready")["msg"]
        assert "antigravity-proxy listens on 0.0.0.0:%d, which other machines can reach" % port in message, message
        assert "orchestration_proxy_loopback_only: false" in message and "it was stopped" in message
        assert not (tmp_path / "proxy.pid").exists() and listening_addresses(port) == set()

        allowed = run_playbook(playbook, tmp_path, "start", dict(settings, orchestration_proxy_loopback_only=False))
        assert allowed.returncode == 0, allowed.stdout
        assert allowed.result("Start the proxy and wait until it is ready")["listening"] == ["0.0.0.0:%d" % port]
        # health reads the choice from the team's record.
        health = run_playbook(playbook, tmp_path, "health", {"orchestration_tmux_socket_name": tmux.socket_name,
                                                             "orchestration_home": settings["orchestration_home"]})
        assert health.returncode == 0, health.stdout
        # Health with loopback required names the exposure and its fix.
        strict = run_playbook(playbook, tmp_path, "health", {"orchestration_tmux_socket_name": tmux.socket_name,
                                                             "orchestration_home": settings["orchestration_home"],
                                                             "orchestration_proxy_loopback_only": True})
        assert strict.returncode != 0
        problems = strict.result("Build the health report")["problems"]
        assert len(problems) == 1 and problems[0].startswith("proxy: listens on 0.0.0.0:%d, which other machines" % port)
    finally:
        stopped = run_playbook(playbook, tmp_path, "stop", settings)
    assert stopped.returncode == 0, stopped.stdout
    assert listening_addresses(port) == set()


@pytest.mark.playbook
def test_the_role_keeps_a_users_node_options_after_the_preload_and_a_loopback_proxy_is_healthy(tmux, tmp_path, playbook):
    port, settings = proxy_team(tmp_path, tmux, "127.0.0.1",
                                orchestration_proxy_environment={"NODE_OPTIONS": "--max-old-space-size=256"})
    try:
        started = run_playbook(playbook, tmp_path, "start", settings)
        assert started.returncode == 0, started.stdout
        assert started.result("Start the proxy and wait until it is ready")["listening"] == ["127.0.0.1:%d" % port]
        pid = json.loads((tmp_path / "proxy.pid").read_text())["pid"]
        with open("/proc/%d/environ" % pid, "rb") as stream:
            environ = dict(item.split(b"=", 1) for item in stream.read().split(b"\0") if b"=" in item)
        preload = tmp_path / "my home" / "lib" / "loopback-only.js"
        assert preload.exists()
        assert environ[b"NODE_OPTIONS"].decode() == '--require "%s" --max-old-space-size=256' % preload
        health = run_playbook(playbook, tmp_path, "health", settings)
        assert health.returncode == 0, health.stdout
        proxy = health.result("Build the health report")["report"]["proxy"]
        assert proxy["healthy"] and proxy["listening"] == ["127.0.0.1:%d" % port] and proxy["exposed"] == []
    finally:
        stopped = run_playbook(playbook, tmp_path, "stop", settings)
    assert stopped.returncode == 0, stopped.stdout
    wait_for(lambda: listening_addresses(port) == set(), 5, "the proxy's port to be free")
