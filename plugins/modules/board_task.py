#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: board_task
short_description: Assign or update a task on the board
version_added: 0.1.0
author:
  - Moana Orchestration maintainers (@moana)
description:
  - Adds a task to the board's Task Assignment Queue, or updates one, in the
    board's markdown shape (C(### [TASK-001] Title) with Assigned To, Priority,
    Status, Description, Files Involved, Date).
  - With O(id), updates that task. Without it, a queued task with the same
    O(title) is updated, so a play can be run again; otherwise a new task is
    added with the next free id (ids are never reused).
  - Only the options given are changed.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - moana.orchestration.board
options:
  id:
    description:
      - Task id, such as V(TASK-007) (or V(7)).
    type: str
  title:
    description:
      - Task title. Required without O(id).
    type: str
  assigned_to:
    description:
      - Agent that should do the task. Required to add a task.
    type: str
  priority:
    description:
      - Task priority (new tasks default to V(MEDIUM)).
    type: str
    choices: [HIGH, MEDIUM, LOW]
  status:
    description:
      - Task status (new tasks default to V(PENDING)). Completing a task is the
        agent's job (C(orchestra task done)), which moves it to the completion log.
    type: str
    choices: [PENDING, IN_PROGRESS, BLOCKED, FAILED]
  description:
    description:
      - What to do; several lines are kept.
    type: str
  files:
    description:
      - Files involved.
    type: str
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: full
seealso:
  - module: moana.orchestration.board
  - module: moana.orchestration.board_info
"""

EXAMPLES = r"""
- name: Give Codex the unit tests
  moana.orchestration.board_task:
    path: /home/julien/project/CLAUDE.md
    title: Unit tests for the booking API
    assigned_to: codex
    priority: LOW
    files: src/api/booking.ts
  register: task

- name: Raise its priority later
  moana.orchestration.board_task:
    path: /home/julien/project/CLAUDE.md
    id: "{{ task.id }}"
    priority: HIGH
"""

RETURN = r"""
id:
  description: The task's id.
  returned: success
  type: str
  sample: TASK-007
created:
  description: Whether the task was added by this run.
  returned: success
  type: bool
task:
  description: The task as it is on the board after the run.
  returned: success
  type: dict
  contains:
    id:
      description: Task id.
      type: str
    title:
      description: Title.
      type: str
    assigned_to:
      description: Agent.
      type: str
    priority:
      description: HIGH, MEDIUM or LOW.
      type: str
    status:
      description: PENDING, IN_PROGRESS, BLOCKED or FAILED.
      type: str
    description:
      description: Description.
      type: str
    files:
      description: Files involved.
      type: str
    date:
      description: When it was assigned (C(YYYY-MM-DD HH:MM)).
      type: str
    started:
      description: When an agent started it, if it did.
      type: str
    reason:
      description: Why it failed, if it did.
      type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.moana.orchestration.plugins.module_utils import _board as board_lib

FIELDS = ("title", "assigned_to", "priority", "status", "description", "files")


def main():
    module = AnsibleModule(
        argument_spec={
            **board_lib.BOARD_OPTIONS,
            "id": {"type": "str"},
            "title": {"type": "str"},
            "assigned_to": {"type": "str"},
            "priority": {"type": "str", "choices": list(board_lib.PRIORITIES)},
            "status": {"type": "str", "choices": list(board_lib.TASK_STATUSES)},
            "description": {"type": "str"},
            "files": {"type": "str"},
        },
        required_one_of=[("id", "title")],
        supports_check_mode=True,
    )
    params = module.params
    try:
        outcome = board_lib.ensure_task(params["path"], params["id"], check_mode=module.check_mode,
                                        lock_timeout=params["lock_timeout"], **{key: params[key] for key in FIELDS})
    except board_lib.BoardError as exc:
        module.fail_json(msg=str(exc))
    task, created = outcome.result
    result = {"changed": outcome.changed, "id": task["id"], "created": created, "task": task}
    if module._diff:
        result["diff"] = outcome.diff(params["path"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
