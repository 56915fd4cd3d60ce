# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One health report for the team.

``report`` and ``render`` are pure: facts in, the report and its table out.
``gather`` reads those facts (the session and each agent's screen state, the
board, the proxy, the dispatcher, its memory, its status file and its queue)
through the same core functions the info modules use, so the health playbook
needs one module call, not one per source.

A stuck team is named with its fix (``stuck``): a PENDING task whose idle
worker was never told, a message never told to its recipient, a queued
initial prompt never typed, an agent waiting for a person, a dispatcher whose
memory lags the board. Health looks once, so "since when" comes from the
dispatcher's status file (each agent's screen state and since when).
"""

from __future__ import annotations

import json
import os
import time

from ansible_collections.moana.orchestration.plugins.module_utils import _agents, _delivery, _dispatch, _hooks, _process, _tmux
from ansible_collections.moana.orchestration.plugins.module_utils import _board as board_lib
from ansible_collections.moana.orchestration.plugins.module_utils import _dispatch_config

# The board's managed sections, as _board defines them.
EXPECTED_SECTIONS = tuple(kind.name for kind in board_lib.SECTIONS)


def report(agents: list[dict], session: dict, board: dict, proxy: dict | None = None, log_dir: str = "",
           now: float | None = None, dispatcher: dict | None = None, stuck_minutes: float | None = None,
           dialog_minutes: float | None = None) -> dict:
    """Every agent's pane, screen state and board state, the proxy, the dispatcher, the board;
    ``problems`` names all that is wrong; ``stuck`` what keeps the team from moving, each with its fix.

    ``dispatcher``: its process's health, and optionally ``memory`` (its state file), ``status`` (its status
    file) and ``queue`` (agent -> times of the files waiting in its queue). ``stuck_minutes``: how long a
    notice, a message or a queued prompt may wait before it is a problem (None: never);
    ``dialog_minutes``: how long an agent may wait for a person (None: any wait is a problem)."""
    now = time.time() if now is None else now
    problems: list[str] = []
    panes = {p["name"]: p for p in session.get("panes", []) if p.get("name")}
    states = {a["agent"]: a for a in board.get("agents", [])}
    if not session.get("exists"):
        problems.append("tmux session is not running: run the start playbook")
    rows = []
    stuck: dict[str, list] = {"tasks": [], "messages": [], "prompts": [], "dialogs": [], "agents": [], "limited": [],
                              "dispatcher": []}
    for agent in agents:
        pane = panes.get(agent["name"])
        state = states.get(agent["name"], {})
        if pane is None:
            status = "missing"
        else:
            status = "dead" if pane.get("dead") else "alive"
        if session.get("exists") and status != "alive":
            detail = " (exit status %s)" % pane.get("dead_status") if pane and pane.get("dead_status") is not None else ""
            problems.append("agent %s: pane %s%s" % (agent["name"], status, detail))
        screen, source = (pane.get("state") if pane else None), "screen"
        hooked = ((dispatcher or {}).get("reports") or {}).get(agent["name"])
        screen_since = state_since(agent["name"], screen, dispatcher, now)
        if status == "alive" and _hooks.prefer_report(screen or "unknown", hooked, screen_since, now):
            screen, source = hooked["state"], "hook"  # the CLI's own word, fresh against its screen
        if status == "alive" and pane.get("pending"):  # set when the pane started, cleared once given
            problems.append("agent %s: never got its %s (a start ended before giving it): run the start playbook"
                            % (agent["name"], pane["pending"]))
        if status == "alive" and screen == "dead":
            problems.append("agent %s: its CLI exited and left a shell in the pane; run the start playbook" % agent["name"])
        since = state_since(agent["name"], screen, dispatcher, now)
        if status == "alive" and screen == "waiting":
            waited = None if since is None else now - since
            if waited is None:
                problems.append("agent %s: waiting for a person (a login, trust or permission dialog); attach and "
                                "answer it" % agent["name"])
            elif dialog_minutes is None or waited >= dialog_minutes * 60:
                fix = "attach (tmux attach -t %s) and answer it" % session.get("name", "the session")
                problems.append("agent %s: waiting for a person for %s (a login, trust or permission dialog); %s"
                                % (agent["name"], _duration(waited), fix))
                stuck["dialogs"].append({"agent": agent["name"], "seconds": int(waited), "fix": fix})
        if status == "alive" and screen == "limited":
            held = (((dispatcher or {}).get("status") or {}).get("agents") or {}).get(agent["name"], {}).get("limited") or {}
            until = ("until %s" % time.strftime("%H:%M", time.localtime(held["reset"])) if held.get("reset")
                     else "its screen gives no reset time")
            fix = "nothing is typed into it; %s; the dispatcher tells it to go on once the limit lifts" % limit_tasks(
                held, agent)
            problems.append("agent %s: held by a usage or rate limit (%s): %s" % (agent["name"], until, fix))
            stuck["limited"].append({"agent": agent["name"], "reset": held.get("reset"), "fix": fix})
        busy_stuck = stuck_record(agent["name"], dispatcher) if status == "alive" and screen == "busy" else None
        if busy_stuck:  # (a dialog is named above, with the time it has waited)
            fix = "attach (tmux attach -t %s) and look at it: interrupt it (Esc) or give its task to another" % (
                session.get("name", "the session"))
            problems.append("agent %s: stuck since %s, %s: %s" % (
                agent["name"], time.strftime("%H:%M:%S", time.localtime(busy_stuck["since"])), busy_stuck["reason"], fix))
            stuck["agents"].append({"agent": agent["name"], "reason": busy_stuck["reason"],
                                    "seconds": int(now - busy_stuck["since"]), "fix": fix})
        activity = pane.get("activity") if pane else None
        rows.append({
            "agent": agent["name"], "role": agent["role"], "pane": status, "state": screen,
            "command": pane.get("current_command") if status == "alive" else None,
            "board_state": state.get("state"), "task": state.get("task"),
            "idle_seconds": int(now - activity) if activity else None,
            "state_seconds": int(now - since) if since is not None else None,
            "state_source": source if screen else None,
        })
    proxy_row = None
    if proxy is not None:
        proxy_row = {"running": proxy.get("running"), "pid": proxy.get("pid"), "healthy": proxy.get("healthy"),
                     "probe": proxy.get("probe"), "uptime": proxy.get("uptime"),
                     "listening": proxy.get("listening") or [], "exposed": proxy.get("exposed") or []}
        if not proxy.get("running"):
            problems.append("proxy: not running: run the start playbook")
        elif proxy_row["exposed"] and proxy.get("listen") == "loopback":
            problems.append("proxy: %s" % proxy_exposure(proxy_row["exposed"]))
        elif not proxy.get("healthy"):
            problems.append("proxy: unhealthy: %s" % proxy.get("probe"))
    dispatcher_row = None
    if dispatcher is not None:
        memory = dispatcher.get("memory")
        dispatcher_row = {"running": dispatcher.get("running"), "pid": dispatcher.get("pid"),
                          "board_id": (memory or {}).get("board_id"), "memory": "missing" if memory is None else
                          "unreadable" if memory.get("error") else "ok"}
        if not dispatcher.get("running"):
            problems.append("dispatcher: not running, agents are not told about new tasks: run the start playbook")
        if stuck_minutes is not None:
            problems.extend(stuck_report(agents, rows, board, dispatcher, now, stuck_minutes, log_dir, stuck))
    if not board.get("exists", True):
        problems.append("board: %s does not exist: run the start playbook" % board.get("path", "the board"))
    else:
        missing = [name for name in EXPECTED_SECTIONS if name not in board.get("sections", [])]
        if missing:
            problems.append("board: section(s) %s missing: run the start playbook to restore them" % ", ".join(missing))
    for task_id in board.get("stale_tasks", []):
        problems.append("board: %s has been in progress for too long" % task_id)
    return {
        "healthy": not problems,
        "problems": problems,
        "agents": rows,
        "proxy": proxy_row,
        "dispatcher": dispatcher_row,
        "stuck": stuck,
        "board": {"sections": board.get("sections", []), "tasks_by_status": board.get("tasks_by_status", {}),
                  "stale_tasks": board.get("stale_tasks", []), "completed": len(board.get("completions") or [])},
        "log_dir": log_dir,
    }


def proxy_exposure(addresses: list[str]) -> str:
    """The problem of a proxy that listens beyond loopback, and its fix."""
    return ("listens on %s, which other machines can reach, though orchestration_proxy_loopback_only is true (the "
            "loopback preload did not reach it: another launcher, a bundled binary, or MOANA_LISTEN_HOST in its "
            "environment); run the start playbook (it restarts the proxy, and stops it if it still listens there), "
            "or allow it with orchestration_proxy_loopback_only: false" % ", ".join(addresses))


def _duration(seconds: float) -> str:
    minutes = int(seconds // 60)
    if minutes < 1:
        return "%d s" % seconds
    return "%d min" % minutes if minutes < 120 else "%.1f h" % (minutes / 60.0)


def _epoch(date: str | None) -> float | None:
    """A board date ('YYYY-MM-DD HH:MM', local time) as seconds since the epoch; None when it is not one."""
    try:
        return time.mktime(time.strptime((date or "").strip(), "%Y-%m-%d %H:%M"))
    except (ValueError, OverflowError):
        return None


def limit_tasks(held: dict, agent: dict) -> str:
    """What a limited agent's PENDING tasks do, as the dispatcher records it (its policy, the peer they go to)."""
    if held.get("policy") != "reroute":
        return ("its PENDING tasks wait for it (orchestration_limit_policy: reroute hands them to another worker of "
                "its complexity)")
    if held.get("peer"):
        return "its PENDING tasks go to %s, a worker of its complexity" % held["peer"]
    if not agent.get("complexity"):
        return "its PENDING tasks wait for it: it has no complexity, so no other worker takes them (give it one)"
    return ("its PENDING tasks wait for it: no other worker of complexity %s is free to take them; give them "
            "to another worker (their Assigned To on the board) or wait for the limit to lift" % agent["complexity"])


