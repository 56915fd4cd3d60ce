"""The seed's team with the real CLIs, as the tests and the benchmark run it: the scripted model server's
scenario, the user's CLI settings, the team's variables, and what the request log tells afterwards.

Claude Code orchestrates; Claude Code in the proxy's slot (the scripted model server is the team's proxy)
and Codex work; a simulated agent holds Amp's slot (Amp's agent loop runs on its own service).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

MODEL_SERVER = Path(__file__).resolve().parent / "programs" / "model_server.py"
TASKS = {"high": ("Design the cache", "antigravity"), "medium": ("Build the cache", "amp"), "low": ("Test the cache", "codex")}
# One notice line as the dispatcher writes it: "[orchestra] " then "; "-separated notices, each whole.
NOTICE = (r"TASK-\d{3} (is assigned to you|was completed|FAILED): run orchestra task show TASK-\d{3}"
          r"|MSG-\d{3} is a message (for you|to all): run orchestra msg list --to \w+ --since MSG-\d{3}")
NOTICE_LINE = re.compile(r"\[orchestra\] (%s)(; (%s))*" % (NOTICE, NOTICE))
# The model's replies: a pause before the first one of each notice keeps the agent busy long enough to be seen.
THINK = 1.5


def scenario() -> dict:
    adds = [{"command": "orchestra task add --complexity %s --priority HIGH --title '%s' --description 'part of the cache'"
                        % (complexity, title), "description": "Assign %s" % title}
            for complexity, (title, _worker) in TASKS.items()]
    adds[0]["delay"] = THINK
    return {"default": {"text": "Noted."}, "rules": [
        # The orchestrator's initial prompt: split the request into three tasks.
        {"agent": "claude", "match": r"^# You are claude, the orchestrator", "times": 1,
         "replies": [*adds, {"text": "Three tasks assigned."}]},
        # A completion: look at it as the notice says; once nothing is left in the queue, say so to all, once.
        {"agent": "claude", "match": r"(TASK-\d+) was completed: run (orchestra task show TASK-\d+)", "replies": [
            {"command": r"\g<2>", "delay": THINK},
            {"command": "orchestra task list | grep -q '^TASK-' || orchestra msg list | grep -q 'plan complete' "
                        "|| orchestra msg send --to all 'plan complete'"},
            {"text": "Reviewed \\g<1>."}]},
        # A worker's task, through the proxy (Claude Code, no agent prefix) or Codex: the notice's own command,
        # then the task's protocol.
        {"match": r"(TASK-\d+) is assigned to you: run (orchestra task show TASK-\d+)", "replies": [
            {"command": r"\g<2>", "delay": THINK},
            {"command": r"orchestra task start \g<1>"},
            {"command": r"orchestra task done \g<1> --changes 'did \g<1>' --files src/cache.py"},
            {"text": r"Finished \g<1>."}]},
    ]}


def write_homes(home: Path, server_url: str) -> None:
    """A user's own settings for these CLIs: Bash allowed in Claude Code, a model provider for Codex (whose
    new-model question is answered). What a fresh box lacks to start them unattended (onboarding, trusting the
    project, Codex's daemon off) the role's opt-in variables add."""
    (home / ".claude").mkdir(parents=True)
    (home / ".claude.json").write_text(json.dumps({"numStartups": 3, "projects": {"/elsewhere": {"allowedTools": []}}}))
    (home / ".claude" / "settings.json").write_text(json.dumps({"permissions": {"allow": ["Bash"]}}))
    (home / ".codex").mkdir()
    (home / ".codex" / "config.toml").write_text(
        'model = "gpt-5.5"\nmodel_provider = "local"\n'
        '[model_providers.local]\nname = "Local"\nbase_url = "%s/agent/codex/v1"\nenv_key = "LOCAL_OPENAI_KEY"\n'
        'wire_api = "responses"\n'
        # The answer to Codex's "Try new model / Use existing model" dialog: the model kept.
        '[notice.model_migrations]\n"gpt-5.5" = "gpt-6-sol"\n' % server_url)


def team(root: Path, port: int, socket_name: str, npm_bin: str) -> tuple[dict, dict, Path]:
    """The team's variables and the playbook runs' environment for a team under ``root`` whose proxy (the
    scripted model server) listens on ``port``; returns (variables, environment, the server's request log).
    The project is a git repository, as a user's is: Codex asks whether to trust one unless told."""
    project, home, server_dir = root / "project", root / "home", root / "model-server"
    for folder in (project, server_dir):
        folder.mkdir(parents=True)
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    (server_dir / "scenario.json").write_text(json.dumps(scenario()))
    url = "http://127.0.0.1:%d" % port
    write_homes(home, url)
    agents = [
        {"name": "claude", "role": "orchestrator", "command": "claude",
         "environment": {"ANTHROPIC_BASE_URL": url + "/agent/claude", "ANTHROPIC_AUTH_TOKEN": "scripted"}},
        {"name": "amp", "role": "worker", "complexity": "medium", "command": "orchestra simulate --work 0.5 --nudge-only"},
        {"name": "antigravity", "role": "worker", "complexity": "high", "uses_proxy": True,
         "command": "claude --model claude-opus-4-5-thinking"},
        {"name": "codex", "role": "worker", "complexity": "low", "command": "codex --dangerously-bypass-approvals-and-sandbox",
         "environment": {"LOCAL_OPENAI_KEY": "scripted"}},
    ]
    settings = {"orchestration_agents": agents, "orchestration_project_dir": str(project),
                "orchestration_home": str(root / "orchestra"), "orchestration_tmux_socket_name": socket_name,
                "orchestration_npm_bin": npm_bin, "orchestration_stop_timeout": 10,
                "orchestration_claude_trust_project": True, "orchestration_codex_trust_project": True,
                "orchestration_codex_daemon": False,
                # The scripted model server is the team's proxy: started, probed, checked and stopped as one.
                "orchestration_proxy_port": port,
                "orchestration_proxy_command": "%s %s --port %d --scenario %s --log %s" % (
                    sys.executable, MODEL_SERVER, port, server_dir / "scenario.json", server_dir / "requests.jsonl"),
                "orchestration_proxy_dir": str(root / "proxy"), "orchestration_proxy_pidfile": str(root / "proxy.pid")}
    # The panes inherit these from the tmux server, which inherits them from the playbook run.
    environment = {"HOME": str(home), "DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
                   "CLAUDE_CODE_TMPDIR": str(root / "claude-tmp")}

    return settings, environment, server_dir / "requests.jsonl"


def requests(log: Path) -> list[dict]:
    """The model requests the server logged, oldest first."""
    lines = log.read_text().splitlines() if log.exists() else []
    return [entry for entry in map(json.loads, lines) if entry["api"]]


def notice_latencies(entries: list[dict]) -> dict[str, float]:
    """Seconds from the orchestrator's board write of each task (its next model request, sent as soon as the
    `task add` tool returned) to the request carrying that task's notice from the model-backed worker it was
    routed to: {task id: seconds}. Antigravity's requests come through the proxy's address (agent "")."""
    added = [e for e in entries if e["agent"] == "claude" and e["user_text"].startswith("# You are claude")]
    found = {}
    for number in range(1, len(TASKS) + 1):
        task_id = "TASK-%03d" % number
        wrote = [e["time"] for e in added if e["turns"] == number]
        told = [e["time"] for e in entries if e["agent"] != "claude" and e["turns"] == 0
                and e["user_text"].startswith("[orchestra] %s is assigned" % task_id)]
        if wrote and told:
            found[task_id] = told[0] - wrote[0]
    return found
