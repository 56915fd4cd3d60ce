# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``orchestra`` command: what agents run in their panes to use the board.

Standard library only. Runs as ``python3 _orchestra.py`` with ``_board.py``
beside it: ``scripts/orchestra`` does that from a checkout, and a target gets
the two files and the same launcher (see docs/architecture.md).

Exit codes: 0 done; 2 usage or bad value; 3 conflict (a task another agent
holds); 4 the board's lock timed out; 5 the board is malformed (nothing was
written); 6 no such task, message, section or board.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

try:
    from ansible_collections.moana.orchestration.plugins.module_utils import _board as board_lib
except ImportError:  # deployed on a target: _board.py sits beside this file
    import _board as board_lib  # type: ignore[no-redef]

EXIT_USAGE, EXIT_CONFLICT, EXIT_LOCK, EXIT_MALFORMED, EXIT_NOT_FOUND = 2, 3, 4, 5, 6
DEFAULT_ROUTING = {"high": "antigravity", "medium": "amp", "low": "codex"}
ENV_BOARD = "ORCHESTRA_BOARD"
ENV_ROUTING = "ORCHESTRA_ROUTING"
ENV_AGENT = "ORCHESTRA_AGENT"


class UsageError(Exception):
    """Bad command-line input; exit code 2."""


def parse_routing(text: str | None) -> dict[str, str]:
    """'high=antigravity,medium=amp,low=codex' -> mapping; the seed's table when empty."""
    if not text:
        return dict(DEFAULT_ROUTING)
    routing = {}
    for item in text.split(","):
        key, sep, agent = item.partition("=")
        if not sep or not key.strip() or not agent.strip():
            raise UsageError("routing entry %r must look like complexity=agent (e.g. high=antigravity)" % item)
        routing[key.strip().lower()] = agent.strip()
    return routing


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise UsageError("%s=%r must be a whole number" % (name, value)) from None


def archive_policy() -> board_lib.ArchivePolicy:
    age = os.environ.get("ORCHESTRA_MESSAGE_MAX_AGE_DAYS")
    try:
        max_age = float(age) if age else 7.0
    except ValueError:
        raise UsageError("ORCHESTRA_MESSAGE_MAX_AGE_DAYS=%r must be a number of days" % age) from None
    return board_lib.ArchivePolicy(
        keep_completions=_env_int("ORCHESTRA_KEEP_COMPLETIONS", 20),
        keep_messages=_env_int("ORCHESTRA_KEEP_MESSAGES", 50),
        max_message_age_days=max_age if max_age > 0 else None,
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orchestra",
        description="Read and update the team's board (CLAUDE.md): tasks, agent status, messages.",
        epilog="Exit codes: 2 usage, 3 conflict, 4 lock timeout, 5 malformed board, 6 not found.",
    )
    parser.add_argument("--board", default=os.environ.get(ENV_BOARD) or "CLAUDE.md",
                        help="board file (default: $%s, else ./CLAUDE.md)" % ENV_BOARD)
    parser.add_argument("--lock-timeout", type=float, default=10.0, help="seconds to wait for the board's lock")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    commands.required = True

    task = commands.add_parser("task", help="tasks in the queue").add_subparsers(dest="action", metavar="ACTION")
    task.required = True
    add = task.add_parser("add", help="assign a new task; prints its id")
    target = add.add_mutually_exclusive_group(required=True)
    target.add_argument("--to", help="agent to assign it to")
    target.add_argument("--complexity", choices=("high", "medium", "low"),
                        help="route by complexity ($%s, default high=antigravity,medium=amp,low=codex)" % ENV_ROUTING)
    add.add_argument("--priority", default="MEDIUM", type=str.upper, choices=board_lib.PRIORITIES)
    add.add_argument("--title", required=True)
    add.add_argument("--description", default="")
    add.add_argument("--files", default="")
    add.add_argument("--json", action="store_true")

    listing = task.add_parser("list", help="tasks in the queue")
    listing.add_argument("--agent")
    listing.add_argument("--status", type=lambda v: v.upper().replace("-", "_"))
    listing.add_argument("--json", action="store_true")

    show = task.add_parser("show", help="one task (queued, completed or archived)")
    show.add_argument("id")
    show.add_argument("--json", action="store_true")

    start = task.add_parser("start", help="claim a task and mark it IN_PROGRESS")
    start.add_argument("id")
    start.add_argument("--agent", default=os.environ.get(ENV_AGENT), help="default: $%s" % ENV_AGENT)

    done = task.add_parser("done", help="move a task to the completion log")
    done.add_argument("id")
    done.add_argument("--agent", default=os.environ.get(ENV_AGENT), help="default: $%s" % ENV_AGENT)
    done.add_argument("--changes", default="")
    done.add_argument("--files", default="")

    fail = task.add_parser("fail", help="mark a task FAILED with a reason")
    fail.add_argument("id")
    fail.add_argument("--reason", required=True)
    fail.add_argument("--agent", default=os.environ.get(ENV_AGENT))

    status = commands.add_parser("status", help="agents' states").add_subparsers(dest="action", metavar="ACTION")
    status.required = True
    set_status = status.add_parser("set", help="set an agent's state")
    set_status.add_argument("agent")
    set_status.add_argument("state", type=lambda v: v.upper().replace("-", "_"), choices=board_lib.AGENT_STATES)
    set_status.add_argument("--task")
    set_status.add_argument("--role")
    status_list = status.add_parser("list", help="every agent's state")
    status_list.add_argument("--json", action="store_true")

    msg = commands.add_parser("msg", help="messages between agents").add_subparsers(dest="action", metavar="ACTION")
    msg.required = True
    send = msg.add_parser("send", help="send a message; prints its id")
    send.add_argument("--from", dest="sender", default=os.environ.get(ENV_AGENT), help="default: $%s" % ENV_AGENT)
    send.add_argument("--to", required=True)
    send.add_argument("text", nargs="+")
    send.add_argument("--json", action="store_true")
    msg_list = msg.add_parser("list", help="messages on the board")
    msg_list.add_argument("--to")
    msg_list.add_argument("--since", help="a message id (MSG-007: later ones) or a date 'YYYY-MM-DD HH:MM'")
    msg_list.add_argument("--json", action="store_true")

    summary = commands.add_parser("board", help="a compact summary of the board; 'board init' creates it")
    summary.add_argument("action", nargs="?", choices=("summary", "init"), default="summary")
    summary.add_argument("--json", action="store_true")
    return parser


