# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CLIs' own word on what they do: hooks that report each agent's state, the screen as fallback.

Claude Code runs hooks on its events (UserPromptSubmit, Stop, Notification,
SessionStart); Codex runs a ``notify`` program when a turn is complete. Both
call ``orchestra hook``, which writes what the event means (``hook_state``)
to the agent's report, ``TEAM_DIR/hooks/AGENT.json`` (``write_report``). The
dispatcher and health read it (``read_report``) and take it over the screen
while it is fresh (``prefer_report``). ``claude_settings`` is what the role
merges into the project's Claude Code settings, ``codex_notify`` the option a
Codex agent is started with. Standard library only; a hook imports nothing
beyond what every ``orchestra`` command loads.
"""

from __future__ import annotations

import json
import os
import shlex
import time

try:
    from ansible_collections.moana.orchestration.plugins.module_utils import _board_store as store_lib
except ImportError:  # deployed with the orchestra command: the files sit side by side
    import _board_store as store_lib  # type: ignore[no-redef]

# Seconds a report wins over a screen that disagrees (the screen redraws after the event).
GRACE = 3.0
CLAUDE_EVENTS = {"UserPromptSubmit": "busy", "Stop": "idle", "SessionStart": "idle"}
CLAUDE_HOOKED = ("UserPromptSubmit", "Stop", "Notification", "SessionStart")
STATES = ("idle", "busy", "waiting")


def hook_state(cli: str, payload: dict, event: str | None = None) -> str | None:
    """The state a CLI's hook event means (None: it says nothing about the state). ``payload`` is the JSON
    the CLI gives its hook; ``event`` the event named on the hook's command line (Claude Code's)."""
    if cli == "claude":
        name = payload.get("hook_event_name") or event
        if name == "Notification":
            kind = payload.get("notification_type") or ""
            if kind == "permission_prompt" or "permission" in str(payload.get("message", "")).lower():
                return "waiting"
            return "idle" if kind == "idle_prompt" else None
        return CLAUDE_EVENTS.get(name or "")
    if cli == "codex":
        if payload.get("type") != "agent-turn-complete" or _title_turn(payload):
            return None
        return "idle"
    return None


# Codex 0.169 names each new conversation in a turn of its own, which ends (and runs notify) while the
# conversation's first turn is still at work; that turn's input starts with this.
CODEX_TITLE_TURN = "Generate a concise, single-line task title"


def _title_turn(payload: dict) -> bool:
    messages = payload.get("input-messages")
    return isinstance(messages, list) and any(isinstance(m, str) and m.startswith(CODEX_TITLE_TURN) for m in messages)


def prefer_report(screen_state: str, report: dict | None, screen_since: float | None, now: float,
                  grace: float = GRACE) -> bool:
    """Whether the CLI's own report says the agent's state rather than its screen.

    The report wins when the screen agrees, reads nothing known, or has not changed state since the report
    (a redraw behind, or a screen the patterns misread); the screen wins when the pane is dead or shows a usage
    limit, and when it
    moved to another state after the report and the report is ``grace`` seconds old: an event the CLI has no
    hook for (an interrupted turn ends without its Stop hook).
    """
    if not report or screen_state in ("dead", "limited") or report.get("state") not in STATES:
        return False  # no hook tells a dead pane or a usage limit
    if report["state"] == screen_state or screen_state in ("unknown", "starting"):
        return True
    if now - report["time"] < grace:
        return True
    return screen_since is None or screen_since <= report["time"]


def report_path(team_dir: str, agent: str) -> str:
    return os.path.join(team_dir, "hooks", "%s.json" % agent)


def read_report(path: str) -> dict | None:
    """A hook report ({state, time, event, cli}); None when missing or unreadable."""
    try:
        with open(path, encoding="utf-8") as stream:
            report = json.load(stream)
    except (OSError, ValueError):
        return None
    if not isinstance(report, dict) or not isinstance(report.get("time"), (int, float)):
        return None
    return report


def session_of(cli: str, payload: dict) -> str | None:
    """The conversation a hook event belongs to (what resumes it): Claude Code's session id, Codex's thread."""
    value = payload.get("session_id") if cli == "claude" else payload.get("thread-id") if cli == "codex" else None
    return value if isinstance(value, str) and value and value.replace("-", "").isalnum() else None


def write_report(team_dir: str, agent: str, state: str, cli: str, event: str, now: float | None = None,
                 session: str | None = None) -> str:
    """Write the agent's report through the collection's atomic writer (0600, in a 0700 folder); returns its
    path. An event without a session keeps the one the report had."""
    store_lib.make_dirs(os.path.join(team_dir, "hooks"))
    path = report_path(team_dir, agent)
    session = session or (read_report(path) or {}).get("session")
    store_lib.atomic_write(path, json.dumps({"state": state, "time": time.time() if now is None else now,
                                             "cli": cli, "event": event, "session": session}) + "\n", 0o600)
    return path


def recorded_session(team_dir: str, agent: str) -> str | None:
    """The conversation the agent's hooks last recorded (what its restart resumes), or None."""
    session = (read_report(report_path(team_dir, agent)) or {}).get("session")
    return session if isinstance(session, str) and session else None


def resumed_words(session: str) -> str:
    """What the orchestrator is told of an agent restarted in its own conversation."""
    return "it resumes its own conversation (%s), with its context" % session


def resume_command(command: str, cli: str, conversation: str) -> str:
    """``command`` (an ``exec``'d CLI with its options) resuming the conversation ``conversation`` (a shell
    word, such as ``"$s"``): Claude Code's ``--resume ID``, Codex's ``resume ID`` subcommand."""
    if cli == "claude":
        return "%s --resume %s" % (command, conversation)
    head, program, rest = command.partition("codex")
    return "%s%s resume %s%s" % (head, program, conversation, rest)


def hook_command(orchestra: str, team_dir: str, cli: str, event: str | None = None) -> list[str]:
    """The command line a CLI runs on its events."""
    return [orchestra, "hook", "--dir", team_dir, cli] + ([event] if event else [])


def claude_settings(orchestra: str, team_dir: str) -> dict:
    """The hooks that report a Claude Code agent's state, as its settings file holds them (merged into the
    user's own hooks, one entry per event)."""
    return {"hooks": {event: [{"hooks": [{"type": "command", "timeout": 10,
                                          "command": shlex.join(hook_command(orchestra, team_dir, "claude", event))}]}]
                      for event in CLAUDE_HOOKED}}


def codex_notify(orchestra: str, team_dir: str) -> str:
    """The option that makes a Codex agent run ``orchestra hook`` when a turn is complete (Codex adds the
    event as a JSON argument), quoted for the pane's shell; it holds for that process only."""
    value = "notify=%s" % json.dumps(hook_command(orchestra, team_dir, "codex"))
    return "-c %s" % shlex.quote(value)
