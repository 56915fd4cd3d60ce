# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dispatcher (``orchestra dispatch``): tells agents when the board has something for them.

An agent CLI waiting at its prompt does not watch files. The dispatcher does:
it polls the board's stat (a few microseconds; see docs/architecture.md for
the measured choice), and when the board changed it works out the notices
the board now calls for:

- a PENDING task for worker W: W is told to run ``orchestra task show``;
- a task COMPLETED or FAILED: the orchestrator is told;
- a message to A (or to ``all``): A is told.

A notice is typed only into an idle agent (``_agents``) through
``_delivery``; everything pending for one agent goes as one line, so bursts
coalesce. A notice holds ids, the recipient's own name and fixed words only,
never text from the board (the pane may be a shell). Keys of delivered
notices are kept in a state file written atomically after each delivery, so a
restarted dispatcher never repeats one; that memory belongs to one board (its
identity), and a key names the entry by its id and a digest of its fields.
Messages left by ``tmux_send`` in the queue folder are typed the same way.
Every few seconds it also reads the panes: the session's status line shows
each agent's state and the board's counts, and dead agents with
``auto_restart`` are respawned within a rate limit. SIGTERM stops it between
two deliveries, never during one. Standard library only.

Parts, each testable alone: the notices (``wanted``, ``pending``, ``prune``,
pure), ``SentState`` (the state file: the memory of one board), ``BoardWatch``
(the board's stat and facts), ``scan_panes``/``read_states`` (the panes),
``StatusFile`` (each agent's screen state and since when, for health),
``RestartPolicy``/``Restarts`` (who is respawned when: with the pane's own
command, which exports its plain variables and reads its env file, so the
dispatcher never holds a value), ``StatusLine``, ``Courier`` (one delivery, logged), ``Stop``/
``SignalStop``; ``Dispatcher`` puts them together in ``step`` and ``run``.
The configuration's schema is ``_dispatch_config``'s.
"""

from __future__ import annotations

import json
import os
import signal
import time
import zlib

try:
    from ansible_collections.moana.orchestration.plugins.module_utils import _agents, _board as board_lib
    from ansible_collections.moana.orchestration.plugins.module_utils import _delivery, _dispatch_config, _hooks, _notify
    from ansible_collections.moana.orchestration.plugins.module_utils import _tmux
except ImportError:  # deployed with the orchestra command: the files sit side by side
    import _agents  # type: ignore[no-redef]
    import _board as board_lib  # type: ignore[no-redef]
    import _delivery  # type: ignore[no-redef]
    import _dispatch_config  # type: ignore[no-redef]
    import _hooks  # type: ignore[no-redef]
    import _notify  # type: ignore[no-redef]
    import _tmux  # type: ignore[no-redef]

SENDER = board_lib.SENDER
# Seconds between tries while a notice waits for a busy agent.
RETRY = 0.25
# Outcomes after which a notice is not typed again ("failed": typed, but not taken).
DONE = ("delivered", "failed")
# The configuration's schema is _dispatch_config's (the team module builds it with the same one).
CONFIG_KEYS, AGENT_KEYS = _dispatch_config.CONFIG_KEYS, _dispatch_config.AGENT_KEYS
ConfigError = _dispatch_config.ConfigError
load_config = _dispatch_config.load


# --------------------------------------------------------------------------- notices (pure)
# A notice is typed into an agent's pane, which may be a shell: it holds ids (checked), the recipient's own
# configured name (checked) and fixed words, never a free-text field of the board (a sender, a worker's name
# as written on the board, a title); the agent reads those with ``orchestra``.


def valid_id(entry_id: str, prefix: str) -> bool:
    """``TASK-\\d+`` / ``MSG-\\d+`` (ASCII digits only)."""
    number = entry_id[len(prefix):] if isinstance(entry_id, str) and entry_id.startswith(prefix) else ""
    return number.isdigit() and number.isascii()


def valid_name(name: str) -> bool:
    """An agent name that may be typed: letters, digits, '-', '_' (what the team module allows)."""
    return isinstance(name, str) and name.replace("-", "").replace("_", "").isalnum()


def stamp(*values) -> str:
    """A short digest of an entry's own fields, so that an id reused by another board (or a restored section)
    is another entry for the dispatcher's memory."""
    text = "\x1f".join(value or "" for value in values)
    return "%08x" % (zlib.crc32(text.encode("utf-8", "surrogatepass")) & 0xffffffff)


def task_ref(task: dict) -> str:
    return "%s@%s" % (task["id"], stamp(task.get("title"), task.get("date")))


def completion_ref(done: dict) -> str:
    return "%s@%s" % (done["id"], stamp(done.get("completed_by"), done.get("date"), done.get("changes")))


def message_ref(message: dict) -> str:
    return "%s@%s" % (message["id"], stamp(message.get("from"), message.get("to"), message.get("date"),
                                           message.get("text")))


def key_ref(key: str) -> str:
    """The entry a key is about ('TASK-007:PENDING>amp@1a2b3c4d' -> 'TASK-007@1a2b3c4d')."""
    head, dummy, digest = key.rpartition("@")
    return "%s@%s" % (head.split(":")[0].split(">")[0], digest)


def wanted(facts: dict, agents: list[str], orchestrator: str, old=frozenset()) -> dict[str, list[tuple[str, str]]]:
    """Every notice the board calls for now, by agent: [(key, text)], oldest first.

    Keys name the entry (its id and a digest of its own fields), the event and
    the recipient, so a notice is known again after a restart and an id reused
    by another board is news; ``old`` holds the messages (refs) that were on
    the board when the dispatcher first saw it (not news).
    """
    out: dict[str, list[tuple[str, str]]] = {}
    # A name on the board is compared without regard to case ('AMP' written by hand is amp).
    known = {board_lib.agent_key(a): a for a in agents}

    def agent_named(name) -> str | None:
        return known.get(board_lib.agent_key(name or ""))

    def add(agent: str | None, key: str, text: str) -> None:
        if agent is not None and valid_name(agent):
            out.setdefault(agent, []).append((key, text))

    for task in facts["tasks"]:
        task_id = task["id"]
        if not valid_id(task_id, "TASK-"):
            continue
        status = (task["status"] or "").upper()
        if status == "PENDING":
            worker = agent_named(task["assigned_to"])
            add(worker, "%s:PENDING>%s@%s" % (task_id, worker, task_ref(task).rpartition("@")[2]),
                "%s is assigned to you: run orchestra task show %s" % (task_id, task_id))
        elif status == "FAILED":
            add(orchestrator, "%s:FAILED>%s@%s" % (task_id, orchestrator, task_ref(task).rpartition("@")[2]),
                "%s FAILED: run orchestra task show %s" % (task_id, task_id))
    for done in facts["completions"]:
        task_id = done["id"]
        if valid_id(task_id, "TASK-"):
            add(orchestrator, "%s:COMPLETED>%s@%s" % (task_id, orchestrator, completion_ref(done).rpartition("@")[2]),
                "%s was completed: run orchestra task show %s" % (task_id, task_id))
    for message in facts["messages"]:
        message_id = message["id"]
        if not valid_id(message_id, "MSG-"):
            continue
        ref = message_ref(message)
        if ref in old:
            continue
        digest = ref.rpartition("@")[2]
        broadcast = board_lib.agent_key(message["to"]) == "all"
        sender = board_lib.agent_key(message["from"])
        recipients = [a for a in agents if board_lib.agent_key(a) != sender] if broadcast else [agent_named(message["to"])]
        for agent in recipients:
            add(agent, "%s>%s@%s" % (message_id, agent, digest), "%s is a message %s: run orchestra msg list --to %s "
                "--since MSG-%03d" % (message_id, "to all" if broadcast else "for you", agent,
                                      board_lib.id_number(message_id) - 1))
    return out


def pending(wanted_notices: dict[str, list[tuple[str, str]]], sent: set[str]) -> dict[str, list[tuple[str, str]]]:
    return {agent: [n for n in notices if n[0] not in sent] for agent, notices in wanted_notices.items()
            if any(n[0] not in sent for n in notices)}


def notice_text(notices: list[tuple[str, str]]) -> str:
    """One line for everything pending for an agent (a burst becomes one notice)."""
    return "[orchestra] " + "; ".join(text for dummy, text in notices)


def present(facts: dict) -> set[str]:
    """The refs of every entry on the board."""
    return ({task_ref(t) for t in facts["tasks"]} | {completion_ref(c) for c in facts["completions"]}
            | {message_ref(m) for m in facts["messages"]})


def prune(sent: set[str], facts: dict) -> set[str]:
    """Keep only keys of entries still on the board (the same id with other fields is another entry)."""
    on_board = present(facts)
    return {key for key in sent if key_ref(key) in on_board}


def history(facts: dict | None, agents: list[str], orchestrator: str) -> tuple[set[str], set[str]]:
    """What a fresh memory counts as already told on a board: completions, failures and messages on it now
    (PENDING tasks are still told). Returns (sent keys, the messages' refs)."""
    if facts is None:
        return set(), set()
    refs = {message_ref(m) for m in facts["messages"]}
    sent = {key for notices in wanted(facts, agents, orchestrator, refs).values()
            for key, dummy in notices if ":PENDING>" not in key}
    return sent, refs


def status_line(states: dict[str, str], facts: dict | None) -> str:
    """The session's status-right: each agent's state and the board's counts (tmux format, '#' escaped)."""
    parts = ["%s:%s" % (name, state) for name, state in states.items()]
    if facts is not None:
        by_status = facts["tasks_by_status"]
        parts.append("| pending %d · in progress %d · done %d" % (
            len(by_status.get("PENDING", [])), len(by_status.get("IN_PROGRESS", [])), len(facts["completions"])))
    return " ".join(parts).replace("#", "##")


class RestartPolicy:
    """At most ``max`` restarts per ``window`` seconds per agent, each after a delay that doubles."""

    def __init__(self, max_restarts: int, window: float, delay: float):
        self.max, self.window, self.delay = max_restarts, window, delay
        self.history: dict[str, list[float]] = {}

    def decide(self, agent: str, died_at: float, now: float) -> str:
        """'now', 'later' (its delay has not passed) or 'give_up' (too many in the window)."""
        recent = [t for t in self.history.get(agent, []) if now - t < self.window]
        self.history[agent] = recent
        if len(recent) >= self.max:
            return "give_up"
        return "now" if now - died_at >= self.delay * (2 ** len(recent)) else "later"

    def record(self, agent: str, now: float) -> int:
        self.history.setdefault(agent, []).append(now)
        return len(self.history[agent])


class Restarts:
    """Which dead agents to respawn now: remembers when each died and whom it gave up on (no tmux, no board)."""

    def __init__(self, policy: RestartPolicy):
        self.policy = policy
        self.died: dict[str, float] = {}
        self.gave_up: set[str] = set()

    def decide(self, panes: dict[str, dict], agents: dict[str, dict], now: float) -> list[tuple[str, str, str]]:
        """[(agent, 'restart', '') or (agent, 'give_up', why)] for the dead panes due now."""
        decisions: list[tuple[str, str, str]] = []
        for name, pane in panes.items():
            if not pane["dead"]:
                self.died.pop(name, None)
                continue
            agent = agents[name]
            if not agent.get("auto_restart") or name in self.gave_up:
                continue
            decision = self.policy.decide(name, self.died.setdefault(name, now), now)
            if decision == "later":
                continue
            if decision == "give_up":
                self.gave_up.add(name)
                decisions.append((name, "give_up", "%s died %d times within %.0f s: not restarted again; fix it, "
                                  "then run the start playbook" % (name, self.policy.max, self.policy.window)))
                continue
            decisions.append((name, "restart", ""))
        return decisions

    def restarted(self, name: str, now: float) -> int:
        """Count a restart that happened; returns how many fell within the window."""
        self.died.pop(name, None)
        return self.policy.record(name, now)


# --------------------------------------------------------------------------- the loop's parts


def make_log(out):
    """A function writing a timestamped line to ``out`` (nowhere when None)."""

    def log(text: str) -> None:
        if out is not None:
            out.write("%s %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S"), text))
            out.flush()

    return log


