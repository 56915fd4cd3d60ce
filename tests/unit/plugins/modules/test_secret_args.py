"""The agents' secrets through the modules' argument handling: team (names only in the result, values masked in
its invocation, mistakes named with the agent and the key) and orchestra_home (the env files)."""

from __future__ import annotations

import json
import os
import stat

import pytest
from ansible.module_utils.testing import patch_module_args

from ansible_collections.moana.orchestration.plugins.modules import orchestra_home, team

SECRET = "sk-0123456789abcdef"
AGENTS = [
    {"name": "boss", "role": "orchestrator", "command": "claude", "environment": {"ANTHROPIC_AUTH_TOKEN": SECRET}},
    {"name": "amp", "role": "worker", "command": "amp", "complexity": "medium", "auto_restart": "yes",
     "environment": {"AMP_API_KEY": "8080"}},
]


def run_module(module, args, capsys):
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            module.main()
    return json.loads(capsys.readouterr().out)


def test_team_returns_names_only_and_masks_the_values_it_was_given(capsys, monkeypatch):
    monkeypatch.setattr(team._team, "missing_programs", lambda: None)
    result = run_module(team, {"agents": AGENTS, "board": "/p/CLAUDE.md", "bin_dir": "/b", "log_dir": "/p/logs",
                               "team_dir": "/t", "session": "s"}, capsys)
    assert "failed" not in result, result
    assert [a["environment"] for a in result["agents"]] == [["ANTHROPIC_AUTH_TOKEN"], ["AMP_API_KEY"]]
    assert result["agents"][1]["auto_restart"] is True  # Ansible's boolean
    assert SECRET not in json.dumps(result)
    panes = {p["name"]: p for w in result["windows"] for p in w["panes"]}
    assert panes["boss"]["env_file"] == "/t/env/boss.env" and panes["amp"]["env_file"] == "/t/env/amp.env"
    assert result["invocation"]["module_args"]["agents"][0]["environment"] == {
        "ANTHROPIC_AUTH_TOKEN": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}
    assert result["team_dir"] == "/t" and result["bin_dir"] == "/b"


def test_team_given_names_with_empty_values_masks_nothing(capsys):
    """What the role gives: the names, so that a short value (8080) cannot mask the proxy's URL in the plan."""
    named = [dict(a, environment={k: "" for k in a["environment"]}) for a in AGENTS]
    result = run_module(team, {"agents": named, "board": "/p/CLAUDE.md", "bin_dir": "/b", "log_dir": "/p/logs",
                               "team_dir": "/t", "proxy_url": "http://127.0.0.1:8080"}, capsys)
    assert "********" not in json.dumps(result) and result["invocation"]["module_args"]["proxy_url"].endswith(":8080")


@pytest.mark.parametrize("agents, words", [
    ([dict(AGENTS[0], colour="red"), AGENTS[1]], "orchestration_agents[0] has unknown key(s) colour; the keys are"),
    ([AGENTS[0], dict(AGENTS[1], uses_proxy="sometimes")], "agent 'amp': uses_proxy: 'sometimes' is not a boolean"),
    ([AGENTS[0], dict(AGENTS[1], environment="AMP_API_KEY=8080")], "agent 'amp': environment must be a mapping"),
    ([AGENTS[0], dict(AGENTS[1], environment={"AMP API KEY": SECRET})], "agent 'amp': environment name 'AMP API KEY'"),
    ([AGENTS[0], dict(AGENTS[1], role="boss")], "agent 'amp': role 'boss' must be orchestrator or worker"),
    ([AGENTS[0], {"role": "worker", "command": "amp", "environment": {"K": SECRET}}], "orchestration_agents[1].name is empty"),
    ([AGENTS[0], "amp"], "orchestration_agents[1] must be a mapping with name, role and command"),
])
def test_team_names_the_agent_and_the_key_and_masks_every_value(agents, words, capsys):
    result = run_module(team, {"agents": agents, "panes_per_window": 4}, capsys)
    assert result["failed"] is True and words in result["msg"], result["msg"]
    assert SECRET not in json.dumps(result) and "8080" not in json.dumps(result["invocation"])


WEBHOOK = "https://hooks.invalid/services/T0/B0/w3bh00kt0ken"


