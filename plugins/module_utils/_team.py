# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The team as data: validate the agents' configuration and derive what runs where.

Pure logic, standard library only. Everything about the team is checked here,
before anything starts (unknown keys, duplicate names, no orchestrator, a
routing table naming a missing agent), and turned into the tmux windows and
panes ``tmux_session`` builds.

An agent's ``environment`` (API keys, tokens) never travels in the plan: after
validation only its names are kept. ``env_file_text`` renders the values into
the file the pane's shell reads before it runs the agent (``TEAM_DIR/env/NAME.env``,
written by ``orchestra_home``), so they reach the agent's process and no command
line, tmux option or tmux environment.

The default layout is the original scripts': window ``main`` tiled with the
orchestrator, the workers and, in third place (bottom left of a 2x2), a live
view of the proxy's log; agents that talk through the proxy get a window of
their own. Larger teams spill into ``main-2``, ``main-3``... by
``panes_per_window``; an agent's ``window`` key puts it anywhere.
"""

from __future__ import annotations

import shlex

from ansible_collections.moana.orchestration.plugins.module_utils import _dispatch_config, _hooks, _notify

ROLES = ("orchestrator", "worker")
COMPLEXITIES = ("high", "medium", "low")
# The types whose screens _agents.PATTERNS knows how to read (a unit test keeps the two equal):
# importing _agents here would bring the tmux layer, 20 ms, into every playbook's first task.
AGENT_TYPES = ("claude", "codex", "amp", "generic", "simulated")
AGENT_KEYS = ("name", "role", "command", "complexity", "uses_proxy", "type", "window", "environment", "auto_restart",
              "resume")
# The agent types whose CLI resumes its own last conversation (Claude Code's --resume, Codex's resume).
RESUMABLE = ("claude", "codex")
PROXY_PANE = "proxy"
# The pending note (tmux_session) of a pane whose agent gets its initial prompt typed: set when the pane
# starts, cleared once the prompt is typed or queued. Still set later: a start ended in between.
PENDING_PROMPT = "initial prompt"
# CLIs that take the first prompt on their command line; the others get it typed once they are idle.
PROMPT_AS_ARGUMENT = ("claude", "codex")
# Where each agent's secret variables are kept, under the team's directory (0700): ENV_DIR/NAME.env, 0600.
ENV_DIR = "env"
# Letters, digits and '_', not starting with a digit: what a shell accepts after ``export``.
_ENV_NAME_CHARS = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_")


class TeamError(ValueError):
    """A team configuration that cannot run; the message names the agent, the key and the fix."""


# Ansible's spellings of booleans (module_utils.parsing.convert_bool), so a value given with -e reads the same.
_TRUE = ("true", "yes", "on", "y", "t", "1", "1.0")
_FALSE = ("false", "no", "off", "n", "f", "0", "0.0", "")


def boolean(value, where: str) -> bool:
    """``value`` as Ansible reads a boolean (``"no"`` is False); TeamError naming ``where`` otherwise."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower() if value is not None else ""
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    raise TeamError("%s: %r is not a boolean; write true or false" % (where, value))


def env_name_ok(name) -> bool:
    """A variable name a shell can export (letters, digits and '_', not starting with a digit)."""
    return isinstance(name, str) and bool(name) and not name[0].isdigit() and set(name) <= _ENV_NAME_CHARS


def check_environment(environment, where: str) -> list[str]:
    """The sorted names of an agent's ``environment`` mapping; TeamError naming ``where`` and the variable (never
    its value) when a name cannot be exported or a value is not a string, number or boolean."""
    if not isinstance(environment, dict):
        raise TeamError("%s: environment must be a mapping of NAME: value" % where)
    for name, value in environment.items():
        if not env_name_ok(name):
            raise TeamError("%s: environment name %r must be letters, digits and '_', not starting with a digit"
                            % (where, name))
        if value is None or isinstance(value, (dict, list, tuple, set)):
            raise TeamError("%s: environment.%s must be a string, number or boolean" % (where, name))
    return sorted(environment)


