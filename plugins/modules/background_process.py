#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: background_process
short_description: Start, stop and health-check a long-running process without a service manager
version_added: 0.1.0
author:
  - Moana Orchestration maintainers (@moana)
description:
  - Runs a program detached from Ansible (new session, stdin from C(/dev/null),
    output appended to a log file) and keeps it in a pidfile, for machines with no
    systemd user session. The team's proxy (C(antigravity-claude-proxy start)) and
    dispatcher run this way.
  - A process counts as running only when its pid is alive with the start time and
    command line recorded at start (read from C(/proc)); a stale pidfile whose pid
    now belongs to another program is noticed and that program is never signalled.
  - With O(readiness), a start waits until the probe passes (TCP connect, HTTP
    status, optionally a JSON field of the body), and an already running process is
    probed once. A failed start reports the probe's last answer and the log's last
    lines, and stops what it started.
  - Stopping sends SIGTERM to the process group, to every descendant (including
    children that left the group with setsid) and to every process that still
    carries the random token put in its environment; SIGKILL after O(stop_timeout).
  - With O(listen=loopback), the process may listen on loopback addresses only (127.0.0.0/8, C(::1)). The
    TCP sockets held by it, its group and its descendants are read from C(/proc) once it is ready, and a
    listener on any other address (such as C(0.0.0.0)) stops it and fails the task, naming the address and
    the fix. A running process found listening beyond loopback is restarted (and so stopped if it still does).
  - Logs and pidfiles are created private to the user (0600, directories 0700).
  - Linux only (reads C(/proc)).
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  name:
    description:
      - Name of the process (letters, digits, C(.), C(_), C(-)); names the default pidfile and log.
    type: str
    required: true
  command:
    description:
      - Program and arguments, as a list or as a string split like a shell would (no shell runs it).
      - Required unless O(state=stopped).
    type: raw
  chdir:
    description:
      - Working directory of the process. It must exist.
    type: path
  environment:
    description:
      - Variables added to the process's environment. Values are never logged nor
        returned; the pidfile keeps only a digest of them.
      - Ansible hides these values wherever they appear in the task's output, so put what is
        not secret (such as a port, which error messages name) in O(variables).
    type: dict
  variables:
    description:
      - Variables added to the process's environment that are not secret; a name also in
        O(environment) takes its value from there. Counted in the fingerprint like O(environment).
    type: dict
    default: {}
  path_prepend:
    description:
      - Directories put first on the process's C(PATH), where its program is looked for first
        too (such as the bin of the npm prefix the CLIs were installed into).
    type: list
    elements: path
    default: []
  pidfile:
    description:
      - Where the process is recorded. Default C(~/.local/state/moana-orchestration/NAME.pid)
        (C($XDG_STATE_HOME) is honoured).
    type: path
  log_file:
    description:
      - File the process's output is appended to. Default
        C(~/.local/state/moana-orchestration/logs/NAME.log).
    type: path
  state:
    description:
      - V(started) starts it unless it runs, is healthy and is up to date (same command,
        directory and environment); V(restarted) always restarts; V(stopped) stops it.
    type: str
    choices: [started, stopped, restarted]
    default: started
  restart_unhealthy:
    description:
      - With O(state=started), restart a running process whose probe fails. Without it,
        such a process makes the task fail with the probe's answer.
    type: bool
    default: false
  stop_timeout:
    description:
      - Seconds between SIGTERM and SIGKILL.
    type: float
    default: 10
  listen:
    description:
      - Where the process may listen. V(loopback) allows 127.0.0.0/8, C(::1) and C(::ffff:127.x.x.x) only,
        checked after readiness and each time the process is looked at; V(any) allows every address
        (the listeners are still returned).
    type: str
    choices: [any, loopback]
    default: any
  readiness:
    description:
      - How to tell the process is ready (after a start) and healthy (when running).
    type: dict
    suboptions:
      type:
        description:
          - V(tcp) connects to O(readiness.host):O(readiness.port); V(http) gets O(readiness.url).
          - Default V(http) when O(readiness.url) is set, else V(tcp).
        type: str
        choices: [tcp, http]
      host:
        description:
          - Host for a tcp probe.
        type: str
        default: 127.0.0.1
      port:
        description:
          - Port for a tcp probe.
        type: int
      url:
        description:
          - URL for an http probe, fetched without any HTTP proxy.
        type: str
      status:
        description:
          - HTTP status the probe wants.
        type: int
        default: 200
      json_path:
        description:
          - Dotted path of a field in the JSON body to check, such as V(counts.available).
        type: str
      json_op:
        description:
          - How the field compares with O(readiness.json_value); V(truthy) needs no value.
        type: str
        choices: [gt, ge, eq, ne, lt, le, truthy]
        default: truthy
      json_value:
        description:
          - Value the field is compared with.
        type: raw
      timeout:
        description:
          - Seconds a start waits for the probe to pass.
        type: float
        default: 30
      interval:
        description:
          - Longest pause, in seconds, between probes while waiting. The first pauses are
            shorter (10 ms, doubling up to this), so a quick program is seen ready quickly.
        type: float
        default: 0.1
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: none
seealso:
  - module: moana.orchestration.background_process_info