def _need(value: str | None, what: str) -> str:
    if not value:
        raise UsageError("%s is required (or set $%s)" % (what, ENV_AGENT))
    return value


def _print_task(task: dict, out) -> None:
    out.write("%s  %s\n" % (task["id"], task["title"]))
    for label, key in (("Assigned To", "assigned_to"), ("Priority", "priority"), ("Status", "status"),
                       ("Description", "description"), ("Files Involved", "files"), ("Date", "date"),
                       ("Started", "started"), ("Reason", "reason")):
        if task.get(key):
            out.write("  %-15s %s\n" % (label + ":", str(task[key]).replace("\n", "\n" + " " * 18)))


def _emit(args, data, text_lines, out) -> None:
    if getattr(args, "json", False):
        json.dump(data, out, indent=2, sort_keys=True)
        out.write("\n")
    else:
        for line in text_lines:
            out.write(line + "\n")


def run(args, out) -> int:
    path = args.board

    def update(operation):
        return board_lib.update(path, operation, args.lock_timeout, archive_policy())

    if args.command == "task" and args.action == "add":
        agent = args.to
        if agent is None:
            routing = parse_routing(os.environ.get(ENV_ROUTING))
            if args.complexity not in routing:
                raise UsageError("no agent for complexity %r in the routing table %s" % (args.complexity, routing))
            agent = routing[args.complexity]
        entry = update(lambda b: board_lib.add_task(b, args.title, agent, args.priority, args.description, args.files))
        _emit(args, board_lib.task_facts(entry), [entry.entry_id], out)
        return 0

    if args.command == "task" and args.action == "list":
        tasks = [board_lib.task_facts(e) for e in board_lib.load(path).section(board_lib.TASKS).entries]
        tasks = [t for t in tasks if (not args.agent or t["assigned_to"] == args.agent)
                 and (not args.status or t["status"].upper() == args.status)]
        _emit(args, tasks, ["%-9s %-11s %-6s %-12s %s" % (t["id"], t["status"], t["priority"], t["assigned_to"], t["title"])
                            for t in tasks] or ["(no tasks)"], out)
        return 0

    if args.command == "task" and args.action == "show":
        task_id = board_lib.normalise_id(args.id)
        board = board_lib.load(path)
        entry = board.section(board_lib.TASKS).find(task_id)
        if entry is not None:
            facts = board_lib.task_facts(entry)
            if args.json:
                _emit(args, facts, [], out)
            else:
                _print_task(facts, out)
            return 0
        completed = board.section(board_lib.COMPLETIONS).find(task_id) if board.has(board_lib.COMPLETIONS) else None
        if completed is None:
            completed = next((e for e in board_lib.load_archive(path) if e.entry_id == task_id), None)
        if completed is None:
            raise board_lib.NotFound("%s is not on the board nor in its archive" % task_id)
        facts = dict(board_lib.completion_facts(completed), status="COMPLETED")
        _emit(args, facts, ["%s  COMPLETED" % task_id] + ["  %-15s %s" % (k + ":", v) for k, v in completed.fields.items()], out)
        return 0

    if args.command == "task" and args.action == "start":
        entry = update(lambda b: board_lib.start_task(b, args.id, _need(args.agent, "--agent")))
        out.write("%s started by %s\n" % (entry.entry_id, entry.get("Assigned To")))
        return 0

    if args.command == "task" and args.action == "done":
        entry = update(lambda b: board_lib.complete_task(b, args.id, _need(args.agent, "--agent"), args.changes, args.files))
        out.write("%s completed by %s in %s\n" % (entry.entry_id, entry.get("Completed By"), entry.get("Duration")))
        return 0

    if args.command == "task" and args.action == "fail":
        entry = update(lambda b: board_lib.fail_task(b, args.id, args.reason, args.agent))
        out.write("%s failed: %s\n" % (entry.entry_id, entry.get("Reason")))
        return 0

    if args.command == "status" and args.action == "set":
        row = update(lambda b: board_lib.set_status(b, args.agent, args.state, args.task, args.role))
        task = "" if row["Current Task"] in ("", "-") else " on " + row["Current Task"]
        out.write("%s is %s%s\n" % (row["Agent"], row["State"], task))
        return 0

    if args.command == "status" and args.action == "list":
        agents = [board_lib.status_facts(r) for r in board_lib.load(path).section(board_lib.STATUS).rows]
        _emit(args, agents, ["%-12s %-12s %-10s %s" % (a["agent"], a["state"], a["task"] or "-", a["updated"] or "-")
                             for a in agents] or ["(no agents)"], out)
        return 0

    if args.command == "msg" and args.action == "send":
        sender = _need(args.sender, "--from")
        entry = update(lambda b: board_lib.send_message(b, sender, args.to, " ".join(args.text)))
        _emit(args, board_lib.message_facts(entry), [entry.entry_id], out)
        return 0

    if args.command == "msg" and args.action == "list":
        messages = [board_lib.message_facts(e) for e in board_lib.load(path).section(board_lib.MESSAGES).entries]
        if args.to:
            messages = [m for m in messages if m["to"] == args.to]
        if args.since:
            messages = _since(messages, args.since)
        lines = ["%s %s %s -> %s: %s" % (m["id"], m["date"], m["from"], m["to"], m["text"].replace("\n", " "))
                 for m in messages]
        _emit(args, messages, lines or ["(no messages)"], out)
        return 0

    if args.command == "board" and args.action == "init":
        return _init(path, args.lock_timeout, out)

    board = board_lib.load(path)
    facts = board_lib.facts(board)
    _emit(args, facts, summary_lines(facts), out)
    return 0


