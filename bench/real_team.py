"""Benchmark: the seed's team with the real Claude Code and Codex (scripted model server) beside the simulated
team, on the same three-task plan, in one run.

For each: seconds from running start.yml to the first completed task and to the orchestrator's "plan
complete" message. For the real team also each notice's latency into a real TUI: from the orchestrator's
board write (its next model request, sent as soon as `orchestra task add` returned) to the request carrying
the notice from the worker's CLI (tests/integration/real_team.py). The simulated team's notice latency is
dispatch_latency's figure (board write to the notice on screen). No targets: figures for the record.

Needs the pinned CLIs in .cache/npm (scripts/setup.sh --test).

Usage: .venv/bin/python bench/real_team.py [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import Report

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "integration"), str(REPO / ".collections")]
import real_team  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.moana.orchestration.plugins.module_utils import _board as B  # noqa: E402  pylint: disable=wrong-import-position

PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
NPM_BIN = REPO / ".cache" / "npm" / "bin"
TIMEOUT = 240


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def playbook(name: str, variables: Path, env: dict) -> None:
    proc = subprocess.run([PLAYBOOK, "playbooks/%s.yml" % name, "-e", "@%s" % variables], cwd=REPO, env=env,
                          capture_output=True, text=True, check=False)
    if proc.returncode:
        raise SystemExit("%s.yml failed:\n%s" % (name, proc.stdout[-3000:]))


def follow(board: Path, done_text) -> tuple[float, float]:
    """Seconds until the board has a first completion, and until a message ``done_text`` accepts."""
    began, first = time.monotonic(), None
    while time.monotonic() - began < TIMEOUT:
        if board.exists():
            facts = B.facts(B.load(str(board)))
            if first is None and facts["completions"]:
                first = time.monotonic()
            if first is not None and any(done_text(m["text"]) for m in facts["messages"]):
                return first, time.monotonic()
        time.sleep(0.05)
    raise SystemExit("the plan did not complete within %ss (%s)" % (TIMEOUT, board))


def run_team(root: Path, variables: dict, env: dict, done_text) -> tuple[float, float]:
    path = root / "vars.json"
    path.write_text(json.dumps(variables))
    board = Path(variables["orchestration_project_dir"]) / "CLAUDE.md"
    began = time.monotonic()
    try:
        # start.yml returns once the team runs; the plan goes on meanwhile, so follow it from another process.
        starting = subprocess.Popen([PLAYBOOK, "playbooks/start.yml", "-e", "@%s" % path], cwd=REPO, env=env,
                                    stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        first, complete = follow(board, done_text)
        out = starting.communicate(timeout=TIMEOUT)[0]
        if starting.returncode:
            raise SystemExit("start.yml failed:\n%s" % out[-3000:])
    finally:
        playbook("stop", path, env)
    return first - began, complete - began


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json")
    args = parser.parse_args()
    if not all((NPM_BIN / program).exists() for program in ("claude", "codex")):
        raise SystemExit("the real CLIs are not in %s: run scripts/setup.sh --test" % NPM_BIN)
    report = Report("real_team")
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    with tempfile.TemporaryDirectory(prefix="moana-bench-real-") as scratch:
        root = Path(scratch)
        socket_name = "bench-real-%d" % os.getpid()
        variables, team_env, log = real_team.team(root / "real", free_port(), socket_name, str(NPM_BIN))
        first, complete = run_team(root / "real", variables, dict(env, **team_env), lambda text: text == "plan complete")
        report.add("real team: start.yml to the first completed task", first, "s")
        report.add("real team: start.yml to 'plan complete'", complete, "s")
        for task_id, seconds in sorted(real_team.notice_latencies(real_team.requests(log)).items()):
            report.add("real team: %s notice, board write to the worker's request" % task_id, seconds * 1000, "ms")

        plan = [{"title": title, "complexity": complexity} for complexity, (title, _worker) in real_team.TASKS.items()]
        simulated = {"orchestration_team": "simulated", "orchestration_simulated_plan": plan,
                     "orchestration_project_dir": str(root / "simulated" / "project"),
                     "orchestration_home": str(root / "simulated" / "home"),
                     "orchestration_tmux_socket_name": socket_name + "-sim", "orchestration_stop_timeout": 3,
                     "orchestration_command_link": ""}
        (root / "simulated").mkdir()
        first, complete = run_team(root / "simulated", simulated, env, lambda text: text.startswith("plan complete"))
        report.add("simulated team: start.yml to the first completed task", first, "s")
        report.add("simulated team: start.yml to 'plan complete'", complete, "s")
        subprocess.run(["tmux", "-L", socket_name, "kill-server"], capture_output=True, check=False)
        subprocess.run(["tmux", "-L", socket_name + "-sim", "kill-server"], capture_output=True, check=False)
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
