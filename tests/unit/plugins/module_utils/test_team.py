"""The team configuration: validation and the layout derived from it. No tmux here."""

from __future__ import annotations

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


def test_windows_carry_commands_prompts_environment_and_logs():
    agents, routing = T.validate(SEED)
    windows = T.windows(agents, routing, "/p/CLAUDE.md", "/home/u/my bin", "/p/logs",
                        prompts_dir="/home/u/o'k", proxy_log="/p/logs/proxy.log", proxy_url="http://127.0.0.1:8080")
    panes = {p["name"]: p for w in windows for p in w["panes"]}
    path = "export PATH='/home/u/my bin':\"$PATH\"; "  # paths quoted for the shell where they need it
    assert panes["claude"]["command"] == path + "claude \"$(cat '/home/u/o'\"'\"'k/claude.md')\""
    assert panes["amp"]["command"] == path + "amp -m large --dangerously-allow-all"  # typed once ready, not an argument
    assert panes["proxy"]["command"] == "tail -n 100 -F /p/logs/proxy.log"
    plain = panes["antigravity"]["variables"]
    assert plain["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:8080" and plain["ORCHESTRA_AGENT"] == "antigravity"
    assert plain["ORCHESTRA_ROUTING"] == "high=antigravity,medium=amp,low=codex"
    assert panes["antigravity"]["environment"] == {"ANTHROPIC_AUTH_TOKEN": "dummy"}
    assert "ANTHROPIC_BASE_URL" not in panes["codex"]["variables"] and panes["codex"]["environment"] == {}
    assert panes["codex"]["log_file"] == "/p/logs/codex.log"


def test_the_installed_launcher_is_the_checkout_launcher():
    from pathlib import Path

    from ansible_collections.moana.orchestration.plugins.module_utils import _orchestra

    assert (Path(__file__).resolve().parents[4] / "scripts" / "orchestra").read_text() == _orchestra.LAUNCHER


def test_amp_gets_its_prompt_typed_and_the_dispatcher_knows_names_not_values():
    team = [dict(agent, auto_restart=True) if agent["name"] == "amp" else agent for agent in SEED]
    team[0] = dict(team[0], environment={"ANTHROPIC_API_KEY": "sk-secret"})
    agents, routing = T.validate(team)
    assert [a["name"] for a in agents if a["typed_prompt"]] == ["amp"]
    assert T.typed_prompts(agents, "/h") == [{"pane": "amp", "agent_type": "amp", "src": "/h/prompts/amp.md"}]
    config = T.dispatcher_config(agents, routing, "moana-orchestration", "/p/CLAUDE.md", "/h", proxy_url="http://127.0.0.1:8080",
                                 restart={"max": 2})
    by_name = {a["name"]: a for a in config["agents"]}
    assert by_name["amp"]["auto_restart"] and not by_name["codex"]["auto_restart"]
    assert by_name["claude"]["environment_names"] == ["ANTHROPIC_API_KEY", "ORCHESTRA_AGENT", "ORCHESTRA_BOARD",
                                                      "ORCHESTRA_ROUTING"]
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


def test_a_target_without_tmux_or_libtmux_is_named_with_the_fix():
    assert "no tmux on PATH" in T.missing_programs(which=lambda name: None, find_spec=lambda name: object())
    assert "cannot import libtmux" in T.missing_programs(which=lambda name: "/usr/bin/tmux", find_spec=lambda name: None)
    assert T.missing_programs(which=lambda name: "/usr/bin/tmux", find_spec=lambda name: object()) is None


def test_each_agent_finds_the_installed_clis_after_orchestra():
    agent = {"name": "a", "command": "amp", "type": "amp"}
    command = T.agent_command(agent, None, "/h/bin", ["/h/npm/bin", "/my dir/bin"])
    assert command.startswith("export PATH=/h/bin:/h/npm/bin:'/my dir/bin':\"$PATH\"; amp")
