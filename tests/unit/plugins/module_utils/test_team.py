"""The team configuration: validation and the layout derived from it. No tmux here."""

from __future__ import annotations

import json

import os
import subprocess
import tomllib

import pytest

from ansible_collections.moana.orchestration.plugins.module_utils import _team as T

SEED = [
    {"name": "claude", "role": "orchestrator", "command": "claude"},
    {"name": "amp", "role": "worker", "complexity": "medium", "command": "amp -m large --dangerously-allow-all"},
    {"name": "antigravity", "role": "worker", "complexity": "high", "command": "claude --model claude-opus-4-5-thinking",
     "uses_proxy": True},
    {"name": "codex", "role": "worker", "complexity": "low", "command": "codex --dangerously-bypass-approvals-and-sandbox"},
]


def test_seed_team_routes_like_the_original_scripts():
    agents, routing = T.validate(SEED)
    assert routing == {"medium": "amp", "high": "antigravity", "low": "codex"}
    assert T.routing_text(routing) == "high=antigravity,medium=amp,low=codex"
    assert [a["type"] for a in agents] == ["claude", "amp", "claude", "codex"]


def test_seed_layout_is_the_original_two_by_two_plus_the_proxy_client_window():
    agents, dummy = T.validate(SEED)
    assert T.layout(agents, "/logs/proxy.log") == [
        {"name": "main", "panes": ["claude", "amp", "proxy", "codex"]},
        {"name": "antigravity", "panes": ["antigravity"]},
    ]
    # Without a proxy user there is no proxy pane.
    no_proxy, dummy = T.validate([dict(a, uses_proxy=False) for a in SEED])
    assert T.layout(no_proxy, "/logs/proxy.log") == [{"name": "main", "panes": ["claude", "amp", "antigravity", "codex"]}]


def test_large_teams_spill_over_windows_and_window_keys_are_honoured():
    team = [{"name": "boss", "role": "orchestrator", "command": "orchestra simulate --agent boss"}]
    team += [{"name": "w%02d" % n, "role": "worker", "command": "orchestra simulate --agent w%02d" % n} for n in range(31)]
    team[5]["window"] = "review"
    agents, dummy = T.validate(team)
    windows = T.layout(agents, None, panes_per_window=8)
    assert [w["name"] for w in windows] == ["main", "main-2", "main-3", "main-4", "review"]
    assert sum(len(w["panes"]) for w in windows) == 32 and windows[-1]["panes"] == ["w04"]
    assert agents[1]["type"] == "simulated"


@pytest.mark.parametrize("team, routing, words", [
    ([], None, "give a list of agents"),
    ([dict(SEED[0], colour="red")] + SEED[1:], None, "unknown key(s) colour; the keys are"),
    (SEED + [dict(SEED[1])], None, "agent 'amp' is defined twice (orchestration_agents[1] and [4])"),
    (SEED[1:], None, "exactly one agent with role: orchestrator, found none"),
    (SEED + [dict(SEED[0], name="boss")], None, "found claude, boss"),
    ([dict(SEED[0], role="boss")] + SEED[1:], None, "role 'boss' must be orchestrator or worker"),
    ([dict(SEED[0], command="  ")] + SEED[1:], None, "command is empty"),
    ([SEED[0], dict(SEED[1], complexity="huge")] + SEED[2:], None, "complexity 'huge' must be one of"),
    ([dict(SEED[0], complexity="high")] + SEED[1:], None, "remove its complexity"),
    ([dict(SEED[0], name="proxy")] + SEED[1:], None, "not 'proxy'"),
    ([dict(SEED[0], name="a b")] + SEED[1:], None, "must be letters, digits"),
    (SEED, {"high": "gemini"}, "high tasks go to 'gemini', which is not a worker of the team"),
    (SEED, {"urgent": "amp"}, "'urgent' is not a complexity"),
    (SEED, {"high": "claude"}, "'claude', which is not a worker"),
])
def test_bad_teams_are_refused_with_the_agent_and_the_fix(team, routing, words):
    with pytest.raises(T.TeamError) as err:
        T.validate(team, routing)
    assert words in str(err.value)


