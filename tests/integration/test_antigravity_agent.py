"""The seed team's antigravity worker, the real Claude Code behind a stand-in for the proxy, reaches its prompt
with no one at the keyboard: the credential the role gives it raises no dialog."""

from __future__ import annotations

import json
import os
import sys

import pytest

from conftest import REPO, free_port, wait_for
from ansible_collections.moana.orchestration.plugins.module_utils import _agents as A
from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T

pytestmark = pytest.mark.playbook
STANDIN = REPO / "tests" / "integration" / "programs" / "proxy_standin.py"
DIALOG = "custom API key"


def test_the_antigravity_worker_reaches_claude_codes_prompt_with_no_api_key_dialog(tmux, tmp_path, playbook, real_clis):
    project = tmp_path / "project"
    project.mkdir()
    home = tmp_path / "home"
    home.mkdir()
    # What a first-run user answers once (onboarding, trusting the project), never the custom-key approval.
    (home / ".claude.json").write_text(json.dumps({
        "hasCompletedOnboarding": True, "projects": {os.path.realpath(project): {"hasTrustDialogAccepted": True}}}))
    port = free_port()
    agents = [
        {"name": "boss", "role": "orchestrator", "command": "orchestra simulate --role orchestrator"},
        {"name": "antigravity", "role": "worker", "complexity": "high", "uses_proxy": True, "command": "claude"},
    ]
    # The panes inherit them from the tmux server, which inherits them from the playbook run.
    environment = {"HOME": str(home), "DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
                   "CLAUDE_CODE_TMPDIR": str(tmp_path / "claude-tmp")}
    settings = {"orchestration_agents": agents, "orchestration_project_dir": str(project),
                "orchestration_home": str(tmp_path / "orchestra"), "orchestration_tmux_socket_name": tmux.socket_name,
                "orchestration_npm_bin": str(real_clis["claude"].parent), "orchestration_dispatcher": False,
                "orchestration_stop_timeout": 5, "orchestration_proxy_port": port,
                "orchestration_proxy_command": "%s %s %d" % (sys.executable, STANDIN, port),
                "orchestration_proxy_dir": str(tmp_path / "proxy"), "orchestration_proxy_pidfile": str(tmp_path / "proxy.pid")}
    (tmp_path / "vars.json").write_text(json.dumps(settings))

    def run(name):
        return playbook((REPO / "playbooks" / ("%s.yml" % name)).read_text(), "-e", "@%s" % (tmp_path / "vars.json"),
                        env=environment)

    client = T.Client(socket_name=tmux.socket_name)
    seen: list[str] = []

    def idle():
        screen = "\n".join(T.read_screen(client, pane).lines)
        seen.append(screen)
        return A.observe(client, pane, "claude")[0] == "idle" and any(line.startswith("❯") for line in screen.splitlines())

    try:
        started = run("start")
        assert started.returncode == 0, started.stdout
        pane = tmux.panes("moana-orchestration")["antigravity"]["id"]
        wait_for(idle, 60, "Claude Code's idle prompt in the antigravity pane", detail=lambda: seen[-1] if seen else "")
        # It answered its initial prompt through the stand-in, with the token as a bearer credential.
        log = (project / "logs" / "proxy.log").read_text()
        assert "request POST /v1/messages?beta=true auth=bearer" in log, log
        assert not any(DIALOG in screen for screen in seen)
        assert DIALOG not in (project / "logs" / "antigravity.log").read_text(errors="replace")
    finally:
        stopped = run("stop")
    assert stopped.returncode == 0, stopped.stdout
