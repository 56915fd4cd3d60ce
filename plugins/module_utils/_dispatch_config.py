# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dispatcher's configuration (``orchestra dispatch --config``): its keys, defaults and checks.

One definition for both ends: ``_team.dispatcher_config`` builds it on the
controller and checks it here; ``_dispatch.load_config`` reads it on the
target with the same checks. It imports nothing beyond ``json`` (and that only
when a file is read), so neither the ``team`` module nor the ``orchestra``
command pays for the dispatcher's tmux layer. Standard library only.
"""

from __future__ import annotations

CONFIG_KEYS = ("session", "socket_name", "socket_path", "board", "state_file", "queue_dir", "log_file",
               "agents", "restart", "status_line", "poll", "idle_poll", "scan", "settle", "stuck", "notify", "hooks",
               "limits")
AGENT_KEYS = ("name", "role", "type", "prompt", "typed_prompt", "auto_restart", "environment_names",
              "submit_delay", "resume", "complexity")
REQUIRED = ("session", "board", "state_file", "agents")
# Auto-restart: at most max restarts per window seconds per agent, the first after delay seconds, doubling.
RESTART_DEFAULTS = {"max": 3, "window": 600.0, "delay": 2.0}
# Stuck agents: busy with an unchanged screen, or waiting on a dialog, this many seconds (None: never); the
# text typed once into a stuck agent when it is idle again ("": none).
STUCK_DEFAULTS = {"busy_seconds": None, "dialog_seconds": None, "nudge": ""}
# An agent held by a usage or rate limit: its PENDING tasks are held, or handed to another worker of the
# same complexity ("reroute"); it is told to go on once the limit's reset time has passed, or every
# retry_seconds when its screen gives none.
LIMIT_DEFAULTS = {"policy": "hold", "retry_seconds": 1800.0}
LIMIT_POLICIES = ("hold", "reroute")
# Seconds: between stats of the board, between reads of the panes, for a burst of writes to land.
# A team quiet for QUIET seconds (no board write, no report, nothing waiting) is polled every idle_poll: half
# the wake-ups of an idle night, for a notice up to 50 ms later after a quiet spell.
TIMING_DEFAULTS = (("poll", 0.05), ("idle_poll", 0.1), ("scan", 5.0), ("settle", 0.03))
QUIET = 2.0


class ConfigError(ValueError):
    """The dispatcher's configuration cannot work; the message names the key."""


def check(config: dict, where: str) -> dict:
    """Raise ConfigError naming ``where`` and the key when the configuration cannot work; return it unchanged."""
    unknown = sorted(set(config) - set(CONFIG_KEYS))
    if unknown:
        raise ConfigError("%s: unknown key(s) %s" % (where, ", ".join(unknown)))
    for key in REQUIRED:
        if not config.get(key):
            raise ConfigError("%s: %s is missing" % (where, key))
    for agent in config["agents"]:
        bad = sorted(set(agent) - set(AGENT_KEYS))
        if bad or not agent.get("name"):
            raise ConfigError("%s: agent %r has unknown key(s) %s or no name" % (where, agent.get("name"), ", ".join(bad)))
        name = agent["name"]
        if not (isinstance(name, str) and name.replace("-", "").replace("_", "").isalnum()):
            # the name is typed into panes (in notices): nothing a shell or a model would read as more than a name
            raise ConfigError("%s: agent name %r must be letters, digits, '-' or '_'" % (where, name))
    for key in ("stuck", "notify", "limits"):  # notify's own keys are _notify's to check
        if not isinstance(config.get(key) or {}, dict):
            raise ConfigError("%s: %s is a mapping" % (where, key))
    for key, defaults in (("stuck", STUCK_DEFAULTS), ("limits", LIMIT_DEFAULTS)):
        unknown = sorted(set(config.get(key) or {}) - set(defaults))
        if unknown:
            raise ConfigError("%s: %s has unknown key(s) %s" % (where, key, ", ".join(unknown)))
    policy = (config.get("limits") or {}).get("policy", "hold")
    if policy not in LIMIT_POLICIES:
        raise ConfigError("%s: the limit policy %r is not one of %s" % (where, policy, ", ".join(LIMIT_POLICIES)))
    if sum(1 for a in config["agents"] if a.get("role") == "orchestrator") != 1:
        raise ConfigError("%s: exactly one agent must have role orchestrator" % where)
    return config


def with_defaults(config: dict) -> dict:
    """The configuration with every default filled in (restart limits, stuck thresholds, timings as floats)."""
    config = dict(config)
    config["restart"] = {**RESTART_DEFAULTS, **(config.get("restart") or {})}
    config["stuck"] = {**STUCK_DEFAULTS, **(config.get("stuck") or {})}
    config["limits"] = {**LIMIT_DEFAULTS, **(config.get("limits") or {})}
    config["limits"]["retry_seconds"] = float(config["limits"]["retry_seconds"])
    config["notify"] = config.get("notify") or None
    for key, default in TIMING_DEFAULTS:
        config[key] = float(config.get(key) or default)
    return config


def status_file(config: dict) -> str:
    """The file where the dispatcher records each agent's screen state and since when, beside its state file
    (``dispatch-state.json`` -> ``dispatch-state.status.json``); health reads it."""
    state_file = config["state_file"]
    return (state_file[:-5] if state_file.endswith(".json") else state_file) + ".status.json"


def hooks_dir(config: dict) -> str:
    """Where the agents' CLIs report their state (``orchestra hook``): the team's directory, beside the state
    file, ``hooks/AGENT.json``."""
    return (config["state_file"].rpartition("/")[0] or ".") + "/hooks"


def load(path: str) -> dict:
    """Read, check and complete the JSON configuration the orchestration role writes (dispatch.json)."""
    import json  # only the dispatcher reads the file

    try:
        with open(path, encoding="utf-8") as stream:
            config = json.load(stream)
    except OSError as exc:
        raise ConfigError("cannot read the dispatcher configuration %s: %s" % (path, exc.strerror)) from None
    except ValueError as exc:
        raise ConfigError("%s is not valid JSON: %s" % (path, exc)) from None
    return with_defaults(check(config, path))