"""

EXAMPLES = r"""
- name: Run the proxy, reachable from loopback only, ready once an account is available
  moana.orchestration.background_process:
    name: antigravity-proxy
    command: antigravity-claude-proxy start
    chdir: /home/julien/.local/state/moana-orchestration/proxy
    variables:
      PORT: "8080"
      NODE_OPTIONS: --require /home/julien/.local/share/moana-orchestration/loopback-only.js
    log_file: /home/julien/project/logs/proxy.log
    listen: loopback
    readiness:
      url: http://127.0.0.1:8080/health
      json_path: counts.available
      json_op: gt
      json_value: 0
      timeout: 30

- name: Stop it
  moana.orchestration.background_process:
    name: antigravity-proxy
    state: stopped
"""

RETURN = r"""
name:
  description: The process's name.
  returned: always
  type: str
running:
  description: Whether it runs after the task (before it, in check mode).
  returned: always
  type: bool
pid:
  description: Its pid, when running.
  returned: always
  type: int
started_at:
  description: When it started, in seconds since the epoch.
  returned: always
  type: float
uptime:
  description: Seconds since it started.
  returned: always
  type: float
healthy:
  description: Whether the probe passed (true when running without a probe) and, with O(listen=loopback), it listens on loopback only.
  returned: when O(state) is not V(stopped)
  type: bool
probe:
  description: What the probe saw last.
  returned: when O(state) is not V(stopped)
  type: str
  sample: GET http://127.0.0.1:8080/health answered 200 and counts.available > 0 (2)
listening:
  description: Addresses (C(host:port), IPv6 in brackets) its process, group and descendants listen on.
  returned: when O(state) is not V(stopped)
  type: list
  elements: str
  sample: ["127.0.0.1:8080"]
exposed:
  description: Those of RV(listening) that other machines can reach (not loopback).
  returned: when O(state) is not V(stopped)
  type: list
  elements: str
up_to_date:
  description: Whether the running process has the requested command, directory and environment.
  returned: always
  type: bool
stale_pidfile:
  description: A pidfile named a process that is gone or is no longer ours.
  returned: always
  type: bool
pidfile:
  description: The pidfile's path.
  returned: always
  type: str
log_file:
  description: The log's path.
  returned: always
  type: str
actions:
  description: What was done (or would be, in check mode).
  returned: always
  type: list
  elements: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.moana.orchestration.plugins.module_utils import _process

READINESS_OPTIONS = {
    "type": {"type": "str", "choices": ["tcp", "http"]},
    "host": {"type": "str", "default": "127.0.0.1"},
    "port": {"type": "int"},
    "url": {"type": "str"},
    "status": {"type": "int", "default": 200},
    "json_path": {"type": "str"},
    "json_op": {"type": "str", "choices": list(_process.JSON_OPERATORS), "default": "truthy"},
    "json_value": {"type": "raw"},
    "timeout": {"type": "float", "default": 30},
    "interval": {"type": "float", "default": 0.1},
}


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "command": {"type": "raw"},
            "chdir": {"type": "path"},
            "environment": {"type": "dict", "no_log": True},
            "variables": {"type": "dict", "default": {}},
            "pidfile": {"type": "path"},
            "log_file": {"type": "path"},
            "state": {"type": "str", "choices": ["started", "stopped", "restarted"], "default": "started"},
            "restart_unhealthy": {"type": "bool", "default": False},
            "stop_timeout": {"type": "float", "default": 10},
            "readiness": {"type": "dict", "options": READINESS_OPTIONS},
            "path_prepend": {"type": "list", "elements": "path", "default": []},
            "listen": {"type": "str", "choices": list(_process.LISTEN_CHOICES), "default": "any"},
        },
        required_if=[("state", "started", ("command",)), ("state", "restarted", ("command",))],
        supports_check_mode=True,
    )
    params = module.params
    try:
        spec = _process.Spec(params["name"], params["command"] or ["true"], params["chdir"],
                             dict(params["variables"], **(params["environment"] or {})),
                             params["pidfile"], params["log_file"], params["readiness"], params["stop_timeout"], params["path_prepend"],
                             params["listen"])
        result = _process.ensure(spec, params["state"], params["restart_unhealthy"], module.check_mode)
    except _process.ProcessError as exc:
        module.fail_json(msg=str(exc))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
