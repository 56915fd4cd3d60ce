# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""One summary of a playbook run over many hosts, on the controller.

Each host's play leaves an ``outcome`` (a dict, set by the role's last task, or
by the playbook's rescue when a task failed); a host that left none never got
that far because it was unreachable. ``summary`` turns the outcomes into one
table and one report (a list of entries, each naming its host). Pure: the
``fleet_summary`` filter hands it the outcomes.
"""

from __future__ import annotations

import collections

KINDS = ("start", "health", "stop")
# The agent states the health table counts; any other (starting, unknown) is "other".
AGENT_STATES = ("idle", "busy", "waiting", "dead")
# A host's line when its run changed nothing.
OK_WORDS = {"start": "started, nothing to change", "stop": "already stopped", "health": "healthy"}


class FleetError(ValueError):
    pass


def _agent_counts(agents: list[dict]) -> dict[str, int]:
    counts = dict.fromkeys(AGENT_STATES + ("other",), 0)
    for agent in agents:
        state = "dead" if agent.get("pane") != "alive" else agent.get("state")
        counts[state if state in AGENT_STATES else "other"] += 1
    return counts


def _task_counts(board: dict) -> dict[str, int]:
    by_status = board.get("tasks_by_status") or {}
    return {"pending": len(by_status.get("PENDING") or []), "in_progress": len(by_status.get("IN_PROGRESS") or []),
            "done": int(board.get("completed") or 0)}


def entry(kind: str, host: str, outcome: dict | None) -> dict:
    """One host's entry: ``status`` is ok, changed, unhealthy, failed or unreachable; ``problems`` says why
    it is not ok; health entries add the agents' and tasks' counts and the host's whole report."""
    if outcome is None:
        return {"host": host, "status": "unreachable", "team": None,
                "problems": ["unreachable: the run lost this host (see its error above)"]}
    result = {"host": host, "team": outcome.get("team")}
    if outcome.get("failed"):
        where = " at task %r" % outcome["task"] if outcome.get("task") else ""
        problem = "%s failed%s: %s" % (kind, where, outcome.get("msg") or "no message")
        result.update(status="failed", problems=[problem])
        if kind == "health" and outcome.get("report"):  # an unhealthy team fails health: its report says why
            report = outcome["report"]
            result.update(status="unhealthy", problems=list(report.get("problems") or [problem]))
    elif kind == "health":
        result.update(status="ok", problems=[])
    else:
        result.update(status="changed" if outcome.get("actions") else "ok", problems=[])
        result["actions"] = list(outcome.get("actions") or [])
    if kind == "health":
        report = outcome.get("report") or {}
        result["agents"] = _agent_counts(report.get("agents") or [])
        result["tasks"] = _task_counts(report.get("board") or {})
        result["report"] = report
    return result


def _table(rows: list[tuple]) -> list[str]:
    widths = [max(len(str(row[i])) for row in rows) for i in range(len(rows[0]))]
    return ["  ".join(str(cell).ljust(width) for cell, width in zip(row, widths)).rstrip() for row in rows]


def _health_lines(entries: list[dict]) -> list[str]:
    header = ("host", "team", "status", "idle", "busy", "waiting", "dead", "pending", "in progress", "done",
              "problems")
    rows = [header]
    for e in entries:
        agents, tasks = e.get("agents") or {}, e.get("tasks") or {}
        counts = [agents.get(s, "-") for s in AGENT_STATES] + [tasks.get(k, "-") for k in ("pending", "in_progress", "done")]
        rows.append((e["host"], e["team"] or "-", e["status"], *counts, len(e["problems"]) or "-"))
    lines = _table(rows)
    for e in entries:
        lines.extend("%s: %s" % (e["host"], problem) for problem in e["problems"])
    return lines


def _line(kind: str, e: dict) -> str:
    team = " (%s)" % e["team"] if e.get("team") else ""
    if e["status"] in ("failed", "unreachable"):
        return "%s%s: %s" % (e["host"], team, "; ".join(e["problems"]))
    if e["status"] == "unhealthy":
        return "%s%s: unhealthy: %s" % (e["host"], team, "; ".join(e["problems"]))
    if e["status"] == "ok":
        return "%s%s: %s" % (e["host"], team, OK_WORDS[kind])
    return "%s%s: %s: %s" % (e["host"], team, {"start": "started", "stop": "stopped"}[kind], "; ".join(e["actions"]))


def summary(kind: str, outcomes: dict[str, dict | None]) -> dict:
    """``outcomes``: host -> its outcome (None when it left none), in the run's order. Returns ``entries``
    (one per host, each with its ``line``: what happened there, in one line), ``text`` (the table for
    health; one line per host for start and stop), ``counts`` (hosts per status) and ``failed`` (the hosts
    whose run did not end well)."""
    if kind not in KINDS:
        raise FleetError("kind must be one of %s, not %r" % (", ".join(KINDS), kind))
    entries = [entry(kind, host, outcome) for host, outcome in outcomes.items()]
    for e in entries:
        e["line"] = _line(kind, e)
    counts = dict(collections.Counter(e["status"] for e in entries))
    head = "%s on %d host%s: %s" % (kind, len(entries), "" if len(entries) == 1 else "s",
                                    ", ".join("%d %s" % (n, status) for status, n in sorted(counts.items())) or "none")
    lines = [head] + (_health_lines(entries) if kind == "health" else [e["line"] for e in entries])
    return {"entries": entries, "text": "\n".join(lines), "counts": counts,
            "failed": [e["host"] for e in entries if e["status"] in ("failed", "unreachable", "unhealthy")]}
