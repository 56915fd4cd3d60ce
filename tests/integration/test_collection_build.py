"""The built collection tarball installs and runs the same as the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

from conftest import REPO

pytestmark = pytest.mark.playbook
BIN = Path(sys.executable).parent


def test_built_collection_installs_and_runs_its_playbook(tmux, tmp_path):
    env = dict(os.environ, ANSIBLE_HOME=str(tmp_path / "home"), ANSIBLE_NOCOLOR="1")
    build = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "build", str(REPO), "--output-path", str(tmp_path)],
                           cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert build.returncode == 0, build.stdout + build.stderr
    tarball = tmp_path / "moana-orchestration-0.1.0.tar.gz"
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    assert "plugins/modules/tmux_session.py" in names and "playbooks/layout.yml" in names
    assert not [n for n in names if n.split("/")[0] in (".collections", ".venv", ".ci", "bench", ".cache")]

    collections = tmp_path / "collections"
    install = subprocess.run([str(BIN / "ansible-galaxy"), "collection", "install", str(tarball), "-p", str(collections)],
                             cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert install.returncode == 0, install.stdout + install.stderr

    # Run from elsewhere, so neither the checkout's ansible.cfg nor its symlink is seen.
    inventory = tmp_path / "hosts.yml"
    inventory.write_text("all:\n  hosts:\n    localhost:\n      ansible_connection: local\n"
                         "      ansible_python_interpreter: \"{{ ansible_playbook_python }}\"\n")
    env["ANSIBLE_COLLECTIONS_PATH"] = str(collections)
    command = [str(BIN / "ansible-playbook"), "-i", str(inventory), "moana.orchestration.layout",
               "-e", "layout_socket_name=%s layout_start_directory=%s" % (tmux.socket_name, tmp_path)]
    first = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "changed=1" in first.stdout
    assert sorted(tmux.panes("moana-orchestration")) == ["amp", "antigravity", "claude", "codex", "proxy"]
    second = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True, check=False)
    assert second.returncode == 0 and "changed=0" in second.stdout
