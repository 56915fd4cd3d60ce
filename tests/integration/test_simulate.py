"""Simulated agents: the board protocol end to end, in real tmux panes."""

from __future__ import annotations

import io
import json

from conftest import REPO, wait_for
from ansible_collections.moana.orchestration.plugins.module_utils import _board as B
from ansible_collections.moana.orchestration.plugins.module_utils import _layout as L
from ansible_collections.moana.orchestration.plugins.module_utils import _simulate as S
from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T

ORCHESTRA = str(REPO / "scripts" / "orchestra")


def test_worker_step_takes_only_its_own_pending_task(tmp_path):
    board = str(tmp_path / "CLAUDE.md")
    B.atomic_write(board, B.new_board_text())
    B.update(board, lambda b: (B.add_task(b, "theirs", "amp"), B.add_task(b, "ours", "codex")))
    naps = []
    sim = S.Simulation(board, "codex", str(tmp_path), (0.5, 0.5), seed=1, out=io.StringIO())
    assert S.worker_step(sim, sleep=naps.append) == "TASK-002"
    assert naps == [0.5]
    assert S.worker_step(sim, sleep=naps.append) is None
    facts = B.facts(B.load(board))
    assert [t["id"] for t in facts["tasks"]] == ["TASK-001"]
    assert facts["completions"][0]["files"] == "simulated/TASK-002.md"
    assert (tmp_path / "simulated" / "TASK-002.md").read_text().startswith("# TASK-002")


def test_a_simulated_team_in_tmux_completes_a_plan_and_exits_on_request(tmux, tmp_path):
    board = tmp_path / "CLAUDE.md"
    B.atomic_write(str(board), B.new_board_text())
    plan = [{"title": "task %d" % n, "complexity": ("high", "medium", "low")[n % 3]} for n in range(9)]
    (tmp_path / "plan.json").write_text(json.dumps(plan))
    env = {"ORCHESTRA_BOARD": str(board)}
    workers = [{"name": name, "command": "%s simulate --agent %s --work 0.05-0.2 --poll 0.1" % (ORCHESTRA, name),
                "environment": env} for name in ("amp", "antigravity", "codex")]
    orchestrator = {"name": "claude", "environment": env,
                    "command": "%s simulate --agent claude --role orchestrator --plan plan.json --poll 0.1" % ORCHESTRA}
    spec = L.parse_session({"name": "sim", "start_directory": str(tmp_path),
                            "windows": [{"name": "main", "panes": [orchestrator] + workers}]})
    server = T.open_server(socket_name=tmux.socket_name)
    T.ensure_session(server, spec)

    wait_for(lambda: "plan complete: 9 tasks done" in [m["text"] for m in B.facts(B.load(str(board)))["messages"]],
             60, "the plan's completion", board.read_text, interval=0.2)
    facts = B.facts(B.load(str(board)))
    assert facts["tasks"] == [] and len(facts["completions"]) == 9
    assert {c["completed_by"] for c in facts["completions"]} == {"amp", "antigravity", "codex"}

    panes = tmux.panes("sim")
    for name in ("claude", "amp", "antigravity", "codex"):
        tmux("send-keys", "-t", panes[name]["id"], "/exit", "Enter")
    wait_for(lambda: all(p["dead"] for p in tmux.panes("sim").values()), 10, "every agent's exit",
             lambda: str(tmux.panes("sim")))
    states = {a["agent"]: a["state"] for a in B.facts(B.load(str(board)))["agents"]}
    assert states == {"claude": "OFFLINE", "amp": "OFFLINE", "antigravity": "OFFLINE", "codex": "OFFLINE"}
