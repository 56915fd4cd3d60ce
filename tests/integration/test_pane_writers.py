"""One writer per pane at a time: 32 agents, bursts of notices during start and during stop.

start.yml pastes each simulated agent's initial prompt while the dispatcher
types notices of messages sent meanwhile; stop.yml ends the dispatcher while
a burst is being typed, then types each agent's exit command. Whoever types
holds the pane for the whole delivery, so no input line ever holds two
writers' text (the simulated agents report a notice found inside another
input as "merged input") and every agent exits on request (no stall).
"""

from __future__ import annotations

import json
import threading
import time

import pytest

from conftest import REPO, wait_for
from ansible_collections.moana.orchestration.plugins.module_utils import _board as B

pytestmark = pytest.mark.playbook
AGENTS = 32
ROUNDS = 2


def team(size: int) -> list[dict]:
    agents = [{"name": "boss", "role": "orchestrator", "command": "orchestra simulate --role orchestrator --nudge-only"}]
    agents += [{"name": "w%02d" % n, "role": "worker", "complexity": ("high", "medium", "low")[n % 3],
                "command": "orchestra simulate --work 0.1-0.3 --nudge-only"} for n in range(size - 1)]
    return agents


class Burst(threading.Thread):
    """Once the dispatcher watches the board, send messages to every agent, one every ``gap`` seconds."""

    def __init__(self, board, dispatcher_log, count: int, gap: float, text: str):
        super().__init__(daemon=True)
        self.board, self.log, self.count, self.gap, self.text = board, dispatcher_log, count, gap, text
        self.sent: list[int] = []
        self.error: BaseException | None = None

    def watching(self) -> bool:
        return self.log.exists() and "dispatcher watching" in self.log.read_text()

    def run(self) -> None:
        try:
            wait_for(self.watching, 60, "the dispatcher's start", interval=0.02)
            for number in range(self.count):
                B.update(str(self.board), lambda b, n=number: B.send_message(b, "tester", "all", "%s %d" % (self.text, n)))
                self.sent.append(number)
                time.sleep(self.gap)
        except BaseException as exc:  # reported by the test
            self.error = exc


def delivered_keys(log) -> list[str]:
    lines = [line for line in log.read_text().splitlines() if ": delivered [" in line]
    return [key for line in lines for key in line.split("[", 1)[1].split("]", 1)[0].split()]


def test_bursts_of_notices_during_start_and_stop_never_share_an_input_line(tmux, tmp_path, playbook):
    agents = team(AGENTS)
    names = [a["name"] for a in agents]
    for round_number in range(ROUNDS):
        root = tmp_path / ("round%d" % round_number)
        settings = {"orchestration_agents": agents, "orchestration_project_dir": str(root / "project"),
                    "orchestration_home": str(root / "home"), "orchestration_tmux_socket_name": tmux.socket_name,
                    "orchestration_stop_timeout": 5, "orchestration_panes_per_window": 8}
        (root).mkdir()
        (root / "vars.json").write_text(json.dumps(settings))
        board = root / "project" / "CLAUDE.md"
        logs = root / "project" / "logs"

        def run(name):
            return playbook((REPO / "playbooks" / ("%s.yml" % name)).read_text(), "-e", "@%s" % (root / "vars.json"))

        during_start = Burst(board, logs / "dispatcher.log", count=30, gap=0.1, text="start burst")
        during_start.start()
        started = run("start")
        during_start.join(30)
        assert during_start.error is None, during_start.error
        assert started.returncode == 0, started.stdout[-4000:]
        typed = started.result("Type the initial prompt into agents whose CLI takes none as argument and that never got it, each once it is idle")
        assert {r["status"] for r in typed["results"]} <= {"delivered", "queued"}, typed["results"]

        # Every agent hears every message of the burst (each notice typed once, whole).
        wanted = {"MSG-%03d>%s" % (n, name) for n in range(1, 31) for name in names}
        # A key is ID>agent@digest (the digest of the entry's fields): compared without it.
        wait_for(lambda: wanted <= {k.rpartition("@")[0] for k in delivered_keys(logs / "dispatcher.log")}, 90,
                 "the start burst's notices")

        before_stop = {name: len((logs / ("%s.log" % name)).read_bytes()) for name in names}
        # A burst while stop ends the dispatcher: it finishes the line it types; stop clears the rest.
        during_stop = Burst(board, logs / "dispatcher.log", count=20, gap=0.02, text="stop burst")
        during_stop.start()
        wait_for(lambda: len(during_stop.sent) >= 2, 30, "the stop burst to begin")
        began = time.monotonic()
        stopped = run("stop")
        took = time.monotonic() - began
        during_stop.join(30)
        assert stopped.returncode == 0, stopped.stdout[-4000:]
        removed = stopped.result("Ask each agent to exit, wait, remove the session and what its agents left behind")
        assert sorted(removed["exited"]) == sorted(names), "agents that did not exit on request: %s (stop took %.1f s)" % (
            sorted(set(names) - set(removed["exited"])), took)

        keys = delivered_keys(logs / "dispatcher.log")
        assert len(keys) == len(set(keys)), "a notice was delivered twice"
        assert " failed " not in (logs / "dispatcher.log").read_text()
        for name in names:
            # pipe-pane's own process writes the transcript: its last lines may land after stop returns.
            wait_for(lambda: b"exiting" in (logs / ("%s.log" % name)).read_bytes(), 15, "%s's transcript to end" % name,
                     detail=lambda: repr((logs / ("%s.log" % name)).read_bytes()[-400:]))
            pane_log = (logs / ("%s.log" % name)).read_bytes()
            assert b"merged input" not in pane_log, name
            # Stop types the exit command whether the agent is busy or not; before it, nothing may be.
            assert b"typed while busy" not in pane_log[:before_stop[name]], name