def test_windows_carry_commands_prompts_variables_and_logs_and_no_value():
    team = [dict(SEED[0], environment={"ANTHROPIC_AUTH_TOKEN": "sk-8080"})] + SEED[1:]
    agents, routing = T.validate(team)
    windows = T.windows(agents, routing, "/p/CLAUDE.md", "/home/u/my bin", "/p/logs",
                        prompts_dir="/home/u/o'k", proxy_log="/p/logs/proxy.log", proxy_url="http://127.0.0.1:8080",
                        team_dir="/h/t")
    panes = {p["name"]: p for w in windows for p in w["panes"]}
    path = "export PATH='/home/u/my bin':\"$PATH\"; "  # paths quoted for the shell where they need it
    plain = "export ORCHESTRA_AGENT=%s ORCHESTRA_BOARD=/p/CLAUDE.md ORCHESTRA_ROUTING=high=antigravity,medium=amp,low=codex; "
    assert panes["claude"]["command"] == plain % "claude" + path + "exec claude \"$(cat '/home/u/o'\"'\"'k/claude.md')\""
    assert panes["amp"]["command"] == plain % "amp" + path + "exec amp -m large --dangerously-allow-all"  # typed once ready
    assert panes["proxy"]["command"] == "tail -n 100 -F /p/logs/proxy.log"
    assert "=dummy ANTHROPIC_BASE_URL=http://127.0.0.1:8080 ORCHESTRA_AGENT=antigravity " in panes["antigravity"]["command"]
    assert "ANTHROPIC_BASE_URL" not in panes["codex"]["command"]
    assert panes["codex"]["log_file"] == "/p/logs/codex.log"
    # The secret reaches the pane through its env file only: the plan names the file, never the value.
    assert panes["claude"]["env_file"] == "/h/t/env/claude.env" and "env_file" not in panes["amp"]
    assert "sk-8080" not in repr(windows) and not any("environment" in p or "variables" in p for p in panes.values())
    assert agents[0]["environment"] == ["ANTHROPIC_AUTH_TOKEN"]


def test_an_agent_with_an_environment_needs_the_team_directory():
    agents, routing = T.validate([dict(SEED[0], environment={"K": "v"})])
    with pytest.raises(T.TeamError, match="agent 'claude' has an environment: give team_dir"):
        T.windows(agents, routing, "/p/CLAUDE.md", "/b", "/l")


def test_an_agent_using_the_proxy_keeps_its_own_key():
    agents, routing = T.validate([SEED[0], SEED[2]])
    dummy = next(k for k, v in T.agent_variables(agents[1], "/p", routing, "http://x").items() if v == "dummy")
    agents, routing = T.validate([SEED[0], dict(SEED[2], environment={dummy: "sk-real"})])
    command = T.windows(agents, routing, "/p/CLAUDE.md", "/b", "/l", proxy_url="http://x", team_dir="/t")[1]["panes"][0]["command"]
    assert dummy not in command and "ANTHROPIC_BASE_URL=http://x" in command


@pytest.mark.parametrize("environment, words", [
    ("K=v", "environment must be a mapping of NAME: value"),
    ({"1K": "v"}, "environment name '1K' must be letters, digits and '_'"),
    ({"A-B": "v"}, "environment name 'A-B'"),
    ({"K": None}, "environment.K must be a string, number or boolean"),
    ({"K": {"nested": "sk-secret"}}, "environment.K must be a string, number or boolean"),
    ({"ORCHESTRA_BOARD": "/elsewhere"}, "environment sets ORCHESTRA_BOARD, which the team sets for every agent"),
])
def test_a_bad_environment_is_named_without_its_value(environment, words):
    with pytest.raises(T.TeamError) as err:
        T.validate([dict(SEED[0], environment=environment)])
    assert words in str(err.value) and "sk-secret" not in str(err.value)


def test_secret_strings_are_what_ansible_masks():
    agents = [{"environment": {"A": "sk", "B": 8080, "C": True, "D": "", "E": None}}, {"environment": "K=v"}, "junk"]
    assert T.secret_strings(agents) == {"sk", "8080", "K=v"}
    assert T.secret_strings("not a list") == set()


