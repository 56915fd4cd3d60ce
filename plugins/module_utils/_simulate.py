# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Simulated agents: the board protocol without a language model, for tests and demos.

``orchestra simulate --agent NAME`` runs one in a pane. A worker takes the
PENDING tasks assigned to it, works a short random time, writes a file and
completes them. An orchestrator assigns a plan's tasks through the routing
table, tells each worker by message, waits until every task is completed and
says so. Both use the same board operations as the ``orchestra`` command the
real agents are told to run, and both read their pane: a line ``/exit`` ends
them, as it ends the real CLIs. Standard library only.
"""

from __future__ import annotations

import json
import os
import random
import select
import sys
import time

try:
    from ansible_collections.moana.orchestration.plugins.module_utils import _board as board_lib
except ImportError:  # deployed on a target: _board.py sits beside this file
    import _board as board_lib  # type: ignore[no-redef]


class Simulation:
    """Shared settings of one simulated agent."""

    def __init__(self, board: str, agent: str, workdir: str = ".", work_seconds: tuple[float, float] = (0.2, 1.0),
                 lock_timeout: float = 10.0, seed: int | None = None, out=None):
        self.board, self.agent, self.workdir = board, agent, workdir
        self.work_seconds, self.lock_timeout = work_seconds, lock_timeout
        self.random = random.Random(seed)
        self.out = out or sys.stdout

    def update(self, operation):
        return board_lib.update(self.board, operation, self.lock_timeout)

    def say(self, text: str) -> None:
        self.out.write("[%s] %s: %s\n" % (time.strftime("%H:%M:%S"), self.agent, text))
        self.out.flush()


def pending_for(board: board_lib.Board, agent: str) -> list[str]:
    return [entry.entry_id for entry in board.section(board_lib.TASKS).entries
            if entry.get("Assigned To") == agent and entry.get("Status").upper() == "PENDING"]


def worker_step(sim: Simulation, sleep=time.sleep) -> str | None:
    """Take one PENDING task of ours, if any, do it and complete it; returns its id."""
    waiting = pending_for(board_lib.load(sim.board), sim.agent)
    if not waiting:
        return None
    task_id = waiting[0]
    try:
        task = sim.update(lambda b: board_lib.start_task(b, task_id, sim.agent))
    except (board_lib.Conflict, board_lib.NotFound):
        return None  # someone else's now, or gone: look again next time
    sim.say("working on %s: %s" % (task_id, task.heading))
    sleep(sim.random.uniform(*sim.work_seconds))
    relative = os.path.join("simulated", "%s.md" % task_id)
    path = os.path.join(sim.workdir, relative)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as stream:
        stream.write("# %s\n\n%s, done by the simulated agent %s.\n" % (task_id, task.heading, sim.agent))
    sim.update(lambda b: board_lib.complete_task(b, task_id, sim.agent, "simulated work on %r" % task.heading, relative))
    sim.say("completed %s" % task_id)
    return task_id


def assign_plan(sim: Simulation, plan: list[dict], routing: dict[str, str]) -> list[str]:
    """Add every task of the plan (title, complexity, priority, description), routed; message each worker."""
    ids = []
    for number, item in enumerate(plan):
        complexity = str(item.get("complexity", "medium")).lower()
        if complexity not in routing:
            raise board_lib.BoardError("plan item %d: complexity %r is not in the routing table %s"
                                       % (number, complexity, routing))
        worker = routing[complexity]

        def add(board, item=item, worker=worker):
            task = board_lib.add_task(board, item["title"], worker, item.get("priority", "MEDIUM"),
                                      item.get("description", ""), item.get("files", ""))
            board_lib.send_message(board, sim.agent, worker, "%s is assigned to you: run orchestra task show %s"
                                   % (task.entry_id, task.entry_id))
            return task.entry_id

        ids.append(sim.update(add))
        sim.say("assigned %s to %s" % (ids[-1], worker))
    return ids


def completed(board_path: str, ids: list[str]) -> set[str]:
    """Which of ``ids`` are in the completion log, on the board or archived."""
    board = board_lib.load(board_path)
    done = {e.entry_id for e in board.section(board_lib.COMPLETIONS).entries} if board.has(board_lib.COMPLETIONS) else set()
    missing = set(ids) - done
    if missing:
        done |= {e.entry_id for e in board_lib.load_archive(board_path) if e.heading == "COMPLETED"}
    return done & set(ids)


class PaneInput:
    """Lines typed into the agent's pane; ``/exit`` asks it to leave, as with the real CLIs."""

    def __init__(self, stream):
        self.stream = stream

    def exit_requested(self, timeout: float) -> bool:
        """Wait up to ``timeout`` for a line; True when it is /exit."""
        if self.stream is None:
            time.sleep(timeout)
            return False
        try:
            ready = select.select([self.stream], [], [], timeout)[0]
        except (ValueError, OSError):
            ready = None
        if ready is None:
            self.stream = None  # not something select can watch: just poll the board
            time.sleep(timeout)
            return False
        if not ready:
            return False
        line = self.stream.readline()
        if line == "":
            self.stream = None  # input closed (run in the background): keep working
            return False
        return line.strip() in ("/exit", "exit", "/quit")


def run(sim: Simulation, role: str, plan: list[dict] | None = None, routing: dict[str, str] | None = None,
        poll: float = 0.5, stdin=None, stop_when_done: bool = False) -> int:
    """The agent's loop, until /exit (or, with ``stop_when_done``, until its work is done)."""
    role_name = "orchestrator" if role == "orchestrator" else "worker"
    sim.update(lambda b: board_lib.set_status(b, sim.agent, "IDLE", "-", role=role_name))
    sim.say("simulated %s ready on %s" % (role_name, sim.board))
    ids: list[str] = []
    announced = False
    pane = PaneInput(stdin)
    if role == "orchestrator" and plan:
        ids = assign_plan(sim, plan, routing or {})
    while True:
        if role == "orchestrator":
            if ids and not announced and completed(sim.board, ids) == set(ids):
                announced = True
                sim.update(lambda b: board_lib.send_message(b, sim.agent, "all", "plan complete: %d tasks done" % len(ids)))
                sim.say("plan complete: %d tasks done" % len(ids))
                if stop_when_done:
                    return 0
        elif worker_step(sim) is None and stop_when_done:
            return 0
        if pane.exit_requested(poll):
            sim.update(lambda b: board_lib.set_status(b, sim.agent, "OFFLINE"))
            sim.say("exiting")
            return 0


def load_plan(path: str) -> list[dict]:
    """A plan: a JSON list of {title, complexity, priority?, description?, files?}."""
    try:
        with open(path, encoding="utf-8") as stream:
            plan = json.load(stream)
    except FileNotFoundError:
        raise board_lib.NotFound("plan %s does not exist" % path) from None
    except ValueError as exc:
        raise board_lib.BoardError("plan %s is not valid JSON: %s" % (path, exc)) from None
    if not isinstance(plan, list) or not all(isinstance(item, dict) and item.get("title") for item in plan):
        raise board_lib.BoardError("plan %s must be a JSON list of objects with a title and a complexity" % path)
    return plan
