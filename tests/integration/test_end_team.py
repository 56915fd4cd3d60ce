"""end_team, the fixtures' cleanup without stop.yml: a started team ended with it leaves nothing running."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import REPO, end_team, free_port, wait_for
from ansible_collections.moana.orchestration.plugins.module_utils import _process as P
from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T

pytestmark = pytest.mark.playbook
SESSION = "moana-orchestration"


def carrying(variable: str, value: str) -> list[int]:
    """Live processes whose environment holds ``variable=value``."""
    return sorted(pid for pid, dummy in P.marked(value, variable))


def test_end_team_leaves_nothing_of_a_started_team_and_spares_what_is_not_its(tmux, tmp_path, playbook):
    port = free_port()
    server = REPO / "tests" / "integration" / "programs" / "http_server.py"
    agents = [
        {"name": "claude", "role": "orchestrator", "command": "orchestra simulate --role orchestrator --nudge-only"},
        {"name": "amp", "role": "worker", "complexity": "medium", "command": "orchestra simulate --nudge-only"},
        {"name": "antigravity", "role": "worker", "complexity": "high", "uses_proxy": True,
         "command": "orchestra simulate --nudge-only"},
    ]
    home, proxy_pidfile = tmp_path / "home", tmp_path / "proxy.pid"
    settings = {"orchestration_agents": agents, "orchestration_project_dir": str(tmp_path / "project"),
                "orchestration_home": str(home), "orchestration_tmux_socket_name": tmux.socket_name,
                "orchestration_command_link": "", "orchestration_proxy_port": port,
                "orchestration_proxy_command": "%s %s %d" % (sys.executable, server, port),
                "orchestration_proxy_dir": str(tmp_path / "proxy"), "orchestration_proxy_pidfile": str(proxy_pidfile)}
    (tmp_path / "vars.json").write_text(json.dumps(settings))
    started = playbook((REPO / "playbooks" / "start.yml").read_text(), "-e", "@%s" % (tmp_path / "vars.json"))
    assert started.returncode == 0, started.stdout + started.stderr

    team_dir = home / "teams" / ("%s@%s" % (SESSION, tmux.socket_name))
    records = [P.read_record(str(path)) for path in (team_dir / "dispatcher.pid", proxy_pidfile)]
    assert all(P.record_is_ours(record) for record in records)
    token = tmux("show-options", "-v", "-t", "=%s:" % SESSION, T.TOKEN_OPTION).strip()
    panes = [(pane["pid"], P.read_stat(pane["pid"])[4]) for pane in tmux.panes(SESSION).values()]
    board = str(tmp_path / "project" / "CLAUDE.md")
    assert token and len(panes) == 4 and carrying("ORCHESTRA_BOARD", board)
    # What a pane's program may leave behind in a session of its own: found by the session's token alone.
    orphan = subprocess.Popen(["sleep", "300"], env=dict(os.environ, **{T.SESSION_VARIABLE: token}),
                              start_new_session=True)
    # Not the team's: a process of its own, and a pidfile under the home naming it with another start time.
    bystander = subprocess.Popen(["sleep", "300"], start_new_session=True)
    (team_dir / "reused.pid").write_text(json.dumps({"name": "reused", "pid": bystander.pid, "starttime": 1,
                                                     "pgid": bystander.pid}))
    try:
        end_team(home, tmux.socket_name, [proxy_pidfile])
        assert orphan.wait(5) is not None
        # The panes' programs end on the hang-up the server's end sends them, a moment after it.
        wait_for(lambda: not any(P.is_alive(*each) for each in panes), 10, "the panes' programs to end")
        assert not any(P.is_alive(record["pid"], record["starttime"]) for record in records)
        assert carrying(T.SESSION_VARIABLE, token) == []
        assert [carrying(P.TOKEN_VARIABLE, record["token"]) for record in records] == [[], []]
        assert carrying("ORCHESTRA_BOARD", board) == []
        assert not (team_dir / "dispatcher.pid").exists() and not proxy_pidfile.exists()
        assert not tmux.has_session(SESSION)
        assert bystander.poll() is None
    finally:
        for proc in (orphan, bystander):
            proc.kill()
            proc.wait()
