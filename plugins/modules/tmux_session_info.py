#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tmux_session_info
short_description: Facts about a tmux session, its windows and panes
version_added: 0.1.0
author:
  - Moana Orchestration maintainers (@moana)
description:
  - Reads a session's windows and panes (name, id, pid, foreground command,
    dead or alive with exit status, last activity) and optionally the last lines
    of each pane's screen.
  - A missing session (or a tmux server that is not running) is not an error; the
    module returns RV(exists=false).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - moana.orchestration.tmux_socket
options:
  name:
    description:
      - Name of the session.
    type: str
    required: true
  lines:
    description:
      - Return the last O(lines) lines of each pane's screen in RV(panes[].screen).
        V(0) returns none.
    type: int
    default: 0
  agent_types:
    description:
      - Pane name to agent type (V(claude), V(codex), V(amp), V(generic), V(simulated)). Each of
        these panes gets RV(panes[].state), read from its screen and process (the same
        state twice in a row).
    type: dict
    default: {}
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details:
      - The module only reads.
  diff_mode:
    support: none
seealso:
  - module: moana.orchestration.tmux_session
"""

EXAMPLES = r"""
- name: Read the team's session with the last 20 lines of each pane
  moana.orchestration.tmux_session_info:
    name: moana-orchestration
    lines: 20
  register: session

- name: Fail when an agent's pane is dead
  ansible.builtin.assert:
    that: session.panes | selectattr('dead') | list | length == 0
    fail_msg: "dead panes: {{ session.panes | selectattr('dead') | map(attribute='name') | join(', ') }}"
"""

RETURN = r"""
exists:
  description: Whether the session exists.
  returned: always
  type: bool
session_id:
  description: tmux id of the session; null when it does not exist.
  returned: always
  type: str
  sample: $0
windows:
  description: The session's windows, by index.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Window name from the description, else tmux's name.
      type: str
    window_id:
      description: tmux window id.
      type: str
    index:
      description: Window index.
      type: int
    layout:
      description: Layout name set by M(moana.orchestration.tmux_session), empty otherwise.
      type: str
    remain_on_exit:
      description: Dead panes stay on screen.
      type: bool
    panes:
      description: Names (or ids, for panes made by hand) of the window's panes.
      type: list
      elements: str
panes:
  description: Every pane of the session, window by window.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Pane name given by M(moana.orchestration.tmux_session), empty for panes made by hand.
      type: str
    pane_id:
      description: tmux pane id.
      type: str
    window:
      description: Name of the pane's window.
      type: str
    window_id:
      description: tmux id of the pane's window.
      type: str
    window_index:
      description: Index of the pane's window.
      type: int
    pane_index:
      description: Index of the pane in its window.
      type: int
    pid:
      description: Process id of the pane's command.
      type: int
    current_command:
      description: Name of the program in the foreground of the pane (C(pane_current_command)).
      type: str
    start_command:
      description: The command the pane was started with, as tmux shows it.
      type: str
    alive:
      description: The pane's process is running.
      type: bool
    dead:
      description: The pane's process exited and the pane remains on screen.
      type: bool
    dead_status:
      description: Exit status of a dead pane's process.
      type: int
    dead_signal:
      description: Signal that ended a dead pane's process.
      type: int
    logging:
      description: The pane's output is piped to a log file.
      type: bool
    title:
      description: The pane's current title.
      type: str
    activity:
      description: >-
        Time of the last activity in the pane's window, in seconds since the epoch
        (tmux 3.3 keeps activity per window, not per pane).
      type: int
    screen:
      description: The last O(lines) lines of the pane's screen, trailing blank lines dropped.
      type: list
      elements: str
    state:
      description: >-
        For panes in O(agent_types): C(starting), C(idle) (at its prompt), C(busy), C(waiting)
        (a login, trust or permission dialog that needs a person), C(dead) (pane dead, or the
        CLI exited to a shell) or C(unknown).
      type: str
      returned: when O(lines) > 0
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.moana.orchestration.plugins.module_utils._agents import PATTERNS, add_states
from ansible_collections.moana.orchestration.plugins.module_utils._tmux import (
    SOCKET_OPTIONS,
    TmuxError,
    capture,
    open_server,
    read_session,
    session_facts,
)


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "lines": {"type": "int", "default": 0},
            "agent_types": {"type": "dict", "default": {}},
            **SOCKET_OPTIONS,
        },
        supports_check_mode=True,
        mutually_exclusive=[("socket_name", "socket_path")],
    )
    if module.params["lines"] < 0:
        module.fail_json(msg="lines must be 0 or more, got %d" % module.params["lines"])
    bad = sorted("%s: %s" % (k, v) for k, v in module.params["agent_types"].items() if v not in PATTERNS)
    if bad:
        module.fail_json(msg="agent_types: unknown type(s) %s; use one of %s" % (", ".join(bad), ", ".join(PATTERNS)))
    try:
        server = open_server(module.params["socket_name"], module.params["socket_path"], creating=False)
        facts = session_facts(read_session(server, module.params["name"]))
        add_states(server, facts["panes"], module.params["agent_types"])
        if module.params["lines"]:
            for pane in facts["panes"]:
                pane["screen"] = capture(server, pane["pane_id"], module.params["lines"])
    except TmuxError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
