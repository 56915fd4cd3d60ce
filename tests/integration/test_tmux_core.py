"""tmux_session's core against a real tmux server on a private socket."""

from __future__ import annotations

import os
import signal

import pytest

from conftest import wait_for
from ansible_collections.moana.orchestration.plugins.module_utils import _layout as L
from ansible_collections.moana.orchestration.plugins.module_utils import _process as P
from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T


def seed(tmp_path, **extra):
    return {
        "name": "team",
        "start_directory": str(tmp_path),
        "windows": [
            {"name": "main", "panes": [{"name": n, "command": "sleep 600"} for n in ("claude", "amp", "proxy", "codex")]},
            {"name": "antigravity", "panes": [{"name": "antigravity", "command": "sleep 600"}]},
        ],
        **extra,
    }


def ensure(tmux, params, **kwargs):
    return T.ensure_session(T.open_server(socket_name=tmux.socket_name), L.parse_session(params), **kwargs)


def test_create_then_nothing_to_do(tmux, tmp_path):
    result = ensure(tmux, seed(tmp_path))
    assert result["changed"] and result["created"] == ["claude", "amp", "proxy", "codex", "antigravity"]
    panes = tmux.panes("team")
    assert {name: p["window"] for name, p in panes.items()} == {
        "claude": "main", "amp": "main", "proxy": "main", "codex": "main", "antigravity": "antigravity"}
    assert [p["pane_id"] for p in result["panes"]] == [panes[n]["id"] for n in ("claude", "amp", "proxy", "codex", "antigravity")]
    assert result["session_id"].startswith("$")
    # Seed layout: 2x2 tiled, Claude top left, Codex bottom right.
    geometry = tmux("list-panes", "-t", "=team:main", "-F", "#{@moana_pane} #{pane_left} #{pane_top}").split("\n")
    positions = {line.split()[0]: (int(line.split()[1]), int(line.split()[2])) for line in geometry if line}
    assert positions["claude"] == (0, 0)
    assert positions["amp"][0] > 0 and positions["amp"][1] == 0
    assert positions["proxy"][0] == 0 and positions["proxy"][1] > 0
    assert positions["codex"][0] > 0 and positions["codex"][1] > 0

    again = ensure(tmux, seed(tmp_path))
    assert not again["changed"] and again["actions"] == []
    assert again["diff"]["before"] == again["diff"]["after"]
    assert tmux.panes("team") == panes


def test_a_killed_pane_is_respawned_alone(tmux, tmp_path):
    ensure(tmux, seed(tmp_path))
    before = tmux.panes("team")
    os.kill(before["amp"]["pid"], signal.SIGKILL)
    tmux.wait_dead("team", "amp")

    untouched = ensure(tmux, seed(tmp_path), respawn_dead=False)
    assert not untouched["changed"]
    assert [p["name"] for p in untouched["panes"] if p["dead"]] == ["amp"]

    result = ensure(tmux, seed(tmp_path))
    assert result["changed"] and result["respawned"] == ["amp"] and result["actions"] == ["respawn pane amp (dead)"]
    after = tmux.panes("team")
    assert not after["amp"]["dead"] and after["amp"]["pid"] != before["amp"]["pid"]
    assert after["amp"]["id"] == before["amp"]["id"]
    assert {n: p["pid"] for n, p in after.items() if n != "amp"} == {n: p["pid"] for n, p in before.items() if n != "amp"}
    assert not ensure(tmux, seed(tmp_path))["changed"]


def test_a_pane_added_to_the_description_is_added(tmux, tmp_path):
    ensure(tmux, seed(tmp_path))
    before = tmux.panes("team")
    params = seed(tmp_path)
    params["windows"][1]["panes"].append({"name": "reviewer", "command": "sleep 600"})
    result = ensure(tmux, params)
    assert result["created"] == ["reviewer"]
    after = tmux.panes("team")
    assert after["reviewer"]["window"] == "antigravity" and after["reviewer"]["window_id"] == after["antigravity"]["window_id"]
    assert {n: after[n]["pid"] for n in before} == {n: p["pid"] for n, p in before.items()}
    assert not ensure(tmux, params)["changed"]


def test_removed_from_the_description_goes_but_hand_made_panes_stay(tmux, tmp_path):
    ensure(tmux, seed(tmp_path))
    tmux("split-window", "-t", "=team:main", "sleep 600")
    params = seed(tmp_path)
    params["windows"][0]["panes"] = params["windows"][0]["panes"][:3]
    params["windows"].pop()
    result = ensure(tmux, params)
    assert sorted(result["removed"]) == ["antigravity", "codex"]
    names = set(tmux.panes("team"))
    assert {"claude", "amp", "proxy"} <= names and "codex" not in names and "antigravity" not in names
    assert len([n for n in names if n.startswith("%")]) == 1  # the hand-made pane
    assert not ensure(tmux, params)["changed"]


