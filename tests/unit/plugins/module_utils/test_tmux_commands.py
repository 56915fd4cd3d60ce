"""The tmux command lines built from a layout, and the parsing of tmux's answer. No tmux here."""

from __future__ import annotations

import os
import stat
import subprocess

import pytest

from ansible_collections.moana.orchestration.plugins.module_utils import _layout as L
from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T


def spec_with(panes_per_window, **extra):
    windows = [
        {"name": "w%d" % w, "panes": [{"name": "p%d_%d" % (w, p), "command": "sleep 60"} for p in range(n)]}
        for w, n in enumerate(panes_per_window)
    ]
    return L.resolve(L.parse_session({"name": "s", "windows": windows, **extra}))


def test_chain_separates_commands_and_escapes_a_trailing_semicolon():
    argv = T.chain([["new-session", "-d", "echo a;"], ["set-option", "-e", "K=x\\;"], ["list-panes"]])
    assert argv == ["new-session", "-d", "echo a\\;", ";", "set-option", "-e", "K=x\\\\;", ";", "list-panes"]


def test_one_split_and_relayout_per_extra_pane():
    commands = T.session_commands(spec_with([32]))
    verbs = [c[0] for c in commands]
    assert verbs.count("new-session") == 1
    assert verbs.count("split-window") == 31
    # Re-tiling after every split is what lets 32 panes fit.
    for i, verb in enumerate(verbs):
        if verb == "split-window":
            assert "select-layout" in verbs[i + 1:i + 6]


def test_windows_after_the_first_are_new_windows_and_the_first_is_selected_last():
    commands = T.session_commands(spec_with([2, 1, 3]))
    verbs = [c[0] for c in commands]
    assert verbs.count("new-window") == 2 and verbs.count("split-window") == 3
    assert commands[-1] == ["select-window", "-t", "=s:^"]
    assert ["set-option", "-w", "-t", "=s:", "@moana_window", "w2"] in commands


def test_the_session_is_made_bare_and_values_follow_in_later_commands():
    spec = L.resolve(L.parse_session({
        "name": "s", "environment": {"S": "secret-1"}, "start_directory": "/tmp",
        "windows": [{"name": "w", "panes": [{"name": "a", "command": "run", "environment": {"P": "2"}}]}],
    }))
    commands = T.session_commands(spec, token="t0k")
    # The call that may start the server carries no value: its argv stays on the server.
    assert commands[0] == ["new-session", "-d", "-s", "s", "-x", "200", "-y", "50", "-n", "w", "-c", "/tmp"]
    assert ["set-environment", "-t", "=s", "S", "secret-1"] in commands
    assert ["set-environment", "-t", "=s", "MOANA_ORCHESTRATION_SESSION", "t0k"] in commands
    assert ["respawn-pane", "-k", "-t", "=s:", "-c", "/tmp", "-e", "P=2", "-e", "S=secret-1", "run"] in commands


def test_pane_labels_carry_name_fingerprint_and_log():
    spec = L.resolve(L.parse_session({
        "name": "s", "windows": [{"name": "w", "panes": [{"name": "a b", "command": "x", "log_file": "/l/it's.log"}]}],
    }))
    commands = T.session_commands(spec)
    pane = spec.windows[0].panes[0]
    assert ["set-option", "-p", "-t", "=s:", "@moana_pane", "a b"] in commands
    assert ["set-option", "-p", "-t", "=s:", "@moana_fingerprint", pane.fingerprint()] in commands
    quoted = "'/l/it'\"'\"'s.log'"
    assert ["pipe-pane", "-o", "-t", "=s:", "umask 077; chmod 600 %s 2>/dev/null; exec cat >> %s" % (quoted, quoted)] in commands


def test_a_pending_note_is_set_in_the_call_that_starts_the_pane_and_is_no_part_of_its_fingerprint():
    described = {"name": "s", "windows": [{"name": "w", "panes": [{"name": "amp", "command": "x", "pending": "initial prompt"},
                                                                  {"name": "b", "command": "y"}]}]}
    spec = L.resolve(L.parse_session(described))
    commands = T.session_commands(spec)
    assert ["set-option", "-p", "-t", "=s:", "@moana_pending", "initial prompt"] in commands
    assert sum(1 for c in commands if "@moana_pending" in c) == 1
    plain = L.parse_session({"name": "s", "windows": [{"name": "w", "panes": [{"name": "amp", "command": "x"}]}]})
    assert spec.windows[0].panes[0].fingerprint() == L.resolve(plain).windows[0].panes[0].fingerprint()
    respawn = T._action_commands(L.RespawnPane(pane_id="%1", pane=spec.windows[0].panes[0], reason="dead"), T._Context(None, spec))
    assert ["set-option", "-p", "-t", "%1", "@moana_pending", "initial prompt"] in respawn


def test_the_transcript_command_makes_a_private_file_whatever_the_umask(tmp_path):
    """tmux runs pipe-pane's command with sh -c under its own umask (usually 022)."""
    folder = tmp_path / "a dir 'quoted'"
    folder.mkdir()
    new, old = folder / "new pane.log", folder / "old $pane.log"
    old.write_text("before\n")
    old.chmod(0o644)
    for path in (new, old):
        subprocess.run(["sh", "-c", "umask 022; " + T.pipe_command(str(path))], input=b"screen\n", check=True)
    assert new.read_bytes() == b"screen\n" and old.read_bytes() == b"before\nscreen\n"
    assert stat.S_IMODE(os.stat(new).st_mode) == stat.S_IMODE(os.stat(old).st_mode) == 0o600