class SentState:
    """The dispatcher's memory of one board: its identity (``board_id``, None for a board without one), the
    keys of delivered notices and the messages that were history when it first saw the board; in a state file
    written atomically after each delivery, so a restarted dispatcher repeats nothing. A board with another
    identity gets a fresh memory (``follow``)."""

    VERSION = 2

    def __init__(self, path: str, sent: set[str], refs: set[str] | None = None, board_id: str | None = None):
        self.path, self.sent, self.history, self.board_id = path, sent, set(refs or ()), board_id

    @classmethod
    def fresh(cls, path: str, facts: dict | None, agents: list[str], orchestrator: str) -> "SentState":
        """A first memory of the board whose facts are given: what it holds counts as told, PENDING tasks aside."""
        return cls(path, *history(facts, agents, orchestrator), board_id=(facts or {}).get("board_id"))

    @classmethod
    def load(cls, path: str, board: str, agents: list[str], orchestrator: str, log) -> "SentState":
        """The state file's memory, if it is this board's; else (a first run, an unreadable file, another
        board) a fresh one from what the board holds now."""
        facts = read_facts(board)
        try:
            with open(path, encoding="utf-8") as stream:
                data = json.load(stream)
            if data.get("version") == cls.VERSION:
                state = cls(path, set(data["sent"]), set(data["history"]), data.get("board_id"))
            else:  # the first format: keys without digests, a message floor
                state = cls.upgrade(path, set(data["sent"]), int(data["message_floor"]), facts, agents, orchestrator)
                state.save()
            if facts is not None:
                state.follow(facts, agents, orchestrator, log)
            return state
        except FileNotFoundError:
            pass
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            log("state file %s is unreadable (%s): starting afresh" % (path, exc))
        state = cls.fresh(path, facts, agents, orchestrator)
        state.save()
        return state

    @classmethod
    def upgrade(cls, path: str, sent: set[str], floor: int, facts: dict | None, agents: list[str],
                orchestrator: str) -> "SentState":
        """A memory in the first format (keys without digests, a message floor) in this one, against the board."""
        if facts is None:
            return cls(path, set())
        refs = {message_ref(m) for m in facts["messages"] if board_lib.id_number(m["id"]) <= floor}
        keys = {key.rpartition("@")[0]: key for notices in wanted(facts, agents, orchestrator).values()
                for key, dummy in notices}
        return cls(path, {keys[key] for key in sent if key in keys}, refs, facts.get("board_id"))

    def follow(self, facts: dict, agents: list[str], orchestrator: str, log, came_back: bool = False) -> bool:
        """Make the memory the board's: True when the board has another identity than the memory's, or
        ``came_back`` (it was seen missing, then there again: a new board, whether it says so or not); the
        memory then starts afresh for it, said in the log. A memory without identity takes the board's."""
        board_id = facts.get("board_id")
        if board_id == self.board_id and not came_back:
            return False
        if self.board_id is None and not came_back:
            self.board_id = board_id
            self.save()
            return False
        why = ("was missing and is back (identity %s)" % board_id if came_back
               else "is another board (identity %s, the memory's %s)" % (board_id, self.board_id))
        log("the board %s: a fresh memory for it; what it holds counts as told, PENDING tasks are told" % why)
        self.sent, self.history = history(facts, agents, orchestrator)
        self.board_id = board_id
        self.save()
        return True

    def save(self) -> None:
        os.makedirs(os.path.dirname(os.path.abspath(self.path)), mode=0o700, exist_ok=True)
        board_lib.atomic_write(self.path, json.dumps({
            "version": self.VERSION, "board_id": self.board_id, "history": sorted(self.history),
            "sent": sorted(self.sent)}, indent=1) + "\n", 0o600)

    def record(self, keys: list[str], facts: dict) -> None:
        """Add delivered keys, forget those whose entry left the board, save."""
        on_board = present(facts)
        self.sent = {key for key in self.sent | set(keys) if key_ref(key) in on_board}
        self.history &= on_board
        self.save()


