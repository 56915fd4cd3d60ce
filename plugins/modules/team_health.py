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
  - Turns the facts of M(moana.orchestration.tmux_session_info),
    M(moana.orchestration.board_info) and M(moana.orchestration.background_process_info)
    into one report (each agent's pane, its state read from the screen, its board state
    and task, its idle time; the proxy; the dispatcher; the board), a table a person reads at a glance and the same data for
    machines, with every problem named. Only computes; the role fails the play when
    RV(healthy) is false.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  agents:
    description:
      - The team's agents, as M(moana.orchestration.team) returns them.
    type: list
    elements: dict
    required: true
  session:
    description:
      - The result of M(moana.orchestration.tmux_session_info) for the team's session.
    type: dict
    required: true
  board:
    description:
      - The result of M(moana.orchestration.board_info) for the team's board.
    type: dict
    required: true
  proxy:
    description:
      - The result of M(moana.orchestration.background_process_info) for the proxy, when
        the team uses it.
    type: dict
  log_dir:
    description:
      - The team's log directory, shown in the report.
    type: str
    default: ""
  dispatcher:
    description:
      - The result of M(moana.orchestration.background_process_info) for the dispatcher, when
        the team runs one; not running is a problem.
    type: dict
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: none
"""

EXAMPLES = r"""
- name: Build the report
  moana.orchestration.team_health:
    agents: "{{ orchestration_plan.agents }}"
    session: "{{ session_facts }}"
    board: "{{ board_facts }}"
  register: health
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
  description: The report as data (agents, proxy, board, log_dir, problems).
  returned: always
  type: dict
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.moana.orchestration.plugins.module_utils import _health


def main():
    module = AnsibleModule(
        argument_spec={
            "agents": {"type": "list", "elements": "dict", "required": True},
            "session": {"type": "dict", "required": True},
            "board": {"type": "dict", "required": True},
            "proxy": {"type": "dict"},
            "log_dir": {"type": "str", "default": ""},
            "dispatcher": {"type": "dict"},
        },
        supports_check_mode=True,
    )
    params = module.params
    data = _health.report(params["agents"], params["session"], params["board"], params["proxy"], params["log_dir"],
                          dispatcher=params["dispatcher"])
    module.exit_json(changed=False, healthy=data["healthy"], problems=data["problems"], text=_health.render(data),
                     report=data)


if __name__ == "__main__":
    main()