def state_since(name: str, screen: str | None, dispatcher: dict | None, now: float) -> float | None:
    """Since when the agent's screen has shown ``screen``, from the dispatcher's status file: its time when
    the file (written by the running dispatcher) records that state; now when the running dispatcher records
    another (the screen changed since its last scan); None when nobody knows."""
    if not dispatcher or not screen:
        return None
    status = dispatcher.get("status") or {}
    current = dispatcher.get("running") and status.get("pid") == dispatcher.get("pid")
    record = (status.get("agents") or {}).get(name)
    if record and record.get("state") == screen and (current or not dispatcher.get("running")):
        return float(record.get("since") or now)
    return now if current else None


def stuck_record(name: str, dispatcher: dict | None) -> dict | None:
    """The running dispatcher's word that the agent is stuck ({reason, since, state}), from its status file."""
    if not dispatcher or not dispatcher.get("running"):
        return None
    status = dispatcher.get("status") or {}
    record = ((status.get("agents") or {}).get(name) or {}).get("stuck") if status.get("pid") == dispatcher.get("pid") else None
    return record if isinstance(record, dict) and isinstance(record.get("since"), (int, float)) else None


def _undelivered(agents: list[dict], board: dict, memory: dict) -> dict[str, list[tuple[str, str]]]:
    """The notices the board calls for that the dispatcher's memory does not hold: agent -> [(kind, id)]."""
    names = [a["name"] for a in agents]
    orchestrator = next((a["name"] for a in agents if a.get("role") == "orchestrator"), "")
    facts = {key: board.get(key) or [] for key in ("tasks", "completions", "messages")}
    todo = _dispatch.pending(_dispatch.wanted(facts, names, orchestrator, set(memory.get("history") or ())),
                             set(memory.get("sent") or ()))
    out: dict[str, list[tuple[str, str]]] = {}
    for agent, notices in todo.items():
        for key, dummy in notices:
            entry = _dispatch.key_ref(key).partition("@")[0]
            kind = "message" if entry.startswith("MSG-") else "task" if ":PENDING>" in key else "result"
            out.setdefault(agent, []).append((kind, entry))
    return out