def read_facts(board: str) -> dict | None:
    """The board's facts; None when it is missing or does not parse."""
    try:
        return board_lib.facts(board_lib.load(board))
    except (board_lib.BoardError, OSError):
        return None


def _board_stamp(path: str):
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


class BoardWatch:
    """The board's stat, polled; on a change, a pause for a burst of writes to land, then one parse."""

    def __init__(self, path: str, settle: float, log, sleep=time.sleep):
        self.path, self.settle, self.log, self.sleep = path, settle, log, sleep
        self.stamp: tuple | None = ()  # the board's (inode, mtime, size) at the last read; None: no board
        self.facts: dict | None = None  # None: no board, or one that does not parse
        self.gone = False  # the last look found no board
        self.came_back = False  # the last read found a board after a look that found none

    def changed(self) -> bool:
        """Re-read the board when its stat changed; True when it was read."""
        stamp = _board_stamp(self.path)
        if stamp == self.stamp:
            return False
        self.sleep(self.settle)
        stamp = _board_stamp(self.path)
        try:
            self.facts = board_lib.facts(board_lib.load(self.path))
        except board_lib.BoardParseError as exc:
            self.log("board unreadable, nothing sent until it is fixed: %s" % exc)
            self.stamp, self.facts = stamp, None
            return False
        except (board_lib.NotFound, OSError) as exc:
            if not self.gone:
                self.log("board missing, nothing sent until it is back: %s" % exc)
            self.stamp, self.facts, self.gone = stamp, None, True
            return False
        self.stamp, self.came_back, self.gone = stamp, self.gone, False
        return True


