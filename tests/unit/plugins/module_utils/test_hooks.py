"""The CLIs' own reports: what each hook event means, when a report wins over the screen, the report file as
`orchestra hook` writes it (a real process), and the settings and option that install the hooks."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
from pathlib import Path

import pytest

from ansible_collections.moana.orchestration.plugins.module_utils import _hooks as H
from ansible_collections.moana.orchestration.plugins.module_utils import _settings_file as S

ORCHESTRA = Path(__file__).resolve().parents[4] / "scripts" / "orchestra"


@pytest.mark.parametrize("cli, payload, event, state", [
    ("claude", {"hook_event_name": "UserPromptSubmit", "prompt": "hi"}, "UserPromptSubmit", "busy"),
    ("claude", {"hook_event_name": "Stop", "stop_hook_active": False}, "Stop", "idle"),
    ("claude", {}, "SessionStart", "idle"),  # the event from the command line when the payload lacks it
    ("claude", {"hook_event_name": "Notification", "notification_type": "permission_prompt"}, None, "waiting"),
    ("claude", {"hook_event_name": "Notification", "message": "Claude needs your permission to use Bash"}, None,
     "waiting"),
    ("claude", {"hook_event_name": "Notification", "notification_type": "idle_prompt"}, None, "idle"),
    ("claude", {"hook_event_name": "Notification", "notification_type": "auth_success"}, None, None),
    ("claude", {"hook_event_name": "PreCompact"}, None, None),
    ("codex", {"type": "agent-turn-complete", "turn-id": "1"}, None, "idle"),
    ("codex", {"type": "something-else"}, None, None),
    # Its title turn ends while the conversation's first turn is at work: it says nothing.
    ("codex", {"type": "agent-turn-complete", "input-messages": ["Generate a concise, single-line task title of at "
                                                                 "most 36 characters\n\nUser prompt:\nthink"]}, None, None),
    ("amp", {"type": "agent-turn-complete"}, None, None),
])
def test_each_event_means_a_state_or_nothing(cli, payload, event, state):
    assert H.hook_state(cli, payload, event) == state


def test_a_report_wins_while_fresh_against_the_screen():
    idle = {"state": "idle", "time": 100.0}
    assert H.prefer_report("idle", idle, 50, 200)  # they agree
    assert H.prefer_report("unknown", idle, 150, 200) and H.prefer_report("starting", idle, None, 200)
    assert H.prefer_report("busy", idle, 101, 102)  # the screen has not redrawn yet (within the grace)
    assert H.prefer_report("busy", idle, 90, 200)  # the screen read busy since before the event: it misreads
    assert not H.prefer_report("busy", idle, 150, 200)  # it moved after the event: something the hooks missed
    assert not H.prefer_report("dead", idle, 50, 200) and not H.prefer_report("idle", None, 50, 200)
    assert not H.prefer_report("idle", {"state": "lunch", "time": 100.0}, 50, 200)
    assert H.prefer_report("busy", idle, None, 200)  # nobody knows since when the screen says so


def test_orchestra_hook_writes_the_agents_report_and_never_fails_the_cli(tmp_path):
    team = tmp_path / "team"
    env = dict(os.environ, ORCHESTRA_AGENT="claude")

    def hook(*args, stdin="", **extra):
        return subprocess.run([str(ORCHESTRA), "hook", "--dir", str(team), *args], input=stdin, text=True,
                              capture_output=True, env=dict(env, **extra), check=False, timeout=30)

    done = hook("claude", "UserPromptSubmit", stdin=json.dumps({"hook_event_name": "UserPromptSubmit"}))
    assert done.returncode == 0 and done.stdout == "" and done.stderr == ""  # its output would join the prompt
    report = H.read_report(str(team / "hooks" / "claude.json"))
    assert report["state"] == "busy" and report["cli"] == "claude" and report["event"] == "UserPromptSubmit"
    assert (team / "hooks" / "claude.json").stat().st_mode & 0o777 == 0o600
    assert (team / "hooks").stat().st_mode & 0o777 == 0o700
    hook("claude", "Stop", stdin="not json")  # the event from its command line
    assert H.read_report(str(team / "hooks" / "claude.json"))["state"] == "idle"
    assert hook("codex", json.dumps({"type": "agent-turn-complete"}), ORCHESTRA_AGENT="codex").returncode == 0
    assert H.read_report(str(team / "hooks" / "codex.json"))["state"] == "idle"
    # Outside a team's pane, or an event that says nothing: nothing written, still exit 0.
    before = sorted(p.name for p in (team / "hooks").iterdir())
    assert hook("claude", "Stop", ORCHESTRA_AGENT="").returncode == 0
    assert hook("claude", "PreCompact", ORCHESTRA_AGENT="amp").returncode == 0
    assert hook("claude", "Stop", ORCHESTRA_AGENT="../etc").returncode == 0
    assert sorted(p.name for p in (team / "hooks").iterdir()) == before


def test_the_recorded_conversation_is_the_last_one_an_event_named(tmp_path):
    team = str(tmp_path / "team")
    assert H.recorded_session(team, "codex") is None  # no report yet: a new conversation
    H.write_report(team, "codex", "idle", "codex", "agent-turn-complete", session="0199-a1")
    H.write_report(team, "codex", "busy", "codex", "SessionStart")  # an event without one keeps it
    assert H.recorded_session(team, "codex") == "0199-a1"
    Path(H.report_path(team, "codex")).write_text("{broken")
    assert H.recorded_session(team, "codex") is None


def test_the_claude_hooks_merge_into_a_users_own_once(tmp_path):
    mine = {"hooks": {"Stop": [{"hooks": [{"type": "command", "command": "notify-send done"}]}]},
            "permissions": {"allow": ["Bash"]}}
    patch = H.claude_settings("/h/bin/orchestra", "/h/teams/t")
    first = S.apply(json.dumps(mine), "json", patch, "settings.local.json", "append")
    assert first.changed
    stop = first.data["hooks"]["Stop"]
    assert stop[0] == mine["hooks"]["Stop"][0] and len(stop) == 2  # the user's hook first, then ours
    assert shlex.split(stop[1]["hooks"][0]["command"]) == ["/h/bin/orchestra", "hook", "--dir", "/h/teams/t",
                                                           "claude", "Stop"]
    assert set(first.data["hooks"]) == set(H.CLAUDE_HOOKED) and first.data["permissions"] == {"allow": ["Bash"]}
    assert not S.apply(first.after, "json", patch, "settings.local.json", "append").changed  # idempotent


def test_codex_gets_its_notify_program_as_one_option_the_shell_keeps_whole(tmp_path):
    option = H.codex_notify("/h o/bin/orchestra", "/h o/teams/t")
    words = subprocess.run(["sh", "-c", "printf '%s\\n' " + option], capture_output=True, text=True, check=True).stdout
    flag, value = words.splitlines()
    assert flag == "-c" and value.startswith("notify=")
    assert json.loads(value[len("notify="):]) == ["/h o/bin/orchestra", "hook", "--dir", "/h o/teams/t", "codex"]
