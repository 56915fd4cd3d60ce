"""The real antigravity-claude-proxy through background_process, kept on loopback."""

from __future__ import annotations

import shutil
import sys

import pytest

from conftest import REPO, free_port
from ansible_collections.moana.orchestration.plugins.module_utils import _process as P

LOOPBACK_JS = REPO / "roles" / "orchestration" / "files" / "loopback-only.js"


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
                  readiness={"url": url, "timeout": 30})
    try:
        started = P.ensure(spec, "started")
        assert started["running"] and started["healthy"], started
        # Without accounts it answers but cannot serve: the role's readiness (available > 0) says so.
        strict = dict(spec.readiness, json_path="counts.available", json_op="gt", json_value=0)
        ready, seen = P.probe(P.check_readiness(strict))
        assert not ready and "counts.available is 0" in seen
        assert listening_addresses(port) == {"0100007F"}, "the proxy listens beyond 127.0.0.1"
        assert not P.ensure(spec, "started")["changed"]
    finally:
        stopped = P.ensure(spec, "stopped")
    assert stopped["changed"] and not P.status(spec)["running"]
    assert listening_addresses(port) == set()
    print("proxy %s: started, loopback only, stopped" % proxy, file=sys.stderr)
