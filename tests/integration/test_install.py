"""install.yml with real npm, on local packages standing in for the agent CLIs (no registry needed)."""

from __future__ import annotations

import json
import shutil

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