def row(**values):
    base = {
        "session_id": "$1", "session_name": "s", "window_id": "@1", "window_index": "0", "window_name": "bash",
        "@moana_window": "main", "@moana_layout": "tiled", "remain-on-exit": "on", "window_activity": "1700000000",
        "pane_id": "%1", "pane_index": "0", "@moana_pane": "claude", "@moana_fingerprint": "abc", "@moana_pending": "",
        "pane_pid": "42",
        "pane_current_command": "node", "pane_dead": "0", "pane_dead_status": "", "pane_dead_signal": "",
        "pane_pipe": "1", "pane_title": "Claude Code", "pane_start_command": '"claude"',
    }
    base.update(values)
    return "\x1f".join(base[name] for name in T._FIELDS)


def test_parse_panes_groups_by_window_in_index_order():
    state = T.parse_panes([
        row(window_id="@2", window_index="1", pane_id="%3", **{"@moana_pane": "anti", "@moana_window": "second"}),
        row(pane_id="%2", pane_index="1", pane_dead="1", pane_dead_status="3", **{"@moana_pane": "codex"}),
        row(),
    ])
    assert [w.key for w in state.windows] == ["main", "second"]
    assert [p.name for p in state.windows[0].panes] == ["claude", "codex"]
    codex = state.windows[0].panes[1]
    assert codex.dead and codex.dead_status == 3 and codex.pid == 42 and codex.logging
    assert state.windows[0].remain_on_exit and state.windows[0].layout == "tiled"
    facts = T.session_facts(state)
    assert facts["exists"] and facts["session_id"] == "$1"
    assert facts["panes"][1]["alive"] is False and facts["windows"][1]["panes"] == ["anti"]


def test_parse_panes_keeps_a_start_command_that_contains_the_separator_free_text():
    state = T.parse_panes([row(pane_start_command='"sh -c \'a | b\'"')])
    assert state.windows[0].panes[0].start_command == '"sh -c \'a | b\'"'


def test_hand_made_window_and_pane_have_no_managed_name():
    state = T.parse_panes([row(**{"@moana_window": "", "@moana_pane": "", "@moana_layout": ""})])
    window = state.windows[0]
    assert window.key == "bash" and not window.managed_name and window.panes[0].name == ""


def test_no_rows_means_no_session():
    assert T.parse_panes([]) is None
    assert T.session_facts(None) == {"exists": False, "session_id": None, "windows": [], "panes": []}


def test_long_sessions_are_cut_into_calls_under_the_tmux_message_limit():
    long_env = {"VAR%d" % n: "x" * 100 for n in range(10)}
    spec = L.resolve(L.parse_session({"name": "s", "windows": [{"name": "w", "panes": [
        {"name": "p%d" % n, "command": "sleep 600", "environment": long_env} for n in range(32)]}]}))
    commands = T.session_commands(spec)
    runs = T.batches(commands)
    assert len(runs) > 1 and [c for run in runs for c in run] == commands
    assert all(len(" ".join(T.chain(run)).encode()) < T.CHAIN_LIMIT + 100 for run in runs)


def test_a_pane_that_died_at_once_is_described_by_name_end_and_last_words():
    lines = ["error: unexpected argument '--yolo' found", "", "Usage: codex [OPTIONS]", "   ", "Pane is dead (status 2, now)"]
    said = T.last_words(lines)
    assert said == ["error: unexpected argument '--yolo' found", "Usage: codex [OPTIONS]"]
    assert T.last_words(["line %d" % n for n in range(30)], 3) == ["line 27", "line 28", "line 29"]
    text = T.describe_deaths([{"name": "codex", "status": 2, "signal": None, "lines": said},
                              {"name": "amp", "status": None, "signal": 9, "lines": []}], 3.0)
    assert text.splitlines() == [
        "pane codex: its program ended within 3s of its start (exit status 2); its last lines:",
        "    error: unexpected argument '--yolo' found", "    Usage: codex [OPTIONS]",
        "pane amp: its program ended within 3s of its start (signal 9); its last lines:", "    (its screen is empty)"]


@pytest.mark.parametrize("version, minimum, expected", [
    ("3.3a", "3.2", True), ("3.2", "3.2", True), ("3.1c", "3.2", False), ("2.9", "3.2", False), ("10.0", "3.2", True),
    ("next-3.6", "3.2", True), ("master", "3.2", True)])
def test_the_tmux_version_is_compared_by_its_numbers(version, minimum, expected):
    assert T.version_at_least(version, minimum) is expected


def test_a_missing_tmux_has_no_version():
    assert T.tmux_version("/nonexistent/tmux") is None


def test_tmuxs_notice_in_a_dead_pane_tells_its_end_when_the_format_is_empty():
    assert T.dead_notice(["error: bad option", "", "Pane is dead (status 2, Wed Nov 25 12:56:28 2026)"]) == (2, None)
    assert T.dead_notice(["Pane is dead (signal 9, Wed Nov 25 12:56:28 2026)", ""]) == (None, 9)
    assert T.dead_notice(["still running"]) == (None, None)