def secret_strings(agents) -> set[str]:
    """The strings Ansible would mask for the agents' environments (as its no_log does for a dict): every
    non-empty value as text. For a module that must mask them before its argument spec has run."""
    found: set[str] = set()
    for agent in agents if isinstance(agents, list) else []:
        environment = agent.get("environment") if isinstance(agent, dict) else None
        if isinstance(environment, str) and environment:  # not a mapping (refused), yet perhaps a value
            found.add(environment)
        for value in environment.values() if isinstance(environment, dict) else []:
            if value is not None and not isinstance(value, bool) and str(value):
                found.add(str(value))
    return found


def env_file(team_dir: str, name: str) -> str:
    """The file holding an agent's secret variables."""
    return "%s/%s/%s.env" % (team_dir, ENV_DIR, name)


def env_file_text(environment: dict, where: str = "environment") -> str:
    """The file the pane's shell reads (``. FILE``) before it runs the agent: one ``export NAME='value'`` line
    per variable, sorted, each value quoted for the shell (quotes, spaces, ``$``, newlines kept as they are).

    Booleans are written as Ansible spells them in text (``True``), numbers as written."""
    check_environment(environment, where)
    lines = ["# Written by moana.orchestration: this agent's secret variables, read by its pane's shell. Keep it 0600."]
    lines += ["export %s=%s" % (name, shlex.quote(str(environment[name]))) for name in sorted(environment)]
    return "\n".join(lines) + "\n"


def agent_type(agent: dict) -> str:
    """The agent's CLI family (decides prompt delivery and screen patterns): given, or from its command."""
    if agent.get("type"):
        return agent["type"]
    program = agent["command"].split()[0].rsplit("/", 1)[-1]
    if program == "orchestra" and "simulate" in agent["command"].split():
        return "simulated"
    return program if program in AGENT_TYPES else "generic"


def validate(agents, routing: dict | None = None) -> tuple[list[dict], dict[str, str]]:
    """Check the agents and the routing table; return normalised agents and the routing table.

    Without an explicit routing table, each complexity goes to the first
    worker that declares it (the original scripts: high -> antigravity,
    medium -> amp, low -> codex).
    """
    if not isinstance(agents, list) or not agents:
        raise TeamError("orchestration_agents: give a list of agents, one of them with role: orchestrator")
    seen: dict[str, int] = {}
    normalised = []
    for index, raw in enumerate(agents):
        where = "orchestration_agents[%d]" % index
        if not isinstance(raw, dict):
            raise TeamError("%s must be a mapping with name, role and command" % where)
        unknown = sorted(set(raw) - set(AGENT_KEYS))
        if unknown:
            raise TeamError("%s has unknown key(s) %s; the keys are %s" % (where, ", ".join(unknown), ", ".join(AGENT_KEYS)))
        name = raw.get("name")
        if not isinstance(name, str) or not name.strip():
            raise TeamError("%s.name is empty; every agent needs a name" % where)
        if not name.replace("-", "").replace("_", "").isalnum() or name == PROXY_PANE:
            raise TeamError("%s.name %r must be letters, digits, '-' or '_' (and not %r, the proxy's pane)"
                            % (where, name, PROXY_PANE))
        where = "agent %r" % name
        if name in seen:
            raise TeamError("%s is defined twice (orchestration_agents[%d] and [%d]); names must be unique"
                            % (where, seen[name], index))
        seen[name] = index
        role = raw.get("role")
        if role not in ROLES:
            raise TeamError("%s: role %r must be orchestrator or worker" % (where, role))
        command = raw.get("command")
        if not isinstance(command, str) or not command.strip():
            raise TeamError("%s: command is empty; give the CLI to run, such as 'claude'" % where)
        complexity = raw.get("complexity")
        if complexity is not None and complexity not in COMPLEXITIES:
            raise TeamError("%s: complexity %r must be one of %s" % (where, complexity, ", ".join(COMPLEXITIES)))
        if complexity is not None and role == "orchestrator":
            raise TeamError("%s: the orchestrator assigns tasks and takes none; remove its complexity" % where)
        environment = check_environment(raw.get("environment") or {}, where)
        agent = {
            "name": name, "role": role, "command": command.strip(), "complexity": complexity,
            "uses_proxy": boolean(raw.get("uses_proxy", False), where + ": uses_proxy"), "window": raw.get("window") or None,
            "environment": environment,  # names only: the values are needed nowhere in the plan
            "auto_restart": boolean(raw.get("auto_restart", False), where + ": auto_restart"),
            # None: as the team says (orchestration_resume, ``with_resume``)
            "resume": None if raw.get("resume") is None else boolean(raw.get("resume"), where + ": resume"),
        }
        agent["type"] = raw.get("type") or agent_type(agent)
        if agent["type"] not in AGENT_TYPES:
            raise TeamError("%s: type %r must be one of %s" % (where, agent["type"], ", ".join(AGENT_TYPES)))
        agent["typed_prompt"] = agent["type"] not in PROMPT_AS_ARGUMENT
        reserved = sorted(set(environment) & set(agent_variables(agent, "", {}, "set")))
        if reserved:
            raise TeamError("%s: environment sets %s, which the team sets for every agent; remove it"
                            % (where, ", ".join(reserved)))
        normalised.append(agent)
    orchestrators = [a["name"] for a in normalised if a["role"] == "orchestrator"]
    if len(orchestrators) != 1:
        raise TeamError("the team needs exactly one agent with role: orchestrator, found %s"
                        % (", ".join(orchestrators) or "none"))
    workers = {a["name"] for a in normalised if a["role"] == "worker"}
    if routing:
        table = {}
        for complexity, name in routing.items():
            if complexity not in COMPLEXITIES:
                raise TeamError("orchestration_routing: %r is not a complexity (%s)" % (complexity, ", ".join(COMPLEXITIES)))
            if name not in workers:
                raise TeamError("orchestration_routing: %s tasks go to %r, which is not a worker of the team (%s)"
                                % (complexity, name, ", ".join(sorted(workers)) or "no workers"))
            table[complexity] = name
    else:
        table = {}
        for agent in normalised:
            if agent["complexity"] and agent["complexity"] not in table:
                table[agent["complexity"]] = agent["name"]
    return normalised, table