@pytest.mark.parametrize("value", [
    "plain", "with space", "it's", 'say "hi"', "$HOME and ${PATH} and `id` and $(id)", "back\\slash",
    "two\nlines\n", "tab\tand\rreturn", "", "*", "~", "unicode \u00e9\u00e8 \u2603", "--dash", "a;b|c&d", "!bang",
])
def test_the_env_file_gives_the_shell_each_value_unchanged(value, tmp_path):
    import subprocess

    path = tmp_path / "agent.env"
    path.write_text(T.env_file_text({"SECRET_VALUE": value, "OTHER": 7, "FLAG": True}))
    for shell in ("sh", "bash"):
        out = subprocess.run([shell, "-c", '. "$1" && printf %s "$SECRET_VALUE"', shell, str(path)],
                             capture_output=True, check=True, env={"PATH": "/usr/bin:/bin"}).stdout
        assert out.decode("utf-8") == value, shell
    assert "export OTHER=7\nexport SECRET_VALUE=" in path.read_text() and "export FLAG=True" in path.read_text()


def test_the_env_file_is_sorted_and_refuses_bad_names():
    text = T.env_file_text({"B": "2", "A": "it's"})
    assert text.splitlines()[1:] == ["export A='it'\"'\"'s'", "export B=2"]
    with pytest.raises(T.TeamError, match="environment name 'A B'"):
        T.env_file_text({"A B": "x"})
    assert T.env_file("/h/t", "amp") == "/h/t/env/amp.env"


@pytest.mark.parametrize("command, simple", [
    ("claude", True), ("amp -m large --dangerously-allow-all", True), ("orchestra simulate --plan '/a b/p.json'", True),
    ("/usr/bin/env FOO=1 codex", True), ("codex > /tmp/log 2>&1", False),
    ("cd x && amp", False), ("amp; echo done", False), ("amp | tee log", False), ("(amp)", False), ("amp &", False),
    ("FOO=1 amp", False), ("if true; then amp; fi", False), ("source venv/bin/activate", False), ("amp\ncodex", False),
    ("echo 'unclosed", False), ("", False),
])
def test_exec_only_in_front_of_one_simple_command(command, simple):
    assert T.simple_command(command) is simple


def test_a_compound_command_runs_as_written():
    agent = {"name": "a", "command": "cd sub && amp", "type": "amp"}
    assert T.agent_command(agent, None, "/b").endswith("; cd sub && amp")


def test_the_installed_launcher_is_the_checkout_launcher():
    from pathlib import Path

    from ansible_collections.moana.orchestration.plugins.module_utils import _orchestra

    assert (Path(__file__).resolve().parents[4] / "scripts" / "orchestra").read_text() == _orchestra.LAUNCHER


def test_amp_gets_its_prompt_typed_and_the_dispatcher_knows_names_not_values():
    team = [dict(agent, auto_restart=True) if agent["name"] == "amp" else agent for agent in SEED]
    team[0] = dict(team[0], environment={"ANTHROPIC_API_KEY": "sk-secret"})
    agents, routing = T.validate(team)
    assert [a["name"] for a in agents if a["typed_prompt"]] == ["amp"]
    assert T.typed_prompts(agents, "/h") == [{"pane": "amp", "agent_type": "amp", "src": "/h/prompts/amp.md",
                                              "clear_pending": True}]
    # Its pane owes the prompt from its start until it is given (tmux_session's pending note).
    panes = {p["name"]: p for w in T.windows(agents, routing, "/p/CLAUDE.md", "/b", "/l", prompts_dir="/h/prompts",
                                             team_dir="/h") for p in w["panes"]}
    assert panes["amp"]["pending"] == T.PENDING_PROMPT and "pending" not in panes["claude"]
    config = T.dispatcher_config(agents, "moana-orchestration", "/p/CLAUDE.md", "/h", restart={"max": 2})
    by_name = {a["name"]: a for a in config["agents"]}
    assert by_name["amp"]["auto_restart"] and not by_name["codex"]["auto_restart"]
    assert "environment_names" not in by_name["claude"]  # a restart runs the pane's command again: no value needed
    assert "sk-secret" not in repr(config)
    assert config["queue_dir"] == "/h/queue" and config["state_file"] == "/h/dispatch-state.json"


def test_auto_restart_is_an_allowed_key_and_must_be_boolean_like():
    agents, dummy = T.validate([{"name": "o", "role": "orchestrator", "command": "x", "auto_restart": True}])
    assert agents[0]["auto_restart"] is True


def test_the_team_accepts_exactly_the_agent_types_whose_screens_can_be_read():
    from ansible_collections.moana.orchestration.plugins.module_utils import _agents

    assert T.AGENT_TYPES == tuple(_agents.PATTERNS)


