#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tmux_send
short_description: Type a message into an agent's tmux pane as one submitted prompt
version_added: 0.2.0
author:
  - Moana Orchestration maintainers (@moana)
description:
  - Waits until the agent in the pane is idle (at its prompt, read from its
    screen), types the message and presses the submit key, then checks that the
    text left the input line, pressing the submit key again a bounded number of
    times if it did not.
  - Control characters and escape sequences are removed from the text first, so
    a message can never drive the terminal.
  - Short single-line text is typed as keys; longer or multi-line text is pasted
    from a tmux buffer with bracketed paste, so the CLI takes it as one input.
  - A pane in copy mode is taken out of it first.
  - When the agent is not idle within O(wait_timeout), nothing is typed; with
    O(queue_dir) the message is left there for the team's dispatcher, which types
    it once the agent is idle; without it the task fails.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - moana.orchestration.tmux_socket
options:
  session:
    description:
      - Session holding the pane. Used with O(pane).
    type: str
  pane:
    description:
      - Name of the pane (as given to M(moana.orchestration.tmux_session)).
      - Also the agent's name in O(queue_dir).
    type: str
  target:
    description:
      - A tmux target for the pane instead of O(session) and O(pane), such as
        C(%3) or C(work:0.1).
    type: str
  text:
    description:
      - The message. Mutually exclusive with O(src).
    type: str
  src:
    description:
      - A file on the target whose content is the message (an initial prompt).
    type: path
  agent_type:
    description:
      - The CLI in the pane, which decides how its screen is read and its submit key.
    type: str
    choices: [claude, codex, amp, generic, simulated]
    default: generic
  submit_key:
    description:
      - tmux name of the key that submits the input. Default C(Enter).
    type: str
  submit_delay:
    description:
      - Seconds between typing the text and pressing the submit key.
    type: float
    default: 0.3
  wait_timeout:
    description:
      - Seconds to wait for the agent to be idle before giving up (or queuing).
    type: float
    default: 30
  retries:
    description:
      - How many more times the submit key is pressed when the text is still on
        the input line.
    type: int
    default: 3
  queue_dir:
    description:
      - Directory of the dispatcher's queue. When set and the agent is not idle in
        time, the message is written to C(QUEUE_DIR/PANE/) instead of failing.
    type: path
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details:
      - Reads the agent's state and reports what would be done; types nothing.
  diff_mode:
    support: none
  idempotent:
    support: none
    details:
      - Every run sends the message again; use a condition (such as the pane being
        new) to send it once.
seealso:
  - module: moana.orchestration.tmux_session
"""

EXAMPLES = r"""
- name: Give Amp its initial prompt once it is at its prompt
  moana.orchestration.tmux_send:
    session: moana-orchestration
    pane: amp
    agent_type: amp
    src: ~/.local/share/moana-orchestration/prompts/amp.md
    wait_timeout: 120

- name: Tell a worker about a task, or leave it for the dispatcher
  moana.orchestration.tmux_send:
    session: moana-orchestration
    pane: codex
    agent_type: codex
    text: "[orchestra] TASK-007 is assigned to you: run orchestra task show TASK-007"
    queue_dir: ~/.local/share/moana-orchestration/queue
"""

RETURN = r"""
status:
  description: C(delivered), C(queued) (left in O(queue_dir)) or, in check mode, C(would_deliver) or C(would_queue).
  returned: always
  type: str
  sample: delivered
state:
  description: The agent's state when the module last looked before typing (idle, busy, waiting, dead, starting, unknown).
  returned: always
  type: str
  sample: idle
method:
  description: C(keys) (typed) or C(paste) (bracketed paste from a buffer).
  returned: always
  type: str
attempts:
  description: How many times the submit key was pressed.
  returned: always
  type: int
waited:
  description: Seconds spent, waiting included.
  returned: always
  type: float
pane_id:
  description: tmux id of the pane.
  returned: always
  type: str
