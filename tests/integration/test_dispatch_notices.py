"""The dispatcher's notices with real panes: its memory follows the board, and a notice holds no board text.

A real ``orchestra dispatch`` process on a private tmux socket; the agents are
simulated ones (nudge-only: they act only on what is typed into them) or plain
interactive bash shells (``generic``), where a typed notice is a command line.
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess

import pytest

from conftest import REPO, wait_for
from ansible_collections.moana.orchestration.plugins.module_utils import _board as B
from ansible_collections.moana.orchestration.plugins.module_utils import _layout as L
from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T

ORCHESTRA = str(REPO / "scripts" / "orchestra")
BASH = "bash --norc --noprofile -i; exit"  # a shell as the agent (run under sh: the pane's first process keeps a child)


class Team:
    """Named panes running ``commands`` (agent -> (type, command)), the first the orchestrator, and a dispatcher."""

    def __init__(self, tmux, tmp_path, commands: dict[str, tuple[str, str]]):
        self.tmux, self.dir = tmux, tmp_path
        self.board = tmp_path / "CLAUDE.md"
        B.atomic_write(str(self.board), B.new_board_text())
        (tmp_path / "logs").mkdir()
        env = {"ORCHESTRA_BOARD": str(self.board)}
        panes = [{"name": name, "variables": env, "log_file": str(tmp_path / "logs" / ("%s.log" % name)),
                  "command": command} for name, (dummy, command) in commands.items()]
        self.spec = L.parse_session({"name": "team", "start_directory": str(tmp_path),
                                     "windows": [{"name": "main", "panes": panes}]})
        agents = [{"name": name, "role": "orchestrator" if n == 0 else "worker", "type": kind, "submit_delay": 0.05}
                  for n, (name, (kind, dummy)) in enumerate(commands.items())]
        self.config = tmp_path / "dispatch.json"
        self.config.write_text(json.dumps({
            "session": "team", "socket_name": tmux.socket_name, "board": str(self.board),
            "state_file": str(tmp_path / "dispatch-state.json"), "queue_dir": str(tmp_path / "queue"),
            "agents": agents, "scan": 1.0}))
        self.server = T.open_server(socket_name=tmux.socket_name)
        T.ensure_session(self.server, self.spec)
        self.dispatcher = subprocess.Popen([ORCHESTRA, "dispatch", "--config", str(self.config)],
                                           stdout=open(tmp_path / "dispatch.log", "a"), stderr=subprocess.STDOUT,
                                           start_new_session=True)
        # Its memory starts from what the board holds when it starts: the tests write once it watches.
        self.wait_for(lambda: "dispatcher watching" in self.log(), 30, "the dispatcher's start")

    def stop(self):
        if self.dispatcher.poll() is None:
            os.killpg(self.dispatcher.pid, signal.SIGTERM)
            self.dispatcher.wait(10)

    def log(self) -> str:
        path = self.dir / "dispatch.log"
        return path.read_text() if path.exists() else ""

    def wait_for(self, predicate, timeout: float, what: str):
        return wait_for(predicate, timeout, what, lambda: "dispatcher log:\n" + self.log()[-3000:], interval=0.1)

    def delivered(self, agent: str) -> list[str]:
        """The notices' texts typed into the agent, in order."""
        return [line.split("): ", 1)[1] for line in self.log().splitlines() if " %s: delivered [" % agent in line]

    def facts(self):
        return B.facts(B.load(str(self.board)))

    def pane_id(self, name: str) -> str:
        return self.tmux.panes("team")[name]["id"]

    def typed(self, name: str) -> list[str]:
        """The notices as the pane shows them (its whole history, wrapped lines joined)."""
        screen = self.tmux("capture-pane", "-p", "-J", "-S", "-", "-t", self.pane_id(name))
        return [line[line.index("[orchestra] "):].rstrip() for line in screen.splitlines()
                if "[orchestra] " in line and not line.startswith("bash: ")]  # the echo, not bash's complaint


@pytest.fixture
def team_factory(tmux, tmp_path):
    made = []

    def make(commands):
        made.append(Team(tmux, tmp_path, commands))
        return made[-1]

    yield make
    for team in made:
        team.stop()


def simulated(role: str, name: str) -> tuple[str, str]:
    return "simulated", "%s simulate --agent %s --role %s --work 0.05-0.1 --nudge-only" % (ORCHESTRA, name, role)


