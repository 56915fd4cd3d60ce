# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One health report for the team.

``report`` and ``render`` are pure: facts in, the report and its table out.
``gather`` reads those facts (the session and each agent's screen state, the
board, the proxy, the dispatcher) through the same core functions the info
modules use, so the health playbook needs one module call, not one per source.
"""

from __future__ import annotations

import time

from ansible_collections.moana.orchestration.plugins.module_utils import _agents, _process, _tmux
from ansible_collections.moana.orchestration.plugins.module_utils import _board as board_lib

# The board's managed sections, as _board defines them.
EXPECTED_SECTIONS = tuple(kind.name for kind in board_lib.SECTIONS)


def report(agents: list[dict], session: dict, board: dict, proxy: dict | None = None, log_dir: str = "",
           now: float | None = None, dispatcher: dict | None = None) -> dict:
    """Every agent's pane, screen state and board state, the proxy, the dispatcher, the board;
    ``problems`` names all that is wrong."""
    now = time.time() if now is None else now
    problems: list[str] = []
    panes = {p["name"]: p for p in session.get("panes", []) if p.get("name")}
    states = {a["agent"]: a for a in board.get("agents", [])}
    if not session.get("exists"):
        problems.append("tmux session is not running: run the start playbook")
    rows = []
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
        screen = pane.get("state") if pane else None
        if status == "alive" and screen == "dead":
            problems.append("agent %s: its CLI exited and left a shell in the pane; run the start playbook" % agent["name"])
        elif status == "alive" and screen == "waiting":
            problems.append("agent %s: waiting for a person (a login, trust or permission dialog); attach and answer it"
                            % agent["name"])
        activity = pane.get("activity") if pane else None
        rows.append({
            "agent": agent["name"], "role": agent["role"], "pane": status, "state": screen,
            "command": pane.get("current_command") if status == "alive" else None,
            "board_state": state.get("state"), "task": state.get("task"),
            "idle_seconds": int(now - activity) if activity else None,
        })
    proxy_row = None
    if proxy is not None:
        proxy_row = {"running": proxy.get("running"), "pid": proxy.get("pid"), "healthy": proxy.get("healthy"),
                     "probe": proxy.get("probe"), "uptime": proxy.get("uptime")}
        if not proxy.get("running"):
            problems.append("proxy: not running: run the start playbook")
        elif not proxy.get("healthy"):
            problems.append("proxy: unhealthy: %s" % proxy.get("probe"))
    dispatcher_row = None
    if dispatcher is not None:
        dispatcher_row = {"running": dispatcher.get("running"), "pid": dispatcher.get("pid")}
        if not dispatcher.get("running"):
            problems.append("dispatcher: not running, agents are not told about new tasks: run the start playbook")
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
        "board": {"sections": board.get("sections", []), "tasks_by_status": board.get("tasks_by_status", {}),
                  "stale_tasks": board.get("stale_tasks", [])},
        "log_dir": log_dir,
    }


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
        lines.append("proxy: %s, pid %s, %s" % ("running" if proxy["running"] else "stopped", proxy["pid"] or "-",
                                                proxy["probe"] or "no probe"))
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
    """The facts ``report`` needs, read now. ``proxy`` and ``dispatcher``: {name, pidfile, readiness}."""
    server = _tmux.open_server(socket_name, socket_path, creating=False)
    session = _tmux.session_facts(_tmux.read_session(server, session_name))
    _agents.add_states(server, session["panes"], {a["name"]: a.get("type") or "generic" for a in agents})
    board = dict(board_lib.info(board_path, stale_minutes), path=board_path)
    facts = {"session": session, "board": board, "proxy": None, "dispatcher": None}
    for key, spec in (("proxy", proxy), ("dispatcher", dispatcher)):
        if spec:
            facts[key] = _process.health(_process.Spec(spec["name"], ["true"], pidfile=spec.get("pidfile"),
                                                       readiness=spec.get("readiness")))
    return facts
