# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The team as data: validate the agents' configuration and derive what runs where.

Pure logic, standard library only. Everything about the team is checked here,
before anything starts (unknown keys, duplicate names, no orchestrator, a
routing table naming a missing agent), and turned into the tmux windows and
panes ``tmux_session`` builds, with each agent's environment.

The default layout is the original scripts': window ``main`` tiled with the
orchestrator, the workers and, in third place (bottom left of a 2x2), a live
view of the proxy's log; agents that talk through the proxy get a window of
their own. Larger teams spill into ``main-2``, ``main-3``... by
``panes_per_window``; an agent's ``window`` key puts it anywhere.
"""

from __future__ import annotations

import shlex

from ansible_collections.moana.orchestration.plugins.module_utils import _dispatch_config

ROLES = ("orchestrator", "worker")
COMPLEXITIES = ("high", "medium", "low")
# The types whose screens _agents.PATTERNS knows how to read (a unit test keeps the two equal):
# importing _agents here would bring the tmux layer, 20 ms, into every playbook's first task.
AGENT_TYPES = ("claude", "codex", "amp", "generic", "simulated")
AGENT_KEYS = ("name", "role", "command", "complexity", "uses_proxy", "type", "window", "environment", "auto_restart")
PROXY_PANE = "proxy"
# CLIs that take the first prompt on their command line; the others get it typed once they are idle.
PROMPT_AS_ARGUMENT = ("claude", "codex")


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
        environment = raw.get("environment") or {}
        if not isinstance(environment, dict):
            raise TeamError("%s: environment must be a mapping of NAME: value" % where)
        agent = {
            "name": name, "role": role, "command": command.strip(), "complexity": complexity,
            "uses_proxy": boolean(raw.get("uses_proxy", False), where + ": uses_proxy"), "window": raw.get("window") or None,
            "environment": {str(k): str(v) for k, v in environment.items()},
            "auto_restart": boolean(raw.get("auto_restart", False), where + ": auto_restart"),
        }
        agent["type"] = raw.get("type") or agent_type(agent)
        if agent["type"] not in AGENT_TYPES:
            raise TeamError("%s: type %r must be one of %s" % (where, agent["type"], ", ".join(AGENT_TYPES)))
        agent["typed_prompt"] = agent["type"] not in PROMPT_AS_ARGUMENT
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


def missing_programs(which=None, find_spec=None) -> str | None:
    """What the target lacks to run a team (tmux on PATH, libtmux for this Python), with the fix; None when
    nothing. Looked up, never imported: importing libtmux costs tens of milliseconds."""
    import importlib.util
    import shutil

    which = which or shutil.which
    find_spec = find_spec or importlib.util.find_spec
    if not which("tmux"):
        return "tmux is not installed on the target (no tmux on PATH): run playbooks/install.yml or install the tmux package"
    if find_spec("libtmux") is None:
        return ("the Python that runs the modules on the target cannot import libtmux: run playbooks/install.yml "
                "or install python3-libtmux")
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


# What each CLI leaves on; amp and generic programs are ended by the stop's signals.
EXIT_TEXT = {"claude": "/exit", "codex": "/quit", "simulated": "/exit"}


def agent_command(agent: dict, prompt_file: str | None, bin_dir: str, path: tuple | list = ()) -> str:
    """The pane's command: the agent's CLI, with its initial prompt as argument where the CLI takes one.

    The pane runs it through the user's shell, whose start-up files may set
    PATH again, so the `orchestra` command's directory is put first on PATH
    in the command itself rather than in the pane's environment, followed by
    ``path`` (where install.yml put the CLIs). Other CLIs get their prompt
    typed once they are ready.
    """
    command = agent["command"]
    if prompt_file and agent["type"] in PROMPT_AS_ARGUMENT:
        command = '%s "$(cat %s)"' % (command, shlex.quote(prompt_file))
    return 'export PATH=%s:"$PATH"; %s' % (":".join(shlex.quote(d) for d in [bin_dir, *path]), command)


def agent_variables(agent: dict, board: str, routing: dict[str, str], proxy_url: str | None) -> dict[str, str]:
    """Plain variables of an agent's pane (shown in output): how to reach the board and the proxy."""
    variables = {"ORCHESTRA_AGENT": agent["name"], "ORCHESTRA_BOARD": board, "ORCHESTRA_ROUTING": routing_text(routing)}
    if agent["uses_proxy"] and proxy_url:
        variables["ANTHROPIC_BASE_URL"] = proxy_url
    return variables


def agent_environment(agent: dict) -> dict[str, str]:
    """Secret variables of an agent's pane (never shown): its own environment."""
    environment = {"ANTHROPIC_AUTH_TOKEN": "dummy"} if agent["uses_proxy"] else {}  # the proxy holds the real keys (a token raises no dialog)
    environment.update(agent["environment"])
    return environment


def windows(agents: list[dict], routing: dict[str, str], board: str, bin_dir: str, log_dir: str,
            prompts_dir: str | None = None, proxy_log: str | None = None, proxy_url: str | None = None,
            panes_per_window: int = 4, path: tuple | list = ()) -> list[dict]:
    """The ``windows`` option of tmux_session for the whole team (commands, environments, pane logs)."""
    by_name = {agent["name"]: agent for agent in agents}
    result = []
    for window in layout(agents, proxy_log, panes_per_window):
        panes = []
        for name in window["panes"]:
            if name == PROXY_PANE:
                panes.append({"name": PROXY_PANE, "command": "tail -n 100 -F %s" % shlex.quote(proxy_log)})
                continue
            agent = by_name[name]
            prompt = "%s/%s.md" % (prompts_dir, name) if prompts_dir else None
            panes.append({
                "name": name,
                "command": agent_command(agent, prompt, bin_dir, path),
                "variables": agent_variables(agent, board, routing, proxy_url),
                "environment": agent_environment(agent),
                "log_file": "%s/%s.log" % (log_dir, name),
                "exit_text": EXIT_TEXT.get(agent["type"]),
            })
        result.append({"name": window["name"], "layout": "tiled", "panes": panes})
    return result


def dispatcher_config(agents: list[dict], routing: dict[str, str], session: str, board: str, team_dir: str,
                      socket_name: str | None = None, proxy_url: str | None = None, restart: dict | None = None,
                      scan: float = 5.0, status_line: bool = True) -> dict:
    """The dispatcher's configuration (``orchestra dispatch --config``): who is who, where things are.

    Holds no value of any variable, only names: on a restart the dispatcher
    reuses the values it read from the agent's live process.
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
            "auto_restart": a["auto_restart"],
            "environment_names": sorted(set(agent_variables(a, board, routing, proxy_url)) | set(agent_environment(a))),
        } for a in agents],
        "restart": dict(restart or {}),
        "status_line": status_line,
        "scan": scan,
    }
    try:  # the dispatcher's own checks, so that what is built here is what it reads
        return _dispatch_config.check(config, "the dispatcher's configuration")
    except _dispatch_config.ConfigError as exc:
        raise TeamError(str(exc)) from None


def typed_prompts(agents: list[dict], team_dir: str) -> list[dict]:
    """The ``messages`` of tmux_send that give each agent taking no prompt argument its initial prompt."""
    return [{"pane": a["name"], "agent_type": a["type"], "src": "%s/prompts/%s.md" % (team_dir, a["name"])}
            for a in agents if a["typed_prompt"]]