def scan_panes(server, session: str, names) -> dict[str, dict]:
    """The agents' panes in the session: name -> {id, dead, pid}; agents without a pane are left out."""
    state = _tmux.read_session(server, session)
    return {pane.name: {"id": pane.pane_id, "dead": pane.dead, "pid": pane.pid}
            for pane in (state.panes() if state else ()) if pane.name in names}


def read_states(server, panes: dict[str, dict], agents: dict[str, dict], tracker) -> dict[str, str]:
    """Every agent's state from its screen (all panes read in one tmux call); 'absent' without a pane."""
    screens = _tmux.read_screens(server, [p["id"] for p in panes.values()]) if panes else {}
    states = {}
    for name, agent in agents.items():
        pane = panes.get(name)
        states[name] = "absent" if pane is None else _agents.read_state(
            server, pane["id"], agent.get("type", "generic"), tracker, screens.get(pane["id"]))[0]
    return states


class HookReports:
    """The agents' own reports (``orchestra hook``, one file per agent), each read again when its stat
    changed: a stat per agent per round costs microseconds."""

    def __init__(self, folder: str, names):
        self.folder, self.names = folder, list(names)
        self.stamps: dict[str, tuple | None] = {}
        self.reports: dict[str, dict] = {}

    def poll(self) -> list[str]:
        """The agents whose report changed since the last poll."""
        changed = []
        for name in self.names:
            path = "%s/%s.json" % (self.folder, name)
            stamp = _board_stamp(path)
            if stamp == self.stamps.get(name, ()):
                continue
            self.stamps[name] = stamp
            report = _hooks.read_report(path) if stamp else None
            if report is None:
                self.reports.pop(name, None)
            else:
                self.reports[name] = report
            changed.append(name)
        return changed


class StatusFile:
    """Each agent's screen state and since when (wall clock), with the dispatcher's pid and the board identity
    it follows, in a small file beside the state file (``_dispatch_config.status_file``), written only when
    something in it changed. Health reads it: it looks once, so it needs to know since when an agent has sat
    idle or waited for a person."""

    def __init__(self, path: str, log, clock=time.time):
        self.path, self.log, self.clock = path, log, clock
        self.agents: dict[str, dict] = {}
        self.board_id: str | None = None
        self.written = False

    def observe(self, states: dict[str, str], board_id: str | None, stuck: dict[str, dict] | None = None,
                sources: dict[str, str] | None = None, limited: dict[str, dict] | None = None) -> bool:
        """Record the states known now (and the stuck agents: reason and since when; which states the CLI's
        own report gave, ``sources``: agent -> "hook"; the agents a limit holds: since when and its reset);
        write the file when any of it or the board changed. True when written."""
        now = self.clock()
        agents = {}
        for name, state in states.items():
            before = self.agents.get(name)
            before = {k: v for k, v in before.items() if k in ("state", "since")} if before else None
            agents[name] = before if before and before["state"] == state else {"state": state, "since": now}
            if (sources or {}).get(name):
                agents[name] = dict(agents[name], source=sources[name])
            if name in (limited or {}):
                agents[name] = dict(agents[name], limited={k: limited[name].get(k) for k in ("since", "reset", "policy", "peer")})
            if name in (stuck or {}):
                agents[name] = dict(agents[name], stuck={k: stuck[name][k] for k in ("reason", "since", "state")})
        if self.written and agents == self.agents and board_id == self.board_id:
            return False
        self.agents, self.board_id = agents, board_id
        try:
            board_lib.atomic_write(self.path, json.dumps({"pid": os.getpid(), "board_id": board_id,
                                                          "agents": agents}, indent=1, sort_keys=True) + "\n", 0o600)
        except OSError as exc:
            self.log("status file %s not written: %s" % (self.path, exc))
            return False
        self.written = True
        return True


class StatusLine:
    """The session's status-right (agents' states, the board's counts), set only when its text changed."""

    def __init__(self, server, session: str, enabled: bool, log):
        self.server, self.session, self.enabled, self.log = server, session, enabled, log
        self.shown: str | None = None

    def show(self, states: dict[str, str], facts: dict | None) -> None:
        if not self.enabled:
            return
        line = status_line({n: s for n, s in states.items() if s != "absent"}, facts)
        if line == self.shown:
            return
        try:
            _tmux.set_status_right(self.server, self.session, line)
            self.shown = line
        except _tmux.TmuxError as exc:
            self.log("status line not set: %s" % exc)


