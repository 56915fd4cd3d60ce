"""Benchmark: the `orchestra` command against a bare interpreter, in one run, with targets.

The command is laid out as the orchestration role lays it out on a target
(orchestra_home's files: bin/orchestra and the library byte-compiled in lib/),
run with this interpreter (ORCHESTRA_PYTHON). The floor is `python3 -S -c pass`
with the same interpreter, measured in the same run, interleaved.

  latency      one `orchestra task add` on a board of 10 pending tasks
               against the floor (medians)                       target <= 1.5x
  flatness     the same add on a board of 2,000 pending tasks against the
               10-task one (medians; each run starts from the same board)  <= 1.2x
  concurrency  8 writer processes, each running the command N times (task add,
               status set, msg send) on one board, against 8 processes running
               the floor N times each: runs per second          target >= 0.6x

Also reported, without a target: one in-process locked `task add` at 2,000
tasks against 10. Rows through bench/_report.py; exits 1 when a target is missed.

Usage: .venv/bin/python bench/board_cli.py [--quick] [--repeat N] [--ops N] [--json FILE]
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / ".collections"))

from ansible_collections.moana.orchestration.plugins.module_utils import _board as B  # noqa: E402
from ansible_collections.moana.orchestration.plugins.modules import orchestra_home  # noqa: E402
from _report import Report  # noqa: E402

FLOOR = [sys.executable, "-S", "-c", "pass"]


def deploy(root: Path) -> list[str]:
    """Lay the command out as the role does on a target (orchestra_home's files, lib/ byte-compiled)."""
    for relative, (content, mode) in orchestra_home.wanted_files({}).items():
        target = root / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)
        target.chmod(mode)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "lib")], check=True)
    return [str(root / "bin" / "orchestra")]


def run_timed(argv: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def board_with(root: Path, name: str, tasks: int) -> Path:
    path = root / name
    B.atomic_write(str(path), B.new_board_text())
    B.update(str(path), lambda b: [B.add_task(b, "task %d with a description" % n, "amp", description="do it")
                                   for n in range(tasks)])
    return path


def latency(command: list[str], small: Path, large: Path, repeat: int) -> dict:
    """Medians of the floor, an add at 10 tasks and an add at 2,000, interleaved; each add starts
    from its board's original text (restored untimed)."""
    templates = {path: path.read_bytes() for path in (small, large)}
    samples: dict = {"floor": [], "small": [], "large": []}
    env = dict(os.environ, ORCHESTRA_PYTHON=sys.executable)
    add = command + ["task", "add", "--to", "amp", "--title", "latency probe"]
    for path in (small, large):  # warm the page cache and the byte-compiled files
        run_timed(add, dict(env, ORCHESTRA_BOARD=str(path)))
    for dummy in range(repeat):
        samples["floor"].append(run_timed(FLOOR, env))
        for key, path in (("small", small), ("large", large)):
            B.atomic_write(str(path), templates[path])  # as a writer leaves it: nothing of it left unsynced
            samples[key].append(run_timed(add, dict(env, ORCHESTRA_BOARD=str(path))))
    return {key: statistics.median(values) for key, values in samples.items()}


def writer(job: tuple) -> int:
    """One process's loop: the floor, or the command doing a mix of writes to the shared board."""
    command, board, number, runs = job
    env = dict(os.environ, ORCHESTRA_BOARD=board, ORCHESTRA_PYTHON=sys.executable)
    agent = "agent%d" % number
    mix = [["task", "add", "--to", agent, "--title", "work"], ["status", "set", agent, "BLOCKED"],
           ["msg", "send", "--from", agent, "--to", "claude", "a note"], ["status", "set", agent, "IDLE"]]
    for step in range(runs):
        argv = FLOOR if command is None else command + mix[step % len(mix)]
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return runs


def rate(command: list[str] | None, board: str, runs: int) -> float:
    """Runs per second of 8 processes each doing ``runs`` runs."""
    with multiprocessing.Pool(8) as pool:
        start = time.perf_counter()
        done = sum(pool.map(writer, [(command, board, n, runs) for n in range(8)]))
        return done / (time.perf_counter() - start)


def concurrency(command: list[str], board: Path, runs: int, rounds: int) -> dict:
    floors, commands = [], []
    for dummy in range(rounds):
        floors.append(rate(None, str(board), runs))
        commands.append(rate(command, str(board), runs))
    B.load(str(board)).section(B.TASKS).entries  # noqa: B018 - still whole and well-formed after the storm
    return {"floor": statistics.median(floors), "command": statistics.median(commands)}


def in_process(path: Path, repeat: int) -> float:
    """Median cost of one locked add through the library (no process start), from the same board each time."""
    template = path.read_bytes()
    samples = []
    for dummy in range(repeat):
        B.atomic_write(str(path), template)
        start = time.perf_counter()
        B.update(str(path), lambda b: B.add_task(b, "probe", "amp"))
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (noisier): --repeat 15 --ops 20, one round")
    parser.add_argument("--repeat", type=int, help="latency samples of each kind (default 60)")
    parser.add_argument("--ops", type=int, help="runs per process in the concurrency test (default 50)")
    parser.add_argument("--json", help="also write the rows to this file (for bench/run.sh)")
    args = parser.parse_args()
    repeat = args.repeat or (15 if args.quick else 60)
    runs = args.ops or (20 if args.quick else 50)
    rounds = 1 if args.quick else 3
    root = Path(tempfile.mkdtemp(prefix="moana-board-bench-"))
    try:
        command = deploy(root)
        small, large = board_with(root, "small.md", 10), board_with(root, "large.md", 2000)
        lat = latency(command, small, large, repeat)
        con = concurrency(command, board_with(root, "shared.md", 10), runs, rounds)
        lib = {"small": in_process(small, repeat), "large": in_process(large, repeat)}
    finally:
        shutil.rmtree(root)

    report = Report("board_cli")
    report.add("task add (10 tasks) / python3 -S -c pass", lat["small"] / lat["floor"], target="<= 1.5",
               detail="%.1f ms vs %.1f ms" % (lat["small"] * 1e3, lat["floor"] * 1e3))
    report.add("task add (2,000 pending) / (10 tasks)", lat["large"] / lat["small"], target="<= 1.2",
               detail="%.1f ms vs %.1f ms" % (lat["large"] * 1e3, lat["small"] * 1e3))
    report.add("8 writers / 8 python3 -S -c pass", con["command"] / con["floor"], target=">= 0.6",
               detail="%.0f vs %.0f runs/s" % (con["command"], con["floor"]))
    report.add("in-process task add (2,000 pending) / (10)", lib["large"] / lib["small"],
               detail="%.2f ms vs %.2f ms" % (lib["large"] * 1e3, lib["small"] * 1e3))
    return report.finish(args.json)


if __name__ == "__main__":
    raise SystemExit(main())
