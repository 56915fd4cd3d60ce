"""Benchmark: the start, health and stop playbooks with the simulated team, against Ansible's floor.

In one run, each on a private tmux socket and a fresh project: cold start.yml,
warm start.yml (no change), health.yml and stop.yml as ratios to a playbook
running one ansible.builtin.ping task (medians of --repeat); then --sized-runs
cold starts and stops of 4 and of 32 simulated agents, interleaved. Targets:
warm start <= 3x and health <= 3x the floor; cold start of 32 agents <= 1.4x
cold start of 4 with no failed start; stop of 32 <= 1.3x stop of 4 with no
stall (an agent that did not exit on request).

Usage: .venv/bin/python bench/playbooks_team.py [--repeat N] [--sized-runs N] [--json FILE]
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

from _report import Report

REPO = Path(__file__).resolve().parents[1]
PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
# The tests' callback: each task's result as a JSON line, to read what stop reports.
CALLBACKS = REPO / "tests" / "integration" / "callback_plugins"
STOP_TASK = "Ask each agent to exit, wait, remove the session and what its agents left behind"


def run(argv: list[str], env: dict, results: Path | None = None) -> tuple[float, int, list[dict], str]:
    """Elapsed seconds, exit status, task results (when ``results`` names a file) and the output's tail."""
    if results is not None:
        env = dict(env, MOANA_RESULTS_FILE=str(results), ANSIBLE_CALLBACK_PLUGINS=str(CALLBACKS),
                   ANSIBLE_CALLBACKS_ENABLED="record_results")
        results.unlink(missing_ok=True)
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    found = [json.loads(line) for line in results.read_text().splitlines()] if results and results.exists() else []
    return elapsed, proc.returncode, found, proc.stdout[-3000:] + proc.stderr[-2000:]


def timed(argv: list[str], env: dict) -> float:
    elapsed, code, dummy, tail = run(argv, env)
    if code != 0:
        raise SystemExit("%s failed:\n%s" % (" ".join(argv), tail))
    return elapsed


def team(size: int) -> list[dict]:
    agents = [{"name": "boss", "role": "orchestrator", "command": "orchestra simulate --role orchestrator --nudge-only"}]
    complexities = ("high", "medium", "low")
    agents += [{"name": "w%02d" % n, "role": "worker", "complexity": complexities[n % 3],
                "command": "orchestra simulate --work 0.2-1.0 --nudge-only"} for n in range(size - 1)]
    return agents


def settings(root: Path, name: str, agents: list[dict] | None = None) -> str:
    values = {"orchestration_team": "simulated", "orchestration_project_dir": str(root / name / "project"),
              "orchestration_home": str(root / name / "home"), "orchestration_tmux_socket_name": "bench-%s-%d" % (name, os.getpid()),
              "orchestration_stop_timeout": 3, "orchestration_panes_per_window": 8, "orchestration_command_link": ""}
    if agents:
        values["orchestration_agents"] = agents
    path = root / ("%s.json" % name)
    path.write_text(json.dumps(values))
    return "@%s" % path


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--sized-runs", type=int, default=10)
    parser.add_argument("--json")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="moana-team-bench-"))
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    ping = root / "ping.yml"
    ping.write_text(json.dumps([{"name": "floor", "hosts": "localhost", "gather_facts": False,
                                 "tasks": [{"name": "Ping", "ansible.builtin.ping": {}}]}]))
    samples: dict[str, list[float]] = {key: [] for key in ("ping", "cold", "warm", "health", "stop")}
    sized = {size: {"start": [], "stop": [], "failed": [], "stalled": []} for size in (4, 32)}
    play = {name: str(REPO / "playbooks" / ("%s.yml" % name)) for name in ("start", "health", "stop")}
    try:
        timed([PLAYBOOK, str(ping)], env)
        for number in range(args.repeat):
            samples["ping"].append(timed([PLAYBOOK, str(ping)], env))
            seed = settings(root, "seed%d" % number)
            samples["cold"].append(timed([PLAYBOOK, play["start"], "-e", seed], env))
            samples["warm"].append(timed([PLAYBOOK, play["start"], "-e", seed], env))
            samples["health"].append(timed([PLAYBOOK, play["health"], "-e", seed], env))
            samples["stop"].append(timed([PLAYBOOK, play["stop"], "-e", seed], env))
        for number in range(args.sized_runs):
            for size in (4, 32):
                values = settings(root, "size%d-%d" % (size, number), team(size))
                took, code, dummy, tail = run([PLAYBOOK, play["start"], "-e", values], env)
                sized[size]["start"].append(took)
                if code != 0:
                    sized[size]["failed"].append(tail)
                took, code, results, tail = run([PLAYBOOK, play["stop"], "-e", values], env, root / "stop.jsonl")
                sized[size]["stop"].append(took)
                removed = next((r["result"] for r in results if r["task"] == STOP_TASK), {})
                names = [a["name"] for a in team(size)]
                if code != 0 or sorted(removed.get("exited", [])) != sorted(names):
                    sized[size]["stalled"].append("run %d: not exited on request: %s" % (
                        number, sorted(set(names) - set(removed.get("exited", [])))))
    finally:
        for path in root.glob("*.json"):
            name = json.loads(path.read_text())["orchestration_tmux_socket_name"]
            subprocess.run(["tmux", "-L", name, "kill-server"], capture_output=True, check=False)
        shutil.rmtree(root, ignore_errors=True)
    median = {key: statistics.median(value) for key, value in samples.items()}
    floor = median["ping"]
    report = Report("playbooks_team")
    for key, label, target in (("cold", "cold start.yml", None), ("warm", "warm start.yml", "<= 3"),
                               ("health", "health.yml", "<= 3"), ("stop", "stop.yml", None)):
        report.add("%s / ping playbook" % label, median[key] / floor, target=target,
                   detail="%.0f ms vs %.0f ms" % (median[key] * 1e3, floor * 1e3))
    start4, start32 = (statistics.median(sized[size]["start"]) for size in (4, 32))
    stop4, stop32 = (statistics.median(sized[size]["stop"]) for size in (4, 32))
    report.add("cold start 32 agents / 4 agents", start32 / start4, target="<= 1.4",
               detail="%.0f ms vs %.0f ms, %d runs" % (start32 * 1e3, start4 * 1e3, args.sized_runs))
    report.add("failed cold starts (4 and 32 agents)", len(sized[4]["failed"]) + len(sized[32]["failed"]), "", "== 0")
    report.add("stop 32 agents / 4 agents", stop32 / stop4, target="<= 1.3",
               detail="%.0f ms vs %.0f ms, %d runs" % (stop32 * 1e3, stop4 * 1e3, args.sized_runs))
    report.add("stalled stops (4 and 32 agents)", len(sized[4]["stalled"]) + len(sized[32]["stalled"]), "", "== 0")
    for size in (4, 32):
        for tail in sized[size]["failed"][:2]:
            print("a cold start of %d agents failed:\n%s" % (size, tail))
        for line in sized[size]["stalled"][:5]:
            print("a stop of %d agents stalled: %s" % (size, line))
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