def _since(messages: list[dict], since: str) -> list[dict]:
    if since.upper().startswith("MSG-"):
        number = int(board_lib.normalise_id(since, "MSG").split("-")[1])
        return [m for m in messages if int(m["id"].split("-")[1]) > number]
    limit = board_lib.parse_date(since)
    if limit is None:
        raise UsageError("--since %r is neither a message id (MSG-007) nor a date 'YYYY-MM-DD HH:MM'" % since)
    return [m for m in messages if (board_lib.parse_date(m["date"]) or limit) > limit]


def _init(path: str, lock_timeout: float, out) -> int:
    if not os.path.exists(path):
        # Create under the lock so two agents cannot both create it.
        with board_lib.locked(path, lock_timeout):
            if not os.path.exists(path):
                board_lib.atomic_write(path, board_lib.new_board_text())
                out.write("created %s\n" % path)
                return 0
    added = board_lib.update(path, board_lib.ensure_sections, lock_timeout)
    out.write(("added sections %s to %s\n" % (", ".join(added), path)) if added else "%s is ready\n" % path)
    return 0


def summary_lines(facts: dict) -> list[str]:
    by_status = facts["tasks_by_status"]
    lines = ["tasks: %s; completed on board: %d; messages: %d" % (
        ", ".join("%s %d" % (status, len(ids)) for status, ids in sorted(by_status.items())) or "none",
        len(facts["completions"]), len(facts["messages"]))]
    for agent in facts["agents"]:
        lines.append("  %-12s %-12s %s" % (agent["agent"], agent["state"], agent["task"] or ""))
    for task in facts["tasks"]:
        lines.append("  %-9s %-11s %-12s %s" % (task["id"], task["status"], task["assigned_to"], task["title"]))
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return run(args, sys.stdout)
    except UsageError as exc:
        parser.print_usage(sys.stderr)
        sys.stderr.write("orchestra: error: %s\n" % exc)
        return EXIT_USAGE
    except board_lib.LockTimeout as exc:
        sys.stderr.write("orchestra: %s\n" % exc)
        return EXIT_LOCK
    except board_lib.BoardParseError as exc:
        sys.stderr.write("orchestra: the board is malformed, nothing was written: %s\n" % exc)
        return EXIT_MALFORMED
    except board_lib.NotFound as exc:
        sys.stderr.write("orchestra: %s\n" % exc)
        return EXIT_NOT_FOUND
    except board_lib.Conflict as exc:
        sys.stderr.write("orchestra: %s\n" % exc)
        return EXIT_CONFLICT
    except board_lib.BoardError as exc:
        sys.stderr.write("orchestra: %s\n" % exc)
        return EXIT_USAGE
    except OSError as exc:
        sys.stderr.write("orchestra: %s\n" % exc)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