def missing_programs(which=None) -> str | None:
    """What the target lacks to run a team (tmux on PATH), with the fix; None when nothing. The modules need
    no Python package on the target: they run tmux with the standard library."""
    import shutil

    which = which or shutil.which
    if not which("tmux"):
        return "tmux is not installed on the target (no tmux on PATH): run playbooks/install.yml or install the tmux package"
    return None


def routing_text(table: dict[str, str]) -> str:
    """The routing table as ``orchestra`` reads it from ORCHESTRA_ROUTING."""
    return ",".join("%s=%s" % (c, table[c]) for c in COMPLEXITIES if c in table)


def layout(agents: list[dict], proxy_log: str | None, panes_per_window: int = 4) -> list[dict]:
    """Windows and panes (names only, in order) for the team: the original scripts' layout, grown as needed."""
    if panes_per_window < 1:
        raise TeamError("orchestration_panes_per_window must be at least 1")
    uses_proxy = any(a["uses_proxy"] for a in agents)
    placed: dict[str, list[str]] = {}
    order: list[str] = []

    def put(window: str, pane: str) -> None:
        if window not in placed:
            placed[window] = []
            order.append(window)
        placed[window].append(pane)

    main = [a["name"] for a in agents if a["role"] == "orchestrator" and not a["window"]]
    main += [a["name"] for a in agents if a["role"] == "worker" and not a["uses_proxy"] and not a["window"]]
    if uses_proxy and proxy_log:
        main.insert(min(2, len(main)), PROXY_PANE)  # bottom left of the 2x2, as in the original scripts
    for index, pane in enumerate(main):
        chunk = index // panes_per_window
        put("main" if chunk == 0 else "main-%d" % (chunk + 1), pane)
    proxied = [a for a in agents if a["uses_proxy"] and not a["window"]]
    proxied_window = proxied[0]["name"] if len(proxied) == 1 else "proxy-clients"
    for index, agent in enumerate(proxied):
        chunk = index // panes_per_window
        put(proxied_window if chunk == 0 else "%s-%d" % (proxied_window, chunk + 1), agent["name"])
    for agent in agents:
        if agent["window"]:
            put(agent["window"], agent["name"])
    return [{"name": window, "panes": placed[window]} for window in order]


# Codex runs its tools' commands with a PATH of its own (its vendor directory, then the login default), which
# loses the directories the pane put first: `orchestra` would not be found. Its shell environment policy sets
# the pane's PATH, as the pane's shell expands it when the CLI starts.
CODEX_TOOL_PATH = '-c "shell_environment_policy.set.PATH=\\"$PATH\\""'