@pytest.mark.parametrize("more, words", [
    ({}, None),  # a good team: masked in its invocation and in what AnsibleModule logs on the target
    ({"panes_per_window": "many"}, "panes_per_window"),  # a team option the argument spec refuses
    ({"agents": [dict(AGENTS[0], colour="red"), AGENTS[1]]}, "orchestration_agents[0] has unknown key(s) colour"),
    ({"notify": {"webhook": WEBHOOK, "cooldown": "soon"}}, "orchestration_notify: cooldown is a number of seconds"),
    ({"notify": {"webhook": WEBHOOK, "sms": "0612"}}, "orchestration_notify: unknown key(s) sms (known: command"),
], ids=["good", "bad-option", "bad-agent", "bad-notify", "unknown-notify-key"])
def test_team_masks_the_notify_webhook_in_its_result_and_log_whatever_fails(more, words, capsys, monkeypatch):
    logged = []
    monkeypatch.setattr(team.AnsibleModule, "log", lambda self, msg, log_args=None: logged.append((msg, log_args)))
    monkeypatch.setattr(team._team, "missing_programs", lambda: None)
    args = dict({"agents": AGENTS, "board": "/p/CLAUDE.md", "bin_dir": "/b", "log_dir": "/p/logs", "team_dir": "/t",
                 "session": "s", "notify": {"webhook": WEBHOOK, "command": "mail -s team me"}}, **more)
    result = run_module(team, args, capsys)
    assert ("failed" in result) == bool(more) and (words is None or words in result["msg"]), result.get("msg")
    assert "w3bh00kt0ken" not in json.dumps(result) + repr(logged), (result, logged)
    if not more:
        assert result["invocation"]["module_args"]["notify"]["webhook"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"
        assert result["invocation"]["module_args"]["notify"]["command"] == "mail -s team me"


def test_team_reads_back_the_agents_its_record_keeps(capsys):
    """health and stop give team the normalised agents start recorded, with null where a key was not given."""
    first = run_module(team, {"agents": [{k: v for k, v in a.items() if k != "environment"} for a in AGENTS]}, capsys)
    recorded = [{k: v for k, v in a.items() if k not in ("environment", "typed_prompt")} for a in first["agents"]]
    again = run_module(team, {"agents": recorded}, capsys)
    assert "failed" not in again, again.get("msg")


def home_args(tmp_path, secrets, **more):
    return dict({"path": str(tmp_path / "home"), "team_dir": str(tmp_path / "team"), "secrets": secrets}, **more)


def test_orchestra_home_writes_each_agents_env_file_private_and_only_when_it_changes(tmp_path, capsys):
    first = run_module(orchestra_home, home_args(tmp_path, {"amp": {"AMP_API_KEY": SECRET, "N": 8080}}), capsys)
    env_file = tmp_path / "team" / "env" / "amp.env"
    assert first["changed"] and first["secrets_changed"] == ["amp"]
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600 and stat.S_IMODE(env_file.parent.stat().st_mode) == 0o700
    assert ("export AMP_API_KEY=%s\nexport N=8080\n" % SECRET) in env_file.read_text()
    assert SECRET not in json.dumps(first)
    assert first["invocation"]["module_args"]["secrets"] == {"amp": {"AMP_API_KEY": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER",
                                                                     "N": "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"}}

    again = run_module(orchestra_home, home_args(tmp_path, {"amp": {"N": 8080, "AMP_API_KEY": SECRET}}), capsys)
    assert not again["changed"] and again["secrets_changed"] == []

    os.chmod(env_file, 0o644)
    os.chmod(env_file.parent, 0o755)
    mended = run_module(orchestra_home, home_args(tmp_path, {"amp": {"N": 8080, "AMP_API_KEY": SECRET}}), capsys)
    assert mended["changed"] and mended["secrets_changed"] == ["amp"]
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600 and stat.S_IMODE(env_file.parent.stat().st_mode) == 0o700


def test_orchestra_home_in_check_mode_names_the_change_and_writes_nothing(tmp_path, capsys):
    result = run_module(orchestra_home, home_args(tmp_path, {"amp": {"K": SECRET}}, _ansible_check_mode=True), capsys)
    assert result["changed"] and result["secrets_changed"] == ["amp"]
    assert not (tmp_path / "team" / "env").exists()


def test_orchestra_home_removes_the_files_of_agents_without_secrets_any_more(tmp_path, capsys):
    run_module(orchestra_home, home_args(tmp_path, {"amp": {"K": SECRET}, "codex": {"K": "other"}}), capsys)
    result = run_module(orchestra_home, home_args(tmp_path, {"codex": {"K": "other"}}), capsys)
    assert result["changed"] and result["secrets_changed"] == ["amp"]
    assert os.listdir(tmp_path / "team" / "env") == ["codex.env"]
    # Without the option, the files are left as they are.
    left = run_module(orchestra_home, {"path": str(tmp_path / "home"), "team_dir": str(tmp_path / "team")}, capsys)
    assert left["secrets_changed"] == [] and os.listdir(tmp_path / "team" / "env") == ["codex.env"]


@pytest.mark.parametrize("secrets, words", [
    ({"../amp": {"K": "v"}}, "secrets: agent name '../amp' must be letters, digits"),
    ({"amp": "K=v"}, "secrets[amp]: environment must be a mapping"),
    ({"amp": {"1K": SECRET}}, "secrets[amp]: environment name '1K'"),
    ({"amp": {"K": [SECRET]}}, "secrets[amp]: environment.K must be a string, number or boolean"),
])
def test_orchestra_home_refuses_bad_secrets_before_writing_anything(secrets, words, tmp_path, capsys):
    result = run_module(orchestra_home, home_args(tmp_path, secrets), capsys)
    assert result["failed"] is True and words in result["msg"]
    assert SECRET not in json.dumps(result) and not (tmp_path / "home").exists()


def test_orchestra_home_needs_the_team_directory_for_secrets(tmp_path, capsys):
    result = run_module(orchestra_home, {"path": str(tmp_path / "home"), "secrets": {"amp": {"K": SECRET}}}, capsys)
    assert result["failed"] is True and "secrets needs team_dir" in result["msg"]


@pytest.mark.parametrize("module, args", [
    (team, {"agents": AGENTS}),
    (team, {"agents": [dict(AGENTS[0], colour="red"), AGENTS[1]]}),  # refused by the early check
    (orchestra_home, {"path": "HOME", "team_dir": "TEAM", "secrets": {"amp": {"AMP_API_KEY": SECRET, "N": 8080}}}),
])
def test_what_the_target_logs_of_an_invocation_holds_no_value(module, args, tmp_path, capsys, monkeypatch):
    """The message (and fields) Ansible sends to the target's journal or syslog, caught where it is sent."""
    from ansible.module_utils import basic

    logged = []
    monkeypatch.setattr(basic.AnsibleModule, "log", lambda self, msg, log_args=None: logged.append((msg, log_args)))
    args = {k: str(tmp_path / v) if v in ("HOME", "TEAM") else v for k, v in args.items()}
    run_module(module, args, capsys)
    assert all(SECRET not in repr(entry) and "8080" not in repr(entry) for entry in logged), logged
    assert logged or module is team and "colour" in repr(args)  # logged unless failed before the spec ran
