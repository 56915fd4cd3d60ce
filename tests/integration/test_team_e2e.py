"""The whole system with the simulated team, through the start, health and stop playbooks."""

from __future__ import annotations

import json
import os
import signal

import pytest

from conftest import REPO, end_team, free_port, wait_for
from ansible_collections.moana.orchestration.plugins.module_utils import _board as B
from ansible_collections.moana.orchestration.plugins.module_utils import _process as P

pytestmark = pytest.mark.playbook
PLAYBOOKS = "playbooks/%s.yml"


@pytest.fixture
def team(tmux, tmp_path, playbook):
    settings = {"orchestration_team": "simulated", "orchestration_project_dir": str(tmp_path / "project"),
                "orchestration_home": str(tmp_path / "home"), "orchestration_tmux_socket_name": tmux.socket_name,
                "orchestration_stop_timeout": 3}
    (tmp_path / "vars.json").write_text(json.dumps(settings))

    def run(name, *extra):
        return playbook((REPO / (PLAYBOOKS % name)).read_text(), "-e", "@%s" % (tmp_path / "vars.json"), *extra)

    yield run, tmp_path / "project" / "CLAUDE.md"
    end_team(tmp_path / "home", tmux.socket_name)


def test_a_thirty_task_plan_completes_on_typed_notices_alone(team, tmp_path):
    """Simulated agents in nudge-only mode act only on what the dispatcher types into their panes."""
    run, board = team
    plan = [{"title": "task %d" % n, "complexity": ("high", "medium", "low")[n % 3]} for n in range(30)]
    (tmp_path / "plan.json").write_text(json.dumps({"orchestration_simulated_plan": plan}))
    started = run("start", "-e", "@%s" % (tmp_path / "plan.json"))
    assert started.returncode == 0, started.stdout
    assert "--nudge-only" in started.result("Validate the team and plan its windows")["windows"][0]["panes"][1]["command"]
    wait_for_plan(board, 30, timeout=120)
    done = {c["id"] for c in B.facts(B.load(str(board)))["completions"]}
    done |= {e.entry_id for e in B.load_archive(str(board)) if e.heading == "COMPLETED"}
    assert done == {"TASK-%03d" % n for n in range(1, 31)}
    logs = tmp_path / "project" / "logs"
    delivered = [line for line in (logs / "dispatcher.log").read_text().splitlines() if ": delivered [" in line]
    keys = [key for line in delivered for key in line.split("[", 1)[1].split("]", 1)[0].split()]
    assert len(keys) == len(set(keys)), "a notice was delivered twice"
    # Completions always reach the orchestrator; a worker whose initial prompt already found all its
    # tasks on the board may have done them before any notice for it could be typed.
    recipients = {k.split(">")[1].split("@")[0] for k in keys}  # a key: ID:EVENT>agent@digest
    assert "claude" in recipients and recipients & {"amp", "antigravity", "codex"}, recipients
    assert recipients <= {"claude", "amp", "antigravity", "codex"}
    panes = "".join((logs / ("%s.log" % name)).read_text(errors="replace") for name in ("claude", "amp", "antigravity", "codex"))
    assert "typed while busy" not in panes


def wait_for_plan(board, count=5, timeout=60):
    def complete():
        return os.path.exists(board) and "plan complete: %d tasks done" % count in [
            m["text"] for m in B.facts(B.load(str(board)))["messages"]]

    wait_for(complete, timeout, "the simulated plan's completion", interval=0.2)


def processes_with(text: str) -> list[int]:
    found = []
    for pid in (int(p) for p in os.listdir("/proc") if p.isdigit()):
        try:
            with open("/proc/%d/environ" % pid, "rb") as stream:
                if text.encode() in stream.read():
                    found.append(pid)
        except OSError:
            pass
    return found


def test_start_runs_the_loop_health_passes_and_stop_leaves_nothing(team, tmux):
    run, board = team
    first = run("start")
    assert first.returncode == 0, first.stdout + first.stderr
    wait_for_plan(board)
    assert len(B.facts(B.load(str(board)))["completions"]) == 5
    warm = run("start")
    assert warm.returncode == 0 and warm.recap()["changed"] == 0, warm.stdout
    health = run("health")
    assert health.returncode == 0, health.stdout
    assert "team: healthy" in health.stdout
    as_json = run("health", "-e", "orchestration_health_format=json")
    assert as_json.result("Build the health report")["report"]["agents"][0]["agent"] == "claude"

    stop = run("stop")
    assert stop.returncode == 0, stop.stdout
    assert not tmux.has_session("moana-orchestration")
    assert processes_with("ORCHESTRA_BOARD=%s" % board) == []
    states = {a["agent"]: a["state"] for a in B.facts(B.load(str(board)))["agents"]}
    assert set(states.values()) == {"OFFLINE"} and len(states) == 4
    again = run("stop")
    assert again.returncode == 0 and again.recap()["changed"] == 0


