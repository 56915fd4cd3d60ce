# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``orchestra`` command: what agents run in their panes to use the board.

Standard library only. Runs as ``python3 _orchestra.py`` with the board's
modules beside it: ``scripts/orchestra`` does that from a checkout, and a target
gets the files and the same launcher (see docs/architecture.md). It does not
import ``os`` (a sixth of its start-up): the board's storage module stands in.

Exit codes: 0 done; 2 usage or bad value; 3 conflict (a task another agent
holds); 4 the board's lock timed out; 5 the board is malformed (nothing was
written); 6 no such task, message, section or board.
"""

from __future__ import annotations

import sys

try:
    from ansible_collections.moana.orchestration.plugins.module_utils import _board as board_lib
except ImportError:  # deployed on a target: _board.py sits beside this file
    import _board as board_lib  # type: ignore[no-redef]

EXIT_USAGE, EXIT_CONFLICT, EXIT_LOCK, EXIT_MALFORMED, EXIT_NOT_FOUND = 2, 3, 4, 5, 6

# The launcher installed as <home>/bin/orchestra (the same text as scripts/orchestra,
# which a test keeps equal).
LAUNCHER = r"""#!/bin/sh
# The `orchestra` command. From a checkout it runs plugins/module_utils/_orchestra.py;
# on a target the role installs this file as <home>/bin/orchestra with the command's
# library (_orchestra.py, _board.py, _board_format.py, _board_store.py, ...;
# byte-compiled) in <home>/lib. Agents run it all day, so it starts as little as it
# can: no subprocess to find the library (readlink only for a symbolic link);
# python3 -S (standard library only: no site-packages); the library's modules import
# each other from beside themselves, so the collection's package is marked absent
# rather than searched for; and once the command is done and its output flushed, the
# process ends without the interpreter's teardown (unless the command started a thread).
self=$0
[ -L "$self" ] && self=$(readlink -f "$self")
here=${self%/*}
[ "$here" = "$self" ] && here=.
lib=$here/../lib
[ -f "$lib/_orchestra.py" ] || lib=$here/../plugins/module_utils
exec "${ORCHESTRA_PYTHON:-python3}" -S -c '
import sys
sys.modules["ansible_collections"] = None
sys.path.insert(0, sys.argv.pop(1))
from _orchestra import main
code = main()
if "threading" not in sys.modules:
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except OSError:
        raise SystemExit(code)
    import posix
    posix._exit(code)
raise SystemExit(code)' "$lib" "$@"
"""
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
    value = board_lib.getenv(name)
    if not value:
        return default
    try:
        return int(value)
    except ValueError:
        raise UsageError("%s=%r must be a whole number" % (name, value)) from None


def archive_policy() -> board_lib.ArchivePolicy:
    age = board_lib.getenv("ORCHESTRA_MESSAGE_MAX_AGE_DAYS")
    try:
        max_age = float(age) if age else 7.0
    except ValueError:
        raise UsageError("ORCHESTRA_MESSAGE_MAX_AGE_DAYS=%r must be a number of days" % age) from None
    return board_lib.ArchivePolicy(
        keep_completions=_env_int("ORCHESTRA_KEEP_COMPLETIONS", 20),
        keep_messages=_env_int("ORCHESTRA_KEEP_MESSAGES", 50),
        max_message_age_days=max_age if max_age > 0 else None,
    )


# The command line is parsed by a small table-driven parser rather than
# argparse: argparse (and the re module it loads) costs more than the rest of
# a command, and agents run these commands all day (see bench/board_cli.py).
class Option:
    __slots__ = ("flag", "dest", "help", "required", "choices", "default", "normalise", "is_switch")

    def __init__(self, flag, help_text, dest=None, required=False, choices=None, default=None, normalise=None,
                 is_switch=False):
        self.flag = flag
        self.dest = dest or flag.lstrip("-").replace("-", "_")
        self.help, self.required, self.choices = help_text, required, choices
        self.default, self.normalise, self.is_switch = default, normalise, is_switch


class Command:
    """One command: its words, help, arguments, and the handler that runs it: handler(args, out) -> exit code."""

    __slots__ = ("words", "help", "handler", "positionals", "options", "one_of")

    def __init__(self, words, help_text, handler, positionals=(), options=(), one_of=()):
        self.words, self.help, self.handler = words, help_text, handler
        self.positionals, self.options, self.one_of = positionals, options, one_of

    def usage(self) -> str:
        parts = ["orchestra", *self.words]
        for name, dummy, many in self.positionals:
            parts.append(name.upper() + (" ..." if many else ""))
        for option in self.options:
            text = option.flag if option.is_switch else "%s %s" % (option.flag, option.dest.upper())
            parts.append(text if option.required else "[%s]" % text)
        return " ".join(parts)


def _upper(value: str) -> str:
    return value.strip().upper().replace("-", "_")


JSON = Option("--json", "print JSON", is_switch=True)


def _agent_option(flag="--agent", dest=None):
    return Option(flag, "agent name (default: $%s)" % ENV_AGENT, dest=dest, default=lambda: board_lib.getenv(ENV_AGENT))


# --------------------------------------------------------------------------- the commands
# One handler per command, named in COMMANDS below: handler(args, out) -> exit code.


def _update(args, operation):
    return board_lib.update(args.board, operation, args.lock_timeout, archive_policy())


def _task_add(args, out) -> int:
    agent = args.to
    if agent is None:
        routing = parse_routing(board_lib.getenv(ENV_ROUTING))
        if args.complexity not in routing:
            raise UsageError("no agent for complexity %r in the routing table %s" % (args.complexity, routing))
        agent = routing[args.complexity]
    entry = _update(args, lambda b: board_lib.add_task(b, args.title, agent, args.priority, args.description, args.files))
    _emit(args, board_lib.task_facts(entry), [entry.entry_id], out)
    return 0


def _task_list(args, out) -> int:
    tasks = [board_lib.task_facts(e) for e in board_lib.load(args.board).section(board_lib.TASKS).entries]
    agent = board_lib.agent_key(args.agent or args.to or "")  # names match without regard to case
    tasks = [t for t in tasks if (not agent or board_lib.agent_key(t["assigned_to"]) == agent)
             and (not args.status or t["status"].upper() == args.status)]
    _emit(args, tasks, ["%-9s %-11s %-6s %-12s %s" % (t["id"], t["status"], t["priority"], t["assigned_to"], t["title"])
                        for t in tasks] or ["(no tasks)"], out)
    return 0


def _task_show(args, out) -> int:
    task_id = board_lib.normalise_id(args.id)
    board = board_lib.load(args.board)
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
        completed = next((e for e in board_lib.load_archive(args.board) if e.entry_id == task_id), None)
    if completed is None:
        raise board_lib.NotFound("%s is not on the board nor in its archive" % task_id)
    facts = dict(board_lib.completion_facts(completed), status="COMPLETED")
    _emit(args, facts, ["%s  COMPLETED" % task_id] + ["  %-15s %s" % (k + ":", v) for k, v in completed.fields.items()], out)
    return 0


def _task_start(args, out) -> int:
    entry = _update(args, lambda b: board_lib.start_task(b, args.id, _need(args.agent, "--agent")))
    out.write("%s started by %s\n" % (entry.entry_id, entry.get("Assigned To")))
    return 0


def _task_done(args, out) -> int:
    entry = _update(args, lambda b: board_lib.complete_task(b, args.id, _need(args.agent, "--agent"), args.changes,
                                                            args.files))
    out.write("%s completed by %s in %s\n" % (entry.entry_id, entry.get("Completed By"), entry.get("Duration")))
    return 0


def _task_fail(args, out) -> int:
    entry = _update(args, lambda b: board_lib.fail_task(b, args.id, args.reason, args.agent))
    out.write("%s failed: %s\n" % (entry.entry_id, entry.get("Reason")))
    return 0


def _status_set(args, out) -> int:
    row = _update(args, lambda b: board_lib.set_status(b, args.agent, args.state, args.task, args.role))
    task = "" if row["Current Task"] in ("", "-") else " on " + row["Current Task"]
    out.write("%s is %s%s\n" % (row["Agent"], row["State"], task))
    return 0


def _status_list(args, out) -> int:
    agents = [board_lib.status_facts(r) for r in board_lib.load(args.board).section(board_lib.STATUS).rows]
    _emit(args, agents, ["%-12s %-12s %-10s %s" % (a["agent"], a["state"], a["task"] or "-", a["updated"] or "-")
                         for a in agents] or ["(no agents)"], out)
    return 0


def _msg_send(args, out) -> int:
    sender = _need(args.sender, "--from")
    entry = _update(args, lambda b: board_lib.send_message(b, sender, args.to, " ".join(args.text)))
    _emit(args, board_lib.message_facts(entry), [entry.entry_id], out)
    return 0


def _msg_list(args, out) -> int:
    messages = [board_lib.message_facts(e) for e in board_lib.load(args.board).section(board_lib.MESSAGES).entries]
    if args.to:  # the agent's messages: those to it, and those to all (but its own); names match without regard to case
        key = board_lib.agent_key(args.to)
        messages = [m for m in messages if board_lib.agent_key(m["to"]) == key
                    or (board_lib.agent_key(m["to"]) == "all" and board_lib.agent_key(m["from"]) != key)]
    if args.since:
        messages = _since(messages, args.since)
    lines = ["%s %s %s -> %s: %s" % (m["id"], m["date"], m["from"], m["to"], m["text"].replace("\n", " "))
             for m in messages]
    _emit(args, messages, lines or ["(no messages)"], out)
    return 0


def _board_summary(args, out) -> int:
    facts = board_lib.facts(board_lib.load(args.board))
    _emit(args, facts, summary_lines(facts), out)
    return 0


def _board_init(args, out) -> int:
    path = args.board
    try:
        mode = board_lib.parse_mode(args.mode)
    except ValueError as exc:
        raise UsageError("--mode: %s" % exc) from None
    existed = board_lib.exists(path)
    copies: list[str] = []
    # Created, or its sections adopted or added, under the lock (two agents cannot both create it); a
    # board whose sections were written without markers is copied first.
    outcome = board_lib.ensure_board(path, create=True, lock_timeout=args.lock_timeout, mode=mode,
                                     backup=lambda board: copies.append(board_lib.backup_copy(board)))
    result = outcome.result
    for warning in result["warnings"]:
        out.write("warning: %s\n" % warning)
    if not existed:
        out.write("created %s\n" % path)
    elif result["adopted"]:
        added = [name for name in result["sections"] if name not in result["adopted"]]
        out.write("adopted sections %s of %s%s (copy of the board before: %s)\n" % (
            ", ".join(result["adopted"]), path, "; added " + ", ".join(added) if added else "", ", ".join(copies)))
    elif result["sections"]:
        out.write("added sections %s to %s\n" % (", ".join(result["sections"]), path))
    else:
        out.write("%s is ready\n" % path)
    return 0


def _number(value: str, what: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise UsageError("%s %r is not a number" % (what, value)) from None


def _simulate(args, out) -> int:
    try:  # imported only here: the agents' everyday commands do not pay for it
        from ansible_collections.moana.orchestration.plugins.module_utils import _simulate as simulate_lib
    except ImportError:
        import _simulate as simulate_lib  # type: ignore[no-redef]
    low, sep, high = args.work.partition("-")
    work = (_number(low, "--work"), _number(high if sep else low, "--work"))
    sim = simulate_lib.Simulation(args.board, _need(args.agent, "--agent"), args.workdir, work, args.lock_timeout,
                                  int(_number(args.seed, "--seed")) if args.seed else None, out)
    plan = simulate_lib.load_plan(args.plan) if args.plan else None
    if plan and args.role != "orchestrator":
        raise UsageError("--plan is for --role orchestrator")
    routing = parse_routing(board_lib.getenv(ENV_ROUTING))
    return simulate_lib.run(sim, args.role, plan, routing, _number(args.poll, "--poll"),
                            sys.stdin if not args.until_done else None, args.until_done, args.nudge_only)


def _dispatch(args, out) -> int:
    try:  # imported only here, like _simulate: it brings the tmux layer
        from ansible_collections.moana.orchestration.plugins.module_utils import _dispatch as dispatch_lib
    except ImportError:
        import _dispatch as dispatch_lib  # type: ignore[no-redef]
    try:
        config = dispatch_lib.load_config(args.config)
    except dispatch_lib.ConfigError as exc:
        raise UsageError(str(exc)) from None
    stop = dispatch_lib.SignalStop()  # first: SIGTERM from here on stops it between two deliveries
    return dispatch_lib.Dispatcher(config, out=out).run(stop)


def _hook(args, out) -> int:
    """A CLI's hook: record what its event means for the agent of this pane ($ORCHESTRA_AGENT) in the team's
    directory. It prints nothing (Claude Code adds a UserPromptSubmit hook's output to the prompt) and never
    fails the CLI: outside a team's pane, or for an event that says nothing, it does nothing."""
    try:  # imported only here: the other commands do not pay for os and json
        from ansible_collections.moana.orchestration.plugins.module_utils import _hooks as hooks_lib
    except ImportError:
        import _hooks as hooks_lib  # type: ignore[no-redef]
    import json  # pylint: disable=import-outside-toplevel

    agent = board_lib.getenv(ENV_AGENT)
    if not agent or not agent.replace("-", "").replace("_", "").isalnum():
        return 0
    payload, event = {}, None
    if args.cli == "codex":  # notify gives the event as its last argument
        text = args.rest[-1]
    else:
        event = args.rest[0]
        text = sys.stdin.read() if not sys.stdin.isatty() else ""
    try:
        payload = json.loads(text) if text.strip() else {}
    except ValueError:
        payload = {}
    state = hooks_lib.hook_state(args.cli, payload if isinstance(payload, dict) else {}, event)
    if state is None:
        return 0
    try:
        hooks_lib.write_report(args.dir, agent, state, args.cli, event or str(payload.get("type")),
                               session=hooks_lib.session_of(args.cli, payload))
    except OSError as exc:
        sys.stderr.write("orchestra hook: %s\n" % exc)
    return 0


def _session(args, out) -> int:
    """Print the agent's last conversation (its CLI's hooks recorded it), or nothing: what its pane resumes."""
    try:
        from ansible_collections.moana.orchestration.plugins.module_utils import _hooks as hooks_lib
    except ImportError:
        import _hooks as hooks_lib  # type: ignore[no-redef]
    session = hooks_lib.recorded_session(args.dir, args.agent)
    if session:
        out.write("%s\n" % session)
    return 0


COMMANDS = (
    Command(("task", "add"), "assign a new task; prints its id", _task_add, options=(
        Option("--to", "agent to assign it to"),
        Option("--complexity", "route by complexity ($%s, default high=antigravity,medium=amp,low=codex)" % ENV_ROUTING,
               choices=("high", "medium", "low"), normalise=str.lower),
        Option("--priority", "HIGH, MEDIUM or LOW", choices=board_lib.PRIORITIES, default="MEDIUM", normalise=_upper),
        Option("--title", "task title", required=True),
        Option("--description", "what to do", default=""),
        Option("--files", "files involved", default=""),
        JSON), one_of=(("to", "complexity"),)),
    Command(("task", "list"), "tasks in the queue", _task_list, options=(
        Option("--agent", "only this agent's (names match without regard to case)"),
        Option("--to", "the same as --agent"), Option("--status", "only this status", normalise=_upper), JSON)),
    Command(("task", "show"), "one task (queued, completed or archived)", _task_show,
            positionals=(("id", "task id", False),), options=(JSON,)),
    Command(("task", "start"), "claim a task and mark it IN_PROGRESS", _task_start,
            positionals=(("id", "task id", False),), options=(_agent_option(),)),
    Command(("task", "done"), "move a task to the completion log", _task_done,
            positionals=(("id", "task id", False),), options=(
                _agent_option(), Option("--changes", "changes made", default=""),
                Option("--files", "files modified", default=""))),
    Command(("task", "fail"), "mark a task FAILED with a reason", _task_fail,
            positionals=(("id", "task id", False),), options=(
                Option("--reason", "why it failed", required=True), _agent_option())),
    Command(("status", "set"), "set an agent's state", _status_set,
            positionals=(("agent", "agent name", False), ("state", "IDLE, IN_PROGRESS, BLOCKED or OFFLINE", False)),
            options=(Option("--task", "its current task"), Option("--role", "its role"))),
    Command(("status", "list"), "every agent's state", _status_list, options=(JSON,)),
    Command(("msg", "send"), "send a message; prints its id", _msg_send,
            positionals=(("text", "message text", True),), options=(
                _agent_option("--from", "sender"), Option("--to", "recipient", required=True), JSON)),
    Command(("msg", "list"), "messages on the board", _msg_list, options=(
        Option("--to", "only messages to this agent (broadcasts to all included)"),
        Option("--since", "a message id (MSG-007: later ones) or a date 'YYYY-MM-DD HH:MM'"), JSON)),
    Command(("board",), "a compact summary of the board", _board_summary, options=(JSON,)),
    Command(("board", "init"), "create the board, or adopt or add its missing sections", _board_init, options=(
        Option("--mode", "mode of a board it creates, octal (0644 to share it; an existing board keeps its own)",
               default="0600"),)),
    Command(("simulate",), "run a simulated agent here (no model: tests and demos); /exit ends it", _simulate, options=(
        _agent_option(),
        Option("--role", "worker or orchestrator", choices=("worker", "orchestrator"), default="worker",
               normalise=str.lower),
        Option("--plan", "orchestrator: JSON list of {title, complexity, priority, description}"),
        Option("--poll", "seconds between looks at the board", default="0.5"),
        Option("--work", "seconds a simulated task takes, MIN-MAX", default="0.2-1.0"),
        Option("--workdir", "where simulated work writes its files", default="."),
        Option("--seed", "random seed, for repeatable runs"),
        Option("--until-done", "exit once the work is done instead of waiting for /exit", is_switch=True),
        Option("--nudge-only", "act only when something is typed in (no polling), as a real CLI", is_switch=True))),
    Command(("hook",), "a CLI's hook: record the agent's state for the dispatcher (Claude Code, Codex)", _hook,
            positionals=(("cli", "claude or codex", False), ("rest", "the event's name (claude) or JSON (codex)", True)),
            options=(Option("--dir", "the team's directory", required=True),)),
    Command(("session",), "an agent's last conversation, as its CLI's hooks recorded it (what a restart resumes)",
            _session, positionals=(("agent", "agent name", False),),
            options=(Option("--dir", "the team's directory", required=True),)),
    Command(("dispatch",), "tell agents in their panes when the board has something for them (runs until stopped)",
            _dispatch, options=(
                Option("--config", "the dispatcher's JSON configuration (written by the orchestration role)", required=True),)),
)

GLOBAL_HELP = """usage: orchestra [--board PATH] [--lock-timeout SECONDS] COMMAND ...

Read and update the team's board (CLAUDE.md): tasks, agent status, messages.

options:
  --board PATH             board file (default: $%s, else ./CLAUDE.md)
  --lock-timeout SECONDS   seconds to wait for the board's lock (default 10)

commands:
%s

Exit codes: 2 usage, 3 conflict, 4 lock timeout, 5 malformed board, 6 not found.
""" % (ENV_BOARD, "\n".join("  %-16s %s" % (" ".join(c.words), c.help) for c in COMMANDS))


class Arguments:
    """Parsed command line: attributes named after the options."""

    def __init__(self, **values):
        self.__dict__.update(values)


class HelpShown(Exception):
    """-h was given; the help has been printed."""


def _command_help(command: Command) -> str:
    lines = ["usage: " + command.usage(), "", command.help, ""]
    for name, text, dummy in command.positionals:
        lines.append("  %-22s %s" % (name.upper(), text))
    for option in command.options:
        label = option.flag if option.is_switch else "%s %s" % (option.flag, option.dest.upper())
        lines.append("  %-22s %s" % (label, option.help))
    return "\n".join(lines) + "\n"


def parse_args(argv: list[str], out=None) -> Arguments:
    """Parse ``orchestra`` arguments; UsageError names the problem, HelpShown after -h."""
    out = out or sys.stdout
    values: dict = {"board": board_lib.getenv(ENV_BOARD) or "CLAUDE.md", "lock_timeout": 10.0}
    rest = list(argv)
    while rest and rest[0].startswith("-"):
        flag = rest.pop(0)
        if flag in ("-h", "--help"):
            out.write(GLOBAL_HELP)
            raise HelpShown()
        name, sep, value = flag.partition("=")
        if name not in ("--board", "--lock-timeout"):
            raise UsageError("unknown option %s before the command" % flag)
        if not sep:
            if not rest:
                raise UsageError("%s needs a value" % name)
            value = rest.pop(0)
        if name == "--board":
            values["board"] = value
        else:
            try:
                values["lock_timeout"] = float(value)
            except ValueError:
                raise UsageError("--lock-timeout %r is not a number of seconds" % value) from None
    command = None
    for candidate in sorted(COMMANDS, key=lambda c: -len(c.words)):
        if tuple(rest[:len(candidate.words)]) == candidate.words:
            command = candidate
            break
    if command is None:
        known = ", ".join(" ".join(c.words) for c in COMMANDS)
        raise UsageError("unknown command %r; one of: %s" % (" ".join(rest[:2]) or "(none)", known))
    rest = rest[len(command.words):]
    values["command"], values["action"] = command.words[0], (command.words[1:] or ("summary",))[0]
    values["handler"] = command.handler
    by_flag = {option.flag: option for option in command.options}
    given: dict = {}
    positionals: list[str] = []
    while rest:
        item = rest.pop(0)
        if item in ("-h", "--help"):
            out.write(_command_help(command))
            raise HelpShown()
        if item == "--":
            positionals.extend(rest)
            break
        if item.startswith("--"):
            name, sep, value = item.partition("=")
            option = by_flag.get(name)
            if option is None:
                raise UsageError("%s does not take %s; see 'orchestra %s -h'" % (" ".join(command.words), name,
                                                                                 " ".join(command.words)))
            if option.is_switch:
                given[option.dest] = True
                continue
            if not sep:
                if not rest:
                    raise UsageError("%s needs a value" % name)
                value = rest.pop(0)
            given[option.dest] = value
        else:
            positionals.append(item)
    for option in command.options:
        if option.dest in given:
            value = given[option.dest]
        else:
            value = option.default() if callable(option.default) else option.default
            if option.is_switch:
                value = bool(value)
        if option.normalise and isinstance(value, str):
            value = option.normalise(value)
        if option.choices and value is not None and value not in option.choices:
            raise UsageError("%s %r is not one of %s" % (option.flag, value, ", ".join(option.choices)))
        if option.required and value is None:
            raise UsageError("%s is required" % option.flag)
        values[option.dest] = value
    for group in command.one_of:
        chosen = [dest for dest in group if values.get(dest) is not None]
        if len(chosen) != 1:
            raise UsageError("give exactly one of %s" % ", ".join("--" + dest for dest in group))
    wanted = command.positionals
    many = bool(wanted) and wanted[-1][2]
    if len(positionals) < len(wanted) or (len(positionals) > len(wanted) and not many):
        raise UsageError("usage: %s" % command.usage())
    for index, (name, dummy, is_many) in enumerate(wanted):
        values[name] = positionals[index:] if is_many else positionals[index]
    if command.words == ("status", "set"):
        values["state"] = _upper(values["state"])
        if values["state"] not in board_lib.AGENT_STATES:
            raise UsageError("state %r is not one of %s" % (values["state"], ", ".join(board_lib.AGENT_STATES)))
    return Arguments(**values)


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
        import json  # only when asked: it is a tenth of a command's start-up

        json.dump(data, out, indent=2, sort_keys=True)
        out.write("\n")
    else:
        for line in text_lines:
            out.write(line + "\n")


def run(args, out) -> int:
    """Run the parsed command through its handler (named in COMMANDS); returns the exit code."""
    return args.handler(args, out)


def _since(messages: list[dict], since: str) -> list[dict]:
    if since.upper().startswith("MSG-"):
        number = int(board_lib.normalise_id(since, "MSG").split("-")[1])
        return [m for m in messages if int(m["id"].split("-")[1]) > number]
    limit = board_lib.parse_date(since)
    if limit is None:
        raise UsageError("--since %r is neither a message id (MSG-007) nor a date 'YYYY-MM-DD HH:MM'" % since)
    return [m for m in messages if (board_lib.parse_date(m["date"]) or limit) > limit]


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


# Errors for people, not tracebacks: each kind with its exit code and message
# prefix, most specific first.
FAILURES = (
    (UsageError, EXIT_USAGE, "error: "),
    (board_lib.LockTimeout, EXIT_LOCK, ""),
    (board_lib.BoardParseError, EXIT_MALFORMED, "the board is malformed, nothing was written: "),
    (board_lib.NotFound, EXIT_NOT_FOUND, ""),
    (board_lib.Conflict, EXIT_CONFLICT, ""),
    (board_lib.BoardError, EXIT_USAGE, ""),
    (OSError, 1, ""),
)


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(sys.argv[1:] if argv is None else argv)
        return run(args, sys.stdout)
    except HelpShown:
        return 0
    except (UsageError, board_lib.BoardError, OSError) as exc:  # every kind in FAILURES
        code, prefix = next((code, prefix) for kind, code, prefix in FAILURES if isinstance(exc, kind))
        sys.stderr.write("orchestra: %s%s\n" % (prefix, exc))
        return code


if __name__ == "__main__":
    raise SystemExit(main())
