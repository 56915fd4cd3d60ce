"""The dispatcher with real tmux panes: simulated agents that act only on what is typed into them."""

from __future__ import annotations

import json
import os
import shlex
import signal
import subprocess

import pytest

from conftest import REPO, wait_for
from ansible_collections.moana.orchestration.plugins.module_utils import _board as B
from ansible_collections.moana.orchestration.plugins.module_utils import _delivery as D
from ansible_collections.moana.orchestration.plugins.module_utils import _layout as L
from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T

ORCHESTRA = str(REPO / "scripts" / "orchestra")
WORKERS = ("amp", "antigravity", "codex")


class Team:
    """A nudge-only simulated team in a private tmux session, and a dispatcher process for it."""

    def __init__(self, tmux, tmp_path, plan_size: int, auto_restart: bool = False):
        self.tmux, self.dir = tmux, tmp_path
        self.board = tmp_path / "CLAUDE.md"
        B.atomic_write(str(self.board), B.new_board_text())
        plan = [{"title": "task %d" % n, "complexity": ("high", "medium", "low")[n % 3]} for n in range(plan_size)]
        (tmp_path / "plan.json").write_text(json.dumps(plan))
        (tmp_path / "logs").mkdir()
        (tmp_path / "prompt.md").write_text("You are a simulated agent.\nRead the board.\n")
        # As the team module does: the variables in the command, which a respawn runs again (tmux forgets a
        # pane's own variables when another program respawns it).
        env = "export ORCHESTRA_BOARD=%s ORCHESTRA_ROUTING=high=antigravity,medium=amp,low=codex; exec " % shlex.quote(str(self.board))
        panes = [{"name": "claude", "log_file": str(tmp_path / "logs" / "claude.log"),
                  "command": env + "%s simulate --agent claude --role orchestrator --plan plan.json --nudge-only" % ORCHESTRA}]
        panes += [{"name": name, "log_file": str(tmp_path / "logs" / ("%s.log" % name)),
                   "command": env + "%s simulate --agent %s --work 0.05-0.3 --nudge-only" % (ORCHESTRA, name)}
                  for name in WORKERS]
        self.spec = L.parse_session({"name": "team", "start_directory": str(tmp_path),
                                     "windows": [{"name": "main", "panes": panes}]})
        self.config = tmp_path / "team.json"
        agents = [{"name": "claude", "role": "orchestrator", "type": "simulated", "submit_delay": 0.05,
                   "prompt": str(tmp_path / "prompt.md"), "typed_prompt": True}]
        agents += [{"name": name, "role": "worker", "type": "simulated", "submit_delay": 0.05,
                    "auto_restart": auto_restart,
                    "prompt": str(tmp_path / "prompt.md"), "typed_prompt": True} for name in WORKERS]
        self.config.write_text(json.dumps({
            "session": "team", "socket_name": tmux.socket_name, "board": str(self.board),
            "state_file": str(tmp_path / "dispatch.json"), "queue_dir": str(tmp_path / "queue"),
            "agents": agents, "scan": 1.0, "restart": {"max": 2, "window": 60, "delay": 0.2}}))
        self.dispatcher = None
        self.server = T.open_server(socket_name=tmux.socket_name)

    def start_dispatcher(self):
        self.dispatcher = subprocess.Popen([ORCHESTRA, "dispatch", "--config", str(self.config)],
                                           stdout=open(self.dir / "dispatch.log", "a"), stderr=subprocess.STDOUT,
                                           start_new_session=True)

    def stop_dispatcher(self):
        if self.dispatcher and self.dispatcher.poll() is None:
            os.killpg(self.dispatcher.pid, signal.SIGTERM)
            self.dispatcher.wait(10)

    def start_panes(self):
        T.ensure_session(self.server, self.spec)

    def wait_for(self, predicate, timeout: float, what: str):
        return wait_for(predicate, timeout, what, lambda: "dispatcher log:\n" + self.log()[-3000:], interval=0.1)

    def log(self) -> str:
        path = self.dir / "dispatch.log"
        return path.read_text() if path.exists() else ""

    def since_start(self) -> list[str]:
        """The lines the running dispatcher logged (the log file is appended to by each one)."""
        lines = self.log().splitlines()
        starts = [n for n, line in enumerate(lines) if "dispatcher watching" in line]
        return lines[starts[-1]:] if starts else []

    def status(self) -> str:
        return self.tmux("show-options", "-v", "-t", "=team:", "status-right")

    def facts(self):
        return B.facts(B.load(str(self.board)))

    def delivered(self) -> list[str]:
        return [line for line in self.log().splitlines() if ": delivered [" in line]

    def logs(self) -> str:
        return "".join(p.read_text(errors="replace") for p in (self.dir / "logs").glob("*.log"))


