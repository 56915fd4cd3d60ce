# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One health report for the team, from the facts the info modules gather. Pure logic, stdlib only."""

from __future__ import annotations

import time

EXPECTED_SECTIONS = ("task-queue", "completion-log", "llm-status", "messages")


def report(agents: list[dict], session: dict, board: dict, proxy: dict | None = None, log_dir: str = "",
           now: float | None = None) -> dict:
    """Every agent's pane and board state, the proxy, the board; ``problems`` names all that is wrong."""
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
        activity = pane.get("activity") if pane else None
        rows.append({
            "agent": agent["name"], "role": agent["role"], "pane": status,
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
        "board": {"sections": board.get("sections", []), "tasks_by_status": board.get("tasks_by_status", {}),
                  "stale_tasks": board.get("stale_tasks", [])},
        "log_dir": log_dir,
    }


def render(data: dict) -> str:
    """The report as a person reads it at a glance."""
    lines = ["team: %s" % ("healthy" if data["healthy"] else "UNHEALTHY"), ""]
    header = ("agent", "role", "pane", "command", "board", "task", "idle")
    table = [header] + [
        (r["agent"], r["role"], r["pane"], r["command"] or "-", r["board_state"] or "-", r["task"] or "-",
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
    counts = ", ".join("%s %d" % (s, len(ids)) for s, ids in sorted(data["board"]["tasks_by_status"].items()))
    lines.append("board: sections %s; tasks %s" % (", ".join(data["board"]["sections"]) or "none", counts or "none"))
    lines.append("logs: %s" % data["log_dir"])
    if data["problems"]:
        lines.append("")
        lines.append("problems:")
        lines.extend("  - " + problem for problem in data["problems"])
    return "\n".join(lines)
