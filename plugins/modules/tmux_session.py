#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: tmux_session
short_description: Ensure a tmux session exists with the described windows and panes
version_added: 0.1.0
author:
  - Moana Orchestration maintainers (@moana)
description:
  - Creates a detached tmux session laid out as described, or brings an existing
    one back to its description. Missing windows and panes are added, dead panes
    are respawned, panes whose command, directory or environment changed are
    restarted, and panes and windows that this module made but the description no
    longer names are removed.
  - Panes and windows are recognised by name, kept in the tmux user options
    C(@moana_pane) and C(@moana_window), so an agent that rewrites its pane title
    does not confuse the module. Panes made by hand (without a name) are left alone.
  - Live panes that still match their description are never touched, nor is the
    order or size a person gave them.
  - A new session is built with a few chained tmux calls; no environment value
    appears on the command line of the tmux server it may start.
  - Values that must stay secret go in a pane's O(windows[].panes[].env_file), which the pane's
    shell reads before its command. They then reach the pane's program only, never a command line
    (as O(environment) and O(windows[].panes[].environment) do, briefly, on the tmux client's), the
    session's tmux environment or a tmux option, and a respawn reads the file again.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
  - moana.orchestration.tmux_socket
options:
  name:
    description:
      - Name of the session. It may not contain C(.) or C(:).
    type: str
    required: true
  state:
    description:
      - V(present) makes the session match the description.
      - V(absent) removes it. Panes with an O(windows[].panes[].exit_text) get it typed
        first and up to O(exit_timeout) seconds to end; then the session is killed, and
        every process it left behind (found by a random token every process of the
        session inherits in its environment, C(MOANA_ORCHESTRATION_SESSION)) gets
        SIGTERM, then SIGKILL after O(exit_timeout).
    type: str
    choices: [present, absent]
    default: present
  exit_timeout:
    description:
      - Seconds to wait for programs asked to exit, and between SIGTERM and SIGKILL for
        processes the session left behind.
    type: float
    default: 10
  watch:
    description:
      - With O(state=present), seconds each pane created or restarted by this run must keep its
        program running. A pane whose program ends sooner (a CLI that exits at once on a bad
        option or environment value) fails the task, naming the pane, its exit status and the
        last lines of its screen. V(0) does not watch.
    type: float
    default: 0
  start_directory:
    description:
      - Working directory (absolute) of every pane that does not set its own. It must exist.
    type: path
  environment:
    description:
      - Variables set in every pane of the session (a pane's own win).
      - Values are never logged nor returned; tmux keeps only a digest of them
        to notice a change.
    type: dict
  remain_on_exit:
    description:
      - Keep a pane on screen after its command exits, so it can be respawned and
        its last output read.
    type: bool
    default: true
  respawn_dead:
    description:
      - Respawn, with their described command, panes whose process has exited.
    type: bool
    default: true
  width:
    description:
      - Width of the session's windows while no client is attached.
    type: int
    default: 200
  height:
    description:
      - Height of the session's windows while no client is attached.
    type: int
    default: 50
  windows:
    description:
      - The windows, in order. Required with O(state=present).
    type: list
    elements: dict
    suboptions:
      name:
        description:
          - Window name, unique in the session.
        type: str
        required: true
      layout:
        description:
          - tmux layout applied when panes are added or removed.
        type: str
        choices: [tiled, even-horizontal, even-vertical, main-horizontal, main-vertical]
        default: tiled
      panes:
        description:
          - The panes, in order (with V(tiled), left to right then top to bottom).
        type: list
        elements: dict
        required: true
        suboptions:
          name:
            description:
              - Pane name, unique in the session; also set as the pane title.
            type: str
            required: true
          command:
            description:
              - Shell command the pane runs. Omit it for the user's shell.
            type: str
          start_directory:
            description:
              - Working directory (absolute) of this pane. It must exist.
            type: path
          environment:
            description:
              - Variables for this pane only. Values are never logged nor returned. tmux gets them on
                the command line of the call that starts the pane and forgets them when the pane is
                respawned by another program; for secrets prefer O(windows[].panes[].env_file).
            type: dict
          env_file:
            description:
              - A file of shell variable assignments (such as C(export NAME='value') lines, mode 0600) the
                pane's shell reads (C(. FILE)) before O(windows[].panes[].command), which is then required.
                The values reach the pane's program and no command line, tmux option or tmux environment;
                a respawn reads the file again. A change of its content restarts the pane (tmux keeps a
                digest of it); a missing file ends the pane with the shell's error.
            type: path
          variables:
            description:
              - Variables for this pane that are not secret, so Ansible does not mask
                their values in its output. O(windows[].panes[].environment) wins
                when both set a name.
            type: dict
          log_file:
            description:
              - Append everything the pane prints to this file (tmux C(pipe-pane)),
                an absolute path whose directory must exist. Logging survives a respawn.
            type: path
          exit_text:
            description:
              - With O(state=absent), typed into the pane (then Enter) to ask its program
                to leave before the session is killed, such as V(/exit).
            type: str
          pending:
            description:
              - What the pane still needs once started, such as V(initial prompt). Kept on the pane (tmux
                option C(@moana_pending)), set in the very call that creates or respawns it, and cleared
                by whoever gives it (O(moana.orchestration.tmux_send#module:messages[].clear_pending)), so a run
                that ends in between leaves it for the next run to see (RV(pending)).
              - Not part of what restarts a pane when it changes.
            type: str
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - The diff shows the windows and panes before and after, with commands and
        the names (not values) of environment variables.
seealso:
  - module: moana.orchestration.tmux_session_info
"""

EXAMPLES = r"""
- name: Ensure the team's session with the seed's layout
  moana.orchestration.tmux_session:
    name: moana-orchestration
    start_directory: /home/julien/project
    windows:
      - name: main
        layout: tiled
        panes:
          - name: claude
            command: claude
          - name: amp
            command: amp -m large --dangerously-allow-all
          - name: proxy
            command: tail -F logs/proxy.log
          - name: codex
            command: codex --dangerously-bypass-approvals-and-sandbox
      - name: antigravity
        panes:
          - name: antigravity
            command: claude --model claude-opus-4-5-thinking
            environment:
              ANTHROPIC_BASE_URL: http://127.0.0.1:8080
            log_file: /home/julien/project/logs/antigravity.log

- name: Build a layout on a private tmux server (tests, demos)
  moana.orchestration.tmux_session:
    name: demo
    socket_name: moana-demo
    windows:
      - name: work
        panes:
          - name: left
          - name: right
            command: top

- name: Remove the session
  moana.orchestration.tmux_session:
    name: moana-orchestration
    state: absent
"""

RETURN = r"""
exists:
  description: Whether the session exists after the run (before it, in check mode).
  returned: always
  type: bool
session_id:
  description: tmux id of the session, such as C($0).
  returned: always
  type: str
  sample: $0
windows:
  description: The session's windows.
  returned: always
  type: list
  elements: dict
  sample:
    - name: main
      window_id: "@0"
      index: 0
      layout: tiled
      remain_on_exit: true
      panes: [claude, amp, proxy, codex]
panes:
  description: Every pane of the session, window by window.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Pane name from the description (empty for panes made by hand).
      type: str
    pane_id:
      description: tmux pane id.
      type: str
      sample: "%3"
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
      description: Name of the program in the foreground of the pane.
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
      description: The pane's current title (programs may change it).
      type: str
    activity:
      description: Time of the last activity in the pane's window, in seconds since the epoch.
      type: int
actions:
  description: What was done (or, in check mode, would be done), in order.
  returned: always
  type: list
  elements: str
  sample: ["respawn pane codex (dead)"]
created:
  description: Names of panes created.
  returned: when O(state=present)
  type: list
  elements: str
respawned:
  description: Names of dead panes respawned.
  returned: when O(state=present)
  type: list
  elements: str
restarted:
  description: Names of live panes restarted because their description changed.
  returned: when O(state=present)
  type: list
  elements: str
died:
  description:
    - Panes whose program ended within O(watch) seconds of its start, each with its exit
      status or signal and the last lines of its screen. The task fails when there is one.
  returned: when O(watch) is set and a pane died
  type: list
  elements: dict
  sample: [{"name": "codex", "status": 1, "signal": null, "lines": ["Error: unknown option --yolo"]}]
removed:
  description: Names of panes and windows removed because the description no longer has them.
  returned: when O(state=present)
  type: list
  elements: str
pending:
  description:
    - Names of the described panes whose O(windows[].panes[].pending) note is set (in check mode, also those
      this run would start with one), whose need was never met.
  returned: when O(state=present)
  type: list
  elements: str
exited:
  description: Names of panes whose program left when asked with its exit text.
  returned: when O(state=absent)
  type: list
  elements: str
leftovers:
  description: Pids of processes the session left behind, ended after it was killed.
  returned: when O(state=absent)
  type: list
  elements: int
"""

import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.moana.orchestration.plugins.module_utils._layout import (
    LAYOUTS,
    LayoutError,
    check_paths,
    parse_session,
    with_env_digests,
)
from ansible_collections.moana.orchestration.plugins.module_utils._tmux import (
    SOCKET_OPTIONS,
    TmuxError,
    describe_deaths,
    ensure_absent,
    ensure_session,
    open_server,
    watch_started,
)

PANE_OPTIONS = {
    "name": {"type": "str", "required": True},
    "command": {"type": "str"},
    "start_directory": {"type": "path"},
    "environment": {"type": "dict", "no_log": True},
    "variables": {"type": "dict"},
    "log_file": {"type": "path"},
    "exit_text": {"type": "str"},
    "env_file": {"type": "path"},
    "pending": {"type": "str"},
}

WINDOW_OPTIONS = {
    "name": {"type": "str", "required": True},
    "layout": {"type": "str", "choices": list(LAYOUTS), "default": "tiled"},
    "panes": {"type": "list", "elements": "dict", "required": True, "options": PANE_OPTIONS},
}

ARGUMENT_SPEC = {
    "name": {"type": "str", "required": True},
    "state": {"type": "str", "choices": ["present", "absent"], "default": "present"},
    "start_directory": {"type": "path"},
    "environment": {"type": "dict", "no_log": True},
    "remain_on_exit": {"type": "bool", "default": True},
    "respawn_dead": {"type": "bool", "default": True},
    "width": {"type": "int", "default": 200},
    "height": {"type": "int", "default": 50},
    "exit_timeout": {"type": "float", "default": 10},
    "watch": {"type": "float", "default": 0},
    "windows": {"type": "list", "elements": "dict", "options": WINDOW_OPTIONS},
    **SOCKET_OPTIONS,
}


def main():
    module = AnsibleModule(
        argument_spec=ARGUMENT_SPEC,
        supports_check_mode=True,
        mutually_exclusive=[("socket_name", "socket_path")],
        required_if=[("state", "present", ("windows",))],
    )
    params = module.params
    try:
        spec = None
        if params["state"] == "present" or params["windows"]:
            # Validate everything before the first tmux call: bad input creates nothing.
            spec = parse_session(params)
        if params["state"] == "present":
            spec = with_env_digests(spec)
            try:
                check_paths(spec, os.path.isdir)
            except LayoutError as exc:
                if not module.check_mode:
                    raise
                # An earlier task of the same run would have made it: say so, and show the rest of the plan.
                module.warn("%s (in check mode: unless an earlier task creates it)" % exc)
        server = open_server(params["socket_name"], params["socket_path"])
        if params["state"] == "absent":
            result = ensure_absent(server, params["name"], module.check_mode, spec, params["exit_timeout"])
        else:
            result = ensure_session(server, spec, params["respawn_dead"], module.check_mode)
            panes = {pane.name for window in spec.windows for pane in window.panes}
            started = [n for n in result["created"] + result["respawned"] + result["restarted"] if n in panes]
            if params["watch"] > 0 and started and not module.check_mode:
                result["died"] = watch_started(server, spec.name, started, params["watch"])
    except (LayoutError, TmuxError) as exc:
        module.fail_json(msg=str(exc))
    diff = result.pop("diff")
    if module._diff:
        result["diff"] = diff
    if result.get("died"):
        module.fail_json(msg=describe_deaths(result["died"], params["watch"]), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