queue_file:
  description: File the message was left in, when queued.
  returned: when queued
  type: str
"""

import os

from ansible.module_utils.basic import AnsibleModule, missing_required_lib
from ansible_collections.moana.orchestration.plugins.module_utils import _agents, _delivery
from ansible_collections.moana.orchestration.plugins.module_utils._tmux import (
    HAS_LIBTMUX,
    LIBTMUX_IMPORT_ERROR,
    SOCKET_OPTIONS,
    TmuxError,
    find_pane,
    open_server,
)


def read_text(params) -> str:
    if params["text"] is not None:
        return params["text"]
    try:
        with open(params["src"], encoding="utf-8") as stream:
            return stream.read()
    except OSError as exc:
        raise _delivery.DeliveryError("src %s cannot be read: %s" % (params["src"], exc.strerror)) from None


def main():
    module = AnsibleModule(
        argument_spec={
            "session": {"type": "str"},
            "pane": {"type": "str"},
            "target": {"type": "str"},
            "text": {"type": "str"},
            "src": {"type": "path"},
            "agent_type": {"type": "str", "default": "generic", "choices": list(_delivery.SUBMIT_KEYS)},
            "submit_key": {"type": "str"},
            "submit_delay": {"type": "float", "default": 0.3},
            "wait_timeout": {"type": "float", "default": 30.0},
            "retries": {"type": "int", "default": 3},
            "queue_dir": {"type": "path"},
            **SOCKET_OPTIONS,
        },
        supports_check_mode=True,
        mutually_exclusive=[("socket_name", "socket_path"), ("text", "src"), ("target", "session")],
        required_one_of=[("text", "src"), ("target", "pane")],
        required_together=[("session", "pane")],
    )
    params = module.params
    if not HAS_LIBTMUX:
        module.fail_json(msg=missing_required_lib("libtmux"), exception=str(LIBTMUX_IMPORT_ERROR))
    if params["queue_dir"] and not params["pane"]:
        module.fail_json(msg="queue_dir needs pane (the agent's name names its queue); give session and pane")
    try:
        text = read_text(params)
        if not _delivery.sanitise(text):
            raise _delivery.DeliveryError("the message is empty once control characters are removed; nothing to send")
        server = open_server(params["socket_name"], params["socket_path"], creating=False)
        pane_id = params["target"] or find_pane(server, params["session"], params["pane"])
        if not pane_id:
            module.fail_json(msg="no pane %r in session %r; start the session first (moana.orchestration.tmux_session)"
                             % (params["pane"], params["session"]))
        if module.check_mode:
            state, dummy = _agents.observe(server, pane_id, params["agent_type"])
            module.exit_json(changed=True, status="would_deliver" if state == "idle" else "would_queue", state=state,
                             method="keys" if _delivery.as_keys(_delivery.sanitise(text)) else "paste",
                             attempts=0, waited=0.0, pane_id=pane_id)
        result = _delivery.deliver(server, pane_id, text, params["agent_type"], params["submit_key"],
                                   params["submit_delay"], params["wait_timeout"], params["retries"])
    except (TmuxError, _delivery.DeliveryError) as exc:
        module.fail_json(msg=str(exc))
    result.pop("text")
    message = result.pop("message")
    if result["status"] == "failed":
        module.fail_json(msg="%s: %s" % (params["pane"] or pane_id, message), pane_id=pane_id, **result)
    if result["status"] == "queued":
        if not params["queue_dir"]:
            module.fail_json(msg="%s: %s; set queue_dir to leave it for the dispatcher" % (params["pane"] or pane_id, message),
                             pane_id=pane_id, **result)
        result["queue_file"] = _delivery.enqueue(os.path.expanduser(params["queue_dir"]), params["pane"], text)
        module.warn("%s: %s; left in %s" % (params["pane"], message, result["queue_file"]))
    module.exit_json(changed=True, pane_id=pane_id, **result)


if __name__ == "__main__":
    main()