def stuck_report(agents: list[dict], rows: list[dict], board: dict, dispatcher: dict, now: float,
                 stuck_minutes: float, log_dir: str, stuck: dict) -> list[str]:
    """What keeps the team from moving, through the dispatcher: problems (each with its fix), and the same as
    data in ``stuck``. ``rows`` are the report's agent rows (screen state, since when)."""
    problems: list[str] = []
    limit = stuck_minutes * 60
    running = bool(dispatcher.get("running"))
    memory = dispatcher.get("memory")
    by_name = {row["agent"]: row for row in rows}
    log = "%s/dispatcher.log" % log_dir if log_dir else "the dispatcher's log"

    def idle_for(name: str) -> float | None:
        row = by_name.get(name) or {}
        if row.get("state") != "idle":
            return None
        if row.get("state_seconds") is not None:
            return row["state_seconds"]
        return row.get("idle_seconds")

    restart = "run the start playbook (it starts the dispatcher)" if not running else (
        "see %s, then restart the dispatcher (stop and start playbooks)" % log)
    board_id = board.get("board_id")
    if memory and not memory.get("error") and memory.get("board_id") not in (None, board_id):
        fix = "restart the dispatcher (run the start playbook): it then follows this board"
        problems.append("dispatcher: its memory is of another board (identity %s; the board's is %s): %s"
                        % (memory.get("board_id"), board_id, fix))
        stuck["dispatcher"].append({"reason": "another board", "memory_board_id": memory.get("board_id"),
                                    "board_id": board_id, "fix": fix})
    for name, times in sorted((dispatcher.get("queue") or {}).items()):
        if not times or name not in by_name or now - min(times) < limit:
            continue
        state = by_name[name].get("state")
        fixes = ["attach and answer its dialog"] if state == "waiting" else []
        if not running:
            fixes.append(restart)
        elif not fixes:
            fixes.append("look at its pane (attach): the dispatcher types it once the agent shows its idle prompt "
                         "(it reads %s)" % (state or "no state"))
        fix = "; then ".join(fixes)
        waited = now - min(times)
        problems.append("agent %s: its initial prompt (%d message(s) queued for it) not delivered for %s: %s"
                        % (name, len(times), _duration(waited), fix))
        stuck["prompts"].append({"agent": name, "queued": len(times), "seconds": int(waited), "state": state,
                                 "fix": fix})
    if memory is None or memory.get("error") or memory.get("version") != _dispatch.SentState.VERSION:
        return problems  # no memory to tell what was delivered (never ran, or a memory from an older dispatcher)
    entries = {t["id"]: _epoch(t.get("date")) for t in board.get("tasks") or []}
    entries.update({m["id"]: _epoch(m.get("date")) for m in board.get("messages") or []})
    lagging: set[str] = set()
    messages: dict[str, list[str]] = {}
    for agent, notices in sorted(_undelivered(agents, board, memory).items()):
        idle = idle_for(agent)
        for kind, entry in notices:
            written = entries.get(entry)
            age = now - written if written is not None else None
            if kind == "task" and idle is not None:
                waited = idle if age is None else min(idle, age)
                if waited >= limit:
                    fix = "%s; or have %s run: orchestra task show %s" % (restart, agent, entry)
                    problems.append("task %s: PENDING for %s, idle for %s and never told: %s"
                                    % (entry, agent, _duration(waited), fix))
                    stuck["tasks"].append({"task": entry, "agent": agent, "seconds": int(waited), "fix": fix})
                    lagging.add(agent)
            elif kind == "message" and age is not None and age >= limit and by_name.get(agent, {}).get("state") != "busy":
                messages.setdefault(entry, []).append(agent)
                if idle is not None and idle >= limit:
                    lagging.add(agent)
    for entry, recipients in sorted(messages.items()):
        waited = now - entries[entry]
        fix = "%s; or have %s run: orchestra msg list --to %s" % (
            restart, " and ".join(recipients), recipients[0] if len(recipients) == 1 else "NAME")
        problems.append("message %s: not delivered to %s for %s: %s"
                        % (entry, ", ".join(recipients), _duration(waited), fix))
        stuck["messages"].append({"message": entry, "agents": recipients, "seconds": int(waited), "fix": fix})
    if running and lagging:
        fix = "see %s, then restart it (stop and start playbooks)" % log
        problems.append("dispatcher: running, but notices due for over %s were not delivered to idle agents (%s): %s"
                        % (_duration(limit), ", ".join(sorted(lagging)), fix))
        stuck["dispatcher"].append({"reason": "notices not delivered", "agents": sorted(lagging), "fix": fix})
    return problems


