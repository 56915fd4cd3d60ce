"""A pane's env file in the tmux layer: the shell reads it before the command, tmux never sees a value, and a
changed file restarts the pane (and only that pane)."""

from __future__ import annotations

import subprocess

import pytest

from ansible_collections.moana.orchestration.plugins.module_utils import _layout as L
from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T


def spec(*panes):
    return L.parse_session({"name": "s", "start_directory": "/w", "windows": [{"name": "main", "panes": list(panes)}]})


def test_the_command_reads_the_env_file_first_and_tmux_gets_no_value():
    session = L.resolve(L.with_env_digests(spec({"name": "amp", "command": "exec amp", "env_file": "/t/env/my amp.env"},
                                                {"name": "codex", "command": "codex"}), lambda path: "d1"))
    amp, codex = session.windows[0].panes
    assert amp.run_command() == ". '/t/env/my amp.env' || exit 1; exec amp"
    assert codex.run_command() == "codex"
    argv = [arg for command in T.session_commands(session, "tok") for arg in command]
    assert ". '/t/env/my amp.env' || exit 1; exec amp" in argv
    assert not any(arg == "-e" for arg in argv)  # no -e K=V: nothing but the token goes to tmux's environment
    assert T._action_commands(L.RespawnPane("%1", amp, "changed"), T._Context(None, session))[0][-1] == ". '/t/env/my amp.env' || exit 1; exec amp"


def test_the_env_file_needs_a_command_and_an_absolute_path():
    with pytest.raises(L.LayoutError, match=r"panes\[0\].env_file: pane 'a' reads an env file but has no command"):
        spec({"name": "a", "env_file": "/t/a.env"})
    with pytest.raises(L.LayoutError, match="env_file: 'a.env' is relative"):
        spec({"name": "a", "command": "x", "env_file": "a.env"})


def test_a_changed_env_file_changes_the_fingerprint_and_a_pane_without_one_keeps_its_own():
    base = L.PaneSpec("a", "cmd", "/d")
    assert base.fingerprint() == L.PaneSpec("a", "cmd", "/d", env_digest="ignored without a file").fingerprint()
    with_file = L.PaneSpec("a", "cmd", "/d", env_file="/t/a.env", env_digest="one")
    assert with_file.fingerprint() != base.fingerprint()
    assert with_file.fingerprint() != L.PaneSpec("a", "cmd", "/d", env_file="/t/a.env", env_digest="two").fingerprint()


def test_only_the_pane_whose_file_changed_restarts():
    described = spec({"name": "amp", "command": "amp", "env_file": "/t/amp.env"},
                     {"name": "codex", "command": "codex", "env_file": "/t/codex.env"})
    old = L.resolve(L.with_env_digests(described, lambda path: "old"))
    panes = [L.PaneState("%" + str(n), p.name, "@0", "main", 0, n, 100 + n, "python3", p.run_command(), False, None, None,
                         p.fingerprint(), False, p.name, None) for n, p in enumerate(old.windows[0].panes)]
    state = L.SessionState("$0", "s", (L.WindowState("@0", 0, "main", "main", "tiled", True, tuple(panes)),))
    assert not L.plan(old, state).changed
    new = L.resolve(L.with_env_digests(described, lambda path: "new" if path == "/t/amp.env" else "old"))
    todo = L.plan(new, state)
    assert todo.names(L.RespawnPane, "changed") == ["amp"] and len(todo.actions) == 1
    after = L.describe_after(new, state)["windows"][0]["panes"]
    assert after[0]["env_file"] == "/t/amp.env" and "new" not in repr(after)


def test_the_digest_is_of_the_content_and_empty_for_a_missing_file(tmp_path):
    path = tmp_path / "a.env"
    path.write_text("export K='v'\n")
    first = L.env_digest(str(path))
    path.write_text("export K='w'\n")
    assert first and L.env_digest(str(path)) != first and "v" not in first
    assert L.env_digest(str(tmp_path / "missing.env")) == ""


def test_a_missing_env_file_ends_the_pane_instead_of_running_without_it(tmp_path):
    pane = L.PaneSpec("a", "echo ran", env_file=str(tmp_path / "missing.env"))
    for shell in ("sh", "bash"):
        proc = subprocess.run([shell, "-c", pane.run_command()], capture_output=True, text=True, check=False)
        assert proc.returncode != 0 and "ran" not in proc.stdout, shell


def test_respawn_gives_tmux_no_variable():
    calls = []

    class Server:
        def cmd(self, *argv):
            calls.append(argv)
            return T.Result(0, "", "")

    T.respawn(Server(), "%3")
    assert calls == [("respawn-pane", "-k", "-t", "%3")]
