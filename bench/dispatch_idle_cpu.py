"""Benchmark: the dispatcher's CPU use while the team is idle.

In one run, with four simulated agents in nudge-only mode at their prompts and
nothing on the board to tell them:
  dispatcher  CPU seconds (user + system, its tmux calls included) of
              `orchestra dispatch` over the window, as a share of one core;
              again with the CLIs' hooks on (orchestration_hooks: each
              agent's report stat'ed every round)
  baseline    the same for a Python process that only polls the board's stat
              at the dispatcher's poll interval (the floor of watching a file)

Target: under 0.5% of one core. The issue's window is 10 minutes; the default
here is 120 s (the figure is a rate, so a shorter window scales).

Usage: .venv/bin/python bench/dispatch_idle_cpu.py [--seconds 120] [--json FILE]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from dispatch_common import Team, report

STAT_LOOP = "import os, sys, time\nwhile True:\n    os.stat(sys.argv[1])\n    time.sleep(0.05)\n"


def cpu_seconds(pid: int) -> float:
    """utime + stime + cutime + cstime of a process (its waited-for children, the tmux calls, included)."""
    with open("/proc/%d/stat" % pid, encoding="ascii") as stream:
        fields = stream.read().rsplit(")", 1)[1].split()
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def measure(pid: int, seconds: float) -> float:
    before, start = cpu_seconds(pid), time.monotonic()
    time.sleep(seconds)
    return (cpu_seconds(pid) - before) / (time.monotonic() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=120.0)
    parser.add_argument("--json")
    args = parser.parse_args()
    shares = {}
    for hooks in (False, True):
        with tempfile.TemporaryDirectory() as scratch:
            team = Team(Path(scratch), ["amp", "antigravity", "codex"], hooks=hooks)
            try:
                team.start()
                time.sleep(6)  # past its first scans
                shares[hooks] = measure(team.dispatcher.pid, args.seconds)
                if hooks:
                    continue
                loop = subprocess.Popen([sys.executable, "-c", STAT_LOOP, str(team.board)])
                try:
                    time.sleep(1)
                    baseline = measure(loop.pid, args.seconds)
                finally:
                    loop.kill()
                    loop.wait()
            finally:
                team.stop()
    figures = []
    for hooks, label in ((False, "dispatcher, team of 4 idle"), (True, "dispatcher, team of 4 idle, hooks on")):
        ratio = shares[hooks] / baseline if baseline else 0
        figures.append((label, shares[hooks] * 100, "% core", "<= 0.5", "%.2fx a bare stat loop at its poll interval "
                        "(%.3f %%), %.0f s" % (ratio, baseline * 100, args.seconds)))
    return report("dispatch_idle_cpu", figures, args.json)


if __name__ == "__main__":
    sys.exit(main())
