"""The dispatcher's decisions: which notices the board calls for, once each; restart limits; its configuration."""

from __future__ import annotations

import json

import pytest

from ansible_collections.moana.orchestration.plugins.module_utils import _dispatch as D

AGENTS = ["claude", "amp", "codex"]


def facts(tasks=(), completions=(), messages=(), by_status=None):
    return {"tasks": list(tasks), "completions": list(completions), "messages": list(messages),
            "tasks_by_status": by_status or {}}


def task(task_id, status, agent="amp"):
    return {"id": task_id, "status": status, "assigned_to": agent, "title": "t"}


def test_pending_tasks_go_to_their_worker_and_results_to_the_orchestrator():
    board = facts(tasks=[task("TASK-001", "PENDING"), task("TASK-002", "IN_PROGRESS"), task("TASK-003", "FAILED", "codex")],
                  completions=[{"id": "TASK-004", "completed_by": "codex"}])
    notices = D.wanted(board, AGENTS, "claude", 0)
    assert notices == {
        "amp": [("TASK-001:PENDING>amp", "TASK-001 is assigned to you: run orchestra task show TASK-001")],
        "claude": [("TASK-003:FAILED>claude", "TASK-003 FAILED (codex): run orchestra task show TASK-003"),
                   ("TASK-004:COMPLETED>claude", "TASK-004 was completed by codex: run orchestra task show TASK-004")],
    }


def test_messages_reach_their_recipient_or_everyone_but_the_sender_and_old_ones_are_not_news():
    board = facts(messages=[{"id": "MSG-001", "from": "claude", "to": "amp"},
                            {"id": "MSG-002", "from": "claude", "to": "amp"},
                            {"id": "MSG-003", "from": "amp", "to": "all"},
                            {"id": "MSG-004", "from": "amp", "to": "nobody-we-know"}])
    notices = D.wanted(board, AGENTS, "claude", 1)
    assert [key for key, dummy in notices["amp"]] == ["MSG-002>amp"]
    assert [key for key, dummy in notices["claude"]] == ["MSG-003>claude"]
    assert [key for key, dummy in notices["codex"]] == ["MSG-003>codex"]
    assert "orchestra msg list --to amp --since MSG-001" in notices["amp"][0][1]


def test_a_burst_becomes_one_notice_and_nothing_sent_comes_back():
    board = facts(tasks=[task("TASK-001", "PENDING"), task("TASK-002", "PENDING")])
    todo = D.pending(D.wanted(board, AGENTS, "claude", 0), set())
    assert D.notice_text(todo["amp"]) == ("[orchestra] TASK-001 is assigned to you: run orchestra task show TASK-001; "
                                          "TASK-002 is assigned to you: run orchestra task show TASK-002")
    sent = {key for key, dummy in todo["amp"]}
    assert D.pending(D.wanted(board, AGENTS, "claude", 0), sent) == {}


def test_sent_keys_are_forgotten_once_their_entry_left_the_board():
    sent = {"TASK-001:PENDING>amp", "TASK-009:COMPLETED>claude", "MSG-002>amp", "MSG-007>codex"}
    board = facts(tasks=[task("TASK-001", "IN_PROGRESS")], messages=[{"id": "MSG-002", "from": "claude", "to": "amp"}])
    assert D.prune(sent, board) == {"TASK-001:PENDING>amp", "MSG-002>amp"}


def test_status_line_escapes_hash_and_counts_the_board():
    board = facts(completions=[{"id": "TASK-001", "completed_by": "x"}],
                  by_status={"PENDING": ["TASK-002", "TASK-003"], "IN_PROGRESS": ["TASK-004"]})
    line = D.status_line({"claude": "idle", "amp#1": "busy"}, board)
    assert line == "claude:idle amp##1:busy | pending 2 · in progress 1 · done 1"


def test_restarts_wait_a_doubling_delay_and_stop_at_the_limit():
    policy = D.RestartPolicy(2, 600.0, 2.0)
    assert policy.decide("amp", died_at=100.0, now=101.0) == "later"
    assert policy.decide("amp", died_at=100.0, now=102.0) == "now"
    policy.record("amp", 102.0)
    assert policy.decide("amp", died_at=110.0, now=113.0) == "later"  # the second waits 4 s
    assert policy.decide("amp", died_at=110.0, now=114.0) == "now"
    policy.record("amp", 114.0)
    assert policy.decide("amp", died_at=120.0, now=200.0) == "give_up"
    assert policy.decide("amp", died_at=800.0, now=800.0 + 2.0) == "now"  # the window has passed


def test_configuration_errors_name_the_key(tmp_path):
    path = tmp_path / "team.json"
    path.write_text(json.dumps({"session": "s", "board": "/b", "state_file": "/s", "agents": [{"name": "a"}], "colour": 1}))
    with pytest.raises(D.ConfigError, match="unknown key.*colour"):
        D.load_config(str(path))
    path.write_text(json.dumps({"session": "s", "board": "/b", "state_file": "/s", "agents": [{"name": "a", "role": "worker"}]}))
    with pytest.raises(D.ConfigError, match="exactly one agent must have role orchestrator"):
        D.load_config(str(path))
    path.write_text("{not json")
    with pytest.raises(D.ConfigError, match="not valid JSON"):
        D.load_config(str(path))
    path.write_text(json.dumps({"session": "s", "board": "/b", "state_file": "/s",
                                "agents": [{"name": "a", "role": "orchestrator"}]}))
    config = D.load_config(str(path))
    assert config["restart"] == {"max": 3, "window": 600.0, "delay": 2.0} and config["poll"] == 0.05
