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
coalesce. Keys of delivered notices are kept in a state file written
atomically after each delivery, so a restarted dispatcher never repeats one.
Messages left by ``tmux_send`` in the queue folder are typed the same way.
Every few seconds it also reads the panes: the session's status line shows
each agent's state and the board's counts, and dead agents with
``auto_restart`` are respawned within a rate limit. Standard library only.
"""

from __future__ import annotations

import json
import os
import time

try:
    from ansible_collections.moana.orchestration.plugins.module_utils import _agents, _board as board_lib
    from ansible_collections.moana.orchestration.plugins.module_utils import _delivery, _tmux
except ImportError:  # deployed with the orchestra command: the files sit side by side
    import _agents  # type: ignore[no-redef]
    import _board as board_lib  # type: ignore[no-redef]
    import _delivery  # type: ignore[no-redef]
    import _tmux  # type: ignore[no-redef]

SENDER = "orchestra"
# Seconds between tries while a notice waits for a busy agent.
RETRY = 0.25
# Outcomes after which a notice is not typed again ("failed": typed, but not taken).
DONE = ("delivered", "failed")
CONFIG_KEYS = ("session", "socket_name", "socket_path", "board", "state_file", "queue_dir", "log_file",
               "agents", "restart", "status_line", "poll", "scan", "settle")
AGENT_KEYS = ("name", "role", "type", "prompt", "typed_prompt", "auto_restart", "environment_names",
              "submit_delay")


class ConfigError(ValueError):
    """The dispatcher's configuration cannot work; the message names the key."""


def load_config(path: str) -> dict:
    """Read and check the JSON configuration the orchestration role writes (team.json)."""
    try:
        with open(path, encoding="utf-8") as stream:
            config = json.load(stream)
    except OSError as exc:
        raise ConfigError("cannot read the dispatcher configuration %s: %s" % (path, exc.strerror)) from None
    except ValueError as exc:
        raise ConfigError("%s is not valid JSON: %s" % (path, exc)) from None
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError("%s: unknown key(s) %s" % (path, ", ".join(unknown)))
    for key in ("session", "board", "state_file", "agents"):
        if not config.get(key):
            raise ConfigError("%s: %s is missing" % (path, key))
    for agent in config["agents"]:
        bad = sorted(set(agent) - set(AGENT_KEYS))
        if bad or not agent.get("name"):
            raise ConfigError("%s: agent %r has unknown key(s) %s or no name" % (path, agent.get("name"), ", ".join(bad)))
    if sum(1 for a in config["agents"] if a.get("role") == "orchestrator") != 1:
        raise ConfigError("%s: exactly one agent must have role orchestrator" % path)
    config.setdefault("restart", {})
    config["restart"] = {"max": 3, "window": 600.0, "delay": 2.0, **config["restart"]}
    for key, default in (("poll", 0.05), ("scan", 5.0), ("settle", 0.03)):
        config[key] = float(config.get(key) or default)
    return config


# --------------------------------------------------------------------------- notices (pure)


def _number(entry_id: str) -> int:
    return int(entry_id.rsplit("-", 1)[1]) if entry_id.rsplit("-", 1)[-1].isdigit() else 0


def wanted(facts: dict, agents: list[str], orchestrator: str, message_floor: int) -> dict[str, list[tuple[str, str]]]:
    """Every notice the board calls for now, by agent: [(key, text)], oldest first.

    Keys name the event and the recipient, so a notice is known again after
    a restart; ``message_floor`` is the last message that existed when the
    dispatcher first ran (older ones are not news).
    """
    out: dict[str, list[tuple[str, str]]] = {}

    def add(agent: str, key: str, text: str) -> None:
        if agent in agents:
            out.setdefault(agent, []).append((key, text))

    for task in facts["tasks"]:
        status = (task["status"] or "").upper()
        if status == "PENDING":
            add(task["assigned_to"], "%s:PENDING>%s" % (task["id"], task["assigned_to"]),
                "%s is assigned to you: run orchestra task show %s" % (task["id"], task["id"]))
        elif status == "FAILED":
            add(orchestrator, "%s:FAILED>%s" % (task["id"], orchestrator),
                "%s FAILED (%s): run orchestra task show %s" % (task["id"], task["assigned_to"], task["id"]))
    for done in facts["completions"]:
        add(orchestrator, "%s:COMPLETED>%s" % (done["id"], orchestrator),
            "%s was completed by %s: run orchestra task show %s" % (done["id"], done["completed_by"], done["id"]))
    for message in facts["messages"]:
        if _number(message["id"]) <= message_floor:
            continue
        recipients = [a for a in agents if a != message["from"]] if message["to"] == "all" else [message["to"]]
        for agent in recipients:
            add(agent, "%s>%s" % (message["id"], agent), "%s from %s: run orchestra msg list --to %s --since MSG-%03d"
                % (message["id"], message["from"], agent, _number(message["id"]) - 1))
    return out


