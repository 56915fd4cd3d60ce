"""An agent's environment (API keys, tokens) through start, auto-restart, health and stop: it reaches the agent's
process, and nothing else. Real ansible-playbook at -vvv, real tmux on a private socket, real processes.

A random secret is given in an agent's ``environment``. It must be in ``/proc/<pid>/environ`` of the agent's
process, also after the dispatcher respawned it, and nowhere else: not in the playbooks' output, the recorded
module results, the files under the project's logs, the team's other files, tmux's environment (global and
the session's), or the command line of any process that ran meanwhile (read from /proc by a thread that polls
all the time the playbook or the respawn runs).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import signal
import stat
import subprocess
import sys
import threading

import pytest

from conftest import REPO, end_team, files_holding, free_port, leaks, wait_for

pytestmark = pytest.mark.playbook

# Values a shell would read otherwise if the env file quoted them wrongly, and a short one that Ansible's masking
# would find in unrelated text (the proxy's URL holds 8080).
QUOTED = "it's a \"$HOME\" `id` $(id) test\nwith a second line\\"
SHORT = "8080"


class CommandLines:
    """Every process's command line, read from /proc over and over in a thread: what ``ps`` showed meanwhile."""

    def __init__(self, needles: list[bytes]):
        self.needles = needles
        self.found: dict[int, str] = {}
        self.rounds = 0
        self.running = False
        self.thread = None

    def scan(self) -> None:
        for entry in os.listdir("/proc"):
            if not entry.isdigit():
                continue
            try:
                with open("/proc/%s/cmdline" % entry, "rb") as stream:
                    line = stream.read()
            except OSError:
                continue  # gone meanwhile
            if any(needle in line for needle in self.needles):
                self.found[int(entry)] = line.replace(b"\0", b" ").decode("utf-8", "replace")

    def loop(self) -> None:
        while self.running:
            self.scan()
            self.rounds += 1

    def __enter__(self):
        self.running = True
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()
        return self

    def __exit__(self, *exc_info):
        self.running = False
        self.thread.join(10)


def agents(secret: str) -> list[dict]:
    return [
        {"name": "boss", "role": "orchestrator", "command": "orchestra simulate --role orchestrator --nudge-only"},
        {"name": "amp", "role": "worker", "complexity": "medium", "command": "orchestra simulate --work 0.2-0.5 --nudge-only",
         "auto_restart": True, "environment": {"MOANA_TEST_SECRET": secret, "MOANA_TEST_QUOTED": QUOTED,
                                               "MOANA_TEST_PORT": SHORT}},
        {"name": "codex", "role": "worker", "complexity": "low", "command": "orchestra simulate --work 0.2-0.5 --nudge-only"},
    ]


class Team:
    def __init__(self, playbook, tmux, root, secret: str):
        self.playbook, self.tmux, self.root = playbook, tmux, root
        self.project = root / "project"
        self.home = root / "home"
        self.session = "moana-orchestration"
        self.team_dir = self.home / "teams" / ("%s@%s" % (self.session, tmux.socket_name))
        self.settings = {"orchestration_team": "simulated", "orchestration_project_dir": str(self.project),
                         "orchestration_home": str(self.home), "orchestration_tmux_socket_name": tmux.socket_name,
                         "orchestration_session_name": self.session, "orchestration_stop_timeout": 3,
                         "orchestration_command_link": "", "orchestration_dispatcher_scan": 0.5,
                         "orchestration_restart_delay": 0.2}
        self.vars = root / "team.json"  # a file: the secret is never on ansible-playbook's own command line
        self.set_secret(secret)

    def set_secret(self, secret: str) -> None:
        self.secret = secret
        self.vars.write_text(json.dumps(dict(self.settings, orchestration_agents=agents(secret))))

    def run(self, name: str, *extra: str):
        return self.playbook((REPO / "playbooks" / ("%s.yml" % name)).read_text(), "-e", "@%s" % self.vars, "-vvv", *extra)

    def panes(self) -> dict:
        return self.tmux.panes(self.session)

    def environ(self, pid: int) -> dict[str, str]:
        with open("/proc/%d/environ" % pid, "rb") as stream:
            pairs = [item.decode("utf-8").partition("=") for item in stream.read().split(b"\0") if item]
        return {key: value for key, dummy, value in pairs}


@pytest.fixture
def team(playbook, tmux, tmp_path):
    made = Team(playbook, tmux, tmp_path, secrets.token_hex(16))
    yield made
    end_team(made.home, tmux.socket_name)


