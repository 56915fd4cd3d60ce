"""Health names a stuck team with each fix: real tmux panes, a real dispatcher (started as the role starts it,
with a pidfile), a real board, and the team_health module run by ansible-playbook."""

from __future__ import annotations

import json
import re

import pytest

from conftest import REPO, wait_for
from ansible_collections.moana.orchestration.plugins.module_utils import _board as B
from ansible_collections.moana.orchestration.plugins.module_utils import _delivery as D
from ansible_collections.moana.orchestration.plugins.module_utils import _health as H
from ansible_collections.moana.orchestration.plugins.module_utils import _layout as L
from ansible_collections.moana.orchestration.plugins.module_utils import _process as P
from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T

ORCHESTRA = str(REPO / "scripts" / "orchestra")
# A screen with Claude Code's trust dialog on it, that stays.
DIALOG = "printf 'Do you trust the files in this folder?\\n\\n  Yes, I trust this folder\\n  No, exit\\n'; exec sleep 600"
AGENTS = [{"name": "claude", "role": "orchestrator", "type": "simulated"},
          {"name": "amp", "role": "worker", "type": "simulated"},
          {"name": "gate", "role": "worker", "type": "claude"}]


@pytest.fixture
def team(tmux, tmp_path):
    board = tmp_path / "CLAUDE.md"
    B.atomic_write(str(board), B.new_board_text())
    env = {"ORCHESTRA_BOARD": str(board)}
    panes = [{"name": "claude", "variables": env,
              "command": "%s simulate --agent claude --role orchestrator --nudge-only" % ORCHESTRA},
             {"name": "amp", "variables": env, "command": "%s simulate --agent amp --work 0.05-0.1 --nudge-only" % ORCHESTRA},
             {"name": "gate", "variables": env, "command": DIALOG}]
    T.ensure_session(T.open_server(socket_name=tmux.socket_name),
                     L.parse_session({"name": "team", "start_directory": str(tmp_path),
                                      "windows": [{"name": "main", "panes": panes}]}))
    config = tmp_path / "dispatch.json"
    config.write_text(json.dumps({
        "session": "team", "socket_name": tmux.socket_name, "board": str(board), "scan": 0.5,
        "state_file": str(tmp_path / "dispatch-state.json"), "queue_dir": str(tmp_path / "queue"),
        "agents": [dict(a, submit_delay=0.05) for a in AGENTS]}))
    spec = P.Spec("test-dispatcher", [ORCHESTRA, "dispatch", "--config", str(config)],
                  pidfile=str(tmp_path / "dispatcher.pid"), log_file=str(tmp_path / "dispatcher.log"))
    yield {"board": board, "spec": spec, "dir": tmp_path, "socket": tmux.socket_name}
    P.stop(spec)


def arguments(team) -> dict:
    return {"agents": AGENTS, "session": "team", "board": str(team["board"]), "socket_name": team["socket"],
            "dispatcher": {"name": "test-dispatcher", "pidfile": team["spec"].pidfile,
                           "state_file": str(team["dir"] / "dispatch-state.json"), "queue_dir": str(team["dir"] / "queue")},
            "stuck_minutes": 0.05, "dialog_minutes": 0.05, "log_dir": str(team["dir"])}


def health(team) -> dict:
    """The module's work, done here (gather then report), for waiting on a state of the team."""
    args = arguments(team)
    facts = H.gather(args["agents"], "team", args["board"], socket_name=args["socket_name"], dispatcher=args["dispatcher"])
    return H.report(AGENTS, facts["session"], facts["board"], None, args["log_dir"], dispatcher=facts["dispatcher"],
                    stuck_minutes=args["stuck_minutes"], dialog_minutes=args["dialog_minutes"])


def has(*parts):
    def check(data):
        return all(any(part in problem for problem in data["problems"]) for part in parts)
    return check


def when(check, data):
    """``data`` when ``check(data)``, else None (for wait_for)."""
    return data if check(data) else None


def test_a_stuck_team_is_named_with_each_fix_and_a_fixed_one_is_not(team, playbook):
    D.enqueue(str(team["dir"] / "queue"), "gate", "You are gate.")  # as tmux_send leaves a prompt it could not type
    P.start(team["spec"])
    status_file = team["dir"] / "dispatch-state.status.json"

    def recorded():
        agents = json.loads(status_file.read_text())["agents"] if status_file.exists() else {}
        return agents.get("gate", {}).get("state") == "waiting" and agents.get("amp", {}).get("state") == "idle"

    wait_for(recorded, 30, "the dispatcher's record of gate's dialog and amp's prompt")
    # The dispatcher stops; a task comes for amp meanwhile: nobody tells it.
    P.stop(team["spec"])
    B.update(str(team["board"]), lambda b: B.add_task(b, "one", "amp"))
    data = wait_for(lambda: when(has("task TASK-001: PENDING for amp"), health(team)), 30, "TASK-001 named as stuck")
    assert "dispatcher: not running, agents are not told about new tasks: run the start playbook" in data["problems"]
    assert has("agent gate: waiting for a person for", "attach (tmux attach -t team) and answer it",
               "agent gate: its initial prompt (1 message(s) queued for it) not delivered for",
               "task TASK-001: PENDING for amp, idle for")(data), data["problems"]
    task = next(p for p in data["problems"] if p.startswith("task TASK-001"))
    assert task.endswith("never told: run the start playbook (it starts the dispatcher); or have amp run: "
                         "orchestra task show TASK-001")
    prompt = next(p for p in data["problems"] if "initial prompt" in p)
    assert prompt.endswith("attach and answer its dialog; then run the start playbook (it starts the dispatcher)")
    assert data["stuck"]["tasks"][0]["task"] == "TASK-001" and data["stuck"]["dialogs"][0]["agent"] == "gate"

    # The same through the module, as health.yml runs it.
    run = playbook([{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "health", "moana.orchestration.team_health": arguments(team), "register": "out"}]}])
    result = run.result("health")
    problems = [re.sub(r"for \d+ (s|min)", "for N", problem) for problem in result["problems"]]
    assert not result["healthy"] and re.sub(r"for \d+ (s|min)", "for N", task) in problems, result
    assert re.sub(r"for \d+ (s|min)", "for N", prompt) in problems, result
    assert "problems:" in result["text"] and result["report"]["stuck"]["tasks"][0]["agent"] == "amp"

    # The fix: the dispatcher runs again; amp is told and does the task; only gate's dialog is left.
    P.start(team["spec"])
    wait_for(lambda: B.facts(B.load(str(team["board"])))["completions"], 30, "TASK-001 done")
    data = wait_for(lambda: when(lambda d: not has("TASK-001")(d), health(team)), 30, "TASK-001 no longer named")
    assert all("gate" in problem for problem in data["problems"]), data["problems"]
