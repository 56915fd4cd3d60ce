"""Benchmark: building a tmux layout with tmux_session against the floors.

In one run, on a private tmux server kept warm by an idle session:
  raw       the layout built by one chained `tmux` call (the fewest commands)
  core      tmux_session's core (parse, read, plan, one chained call, read back)
  libtmux   the same layout through libtmux's object API (why the core batches)
for 4 and 32 panes; then whole ansible-playbook runs: a play creating 4 panes
with tmux_session against a play running one ansible.builtin.ping task (the
Ansible floor), same inventory. Prints medians and the ratios to each floor.

Usage: .venv/bin/python bench/tmux_layout.py [--repeat N] [--playbook-repeat N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / ".collections"))

import libtmux  # noqa: E402

from ansible_collections.moana.orchestration.plugins.module_utils import _layout, _tmux  # noqa: E402
from _report import Report  # noqa: E402

WIDTH, HEIGHT = 200, 50


def raw_build(socket: str, name: str, panes: int, directory: str) -> None:
    argv = ["tmux", "-L", socket, "new-session", "-d", "-s", name, "-x", str(WIDTH), "-y", str(HEIGHT),
            "-c", directory, "-n", "w0", "sleep 600"]
    for dummy in range(panes - 1):
        argv += [";", "split-window", "-c", directory, "sleep 600", ";", "select-layout", "tiled"]
    subprocess.run(argv, check=True)


def core_build(server, name: str, panes: int, directory: str) -> None:
    spec = _layout.parse_session({
        "name": name, "start_directory": directory, "width": WIDTH, "height": HEIGHT,
        "windows": [{"name": "w0", "panes": [{"name": "p%d" % i, "command": "sleep 600"} for i in range(panes)]}],
    })
    result = _tmux.ensure_session(server, spec)
    assert len(result["panes"]) == panes


def libtmux_build(server, name: str, panes: int, directory: str) -> None:
    session = server.new_session(session_name=name, start_directory=directory, x=WIDTH, y=HEIGHT,
                                 window_name="w0", window_command="sleep 600")
    window = session.windows[0]
    for dummy in range(panes - 1):
        window.split(start_directory=directory, shell="sleep 600")
        window.select_layout("tiled")


def timed(build, kill, repeat: int) -> list[float]:
    samples = []
    for dummy in range(repeat):
        name = "bench-" + uuid.uuid4().hex[:8]
        start = time.perf_counter()
        build(name)
        samples.append(time.perf_counter() - start)
        kill(name)
    return samples


def run_playbook(path: Path, extra: list[str], env: dict) -> float:
    start = time.perf_counter()
    proc = subprocess.run([str(Path(sys.executable).parent / "ansible-playbook"), str(path), *extra],
                          cwd=REPO, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit("playbook failed:\n" + proc.stdout + proc.stderr)
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--playbook-repeat", type=int, default=7)
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()

    socket = "moana-bench-%d" % os.getpid()
    directory = tempfile.mkdtemp(prefix="moana-bench-")
    subprocess.run(["tmux", "-L", socket, "new-session", "-d", "-s", "keepalive", "sleep 3600"], check=True)
    server = libtmux.Server(socket_name=socket)

    def kill(name: str) -> None:
        subprocess.run(["tmux", "-L", socket, "kill-session", "-t", "=" + name], check=True)

    figures: dict = {}
    try:
        for panes in (4, 32):
            repeat = args.repeat if panes == 4 else max(3, args.repeat // 3)
            # Interleave the three builders so drift in machine load hits all alike.
            samples = {"raw": [], "core": [], "libtmux": []}
            for dummy in range(repeat):
                samples["raw"] += timed(lambda n: raw_build(socket, n, panes, directory), kill, 1)
                samples["core"] += timed(lambda n: core_build(server, n, panes, directory), kill, 1)
                samples["libtmux"] += timed(lambda n: libtmux_build(server, n, panes, directory), kill, 1)
            medians = {key: statistics.median(value) for key, value in samples.items()}
            figures["%d_panes" % panes] = {
                "median_s": medians,
                "core_over_raw": medians["core"] / medians["raw"],
                "libtmux_over_raw": medians["libtmux"] / medians["raw"],
                "repeat": repeat,
            }

        plays = Path(directory)
        (plays / "ping.yml").write_text(json.dumps([{
            "name": "floor", "hosts": "localhost", "gather_facts": False,
            "tasks": [{"name": "Ping", "ansible.builtin.ping": {}}]}]))
        (plays / "session.yml").write_text(json.dumps([{
            "name": "four panes", "hosts": "localhost", "gather_facts": False,
            "tasks": [{"name": "Ensure session", "moana.orchestration.tmux_session": {
                "name": "{{ bench_name }}", "socket_name": socket, "start_directory": directory,
                "windows": [{"name": "main", "panes": [{"name": n, "command": "sleep 600"}
                                                       for n in ("claude", "amp", "proxy", "codex")]}]}}]}]))
        env = dict(os.environ, ANSIBLE_NOCOLOR="1")
        run_playbook(plays / "ping.yml", [], env)  # warm the caches once
        ping, session = [], []
        for dummy in range(args.playbook_repeat):
            ping.append(run_playbook(plays / "ping.yml", [], env))
            name = "bench-" + uuid.uuid4().hex[:8]
            session.append(run_playbook(plays / "session.yml", ["-e", "bench_name=" + name], env))
            kill(name)
        figures["playbook"] = {
            "median_s": {"ping": statistics.median(ping), "tmux_session_4_panes": statistics.median(session)},
            "session_over_ping": statistics.median(session) / statistics.median(ping),
            "repeat": args.playbook_repeat,
        }
    finally:
        subprocess.run(["tmux", "-L", socket, "kill-server"], check=False)
        socket_dir = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / ("tmux-%d" % os.getuid())
        (socket_dir / socket).unlink(missing_ok=True)

    report = Report("tmux_layout")
    for panes in (4, 32):
        f = figures["%d_panes" % panes]
        m = f["median_s"]
        report.add("%d panes: core / raw tmux" % panes, f["core_over_raw"], target="<= 2",
                   detail="raw %.1f ms, core %.1f ms" % (m["raw"] * 1e3, m["core"] * 1e3))
        report.add("%d panes: libtmux / raw tmux" % panes, f["libtmux_over_raw"], detail="%.1f ms" % (m["libtmux"] * 1e3))
    f = figures["playbook"]
    report.add("playbook 4 panes / ping playbook", f["session_over_ping"], target="<= 1.3",
               detail="ping %.0f ms, tmux_session %.0f ms" % (f["median_s"]["ping"] * 1e3,
                                                              f["median_s"]["tmux_session_4_panes"] * 1e3))
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