# What each CLI leaves on; amp and generic programs are ended by the stop's signals.
EXIT_TEXT = {"claude": "/exit", "codex": "/quit", "simulated": "/exit"}


# Words after which ``exec`` would change what the command does (keywords, builtins, a function).
_NO_EXEC = frozenset(("if", "then", "elif", "else", "fi", "case", "esac", "for", "select", "while", "until", "do",
                      "done", "function", "{", "}", "!", "[[", "time", "coproc", "exec", "cd", ".", "source", "export",
                      "eval", "set", "unset", "alias", "exit", "return", "trap", "ulimit", "umask", "wait", "read",
                      "builtin", "command", "nohup"))


def simple_command(command: str) -> bool:
    """Whether ``command`` is one program with its arguments (no list, pipe, subshell, assignment or keyword),
    so that ``exec`` in front of it makes the pane's process the program itself."""
    if "\n" in command:
        return False
    lexer = shlex.shlex(command, posix=True, punctuation_chars=";&|()<>")
    lexer.whitespace_split = True
    try:
        words = list(lexer)
    except ValueError:  # an unclosed quote: let the shell say so
        return False
    if not words or "=" in words[0] or words[0] in _NO_EXEC:
        return False
    return not any(word and set(word) <= set(";&|()<>") for word in words)


def agent_command(agent: dict, prompt_file: str | None, bin_dir: str, path: tuple | list = (),
                  variables: dict | None = None, hooks_team_dir: str | None = None) -> str:
    """The pane's command: the agent's plain variables exported, the `orchestra` command's directory first on
    PATH, then the agent's CLI (with its initial prompt as argument where the CLI takes one), exec'd when it is
    one simple command so that the pane's process is the agent's.

    Everything is in the command itself rather than in the pane's tmux environment: a respawn (the
    dispatcher's auto-restart) runs the same command again, whereas tmux forgets a pane's own variables; and
    shell start-up files may set PATH again after tmux sets the environment. The secret variables are not
    here: the pane's shell reads them from the agent's env file first (tmux_session's ``env_file``).
    ``path`` (where install.yml put the CLIs) follows the `orchestra` command's directory.
    """
    command = agent["command"]
    simple = simple_command(command)
    if simple:
        command = "exec " + command
        if agent["type"] == "codex":
            command += " " + CODEX_TOOL_PATH
            if hooks_team_dir:  # its notify program reports each finished turn (for this process only)
                command += " " + _hooks.codex_notify("%s/orchestra" % bin_dir, hooks_team_dir)
    resumed = command
    if prompt_file and agent["type"] in PROMPT_AS_ARGUMENT:
        command = '%s "$(cat %s)"' % (command, shlex.quote(prompt_file))
    if simple and hooks_team_dir and agent.get("resume"):
        # Its own last conversation when its hooks recorded one (a restart, a start after a reboot), else a new
        # one with its initial prompt; either way the pane's process is the CLI.
        command = 's=$(%s session --dir %s %s 2>/dev/null); if [ -n "$s" ]; then %s; else %s; fi' % (
            shlex.quote("%s/orchestra" % bin_dir), shlex.quote(hooks_team_dir), agent["name"],
            _hooks.resume_command(resumed, agent["type"], '"$s"'), command)
    exports = " ".join("%s=%s" % (k, shlex.quote(v)) for k, v in sorted((variables or {}).items()))
    return "%sexport PATH=%s:\"$PATH\"; %s" % ("export %s; " % exports if exports else "",
                                               ":".join(shlex.quote(d) for d in [bin_dir, *path]), command)


def agent_variables(agent: dict, board: str, routing: dict[str, str], proxy_url: str | None,
                    auto_update: bool = True) -> dict[str, str]:
    """Plain variables of an agent's pane (shown in output): how to reach the board and the proxy.

    An agent using the proxy gets ANTHROPIC_AUTH_TOKEN=dummy (the proxy holds the real keys) unless its own
    environment sets that variable. Without ``auto_update``, Claude Code agents get DISABLE_AUTOUPDATER=1: an
    unattended team keeps the version it was started with (the updater reinstalls the CLI globally)."""
    variables = {"ORCHESTRA_AGENT": agent["name"], "ORCHESTRA_BOARD": board, "ORCHESTRA_ROUTING": routing_text(routing)}
    if not auto_update and agent["type"] == "claude":
        variables["DISABLE_AUTOUPDATER"] = "1"
    if agent["uses_proxy"] and proxy_url:
        variables["ANTHROPIC_BASE_URL"] = proxy_url
        if "ANTHROPIC_AUTH_TOKEN" not in agent["environment"]:
            variables["ANTHROPIC_AUTH_TOKEN"] = "dummy"
    return variables