class Courier:
    """Types one text into one agent's pane through ``_delivery.deliver`` (never waiting for the agent)
    and logs what happened."""

    def __init__(self, server, tracker, log, sleep=time.sleep, clock=time.monotonic, deliver=None):
        self.server, self.tracker, self.log, self.sleep, self.clock = server, tracker, log, sleep, clock
        self.type_text = deliver or _delivery.deliver

    def deliver(self, name: str, agent: dict, pane_id: str, text: str, label: str) -> dict:
        """``_delivery.deliver``'s result; status ``error`` when tmux refused (the pane may be gone).

        ``label`` names what is sent in the log (the notices' keys, or the queued file)."""
        try:  # submit_delay: the configuration may override the agent type's
            result = self.type_text(self.server, pane_id, text, agent.get("type", "generic"),
                                    submit_delay=agent.get("submit_delay"), wait_timeout=0.0,
                                    tracker=self.tracker, sleep=self.sleep, clock=self.clock)
        except _tmux.TmuxError as exc:
            self.log("%s: not delivered: %s" % (name, exc))
            return {"status": "error", "state": "unknown"}
        if result.get("typed"):  # queued although typed: say why, it is not the agent's state
            self.log("%s: %s %s" % (name, label, result["message"]))
        elif result["status"] != "queued":
            self.log("%s: %s %s (%s, %d attempt(s), %.2f s): %s" % (
                name, result["status"], label, result["method"], result["attempts"], result["waited"],
                result["text"][:300]))
        return result


class Stop:
    """A request to stop, which the loop checks between deliveries (a delivery is never cut)."""

    def __init__(self, sleep=time.sleep):
        self.reason: str | None = None
        self.sleep = sleep

    def request(self, reason: str) -> None:
        if self.reason is None:
            self.reason = reason

    def __call__(self) -> bool:
        return self.reason is not None

    def wait(self, seconds: float) -> None:
        """Pause between rounds (returns early when a stop is requested meanwhile, where it can tell)."""
        if not self():
            self.sleep(seconds)


class SignalStop(Stop):
    """SIGTERM (by default) as the stop request.

    The signal is blocked and taken when the loop asks rather than handled
    where it lands: ``background_process`` signals the whole process group,
    and the ``tmux`` clients a delivery runs are in it; they inherit the
    blocked signal (tmux keeps the mask), so the text, the submit key and the
    check all reach the pane. ``wait`` returns as soon as the signal arrives.
    """

    def __init__(self, signum: int = signal.SIGTERM):
        super().__init__()
        self.signum = signum
        signal.pthread_sigmask(signal.SIG_BLOCK, {signum})

    def _take(self, timeout: float) -> None:
        if self.reason is None and signal.sigtimedwait({self.signum}, max(timeout, 0.0)) is not None:
            self.request(signal.Signals(self.signum).name)

    def __call__(self) -> bool:
        self._take(0.0)
        return super().__call__()

    def wait(self, seconds: float) -> None:
        self._take(seconds)


# --------------------------------------------------------------------------- the loop