def test_changed_command_or_environment_restarts_only_that_pane(tmux, tmp_path):
    out = tmp_path / "env.txt"
    params = seed(tmp_path, environment={"MOANA_SECRET": "s3cret-value"})
    params["windows"][1]["panes"][0]["command"] = "echo \"$MOANA_SECRET $OWN\" > %s; sleep 600" % out
    params["windows"][1]["panes"][0]["environment"] = {"OWN": "mine"}
    ensure(tmux, params)
    assert tmux.wait_for_file(out, "s3cret-value mine")
    # Values never reach tmux's options, where anyone on the socket could read them,
    # nor the tmux server's command line, which ps shows for as long as it runs.
    assert "s3cret-value" not in tmux("show-options", "-p", "-t", tmux.panes("team")["antigravity"]["id"])
    server_pid = int(tmux("display-message", "-p", "#{pid}").strip())
    with open("/proc/%d/cmdline" % server_pid, "rb") as stream:
        assert b"s3cret-value" not in stream.read()
    before = tmux.panes("team")
    params["windows"][1]["panes"][0]["environment"] = {"OWN": "changed"}
    result = ensure(tmux, params)
    assert result["restarted"] == ["antigravity"] and result["respawned"] == []
    assert tmux.wait_for_file(out, "s3cret-value changed")
    after = tmux.panes("team")
    assert {n: p["pid"] for n, p in after.items() if n != "antigravity"} == {
        n: p["pid"] for n, p in before.items() if n != "antigravity"}


def test_a_pane_that_vanished_without_remain_on_exit_comes_back(tmux, tmp_path):
    params = seed(tmp_path, remain_on_exit=False)
    params["windows"][0]["panes"][1]["command"] = "sleep 0.3"
    ensure(tmux, params)
    wait_for(lambda: "amp" not in tmux.panes("team"), 5, "amp's pane to go")
    params["windows"][0]["panes"][1]["command"] = "sleep 600"
    result = ensure(tmux, params)
    assert result["created"] == ["amp"]


@pytest.mark.parametrize("layout", [[32], [8, 8, 8, 8]])
def test_thirty_two_panes(tmux, tmp_path, layout):
    params = {
        "name": "big",
        "start_directory": str(tmp_path),
        "windows": [{"name": "w%d" % w, "panes": [{"name": "p%d_%d" % (w, p), "command": "sleep 600"} for p in range(n)]}
                    for w, n in enumerate(layout)],
    }
    result = ensure(tmux, params)
    assert len(result["created"]) == 32
    panes = tmux.panes("big")
    assert len(panes) == 32 and not any(p["dead"] for p in panes.values())
    assert len({p["window_id"] for p in panes.values()}) == len(layout)
    assert not ensure(tmux, params)["changed"]


def test_log_file_and_a_command_ending_in_semicolon(tmux, tmp_path):
    log = tmp_path / "logs" / "claude.log"
    log.parent.mkdir()
    params = {"name": "s", "windows": [{"name": "w", "panes": [
        {"name": "claude", "command": "echo hello-from-pane; sleep 600;", "log_file": str(log)}]}]}
    result = ensure(tmux, params)
    assert result["panes"][0]["logging"] and result["panes"][0]["alive"]
    assert tmux.wait_for_file(log, "hello-from-pane")
    assert not ensure(tmux, params)["changed"]


def test_check_mode_touches_nothing(tmux, tmp_path):
    server = T.open_server(socket_name=tmux.socket_name)
    result = T.ensure_session(server, L.parse_session(seed(tmp_path)), check_mode=True)
    assert result["changed"] and result["actions"] == ["create session team with 2 window(s), 5 pane(s)"]
    assert not result["exists"] and not tmux.has_session("team")

    ensure(tmux, seed(tmp_path))
    os.kill(tmux.panes("team")["codex"]["pid"], signal.SIGKILL)
    tmux.wait_dead("team", "codex")
    result = T.ensure_session(server, L.parse_session(seed(tmp_path)), check_mode=True)
    assert result["respawned"] == ["codex"]
    assert tmux.panes("team")["codex"]["dead"]


def test_absent(tmux, tmp_path):
    server = T.open_server(socket_name=tmux.socket_name)
    assert not T.ensure_absent(server, "team")["changed"]  # no server at all
    ensure(tmux, seed(tmp_path))
    assert T.ensure_absent(server, "team", check_mode=True)["changed"] and tmux.has_session("team")
    assert T.ensure_absent(server, "team")["changed"] and not tmux.has_session("team")
    assert not T.ensure_absent(server, "team")["changed"]