def test_a_board_deleted_and_made_again_gets_its_notices(team_factory):
    team = team_factory({"claude": simulated("orchestrator", "claude"), "codex": simulated("worker", "codex")})
    B.update(str(team.board), lambda b: B.add_task(b, "one", "codex"))
    team.wait_for(lambda: len(team.facts()["completions"]) == 1, 30, "TASK-001's completion")
    team.wait_for(lambda: team.delivered("claude"), 15, "the completion's notice to the orchestrator")
    # The board goes, and comes back with a TASK-001 of the same title (in the same minute, most likely): the
    # same id, the same fields, another board. The dispatcher is told by the board's identity where it has one,
    # and by having seen it missing in any case.
    os.unlink(team.board)
    team.wait_for(lambda: "board missing, nothing sent until it is back" in team.log(), 10, "the board seen missing")
    B.atomic_write(str(team.board), B.new_board_text())
    B.update(str(team.board), lambda b: B.add_task(b, "one", "codex"))
    team.wait_for(lambda: len(team.delivered("codex")) == 2, 30, "TASK-001's notice on the new board")
    assert team.delivered("codex") == ["[orchestra] TASK-001 is assigned to you: run orchestra task show TASK-001"] * 2
    assert "a fresh memory for it" in team.log()
    team.wait_for(lambda: len(team.facts()["completions"]) == 1, 30, "TASK-001's completion on the new board")


def test_a_board_replaced_at_once_by_one_reusing_an_id_for_another_task_gets_its_notice(team_factory):
    team = team_factory({"claude": simulated("orchestrator", "claude"), "codex": simulated("worker", "codex")})
    B.update(str(team.board), lambda b: B.add_task(b, "one", "codex"))
    team.wait_for(lambda: len(team.facts()["completions"]) == 1, 30, "TASK-001's completion")
    # Replaced in one write (the dispatcher never sees it missing): the entry's own fields tell it apart.
    other = team.dir / "other.md"
    B.atomic_write(str(other), B.new_board_text())
    B.update(str(other), lambda b: B.add_task(b, "another task", "codex"))
    os.replace(other, team.board)
    team.wait_for(lambda: len(team.delivered("codex")) == 2, 30, "the new TASK-001's notice")
    team.wait_for(lambda: any(c["id"] == "TASK-001" for c in team.facts()["completions"]), 30, "its completion")


HOSTILE = ("$(touch {d}/a)", "; touch {d}/b", "`touch {d}/c`", "\x1b[2J\x1b]0;t\x07$(touch {d}/e)", "x\ntouch {d}/f")


def test_board_text_typed_into_a_shell_agent_runs_nothing(team_factory, tmp_path):
    """Every free-text field a notice could have carried, made hostile; the agents are bash shells."""
    marks = tmp_path / "marks"
    marks.mkdir()
    hostile = [text.format(d=marks) for text in HOSTILE]
    team = team_factory({"boss": ("generic", BASH), "sh": ("generic", BASH)})
    board = str(team.board)

    def fill(b):
        B.add_task(b, hostile[0], "sh", description=hostile[1])  # TASK-001: PENDING for sh
        B.add_task(b, "done", "sh")
        B.complete_task(b, "TASK-002", hostile[2], hostile[3])  # completed by a hostile name: boss is told
        B.add_task(b, "failed", "sh")
        B.fail_task(b, "TASK-003", hostile[4], hostile[0])  # failed: boss is told
        B.add_task(b, "to nobody", hostile[1])  # assigned to a name that is no agent: nobody is told
        for text in hostile:
            B.send_message(b, text, "sh", text)  # from a hostile sender: sh is told
        B.send_message(b, hostile[3], "all", hostile[4])  # a broadcast: boss and sh are told

    B.update(board, fill)
    team.wait_for(lambda: team.delivered("sh") and team.delivered("boss"), 30, "the notices to both shells")
    # bash reads its input in order: once a marker typed after the notices has run, so has every notice.
    for name in ("boss", "sh"):
        team.tmux("send-keys", "-t", team.pane_id(name), "-l", "touch %s/done-%s" % (marks, name))
        team.tmux("send-keys", "-t", team.pane_id(name), "Enter")
    team.wait_for(lambda: sorted(os.listdir(marks)) == ["done-boss", "done-sh"] or len(os.listdir(marks)) > 2, 20,
                  "the markers")
    assert sorted(os.listdir(marks)) == ["done-boss", "done-sh"], "a notice ran something"
    notices = team.typed("sh") + team.typed("boss")
    assert len(notices) == len(team.delivered("sh") + team.delivered("boss"))
    for text in notices:
        assert re.fullmatch(r"\[orchestra\] [A-Za-z0-9 :;-]+", text), text
    assert "TASK-004" not in " ".join(notices)
    assert any("TASK-002 was completed" in t for t in team.typed("boss"))
    assert any("TASK-003 FAILED" in t for t in team.typed("boss"))
    # The broadcast's notice names a command that lists it: run it through the real orchestra command.
    broadcast = "MSG-%03d" % (len(hostile) + 1)
    command = re.search(broadcast + r" is a message to all: run orchestra (msg list --to sh --since MSG-\d+)",
                        " ".join(team.typed("sh")))
    assert command, team.typed("sh")
    listed = subprocess.run([ORCHESTRA, "--board", board, *command.group(1).split(), "--json"], capture_output=True,
                            text=True, check=True)
    assert [m["id"] for m in json.loads(listed.stdout)] == [broadcast]
