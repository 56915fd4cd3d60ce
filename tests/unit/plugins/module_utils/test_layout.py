"""The pure layout logic: validation, planning, diffs. No tmux here."""

from __future__ import annotations

import pytest

from ansible_collections.moana.orchestration.plugins.module_utils import _layout as L


def pane(name, command="sleep 60", **extra):
    return {"name": name, "command": command, **extra}


def params(*windows, **extra):
    return {"name": "team", "windows": list(windows), **extra}


def window(name, *panes, layout="tiled"):
    return {"name": name, "layout": layout, "panes": list(panes)}


SEED = params(
    window("main", pane("claude"), pane("amp"), pane("proxy"), pane("codex")),
    window("antigravity", pane("antigravity", environment={"ANTHROPIC_BASE_URL": "http://127.0.0.1:8080"})),
    start_directory="/work",
    environment={"BOARD": "/work/CLAUDE.md"},
)


def state_for(spec: L.SessionSpec, dead=(), drop=(), extra=(), fingerprints=None, layout=None, remain=True):
    """The tmux state a resolved spec would have once built, with chosen deviations."""
    spec = L.resolve(spec)
    windows = []
    pane_no = 0
    for w_index, w in enumerate(spec.windows):
        panes = []
        for p_index, p in enumerate(w.panes):
            if p.name in drop:
                continue
            panes.append(
                L.PaneState(
                    pane_id="%%%d" % pane_no, name=p.name, window_id="@%d" % w_index, window_name=w.name,
                    window_index=w_index, pane_index=p_index, pid=1000 + pane_no, current_command="sleep",
                    start_command='"%s"' % p.command, dead=p.name in dead, dead_status=0 if p.name in dead else None,
                    dead_signal=None, fingerprint=(fingerprints or {}).get(p.name, p.fingerprint()),
                    logging=bool(p.log_file), title=p.name, activity=0,
                )
            )
            pane_no += 1
        panes.extend(e for e in extra if e.window_id == "@%d" % w_index)
        windows.append(L.WindowState("@%d" % w_index, w_index, w.name, w.name, layout or w.layout, remain, tuple(panes)))
    return L.SessionState("$0", spec.name, tuple(windows))


@pytest.mark.parametrize(
    "bad, message",
    [
        ({"name": "", "windows": [window("w", pane("a"))]}, "session name is empty"),
        ({"name": "a.b", "windows": [window("w", pane("a"))]}, "contains '.' or ':'"),
        ({"name": "x:y", "windows": [window("w", pane("a"))]}, "contains '.' or ':'"),
        (params(), "at least one window"),
        (params(window("w")), "window 'w' has no panes"),
        (params(window("w", pane("a")), window("w", pane("b"))), "window 'w' is described twice"),
        (params(window("", pane("a"))), "windows[0].name is empty"),
        (params(window("w", pane("a"), pane("a"))), "pane 'a' is already described in window 'w'"),
        (params(window("w", pane("a")), window("v", pane("a"))), "pane names must be unique"),
        (params(window("w", pane(""))), "windows[0].panes[0].name is empty"),
        (params(window("w", pane("a"), layout="spiral")), "unknown layout 'spiral'"),
        (params(window("w", pane("a", environment={"1BAD": "x"}))), "'1BAD' is not a valid variable name"),
        (params(window("w", pane("a", environment={"K": None}))), "environment.K must be a string"),
        (params(window("w", pane("a", start_directory="rel/dir"))), "is relative; give an absolute path"),
        (params(window("w", pane("a", log_file="a.log"))), "is relative; give an absolute path"),
        (params(window("w", pane("a")), start_directory="."), "is relative"),
        (params(window("w", pane("a")), width=1), "width must be an integer of at least 2"),
        (params(window("w", pane("a")), environment=["A=1"]), "must be a mapping"),
    ],
)
def test_bad_descriptions_name_the_problem(bad, message):
    with pytest.raises(L.LayoutError) as err:
        L.parse_session(bad)
    assert message in str(err.value)


def test_seed_layout_parses_with_defaults():
    spec = L.parse_session(SEED)
    assert [w.name for w in spec.windows] == ["main", "antigravity"]
    assert [p.name for p in spec.windows[0].panes] == ["claude", "amp", "proxy", "codex"]
    assert spec.remain_on_exit is True and (spec.width, spec.height) == (200, 50)
    assert spec.windows[1].layout == "tiled"


def test_resolve_merges_session_environment_and_directory():
    spec = L.resolve(L.parse_session(SEED))
    anti = spec.windows[1].panes[0]
    assert dict(anti.environment) == {"ANTHROPIC_BASE_URL": "http://127.0.0.1:8080", "BOARD": "/work/CLAUDE.md"}
    assert anti.start_directory == "/work"
    overridden = resolved(params(window("w", pane("a", environment={"K": "pane"})), environment={"K": "s"}))
    assert dict(overridden.windows[0].panes[0].environment) == {"K": "pane"}


def test_fingerprint_follows_command_directory_and_environment_only():
    base = L.PaneSpec("a", "cmd", "/d", (("K", "v"),))
    assert base.fingerprint() == L.PaneSpec("renamed", "cmd", "/d", (("K", "v"),), "/log").fingerprint()
    assert base.fingerprint() != L.PaneSpec("a", "cmd2", "/d", (("K", "v"),)).fingerprint()
    assert base.fingerprint() != L.PaneSpec("a", "cmd", "/e", (("K", "v"),)).fingerprint()
    assert base.fingerprint() != L.PaneSpec("a", "cmd", "/d", (("K", "w"),)).fingerprint()
    assert "v" not in base.fingerprint()


