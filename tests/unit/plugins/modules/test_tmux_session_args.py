"""The module's argument handling: bad input fails before any tmux call."""

from __future__ import annotations

import json

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.moana.orchestration.plugins.modules import tmux_session, tmux_session_info


def run_module(module, args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


@pytest.mark.parametrize(
    "args, message",
    [
        ({"name": "", "windows": [{"name": "w", "panes": [{"name": "a"}]}]}, "session name is empty"),
        ({"name": "s", "windows": [{"name": "w", "layout": "spiral", "panes": [{"name": "a"}]}]}, "value of layout must be one of"),
        ({"name": "s", "windows": [{"name": "w", "panes": [{"name": "a"}, {"name": "a"}]}]}, "pane 'a' is already described"),
        ({"name": "s"}, "state is present but all of the following are missing: windows"),
        ({"name": "s", "socket_name": "a", "socket_path": "/tmp/b", "state": "absent"}, "mutually exclusive"),
        ({"name": "s", "windows": [{"name": "w", "panes": [{"name": "a", "start_directory": "/does/not/exist"}]}]},
         "directory /does/not/exist does not exist"),
    ],
)
def test_bad_arguments_fail_with_a_clear_message(args, message, capsys, monkeypatch):
    # Any tmux call would be a bug here: make one explode.
    monkeypatch.setattr(tmux_session, "open_server", lambda *a, **k: pytest.fail("tmux was called"))
    result = run_module(tmux_session, args, capsys)
    assert result["failed"] is True
    assert message in result["msg"]


def test_socket_path_in_a_missing_directory_fails_before_tmux(capsys, tmp_path):
    args = {"name": "s", "socket_path": str(tmp_path / "nope" / "sock"), "windows": [{"name": "w", "panes": [{"name": "a"}]}]}
    result = run_module(tmux_session, args, capsys)
    assert result["failed"] is True
    assert "socket_path: directory %s does not exist" % (tmp_path / "nope") in result["msg"]


def test_info_rejects_negative_lines(capsys):
    result = run_module(tmux_session_info, {"name": "s", "lines": -1}, capsys)
    assert result["failed"] is True and "lines must be 0 or more" in result["msg"]
