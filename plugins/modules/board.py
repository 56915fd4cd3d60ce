#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: board
short_description: Ensure the board's managed sections exist in CLAUDE.md
version_added: 0.1.0
author:
  - Moana Orchestration maintainers (@moana)
description:
  - >-
    Ensures the team board (C(CLAUDE.md)) has the managed sections the agents
    coordinate through, each between C(<!-- BEGIN moana.orchestration: NAME -->)
    and C(<!-- END moana.orchestration: NAME -->) markers, as
    M(ansible.builtin.blockinfile) does for one block.
  - V(task-queue) (Task Assignment Queue), V(completion-log) (Task Completion Log),
    V(llm-status) (Current LLM Status) and V(messages) (Inter-LLM Messages).
  - Missing sections are added empty; existing sections keep their content unless
    O(reset=true). Everything outside the markers is left byte for byte.
  - >-
    A section written without markers (a C(## Task Assignment Queue) heading or another
    section's title, as the original scripts and people write them) is adopted in place:
    the markers go around the heading and what follows it up to the next heading of
    level 1 or 2, its entries keep their ids and every byte, and the board is copied
    first (RV(backup_file)). Each entry of such a section is read before anything
    changes; one that cannot be (an entry without its id, an id written twice, a task
    assigned to an agent not in O(agents)) fails with its line and the fix.
  - >-
    The task queue carries the board's identity (a C(<!-- board-id: ... -->) line,
    RV(board_id)), added when missing. A section created, adopted or reset numbers
    its ids after the highest one found on the board and in its archive, so an id is
    never used twice.
  - A malformed board (a section begun twice, one never closed, an entry without
    its id, a section's heading written twice outside the markers) fails with the
    line and the problem; nothing is written.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - moana.orchestration.board
options:
  state:
    description:
      - V(present) adds missing sections; V(absent) removes the sections, markers included.
    type: str
    choices: [present, absent]
    default: present
  sections:
    description:
      - The managed sections to act on.
    type: list
    elements: str
    choices: [task-queue, completion-log, llm-status, messages]
    default: [task-queue, completion-log, llm-status, messages]
  create:
    description:
      - Create the board file when it does not exist. Without it a missing file is an error.
    type: bool
    default: false
  reset:
    description:
      - Empty the sections that exist. Their tasks, completions, states and messages are lost.
    type: bool
    default: false
  insert_after:
    description:
      - Regular expression; new sections go after the last line outside the markers
        that matches it. Without it, or when nothing matches, they go at the end.
      - An invalid expression fails the task before the board is read.
    type: str
  backup:
    description:
      - Keep a timestamped copy of the board before changing it. A board whose sections
        are adopted is copied whatever this says.
    type: bool
    default: false
  agents:
    description:
      - The team's agent names. When given, a task of an adopted section assigned to
        another name fails the task (names match without regard to case, V(AMP) is
        V(amp); C(-) and C(any) are allowed).
    type: list
    elements: str
  mode:
    description:
      - Mode of the board when this task creates it, in octal digits (quote it in YAML);
        its lock file and archive take the board's mode when they are created.
      - The default keeps the board to its owner. A team whose members share the board
        (other users or a group) gives V(0644) or V(0660).
      - The owner must be able to read and write it; execute and special bits are refused.
      - An existing board keeps its mode, owner and group on every write (chmod it to change it).
    type: str
    default: "0600"
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: full
seealso:
  - module: moana.orchestration.board_task
  - module: moana.orchestration.board_info
"""

EXAMPLES = r"""
- name: Ensure the board's sections, creating CLAUDE.md if needed
  moana.orchestration.board:
    path: /home/julien/project/CLAUDE.md
    create: true

- name: A board the project's group shares (created 0660)
  moana.orchestration.board:
    path: /srv/project/CLAUDE.md
    create: true
    mode: "0660"

- name: Adopt the CLAUDE.md the original scripts wrote, its tasks checked against the team
  moana.orchestration.board:
    path: /home/julien/project/CLAUDE.md
    agents: [claude, amp, antigravity, codex]
  register: board

- name: Put the sections after the project's own notes heading
  moana.orchestration.board:
    path: /home/julien/project/CLAUDE.md
    insert_after: '^## Orchestration'

- name: Start the day with an empty message list
  moana.orchestration.board:
    path: /home/julien/project/CLAUDE.md
    sections: [messages]
    reset: true
    backup: true
"""

RETURN = r"""
sections:
  description: Names of the sections adopted, added, emptied or removed.
  returned: always
  type: list
  elements: str
  sample: [llm-status]
adopted:
  description: Names of the sections that were written without markers and are now managed.
  returned: always
  type: list
  elements: str
  sample: [task-queue, completion-log, llm-status, messages]
board_id:
  description: The board's identity (the C(<!-- board-id -->) line of its task queue); null without a task queue.
  returned: always
  type: str
  sample: 3f9a0c5e21d47b86
backup_file:
  description: Path of the copy made before the change (beside the board, C(CLAUDE.md.<pid>.<date>@<time>~), with its mode and owner).
  returned: when the board changed and O(backup=true), or sections were adopted (not in check mode)
  type: str
"""

import re

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.moana.orchestration.plugins.module_utils import _board as board_lib


def main():
    module = AnsibleModule(
        argument_spec={
            **board_lib.BOARD_OPTIONS,
            "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
            "sections": {"type": "list", "elements": "str", "choices": list(board_lib.SECTION_BY_NAME),
                         "default": list(board_lib.SECTION_BY_NAME)},
            "create": {"type": "bool", "default": False},
            "reset": {"type": "bool", "default": False},
            "insert_after": {"type": "str"},
            "backup": {"type": "bool", "default": False},
            "agents": {"type": "list", "elements": "str"},
            "mode": {"type": "str", "default": "0600"},
        },
        supports_check_mode=True,
    )
    params = module.params
    if params["insert_after"]:
        try:
            re.compile(params["insert_after"])
        except re.error as exc:
            module.fail_json(msg="insert_after: %r is not a valid regular expression: %s" % (params["insert_after"], exc))
    try:
        mode = board_lib.parse_mode(params["mode"])
    except ValueError as exc:
        module.fail_json(msg="mode: %s" % exc)
    backups = []
    kinds = [board_lib.SECTION_BY_NAME[name] for name in board_lib.SECTION_BY_NAME if name in params["sections"]]
    try:
        outcome = board_lib.ensure_board(
            params["path"], kinds, present=params["state"] == "present", reset=params["reset"],
            insert_after=params["insert_after"], create=params["create"], check_mode=module.check_mode,
            lock_timeout=params["lock_timeout"], agents=params["agents"], mode=mode,
            backup=lambda path: backups.append(board_lib.backup_copy(path)), backup_always=params["backup"],
        )
    except board_lib.BoardError as exc:
        module.fail_json(msg=str(exc))
    for warning in outcome.result["warnings"]:
        module.warn(warning)
    result = {"changed": outcome.changed, "sections": outcome.result["sections"], "adopted": outcome.result["adopted"],
              "board_id": outcome.result["board_id"]}
    if backups:
        result["backup_file"] = backups[0]
    if module._diff:
        result["diff"] = outcome.diff(params["path"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
