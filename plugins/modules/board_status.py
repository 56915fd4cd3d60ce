#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: board_status
short_description: Set agents' states in the board's Current LLM Status table
version_added: 0.1.0
author:
  - Moana Orchestration maintainers (@moana)
description:
  - Sets the state (V(IDLE), V(IN_PROGRESS), V(BLOCKED), V(OFFLINE)), and optionally the
    role and current task, of any number of agents in one locked, atomic update of the
    board. Rows that already say so are left alone, so a second run changes nothing.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - moana.orchestration.board
options:
  names:
    description:
      - The agents to set.
    type: list
    elements: str
    required: true
  state:
    description:
      - Their state.
    type: str
    required: true
    choices: [IDLE, IN_PROGRESS, BLOCKED, OFFLINE]
  roles:
    description:
      - Agent name to role, shown in the table (agents not named keep theirs).
    type: dict
    default: {}
  task:
    description:
      - Their current task id; V(IDLE) and V(OFFLINE) clear it when omitted.
    type: str
  resumed:
    description:
      - Agent to the conversation it was started in again (the role's C(orchestration_resume)). For each one
        among O(names), O(tell) aside, the same update sends O(tell) a board message that it came back with
        its context. Each run that names them sends it.
    type: dict
  tell:
    description:
      - The agent told of the O(resumed) agents (the orchestrator). Needed by O(resumed).
    type: str
  missing:
    description:
      - What to do when the board does not exist. V(fail) says so; V(skip) changes nothing and returns
        RV(exists) false (stop's last step on a team whose board was removed).
    type: str
    choices: [fail, skip]
    default: fail
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: full
seealso:
  - module: moana.orchestration.board_info
"""

EXAMPLES = r"""
- name: Mark the whole team OFFLINE
  moana.orchestration.board_status:
    path: /home/julien/project/CLAUDE.md
    names: [claude, amp, antigravity, codex]
    state: OFFLINE
"""

RETURN = r"""
agents:
  description: The rows of the agents set, as the board has them after the run.
  returned: success
  type: list
  elements: dict
told:
  description: The messages sent of agents that came back in their own conversation (O(resumed)).
  returned: success
  type: list
  elements: dict
  contains:
    id:
      description: The message's id.
      type: str
    agent:
      description: The agent that came back.
      type: str
    session:
      description: The conversation it resumes.
      type: str
exists:
  description: Whether the board exists (false only with O(missing=skip)).
  returned: success
  type: bool
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.moana.orchestration.plugins.module_utils import _board as board_lib, _hooks


def main():
    module = AnsibleModule(
        argument_spec={
            **board_lib.BOARD_OPTIONS,
            "names": {"type": "list", "elements": "str", "required": True},
            "state": {"type": "str", "required": True, "choices": list(board_lib.AGENT_STATES)},
            "roles": {"type": "dict", "default": {}},
            "task": {"type": "str"},
            "resumed": {"type": "dict"},
            "tell": {"type": "str"},
            "missing": {"type": "str", "choices": ["fail", "skip"], "default": "fail"},
        },
        required_by={"resumed": "tell"},
        supports_check_mode=True,
    )
    params = module.params
    resumed = [(name, (params["resumed"] or {}).get(name)) for name in params["names"] if name != params["tell"]]

    def operation(board):
        rows = [board_lib.status_facts(board_lib.set_status(board, name, params["state"], params["task"],
                                                            params["roles"].get(name)))
                for name in params["names"]]
        told = []
        for name, session in resumed:
            if session:
                text = "%s was started again; %s" % (name, _hooks.resumed_words(session))
                entry = board_lib.send_message(board, board_lib.SENDER, params["tell"], text)
                told.append({"id": entry.entry_id, "agent": name, "session": session})
        return rows, told

    if params["missing"] == "skip" and not os.path.exists(params["path"]):
        module.exit_json(changed=False, agents=[], told=[], exists=False)
    try:
        outcome = board_lib.transact(params["path"], operation, params["lock_timeout"], write=not module.check_mode)
    except board_lib.BoardError as exc:
        module.fail_json(msg=str(exc))
    rows, told = outcome.result
    result = {"changed": outcome.changed, "agents": rows, "told": told, "exists": True}
    if module._diff:
        result["diff"] = outcome.diff(params["path"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
