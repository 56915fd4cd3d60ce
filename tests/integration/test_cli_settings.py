"""The agent CLIs' own settings through start.yml, in a home of the user's: the opt-in variables merge into
~/.claude.json, ~/.claude/settings.json and ~/.codex/config.toml without losing a key, a second start changes
nothing, --check --diff shows the change and writes nothing, and the defaults touch none of the files."""

from __future__ import annotations

import json
import os
import tomllib

import pytest

from conftest import REPO

pytestmark = pytest.mark.playbook

SETTINGS_TASKS = ("Skip Claude Code's onboarding and trust the project (~/.claude.json)",
                  "Set Claude Code's permission mode (its settings.json)",
                  "Trust the project in Codex and turn off its daemon, as asked (config.toml)")

USER_CLAUDE = {"numStartups": 12, "oauthAccount": {"emailAddress": "dev@example.com"},
               "projects": {"/elsewhere": {"allowedTools": ["Bash"], "hasTrustDialogAccepted": False}},
               "customApiKeyResponses": {"approved": ["abc"], "rejected": []}}
USER_CODEX = """\
# the user's own Codex settings
model = "gpt-5.5"  # known slug
model_provider = "local"

[model_providers.local]
name = "Local"
base_url = "http://127.0.0.1:9/v1"

[projects."/elsewhere"]
trust_level = "untrusted"

[[mcp_servers]]
name = "files"
"""


@pytest.fixture
def home(tmp_path):
    """A user's home with Claude Code's and Codex's files already there (a project with a space and a link)."""
    home = tmp_path / "home"
    (home / ".codex").mkdir(parents=True)
    (home / ".claude.json").write_text(json.dumps(USER_CLAUDE, indent=2))
    (home / ".codex" / "config.toml").write_text(USER_CODEX)
    (tmp_path / "real project").mkdir()
    (tmp_path / "project").symlink_to(tmp_path / "real project")
    return home


def start(playbook, tmp_path, tmux, home, *extra, **variables):
    settings = {"orchestration_team": "simulated", "orchestration_project_dir": str(tmp_path / "project"),
                "orchestration_home": str(tmp_path / "orchestra"), "orchestration_tmux_socket_name": tmux.socket_name,
                "orchestration_stop_timeout": 3, "orchestration_command_link": "", **variables}
    path = tmp_path / "vars.json"
    path.write_text(json.dumps(settings))
    return playbook((REPO / "playbooks" / "start.yml").read_text(), "-e", "@%s" % path, *extra, env={"HOME": str(home)})


def snapshot(home):
    return {str(p.relative_to(home)): p.read_bytes() for p in home.rglob("*") if p.is_file()}


def test_opt_in_settings_merge_into_the_users_files_once_and_check_mode_writes_nothing(playbook, tmp_path, tmux, home):
    opt_in = {"orchestration_claude_trust_project": True, "orchestration_claude_permission_mode": "bypassPermissions",
              "orchestration_codex_trust_project": True, "orchestration_codex_daemon": False}
    real = str(tmp_path / "real project")
    before = snapshot(home)

    checked = start(playbook, tmp_path, tmux, home, "--check", "--diff", **opt_in)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert snapshot(home) == before  # nothing written, no directory made
    diff = checked.result(SETTINGS_TASKS[2])["diff"]
    assert '[projects."%s"]' % real in diff["after"] and "daemon_auto_start = false" in diff["after"]
    assert '"hasTrustDialogAccepted": true' in checked.result(SETTINGS_TASKS[0])["diff"]["after"]
    assert '"defaultMode": "bypassPermissions"' in checked.result(SETTINGS_TASKS[1])["diff"]["after"]
    assert "+[features]" in checked.stdout  # shown to the user as a diff

    try:
        started = start(playbook, tmp_path, tmux, home, **opt_in)
        assert started.returncode == 0, started.stdout + started.stderr
        claude = json.loads((home / ".claude.json").read_text())
        assert claude == {**USER_CLAUDE, "hasCompletedOnboarding": True,
                          "projects": {**USER_CLAUDE["projects"], real: {"hasTrustDialogAccepted": True}}}
        assert list(claude)[:4] == list(USER_CLAUDE)  # the user's key order
        assert json.loads((home / ".claude" / "settings.json").read_text()) == {
            "permissions": {"defaultMode": "bypassPermissions"}, "skipDangerousModePermissionPrompt": True}
        assert os.stat(home / ".claude" / "settings.json").st_mode & 0o777 == 0o600
        assert os.stat(home / ".claude").st_mode & 0o777 == 0o700
        codex = tomllib.loads((home / ".codex" / "config.toml").read_text())
        user = tomllib.loads(USER_CODEX)
        assert codex == {**user, "projects": {**user["projects"], real: {"trust_level": "trusted"}},
                         "features": {"daemon_auto_start": False}}
        backups = sorted(p.name for p in home.rglob("*~"))
        assert len(backups) == 2 and all(name.startswith((".claude.json.", "config.toml.")) for name in backups)
        after_first = snapshot(home)

        again = start(playbook, tmp_path, tmux, home, **opt_in)
        assert again.returncode == 0, again.stdout + again.stderr
        assert [again.result(task)["changed"] for task in SETTINGS_TASKS] == [False, False, False]
        assert snapshot(home) == after_first
    finally:
        playbook((REPO / "playbooks" / "stop.yml").read_text(), "-e", json.dumps({
            "orchestration_home": str(tmp_path / "orchestra"), "orchestration_tmux_socket_name": tmux.socket_name,
            "orchestration_stop_timeout": 3}), env={"HOME": str(home)})


def test_the_defaults_touch_neither_file(playbook, tmp_path, tmux, home):
    before = snapshot(home)
    checked = start(playbook, tmp_path, tmux, home, "--check")
    assert checked.returncode == 0, checked.stdout + checked.stderr
    included = [e for e in checked.results if e["task"].startswith("Make the agent CLIs' own settings")]
    assert [e["status"] for e in included] == ["skipped"]
    assert not any(e["task"] in SETTINGS_TASKS for e in checked.results if e["status"] != "skipped")
    assert snapshot(home) == before
