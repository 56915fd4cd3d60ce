"""Benchmark: from a board write to the notice in the idle agent's pane, through the dispatcher.

In one run, with a simulated worker in nudge-only mode and the dispatcher:
  notice      a task added for the worker (one locked board write) until the
              notice "TASK-N is assigned to you" shows in the worker's pane
              (its pane log), N times, the worker idle before each write
  acted       the same write until the worker says "working on TASK-N" (the
              notice was submitted and acted upon)
  baseline    `tmux send-keys -l` of the same text into a pane until it shows
              in that pane's log: the floor of making text appear in a pane

Reports median and 95th percentile, and each as a ratio to the baseline's.
Target: notice p95 under 300 ms.

Usage: .venv/bin/python bench/dispatch_latency.py [--notices 200] [--json FILE]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dispatch_common import B, Team, percentile, report, wait_for_text


def wait_idle(team: Team, task_id: str) -> None:
    """Until the task is completed and the worker is back at its prompt."""
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        facts = B.facts(B.load(str(team.board)))
        if any(c["id"] == task_id for c in facts["completions"]):
            break
        time.sleep(0.01)
    time.sleep(0.3)  # its prompt is back and the dispatcher has told the orchestrator


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--notices", type=int, default=200)
    parser.add_argument("--json")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        team = Team(Path(scratch), ["amp"])
        try:
            team.start()
            notice, acted, baseline = [], [], []
            log = team.pane_log("amp")
            for number in range(args.notices):
                offset = log.stat().st_size
                start = time.perf_counter()
                task = B.update(str(team.board), lambda b, n=number: B.add_task(b, "bench %d" % n, "amp"))
                seen = wait_for_text(log, offset, ("%s is assigned to you" % task.entry_id).encode())
                done = wait_for_text(log, offset, ("working on %s" % task.entry_id).encode())
                notice.append(seen - start)
                acted.append(done - start)
                wait_idle(team, task.entry_id)
            # The floor: raw tmux typing into the (idle) orchestrator's pane, same detection.
            boss = team.pane_log("boss")
            pane = subprocess.run(["tmux", "-L", team.socket, "list-panes", "-s", "-t", "=bench:", "-F",
                                   "#{@moana_pane} #{pane_id}"], capture_output=True, text=True, check=True).stdout
            boss_id = next(line.split()[1] for line in pane.splitlines() if line.startswith("boss "))
            for number in range(args.notices):
                offset = boss.stat().st_size
                marker = "raw-%04d" % number
                start = time.perf_counter()
                subprocess.run(["tmux", "-L", team.socket, "send-keys", "-t", boss_id, "-l", marker], check=True)
                baseline.append(wait_for_text(boss, offset, marker.encode()) - start)
            subprocess.run(["tmux", "-L", team.socket, "send-keys", "-t", boss_id, "C-u"], check=True)
        finally:
            team.stop()
    base = statistics.median(baseline)
    return report("dispatch_latency", [
        ("board write to notice on screen, median", statistics.median(notice) * 1000, "ms", None,
         "%.2fx raw send-keys (%.1f ms)" % (statistics.median(notice) / base, base * 1000)),
        ("board write to notice on screen, p95", percentile(notice, 0.95) * 1000, "ms", "<= 300",
         "%.2fx raw send-keys p95" % (percentile(notice, 0.95) / percentile(baseline, 0.95))),
        ("board write to the worker acting, median", statistics.median(acted) * 1000, "ms", None,
         "p95 %.1f ms" % (percentile(acted, 0.95) * 1000)),
    ], args.json)


if __name__ == "__main__":
    sys.exit(main())