@pytest.fixture
def team_factory(tmux, tmp_path):
    made = []

    def make(plan_size, **kwargs):
        made.append(Team(tmux, tmp_path, plan_size, **kwargs))
        return made[-1]

    yield make
    for team in made:
        team.stop_dispatcher()


def test_every_task_of_a_plan_completes_through_typed_notices_only(team_factory):
    team = team_factory(12)
    team.start_dispatcher()
    team.start_panes()
    # Nobody polls: the orchestrator starts when its initial prompt is typed in (left in the queue, as
    # tmux_send leaves it).
    D.enqueue(str(team.dir / "queue"), "claude", (team.dir / "prompt.md").read_text())
    team.wait_for(lambda: "plan complete: 12 tasks done" in [m["text"] for m in team.facts()["messages"]], 90,
                  "the plan's completion")
    facts = team.facts()
    assert facts["tasks"] == [] and len(facts["completions"]) == 12
    delivered = team.delivered()
    keys = [key for line in delivered for key in line.split("[", 1)[1].split("]", 1)[0].split()]
    assert len(keys) == len(set(keys)), "a notice was delivered twice:\n" + "\n".join(delivered)
    assert "typed while busy" not in team.logs()
    # The status line shows the agents and the board's counts (refreshed when the board changes).
    team.wait_for(lambda: "done 12" in team.status(), 5, "the status line's count")
    assert "amp:idle" in team.status()


def test_a_restarted_dispatcher_repeats_nothing(team_factory):
    team = team_factory(0)
    team.start_panes()
    B.update(str(team.board), lambda b: B.add_task(b, "one", "codex"))
    team.start_dispatcher()
    team.wait_for(lambda: len(team.facts()["completions"]) == 1, 30, "TASK-001's completion")
    team.wait_for(lambda: any("COMPLETED" in line or "was completed" in line for line in team.delivered()), 15,
                  "the completion notice to the orchestrator")
    before = team.delivered()
    team.stop_dispatcher()
    # Nothing may be typed again. To see that without waiting an arbitrary time, two markers go through the
    # dispatcher's own queue. Each round it serves the agents in order (claude, amp, antigravity, codex),
    # an agent's queue before its notices, and logs every notice it types or has to hold back ("waiting to
    # deliver"). The first marker, for codex (served last), ends up in a round that has tried every agent's
    # notices; the second, for claude (served first) and left only once the first was typed, in a later
    # round: by then that round's attempts, codex's notices after its marker included, are in the log.
    first = os.path.basename(D.enqueue(str(team.dir / "queue"), "codex", "marker one"))
    team.start_dispatcher()
    team.wait_for(lambda: any("codex: delivered queued message " + first in l for l in team.since_start()), 30,
                  "the first marker's delivery")
    second = os.path.basename(D.enqueue(str(team.dir / "queue"), "claude", "marker two"))
    team.wait_for(lambda: any("claude: delivered queued message " + second in l for l in team.since_start()), 30,
                  "the second marker's delivery")
    lines = team.since_start()
    upto = next(n for n, line in enumerate(lines) if "queued message " + second in line)
    marker = next(n for n, line in enumerate(lines) if "queued message " + first in line)
    # Before the first marker: at most codex waiting to be free for it; between the markers: nothing at all.
    assert all("codex: waiting to deliver" in line for line in lines[1:marker]), "\n".join(lines)
    assert lines[marker + 1:upto] == [], "\n".join(lines)
    assert team.delivered() == before
    B.update(str(team.board), lambda b: B.add_task(b, "two", "amp"))
    team.wait_for(lambda: len(team.facts()["completions"]) == 2, 30, "TASK-002's completion")


def test_a_dead_worker_with_auto_restart_comes_back_and_the_board_says_so(team_factory):
    team = team_factory(0, auto_restart=True)
    team.start_panes()
    team.start_dispatcher()
    # The status line is set at the end of a scan that found amp's live pane.
    team.wait_for(lambda: "amp:" in team.status(), 20, "the dispatcher's first scan of the panes")
    amp = team.tmux.panes("team")["amp"]
    os.kill(amp["pid"], signal.SIGKILL)
    team.wait_for(lambda: not team.tmux.panes("team")["amp"]["dead"] and team.tmux.panes("team")["amp"]["pid"] != amp["pid"],
                  20, "amp's restart")
    team.wait_for(lambda: any("restarted" in (m["text"] or "") for m in team.facts()["messages"]), 10, "the board's note")
    B.update(str(team.board), lambda b: B.add_task(b, "after restart", "amp"))
    team.wait_for(lambda: len(team.facts()["completions"]) == 1, 30, "the restarted worker's task")
