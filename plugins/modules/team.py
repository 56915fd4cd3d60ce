#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: team
short_description: Validate the team of agents and plan its tmux windows
version_added: 0.1.0
author:
  - Moana Orchestration maintainers (@moana)
description:
  - Checks the whole team configuration before anything starts and fails with the
    agent, the key and the fix (unknown keys, duplicate names, not exactly one
    orchestrator, a routing table naming an agent that is not a worker).
  - Derives the complexity routing table (each complexity to the first worker that
    declares it, unless O(routing) is given) and the O(ignore:windows) to pass to
    M(moana.orchestration.tmux_session). The layout is the original scripts'
    (window C(main) tiled with the orchestrator, the workers and, third, a live view
    of the proxy's log; agents using the proxy in a window of their own), grown
    over C(main-2), C(main-3)... beyond O(panes_per_window) panes.
  - Each agent's pane command exports C(ORCHESTRA_AGENT), C(ORCHESTRA_BOARD),
    C(ORCHESTRA_ROUTING) and, for agents using the proxy, C(ANTHROPIC_BASE_URL) (and
    C(ANTHROPIC_API_KEY=dummy) unless the agent sets it), puts the C(orchestra) command first
    on C(PATH), then runs the agent's CLI (with C(exec) when it is one simple command, so the
    pane's process is the agent's); Claude Code and Codex get their initial prompt file as argument.
    All of it is in the command, so a respawn (the dispatcher's auto-restart) gets it again.
  - An agent's own C(environment) (API keys, tokens) is never in the result. The plan names
    its file (O(team_dir)C(/env/NAME.env), written by M(moana.orchestration.orchestra_home)
    with O(moana.orchestration.orchestra_home#module:secrets)), which the pane's shell reads
    before it runs the agent. Only the names are needed here; Ansible masks every occurrence
    of a value given here in the result, so give the names with empty values (as the
    orchestration role does) when the result is used.
  - With O(session), also checks that the target has what the session needs (the C(tmux)
    program), so that nothing is written on a target that cannot run the team.
  - Only computes and reads; changes nothing.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  agents:
    description:
      - The agents. An unknown key, a missing name or a value of the wrong type fails naming
        the agent (its place in the list, or its name) and the key.
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description:
          - Name of the agent, unique in the team (letters, digits, C(-), C(_); not C(proxy)).
        type: str
        required: true
      role:
        description:
          - What the agent does, V(orchestrator) (exactly one) or V(worker).
        type: str
        required: true
      command:
        description:
          - The CLI the agent's pane runs.
        type: str
        required: true
      complexity:
        description:
          - The complexity of the tasks a worker takes, V(high), V(medium) or V(low) (the routing table sends
            each to the first worker declaring it).
        type: str
      uses_proxy:
        description:
          - The agent talks to the antigravity-claude-proxy (its own window, C(ANTHROPIC_BASE_URL)).
        type: bool
        default: false
      type:
        description:
          - The CLI family (how the prompt is given, how the screen is read), V(claude), V(codex), V(amp),
            V(generic) or V(simulated); guessed from the command.
        type: str
      window:
        description:
          - The window the agent's pane goes into, instead of the default layout's.
        type: str
      auto_restart:
        description:
          - The dispatcher respawns the agent when its pane dies (within its rate limit).
        type: bool
        default: false
      resume:
        description:
          - The agent resumes its own last conversation when restarted (default O(resume), for C(claude) and
            C(codex) agents).
        type: bool
      environment:
        description:
          - The agent's own variables (API keys, tokens), NAME to value. Never returned nor logged;
            the result names them only. The values reach the agent through its env file (see above).
        type: dict
  routing:
    description:
      - "Complexity to worker name, such as C({high: antigravity, medium: amp, low: codex})."
    type: dict
  project_dir:
    description:
      - The directory the agents work in; when given, it must not be empty.
    type: str
  board:
    description:
      - Path of the board file the agents use. Without O(board), O(bin_dir) and O(log_dir)
        the team is only validated and RV(windows) is empty.
    type: path
  bin_dir:
    description:
      - Directory holding the C(orchestra) command, put first on each agent's C(PATH).
    type: path
  log_dir:
    description:
      - Directory of the panes' logs (C(NAME.log)).
    type: path
  prompts_dir:
    description:
      - Directory of the rendered initial prompts (C(NAME.md)).
    type: path
  proxy_log:
    description:
      - Log of the proxy, shown in the C(proxy) pane when an agent uses the proxy.
    type: path
  proxy_url:
    description:
      - Base URL of the proxy for agents with C(uses_proxy).
    type: str
    default: http://127.0.0.1:8080
  proxy_port:
    description:
      - Port of the proxy; checked to be a TCP port (1 to 65535) whether or not an agent uses the proxy.
    type: int
  proxy_pidfile:
    description:
      - With an agent using the proxy, fail when O(proxy_port) is already held by another program
        than the proxy recorded in this pidfile, naming the port and, when visible, the program.
    type: path
  path:
    description:
      - More directories put on each agent's C(PATH) after the C(orchestra) command's (such as the
        bin of the npm prefix install.yml puts the CLIs into).
    type: list
    elements: path
    default: []
  panes_per_window:
    description:
      - Most panes in one window before the next one is used.
    type: int
    default: 4
  session:
    description:
      - Name of the team's tmux session. With O(team_dir), RV(dispatcher) is the dispatcher's
        configuration for this session.
    type: str
  socket_name:
    description:
      - tmux socket name of the session (empty for the default server).
    type: str
  team_dir:
    description:
      - The team's own directory, with its prompts (C(prompts/NAME.md)), the dispatcher's memory and queue and the agents' env files (C(env/NAME.env)).
    type: path
  restart:
    description:
      - "Auto-restart limits for agents with C(auto_restart): C(max) restarts per C(window) seconds,
        the first after C(delay) seconds, each next one after twice the delay before."
    type: dict
  dispatcher_scan:
    description:
      - Seconds between the dispatcher's looks at the panes (status line, dead agents).
    type: float
    default: 5
  stuck:
    description:
      - When the dispatcher calls an agent stuck (told on the board to the orchestrator, in health, to
        O(notify)). C(busy_minutes) busy with an unchanged screen (timers, counts and spinners aside),
        C(dialog_minutes) waiting on a dialog; 0 is never. C(nudge), when not empty, is typed once into a
        stuck agent as soon as it is idle again.
    type: dict
  limits:
    description:
      - "An agent held by a usage or rate limit (its screen says so): C(policy) V(hold) keeps its PENDING tasks
        for it, V(reroute) hands them to another worker of the same complexity; it is told to go on once the
        reset time its screen gives has passed, or every C(retry_minutes) (30) when it gives none."
    type: dict
  notify:
    description:
      - Events sent to a person by the dispatcher, as JSON. A value that cannot work fails naming its key.
    type: dict
    suboptions:
      command:
        description:
          - A shell command, or a list of arguments; it gets the event on its standard input.
        type: raw
      webhook:
        description:
          - An http(s) URL with a host; the event is POSTed to it. A secret (it often holds a token), masked in
            the output and the target's log from the start, and left out of the dispatcher's file (RV(dispatcher));
            the dispatcher gets it in its environment.
        type: raw
      cooldown:
        description:
          - Seconds; each kind of event at most once in that long (600 when not given).
        type: raw
      timeout:
        description:
          - Seconds the command and each POST may take (10 when not given).
        type: raw
      retries:
        description:
          - How often a POST is retried on no answer, a 429 or a 5xx (3 when not given).
        type: raw
      events:
        description:
          - The kinds sent, among C(task_failed), C(waiting), C(stuck), C(limited), C(restarted),
            C(plan_complete) (all when not given).
        type: raw
  resume:
    description:
      - An agent of type C(claude) or C(codex) that is restarted (the dispatcher's auto-restart, a start after
        a reboot) resumes its own last conversation (C(claude --resume ID), C(codex resume ID)), which its
        CLI's hooks recorded (O(hooks) is required); without one it starts afresh with its prompt. An agent's
        own C(resume) wins over this. Only an agent whose C(command) is its CLI with its arguments alone can;
        this skips another, and its own C(resume) fails naming it.
    type: bool
    default: false
  hooks:
    description:
      - The agents' CLIs report their state themselves (the dispatcher and health prefer that report over the
        screen while it is fresh). Codex agents are started with a C(notify) program (C(-c notify=...), for
        their process only); RV(claude_hooks) is what the project's Claude Code settings need. Needs
        O(team_dir) and O(bin_dir).
    type: bool
    default: false
  auto_update:
    description:
      - Let Claude Code update itself. V(false) exports C(DISABLE_AUTOUPDATER=1) in the panes of agents
        of type C(claude), so an unattended team keeps the version it was started with.
    type: bool
    default: true
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: none
seealso:
  - module: moana.orchestration.tmux_session
"""

EXAMPLES = r"""
- name: Validate the team and plan its layout
  moana.orchestration.team:
    agents: "{{ orchestration_agents }}"
    board: /home/julien/project/CLAUDE.md
    bin_dir: /home/julien/.local/share/moana-orchestration/bin
    log_dir: /home/julien/project/logs
    prompts_dir: /home/julien/.local/share/moana-orchestration/prompts
    proxy_log: /home/julien/project/logs/proxy.log
  register: team

- name: Lay the team out in tmux
  moana.orchestration.tmux_session:
    name: moana-orchestration
    start_directory: /home/julien/project
    windows: "{{ team.windows }}"
"""

RETURN = r"""
agents:
  description: >-
    The agents, normalised (name, role, command, complexity, uses_proxy, type, window, auto_restart,
    typed_prompt, and environment as the sorted names of the agent's own variables, never their values).
  returned: always
  type: list
  elements: dict
orchestrator:
  description: Name of the orchestrator.
  returned: always
  type: str
routing:
  description: Complexity to worker.
  returned: always
  type: dict
  sample: {high: antigravity, medium: amp, low: codex}
routing_text:
  description: The routing table as C(ORCHESTRA_ROUTING) holds it.
  returned: always
  type: str
  sample: high=antigravity,medium=amp,low=codex
uses_proxy:
  description: Whether an agent talks through the proxy.
  returned: always
  type: bool
dispatcher:
  description: >-
    The dispatcher's configuration (C(orchestra dispatch --config)); empty without O(session) and O(team_dir).
    It names each agent's variables but holds none of their values.
  returned: always
  type: dict
typed_prompts:
  description: >-
    For agents whose CLI takes no prompt argument (Amp, generic, simulated), the
    O(moana.orchestration.tmux_send#module:messages) that type their initial prompt; empty without O(team_dir).
  returned: always
  type: list
  elements: dict
windows:
  description: >-
    The O(moana.orchestration.tmux_session#module:windows) option for the team (empty without O(board)).
    A pane whose agent has an C(environment) names its O(moana.orchestration.tmux_session#module:windows[].panes[].env_file);
    no value of it is here.
  returned: always
  type: list
  elements: dict
team_dir:
  description: O(team_dir) with C(~) expanded (empty without it).
  returned: always
  type: str
bin_dir:
  description: O(bin_dir) with C(~) expanded (empty without it).
  returned: always
  type: str
conversations:
  description: >-
    Agent to the conversation its hooks last recorded, for the agents that resume (O(resume), or their own
    C(resume)): what their pane resumes when it starts now. Empty without O(team_dir).
  returned: always
  type: dict
  sample: {codex: 01a23ada-acea-7501-b48a-09da7df25079}
claude_hooks:
  description: >-
    With O(hooks), the settings (C(hooks) for UserPromptSubmit, Stop, Notification and SessionStart, each
    running C(orchestra hook)) that the project's Claude Code settings need for its Claude Code agents to
    report their state; empty otherwise, or when the team has no Claude Code agent.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule, _load_params
from ansible_collections.moana.orchestration.plugins.module_utils import _notify, _process, _team

# Checked by _team.validate before these (with the agent's name in the message); the values each key takes
# are _team's (a normalised agent, as the team's record keeps it, has null where a key was not given).
AGENT_OPTIONS = {
    "name": {"type": "str", "required": True},
    "role": {"type": "str", "required": True},
    "command": {"type": "str", "required": True},
    "complexity": {"type": "str"},
    "uses_proxy": {"type": "bool", "default": False},
    "type": {"type": "str"},
    "window": {"type": "str"},
    "auto_restart": {"type": "bool", "default": False},
    "resume": {"type": "bool"},
    "environment": {"type": "dict", "no_log": True},
}


# Checked by _notify.check first (its messages name the key); the webhook's address often holds a token, so
# Ansible masks it from the start, in its log on the target and in a failure's invocation alike.
NOTIFY_OPTIONS = {key: {"type": "raw", "no_log": key == "webhook"} for key in _notify.DEFAULTS}


def secret_strings(raw: dict) -> set:
    """Every value given as a secret: the agents' environments and the notify webhook."""
    notify = raw.get("notify")
    webhook = notify.get("webhook") if isinstance(notify, dict) else None
    return _team.secret_strings(raw.get("agents")) | ({webhook} if isinstance(webhook, str) and webhook else set())


def check_first(raw) -> None:
    """Validate the agents and the notify settings as given, before the argument spec does, so that a mistake
    is named with the agent or the variable and the key (the spec's own messages name neither); fail with the
    secrets masked."""
    if not isinstance(raw, dict):  # no parameters to read (the argument spec is being introspected)
        return
    try:
        _team.validate(raw.get("agents"))
        if isinstance(raw.get("notify"), dict):
            _notify.check(raw["notify"], "orchestration_notify")
    except (_team.TeamError, _notify.NotifyError) as exc:
        # Every option as given (nothing more to refuse), nothing logged on the target, the values masked.
        module = AnsibleModule(argument_spec={key: {"type": "raw"} for key in raw if not key.startswith("_ansible_")},
                               supports_check_mode=True, no_log=True)
        module.no_log_values.update(secret_strings(raw))
        module.fail_json(msg=str(exc))


def main():
    check_first(_load_params())
    module = AnsibleModule(
        argument_spec={
            "agents": {"type": "list", "elements": "dict", "required": True, "options": AGENT_OPTIONS},
            "routing": {"type": "dict"},
            "project_dir": {"type": "str"},
            "board": {"type": "path"},
            "bin_dir": {"type": "path"},
            "log_dir": {"type": "path"},
            "prompts_dir": {"type": "path"},
            "proxy_log": {"type": "path"},
            "proxy_url": {"type": "str", "default": "http://127.0.0.1:8080"},
            "panes_per_window": {"type": "int", "default": 4},
            "session": {"type": "str"},
            "socket_name": {"type": "str"},
            "team_dir": {"type": "path"},
            "proxy_port": {"type": "int"},
            "proxy_pidfile": {"type": "path"},
            "path": {"type": "list", "elements": "path", "default": []},
            "restart": {"type": "dict"},
            "dispatcher_scan": {"type": "float", "default": 5.0},
            "stuck": {"type": "dict"},
            "notify": {"type": "dict", "options": NOTIFY_OPTIONS},
            "limits": {"type": "dict"},
            "hooks": {"type": "bool", "default": False},
            "resume": {"type": "bool", "default": False},
            "auto_update": {"type": "bool", "default": True},
        },
        required_together=[("board", "bin_dir", "log_dir")],
        supports_check_mode=True,
    )
    params = module.params
    try:
        if params["project_dir"] is not None and not params["project_dir"].strip():
            raise _team.TeamError("orchestration_project_dir is required to start a team: give -e orchestration_project_dir=DIR "
                                  "(the directory the agents work in)")
        agents, routing = _team.validate(params["agents"], params["routing"])
        agents = _team.with_resume(agents, params["resume"], params["hooks"])
        windows = []
        if params["board"] and params["bin_dir"] and params["log_dir"]:
            windows = _team.windows(agents, routing, params["board"], params["bin_dir"], params["log_dir"],
                                    params["prompts_dir"], params["proxy_log"], params["proxy_url"],
                                    params["panes_per_window"], params["path"], params["team_dir"],
                                    params["auto_update"], params["hooks"] and bool(params["team_dir"]))
        dispatcher, prompts = {}, []
        if params["team_dir"]:
            prompts = _team.typed_prompts(agents, params["team_dir"])
        if params["session"] and params["team_dir"] and params["board"]:
            dispatcher = _team.dispatcher_config(agents, params["session"], params["board"], params["team_dir"],
                                                 params["socket_name"], params["restart"], params["dispatcher_scan"],
                                                 stuck=params["stuck"], notify=params["notify"],
                                                 hooks=params["hooks"], limits=params["limits"])
        if params["session"]:
            missing = _team.missing_programs()
            if missing:
                raise _team.TeamError(missing)
        port = params["proxy_port"]
        if port is not None and not 0 < port < 65536:
            raise _team.TeamError("orchestration_proxy_port: %d is not a TCP port; give a number from 1 to 65535" % port)
        if port is not None and params["proxy_pidfile"] and any(a["uses_proxy"] for a in agents):
            held = _process.held_by_other(port, params["proxy_pidfile"])
            if held:
                raise _team.TeamError("%s: stop that program or give this team another port "
                                      "(orchestration_proxy_port; in a fleet, a variable of this host)" % held)
    except _team.TeamError as exc:
        module.fail_json(msg=str(exc))
    # The agents' environments are no_log options (masked in the invocation and the target's log); the result
    # holds their names only.
    module.exit_json(
        changed=False,
        agents=agents,
        orchestrator=next(a["name"] for a in agents if a["role"] == "orchestrator"),
        routing=routing,
        routing_text=_team.routing_text(routing),
        uses_proxy=any(a["uses_proxy"] for a in agents),
        windows=windows,
        dispatcher=dispatcher,
        typed_prompts=prompts,
        team_dir=params["team_dir"] or "",
        bin_dir=params["bin_dir"] or "",
        conversations=_team.conversations(agents, params["team_dir"]),
        claude_hooks=_team.claude_hooks(agents, params["bin_dir"], params["team_dir"])
        if params["hooks"] and params["bin_dir"] and params["team_dir"] else {},
    )


if __name__ == "__main__":
    main()
