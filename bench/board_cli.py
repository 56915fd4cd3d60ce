"""Benchmark: the board under the `orchestra` command and under concurrent writers.

In one run:
  latency     one `orchestra task add` (whole process, deployed as a target gets
              it: the two files in a lib folder, byte-compiled) against
              `python3 -c pass`, interleaved, medians
  throughput  8 writer processes, each doing N operations (task add/start/done,
              msg send, status set), through the command and in-process
              through _board's locked updates; operations per second
  size        the board's bytes after 2,000 tasks added and completed (the
              completion log archived beyond 20), and with 2,000 tasks pending
  flatness    cost of one in-process locked `task add` on a board holding 10
              tasks against one holding 2,000

Usage: .venv/bin/python bench/board_cli.py [--repeat N] [--ops N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
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
MODULE_UTILS = REPO / "plugins" / "module_utils"
sys.path.insert(0, str(REPO / ".collections"))

from ansible_collections.moana.orchestration.plugins.module_utils import _board as B  # noqa: E402


def deploy(root: Path) -> list[str]:
    """Lay the command out as the role does on a target (bin/orchestra, lib/*.py byte-compiled)."""
    (root / "bin").mkdir()
    (root / "lib").mkdir()
    for name in ("_board.py", "_orchestra.py"):
        shutil.copy(MODULE_UTILS / name, root / "lib" / name)
    subprocess.run([sys.executable, "-m", "compileall", "-q", str(root / "lib")], check=True)
    shutil.copy(REPO / "scripts" / "orchestra", root / "bin" / "orchestra")
    return [str(root / "bin" / "orchestra")]


def run_timed(argv: list[str], env: dict) -> float:
    start = time.perf_counter()
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def cli_writer(args: tuple) -> int:
    command, board, number, ops = args
    env = dict(os.environ, ORCHESTRA_BOARD=board, ORCHESTRA_PYTHON=sys.executable)
    agent = "agent%d" % number
    for step in range(ops):
        kind = step % 5
        if kind == 0:
            subprocess.run(command + ["task", "add", "--to", agent, "--title", "t%d" % step], env=env, check=True,
                           stdout=subprocess.PIPE)
        elif kind == 1:
            subprocess.run(command + ["status", "set", agent, "BLOCKED"], env=env, check=True, stdout=subprocess.DEVNULL)
        elif kind == 2:
            subprocess.run(command + ["msg", "send", "--from", agent, "--to", "claude", "step %d" % step], env=env,
                           check=True, stdout=subprocess.DEVNULL)
        elif kind == 3:
            subprocess.run(command + ["status", "set", agent, "IDLE"], env=env, check=True, stdout=subprocess.DEVNULL)
        else:
            subprocess.run(command + ["task", "add", "--to", agent, "--title", "u%d" % step], env=env, check=True,
                           stdout=subprocess.PIPE)
    return ops


def library_writer(args: tuple) -> int:
    board, number, ops = args
    agent = "agent%d" % number
    for step in range(ops):
        kind = step % 5
        if kind in (0, 4):
            task_id = B.update(board, lambda b: B.add_task(b, "t%d" % step, agent).entry_id)
            if kind == 4:
                B.update(board, lambda b, t=task_id: B.start_task(b, t, agent))
                B.update(board, lambda b, t=task_id: B.complete_task(b, t, agent))
        elif kind == 1:
            B.update(board, lambda b: B.set_status(b, agent, "BLOCKED"))
        elif kind == 2:
            B.update(board, lambda b: B.send_message(b, agent, "claude", "step %d" % step))
        else:
            B.update(board, lambda b: B.set_status(b, agent, "IDLE"))
    return ops + 2 * (ops // 5)


def throughput(worker, jobs: list[tuple]) -> tuple[float, int]:
    with multiprocessing.Pool(len(jobs)) as pool:
        start = time.perf_counter()
        done = sum(pool.map(worker, jobs))
        return done / (time.perf_counter() - start), done


def fresh_board(root: Path, name: str) -> str:
    path = root / name
    B.atomic_write(str(path), B.new_board_text())
    return str(path)


def add_cost(board: str, repeat: int) -> float:
    samples = []
    for dummy in range(repeat):
        start = time.perf_counter()
        B.update(board, lambda b: B.add_task(b, "probe", "amp"))
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=40)
    parser.add_argument("--ops", type=int, default=100, help="operations per writer")
    parser.add_argument("--json")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="moana-board-bench-"))
    figures: dict = {}
    try:
        command = deploy(root)
        board = fresh_board(root, "latency.md")
        env = dict(os.environ, ORCHESTRA_BOARD=board, ORCHESTRA_PYTHON=sys.executable)
        bare, add = [], []
        run_timed([sys.executable, "-c", "pass"], env)
        for dummy in range(args.repeat):
            bare.append(run_timed([sys.executable, "-c", "pass"], env))
            add.append(run_timed(command + ["task", "add", "--to", "amp", "--title", "latency"], env))
        figures["latency"] = {"python_pass_ms": statistics.median(bare) * 1e3, "task_add_ms": statistics.median(add) * 1e3,
                              "ratio": statistics.median(add) / statistics.median(bare)}

        cli_board = fresh_board(root, "cli.md")
        rate, ops = throughput(cli_writer, [(command, cli_board, n, args.ops) for n in range(8)])
        figures["throughput_cli"] = {"ops_per_s": rate, "ops": ops}
        lib_board = fresh_board(root, "lib.md")
        rate, ops = throughput(library_writer, [(lib_board, n, args.ops * 2) for n in range(8)])
        figures["throughput_library"] = {"ops_per_s": rate, "ops": ops}
        for path in (cli_board, lib_board):
            B.load(path).section(B.TASKS)  # still whole after the storm

        done_board = fresh_board(root, "done.md")
        for n in range(2000):
            B.update(done_board, lambda b, n=n: B.complete_task(b, B.add_task(b, "task %d" % n, "amp").entry_id, "amp"))
        pending_board = fresh_board(root, "pending.md")
        B.update(pending_board, lambda b: [B.add_task(b, "task %d with a description" % n, "amp", description="do it")
                                           for n in range(2000)])
        figures["size"] = {
            "after_2000_completed_bytes": os.path.getsize(done_board),
            "archive_bytes": os.path.getsize(B.archive_path(done_board)),
            "with_2000_pending_bytes": os.path.getsize(pending_board),
        }

        small = fresh_board(root, "small.md")
        B.update(small, lambda b: [B.add_task(b, "task %d" % n, "amp", description="do it") for n in range(10)])
        small_cost = add_cost(small, args.repeat)
        done_cost = add_cost(done_board, args.repeat)
        pending_cost = add_cost(pending_board, args.repeat)
        figures["flatness"] = {"ms_10_tasks": small_cost * 1e3, "ms_after_2000_completed": done_cost * 1e3,
                               "ms_2000_pending": pending_cost * 1e3,
                               "ratio_completed": done_cost / small_cost, "ratio_pending": pending_cost / small_cost}
    finally:
        shutil.rmtree(root)

    f = figures["latency"]
    print("latency: python3 -c pass %.1f ms, orchestra task add %.1f ms -> %.2fx (target <= 2x)"
          % (f["python_pass_ms"], f["task_add_ms"], f["ratio"]))
    print("throughput, 8 writers: through the command %.0f ops/s (%d ops); in-process %.0f ops/s (%d ops) (target >= 300)"
          % (figures["throughput_cli"]["ops_per_s"], figures["throughput_cli"]["ops"],
             figures["throughput_library"]["ops_per_s"], figures["throughput_library"]["ops"]))
    f = figures["size"]
    print("size: board after 2,000 tasks completed %d bytes (archive %d bytes); board with 2,000 pending %d bytes"
          % (f["after_2000_completed_bytes"], f["archive_bytes"], f["with_2000_pending_bytes"]))
    f = figures["flatness"]
    print("per-op cost: 10 tasks %.2f ms; after 2,000 completed %.2f ms (%.2fx); 2,000 pending %.2f ms (%.2fx) (target <= 1.5x)"
          % (f["ms_10_tasks"], f["ms_after_2000_completed"], f["ratio_completed"], f["ms_2000_pending"], f["ratio_pending"]))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2))


if __name__ == "__main__":
    main()
