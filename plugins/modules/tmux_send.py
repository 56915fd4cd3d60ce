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
  - Every run sends the message again (it is not idempotent); use a condition, such
    as the pane being new, to send it once.
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
      - tmux name of the key that submits the input. Default the agent type's, C(Enter).
    type: str
  submit_delay:
    description:
      - Seconds between typing the text and pressing the submit key. Default the agent
        type's, 0.3 (the real TUIs take fast input as a paste), 0.05 for V(simulated).
    type: float
  clear_pending:
    description:
      - Once the text is typed, or left in O(queue_dir) for the dispatcher, clear the pane's pending note
        (O(moana.orchestration.tmux_session#module:windows[].panes[].pending)), since what it needed is given.
        start.yml gives the initial prompts so.
    type: bool
    default: false
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
  messages:
    description:
      - Several messages to panes of O(session) in one call, each typed as soon as its
        agent is idle, all within O(wait_timeout). Instead of O(pane), O(text) and O(src).
    type: list
    elements: dict
    suboptions:
      pane:
        description: Name of the pane.
        type: str
        required: true
      text:
        description: The message.
        type: str
      src:
        description: A file on the target holding the message.
        type: path
      agent_type:
        description: The CLI in the pane.
        type: str
        choices: [claude, codex, amp, generic, simulated]
        default: generic
      submit_key:
        description: tmux name of the submit key. Default the agent type's.
        type: str
      submit_delay:
        description: Seconds between typing and the submit key. Default the agent type's.
        type: float
      clear_pending:
        description: Like O(clear_pending), for this message.
        type: bool
        default: false
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
    details:
      - Reads the agent's state (waiting at most 2 seconds for it to be idle) and reports
        what would be done; types nothing.
  diff_mode:
    support: none
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

- name: Give every agent that takes no prompt argument its prompt, in one call
  moana.orchestration.tmux_send:
    session: moana-orchestration
    messages:
      - {pane: amp, agent_type: amp, src: ~/.local/share/moana-orchestration/prompts/amp.md}
      - {pane: helper, agent_type: generic, text: "Read CLAUDE.md and wait for tasks."}
    queue_dir: ~/.local/share/moana-orchestration/queue

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
  description: >-
    C(delivered) when every message was, else C(queued) (some left in O(queue_dir)); in check
    mode C(would_deliver) or C(would_queue).
  returned: always
  type: str
  sample: delivered
results:
  description: One entry per message, in order.
  returned: always
  type: list
  elements: dict
  contains:
    pane:
      description: The pane's name (or O(target)).
      type: str
    pane_id:
      description: tmux id of the pane.
      type: str
    status:
      description: C(delivered) or C(queued) (C(would_deliver) or C(would_queue) in check mode).
      type: str
    state:
      description: The agent's state when last looked at before typing (idle, busy, waiting, dead, starting, unknown).
      type: str
    method:
      description: C(keys) (typed) or C(paste) (bracketed paste from a buffer).
      type: str
    attempts:
      description: How many times the submit key was pressed.
      type: int
    waited:
      description: Seconds from the start of the call to the delivery.
      type: float
    queue_file:
      description: File the message was left in, when queued.
      type: str
"""


from ansible.module_utils.basic import AnsibleModule
from ansible_collections.moana.orchestration.plugins.module_utils import _delivery
from ansible_collections.moana.orchestration.plugins.module_utils._agents import PATTERNS
from ansible_collections.moana.orchestration.plugins.module_utils._tmux import (
    SOCKET_OPTIONS,
    TmuxError,
    clear_pending,
    find_pane,
    open_server,
)


def read_text(message: dict) -> str:
    if message.get("text") is not None:
        text = message["text"]
    else:
        try:
            with open(message["src"], encoding="utf-8") as stream:
                text = stream.read()
        except OSError as exc:
            raise _delivery.DeliveryError("src %s cannot be read: %s" % (message["src"], exc.strerror)) from None
    if not _delivery.sanitise(text):
        raise _delivery.DeliveryError("the message for %s is empty once control characters are removed; nothing to send"
                                      % (message.get("pane") or message.get("target")))
    return text


# One message's options: each entry of messages, and the top-level options of a single message.
MESSAGE_OPTIONS = {
    "pane": {"type": "str", "required": True},
    "text": {"type": "str"},
    "src": {"type": "path"},
    "agent_type": {"type": "str", "default": "generic", "choices": list(PATTERNS)},
    "submit_key": {"type": "str", "no_log": False},
    "submit_delay": {"type": "float"},
    "clear_pending": {"type": "bool", "default": False},
}


def messages_of(params) -> list[dict]:
    """The messages to send, each with pane (or target), text, agent_type, submit_key and submit_delay."""
    if params["messages"] is not None:
        for index, message in enumerate(params["messages"]):
            if (message.get("text") is None) == (message.get("src") is None):
                raise _delivery.DeliveryError("messages[%d] (%s): give exactly one of text and src" % (index, message["pane"]))
        return [dict(m, text=read_text(m)) for m in params["messages"]]
    message = {key: params[key] for key in ["target", *MESSAGE_OPTIONS]}
    message["text"] = read_text(message)
    return [message]


def main():
    module = AnsibleModule(
        argument_spec={
            "session": {"type": "str"},
            **MESSAGE_OPTIONS,
            "pane": {"type": "str"},  # not required here: target may name the pane instead
            "target": {"type": "str"},
            "wait_timeout": {"type": "float", "default": 30.0},
            "retries": {"type": "int", "default": 3},
            "queue_dir": {"type": "path"},
            "messages": {"type": "list", "elements": "dict", "options": MESSAGE_OPTIONS},
            **SOCKET_OPTIONS,
        },
        supports_check_mode=True,
        mutually_exclusive=[("socket_name", "socket_path"), ("text", "src", "messages"), ("target", "session"),
                            ("messages", "pane"), ("messages", "target")],
        required_one_of=[("text", "src", "messages"), ("target", "pane", "messages")],
        required_by={"pane": "session", "messages": "session"},
    )
    params = module.params
    if params["queue_dir"] and params["target"]:
        module.fail_json(msg="queue_dir needs pane names (a queue is per agent); give session and pane instead of target")
    try:
        messages = messages_of(params)
        server = open_server(params["socket_name"], params["socket_path"], creating=False)
        for message in messages:
            message["pane_id"] = message.get("target") or find_pane(server, params["session"], message["pane"])
            if not message["pane_id"]:
                module.fail_json(msg="no pane %r in session %r; start the session first (moana.orchestration.tmux_session)"
                                 % (message["pane"], params["session"]))
        if module.check_mode:
            results = []
            for message in messages:
                # A short look: programs read idle only after a moment of stillness.
                state = _delivery.wait_for_idle(server, message["pane_id"], message["agent_type"],
                                                min(params["wait_timeout"], 2.0))[0]
                results.append({"pane": message.get("pane") or message["target"], "pane_id": message["pane_id"],
                                "status": "would_deliver" if state == "idle" else "would_queue", "state": state,
                                "method": "keys" if _delivery.as_keys(_delivery.sanitise(message["text"])) else "paste",
                                "attempts": 0, "waited": 0.0})
            module.exit_json(changed=True, results=results, status=overall(results, "would_deliver", "would_queue"))
        outcomes = _delivery.deliver_all(server, messages, params["wait_timeout"], params["retries"])
    except (TmuxError, _delivery.DeliveryError) as exc:
        module.fail_json(msg=str(exc))
    results, problems = [], []
    for message, outcome in zip(messages, outcomes):
        name = message.get("pane") or message["target"]
        result = {"pane": name, "pane_id": message["pane_id"], "status": outcome["status"], "state": outcome["state"],
                  "method": outcome["method"], "attempts": outcome["attempts"], "waited": outcome["waited"]}
        if outcome["status"] == "queued" and params["queue_dir"]:
            result["queue_file"] = _delivery.enqueue(params["queue_dir"], name, message["text"])
            module.warn("%s: %s; left in %s for the dispatcher" % (name, outcome["message"], result["queue_file"]))
        elif outcome["status"] != "delivered":
            problems.append("%s: %s" % (name, outcome["message"]))
        if message.get("clear_pending") and ("queue_file" in result or outcome["status"] == "delivered"):
            clear_pending(server, message["pane_id"])
        results.append(result)
    if problems:
        hint = "" if params["queue_dir"] else " (set queue_dir to leave messages for the dispatcher)"
        module.fail_json(msg="; ".join(problems) + hint, results=results)
    module.exit_json(changed=True, results=results, status=overall(results, "delivered", "queued"))


def overall(results: list[dict], done: str, waiting: str) -> str:
    return done if all(r["status"] == done for r in results) else waiting


if __name__ == "__main__":
    main()
