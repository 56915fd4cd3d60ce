"""The scripted model server drives the real Claude Code and Codex: headless, side by side, and in a tmux pane.

Each CLI runs with a fresh home pointed at programs/model_server.py on loopback;
the server's scenario tells it which shell command to run, and the test sees
the command's file appear and the server's log say what each agent was told.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request

import pytest

from conftest import wait_for

pytestmark = pytest.mark.usefixtures("real_clis")

TIMEOUT = 60  # seconds for a CLI's whole run; each takes 1 to 3 here


def claude_env(real_clis, home, project, base_url, **extra) -> dict:
    """Claude Code with a fresh home: onboarding done, the project trusted, Bash allowed, no updater, no traffic."""
    config = home / ".claude"
    config.mkdir(parents=True, exist_ok=True)
    (config / ".claude.json").write_text(json.dumps({"hasCompletedOnboarding": True,
                                                     "projects": {str(project): {"hasTrustDialogAccepted": True}}}))
    (config / "settings.json").write_text(json.dumps({"permissions": {"allow": ["Bash"]}}))
    env = {"HOME": str(home), "CLAUDE_CONFIG_DIR": str(config), "CLAUDE_CODE_TMPDIR": str(home / "tmp"),
           "DISABLE_AUTOUPDATER": "1", "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
           "ANTHROPIC_BASE_URL": base_url, "ANTHROPIC_AUTH_TOKEN": "scripted",
           "PATH": "%s:%s" % (real_clis["claude"].parent, os.environ["PATH"])}
    env.update(extra)
    return env


def codex_env(real_clis, home, project, base_url) -> dict:
    """Codex with a fresh CODEX_HOME whose provider is the model server; the project trusted, no daemon."""
    codex_home = home / ".codex"
    codex_home.mkdir(parents=True, exist_ok=True)
    (codex_home / "config.toml").write_text(
        'model = "gpt-5.5"\nmodel_provider = "local"\n[features]\ndaemon_auto_start = false\n'
        '[model_providers.local]\nname = "Local"\nbase_url = "%s/v1"\nenv_key = "LOCAL_OPENAI_KEY"\nwire_api = "responses"\n'
        '[projects."%s"]\ntrust_level = "trusted"\n' % (base_url, project))
    return {"HOME": str(home), "CODEX_HOME": str(codex_home), "LOCAL_OPENAI_KEY": "scripted",
            "PATH": "%s:%s" % (real_clis["codex"].parent, os.environ["PATH"])}


def run_claude(real_clis, env, project, prompt) -> subprocess.Popen:
    return subprocess.Popen([str(real_clis["claude"]), "-p", prompt, "--output-format", "stream-json", "--verbose"],
                            cwd=project, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def run_codex(real_clis, env, project, prompt) -> subprocess.Popen:
    return subprocess.Popen([str(real_clis["codex"]), "exec", "--dangerously-bypass-approvals-and-sandbox", prompt],
                            cwd=project, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)


def finish(proc: subprocess.Popen) -> tuple[str, str]:
    try:
        out, err = proc.communicate(timeout=TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError("the CLI did not finish within %ss:\n%s\n%s" % (TIMEOUT, out[-3000:], err[-3000:])) from None
    assert proc.returncode == 0, out[-3000:] + err[-3000:]
    return out, err


def summary(entries: list[dict]) -> list[tuple]:
    return [(e["api"], e["user_text"], e["turns"], e["reply"]["kind"]) for e in entries]


def test_claude_code_headless_runs_the_scripted_command_and_the_server_stands_in_for_the_proxy(tmp_path, real_clis, model_server):
    project = tmp_path / "project"
    project.mkdir()
    made = tmp_path / "made by claude.txt"
    server = model_server({"rules": [{"agent": "claude", "match": r"make the file",
                                      "replies": [{"command": "echo scripted > '%s'" % made, "description": "Make the file"},
                                                  {"text": "Made it."}]}]})
    with urllib.request.urlopen(server.url + "/health", timeout=5) as health:
        assert json.load(health) == {"status": "ok", "counts": {"available": 1}}

    started = time.monotonic()
    proc = run_claude(real_clis, claude_env(real_clis, tmp_path / "home", project, server.base_url("claude")), project,
                      "Please make the file.")
    out, _err = finish(proc)
    elapsed = time.monotonic() - started

    assert made.read_text() == "scripted\n"
    events = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert events[-1]["type"] == "result" and events[-1]["result"] == "Made it.", events[-1]
    # The tool's result came back, and the rule was not asked again: the second request is one turn on.
    assert summary(server.requests("claude")) == [("anthropic", "Please make the file.", 0, "command"),
                                                  ("anthropic", "Please make the file.", 1, "text")]
    assert [e["method"] for e in server.requests("claude", every=True) if e["api"] is None] == ["HEAD"]
    print("claude -p: %.1fs from start to exit" % elapsed)


def test_codex_exec_runs_the_scripted_command(tmp_path, real_clis, model_server):
    project = tmp_path / "project"
    project.mkdir()
    made = tmp_path / "made by codex.txt"
    server = model_server({"rules": [{"agent": "codex", "match": r"make the file",
                                      "replies": [{"command": "echo scripted > '%s'" % made}, {"text": "Made it."}]}]})

    out, _err = finish(run_codex(real_clis, codex_env(real_clis, tmp_path / "home", project, server.base_url("codex")), project,
                                 "Please make the file."))

    assert made.read_text() == "scripted\n"
    assert out.strip().endswith("Made it.")
    assert summary(server.requests("codex")) == [("openai", "Please make the file.", 0, "command"),
                                                 ("openai", "Please make the file.", 1, "text")]


def test_two_agents_on_one_server_are_told_apart_and_a_retried_error_costs_one_request(tmp_path, real_clis, model_server):
    """The same prompt to both at once: each agent gets its own rule by its path; Claude's first answer is an
    overloaded error, which it retries."""
    project = tmp_path / "project"
    project.mkdir()
    server = model_server({"default": {"text": "Nothing to do."}, "rules": [
        {"agent": "claude", "match": "your file", "replies": [
            {"error": {"status": 529, "message": "Overloaded"}}, {"command": "touch claude.txt"}, {"text": "Claude's done."}]},
        {"agent": "codex", "match": "your file", "replies": [{"command": "touch codex.txt", "delay": 0.2}]}]})

    claude = run_claude(real_clis, claude_env(real_clis, tmp_path / "claude-home", project, server.base_url("claude")),
                        project, "Make your file.")
    codex = run_codex(real_clis, codex_env(real_clis, tmp_path / "codex-home", project, server.base_url("codex")), project,
                      "Make your file.")
    finish(claude)
    out, _err = finish(codex)

    assert sorted(path.name for path in project.iterdir()) == ["claude.txt", "codex.txt"]
    assert out.strip().endswith("Nothing to do.")  # past its replies, codex got the default
    assert [(e["status"], e["turns"], e["reply"]["kind"]) for e in server.requests("claude")] == [
        (529, 0, "error"), (200, 0, "command"), (200, 1, "text")]
    assert summary(server.requests("codex")) == [("openai", "Make your file.", 0, "command"),
                                                 ("openai", "Make your file.", 1, "text")]


def test_claude_code_in_a_tmux_pane_runs_the_command_a_typed_prompt_asks_for(tmp_path, real_clis, model_server, tmux):
    project = tmp_path / "project"
    project.mkdir()
    made = tmp_path / "made in the pane.txt"
    server = model_server({"rules": [{"agent": "pane", "match": r"^make the file$",
                                      "replies": [{"command": "echo typed > '%s'" % made, "description": "Make the file"},
                                                  {"text": "Made it in the pane."}]}]})
    env = claude_env(real_clis, tmp_path / "home", project, server.base_url("pane"))
    options = [item for name, value in env.items() for item in ("-e", "%s=%s" % (name, value))]

    def screen() -> str:
        return tmux("capture-pane", "-p", "-t", "=agent:")

    started = time.monotonic()
    tmux("new-session", "-d", "-s", "agent", "-x", "120", "-y", "40", "-c", str(project), *options, str(real_clis["claude"]))
    wait_for(lambda: "? for shortcuts" in screen() and "\u276f" in screen(), 30, "Claude Code's idle screen", screen)
    idle = time.monotonic() - started

    typed = time.monotonic()
    tmux("send-keys", "-t", "=agent:", "-l", "make the file")
    tmux("send-keys", "-t", "=agent:", "Enter")
    wait_for(made.exists, 30, "the scripted command's file", screen)
    ran = time.monotonic() - typed
    wait_for(lambda: "Made it in the pane." in screen() and "esc to interrupt" not in screen(), 30,
             "the final answer on an idle screen", screen)

    assert made.read_text() == "typed\n"
    told = [e for e in server.requests("pane") if e["tools"]]
    assert summary(told) == [("anthropic", "make the file", 0, "command"), ("anthropic", "make the file", 1, "text")]
    print("Claude Code TUI: launch to idle %.1fs, prompt typed to command run %.1fs" % (idle, ran))
