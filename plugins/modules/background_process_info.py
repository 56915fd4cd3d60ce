#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: background_process_info
short_description: Whether a background process runs and answers its health probe
version_added: 0.1.0
author:
  - Moana Orchestration maintainers (@moana)
description:
  - Reads the pidfile written by M(moana.orchestration.background_process), checks
    the process is alive and is the one recorded (start time and command line), and
    runs the O(readiness) probe once, and reads where it listens. Never starts, stops or signals anything.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  name:
    description:
      - Name of the process.
    type: str
    required: true
  pidfile:
    description:
      - Its pidfile. Default C(~/.local/state/moana-orchestration/NAME.pid).
    type: path
  log_file:
    description:
      - Its log; with O(log_lines) its last lines are returned.
    type: path
  log_lines:
    description:
      - Return this many last lines of the log in RV(log_tail).
    type: int
    default: 0
  readiness:
    description:
      - The health probe, as in M(moana.orchestration.background_process).
    type: dict
  listen:
    description:
      - With V(loopback), a process listening on an address other machines can reach (not 127.0.0.0/8 nor
        C(::1)) is unhealthy, as in M(moana.orchestration.background_process).
    type: str
    choices: [any, loopback]
    default: any
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
  - module: moana.orchestration.background_process
"""

EXAMPLES = r"""
- name: Is the proxy up and does it have accounts
  moana.orchestration.background_process_info:
    name: antigravity-proxy
    readiness:
      url: http://127.0.0.1:8080/health
      json_path: counts.available
      json_op: gt
      json_value: 0
    listen: loopback
  register: proxy
"""

RETURN = r"""
running:
  description: The recorded process is alive and is ours.
  returned: always
  type: bool
healthy:
  description:
    - The probe passed (true when running without a probe, false when not running), and, with
      O(listen=loopback), the process listens on loopback only.
  returned: always
  type: bool
probe:
  description: What the probe saw.
  returned: always
  type: str
listening:
  description: Addresses (C(host:port), IPv6 in brackets) its process, group and descendants listen on.
  returned: always
  type: list
  elements: str
  sample: ["127.0.0.1:8080"]
exposed:
  description: Those of RV(listening) that other machines can reach (not loopback).
  returned: always
  type: list
  elements: str
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
stale_pidfile:
  description: The pidfile names a process that is gone or no longer ours.
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
log_tail:
  description: The last O(log_lines) lines of the log.
  returned: when O(log_lines) > 0
  type: str
"""

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.moana.orchestration.plugins.module_utils import _process


def main():
    module = AnsibleModule(
        argument_spec={
            "name": {"type": "str", "required": True},
            "pidfile": {"type": "path"},
            "log_file": {"type": "path"},
            "log_lines": {"type": "int", "default": 0},
            "readiness": {"type": "dict"},
            "listen": {"type": "str", "choices": list(_process.LISTEN_CHOICES), "default": "any"},
        },
        supports_check_mode=True,
    )
    params = module.params
    try:
        spec = _process.Spec(params["name"], ["true"], pidfile=params["pidfile"], log_file=params["log_file"],
                             readiness=params["readiness"], listen=params["listen"])
        facts = _process.health(spec)
    except _process.ProcessError as exc:
        module.fail_json(msg=str(exc))
    if params["log_lines"] > 0:
        facts["log_tail"] = _process.log_tail(spec.log_file, params["log_lines"])
    module.exit_json(changed=False, **facts)


if __name__ == "__main__":
    main()
