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


PROMPT = "\u276f "  # the prompt shown while waiting for input, like Claude Code's


class Simulation:
    """Shared settings of one simulated agent."""

    def __init__(self, board: str, agent: str, workdir: str = ".", work_seconds: tuple[float, float] = (0.2, 1.0),
                 lock_timeout: float = 10.0, seed: int | None = None, out=None):
        self.board, self.agent, self.workdir = board, agent, workdir
        self.work_seconds, self.lock_timeout = work_seconds, lock_timeout
        self.random = random.Random(seed)
        self.out = out or sys.stdout
        self.spoke = True

    def update(self, operation):
        return board_lib.update(self.board, operation, self.lock_timeout)

    def say(self, text: str) -> None:
        self.out.write("[%s] %s: %s\n" % (time.strftime("%H:%M:%S"), self.agent, text))
        self.out.flush()
        self.spoke = True

    def prompt(self) -> None:
        """Show the prompt again after speaking, as a CLI waiting for input does."""
        if self.spoke:
            self.out.write(PROMPT)
            self.out.flush()
            self.spoke = False


def pending_for(board: board_lib.Board, agent: str) -> list[str]:
    return [entry.entry_id for entry in board.section(board_lib.TASKS).entries
            if board_lib.agent_key(entry.get("Assigned To")) == board_lib.agent_key(agent)
            and entry.get("Status").upper() == "PENDING"]


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
    """What is typed into the agent's pane, as whole inputs: a line, or a bracketed paste and its Enter.

    Like the real CLIs it asks the terminal for bracketed paste, so a long
    pasted prompt is one input, not one per line. Reads the descriptor
    directly (a buffered reader would hide lines from select).
    """

    PASTE_ON, PASTE_START, PASTE_END = "\x1b[?2004h", "\x1b[200~", "\x1b[201~"

    def __init__(self, stream, out=None):
        self.fd = None
        self.buffer = ""
        self.in_paste = False
        if stream is None:
            return
        try:
            self.fd = stream.fileno()
            select.select([self.fd], [], [], 0)
        except (AttributeError, ValueError, OSError):
            self.fd = None  # not something select can watch: just poll the board
            return
        if out is not None and os.isatty(self.fd):
            out.write(self.PASTE_ON)
            out.flush()
            _quiet_control_echo(self.fd)

    def ready(self) -> bool:
        """Input is waiting right now."""
        return self.fd is not None and bool(select.select([self.fd], [], [], 0)[0])

    def inputs(self, timeout: float) -> list[str]:
        """Wait up to ``timeout`` for input; return every complete input that has arrived."""
        if self.fd is None:
            time.sleep(timeout)
            return []
        if not select.select([self.fd], [], [], timeout)[0]:
            return []
        found: list[str] = []
        while True:
            data = os.read(self.fd, 65536)
            if not data:
                self.fd = None  # input closed (run in the background): keep working
                return found
            self.buffer += data.decode("utf-8", "replace")
            found.extend(self._complete())
            if not select.select([self.fd], [], [], 0.02)[0]:
                return found

    def _complete(self) -> list[str]:
        done: list[str] = []
        current = []
        text = self.buffer
        i = 0
        start = 0
        while i < len(text):
            if text.startswith(self.PASTE_START, i) or text.startswith(self.PASTE_END, i):
                self.in_paste = text.startswith(self.PASTE_START, i)
                current.append(text[start:i])
                i += len(self.PASTE_START)
                start = i
            elif text[i] == "\n" and not self.in_paste:
                current.append(text[start:i])
                done.append("".join(current).strip())
                current = []
                i += 1
                start = i
            else:
                i += 1
        self.buffer = "".join(current) + text[start:]
        return done

    def exit_requested(self, timeout: float) -> bool:
        """Wait up to ``timeout``; True when ``/exit`` was typed (other input is ignored)."""
        return any(is_exit(line) for line in self.inputs(timeout))


def is_exit(line: str) -> bool:
    return line.strip() in ("/exit", "exit", "/quit")


def _quiet_control_echo(fd: int) -> None:
    """Do not echo the paste markers as ^[[200~ (cosmetic; a real TUI draws its own input)."""
    try:
        import termios
        attributes = termios.tcgetattr(fd)
        attributes[3] &= ~getattr(termios, "ECHOCTL", 0)
        termios.tcsetattr(fd, termios.TCSANOW, attributes)
    except (ImportError, OSError):
        pass


# How the dispatcher's notices begin (_dispatch.notice_text and the keys it names).
NOTICE_MARKS = ("[orchestra] TASK-", "[orchestra] MSG-")


def run(sim: Simulation, role: str, plan: list[dict] | None = None, routing: dict[str, str] | None = None,
        poll: float = 0.5, stdin=None, stop_when_done: bool = False, nudge_only: bool = False) -> int:
    """The agent's loop, until /exit (or, with ``stop_when_done``, until its work is done).

    ``nudge_only``: do nothing until something is typed in, then act on the
    board once and show the prompt again, as a real CLI does; input that
    arrives while it works is reported as typed while busy.
    """
    role_name = "orchestrator" if role == "orchestrator" else "worker"
    sim.update(lambda b: board_lib.set_status(b, sim.agent, "IDLE", "-", role=role_name))
    sim.say("simulated %s ready on %s%s" % (role_name, sim.board, " (acts when told)" if nudge_only else ""))
    pane = PaneInput(stdin, sim.out)
    state = {"ids": [], "announced": False}

    def act() -> bool:
        """One look at the board; True when the work is done (for stop_when_done)."""
        if role == "orchestrator":
            if plan and not state["ids"]:
                state["ids"] = assign_plan(sim, plan, routing or {})
            ids = state["ids"]
            if ids and not state["announced"] and completed(sim.board, ids) == set(ids):
                state["announced"] = True
                sim.update(lambda b: board_lib.send_message(b, sim.agent, "all", "plan complete: %d tasks done" % len(ids)))
                sim.say("plan complete: %d tasks done" % len(ids))
            return state["announced"]
        did = False
        while worker_step(sim) is not None:
            did = True
            if not nudge_only:
                break
        return not did

    if not nudge_only:
        while True:
            if act() and stop_when_done:
                return 0
            sim.prompt()
            if pane.exit_requested(poll):
                break
    else:
        sim.prompt()
        while True:
            typed = pane.inputs(1.0)
            if not typed:
                continue
            if any(is_exit(line) for line in typed):
                break
            sim.spoke = True
            for line in typed:
                # A notice starts its own input; one found later in an input was typed into another's line.
                if any(mark in line[1:] for mark in NOTICE_MARKS):
                    sim.say("merged input: a notice was typed into another input (%d chars)" % len(line))
            act()
            if pane.ready():
                sim.say("typed while busy: input arrived while working")
            sim.prompt()
    sim.update(lambda b: board_lib.set_status(b, sim.agent, "OFFLINE"))
    sim.say("exiting")
    return 0


def load_plan(path: str) -> list[dict]:
    """A plan: a JSON list of {title, complexity, priority?, description?, files?}.

    A leading ``~`` is expanded here: the role quotes the path (it may hold spaces), so no shell expands it."""
    path = os.path.expanduser(path)
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