def windows(agents: list[dict], routing: dict[str, str], board: str, bin_dir: str, log_dir: str,
            prompts_dir: str | None = None, proxy_log: str | None = None, proxy_url: str | None = None,
            panes_per_window: int = 4, path: tuple | list = (), team_dir: str | None = None,
            auto_update: bool = True, hooks: bool = False) -> list[dict]:
    """The ``windows`` option of tmux_session for the whole team (commands, env files, pane logs).

    No value of an agent's environment is in it: a pane whose agent has one names its env file
    (``env_file``, under ``team_dir``), which the pane's shell reads before it runs the agent."""
    by_name = {agent["name"]: agent for agent in agents}
    secret = [a["name"] for a in agents if a["environment"]]
    if secret and not team_dir:
        raise TeamError("agent %r has an environment: give team_dir, the directory its env file is kept in" % secret[0])
    result = []
    for window in layout(agents, proxy_log, panes_per_window):
        panes = []
        for name in window["panes"]:
            if name == PROXY_PANE:
                panes.append({"name": PROXY_PANE, "command": "tail -n 100 -F %s" % shlex.quote(proxy_log)})
                continue
            agent = by_name[name]
            prompt = "%s/%s.md" % (prompts_dir, name) if prompts_dir else None
            pane = {
                "name": name,
                "command": agent_command(agent, prompt, bin_dir, path, agent_variables(agent, board, routing, proxy_url, auto_update),
                                         team_dir if hooks else None),
                "log_file": "%s/%s.log" % (log_dir, name),
                "exit_text": EXIT_TEXT.get(agent["type"]),
            }
            if agent["environment"]:
                pane["env_file"] = env_file(team_dir, name)
            if agent["typed_prompt"] and prompts_dir:
                pane["pending"] = PENDING_PROMPT
            panes.append(pane)
        result.append({"name": window["name"], "layout": "tiled", "panes": panes})
    return result


def dispatcher_config(agents: list[dict], session: str, board: str, team_dir: str, socket_name: str | None = None,
                      restart: dict | None = None, scan: float = 5.0, status_line: bool = True,
                      stuck: dict | None = None, notify: dict | None = None, hooks: bool = False,
                      limits: dict | None = None) -> dict:
    """The dispatcher's configuration (``orchestra dispatch --config``): who is who, where things are.

    ``stuck``: {busy_minutes, dialog_minutes, nudge} (a minute count of None or 0: never stuck);
    ``notify``: the events' command and webhook (``_notify.check``); ``limits``: {policy, retry_minutes}.

    Holds no value of any variable: a restart runs the pane's own command again,
    which exports the plain variables and reads the agent's env file.
    """
    config = {
        "session": session,
        "socket_name": socket_name or "",
        "board": board,
        "state_file": "%s/dispatch-state.json" % team_dir,
        "queue_dir": "%s/queue" % team_dir,
        "agents": [{
            "name": a["name"], "role": a["role"], "type": a["type"],
            "prompt": "%s/prompts/%s.md" % (team_dir, a["name"]), "typed_prompt": a["typed_prompt"],
            "auto_restart": a["auto_restart"], "resume": bool(a.get("resume")), "complexity": a.get("complexity"),
        } for a in agents],
        "restart": dict(restart or {}),
        "status_line": status_line,
        "scan": scan,
        "stuck": stuck_seconds(stuck),
        "hooks": hooks,
        "limits": limit_settings(limits),
    }
    try:  # the dispatcher's own checks, so that what is built here is what it reads
        if _notify.enabled(notify):
            config["notify"] = _notify.hidden(_notify.check(notify, "orchestration_notify"))
        return _dispatch_config.check(config, "the dispatcher's configuration")
    except (_dispatch_config.ConfigError, _notify.NotifyError) as exc:
        raise TeamError(str(exc)) from None


