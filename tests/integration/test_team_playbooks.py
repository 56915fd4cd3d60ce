"""The team module feeding tmux_session, through ansible-playbook."""

from __future__ import annotations

import pytest

from conftest import REPO

pytestmark = pytest.mark.playbook

ORCHESTRA_BIN = str(REPO / "scripts")


def team_task(tmp_path, agents, **extra):
    return {"name": "Team", "register": "team", "moana.orchestration.team": dict(
        agents=agents, board=str(tmp_path / "CLAUDE.md"), bin_dir=ORCHESTRA_BIN, log_dir=str(tmp_path / "logs"),
        proxy_log=str(tmp_path / "logs" / "proxy.log"), **extra)}


def session_task(tmux, tmp_path):
    return {"name": "Session", "moana.orchestration.tmux_session": {
        "name": "team", "socket_name": tmux.socket_name, "start_directory": str(tmp_path), "windows": "{{ team.windows }}"}}


def play(tasks):
    return [{"name": "team", "hosts": "localhost", "gather_facts": False, "tasks": tasks}]


def test_the_seed_team_is_laid_out_like_the_original_scripts(tmux, tmp_path, playbook):
    (tmp_path / "logs").mkdir()
    seed = [
        {"name": "claude", "role": "orchestrator", "command": "orchestra simulate --agent claude"},
        {"name": "amp", "role": "worker", "complexity": "medium", "command": "orchestra simulate --agent amp"},
        {"name": "antigravity", "role": "worker", "complexity": "high", "uses_proxy": True,
         "command": "orchestra simulate --agent antigravity"},
        {"name": "codex", "role": "worker", "complexity": "low", "command": "orchestra simulate --agent codex"},
    ]
    init = {"name": "Board", "moana.orchestration.board": {"path": str(tmp_path / "CLAUDE.md"), "create": True}}
    run = playbook(play([init, team_task(tmp_path, seed), session_task(tmux, tmp_path)]))
    assert run.returncode == 0, run.stdout + run.stderr
    assert run.result("Team")["routing_text"] == "high=antigravity,medium=amp,low=codex"
    panes = tmux.panes("team")
    assert {n: p["window"] for n, p in panes.items()} == {
        "claude": "main", "amp": "main", "proxy": "main", "codex": "main", "antigravity": "antigravity"}
    again = playbook(play([team_task(tmp_path, seed), session_task(tmux, tmp_path)]))
    assert again.returncode == 0 and again.recap()["changed"] == 0, again.result("Session")["actions"]


def test_a_bad_team_fails_before_anything_starts(tmux, tmp_path, playbook):
    bad = [{"name": "amp", "role": "worker", "command": "amp"}, {"name": "amp", "role": "worker", "command": "amp"}]
    run = playbook(play([team_task(tmp_path, bad), session_task(tmux, tmp_path)]))
    assert run.returncode != 0
    assert "agent 'amp' is defined twice" in run.result("Team")["msg"]
    assert tmux("list-sessions", check=False) == ""


def test_team_health_finds_processes_whose_pidfiles_are_given_under_home(tmux, tmp_path, playbook):
    """The role's defaults name pidfiles as ~/...: team_health must expand them as the info modules do."""
    process = {"name": "helper", "pidfile": "~/state/helper.pid"}
    health = {"name": "Health", "register": "health", "moana.orchestration.team_health": {
        "agents": [], "session": "none", "socket_name": tmux.socket_name, "board": str(tmp_path / "CLAUDE.md"),
        "proxy": dict(process, readiness={"port": 1, "timeout": 1}), "dispatcher": process}}
    tasks = [{"name": "Start", "moana.orchestration.background_process": dict(process, command="sleep 60")}, health,
             {"name": "Stop", "moana.orchestration.background_process": dict(process, state="stopped")}]
    run = playbook(play(tasks), env={"HOME": str(tmp_path)})
    assert run.returncode == 0, run.stdout + run.stderr
    report = run.result("Health")["report"]
    assert report["dispatcher"]["running"] is True and report["proxy"]["running"] is True
