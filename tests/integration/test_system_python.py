"""A target needs python3 and tmux only: the team's playbooks run their modules on the system Python, into
which nothing was installed (Debian 12 forbids it, PEP 668)."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.playbook
SYSTEM_PYTHON = Path("/usr/bin/python3")


def test_start_health_and_stop_run_on_a_system_python_without_libtmux(tmux, tmp_path, playbook):
    if not SYSTEM_PYTHON.exists():
        pytest.skip("no system Python at %s" % SYSTEM_PYTHON)
    if subprocess.run([str(SYSTEM_PYTHON), "-c", "import libtmux"], capture_output=True, check=False).returncode == 0:
        pytest.skip("%s can import libtmux: it would not show that the modules need none" % SYSTEM_PYTHON)
    settings = {"orchestration_team": "simulated", "orchestration_project_dir": str(tmp_path / "project"),
                "orchestration_home": str(tmp_path / "home"), "orchestration_tmux_socket_name": tmux.socket_name,
                "orchestration_stop_timeout": 3, "ansible_python_interpreter": str(SYSTEM_PYTHON)}
    (tmp_path / "vars.json").write_text(json.dumps(settings))

    def run(name):
        return playbook((REPO / "playbooks" / ("%s.yml" % name)).read_text(), "-e", "@%s" % (tmp_path / "vars.json"))

    try:
        started = run("start")
        assert started.returncode == 0, started.stdout
        assert tmux.has_session("moana-orchestration")
        health = run("health")
        assert health.returncode == 0, health.stdout
    finally:
        stopped = run("stop")
    assert stopped.returncode == 0, stopped.stdout
    assert not tmux.has_session("moana-orchestration")