def test_health_names_a_dead_agent_and_start_repairs_only_it(team, tmux):
    run, board = team
    assert run("start").returncode == 0
    before = tmux.panes("moana-orchestration")
    os.kill(before["codex"]["pid"], signal.SIGKILL)
    tmux.wait_dead("moana-orchestration", "codex")
    health = run("health")
    assert health.returncode != 0
    assert health.result("Build the health report")["problems"] == ["agent codex: pane dead"]
    repair = run("start")
    assert repair.returncode == 0
    assert repair.result("Ensure the session, its windows and one pane per agent")["respawned"] == ["codex"]
    after = tmux.panes("moana-orchestration")
    assert {n: p["pid"] for n, p in after.items() if n != "codex"} == {n: p["pid"] for n, p in before.items() if n != "codex"}
    assert run("health").returncode == 0


def test_a_deleted_board_section_is_restored_and_user_text_kept(team):
    run, board = team
    assert run("start").returncode == 0
    # Under the board's lock: the simulated agents are writing to it meanwhile, and an
    # edit made without it can be replaced by a writer that read the board before.
    with B.locked(str(board)):
        text = board.read_text()
        start = text.index("<!-- BEGIN moana.orchestration: messages -->")
        end = text.index("<!-- END moana.orchestration: messages -->\n") + len("<!-- END moana.orchestration: messages -->\n")
        board.write_text("# My notes\n\nKeep me.\n" + text[:start] + text[end:])
    assert run("health").returncode != 0
    repair = run("start")
    assert repair.returncode == 0
    restored = board.read_text()
    assert restored.startswith("# My notes\n\nKeep me.\n") and "<!-- BEGIN moana.orchestration: messages -->" in restored


def test_bad_configuration_fails_clearly_and_starts_nothing(team, tmux, tmp_path):
    run, board = team
    result = run("start", "-e", '{"orchestration_agents": [{"name": "amp", "role": "worker", "command": "amp"}]}')
    assert result.returncode != 0
    assert "exactly one agent with role: orchestrator, found none" in result.result("Validate the team and plan its windows")["msg"]
    assert not tmux.has_session("moana-orchestration") and not board.exists()


def test_a_killed_proxy_fails_health_and_start_restarts_it(tmux, tmp_path, playbook):
    import sys

    port = free_port()
    server = REPO / "tests" / "integration" / "programs" / "http_server.py"
    agents = [
        {"name": "claude", "role": "orchestrator", "command": "orchestra simulate --role orchestrator"},
        {"name": "amp", "role": "worker", "complexity": "medium", "command": "orchestra simulate"},
        {"name": "antigravity", "role": "worker", "complexity": "high", "uses_proxy": True, "command": "orchestra simulate"},
        {"name": "codex", "role": "worker", "complexity": "low", "command": "orchestra simulate"},
    ]
    settings = {"orchestration_agents": agents, "orchestration_project_dir": str(tmp_path / "project"),
                "orchestration_home": str(tmp_path / "home"), "orchestration_tmux_socket_name": tmux.socket_name,
                "orchestration_stop_timeout": 3, "orchestration_proxy_port": port,
                # A stand-in for antigravity-claude-proxy: /health with counts.available = 1.
                "orchestration_proxy_command": "%s %s %d" % (sys.executable, server, port),
                "orchestration_proxy_dir": str(tmp_path / "proxy"), "orchestration_proxy_pidfile": str(tmp_path / "proxy.pid")}
    (tmp_path / "vars.json").write_text(json.dumps(settings))

    def run(name):
        return playbook((REPO / (PLAYBOOKS % name)).read_text(), "-e", "@%s" % (tmp_path / "vars.json"))

    try:
        assert run("start").returncode == 0
        assert {n: p["window"] for n, p in tmux.panes("moana-orchestration").items()} == {
            "claude": "main", "amp": "main", "proxy": "main", "codex": "main", "antigravity": "antigravity"}
        healthy = run("health")
        assert healthy.returncode == 0, healthy.stdout
        assert healthy.result("Build the health report")["report"]["proxy"]["healthy"] is True
        pid = json.loads((tmp_path / "proxy.pid").read_text())["pid"]
        os.kill(pid, signal.SIGKILL)
        wait_for(lambda: P.read_stat(pid) is None or P.read_stat(pid)[0] in ("Z", "X"), 10, "the killed proxy's end")
        broken = run("health")
        assert broken.returncode != 0
        assert broken.result("Build the health report")["problems"] == ["proxy: not running: run the start playbook"]
        repair = run("start")
        assert repair.returncode == 0 and repair.result("Start the proxy and wait until it is ready")["changed"]
        assert repair.result("Ensure the session, its windows and one pane per agent")["actions"] == []
        assert run("health").returncode == 0
    finally:
        stopped = run("stop")
    assert stopped.returncode == 0
    assert not (tmp_path / "proxy.pid").exists()
