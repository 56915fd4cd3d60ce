"""Benchmark: the start, health and stop playbooks with the simulated team, against Ansible's floor.

In one run, each on a private tmux socket and a fresh project: cold start.yml,
warm start.yml (no change), health.yml and stop.yml as ratios to a playbook
running one ansible.builtin.ping task; and cold start.yml with 4, 16 and 32
simulated agents. Targets: warm start and health <= 3x the floor; cold start
of 32 agents <= 1.5x cold start of 4.

Usage: .venv/bin/python bench/playbooks_team.py [--repeat N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")


def timed(argv: list[str], env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit("%s failed:\n%s%s" % (" ".join(argv), proc.stdout[-3000:], proc.stderr[-2000:]))
    return elapsed


def team(size: int) -> list[dict]:
    agents = [{"name": "boss", "role": "orchestrator", "command": "orchestra simulate --role orchestrator"}]
    complexities = ("high", "medium", "low")
    agents += [{"name": "w%02d" % n, "role": "worker", "complexity": complexities[n % 3],
                "command": "orchestra simulate --work 0.2-1.0"} for n in range(size - 1)]
    return agents


def settings(root: Path, name: str, agents: list[dict] | None = None) -> str:
    values = {"orchestration_team": "simulated", "orchestration_project_dir": str(root / name / "project"),
              "orchestration_home": str(root / name / "home"), "orchestration_tmux_socket_name": "bench-%s-%d" % (name, os.getpid()),
              "orchestration_stop_timeout": 3, "orchestration_panes_per_window": 8}
    if agents:
        values["orchestration_agents"] = agents
    path = root / ("%s.json" % name)
    path.write_text(json.dumps(values))
    return "@%s" % path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="moana-team-bench-"))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    ping = root / "ping.yml"
    ping.write_text(json.dumps([{"name": "floor", "hosts": "localhost", "gather_facts": False,
                                 "tasks": [{"name": "Ping", "ansible.builtin.ping": {}}]}]))
    samples: dict[str, list[float]] = {key: [] for key in ("ping", "cold", "warm", "health", "stop", "cold4", "cold16", "cold32")}
    play = {name: str(REPO / "playbooks" / ("%s.yml" % name)) for name in ("start", "health", "stop")}
    try:
        timed([PLAYBOOK, str(ping)], env)
        for run in range(args.repeat):
            samples["ping"].append(timed([PLAYBOOK, str(ping)], env))
            seed = settings(root, "seed%d" % run)
            samples["cold"].append(timed([PLAYBOOK, play["start"], "-e", seed], env))
            samples["warm"].append(timed([PLAYBOOK, play["start"], "-e", seed], env))
            samples["health"].append(timed([PLAYBOOK, play["health"], "-e", seed], env))
            samples["stop"].append(timed([PLAYBOOK, play["stop"], "-e", seed], env))
            for size in (4, 16, 32):
                sized = settings(root, "size%d-%d" % (size, run), team(size))
                samples["cold%d" % size].append(timed([PLAYBOOK, play["start"], "-e", sized], env))
                timed([PLAYBOOK, play["stop"], "-e", sized], env)
    finally:
        for path in root.glob("*.json"):
            name = json.loads(path.read_text())["orchestration_tmux_socket_name"]
            subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)
    median = {key: statistics.median(value) for key, value in samples.items()}
    floor = median["ping"]
    figures = {"median_ms": {k: v * 1e3 for k, v in median.items()},
               "over_floor": {k: median[k] / floor for k in ("cold", "warm", "health", "stop")},
               "cold32_over_cold4": median["cold32"] / median["cold4"], "repeat": args.repeat}
    m = figures["median_ms"]
    print("floor (ping) %.0f ms" % floor_ms(m))
    for key in ("cold", "warm", "health", "stop"):
        print("%-7s %6.0f ms  %.2fx floor" % (key, m[key], figures["over_floor"][key]))
    print("cold start: 4 agents %.0f ms, 16 agents %.0f ms, 32 agents %.0f ms -> 32/4 = %.2fx (target <= 1.5x)"
          % (m["cold4"], m["cold16"], m["cold32"], figures["cold32_over_cold4"]))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


def floor_ms(median_ms: dict) -> float:
    return median_ms["ping"]


if __name__ == "__main__":
    main()
