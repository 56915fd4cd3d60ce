# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The fleet_summary filter: the hosts of a run and their outcomes -> one summary (module_utils/_fleet.py)."""

from __future__ import annotations

DOCUMENTATION = r"""
name: fleet_summary
author: Moana Orchestration maintainers (@moana)
version_added: "0.1.0"
short_description: One summary of a start, health or stop run over many hosts
description:
  - Reads each host's C(orchestration_outcome) (left by the role's last task, or by the playbook's rescue when a
    task failed) and sums the run up in one table or one line per host, with one report entry per host.
  - A host that left no outcome is reported as unreachable.
options:
  _input:
    description: The hosts of the run, in order (C(ansible_play_hosts_all)).
    type: list
    elements: str
    required: true
  hostvars:
    description: C(hostvars), where each host's outcome is read.
    type: dict
    required: true
  kind:
    description: Which playbook ran.
    type: str
    choices: [start, health, stop]
    required: true
"""

EXAMPLES = r"""
- name: Sum up the run
  ansible.builtin.debug:
    msg: "{{ (ansible_play_hosts_all | moana.orchestration.fleet_summary(hostvars, 'health')).text }}"
  run_once: true
"""

RETURN = r"""
_value:
  description:
    - C(entries) (one per host, with C(host), C(team), C(status) ok/changed/unhealthy/failed/unreachable and
      C(problems); health entries add C(agents) and C(tasks) counts and the host's C(report)), C(text), C(counts)
      (hosts per status) and C(failed) (the hosts whose run did not end well).
  type: dict
"""

from ansible.errors import AnsibleFilterError
from ansible_collections.moana.orchestration.plugins.module_utils import _fleet

OUTCOME = "orchestration_outcome"


def fleet_summary(hosts, hostvars, kind):
    outcomes = {}
    for host in hosts:
        facts = hostvars[host]
        outcomes[host] = facts[OUTCOME] if OUTCOME in facts else None
    try:
        return _fleet.summary(kind, outcomes)
    except _fleet.FleetError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"fleet_summary": fleet_summary}