def pending(wanted_notices: dict[str, list[tuple[str, str]]], sent: set[str]) -> dict[str, list[tuple[str, str]]]:
    return {agent: [n for n in notices if n[0] not in sent] for agent, notices in wanted_notices.items()
            if any(n[0] not in sent for n in notices)}


def notice_text(notices: list[tuple[str, str]]) -> str:
    """One line for everything pending for an agent (a burst becomes one notice)."""
    return "[orchestra] " + "; ".join(text for dummy, text in notices)


def prune(sent: set[str], facts: dict) -> set[str]:
    """Keep only keys of tasks and messages still on the board (ids are never reused)."""
    present = {t["id"] for t in facts["tasks"]} | {c["id"] for c in facts["completions"]} | {m["id"] for m in facts["messages"]}
    return {key for key in sent if key.split(":")[0].split(">")[0] in present}


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


# --------------------------------------------------------------------------- the loop


def _board_stamp(path: str):
    try:
        stat = os.stat(path)
    except OSError:
        return None
    return (stat.st_ino, stat.st_mtime_ns, stat.st_size)


class Dispatcher:
    """One dispatcher: configuration, tmux client, cursor, trackers; ``run`` loops, ``step`` does one round."""

    def __init__(self, config: dict, server=None, out=None, clock=time.monotonic, sleep=time.sleep):
        self.config = config
        self.server = server or _tmux.Client(config.get("socket_name") or None, config.get("socket_path") or None)
        self.agents = {a["name"]: a for a in config["agents"]}
        self.orchestrator = next(a["name"] for a in config["agents"] if a.get("role") == "orchestrator")
        self.policy = RestartPolicy(int(config["restart"]["max"]), float(config["restart"]["window"]),
                                    float(config["restart"]["delay"]))
        self.tracker = _agents.Tracker()
        self.clock, self.sleep = clock, sleep
        self.out = out
        self.stamp = None
        self.facts: dict | None = None
        self.panes: dict[str, dict] = {}
        self.states: dict[str, str] = {}
        # Per agent: (pane id, pid) it was read from, and its variables' values. Memory only.
        self.environments: dict[str, tuple] = {}
        self.died: dict[str, float] = {}
        self.gave_up: set[str] = set()
        self.shown_status = None
        self.deferred: dict[str, str] = {}
        self.next_scan = 0.0
        self.dirty = True
        self.sent, self.message_floor = self.load_state()

    # -- state file
    def load_state(self) -> tuple[set[str], int]:
        try:
            with open(self.config["state_file"], encoding="utf-8") as stream:
                state = json.load(stream)
            return set(state["sent"]), int(state["message_floor"])
        except FileNotFoundError:
            pass
        except (ValueError, KeyError, TypeError) as exc:
            self.log("state file %s is unreadable (%s): starting afresh" % (self.config["state_file"], exc))
        floor = 0
        try:
            facts = board_lib.facts(board_lib.load(self.config["board"]))
            floor = max([_number(m["id"]) for m in facts["messages"]] or [0])
            # Completions and failures already on the board are history, not news.
            sent = {key for notices in wanted(facts, list(self.agents), self.orchestrator, floor).values()
                    for key, dummy in notices if ":PENDING>" not in key}
        except (board_lib.BoardError, OSError):
            sent = set()
        self.save_state(sent, floor)
        return sent, floor

    def save_state(self, sent: set[str], floor: int) -> None:
        path = self.config["state_file"]
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        board_lib.atomic_write(path, json.dumps({"message_floor": floor, "sent": sorted(sent)}, indent=1) + "\n")

    def log(self, text: str) -> None:
        line = "%s %s\n" % (time.strftime("%Y-%m-%d %H:%M:%S"), text)
        if self.out is not None:
            self.out.write(line)
            self.out.flush()

    # -- board
    def read_board(self) -> bool:
        """Re-read the board when its stat changed; True when it did."""
        stamp = _board_stamp(self.config["board"])
        if stamp == self.stamp:
            return False
        self.sleep(self.config["settle"])  # let a burst of writes land, then read once
        stamp = _board_stamp(self.config["board"])
        try:
            self.facts = board_lib.facts(board_lib.load(self.config["board"]))
        except board_lib.BoardParseError as exc:
            self.log("board unreadable, nothing sent until it is fixed: %s" % exc)
            self.stamp, self.facts = stamp, None
            return False
        except (board_lib.NotFound, OSError):
            self.stamp, self.facts = stamp, None
            return False
        self.stamp = stamp
        return True

    # -- panes
    def scan(self) -> None:
        """Read the session's panes and every agent's screen; refresh the status line; restart the dead."""
        state = _tmux.read_session(self.server, self.config["session"])
        self.panes = {}
        for pane in state.panes() if state else ():
            if pane.name in self.agents:
                self.panes[pane.name] = {"id": pane.pane_id, "dead": pane.dead, "pid": pane.pid}
        screens = _tmux.read_screens(self.server, [p["id"] for p in self.panes.values()]) if self.panes else {}
        for name in self.agents:
            pane = self.panes.get(name)
            if pane is None:
                self.states[name] = "absent"
                continue
            self.states[name] = _agents.read_state(self.server, pane["id"], self.agents[name].get("type", "generic"),
                                                   self.tracker, screens.get(pane["id"]))[0]
            self.remember_environment(name, pane)
        self.restart_dead()
        self.show_status()

    def remember_environment(self, name: str, pane: dict) -> None:
        """Keep (in memory only) the values of the agent's variables from its live process, for a respawn."""
        names = self.agents[name].get("environment_names") or []
        if pane["dead"] or not pane["pid"] or not names:
            return
        process = (pane["id"], pane["pid"])
        if self.environments.get(name, (None,))[0] == process:
            return
        try:
            with open("/proc/%d/environ" % pane["pid"], "rb") as stream:
                pairs = [item.decode("utf-8", "replace").partition("=") for item in stream.read().split(b"\0") if item]
        except OSError:
            return
        self.environments[name] = (process, {k: v for k, dummy, v in pairs if k in names})

    def restart_dead(self) -> None:
        now = self.clock()
        for name, pane in self.panes.items():
            if not pane["dead"]:
                self.died.pop(name, None)
                continue
            agent = self.agents[name]
            if not agent.get("auto_restart") or name in self.gave_up:
                continue
            died_at = self.died.setdefault(name, now)
            decision = self.policy.decide(name, died_at, now)
            if decision == "later":
                continue
            if decision == "give_up":
                self.gave_up.add(name)
                self.tell_board(name, "BLOCKED", "%s died %d times within %.0f s: not restarted again; fix it, then run "
                                "the start playbook" % (name, self.policy.max, self.policy.window))
                continue
            env = self.environments.get(name, (None, {}))[1]
            missing = [n for n in agent.get("environment_names") or [] if n not in env]
            if missing:
                self.gave_up.add(name)
                self.tell_board(name, "BLOCKED", "%s died and cannot be restarted here: the values of %s were never "
                                "seen while it ran; run the start playbook" % (name, ", ".join(missing)))
                continue
            try:
                _tmux.respawn(self.server, pane["id"], env)
            except _tmux.TmuxError as exc:
                self.log("%s: restart failed: %s" % (name, exc))
                continue
            count = self.policy.record(name, now)
            self.died.pop(name, None)
            self.tracker.forget(pane["id"])
            self.tell_board(name, "IDLE", "%s died and was restarted (%d of %d within %.0f s)"
                            % (name, count, self.policy.max, self.policy.window))
            if agent.get("typed_prompt") and agent.get("prompt"):
                try:
                    with open(agent["prompt"], encoding="utf-8") as stream:
                        _delivery.enqueue(self.config["queue_dir"], name, stream.read())
                except OSError as exc:
                    self.log("%s: initial prompt %s unreadable: %s" % (name, agent["prompt"], exc))

    def tell_board(self, name: str, state: str, text: str) -> None:
        self.log(text)
        try:
            board_lib.update(self.config["board"], lambda b: (
                board_lib.set_status(b, name, state), board_lib.send_message(b, SENDER, self.orchestrator, text)))
        except (board_lib.BoardError, OSError) as exc:
            self.log("could not write to the board: %s" % exc)

    def show_status(self) -> None:
        if not self.config.get("status_line", True) or not self.panes:
            return
        line = status_line({n: s for n, s in self.states.items() if s != "absent"}, self.facts)
        if line == self.shown_status:
            return
        try:
            _tmux.set_status_right(self.server, self.config["session"], line)
            self.shown_status = line
        except _tmux.TmuxError as exc:
            self.log("status line not set: %s" % exc)

    # -- delivery
    def deliver(self, name: str, text: str, label: str) -> str:
        """Type one notice into an idle agent; returns the outcome (delivered, failed, or the agent's state).

        ``label`` names what is sent in the log (the notices' keys, or the queued file)."""
        pane = self.panes.get(name)
        if pane is None or pane["dead"]:
            return "absent" if pane is None else "dead"
        agent = self.agents[name]
        try:  # submit_delay: the configuration may override the agent type's
            result = _delivery.deliver(self.server, pane["id"], text, agent.get("type", "generic"),
                                       submit_delay=agent.get("submit_delay"), wait_timeout=0.0,
                                       tracker=self.tracker, sleep=self.sleep, clock=self.clock)
        except _tmux.TmuxError as exc:
            self.log("%s: not delivered: %s" % (name, exc))
            self.next_scan = 0.0  # the pane may be gone: look again
            return "failed"
        if result["status"] == "queued":
            self.states[name] = result["state"]
            return result["state"]
        self.log("%s: %s %s (%s, %d attempt(s), %.2f s): %s" % (
            name, result["status"], label, result["method"], result["attempts"], result["waited"], result["text"][:300]))
        return result["status"]

    def deliver_queued(self, name: str) -> str | None:
        """Type the messages left for the agent in the queue, oldest first; returns what stopped it, or None."""
        for path in _delivery.queued(self.config["queue_dir"], name) if self.config.get("queue_dir") else []:
            with open(path, encoding="utf-8") as stream:
                outcome = self.deliver(name, stream.read(), "queued message %s" % os.path.basename(path))
            if outcome not in DONE:
                return outcome
            os.unlink(path)  # failed too: typed but not taken; typing it again could double it
        return None

    def deliver_pending(self) -> bool:
        """Try every agent with something pending; True when something is still waiting."""
        waiting = False
        notices = pending(wanted(self.facts, list(self.agents), self.orchestrator, self.message_floor),
                          self.sent) if self.facts else {}
        for name in self.agents:
            outcome = self.deliver_queued(name)
            if outcome is None and notices.get(name):
                keys = [key for key, dummy in notices[name]]
                outcome = self.deliver(name, notice_text(notices[name]), "[%s]" % " ".join(keys))
                if outcome in DONE:
                    self.sent = prune(self.sent | set(keys), self.facts)
                    self.save_state(self.sent, self.message_floor)
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
        if self.read_board():
            self.dirty = True
            self.show_status()
        if now >= self.next_scan:
            self.scan()
            self.next_scan = now + self.config["scan"]
            self.dirty = True
        if not self.dirty:
            return self.config["poll"]
        self.dirty = self.deliver_pending()
        if self.dirty:
            # Something waits for an agent that is busy (or not there yet): look again soon.
            self.next_scan = min(self.next_scan, now + self.config["scan"] / 2)
            return max(self.config["poll"], RETRY)
        return self.config["poll"]

    def run(self, stop=lambda: False) -> int:
        self.log("dispatcher watching %s for session %s (agents %s)" % (
            self.config["board"], self.config["session"], ", ".join(self.agents)))
        while not stop():
            self.sleep(self.step())
        return 0