@pytest.mark.parametrize("value, expected", [
    (True, True), (False, False), ("false", False), ("no", False), ("No", False), ("off", False), ("0", False),
    ("", False), (None, False), ("true", True), ("yes", True), ("on", True), ("1", True), (1, True), (0, False),
])
def test_booleans_read_the_ansible_way(value, expected):
    assert T.boolean(value, "agent 'a': auto_restart") is expected


def test_auto_restart_given_as_text_false_is_false():
    agents, dummy = T.validate([{"name": "o", "role": "orchestrator", "command": "claude", "auto_restart": "no"},
                                {"name": "w", "role": "worker", "command": "codex", "uses_proxy": "false"}])
    assert [a["auto_restart"] for a in agents] == [False, False] and agents[1]["uses_proxy"] is False


def test_a_word_that_is_no_boolean_is_named():
    with pytest.raises(T.TeamError, match="agent 'o': auto_restart: 'sometimes' is not a boolean"):
        T.validate([{"name": "o", "role": "orchestrator", "command": "claude", "auto_restart": "sometimes"}])


def test_a_target_without_tmux_is_named_with_the_fix():
    assert "no tmux on PATH" in T.missing_programs(which=lambda name: None)
    assert T.missing_programs(which=lambda name: "/usr/bin/tmux") is None


def test_each_agent_finds_the_installed_clis_after_orchestra():
    agent = {"name": "a", "command": "amp", "type": "amp"}
    command = T.agent_command(agent, None, "/h/bin", ["/h/npm/bin", "/my dir/bin"])
    assert command == "export PATH=/h/bin:/h/npm/bin:'/my dir/bin':\"$PATH\"; exec amp"


def test_codex_gives_its_tool_shell_the_panes_path_so_orchestra_is_found_there():
    """Codex runs its tools' commands with a PATH of its own; the pane's (orchestra first) is set in its policy,
    expanded by the pane's shell, quoted for TOML inside the shell's double quotes."""
    codex = T.agent_command({"name": "c", "command": "codex --yolo", "type": "codex"}, "/p/c.md", "/h/bin")
    assert codex == ('export PATH=/h/bin:"$PATH"; exec codex --yolo -c "shell_environment_policy.set.PATH=\\"$PATH\\""'
                     ' "$(cat /p/c.md)"')
    env = dict(os.environ, PATH="/my dïr/bin:/usr/bin:/bin")
    argv = subprocess.run(["bash", "-c", codex.replace("exec codex --yolo", "printf '%s\\n'").replace(' "$(cat /p/c.md)"', "")],
                          env=env, capture_output=True, text=True, check=True).stdout.splitlines()
    assert argv == ["-c", 'shell_environment_policy.set.PATH="/h/bin:/my dïr/bin:/usr/bin:/bin"']
    assert tomllib.loads(argv[1])["shell_environment_policy"]["set"]["PATH"] == "/h/bin:/my dïr/bin:/usr/bin:/bin"
    # A compound command is left as written: the option would land on its last program.
    assert "shell_environment_policy" not in T.agent_command({"name": "c", "command": "cd x && codex", "type": "codex"}, None, "/b")


def test_without_auto_update_claude_agents_get_the_updater_off_and_others_nothing():
    claude, amp = T.validate([{"name": "c", "role": "orchestrator", "command": "claude"},
                              {"name": "a", "role": "worker", "command": "amp"}])[0]
    assert T.agent_variables(claude, "/b", {}, None, auto_update=False)["DISABLE_AUTOUPDATER"] == "1"
    assert "DISABLE_AUTOUPDATER" not in T.agent_variables(claude, "/b", {}, None)
    assert "DISABLE_AUTOUPDATER" not in T.agent_variables(amp, "/b", {}, None, auto_update=False)
    panes = T.windows([claude, amp], {}, "/b", "/bin", "/logs", auto_update=False)[0]["panes"]
    assert ["DISABLE_AUTOUPDATER=1" in pane["command"] for pane in panes] == [True, False]
    # An agent may still set it in its own environment (the team sets it only when told).
    T.validate([{"name": "c", "role": "orchestrator", "command": "claude", "environment": {"DISABLE_AUTOUPDATER": "1"}}])