class Dispatcher:
    """The parts above put together: ``step`` does one round, ``run`` loops until stopped."""

    def __init__(self, config: dict, server=None, out=None, clock=time.monotonic, sleep=time.sleep, deliver=None,
                 wall_clock=time.time):
        self.config = config
        self.server = server or _tmux.Client(config.get("socket_name") or None, config.get("socket_path") or None)
        self.agents = {a["name"]: a for a in config["agents"]}
        self.orchestrator = next(a["name"] for a in config["agents"] if a.get("role") == "orchestrator")
        self.clock, self.sleep = clock, sleep
        self.log = make_log(out)
        self.tracker = _agents.Tracker()
        self.watch = BoardWatch(config["board"], config["settle"], self.log, sleep)
        self.restarts = Restarts(RestartPolicy(int(config["restart"]["max"]), float(config["restart"]["window"]),
                                               float(config["restart"]["delay"])))
        self.status = StatusLine(self.server, config["session"], config.get("status_line", True), self.log)
        self.status_file = StatusFile(_dispatch_config.status_file(config), self.log, wall_clock)
        stuck = config.get("stuck") or {}
        self.stuck = _agents.StuckWatch(stuck.get("busy_seconds"), stuck.get("dialog_seconds"), wall_clock)
        self.nudge = stuck.get("nudge") or ""
        self.notifier = _notify.Notifier(config.get("notify"), config["session"], self.log, clock, wall_clock)
        self.wall_clock = wall_clock
        self.reports = HookReports(_dispatch_config.hooks_dir(config), self.agents) if config.get("hooks") else None
        self.screen_seen: dict[str, tuple[str, float]] = {}  # agent: (its screen's state, since when, wall clock)
        self.limits = config.get("limits") or dict(_dispatch_config.LIMIT_DEFAULTS)
        self.limited: dict[str, dict] = {}  # agent: {since, reset, retrying, go_on_at} while a limit holds it
        self.limit_quiet: dict[str, float] = {}  # agent: until when a new limit is not told again (wall clock)
        self.had_open = False  # the board had tasks open since the last end of a plan
        self.announced: set[str] = set()  # the failures already sent to the notifier
        self.courier = Courier(self.server, self.tracker, self.log, sleep, clock, deliver)
        self.stop = Stop(sleep)
        self.panes: dict[str, dict] = {}
        self.states: dict[str, str] = {}
        self.raw_before: dict[str, str] = {}  # each agent's screen state at the scan before
        self.waiting_told: set[str] = set()  # agents the notifier was told wait for a person (this wait)
        self.deferred: dict[str, str] = {}
        self.next_scan = 0.0
        self.dirty = True
        self.active_at = 0.0  # when the last round had something to do (the board, a report, a delivery)
        self.state = SentState.load(config["state_file"], config["board"], list(self.agents), self.orchestrator,
                                    self.log)

    @property
    def facts(self) -> dict | None:
        return self.watch.facts

    # -- panes
    def scan(self) -> None:
        """Read the session's panes and every agent's screen; restart the dead; refresh the status line."""
        self.panes = scan_panes(self.server, self.config["session"], self.agents)
        self.states = read_states(self.server, self.panes, self.agents, self.tracker)
        # The status file and the stuck watch take the last read of each screen (the status line, the last two
        # agreeing ones): since when a screen has shown a dialog, a prompt or no progress, from a read every scan.
        raw = {name: self.tracker.raw.get(self.panes[name]["id"], state) if name in self.panes else state
               for name, state in self.states.items()}
        now = self.wall_clock()
        for name, state in raw.items():
            if self.screen_seen.get(name, ("",))[0] != state:
                self.screen_seen[name] = (state, now)
        self.watch_team(raw)
        self.watch_limits(raw)
        reported = {name: self.reported(name) for name in raw}
        known = {name: reported[name] or state for name, state in raw.items()}
        self.status_file.observe(known, self.state.board_id, self.stuck.stuck,
                                 {name: "hook" for name in raw if reported[name]}, self.limited)
        self.restart_dead()
        self.show_status()

    def watch_team(self, raw: dict[str, str]) -> None:
        """The end of a plan (``plan_check``); agents waiting for a person (two scans in a row), stuck, or moving
        again after being stuck: the orchestrator is told on the board, a person through the notifier; a stuck
        agent idle again gets the nudge, once. ``raw``: each agent's screen state at this scan."""
        session = self.config["session"]
        before, self.raw_before = self.raw_before, raw
        self.plan_check(raw, before)
        for name, state in raw.items():
            pane = self.panes.get(name)
            if pane is None:
                self.stuck.forget(name)
                continue
            if state != "waiting":
                self.waiting_told.discard(name)
            elif before.get(name) == "waiting" and name not in self.waiting_told:
                self.waiting_told.add(name)
                self.notifier.emit("waiting", "%s waits for a person (a dialog): attach (tmux attach -t %s) and "
                                   "answer it" % (name, session), agent=name)
            seen = self.stuck.see(name, state, _agents.progress_key(self.tracker.screens.get(pane["id"]) or []))
            if seen is None:
                continue
            kind, entry = seen
            if kind == "stuck":
                text = ("%s looks stuck: %s; attach (tmux attach -t %s) to look at it, or give its task to another"
                        % (name, entry["reason"], session))
                self.tell_board(name, None, text)
                self.notifier.emit("stuck", text, agent=name, state=entry["state"])
            else:
                self.log("%s moved on (%s) after it looked stuck" % (name, entry["now"]))
                if entry["now"] == "idle" and self.nudge and self.config.get("queue_dir"):
                    _delivery.enqueue(self.config["queue_dir"], name, self.nudge)

    def watch_limits(self, raw: dict[str, str]) -> None:
        """Agents held by a usage or rate limit: when one is first seen, its PENDING tasks are held or
        rerouted (said on the board, sent to the notifier); once the limit's reset time has passed (or every
        retry_seconds without one), and the CLI is not retrying by itself, it is told to go on; an agent
        seen at work or idle again is free."""
        now = self.wall_clock()
        for name, state in raw.items():
            pane = self.panes.get(name)
            episode = self.limited.get(name)
            if pane is None or (state != "limited" and episode is None):
                continue
            if state != "limited":
                if state in ("idle", "busy"):
                    del self.limited[name]
                    self.log("%s: no longer held by a limit (%s)" % (name, state))
                    self.limit_quiet[name] = now + self.limits["retry_seconds"]
                continue
            facts = _agents.limit_facts(self.agents[name].get("type", "generic"),
                                        self.tracker.screens.get(pane["id"]) or [], now) or {"retrying": False, "reset": None}
            if episode is None:
                episode = self.limited[name] = dict(facts, since=now, go_on_at=self.go_on_time(facts, now),
                                                    policy=self.limits["policy"], peer=self.limit_peer(name))
                if now >= self.limit_quiet.get(name, 0):
                    self.hold_or_reroute(name, facts)
            else:
                if episode["retrying"] and not facts["retrying"]:  # its own retries gave up: ours start now
                    episode.update(facts, go_on_at=self.go_on_time(facts, now))
                else:
                    episode.update(facts)
                self.reroute_new_tasks(name, episode)
            if not episode["retrying"] and now >= episode["go_on_at"]:
                episode["go_on_at"] = now + self.limits["retry_seconds"]
                self.go_on(name, pane["id"])

    def go_on_time(self, facts: dict, now: float) -> float:
        """When a limited agent is told to go on: a little after the reset its screen gives, else a retry later."""
        return facts["reset"] + 30 if facts.get("reset") else now + self.limits["retry_seconds"]

    def hold_or_reroute(self, name: str, facts: dict) -> None:
        """Tell the orchestrator (on the board) and the notifier that ``name`` is limited; hand its PENDING
        tasks to another worker of its complexity under the reroute policy."""
        until = " until %s" % time.strftime("%H:%M", time.localtime(facts["reset"])) if facts.get("reset") else ""
        tasks, peer = self.pending_of(name), self.limited[name]["peer"]
        text = "%s is held by a usage limit%s: nothing is typed into it until then" % (name, until)
        if tasks and peer and self.hand_over(name, tasks, peer):
            text += "; its PENDING task(s) %s go to %s" % (", ".join(tasks), peer)
        elif tasks:
            text += "; its PENDING task(s) %s wait for it" % ", ".join(tasks)
        self.tell_board(name, None, text)
        self.notifier.emit("limited", text, agent=name, tasks=tasks or None,
                           reset=time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(facts["reset"]))
                           if facts.get("reset") else None)

    def reroute_new_tasks(self, name: str, episode: dict) -> None:
        """Under reroute, the tasks given to a limited agent while the limit holds go to its peer too."""
        episode["peer"] = self.limit_peer(name)
        tasks = self.pending_of(name) if episode["peer"] else []
        if tasks and self.hand_over(name, tasks, episode["peer"]):
            self.tell_board(name, None, "%s is still held by a usage limit: its PENDING task(s) %s go to %s"
                            % (name, ", ".join(tasks), episode["peer"]))

    def pending_of(self, name: str) -> list[str]:
        return [t["id"] for t in (self.facts or {}).get("tasks", []) if (t["status"] or "").upper() == "PENDING"
                and board_lib.agent_key(t["assigned_to"] or "") == board_lib.agent_key(name)]

    def limit_peer(self, name: str) -> str | None:
        """Under reroute, the worker a limited agent's PENDING tasks go to: the first other worker of its
        complexity that no limit holds (None under hold, or when there is none)."""
        complexity = self.agents[name].get("complexity")
        if self.limits["policy"] != "reroute" or not complexity:
            return None
        return next((a for a, agent in self.agents.items() if a != name and a not in self.limited
                     and agent.get("role") == "worker" and agent.get("complexity") == complexity), None)

    def hand_over(self, name: str, tasks: list[str], peer: str) -> bool:
        try:
            board_lib.update(self.config["board"], lambda b: [board_lib.update_task(b, t, assigned_to=peer)
                                                              for t in tasks])
        except (board_lib.BoardError, OSError) as exc:
            self.log("%s: its tasks could not be handed to %s: %s" % (name, peer, exc))
            return False
        for task in (self.facts or {}).get("tasks", []):  # as the board now says, until the watch reads it again
            if task["id"] in tasks:
                task["assigned_to"] = peer
        return True

    def go_on(self, name: str, pane_id: str) -> None:
        """Type into a limited agent at its prompt that the limit should have lifted (fixed words and its name)."""
        text = "[orchestra] the usage limit should have lifted: go on with your task (run orchestra task list " \
               "--agent %s)" % name
        try:
            result = self.courier.type_text(self.server, pane_id, text, self.agents[name].get("type", "generic"),
                                            submit_delay=self.agents[name].get("submit_delay"), wait_timeout=0.0,
                                            tracker=self.tracker, sleep=self.sleep, clock=self.clock,
                                            ready=("idle", "limited"))
        except _tmux.TmuxError as exc:
            result = {"status": "error: %s" % exc}
        self.log("%s: told to go on after its limit: %s" % (name, result["status"]))

    def announce(self, facts: dict) -> None:
        """Send the notifier a task newly FAILED (not yet told to the orchestrator); note open tasks (for
        ``plan_check``)."""
        notices = pending(wanted(facts, list(self.agents), self.orchestrator, self.state.history), self.state.sent)
        for key, dummy in notices.get(self.orchestrator, []):
            if ":FAILED>" in key and key not in self.announced:
                self.announced.add(key)
                task_id = key.partition(":")[0]
                task = next((t for t in facts["tasks"] if t["id"] == task_id), {})
                self.notifier.emit("task_failed", "%s failed (%s): run orchestra task show %s" % (
                    task_id, task.get("assigned_to") or "unassigned", task_id), task=task_id,
                    agent=task.get("assigned_to"))
        by_status = facts["tasks_by_status"]
        self.had_open = self.had_open or bool(by_status.get("PENDING") or by_status.get("IN_PROGRESS"))

    def plan_check(self, raw: dict[str, str], before: dict[str, str]) -> None:
        """The end of a plan, sent once: tasks were open, none is now, and the orchestrator (told everything,
        nothing queued for it) sits idle at two scans in a row, so it made no new plan."""
        facts = self.facts
        if not self.had_open or facts is None:
            return
        by_status = facts["tasks_by_status"]
        if by_status.get("PENDING") or by_status.get("IN_PROGRESS"):
            return
        name = self.orchestrator
        if raw.get(name) != "idle" or before.get(name) != "idle":
            return
        notices = pending(wanted(facts, list(self.agents), name, self.state.history), self.state.sent)
        if notices.get(name) or (self.config.get("queue_dir") and _delivery.queued(self.config["queue_dir"], name)):
            return
        self.had_open = False
        done, failed = len(facts["completions"]), len(by_status.get("FAILED", []))
        self.notifier.emit("plan_complete", "plan complete: no task is pending or in progress, %s is idle (%d "
                           "completed, %d failed)" % (name, done, failed), completed=done, failed=failed)

    def reported(self, name: str) -> str | None:
        """The agent's state as its CLI's hooks last reported it, while that report is fresh against its
        screen (``_hooks.prefer_report``); None without one."""
        report = self.reports.reports.get(name) if self.reports else None
        if report is None:
            return None
        screen, since = self.screen_seen.get(name, ("unknown", None))
        return report["state"] if _hooks.prefer_report(screen, report, since, self.wall_clock()) else None

    def show_status(self) -> None:
        if self.panes:
            self.status.show(self.states, self.facts)

    def restart_dead(self) -> None:
        """Respawn the dead agents ``Restarts`` says are due; tell the board; queue typed initial prompts."""
        now = self.clock()
        for name, action, detail in self.restarts.decide(self.panes, self.agents, now):
            if action == "give_up":
                self.tell_board(name, "BLOCKED", detail)
                self.notifier.emit("stuck", detail, agent=name, state="dead")
                continue
            pane_id = self.panes[name]["id"]
            try:
                _tmux.respawn(self.server, pane_id)
            except _tmux.TmuxError as exc:
                self.log("%s: restart failed: %s" % (name, exc))
                continue
            count = self.restarts.restarted(name, now)
            self.tracker.forget(pane_id)
            policy = self.restarts.policy
            text = "%s died and was restarted (%d of %d within %.0f s)" % (name, count, policy.max, policy.window)
            session = (self.reports.reports.get(name) or {}).get("session") if self.reports else None
            if self.agents[name].get("resume") and session:
                text += "; " + _hooks.resumed_words(session)
            self.tell_board(name, "IDLE", text)
            self.notifier.emit("restarted", text, agent=name)
            self.queue_prompt(name)

    def queue_prompt(self, name: str) -> None:
        agent = self.agents[name]
        if agent.get("typed_prompt") and agent.get("prompt"):
            try:
                with open(agent["prompt"], encoding="utf-8") as stream:
                    _delivery.enqueue(self.config["queue_dir"], name, stream.read())
            except OSError as exc:
                self.log("%s: initial prompt %s unreadable: %s" % (name, agent["prompt"], exc))

    def tell_board(self, name: str, state: str | None, text: str) -> None:
        """Log ``text``, send it to the orchestrator on the board and, unless None, set the agent's state."""
        self.log(text)
        try:
            board_lib.update(self.config["board"], lambda b: (
                board_lib.set_status(b, name, state) if state else None,
                board_lib.send_message(b, SENDER, self.orchestrator, text)))
        except (board_lib.BoardError, OSError) as exc:
            self.log("could not write to the board: %s" % exc)

    # -- delivery
    def deliver(self, name: str, text: str, label: str) -> str:
        """Type one text into an idle agent; returns the outcome (delivered, failed, or the agent's state)."""
        pane = self.panes.get(name)
        if pane is None or pane["dead"]:
            return "absent" if pane is None else "dead"
        if name in self.limited:  # told to go on by watch_limits, once its limit lifts
            return "limited"
        reported = self.reported(name)
        if reported in ("busy", "waiting"):  # the CLI says so itself: its screen need not be read
            return reported
        result = self.courier.deliver(name, self.agents[name], pane["id"], text, label)
        if result["status"] == "error":
            self.next_scan = 0.0  # the pane may be gone: look again
            return "failed"
        if result["status"] == "queued":
            self.states[name] = result["state"]
            return result["state"]
        self.active_at = self.clock()  # something typed: more may follow soon
        return result["status"]

    def deliver_queued(self, name: str) -> str | None:
        """Type the messages left for the agent in the queue, oldest first; returns what stopped it, or None."""
        for path in _delivery.queued(self.config["queue_dir"], name) if self.config.get("queue_dir") else []:
            if self.stop():
                return "stopping"
            with open(path, encoding="utf-8") as stream:
                outcome = self.deliver(name, stream.read(), "queued message %s" % os.path.basename(path))
            if outcome not in DONE:
                return outcome
            os.unlink(path)  # failed too: typed but not taken; typing it again could double it
        return None

    def deliver_pending(self) -> bool:
        """Try every agent with something pending, until a stop is requested; True when something still waits."""
        waiting = False
        facts = self.facts
        notices = pending(wanted(facts, list(self.agents), self.orchestrator, self.state.history),
                          self.state.sent) if facts else {}
        for name in self.agents:
            if self.stop():
                return True
            outcome = self.deliver_queued(name)
            if outcome is None and notices.get(name) and not self.stop():
                keys = [key for key, dummy in notices[name]]
                outcome = self.deliver(name, notice_text(notices[name]), "[%s]" % " ".join(keys))
                if outcome in DONE:
                    self.state.record(keys, facts)
            if self.stop():
                return True
            if outcome is None or outcome in DONE:
                self.deferred.pop(name, None)
                continue
            waiting = True
            if self.deferred.get(name) != outcome:
                self.log("%s: waiting to deliver (agent %s)" % (name, outcome))
            self.deferred[name] = outcome
        return waiting

    def step(self) -> float:
        """One round; returns how long to sleep before the next."""
        now = self.clock()
        changed = self.reports.poll() if self.reports is not None else ()
        if changed:
            # A CLI reported a new state: deliver now if it is idle; its status at once.
            for name in changed:
                report = self.reports.reports.get(name)
                if report:
                    self.log("%s: %s, its CLI says (%s)" % (name, report.get("state"), report.get("event")))
            self.dirty = True
            self.next_scan = self.active_at = now
        if self.watch.changed():
            self.active_at = now
            self.state.follow(self.facts, list(self.agents), self.orchestrator, self.log, self.watch.came_back)
            self.announce(self.facts)
            self.dirty = True
            self.show_status()
        if now >= self.next_scan:
            self.scan()
            self.next_scan = now + self.config["scan"]
            self.dirty = True
        if self.dirty:
            self.dirty = self.deliver_pending()
        if self.dirty:
            self.active_at = now
            # Something waits for an agent that is busy (or not there yet): look again soon.
            self.next_scan = min(self.next_scan, now + self.config["scan"] / 2)
            return max(self.config["poll"], RETRY)
        return self.config["poll"] if now - self.active_at < _dispatch_config.QUIET else self.config["idle_poll"]

    def run(self, stop: Stop | None = None) -> int:
        """Loop until ``stop`` is requested (checked between deliveries and between rounds); returns 0."""
        if stop is not None:
            self.stop = stop
        self.log("dispatcher watching %s for session %s (agents %s)" % (
            self.config["board"], self.config["session"], ", ".join(self.agents)))
        while not self.stop():
            self.stop.wait(self.step())
        self.notifier.close()
        self.log("dispatcher stopped (%s)" % self.stop.reason)
        return 0
