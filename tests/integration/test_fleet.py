"""A fleet over real SSH: boxes that are Unix users behind an sshd on loopback (tests/integration/fleet.py).
A host that cannot be reached, lacks tmux without a way to root, or has its proxy port taken is named in the
run's summary with its fix, and never holds the other boxes back."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from conftest import ANSIBLE_PLAYBOOK, REPO, free_port, playbook_environment, wait_for
from fleet import Fleet, needs_root_and_sshd

pytestmark = pytest.mark.playbook
SIMULATED = {"orchestration_team": "simulated", "orchestration_project_dir": "~/project",
             "orchestration_tmux_socket_name": "moana-fleet-test", "orchestration_stop_timeout": 3}


@pytest.fixture
def fleet():
    needs_root_and_sshd()
    # Not under the test's own temporary folder: its parents are private, and the users read programs kept here.
    made = Fleet(Path(tempfile.mkdtemp(prefix="moana-fleet.")), free_port())
    yield made
    made.close()
    shutil.rmtree(made.root, ignore_errors=True)


def run(name: str, inventory: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([ANSIBLE_PLAYBOOK, "-i", inventory, str(REPO / "playbooks" / ("%s.yml" % name)), *extra], cwd=REPO,
                          env=playbook_environment(), capture_output=True, text=True, check=False, timeout=600)


def test_an_unreachable_host_is_named_in_each_summary_and_the_other_box_runs_its_team(fleet, tmp_path):
    fleet.add_box("box1")
    fleet.start()
    closed = free_port()  # nothing listens there: the host refuses every connection
    inventory = fleet.inventory({"box1": fleet.host("box1", **SIMULATED),
                                 "ghost": dict(fleet.host("box1", **SIMULATED), ansible_port=closed)})
    report = tmp_path / "health.json"

    started = run("start", inventory)
    assert started.returncode == 4, started.stdout[-3000:]  # 4: a host was unreachable
    assert "box1 (moana-orchestration): started: " in started.stdout
    assert "ghost: unreachable: the run lost this host (see its error above)" in started.stdout
    assert "start on 2 hosts: 1 changed, 1 unreachable" in started.stdout

    looked = run("health", inventory, "-e", "orchestration_fleet_report=%s" % report)
    assert looked.returncode == 4, looked.stdout[-3000:]
    entries = {e["host"]: e for e in json.loads(report.read_text())}
    assert entries["ghost"]["status"] == "unreachable" and entries["ghost"]["team"] is None
    assert entries["box1"]["status"] == "ok" and entries["box1"]["agents"]["dead"] == 0
    assert entries["box1"]["report"]["agents"][0]["agent"] == "claude"
    assert "health on 2 hosts: 1 ok, 1 unreachable" in looked.stdout

    stopped = run("stop", inventory, "--limit", "box1")
    assert stopped.returncode == 0, stopped.stdout[-3000:]
    assert "stop on 1 host: 1 changed" in stopped.stdout and "ghost" not in stopped.stdout.split("PLAY RECAP")[0]


def test_a_box_without_tmux_or_sudo_is_told_what_to_install_and_the_other_box_is_not_held(fleet):
    fleet.add_box("box1")
    bare = fleet.add_box("bare", without=("tmux",))
    fleet.start()
    inventory = fleet.inventory({"bare": fleet.host("bare", **SIMULATED), "box1": fleet.host("box1", **SIMULATED)})

    installed = run("install", inventory)
    assert installed.returncode == 2, installed.stdout[-3000:]
    assert ("bare: tmux not installed, and %s cannot become root to install it" % bare) in installed.stdout
    assert ("Fix: install tmux as root on bare (apt-get install tmux), or let %s use sudo" % bare) in installed.stdout
    assert "box1                       : ok=" in installed.stdout and " failed=0 " in installed.stdout.split("box1")[-1], \
        installed.stdout[-5000:]

    started = run("start", inventory)
    assert started.returncode == 2, started.stdout[-3000:]
    assert "bare (moana-orchestration): start failed at task 'Validate the team and plan its windows': " in started.stdout
    assert "tmux" in started.stdout.split("bare (moana-orchestration): start failed")[1].splitlines()[0]
    assert "box1 (moana-orchestration): started: " in started.stdout
    assert not (fleet.home("bare") / "project").exists()  # nothing written before the check
    assert run("stop", inventory, "--limit", "box1").returncode == 0


def test_a_proxy_port_taken_on_one_box_fails_that_box_only_naming_the_port_and_the_fix(fleet, tmp_path):
    fleet.add_box("box1")
    fleet.add_box("box2")
    fleet.start()
    # A stand-in proxy both users can run: /health with an available account.
    stand_in = fleet.root / "http_server.py"
    shutil.copy(REPO / "tests" / "integration" / "programs" / "http_server.py", stand_in)
    stand_in.chmod(0o644)
    agents = [{"name": "claude", "role": "orchestrator", "command": "orchestra simulate --role orchestrator"},
              {"name": "amp", "role": "worker", "complexity": "medium", "command": "orchestra simulate"},
              {"name": "antigravity", "role": "worker", "complexity": "high", "uses_proxy": True, "command": "orchestra simulate"}]
    ports = {"box1": free_port(), "box2": free_port()}
    taken = subprocess.Popen([sys.executable, str(stand_in), str(ports["box2"])], stdout=subprocess.PIPE, text=True)
    try:
        assert taken.stdout.readline().startswith("listening")
        hosts = {name: fleet.host(name, **dict(SIMULATED, orchestration_agents=agents, orchestration_proxy_port=port,
                                               orchestration_proxy_command="/usr/bin/python3 %s %d" % (stand_in, port)))
                 for name, port in ports.items()}
        inventory = fleet.inventory(hosts)
        started = run("start", inventory)
        assert started.returncode == 2, started.stdout[-3000:]
        line = next(line for line in started.stdout.splitlines() if "box2 (moana-orchestration): start failed" in line)
        assert "port %d is already in use on 127.0.0.1" % ports["box2"] in line and "orchestration_proxy_port" in line, line
        assert "box1 (moana-orchestration): started: " in started.stdout, started.stdout[-5000:]
        looked = run("health", inventory, "--limit", "box1")
        assert looked.returncode == 0, looked.stdout[-3000:]
        assert run("stop", inventory, "--limit", "box1").returncode == 0
    finally:
        taken.kill()
        taken.wait()


class Network:
    """Network namespaces: a controller's, joined by a bridge to one per host, each host at its own address
    (10.200.0.0/24, only inside these namespaces). Users, homes and /tmp stay shared: only the network is apart."""

    def __init__(self, hosts: list[str]):
        tag = "%d" % (os.getpid() % 100000)
        self.controller = "moana-ctl-%s" % tag
        self.namespaces = {host: "moana-%s-%s" % (host, tag) for host in hosts}
        self.links = {host: "mh%d-%s" % (n, tag) for n, host in enumerate(hosts)}
        self.addresses = {host: "10.200.0.%d" % (11 + n) for n, host in enumerate(hosts)}
        self.ip("netns", "add", self.controller)
        self.ip("-n", self.controller, "link", "add", "br0", "type", "bridge")
        self.ip("-n", self.controller, "addr", "add", "10.200.0.1/24", "dev", "br0")
        self.ip("-n", self.controller, "link", "set", "br0", "up")
        self.ip("-n", self.controller, "link", "set", "lo", "up")
        for host, namespace in self.namespaces.items():
            link = self.links[host]
            self.ip("netns", "add", namespace)
            self.ip("link", "add", link, "netns", namespace, "type", "veth", "peer", "name", "c" + link, "netns", self.controller)
            self.ip("-n", self.controller, "link", "set", "c" + link, "master", "br0", "up")
            self.ip("-n", namespace, "addr", "add", self.addresses[host] + "/24", "dev", link)
            self.ip("-n", namespace, "link", "set", link, "up")
            self.ip("-n", namespace, "link", "set", "lo", "up")

    @staticmethod
    def ip(*argv: str) -> None:
        subprocess.run(["ip", *argv], check=True, capture_output=True)

    def run_in_controller(self) -> tuple[str, ...]:
        return ("ip", "netns", "exec", self.controller)

    def cut(self, host: str) -> None:
        self.ip("-n", self.namespaces[host], "link", "set", self.links[host], "down")

    def close(self) -> None:
        for namespace in [*self.namespaces.values(), self.controller]:
            subprocess.run(["ip", "netns", "delete", namespace], capture_output=True, check=False)


def test_a_host_cut_off_mid_start_never_holds_the_other_whose_team_completes_its_plan(fleet):
    if shutil.which("ip") is None:
        pytest.skip("iproute2 is not installed (scripts/setup.sh --test installs it)")
    fleet.add_box("near")
    fleet.add_box("far")
    network = Network(["near", "far"])
    try:
        for host in ("near", "far"):
            fleet.start(network.addresses[host], network.namespaces[host], network.run_in_controller())
        inventory = fleet.inventory({host: fleet.host(host, network.addresses[host], **SIMULATED) for host in ("near", "far")})
        command = [*network.run_in_controller(), ANSIBLE_PLAYBOOK, "-i", inventory, str(REPO / "playbooks" / "start.yml")]
        began = time.monotonic()
        start = subprocess.Popen(command, cwd=REPO, env=playbook_environment(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                 text=True)
        # Cut once the far box has its session: mid-start, with its prompts still to be typed.
        far_tmux = ["runuser", "-u", fleet.users["far"], "--", "tmux", "-L", SIMULATED["orchestration_tmux_socket_name"],
                    "has-session", "-t", "=moana-orchestration"]
        wait_for(lambda: subprocess.run(far_tmux, capture_output=True, check=False).returncode == 0 or start.poll() is not None,
                 120, "the far box's session", interval=0.05)
        network.cut("far")
        cut_at = time.monotonic()
        output, dummy = start.communicate(timeout=300)
        ended = time.monotonic()
        assert start.returncode == 4, output[-5000:]
        assert "near (moana-orchestration): started: " in output, output[-5000:]
        assert "far: unreachable: the run lost this host" in output
        # ServerAliveInterval=5 x ServerAliveCountMax=2 in the shipped ansible.cfg: lost in about 10 s, not hung.
        assert ended - cut_at < 60, "the run went on %.0f s after the cut (started %.0f s before it)" % (ended - cut_at, cut_at - began)
        print("cut mid-start: the run ended %.1f s after the cut" % (ended - cut_at), file=sys.stderr)
        board = fleet.home("near") / "project" / "CLAUDE.md"
        wait_for(lambda: board.exists() and "plan complete: 5 tasks done" in board.read_text(), 60, "the near box's plan")
    finally:
        network.close()