def test_the_poller_sees_a_command_line_that_lasts_a_moment():
    """The check below proves something: a short-lived process with the needle in its argv is caught."""
    needle = secrets.token_hex(16)
    with CommandLines([needle.encode()]) as lines:
        subprocess.run([sys.executable, "-S", "-c", "import time; time.sleep(0.05)", needle], check=True)
    assert len(lines.found) == 1 and lines.rounds > 1


def test_an_agents_secret_reaches_its_process_and_nothing_else(team, tmux):
    secret = team.secret
    needles = [secret.encode(), b"MOANA_TEST_SECRET="]
    with CommandLines(needles) as lines:
        start = team.run("start")
    assert start.returncode == 0, start.stdout[-5000:]
    assert leaks(secret, start) == []
    assert lines.found == {}, lines.found

    # The plan holds names only, so the short value masks nothing in it (the proxy's URL, ports, paths).
    plan = start.result("Validate the team and plan its windows")
    assert "********" not in json.dumps(plan) and "VALUE_SPECIFIED" not in json.dumps(plan)
    assert plan["agents"][1]["environment"] == ["MOANA_TEST_PORT", "MOANA_TEST_QUOTED", "MOANA_TEST_SECRET"]
    home = start.result("Install orchestra, the team's prompts, the dispatcher's settings, and the board's sections "
                        "(one call for the whole team)")
    assert home["secrets_changed"] == ["amp"]

    # In the agent's process, exactly as given; not in the other agents'.
    panes = team.panes()
    amp = team.environ(panes["amp"]["pid"])
    assert amp["MOANA_TEST_SECRET"] == secret and amp["MOANA_TEST_QUOTED"] == QUOTED and amp["MOANA_TEST_PORT"] == SHORT
    assert amp["ORCHESTRA_AGENT"] == "amp" and amp["ORCHESTRA_BOARD"] == str(team.project / "CLAUDE.md")
    assert "MOANA_TEST_SECRET" not in team.environ(panes["codex"]["pid"])
    assert "python" in open("/proc/%d/cmdline" % panes["amp"]["pid"], "rb").read().decode()  # exec'd: the agent itself

    # The file: 0600 in a 0700 directory; no tmux environment, option or start command holds the value.
    env_file = team.team_dir / "env" / "amp.env"
    assert stat.S_IMODE(env_file.stat().st_mode) == 0o600
    assert stat.S_IMODE(env_file.parent.stat().st_mode) == 0o700
    assert sorted(os.listdir(env_file.parent)) == ["amp.env"]
    for where in (["show-environment", "-g"], ["show-environment", "-t", "=" + team.session],
                  ["show-options", "-g"], ["show-options", "-t", "=%s:" % team.session], ["show-options", "-w", "-t", "=%s:" % team.session],
                  ["list-panes", "-s", "-t", "=%s:" % team.session, "-F", "#{pane_start_command} #{@moana_fingerprint}"]):
        shown = tmux(*where)
        assert secret not in shown and "MOANA_TEST_SECRET" not in shown, where

    # The dispatcher respawns the agent with the same command, which reads the file again.
    pid = panes["amp"]["pid"]
    with CommandLines(needles) as lines:
        os.kill(pid, signal.SIGKILL)

        def respawned_pane():
            now = team.panes()["amp"]
            return now if now["pid"] != pid and not now["dead"] else None

        respawned = wait_for(respawned_pane, 30, "amp's respawn by the dispatcher")
        again = wait_for(lambda: team.environ(respawned["pid"]).get("MOANA_TEST_SECRET"), 10, "the respawned amp's environment")
    assert again == secret and lines.found == {}, lines.found
    assert team.environ(respawned["pid"])["ORCHESTRA_BOARD"] == str(team.project / "CLAUDE.md")

    health = team.run("health", "-e", "orchestration_health_format=json")
    assert leaks(secret, health) == [], health.stdout[-3000:]

    # Nothing else on disk holds it: the project's logs (panes, dispatcher, start's log), the team's other files.
    assert files_holding(secret, team.project) == []
    assert [path for path in files_holding(secret, team.home) if path != str(env_file)] == []

    stop = team.run("stop")
    assert stop.returncode == 0 and leaks(secret, stop) == []
    assert files_holding(secret, team.project / "logs") == []


def test_a_changed_secret_restarts_that_agent_only_and_a_second_start_changes_nothing(team):
    assert team.run("start").returncode == 0
    again = team.run("start")
    assert again.returncode == 0 and again.recap()["changed"] == 0, again.stdout[-3000:]
    before = team.panes()

    team.set_secret(secrets.token_hex(16))
    changed = team.run("start")
    assert changed.returncode == 0, changed.stdout[-3000:]
    assert leaks(team.secret, changed) == []
    session = changed.result("Ensure the session, its windows and one pane per agent")
    assert session["restarted"] == ["amp"] and session["created"] == [] and session["respawned"] == []
    after = team.panes()
    assert after["amp"]["pid"] != before["amp"]["pid"]
    assert {name: after[name]["pid"] for name in ("boss", "codex")} == {name: before[name]["pid"] for name in ("boss", "codex")}
    assert wait_for(lambda: team.environ(after["amp"]["pid"]).get("MOANA_TEST_SECRET"), 10, "amp's new secret") == team.secret

    settled = team.run("start")
    assert settled.returncode == 0 and settled.recap()["changed"] == 0, settled.stdout[-3000:]