def test_check_paths_names_the_missing_directory():
    spec = L.parse_session(params(window("w", pane("a", log_file="/nope/a.log")), start_directory="/ok"))
    with pytest.raises(L.LayoutError, match="log_file's directory: directory /nope does not exist"):
        L.check_paths(spec, lambda path: path == "/ok")
    L.check_paths(spec, lambda path: True)


def resolved(p):
    return L.resolve(L.parse_session(p))


def kinds(result):
    return [type(a).__name__ for a in result.actions]


def test_no_session_means_create_everything():
    result = L.plan(resolved(SEED), None)
    assert kinds(result) == ["CreateSession"]
    assert result.names(L.CreateSession) == ["claude", "amp", "proxy", "codex", "antigravity"]


def test_matching_session_needs_nothing():
    spec = resolved(SEED)
    assert not L.plan(spec, state_for(spec)).changed


def test_only_the_dead_pane_is_respawned():
    spec = resolved(SEED)
    result = L.plan(spec, state_for(spec, dead=("codex",)))
    assert kinds(result) == ["RespawnPane"]
    assert result.names(L.RespawnPane, "dead") == ["codex"]
    assert result.actions[0].pane_id == "%3"
    assert not L.plan(spec, state_for(spec, dead=("codex",)), respawn_dead=False).changed


def test_changed_command_restarts_the_pane():
    spec = resolved(SEED)
    result = L.plan(spec, state_for(spec, fingerprints={"amp": "0" * 16}))
    assert result.names(L.RespawnPane, "changed") == ["amp"]


def test_missing_pane_is_added_and_its_window_rearranged():
    spec = resolved(SEED)
    result = L.plan(spec, state_for(spec, drop=("proxy",)))
    assert kinds(result) == ["AddPane", "Relayout"]
    assert result.actions[0].window_id == "@0" and result.actions[0].pane.name == "proxy"


def test_missing_window_is_created():
    spec = resolved(SEED)
    # A window whose last pane is gone no longer exists in tmux.
    state = state_for(spec, drop=("antigravity",))
    state = L.SessionState(state.session_id, state.name, state.windows[:1])
    result = L.plan(spec, state)
    assert kinds(result) == ["CreateWindow"]
    assert result.names(L.CreateWindow) == ["antigravity"]


def test_panes_no_longer_described_are_removed_but_hand_made_ones_stay():
    spec = resolved(SEED)
    hand_made = L.PaneState("%9", "", "@0", "main", 0, 9, 1, "bash", "", False, None, None, "", False, "bash", 0)
    smaller = dict(SEED, windows=[window("main", pane("claude"), pane("amp"), pane("proxy")), SEED["windows"][1]])
    result = L.plan(resolved(smaller), state_for(spec, extra=(hand_made,)))
    assert kinds(result) == ["KillPane", "Relayout"]
    assert result.names(L.KillPane) == ["codex"]


def test_window_no_longer_described_is_removed():
    spec = resolved(SEED)
    only_main = resolved(params(window("main", pane("claude"), pane("amp"), pane("proxy"), pane("codex")),
                                start_directory="/work", environment={"BOARD": "/work/CLAUDE.md"}))
    result = L.plan(only_main, state_for(spec))
    assert kinds(result) == ["KillWindow"]
    assert result.names(L.KillWindow) == ["antigravity"]


def test_pane_described_in_another_window_is_moved_not_restarted():
    spec = resolved(SEED)
    moved = dict(SEED, windows=[window("main", pane("claude"), pane("amp"), pane("proxy")),
                                window("antigravity", SEED["windows"][1]["panes"][0], pane("codex"))])
    result = L.plan(resolved(moved), state_for(spec))
    assert kinds(result) == ["MovePane", "Relayout", "Relayout"]
    move = result.actions[0]
    assert (move.name, move.pane_id, move.window_id) == ("codex", "%3", "@1")
    assert {a.window_name for a in result.actions[1:]} == {"main", "antigravity"}


def test_layout_and_remain_on_exit_changes_are_applied_in_place():
    spec = resolved(SEED)
    result = L.plan(spec, state_for(spec, layout="even-horizontal", remain=False))
    assert sorted(kinds(result)) == ["Relayout", "Relayout", "SetRemainOnExit", "SetRemainOnExit"]


def test_diff_is_empty_when_nothing_changes_and_never_shows_values():
    spec = resolved(SEED)
    state = state_for(spec)
    before, after = L.describe_state(state, spec), L.describe_after(spec, state)
    assert before == after
    assert "http://127.0.0.1:8080" not in repr(after) and "/work/CLAUDE.md" not in repr(after)
    assert after["windows"][1]["panes"][0]["environment"] == ["ANTHROPIC_BASE_URL", "BOARD"]


def test_diff_shows_dead_pane_coming_back():
    spec = resolved(SEED)
    state = state_for(spec, dead=("codex",))
    assert L.describe_state(state, spec)["windows"][0]["panes"][3]["state"] == "dead"
    assert L.describe_after(spec, state)["windows"][0]["panes"][3]["state"] == "alive"
    assert L.describe_after(spec, state, respawn_dead=False)["windows"][0]["panes"][3]["state"] == "dead"


def test_plain_variables_and_secret_environment_merge_with_the_secret_winning():
    spec = L.parse_session(params(window("w", pane("a", variables={"K": "plain", "P": "1"}, environment={"K": "secret"}))))
    assert dict(spec.windows[0].panes[0].environment) == {"K": "secret", "P": "1"}
    with pytest.raises(L.LayoutError, match=r"windows\[0\].panes\[0\].variables: '1X' is not a valid variable name"):
        L.parse_session(params(window("w", pane("a", variables={"1X": "v"}))))
