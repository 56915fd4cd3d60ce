"""install.yml with real npm, on local packages standing in for the agent CLIs (no registry needed)."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from conftest import REPO

pytestmark = pytest.mark.playbook


def fake_cli(root, name, script):
    package = root / name
    (package / "bin").mkdir(parents=True)
    (package / "package.json").write_text(json.dumps({"name": name, "version": "1.0.0", "bin": {name: "bin/cli.js"}}))
    (package / "bin" / "cli.js").write_text("#!/usr/bin/env node\n" + script)
    return str(package)


def test_only_the_teams_clis_are_installed_each_run_once_and_a_broken_one_fails(tmp_path, playbook):
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("npm or Node.js is not installed")
    good = fake_cli(tmp_path, "goodcli", "console.log('goodcli 1.0.0');\n")
    bad = fake_cli(tmp_path, "badcli", "console.error('Amp native binary not installed'); process.exit(1);\n")
    team = [{"name": "boss", "role": "orchestrator", "command": "sh"},
            {"name": "worker", "role": "worker", "complexity": "low", "command": "codex --full-auto"}]
    settings = {"orchestration_agents": team, "prerequisites_npm_prefix": str(tmp_path / "npm"),
                "prerequisites_cli_packages": {"codex": {"package": good, "program": "goodcli"},
                                               "amp": {"package": bad, "program": "badcli"}}}
    (tmp_path / "vars.json").write_text(json.dumps(settings))
    install = (REPO / "playbooks" / "install.yml").read_text()

    first = playbook(install, "-e", "@%s" % (tmp_path / "vars.json"))
    assert first.returncode == 0, first.stdout + first.stderr
    assert (tmp_path / "npm" / "bin" / "goodcli").exists()
    assert not (tmp_path / "npm" / "bin" / "badcli").exists()  # amp is not in this team
    second = playbook(install, "-e", "@%s" % (tmp_path / "vars.json"))
    assert second.returncode == 0 and second.recap()["changed"] == 0

    team[1]["command"] = "amp -m large"
    (tmp_path / "vars.json").write_text(json.dumps(settings))
    broken = playbook(install, "-e", "@%s" % (tmp_path / "vars.json"))
    assert broken.returncode != 0
    failed = [r for r in broken.results if r["status"] == "failed"]
    assert "badcli (%s) does not run: Amp native binary not installed" % bad in json.dumps(failed)


def test_the_real_clis_install_run_and_their_first_screens_read_as_waiting_for_a_person(tmp_path, playbook, tmux):
    """install.yml for the original team against the npm registry; then each real CLI, started with no
    account as a new user's would be, reads `waiting` (a login or trust dialog), and a prompt for it is
    never typed into that dialog."""
    if shutil.which("npm") is None or shutil.which("node") is None:
        pytest.skip("npm or Node.js is not installed")
    reach = subprocess.run(["npm", "view", "@openai/codex", "version"], capture_output=True, text=True, timeout=120,
                           check=False)
    if reach.returncode != 0:
        pytest.skip("the npm registry is out of reach: %s" % (reach.stderr.strip().splitlines() or ["npm view failed"])[-1])
    import time

    from ansible_collections.moana.orchestration.plugins.module_utils import _agents as A
    from ansible_collections.moana.orchestration.plugins.module_utils import _delivery as D
    from ansible_collections.moana.orchestration.plugins.module_utils import _process as P
    from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T

    prefix = tmp_path / "npm"
    (tmp_path / "vars.json").write_text(json.dumps({"prerequisites_npm_prefix": str(prefix),
                                                    "orchestration_project_dir": str(tmp_path / "project")}))
    install = (REPO / "playbooks" / "install.yml").read_text()
    first = playbook(install, "-e", "@%s" % (tmp_path / "vars.json"))
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-3000:]
    for program in ("claude", "codex", "amp", "antigravity-claude-proxy"):
        assert (prefix / "bin" / program).exists(), program
    again = playbook(install, "-e", "@%s" % (tmp_path / "vars.json"))
    assert again.returncode == 0 and again.recap()["changed"] == 0

    home = tmp_path / "home"
    (home / "project").mkdir(parents=True)
    (home / ".claude.json").write_text(json.dumps({"hasCompletedOnboarding": True}))  # else it exits offline
    tmux("new-session", "-d", "-s", "clis", "-x", "120", "-y", "40", "-c", str(home / "project"), "-e", "HOME=%s" % home,
         "export PATH=%s:\"$PATH\"; claude" % (prefix / "bin"))
    for program in ("codex", "amp"):
        tmux("new-window", "-t", "=clis:", "-c", str(home / "project"), "-e", "HOME=%s" % home,
             "export PATH=%s:\"$PATH\"; %s" % (prefix / "bin", program))
    client = T.Client(socket_name=tmux.socket_name)
    panes = dict(zip(("claude", "codex", "amp"), tmux("list-panes", "-s", "-t", "=clis:", "-F", "#{pane_id}").split()))
    try:
        deadline = time.monotonic() + 60
        states = {}
        while time.monotonic() < deadline:
            states = {name: A.observe(client, pane, name)[0] for name, pane in panes.items()}
            if set(states.values()) == {"waiting"}:
                break
            time.sleep(1)
        assert states == {"claude": "waiting", "codex": "waiting", "amp": "waiting"}
        before = T.read_screen(client, panes["amp"]).lines
        result = D.deliver(client, panes["amp"], "You are amp, a worker.", "amp", wait_timeout=2)
        assert result["status"] == "queued" and result["state"] == "waiting"
        assert T.read_screen(client, panes["amp"]).lines == before
    finally:
        tmux("kill-session", "-t", "=clis", check=False)
        # Codex starts daemons that outlive its pane; they carry this HOME.
        P.terminate(P.marked(str(home), "HOME"), 5.0)