def test_read_and_capture(tmux, tmp_path):
    server = T.open_server(socket_name=tmux.socket_name)
    assert T.read_session(server, "team") is None
    params = {"name": "team", "windows": [{"name": "w", "panes": [
        {"name": "talker", "command": "printf 'one\\ntwo\\nthree\\n'; sleep 600"}]}]}
    ensure(tmux, params)
    state = T.read_session(server, "team")
    pane = state.windows[0].panes[0]
    wait_for(lambda: T.capture(server, pane.pane_id, 2) == ["two", "three"], 5, "the pane's last two lines",
             lambda: str(T.capture(server, pane.pane_id, 5)))
    assert pane.name == "talker" and pane.current_command == "sleep" and pane.pid > 0
    # Another session's name that is a prefix does not match (exact targets).
    assert T.read_session(server, "tea") is None


def test_a_pane_moved_to_a_new_window_keeps_its_process(tmux, tmp_path):
    ensure(tmux, seed(tmp_path))
    before = tmux.panes("team")
    params = seed(tmp_path)
    params["windows"][0]["panes"] = params["windows"][0]["panes"][:3]
    params["windows"].append({"name": "review", "layout": "even-horizontal",
                              "panes": [{"name": "codex", "command": "sleep 600"}, {"name": "extra", "command": "sleep 600"}]})
    result = ensure(tmux, params)
    assert "move pane codex to window review" in result["actions"]
    after = tmux.panes("team")
    assert after["codex"]["window"] == "review" and after["extra"]["window"] == "review"
    assert {after[n]["window"] for n in ("claude", "amp", "proxy")} == {"main"}
    assert after["codex"]["pid"] == before["codex"]["pid"]  # moved, not restarted
    assert not ensure(tmux, params)["changed"]


def test_absent_asks_panes_to_exit_then_ends_what_they_left_behind(tmux, tmp_path):
    marker = tmp_path / "daemon.pid"
    reader = "read line; echo \"got $line\" > %s/said; exit 0" % tmp_path
    daemon = "sh -c 'setsid sleep 600 & echo $! > %s; sleep 600'" % marker
    params = {"name": "team", "start_directory": str(tmp_path), "windows": [{"name": "w", "panes": [
        {"name": "polite", "command": reader, "exit_text": "/exit"},
        {"name": "stubborn", "command": daemon}]}]}
    ensure(tmux, params)
    wait_for(marker.exists, 5, "the daemon's pid file")
    leftover = int(marker.read_text())
    server = T.open_server(socket_name=tmux.socket_name)
    result = T.ensure_absent(server, "team", spec=L.parse_session(params), exit_timeout=2)
    assert result["changed"] and result["exited"] == ["polite"]
    assert (tmp_path / "said").read_text() == "got /exit\n"
    assert leftover in result["leftovers"]
    stat = P.read_stat(leftover)
    assert stat is None or stat[0] in ("Z", "X"), "the setsid daemon survived the session"
    assert not tmux.has_session("team")


def test_a_team_too_long_for_one_tmux_message_is_built_in_several_calls(tmux, tmp_path):
    variables = {"ORCHESTRA_VAR%d" % n: "v" * 120 for n in range(8)}
    params = {"name": "wide", "start_directory": str(tmp_path), "windows": [
        {"name": "w%d" % w, "panes": [{"name": "p%d_%d" % (w, p), "command": "sleep 600", "variables": variables}
                                      for p in range(16)]} for w in range(2)]}
    result = ensure(tmux, params)
    assert len(result["created"]) == 32
    panes = tmux.panes("wide")
    assert {p["window"] for p in panes.values()} == {"w0", "w1"} and not any(p["dead"] for p in panes.values())
    assert sum(1 for n, p in panes.items() if p["window"] == "w1") == 16
    assert not ensure(tmux, params)["changed"]


@pytest.mark.parametrize("layout", ["tiled", "even-horizontal"])
def test_a_window_grown_from_four_panes_to_thirty_two_by_a_second_run(tmux, tmp_path, layout):
    def params(count):
        return {"name": "grow", "start_directory": str(tmp_path), "windows": [{"name": "w", "layout": layout, "panes": [
            {"name": "p%d" % n, "command": "sleep 600"} for n in range(count)]}]}

    ensure(tmux, params(4))
    before = tmux.panes("grow")
    result = ensure(tmux, params(32))
    assert result["created"] == ["p%d" % n for n in range(4, 32)]
    panes = tmux.panes("grow")
    assert len(panes) == 32 and not any(p["dead"] for p in panes.values())
    assert {n: panes[n]["pid"] for n in before} == {n: p["pid"] for n, p in before.items()}
    # The window ends in its own layout: applying it again changes nothing.
    grown = tmux("display-message", "-p", "-t", "=grow:w", "#{window_layout}")
    tmux("select-layout", "-t", "=grow:w", layout)
    assert tmux("display-message", "-p", "-t", "=grow:w", "#{window_layout}") == grown
    assert not ensure(tmux, params(32))["changed"]
