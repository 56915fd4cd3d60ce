"""The real `orchestra` command on real files: behaviour, exit codes, concurrency, writers killed mid-write."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from conftest import REPO
from ansible_collections.moana.orchestration.plugins.module_utils import _board as B

ORCHESTRA = [str(REPO / "scripts" / "orchestra")]


def orchestra(board, *args, env=None, check=True):
    environ = dict(os.environ, ORCHESTRA_BOARD=str(board))
    environ.pop("ORCHESTRA_AGENT", None)
    environ.update(env or {})
    proc = subprocess.run([*ORCHESTRA, *args], env=environ, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise AssertionError("orchestra %s -> %d: %s" % (" ".join(args), proc.returncode, proc.stderr))
    return proc


@pytest.fixture
def board(tmp_path):
    path = tmp_path / "CLAUDE.md"
    path.write_text("# Project\n\nMy own notes.\n")
    orchestra(path, "board", "init")
    return path


def test_init_keeps_user_text_and_is_idempotent(board):
    text = board.read_text()
    assert text.startswith("# Project\n\nMy own notes.\n\n<!-- BEGIN moana.orchestration: task-queue -->\n")
    assert "is ready" in orchestra(board, "board", "init").stdout
    assert board.read_text() == text


def test_routing_claims_completion_and_messages(board):
    assert orchestra(board, "task", "add", "--complexity", "high", "--title", "Design", "--priority", "high").stdout == "TASK-001\n"
    assert orchestra(board, "task", "add", "--complexity", "low", "--title", "Tests").stdout == "TASK-002\n"
    routed = orchestra(board, "task", "add", "--complexity", "medium", "--title", "UI",
                       env={"ORCHESTRA_ROUTING": "high=antigravity,medium=codex,low=codex"}).stdout.strip()
    tasks = json.loads(orchestra(board, "task", "list", "--json").stdout)
    assert [(t["id"], t["assigned_to"]) for t in tasks] == [("TASK-001", "antigravity"), ("TASK-002", "codex"), (routed, "codex")]

    orchestra(board, "task", "start", "TASK-002", env={"ORCHESTRA_AGENT": "codex"})
    taken = orchestra(board, "task", "start", "2", "--agent", "amp", check=False)
    assert taken.returncode == 3 and "already in progress with codex" in taken.stderr and "Traceback" not in taken.stderr
    assert json.loads(orchestra(board, "task", "list", "--agent", "codex", "--status", "in-progress", "--json").stdout)[0]["id"] == "TASK-002"
    done = orchestra(board, "task", "done", "2", "--agent", "codex", "--changes", "unit tests", "--files", "t.py").stdout
    # Dates have minute resolution: a start and a completion either side of a minute's turn are 1 minute apart.
    assert done.startswith(("TASK-002 completed by codex in 0 minutes", "TASK-002 completed by codex in 1 minute"))
    shown = json.loads(orchestra(board, "task", "show", "TASK-002", "--json").stdout)
    assert shown["status"] == "COMPLETED" and shown["changes"] == "unit tests"

    assert orchestra(board, "msg", "send", "--from", "claude", "--to", "amp", "look", "at", "TASK-001").stdout == "MSG-001\n"
    orchestra(board, "msg", "send", "--from", "amp", "--to", "claude", "done; $(nothing) runs")
    later = json.loads(orchestra(board, "msg", "list", "--since", "MSG-001", "--json").stdout)
    assert [(m["id"], m["text"]) for m in later] == [("MSG-002", "done; $(nothing) runs")]
    assert json.loads(orchestra(board, "msg", "list", "--to", "amp", "--json").stdout)[0]["text"] == "look at TASK-001"

    orchestra(board, "status", "set", "amp", "blocked", "--task", "1", "--role", "worker")
    agents = {a["agent"]: a for a in json.loads(orchestra(board, "status", "list", "--json").stdout)}
    assert agents["amp"]["state"] == "BLOCKED" and agents["amp"]["task"] == "TASK-001" and agents["codex"]["state"] == "IDLE"
    summary = orchestra(board, "board").stdout
    assert summary.startswith("tasks: PENDING 2; completed on board: 1; messages: 2")
    assert board.read_text().startswith("# Project\n\nMy own notes.\n")


@pytest.mark.parametrize("args, code, words", [
    (("task", "add", "--to", "amp", "--title", "x", "--priority", "urgent"), 2, "--priority 'URGENT' is not one of HIGH, MEDIUM, LOW"),
    (("task", "add", "--title", "x"), 2, "give exactly one of --to, --complexity"),
    (("task", "frobnicate"), 2, "unknown command 'task frobnicate'"),
    (("msg", "send", "--to", "amp", "hi", "--colour", "red"), 2, "msg send does not take --colour"),
    (("task", "start", "7", "--agent", "amp"), 6, "TASK-007 is not in the task queue"),
    (("task", "start", "1"), 2, "--agent is required"),
    (("task", "show", "banana"), 2, "'banana' is not a task id"),
    (("msg", "list", "--since", "yesterday"), 2, "neither a message id"),
])
def test_errors_are_for_people_with_distinct_exit_codes(board, args, code, words):
    proc = orchestra(board, *args, check=False)
    assert proc.returncode == code and words in proc.stderr and "Traceback" not in proc.stderr


def test_malformed_board_is_reported_never_rewritten(board):
    text = board.read_text().replace("<!-- END moana.orchestration: messages -->\n", "")
    board.write_text(text)
    proc = orchestra(board, "msg", "send", "--from", "a", "--to", "b", "hi", check=False)
    assert proc.returncode == 5 and "nothing was written" in proc.stderr and "section 'messages' is never closed" in proc.stderr
    assert board.read_text() == text
    missing = orchestra(board.parent / "nope.md", "task", "list", check=False)
    assert missing.returncode == 6 and "does not exist" in missing.stderr


def test_lock_timeout_is_its_own_exit_code(board):
    holder = subprocess.Popen([sys.executable, "-c", (
        "import fcntl, sys, time; f = open(sys.argv[1], 'w'); fcntl.flock(f, fcntl.LOCK_EX); print('held', flush=True); "
        "time.sleep(30)"), str(board) + ".lock"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        start = time.monotonic()
        proc = orchestra(board, "--lock-timeout", "0.5", "task", "add", "--to", "amp", "--title", "x", check=False)
        assert proc.returncode == 4 and "could not lock" in proc.stderr
        assert 0.5 <= time.monotonic() - start < 5
    finally:
        holder.kill()
        holder.wait()
    # The holder died: the kernel released its lock.
    assert orchestra(board, "task", "add", "--to", "amp", "--title", "x").stdout == "TASK-001\n"


def worker(board, number: int, operations: int, seed: int) -> dict:
    """One agent doing a mix of operations through the real command; returns what was acknowledged."""
    rng = random.Random(seed)
    agent = "agent%d" % number
    acked = {"tasks": [], "done": [], "messages": [], "state": None}
    open_tasks: list[str] = []
    for step in range(operations):
        roll = rng.random()
        if roll < 0.35 or not open_tasks:
            task_id = orchestra(board, "task", "add", "--to", agent, "--title", "%s step %d" % (agent, step)).stdout.strip()
            acked["tasks"].append(task_id)
            open_tasks.append(task_id)
        elif roll < 0.5:
            orchestra(board, "task", "start", open_tasks[0], "--agent", agent)
            acked["state"] = "IN_PROGRESS"
        elif roll < 0.7:
            task_id = open_tasks.pop(0)
            orchestra(board, "task", "done", task_id, "--agent", agent, "--changes", "step %d" % step)
            acked["done"].append(task_id)
            acked["state"] = "IDLE"
        elif roll < 0.85:
            text = "from %s step %d" % (agent, step)
            acked["messages"].append((orchestra(board, "msg", "send", "--from", agent, "--to", "claude", text).stdout.strip(), text))
        else:
            state = rng.choice(["IDLE", "BLOCKED", "IN_PROGRESS"])
            orchestra(board, "status", "set", agent, state)
            acked["state"] = state
    acked["open"] = open_tasks
    return acked


def everything(board) -> tuple[B.Board, dict[str, B.Entry]]:
    parsed = B.load(str(board))
    entries = {}
    for entry in B.load_archive(str(board)):
        entries.setdefault(entry.entry_id, entry)
    for kind in (B.TASKS, B.COMPLETIONS, B.MESSAGES):
        for entry in parsed.section(kind).entries:
            entries[entry.entry_id] = entry
    return parsed, entries


def test_eight_concurrent_writers_lose_nothing(board):
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda n: worker(board, n, 100, 1000 + n), range(8)))
    parsed, entries = everything(board)
    added = [task for r in results for task in r["tasks"]]
    assert len(added) == len(set(added)), "a task id was handed out twice"
    for r in results:
        for task_id in r["done"]:
            assert entries[task_id].heading == "COMPLETED", task_id
        for task_id in r["open"]:
            assert parsed.section(B.TASKS).find(task_id) is not None, task_id
        for message_id, text in r["messages"]:
            assert entries[message_id].get("Text") == text
    queue = parsed.section(B.TASKS).entries
    status = {row["Agent"]: row["State"] for row in parsed.section(B.STATUS).rows}
    for number, r in enumerate(results):
        agent = "agent%d" % number
        assert set(r["tasks"]) == set(r["open"]) | set(r["done"])
        assert sorted(e.entry_id for e in queue if e.get("Assigned To") == agent) == sorted(r["open"])
        # Only this agent's own, sequential writes touch its row: the last one must be there.
        assert status.get(agent) == r["state"], agent
    assert board.read_text().startswith("# Project\n\nMy own notes.\n")


def test_writers_killed_at_random_moments_never_break_the_board(board):
    rng = random.Random(7)
    acked: list[str] = []
    kills = 0
    environ = dict(os.environ, ORCHESTRA_BOARD=str(board))
    while kills < 100:
        procs = [subprocess.Popen([*ORCHESTRA, "task", "add", "--to", "amp", "--title", "t%d" % kills],
                                  env=environ, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
                 for dummy in range(3)]
        time.sleep(rng.uniform(0, 0.06))
        victim = rng.choice(procs)
        victim.send_signal(signal.SIGKILL)
        for proc in procs:
            out, err = proc.communicate()
            if proc.returncode == 0:
                acked.append(out.strip())
            else:
                assert proc is victim or proc.returncode == 4, err
        kills += 1
        B.load(str(board)).section(B.TASKS)  # always whole, always parses
    queued = {e.entry_id for e in B.load(str(board)).section(B.TASKS).entries}
    assert set(acked) <= queued
    assert len(acked) == len(set(acked))
    leftovers = [p for p in os.listdir(board.parent) if p.endswith(".tmp")]
    for name in leftovers:  # a killed writer's temp file is never the board itself
        assert name.startswith(".CLAUDE.md.")