def test_the_dispatcher_gets_the_stuck_thresholds_in_seconds_and_checked_notify_settings():
    agents, dummy = T.validate([{"name": "o", "role": "orchestrator", "command": "x"}])
    stuck = {"busy_minutes": "20", "dialog_minutes": 0, "nudge": "Go on"}
    config = T.dispatcher_config(agents, "s", "/p/CLAUDE.md", "/h", stuck=stuck,
                                 notify={"webhook": "https://hooks.example.invalid/x", "events": ["stuck"]})
    assert config["stuck"] == {"busy_seconds": 1200.0, "dialog_seconds": None, "nudge": "Go on"}
    # The address is a secret: the dispatcher's file says where it gets it, not what it is.
    assert config["notify"]["webhook"] == {"env": "ORCHESTRA_NOTIFY_WEBHOOK"} and config["notify"]["cooldown"] == 600
    assert "hooks.example.invalid" not in json.dumps(config)
    assert "notify" not in T.dispatcher_config(agents, "s", "/p/CLAUDE.md", "/h", notify={"cooldown": 5})
    with pytest.raises(T.TeamError, match="orchestration_notify: unknown key"):
        T.dispatcher_config(agents, "s", "/b", "/h", notify={"webhook": "https://x", "mail": "me"})
    with pytest.raises(T.TeamError, match="orchestration_stuck_busy_minutes: 'soon' is not a number of minutes"):
        T.dispatcher_config(agents, "s", "/b", "/h", stuck={"busy_minutes": "soon"})


def test_an_agent_that_resumes_runs_its_last_conversation_when_its_hooks_recorded_one(tmp_path):
    from ansible_collections.moana.orchestration.plugins.module_utils import _hooks as H

    scripts = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "scripts")
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    for program in ("claude", "codex"):  # stand-ins that say how they were run
        (stubs / program).write_text('#!/bin/sh\nprintf "%s|" "$0" "$@"\n')
        (stubs / program).chmod(0o755)
    (tmp_path / "prompt.md").write_text("You are the orchestrator")
    agents, dummy = T.validate([{"name": "boss", "role": "orchestrator", "command": "claude --model opus"},
                                {"name": "codex", "role": "worker", "command": "codex --yolo", "complexity": "low"},
                                {"name": "amp", "role": "worker", "command": "amp", "complexity": "medium"}])
    agents = T.with_resume(agents, resume=True, hooks=True)
    assert [a["resume"] for a in agents] == [True, True, False]  # Amp cannot: the team's word skips it
    team = str(tmp_path / "team")

    def run(agent):
        command = T.agent_command(agent, str(tmp_path / "prompt.md"), os.path.abspath(scripts), (), {}, team)
        out = subprocess.run(["sh", "-c", command], env={"PATH": "%s:/usr/bin:/bin" % stubs}, capture_output=True,
                             text=True, check=True).stdout
        return [word for word in out.split("|") if word][1:]

    boss, codex = agents[0], agents[1]
    assert run(boss) == ["--model", "opus", "You are the orchestrator"]  # nothing recorded: a new one
    H.write_report(team, "boss", "idle", "claude", "SessionStart", session="0b6f4c7e-9c1d-4c52-a6a1-1c1f2ad1c0de")
    assert run(boss) == ["--model", "opus", "--resume", "0b6f4c7e-9c1d-4c52-a6a1-1c1f2ad1c0de"]
    H.write_report(team, "codex", "idle", "codex", "agent-turn-complete", session="019a-thread")
    words = run(codex)
    assert words[:3] == ["resume", "019a-thread", "--yolo"] and "You are the orchestrator" not in words
    with pytest.raises(T.TeamError, match="resume works for Claude Code and Codex agents"):
        T.with_resume([dict(agents[2], resume=True)], hooks=True)
    with pytest.raises(T.TeamError, match="resume needs orchestration_hooks: true"):
        T.with_resume([dict(boss, resume=None)], resume=True, hooks=False)
    # A command its pane cannot choose a resume for: skipped by the team's word, refused when the agent asks.
    compound = dict(codex, command="cd /srv/app && codex --yolo", resume=None)
    assert T.with_resume([dict(compound)], resume=True, hooks=True)[0]["resume"] is False
    with pytest.raises(T.TeamError, match="resume needs its command to be the CLI with its arguments alone"):
        T.with_resume([dict(compound, resume=True)], hooks=True)