def test_an_agent_whose_environment_is_removed_loses_its_file(team):
    assert team.run("start").returncode == 0
    team.vars.write_text(json.dumps(dict(team.settings, orchestration_agents=[
        {key: value for key, value in agent.items() if key != "environment"} for agent in agents(team.secret)])))
    started = team.run("start")
    assert started.returncode == 0, started.stdout[-3000:]
    assert started.result("Ensure the session, its windows and one pane per agent")["restarted"] == ["amp"]
    assert os.listdir(team.team_dir / "env") == []
    assert "MOANA_TEST_SECRET" not in team.environ(team.panes()["amp"]["pid"])


def test_the_proxys_environment_reaches_the_proxy_only(playbook, tmux, tmp_path):
    """orchestration_proxy_environment goes to background_process's environment: the proxy (a stand-in) gets it,
    no command line, output or result shows it."""
    secret, port = secrets.token_hex(16), free_port()
    standin = REPO / "tests" / "integration" / "programs" / "proxy_standin.py"
    settings = {"orchestration_agents": [
        {"name": "boss", "role": "orchestrator", "command": "orchestra simulate --role orchestrator"},
        {"name": "antigravity", "role": "worker", "complexity": "high", "uses_proxy": True, "command": "orchestra simulate"}],
        "orchestration_project_dir": str(tmp_path / "project"), "orchestration_home": str(tmp_path / "home"),
        "orchestration_tmux_socket_name": tmux.socket_name, "orchestration_stop_timeout": 3,
        "orchestration_command_link": "", "orchestration_dispatcher": False, "orchestration_proxy_port": port,
        "orchestration_proxy_command": "%s %s %d" % (sys.executable, standin, port),
        "orchestration_proxy_dir": str(tmp_path / "proxy"), "orchestration_proxy_pidfile": str(tmp_path / "proxy.pid"),
        "orchestration_proxy_environment": {"MOANA_PROXY_SECRET": secret}}
    (tmp_path / "vars.json").write_text(json.dumps(settings))

    def run(name):
        return playbook((REPO / "playbooks" / ("%s.yml" % name)).read_text(), "-e", "@%s" % (tmp_path / "vars.json"), "-vvv")

    try:
        with CommandLines([secret.encode()]) as lines:
            started = run("start")
        assert started.returncode == 0, started.stdout[-5000:]
        assert leaks(secret, started) == [] and lines.found == {}, lines.found
        pid = json.loads((tmp_path / "proxy.pid").read_text())["pid"]
        with open("/proc/%d/environ" % pid, "rb") as stream:
            assert ("MOANA_PROXY_SECRET=%s" % secret).encode() in stream.read().split(b"\0")
        assert files_holding(secret, tmp_path / "project") == [] and files_holding(secret, tmp_path / "home") == []
        assert secret not in (tmp_path / "proxy.pid").read_text()
    finally:
        stopped = run("stop")
    assert stopped.returncode == 0 and leaks(secret, stopped) == []


def target_logs() -> tuple[list[str] | None, str]:
    """The command that prints the target's system log, or None and why there is none to read here."""
    if shutil.which("journalctl"):
        probe = subprocess.run(["journalctl", "-n", "1", "--no-pager", "-q"], capture_output=True, text=True, check=False)
        if probe.returncode == 0 and probe.stdout.strip():
            return ["journalctl", "--no-pager", "-q", "-o", "cat", "--since", "-15min"], ""
    for path in ("/var/log/syslog", "/var/log/messages", "/var/log/user.log"):
        if os.path.exists(path):
            return ["cat", path], ""
    return None, "no journal (journalctl answers nothing) and no /var/log/syslog on this machine: nothing logs module invocations here"


def test_the_targets_log_never_holds_the_secret(team):
    command, why = target_logs()
    if command is None:
        pytest.skip(why)
    assert team.run("start").returncode == 0
    assert team.run("stop").returncode == 0
    logged = subprocess.run(command, capture_output=True, text=True, check=False).stdout
    assert "moana.orchestration" in logged or "ansible-" in logged, "the log holds no module invocation: %s" % command
    assert team.secret not in logged