def with_resume(agents: list[dict], resume: bool = False, hooks: bool = False) -> list[dict]:
    """Settle each agent's ``resume``: its own, else the team's (for the CLIs that can); an agent that resumes
    needs a CLI that can, started alone (its pane's command chooses between resuming and starting afresh), and
    the hooks that record its conversation."""
    for agent in agents:
        wanted = agent.get("resume")
        if wanted is None:
            wanted = resume and agent["type"] in RESUMABLE and simple_command(agent["command"])
        if wanted and not simple_command(agent["command"]):
            raise TeamError("agent %r: resume needs its command to be the CLI with its arguments alone (no list, "
                            "pipe or assignment): %r; set what it needs in its environment, or remove resume"
                            % (agent["name"], agent["command"]))
        if wanted and agent["type"] not in RESUMABLE:
            raise TeamError("agent %r: resume works for Claude Code and Codex agents (its type is %s); remove it"
                            % (agent["name"], agent["type"]))
        if wanted and not hooks:
            raise TeamError("agent %r: resume needs orchestration_hooks: true (its CLI's hooks record the "
                            "conversation a restart resumes)" % agent["name"])
        agent["resume"] = bool(wanted)
    return agents


def conversations(agents: list[dict], team_dir: str | None) -> dict[str, str]:
    """{agent: conversation} for the agents that resume and whose hooks recorded one: what a pane started
    now resumes (read before the panes start, since a new conversation's first event records it too)."""
    found = {a["name"]: _hooks.recorded_session(team_dir, a["name"]) for a in agents if team_dir and a.get("resume")}
    return {name: session for name, session in found.items() if session}


def claude_hooks(agents: list[dict], bin_dir: str, team_dir: str) -> dict:
    """The hooks the project's Claude Code settings get so that each Claude Code agent reports its state ({}
    when the team has none)."""
    if not any(a["type"] == "claude" for a in agents):
        return {}
    return _hooks.claude_settings("%s/orchestra" % bin_dir, team_dir)


def limit_settings(limits: dict | None) -> dict:
    """The limit policy as the dispatcher takes it: {policy, retry_seconds} from {policy, retry_minutes}."""
    limits = dict(limits or {})
    policy = limits.pop("policy", None) or "hold"
    if policy not in _dispatch_config.LIMIT_POLICIES:
        raise TeamError("orchestration_limit_policy: %r is not one of %s" % (policy, ", ".join(_dispatch_config.LIMIT_POLICIES)))
    value = limits.pop("retry_minutes", None)
    try:
        minutes = float(value) if value not in (None, "") else 30.0
    except (TypeError, ValueError):
        raise TeamError("orchestration_limit_retry_minutes: %r is not a number of minutes" % (value,)) from None
    if minutes <= 0:
        raise TeamError("orchestration_limit_retry_minutes: %s must be more than 0" % value)
    if limits:
        raise TeamError("limits: unknown key(s) %s (policy, retry_minutes)" % ", ".join(sorted(limits)))
    return {"policy": policy, "retry_seconds": minutes * 60}


def stuck_seconds(stuck: dict | None) -> dict:
    """The stuck thresholds as the dispatcher takes them: minutes (0 or None: never) as seconds, and the nudge."""
    stuck = dict(stuck or {})
    out = {"nudge": str(stuck.pop("nudge", None) or "")}
    for key in ("busy", "dialog"):
        value = stuck.pop("%s_minutes" % key, None)
        try:
            minutes = float(value) if value not in (None, "") else 0.0
        except (TypeError, ValueError):
            raise TeamError("orchestration_stuck_%s_minutes: %r is not a number of minutes" % (key, value)) from None
        if minutes < 0:
            raise TeamError("orchestration_stuck_%s_minutes: %s is negative; give 0 for never" % (key, value))
        out["%s_seconds" % key] = minutes * 60 if minutes else None
    if stuck:
        raise TeamError("stuck: unknown key(s) %s (busy_minutes, dialog_minutes, nudge)" % ", ".join(sorted(stuck)))
    return out


def typed_prompts(agents: list[dict], team_dir: str) -> list[dict]:
    """The ``messages`` of tmux_send that give each agent taking no prompt argument its initial prompt, each
    clearing its pane's pending note once typed (or queued)."""
    return [{"pane": a["name"], "agent_type": a["type"], "src": "%s/prompts/%s.md" % (team_dir, a["name"]),
             "clear_pending": True}
            for a in agents if a["typed_prompt"]]
