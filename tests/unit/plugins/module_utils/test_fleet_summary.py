"""The fleet summary from each host's outcome. Pure: no hosts, no Ansible run."""

from __future__ import annotations

import pytest

from ansible_collections.moana.orchestration.plugins.module_utils import _fleet as F


def health_report(states, pending=(), in_progress=(), completed=0, problems=()):
    return {"agents": [{"agent": "a%d" % i, "pane": "dead" if s == "dead" else "alive", "state": s}
                       for i, s in enumerate(states)],
            "board": {"tasks_by_status": {"PENDING": list(pending), "IN_PROGRESS": list(in_progress)},
                      "completed": completed},
            "problems": list(problems)}


def test_health_counts_agents_and_tasks_per_host_and_names_an_unreachable_host():
    healthy = {"team": "moana-orchestration", "report": health_report(["idle", "busy", "busy", "starting"], ["TASK-004"],
                                                                      ["TASK-002", "TASK-003"], completed=1)}
    sick = {"team": "moana-orchestration", "failed": True, "task": "Fail when the team is unhealthy",
            "msg": "unhealthy: agent amp: pane dead",
            "report": health_report(["idle", "dead", "waiting"], problems=["agent amp: pane dead"])}
    result = F.summary("health", {"box1": healthy, "box2": sick, "box3": None})

    by_host = {e["host"]: e for e in result["entries"]}
    assert by_host["box1"]["status"] == "ok" and by_host["box1"]["problems"] == []
    assert by_host["box1"]["agents"] == {"idle": 1, "busy": 2, "waiting": 0, "dead": 0, "other": 1}
    assert by_host["box1"]["tasks"] == {"pending": 1, "in_progress": 2, "done": 1}
    assert by_host["box2"]["status"] == "unhealthy" and by_host["box2"]["problems"] == ["agent amp: pane dead"]
    assert by_host["box2"]["agents"]["dead"] == 1 and by_host["box2"]["agents"]["waiting"] == 1
    assert by_host["box3"]["status"] == "unreachable" and by_host["box3"]["team"] is None
    assert result["failed"] == ["box2", "box3"]
    assert result["counts"] == {"ok": 1, "unhealthy": 1, "unreachable": 1}

    lines = result["text"].splitlines()
    assert lines[0] == "health on 3 hosts: 1 ok, 1 unhealthy, 1 unreachable"
    assert lines[1].split() == ["host", "team", "status", "idle", "busy", "waiting", "dead", "pending", "in", "progress",
                                "done", "problems"]
    assert lines[2].split() == ["box1", "moana-orchestration", "ok", "1", "2", "0", "0", "1", "2", "1", "-"]
    assert lines[4].split()[:3] == ["box3", "-", "unreachable"]
    assert "box2: agent amp: pane dead" in lines
    assert any(line.startswith("box3: unreachable") for line in lines)
    # The report keeps each host's whole health report beside its host name.
    assert by_host["box2"]["report"]["problems"] == ["agent amp: pane dead"]


def test_start_and_stop_give_one_line_per_host():
    outcomes = {"box1": {"team": "t", "actions": ["create session t", "dispatcher: started"]},
                "box2": {"team": "t", "actions": []},
                "box3": {"team": "t", "failed": True, "task": "Validate the team", "msg": "agent x: no command"},
                "box4": None}
    start = F.summary("start", outcomes)
    assert start["text"].splitlines() == [
        "start on 4 hosts: 1 changed, 1 failed, 1 ok, 1 unreachable",
        "box1 (t): started: create session t; dispatcher: started",
        "box2 (t): started, nothing to change",
        "box3 (t): start failed at task 'Validate the team': agent x: no command",
        "box4: unreachable: the run lost this host (see its error above)",
    ]
    assert start["failed"] == ["box3", "box4"]
    stop = F.summary("stop", {"box2": {"team": "t", "actions": []}})
    assert stop["text"].splitlines()[1] == "box2 (t): already stopped"
    assert stop["failed"] == [] and "agents" not in stop["entries"][0]


def test_an_unknown_kind_is_refused():
    with pytest.raises(F.FleetError, match="kind must be one of start, health, stop"):
        F.summary("install", {})
