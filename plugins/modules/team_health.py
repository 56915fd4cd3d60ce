#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: team_health
short_description: One health report for the team of agents
version_added: 0.1.0
author:
  - Moana Orchestration maintainers (@moana)
description:
  - Reads, in one call, everything the team's health depends on (the tmux session
    and each agent's pane, the agent's state read from its screen, the board, the
    proxy and the dispatcher, through the same code as
    M(moana.orchestration.tmux_session_info), M(moana.orchestration.board_info) and
    M(moana.orchestration.background_process_info)) and turns it into one report,
    a table a person reads at a glance and the same data for machines, with every
    problem named.
  - Only reads; the role fails the play when RV(healthy) is false.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - moana.orchestration.tmux_socket
options:
  agents:
    description:
      - The team's agents, as M(moana.orchestration.team) returns them (name, role, type).
    type: list
    elements: dict
    required: true
  session:
    description:
      - Name of the team's tmux session.
    type: str
    required: true
  board:
    description:
      - Path of the team's board.
    type: path
    required: true
  stale_minutes:
    description:
      - Tasks in progress for longer than this many minutes are a problem. Omit to never flag them.
    type: float
  proxy:
    description:
      - The proxy, when the team uses it (see M(moana.orchestration.background_process)). Not
        running, unhealthy or, with O(proxy.listen=loopback), listening on an address other machines
        can reach is a problem.
    type: dict
    suboptions:
      name:
        description: Name of the process.
        type: str
        required: true
      pidfile:
        description: Its pidfile. Default C(~/.local/state/moana-orchestration/NAME.pid).
        type: path
      readiness:
        description: Its health probe, as in M(moana.orchestration.background_process).
        type: dict
      listen:
        description: Where it may listen, as in M(moana.orchestration.background_process).
        type: str
        choices: [any, loopback]
        default: any
  dispatcher:
    description:
      - The dispatcher, when the team runs one. Not running is a problem.
      - With O(dispatcher.state_file) and O(dispatcher.queue_dir), health also names what keeps the team from
        moving (see O(stuck_minutes)).
    type: dict
    suboptions:
      name:
        description: Name of the process.
        type: str
        required: true
      pidfile:
        description: Its pidfile. Default C(~/.local/state/moana-orchestration/NAME.pid).
        type: path
      readiness:
        description: Its health probe, as in M(moana.orchestration.background_process).
        type: dict
      state_file:
        description:
          - The dispatcher's memory (C(dispatch-state.json) in the team's directory), which holds the board it
            follows and the notices it delivered. Its status file (each agent's screen state and since when) is read from
            beside it (C(dispatch-state.status.json)).
        type: path
      queue_dir:
        description:
          - The dispatcher's queue (C(queue) in the team's directory), where the initial prompts of agents that
            take them typed wait until the agent is idle.
        type: path
  stuck_minutes:
    description:
      - How long something may wait before it is a problem, each named with its fix; needs
        O(dispatcher.state_file) (and O(dispatcher.queue_dir) for the prompts).
      - A PENDING task whose worker has been idle this long and was never told; a message older than this
        never told to its recipient (unless the recipient is busy); a message (an initial prompt) queued this
        long for an agent; notices due this long and not delivered to idle agents while the dispatcher runs.
        A memory of another board than the board (its identity) is a problem at once.
      - V(0) turns these checks off.
    type: float
    default: 10
  dialog_minutes:
    description:
      - How long an agent may wait for a person (a login, trust or permission dialog on its screen) before it
        is a problem. Known from the dispatcher's status file; an agent waiting for a person since a time
        nobody knows is a problem at once.
      - V(0) makes any wait a problem.
    type: float
    default: 5
  log_dir:
    description:
      - The team's log directory, shown in the report.
    type: str
    default: ""
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details:
      - The module only reads.
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Check the team
  moana.orchestration.team_health:
    agents: "{{ orchestration_plan.agents }}"
    session: moana-orchestration
    board: /home/julien/project/CLAUDE.md
    stale_minutes: 60
    proxy:
      name: antigravity-proxy
      readiness: {url: "http://127.0.0.1:8080/health", json_path: counts.available, json_op: gt, json_value: 0}
      listen: loopback
    dispatcher:
      name: orchestra-dispatcher
      pidfile: /home/julien/.local/share/moana-orchestration/team/dispatcher.pid
      state_file: /home/julien/.local/share/moana-orchestration/team/dispatch-state.json
      queue_dir: /home/julien/.local/share/moana-orchestration/team/queue
    stuck_minutes: 10
    dialog_minutes: 5
  register: health