def render(data: dict) -> str:
    """The report as a person reads it at a glance."""
    lines = ["team: %s" % ("healthy" if data["healthy"] else "UNHEALTHY"), ""]
    header = ("agent", "role", "pane", "state", "command", "board", "task", "idle")
    table = [header] + [
        (r["agent"], r["role"], r["pane"], r.get("state") or "-", r["command"] or "-", r["board_state"] or "-",
         r["task"] or "-",
         "%ss" % r["idle_seconds"] if r["idle_seconds"] is not None else "-")
        for r in data["agents"]
    ]
    widths = [max(len(str(row[i])) for row in table) for i in range(len(header))]
    for row in table:
        lines.append("  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip())
    lines.append("")
    proxy = data["proxy"]
    if proxy is None:
        lines.append("proxy: not used by this team")
    else:
        lines.append("proxy: %s, pid %s, %s%s" % ("running" if proxy["running"] else "stopped", proxy["pid"] or "-",
                                                  proxy["probe"] or "no probe",
                                                  ", listening on %s" % ", ".join(proxy["listening"]) if proxy.get("listening") else ""))
    dispatcher = data.get("dispatcher")
    if dispatcher is not None:
        lines.append("dispatcher: %s" % ("running, pid %s" % dispatcher["pid"] if dispatcher["running"] else "stopped"))
    counts = ", ".join("%s %d" % (s, len(ids)) for s, ids in sorted(data["board"]["tasks_by_status"].items()))
    lines.append("board: sections %s; tasks %s" % (", ".join(data["board"]["sections"]) or "none", counts or "none"))
    lines.append("logs: %s" % data["log_dir"])
    if data["problems"]:
        lines.append("")
        lines.append("problems:")
        lines.extend("  - " + problem for problem in data["problems"])
    return "\n".join(lines)


def gather(agents: list[dict], session_name: str, board_path: str, socket_name: str | None = None,
           socket_path: str | None = None, stale_minutes: float | None = None, proxy: dict | None = None,
           dispatcher: dict | None = None) -> dict:
    """The facts ``report`` needs, read now. ``proxy`` and ``dispatcher``: {name, pidfile, readiness};
    ``proxy`` also {listen}, ``dispatcher`` also {state_file, queue_dir}."""
    server = _tmux.open_server(socket_name, socket_path, creating=False)
    session = dict(_tmux.session_facts(_tmux.read_session(server, session_name)), name=session_name)
    _agents.add_states(server, session["panes"], {a["name"]: a.get("type") or "generic" for a in agents})
    board = dict(board_lib.info(board_path, stale_minutes), path=board_path)
    facts = {"session": session, "board": board, "proxy": None, "dispatcher": None}
    for key, spec in (("proxy", proxy), ("dispatcher", dispatcher)):
        if spec:
            facts[key] = _process.health(_process.Spec(spec["name"], ["true"], pidfile=spec.get("pidfile"),
                                                       readiness=spec.get("readiness"), listen=spec.get("listen") or "any"))
    if dispatcher:
        facts["dispatcher"].update(dispatcher_files(dispatcher.get("state_file"), dispatcher.get("queue_dir"),
                                                    [a["name"] for a in agents]))
    return facts


def _read_json(path: str | None):
    """A JSON file's contents; None when it does not exist; {"error": why} when it cannot be read."""
    if not path:
        return None
    try:
        with open(path, encoding="utf-8") as stream:
            data = json.load(stream)
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        return {"error": str(exc)}
    return data if isinstance(data, dict) else {"error": "not a JSON object"}


def dispatcher_files(state_file: str | None, queue_dir: str | None, names: list[str]) -> dict:
    """The dispatcher's memory (state file), its status file beside it, the times of what waits in its queue
    for each agent, and the agents' own reports (their CLIs' hooks)."""
    queue = {}
    for name in names if queue_dir else []:
        times = []
        for path in _delivery.queued(queue_dir, name):
            try:
                times.append(os.stat(path).st_mtime)
            except OSError:
                continue  # typed and removed meanwhile
        if times:
            queue[name] = times
    reports = {}
    for name in names if state_file else []:
        report = _hooks.read_report("%s/%s.json" % (_dispatch_config.hooks_dir({"state_file": state_file}), name))
        if report:
            reports[name] = report
    return {"memory": _read_json(state_file), "queue": queue, "reports": reports,
            "status": _read_json(_dispatch_config.status_file({"state_file": state_file})) if state_file else None}
