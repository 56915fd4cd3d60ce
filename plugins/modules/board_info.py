#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: board_info
short_description: The board's tasks, completions, agent states and messages as facts
version_added: 0.1.0
author:
  - Moana Orchestration maintainers (@moana)
description:
  - Parses the team board (C(CLAUDE.md)) without locking it (writers replace it
    atomically, so it is always whole) and returns its content as data.
  - A missing board is not an error (RV(exists=false)); a malformed one fails with
    the line and the problem.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - moana.orchestration.board
options:
  stale_after:
    description:
      - Report in RV(stale_tasks) the tasks V(IN_PROGRESS) for longer than this
        many minutes (counted from Started, else Date).
    type: float
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
  - module: moana.orchestration.board
  - module: moana.orchestration.board_task
"""

EXAMPLES = r"""
- name: Read the board
  moana.orchestration.board_info:
    path: /home/julien/project/CLAUDE.md
    stale_after: 60
  register: board

- name: Warn about tasks stuck in progress
  ansible.builtin.debug:
    msg: "in progress for over an hour: {{ board.stale_tasks | join(', ') }}"
  when: board.stale_tasks | length > 0
"""

RETURN = r"""
exists:
  description: Whether the board file exists.
  returned: always
  type: bool
board_id:
  description: >-
    The board's identity, from the C(<!-- board-id: ... -->) line of its task queue
    (written when M(moana.orchestration.board) creates or adopts the sections); it does
    not change while the board lives, so what is remembered about a board can be keyed
    on it. Null for a board without one.
  returned: always
  type: str
  sample: 3f9a0c5e21d47b86
sections:
  description: Managed sections present, in file order.
  returned: always
  type: list
  elements: str
tasks:
  description: Tasks in the queue, in board order (id, title, assigned_to, priority, status, description, files, date, started, reason).
  returned: always
  type: list
  elements: dict
tasks_by_status:
  description: Task ids by status.
  returned: always
  type: dict
  sample: {PENDING: [TASK-003], IN_PROGRESS: [TASK-001]}
tasks_by_agent:
  description: Task ids by assigned agent.
  returned: always
  type: dict
completions:
  description: Completion log entries still on the board (id, completed_by, date, duration, changes, files).
  returned: always
  type: list
  elements: dict
agents:
  description: The status table (agent, role, state, task, updated).
  returned: always
  type: list
  elements: dict
messages:
  description: Messages on the board (id, from, to, date, text).
  returned: always
  type: list
  elements: dict
stale_tasks:
  description: Ids of tasks in progress for longer than O(stale_after) minutes.
  returned: always
  type: list
  elements: str
"""


from ansible.module_utils.basic import AnsibleModule
from ansible_collections.moana.orchestration.plugins.module_utils import _board as board_lib


def main():
    module = AnsibleModule(
        argument_spec={
            **board_lib.BOARD_OPTIONS,
            "stale_after": {"type": "float"},
        },
        supports_check_mode=True,
    )
    try:
        facts = board_lib.info(module.params["path"], module.params["stale_after"])
    except board_lib.BoardError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