- name: Show it
  ansible.builtin.debug:
    msg: "{{ health.text.split('\n') }}"
"""

RETURN = r"""
healthy:
  description: Nothing is wrong.
  returned: always
  type: bool
problems:
  description: Every problem found, one sentence each with what to do.
  returned: always
  type: list
  elements: str
text:
  description: The report as a table for people.
  returned: always
  type: str
report:
  description:
    - The report as data (agents, proxy, dispatcher, board, log_dir, problems, stuck).
    - C(stuck) lists what keeps the team from moving, each item with its C(fix) - C(tasks) (task, agent,
      seconds), C(messages) (message, agents, seconds), C(prompts) (agent, queued, seconds, state), C(dialogs)
      (agent, seconds) and C(dispatcher) (reason, and the boards or agents concerned).
    - C(proxy) has C(listening) (the addresses it listens on) and C(exposed) (those other machines can reach).
    - Each agent's C(state_seconds) says how long its screen has shown its state, when the dispatcher's status
      file tells.
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.moana.orchestration.plugins.module_utils import _health, _process, _tmux
from ansible_collections.moana.orchestration.plugins.module_utils import _board as board_lib


# What names a background process: as background_process_info takes it (the pidfile a path, so ~ expands).
PROCESS_OPTIONS = {"name": {"type": "str", "required": True}, "pidfile": {"type": "path"},
                   "readiness": {"type": "dict"}}
# The dispatcher's also name its memory and its queue.
DISPATCHER_OPTIONS = dict(PROCESS_OPTIONS, state_file={"type": "path"}, queue_dir={"type": "path"})
# The proxy's say where it may listen.
PROXY_OPTIONS = dict(PROCESS_OPTIONS, listen={"type": "str", "choices": list(_process.LISTEN_CHOICES), "default": "any"})


def main():
    module = AnsibleModule(
        argument_spec={
            "agents": {"type": "list", "elements": "dict", "required": True},
            "session": {"type": "str", "required": True},
            "board": {"type": "path", "required": True},
            "stale_minutes": {"type": "float"},
            "proxy": {"type": "dict", "options": PROXY_OPTIONS},
            "dispatcher": {"type": "dict", "options": DISPATCHER_OPTIONS},
            "stuck_minutes": {"type": "float", "default": 10},
            "dialog_minutes": {"type": "float", "default": 5},
            "log_dir": {"type": "str", "default": ""},
            **_tmux.SOCKET_OPTIONS,
        },
        mutually_exclusive=[("socket_name", "socket_path")],
        supports_check_mode=True,
    )
    params = module.params
    try:
        facts = _health.gather(params["agents"], params["session"], params["board"], params["socket_name"],
                               params["socket_path"], params["stale_minutes"], params["proxy"], params["dispatcher"])
    except (_tmux.TmuxError, board_lib.BoardError, _process.ProcessError) as exc:
        module.fail_json(msg=str(exc))
    data = _health.report(params["agents"], facts["session"], facts["board"], facts["proxy"], params["log_dir"],
                          dispatcher=facts["dispatcher"], stuck_minutes=params["stuck_minutes"] or None,
                          dialog_minutes=params["dialog_minutes"] or None)
    module.exit_json(changed=False, healthy=data["healthy"], problems=data["problems"], text=_health.render(data),
                     report=data)


if __name__ == "__main__":
    main()
