"""Deliveries into the real Claude Code and Codex TUIs, against the scripted model server.

A Codex dialog (folder trust, model choice) reads as waiting and a delivery
types nothing into it; at idle, a notice arrives at the model whole and once
(the server's request log has its text).
"""

from __future__ import annotations

import subprocess

import pytest

from conftest import wait_for
from test_scripted_real_clis import claude_env, codex_env
from ansible_collections.moana.orchestration.plugins.module_utils import _agents as A
from ansible_collections.moana.orchestration.plugins.module_utils import _delivery as D
from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T

pytestmark = pytest.mark.usefixtures("real_clis")

NOTICE = ("[orchestra] TASK-%s is assigned to you: read the board entry, start the work, "
          "and reply on the board when you are done")
# Records that the model dialog was answered (gpt-5.5 -> its upgrade): Codex then starts at its prompt.
MODEL_CHOICE = '[notice.model_migrations]\n"gpt-5.5" = "gpt-6-sol"\n'


def start(tmux, session: str, project, env: dict, program) -> tuple[T.Client, str]:
    options = [item for name, value in env.items() for item in ("-e", "%s=%s" % (name, value))]
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", "-c", str(project), *options, str(program),
         *(["--dangerously-bypass-approvals-and-sandbox"] if program.name == "codex" else []))
    client = T.Client(socket_name=tmux.socket_name)
    return client, tmux("display-message", "-p", "-t", "=%s:" % session, "#{pane_id}").strip()


def screen(tmux, session: str) -> str:
    return tmux("capture-pane", "-p", "-t", "=%s:" % session)


def told(server, agent: str) -> list[str]:
    """The user texts of the agent's model turns (each CLI's title request, which quotes the prompt, offers
    one tool or none)."""
    return [e["user_text"] for e in server.requests(agent) if (e["tools"] or 0) > 1]


def arrives_once(client, pane_id: str, agent_type: str, server, agent: str, text: str, tmux, session: str) -> None:
    result = D.deliver(client, pane_id, text, agent_type, wait_timeout=20)
    assert result["status"] == "delivered", result
    wait_for(lambda: text in told(server, agent), 20, "the notice at the model", lambda: screen(tmux, session))
    # Answered and idle again: a second submission would have reached the server by now.
    wait_for(lambda: "Noted." in screen(tmux, session) and A.observe(client, pane_id, agent_type)[0] == "idle", 20,
             "the reply on an idle screen", lambda: screen(tmux, session))
    assert told(server, agent) == [text]


@pytest.mark.parametrize("dialog", ["trust", "model"])
def test_a_codex_dialog_reads_waiting_and_a_delivery_types_nothing_into_it(dialog, tmp_path, real_clis, model_server,
                                                                           tmux):
    project = tmp_path / "project"
    project.mkdir()
    server = model_server({"default": {"text": "Noted."}})
    env = codex_env(real_clis, tmp_path / "home", project, server.base_url("codex"))
    env["DISABLE_AUTOUPDATER"] = "1"
    config = tmp_path / "home" / ".codex" / "config.toml"
    if dialog == "trust":  # a git repository not marked trusted; the model choice recorded
        subprocess.run(["git", "init", "-q", str(project)], check=True)
        config.write_text(config.read_text().split("[projects.")[0] + MODEL_CHOICE)
        shown, answer = "Trust this folder?", ["Enter"]
    else:  # trusted, but no record of the model choice
        shown, answer = "Try new model", ["Down", "Enter"]  # "Use existing model"
    client, pane_id = start(tmux, "codex", project, env, real_clis["codex"])
    wait_for(lambda: shown in screen(tmux, "codex"), 20, "Codex's %s dialog" % dialog, lambda: screen(tmux, "codex"))

    assert A.observe(client, pane_id, "codex")[0] == "waiting"
    result = D.deliver(client, pane_id, NOTICE % "001", "codex", wait_timeout=0.5)
    assert (result["status"], result["state"], result["attempts"]) == ("queued", "waiting", 0), result
    assert "typed" not in result

    for key in answer:  # a person answers the dialog: its choice was not made by the notice
        tmux("send-keys", "-t", pane_id, key)
    wait_for(lambda: "Ask Codex to do anything" in screen(tmux, "codex"), 20, "Codex's empty prompt",
             lambda: screen(tmux, "codex"))
    assert told(server, "codex") == []
    arrives_once(client, pane_id, "codex", server, "codex", NOTICE % "002", tmux, "codex")


def test_a_notice_typed_into_idle_claude_code_arrives_whole_once(tmp_path, real_clis, model_server, tmux):
    project = tmp_path / "project"
    project.mkdir()
    server = model_server({"default": {"text": "Noted."}})
    env = claude_env(real_clis, tmp_path / "home", project, server.base_url("claude"))
    client, pane_id = start(tmux, "claude", project, env, real_clis["claude"])
    wait_for(lambda: A.observe(client, pane_id, "claude")[0] == "idle", 20, "Claude Code's idle prompt",
             lambda: screen(tmux, "claude"))
    arrives_once(client, pane_id, "claude", server, "claude", NOTICE % "003", tmux, "claude")


def test_text_that_a_dialog_took_in_part_is_not_submitted_and_is_cleared(tmp_path, real_clis, model_server, tmux,
                                                                         monkeypatch):
    """As if the dialog had been read idle: the model dialog takes the first keys (the "1" of "TASK-001" chooses
    the new model), the rest lands on the input line; the delivery sees the text is not whole, submits nothing
    and clears the line."""
    project = tmp_path / "project"
    project.mkdir()
    server = model_server({"default": {"text": "Noted."}})
    env = codex_env(real_clis, tmp_path / "home", project, server.base_url("codex"))
    env["DISABLE_AUTOUPDATER"] = "1"
    client, pane_id = start(tmux, "codex", project, env, real_clis["codex"])
    wait_for(lambda: "Try new model" in screen(tmux, "codex"), 20, "Codex's model dialog", lambda: screen(tmux, "codex"))
    monkeypatch.setattr(D, "wait_for_idle", lambda *args, **kwargs: ("idle", T.read_screen(client, pane_id)))

    result = D.deliver(client, pane_id, NOTICE % "001", "codex", wait_timeout=5)
    assert (result["status"], result["attempts"], result["typed"]) == ("queued", 0, True), result

    wait_for(lambda: "Ask Codex to do anything" in screen(tmux, "codex"), 10, "Codex's empty prompt",
             lambda: screen(tmux, "codex"))
    assert result["cleared"] and result["state"] == "idle", result
    assert server.requests("codex") == []  # not even a title request: nothing was submitted
