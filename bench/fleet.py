"""Benchmark: start, health and stop of the simulated team on 1, 2 and 8 boxes over real SSH.

The boxes are Unix users behind an sshd on loopback (tests/integration/fleet.py): each has its own home, tmux
server and team, as a remote dev box has. In one run, with the shipped ansible.cfg's ssh settings
(ControlPersist and pipelining on) and with both off: the wall time of each playbook on 2 and 8 boxes as a
ratio to the same playbook on 1 box (medians of --repeat). Targets, settings on: start and stop on 8 boxes
<= 1.5x one box, health on 8 boxes <= 2x one box. The off/on ratios on 1 box are for the record, and so are
the cores the machine kept busy during a run: all the boxes here share this machine's cores, so a run that
keeps them all busy measures the machine rather than the fleet.

Needs root (users, sshd) and openssh-server (scripts/setup.sh --test installs it).

Usage: .venv/bin/python bench/fleet.py [--repeat N] [--json FILE]
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _report import Report

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "integration")]
from fleet import SSHD, Fleet  # noqa: E402  pylint: disable=wrong-import-position

PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")
SIZES = (1, 2, 8)
TEAM = {"orchestration_team": "simulated", "orchestration_project_dir": "~/project",
        "orchestration_tmux_socket_name": "moana-fleet-bench", "orchestration_stop_timeout": 3}
# What the shipped ansible.cfg sets for ssh, and the same with ControlPersist and pipelining off.
SETTINGS = {"on": {}, "off": {"ANSIBLE_PIPELINING": "False", "ANSIBLE_SSH_ARGS": "-o ControlMaster=no"}}
TARGETS = {"start": "<= 1.5", "health": "<= 2", "stop": "<= 1.5"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def cpu_jiffies() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine so far (/proc/stat)."""
    with open("/proc/stat", encoding="ascii") as stream:
        fields = [int(v) for v in stream.readline().split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return sum(fields) - idle, sum(fields)


def timed(playbook: str, inventory: str, limit: list[str], env: dict) -> tuple[float, float, float]:
    """Wall seconds of the run, the cores the machine kept busy meanwhile (controller and boxes alike), and the
    CPU seconds of the controller's side alone (ansible-playbook, its workers and ssh clients)."""
    busy, total = cpu_jiffies()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    began = time.perf_counter()
    proc = subprocess.run([PLAYBOOK, "-i", inventory, "--limit", ",".join(limit), "playbooks/%s.yml" % playbook],
                          cwd=REPO, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - began
    busy_after, total_after = cpu_jiffies()
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode:
        raise SystemExit("%s.yml on %d boxes failed:\n%s" % (playbook, len(limit), proc.stdout[-3000:]))
    controller = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return elapsed, (busy_after - busy) / max(total_after - total, 1) * (os.cpu_count() or 1), controller


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--json")
    args = parser.parse_args()
    report = Report("fleet")
    if os.geteuid() != 0 or not os.path.exists(SSHD) or shutil.which("ssh") is None:
        print("fleet: needs root and openssh-server (scripts/setup.sh --test); nothing measured")
        return report.finish(args.json)
    fleet = Fleet(Path(tempfile.mkdtemp(prefix="moana-bench-fleet.")), free_port())
    try:
        names = ["box%d" % n for n in range(1, max(SIZES) + 1)]
        for name in names:
            fleet.add_box(name)
        fleet.start()
        inventory = fleet.inventory({name: fleet.host(name, **TEAM) for name in names})
        times: dict[tuple[str, str, int], list[float]] = {}
        cores: dict[tuple[str, str, int], list[float]] = {}
        spent: dict[tuple[str, str, int], list[float]] = {}
        for dummy in range(args.repeat):
            for setting, variables in SETTINGS.items():
                env = dict(os.environ, ANSIBLE_NOCOLOR="1", **variables)
                for size in SIZES:  # interleaved, so that a slow moment of the machine is shared
                    for playbook in ("start", "health", "stop"):
                        elapsed, busy, controller = timed(playbook, inventory, names[:size], env)
                        times.setdefault((setting, playbook, size), []).append(elapsed)
                        cores.setdefault((setting, playbook, size), []).append(busy)
                        spent.setdefault((setting, playbook, size), []).append(controller)
        median = {key: statistics.median(values) for key, values in times.items()}
        # Here every box shares this machine's cores: a run that keeps them all busy measures the machine, not
        # the fleet (on real boxes, each runs its own modules and agents).
        for playbook in ("start", "health", "stop"):
            for size in (1, max(SIZES)):
                report.add("%s on %d box%s, ssh settings on: cores busy" % (playbook, size, "" if size == 1 else "es"),
                           statistics.median(cores[("on", playbook, size)]), unit="cores",
                           detail="of %d" % (os.cpu_count() or 1))
            one, many = (statistics.median(spent[("on", playbook, size)]) for size in (1, max(SIZES)))
            report.add("%s on %d boxes / 1 box, ssh settings on: the controller's CPU" % (playbook, max(SIZES)), many / one,
                       detail="%.1f s / %.1f s" % (many, one))
        for setting in SETTINGS:
            for playbook in ("start", "health", "stop"):
                one = median[(setting, playbook, 1)]
                for size in SIZES[1:]:
                    target = TARGETS[playbook] if setting == "on" and size == max(SIZES) else None
                    report.add("%s on %d boxes / 1 box, ssh settings %s" % (playbook, size, setting),
                               median[(setting, playbook, size)] / one, target=target,
                               detail="%.2f s / %.2f s" % (median[(setting, playbook, size)], one))
        for playbook in ("start", "health", "stop"):
            report.add("%s on 1 box, ssh settings off / on" % playbook,
                       median[("off", playbook, 1)] / median[("on", playbook, 1)],
                       detail="%.2f s / %.2f s" % (median[("off", playbook, 1)], median[("on", playbook, 1)]))
    finally:
        fleet.close()
        shutil.rmtree(fleet.root, ignore_errors=True)
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
