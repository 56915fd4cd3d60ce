"""Benchmark: how soon the dispatcher knows a real CLI went idle, from its hooks and from its screen.

Real Claude Code and Codex run in tmux panes against the scripted model server, with their hooks installed
as orchestration_hooks installs them (Claude Code's in the project's .claude/settings.local.json, Codex's
notify on its command line). Each turn is a prompt typed into the CLI whose reply the server holds for a
second. In one run, for each turn:
  t0      the server sends the reply (logged arrival + the reply's delay): the CLI is about to be idle
  hook    the dispatcher's way with hooks: the agent's report polled at its poll interval (50 ms,
          HookReports) until it says idle
  screen  its way without: the screen read at its retry interval while a notice waits (0.25 s, the
          two-reads rule through _agents.observe) until it reads idle
Both watch the same turn at once. No targets: figures for the record (medians of the turns, and the
screen's delay as a multiple of the hook's).

Needs the pinned CLIs in .cache/npm (scripts/setup.sh --test).

Usage: .venv/bin/python bench/hook_latency.py [--turns 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _report import Report

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO / "tests" / "integration"), str(REPO / ".collections")]
import real_team  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.moana.orchestration.plugins.module_utils import _agents as A  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.moana.orchestration.plugins.module_utils import _delivery as DL  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.moana.orchestration.plugins.module_utils import _dispatch as D  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.moana.orchestration.plugins.module_utils import _hooks as H  # noqa: E402  pylint: disable=wrong-import-position
from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T  # noqa: E402  pylint: disable=wrong-import-position

NPM_BIN = REPO / ".cache" / "npm" / "bin"
ORCHESTRA = str(REPO / "scripts" / "orchestra")
HOLD = 1.0  # seconds the server holds each reply


def start_server(root: Path) -> tuple[subprocess.Popen, str, Path]:
    scenario = {"default": {"text": "Noted."}, "rules": [
        {"match": r"^turn (\d+)$", "reply": {"text": r"done \g<1>", "delay": HOLD}}]}
    (root / "scenario.json").write_text(json.dumps(scenario))
    log = root / "requests.jsonl"
    proc = subprocess.Popen([sys.executable, str(real_team.MODEL_SERVER), "--port", "0", "--scenario",
                             str(root / "scenario.json"), "--log", str(log)], stdout=subprocess.PIPE, text=True)
    return proc, "http://127.0.0.1:%s" % proc.stdout.readline().split()[-1], log


def panes(root: Path, url: str) -> dict[str, str]:
    """The two CLIs' pane commands, each exporting what a team's pane does for its hooks."""
    project, home, team = root / "project", root / "home", root / "team"
    project.mkdir()
    subprocess.run(["git", "init", "-q", str(project)], check=True)
    real_team.write_homes(home, url)
    claude_json = json.loads((home / ".claude.json").read_text())
    claude_json.update(hasCompletedOnboarding=True, projects={str(project): {"hasTrustDialogAccepted": True}})
    (home / ".claude.json").write_text(json.dumps(claude_json))
    with open(home / ".codex" / "config.toml", "a", encoding="utf-8") as stream:
        stream.write('[features]\ndaemon_auto_start = false\n[projects."%s"]\ntrust_level = "trusted"\n' % project)
    (project / ".claude").mkdir()
    (project / ".claude" / "settings.local.json").write_text(json.dumps(H.claude_settings(ORCHESTRA, str(team))))
    common = "export HOME=%s DISABLE_AUTOUPDATER=1 CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 ORCHESTRA_PYTHON=%s; " % (
        shlex.quote(str(home)), shlex.quote(sys.executable))
    return {
        "claude": common + "export ORCHESTRA_AGENT=claude ANTHROPIC_BASE_URL=%s/agent/claude ANTHROPIC_AUTH_TOKEN=x; "
                           "exec %s" % (url, NPM_BIN / "claude"),
        "codex": common + "export ORCHESTRA_AGENT=codex LOCAL_OPENAI_KEY=x; exec %s --dangerously-bypass-approvals-and-"
                          "sandbox %s" % (NPM_BIN / "codex", H.codex_notify(ORCHESTRA, str(team))),
    }


def watch(seen: dict, key: str, until: float, test, interval: float) -> None:
    while time.time() < until and key not in seen:
        if test():
            seen[key] = time.time()
            return
        time.sleep(interval)


def one_turn(server, pane_id: str, kind: str, reports: D.HookReports, log: Path, number: int) -> tuple[float, float]:
    """(hook delay, screen delay) in seconds after the reply left the server, for one turn."""
    before = len(log.read_text().splitlines()) if log.exists() else 0
    reports.poll()
    typed_at = time.time()
    result = DL.deliver(server, pane_id, "turn %d" % number, kind, wait_timeout=30)
    if result["status"] != "delivered":
        raise SystemExit("turn %d not delivered to %s: %s" % (number, kind, result))
    seen: dict = {}
    until = time.time() + 30
    tracker = A.Tracker()

    def hook_idle() -> bool:
        reports.poll()
        report = reports.reports.get(kind) or {}
        return report.get("state") == "idle" and report.get("time", 0) > typed_at  # this turn's end, not the last's

    def screen_idle() -> bool:
        state, dummy = A.observe(server, pane_id, kind, tracker=tracker)
        if state == "busy":
            seen.setdefault("started", time.time())
        return state == "idle" and "started" in seen

    threads = [threading.Thread(target=watch, args=(seen, "hook", until, hook_idle, 0.05)),
               threading.Thread(target=watch, args=(seen, "screen", until, screen_idle, D.RETRY))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    entries = [json.loads(line) for line in log.read_text().splitlines()[before:]]
    asked = [e for e in entries if e.get("api") and e.get("user_text") == "turn %d" % number and e.get("tools")]
    if not asked or "hook" not in seen or "screen" not in seen:
        raise SystemExit("turn %d of %s: request %s, seen %s" % (number, kind, bool(asked), sorted(seen)))
    sent = asked[-1]["time"] + HOLD
    return seen["hook"] - sent, seen["screen"] - sent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--json")
    args = parser.parse_args()
    result = Report("hook_latency")
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        proc, url, log = start_server(root)
        socket_name = "moana-bench-hooks-%d" % os.getpid()
        server = T.open_server(socket_name=socket_name)
        try:
            for kind, command in panes(root, url).items():
                server.cmd("new-session", "-d", "-s", kind, "-x", "120", "-y", "40", "-c", str(root / "project"), command)
                pane_id = server.cmd("display-message", "-p", "-t", kind, "#{pane_id}").stdout[0].strip()
                reports = D.HookReports(str(root / "team" / "hooks"), [kind])
                deadline = time.time() + 30
                while A.observe(server, pane_id, kind)[0] != "idle" and time.time() < deadline:
                    time.sleep(0.2)
                delays = [one_turn(server, pane_id, kind, reports, log, number) for number in range(1, args.turns + 1)]
                hook = sorted(d[0] for d in delays)[len(delays) // 2]
                screen = sorted(d[1] for d in delays)[len(delays) // 2]
                name = {"claude": "Claude Code", "codex": "Codex"}[kind]
                result.add("%s idle: known from its hooks, median" % name, hook * 1000, "ms", None,
                           "%d turns, %s" % (len(delays), " ".join("%.0f" % (d[0] * 1000) for d in delays)))
                result.add("%s idle: known from its screen, median" % name, screen * 1000, "ms", None,
                           "%s" % " ".join("%.0f" % (d[1] * 1000) for d in delays))
                result.add("%s idle: screen / hooks" % name, screen / hook if hook > 0 else 0.0, "x", None,
                           "the dispatcher's retry reads (%.2f s) against its report polls (0.05 s)" % D.RETRY)
        finally:
            subprocess.run(["tmux", "-L", socket_name, "kill-server"], capture_output=True, check=False)
            proc.terminate()
            proc.wait(5)
    return result.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
