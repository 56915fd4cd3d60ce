"""What the team writes is private: the modes of its directories and files after a real start, a board's
mode and owner kept by every writer, and the board's mode option, through ansible-playbook and orchestra."""

from __future__ import annotations

import json
import os
import stat
import subprocess

import pytest

from conftest import REPO, end_team, wait_for
from ansible_collections.moana.orchestration.plugins.module_utils import _board as B

pytestmark = pytest.mark.playbook

OTHER = 65534  # nobody: a user that is not the one running the tests
AGENTS = ("claude", "amp", "antigravity", "codex")


def mode_of(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def owner_of(path) -> tuple[int, int]:
    info = os.stat(path)
    return info.st_uid, info.st_gid


@pytest.fixture(autouse=True)
def usual_umask():
    """The umask most shells have (tmux's server and ansible inherit it): files would be 0644 without the policy."""
    old = os.umask(0o022)
    yield
    os.umask(old)


class Team:
    """A simulated team on the test's private tmux socket (the settings of test_team_reality's)."""

    def __init__(self, playbook, root, socket_name, **more):
        self.playbook, self.root = playbook, root
        self.settings = {"orchestration_team": "simulated", "orchestration_project_dir": str(root / "project"),
                         "orchestration_home": str(root / "home"), "orchestration_tmux_socket_name": socket_name,
                         "orchestration_stop_timeout": 3, "orchestration_command_link": ""}
        self.settings.update(more)
        self.vars = root / "team.json"
        self.vars.write_text(json.dumps(self.settings))
        self.project = root / "project"
        self.board = self.project / "CLAUDE.md"
        self.logs = self.project / "logs"
        self.home = root / "home"
        self.team_dir = self.home / "teams" / ("moana-orchestration@%s" % socket_name)

    def run(self, name, *extra):
        return self.playbook((REPO / "playbooks" / ("%s.yml" % name)).read_text(), "-e", "@%s" % self.vars, *extra)

    def orchestra(self, *args):
        """The installed command, as an agent in its pane runs it."""
        env = dict(os.environ, ORCHESTRA_BOARD=str(self.board), ORCHESTRA_AGENT="claude")
        proc = subprocess.run([str(self.home / "bin" / "orchestra"), *args], env=env, capture_output=True, text=True,
                              check=False)
        assert proc.returncode == 0, proc.stderr
        return proc.stdout


@pytest.fixture
def team(tmux, tmp_path, playbook):
    made = []

    def make(**more):
        made.append(Team(playbook, tmp_path, tmux.socket_name, **more))
        return made[-1]

    yield make
    for each in made:  # also after a failed start, which may have left its dispatcher running
        end_team(each.home, tmux.socket_name)


def wait_for_plan(board, timeout=60):
    def complete():
        return "plan complete: 5 tasks done" in [m["text"] for m in B.facts(B.load(str(board)))["messages"]]

    wait_for(complete, timeout, "the simulated plan's completion on %s" % board, interval=0.2)


def test_a_started_team_keeps_its_directories_0700_and_its_files_0600(team):
    crew = team()
    started = crew.run("start")
    assert started.returncode == 0, started.stdout
    transcripts = [crew.logs / ("%s.log" % name) for name in AGENTS]
    wait_for(lambda: all(path.exists() for path in transcripts), 10, "every pane's transcript")
    wait_for_plan(crew.board)
    # Messages past the 50 kept on the board go to the archive, which an agent's command creates.
    for index in range(51):
        crew.orchestra("msg", "send", "--to", "amp", "note %d" % index)
    modes = {
        "project": mode_of(crew.project), "logs": mode_of(crew.logs), "home": mode_of(crew.home),
        "team dir": mode_of(crew.team_dir), "board": mode_of(crew.board), "lock": mode_of(B.lock_path(str(crew.board))),
        "archive": mode_of(B.archive_path(str(crew.board))), "dispatcher log": mode_of(crew.logs / "dispatcher.log"),
        "start log": mode_of(crew.logs / "orchestration.log"),
    }
    modes.update({path.name: mode_of(path) for path in transcripts})
    assert modes == {
        "project": 0o700, "logs": 0o700, "home": 0o700, "team dir": 0o700, "board": 0o600, "lock": 0o600,
        "archive": 0o600, "dispatcher log": 0o600, "start log": 0o600, "claude.log": 0o600, "amp.log": 0o600,
        "antigravity.log": 0o600, "codex.log": 0o600,
    }
    assert all(path.stat().st_size > 0 for path in transcripts)  # the transcripts are written, not only made
    # Everything in the team's directory and the home (the queue, the dispatcher's memory and status,
    # pidfile, prompts, team.json, the byte-compiled library): 0700 directories, 0600 files, the command 0700.
    found = {}
    for top in (crew.team_dir, crew.home):
        for folder, folders, files in os.walk(top):
            found.update({os.path.join(folder, name): (mode_of(os.path.join(folder, name)), 0o700) for name in folders})
            found.update({os.path.join(folder, name): (mode_of(os.path.join(folder, name)), 0o600) for name in files})
    found[str(crew.home / "bin" / "orchestra")] = (mode_of(crew.home / "bin" / "orchestra"), 0o700)
    names = {os.path.relpath(path, crew.root) for path in found}
    for wanted in ("dispatch-state.json", "dispatcher.pid", "team.json", "dispatch.json", "plan.json"):
        assert any(name.endswith("/" + wanted) for name in names), (wanted, sorted(names))
    assert any("__pycache__" in name for name in names)
    assert {path: modes for path, modes in found.items() if modes[0] != modes[1]} == {}


def test_a_board_its_user_made_0644_stays_0644_and_an_existing_project_keeps_its_mode(team):
    crew = team()
    crew.project.mkdir(mode=0o755)
    crew.project.chmod(0o755)
    crew.board.write_text("# Our project\n\nNotes the team keeps.\n")
    crew.board.chmod(0o644)
    started = crew.run("start")
    assert started.returncode == 0, started.stdout
    crew.orchestra("task", "add", "--to", "amp", "--title", "Shared board task")
    wait_for_plan(crew.board)  # the simulated agents have written the board many times over
    assert mode_of(crew.board) == 0o644 and mode_of(B.lock_path(str(crew.board))) == 0o644
    assert mode_of(crew.project) == 0o755 and mode_of(crew.logs) == 0o700
    again = crew.run("start")  # orchestration_board_mode (0600) is for a new board only
    assert again.returncode == 0, again.stdout
    assert mode_of(crew.board) == 0o644 and "Notes the team keeps." in crew.board.read_text()


def test_the_board_mode_variable_makes_a_shared_board_and_a_bad_one_creates_nothing(team):
    crew = team(orchestration_board_mode="0660")
    bad = crew.run("start", "-e", '{"orchestration_board_mode": 420}')  # 0644 unquoted in YAML
    assert bad.returncode != 0 and "0644 unquoted in YAML is the number 420" in bad.stdout, bad.stdout
    assert not crew.project.exists() and not crew.home.exists()
    started = crew.run("start")
    assert started.returncode == 0, started.stdout
    crew.orchestra("task", "add", "--to", "amp", "--title", "Group task")
    assert mode_of(crew.board) == 0o660 and mode_of(B.lock_path(str(crew.board))) == 0o660
    assert mode_of(crew.logs / "claude.log") == 0o600


@pytest.mark.skipif(os.geteuid() != 0, reason="writing a board another user owns needs root")
def test_a_board_another_user_owns_keeps_its_owner_when_root_writes_it(tmp_path, playbook):
    """As a run with become would: every module and the command write as root a board that is the user's."""
    project = tmp_path / "project"
    project.mkdir()
    board = project / "CLAUDE.md"
    board.write_text("# The user's board\n")
    board.chmod(0o644)
    os.chown(board, OTHER, OTHER)
    new = project / "NEW.md"
    old = "2020-01-01 10:00"
    plays = [{"hosts": "localhost", "gather_facts": False, "tasks": [
        {"name": "sections", "moana.orchestration.board": {"path": str(board), "backup": True}},
        {"name": "task", "moana.orchestration.board_task": {"path": str(board), "title": "Root's task", "assigned_to": "amp"}},
        {"name": "status", "moana.orchestration.board_status": {"path": str(board), "names": ["amp"], "state": "IDLE"}},
        {"name": "new", "moana.orchestration.board": {"path": str(new), "create": True, "mode": "0640"}},
        {"name": "bad", "moana.orchestration.board": {"path": str(project / "BAD.md"), "create": True, "mode": "0755"},
         "ignore_errors": True},
    ]}]
    ran = playbook(plays)
    assert ran.returncode == 0, ran.stdout
    assert "execute or special bits" in ran.result("bad")["msg"] and not (project / "BAD.md").exists()
    # An agent's command, run as root, that archives (a message older than 7 days goes to a new archive).
    B.update(str(board), lambda b: B.send_message(b, "claude", "amp", "old news", at=B.parse_date(old)))
    env = dict(os.environ, ORCHESTRA_BOARD=str(board), ORCHESTRA_AGENT="claude")
    added = subprocess.run([str(REPO / "scripts" / "orchestra"), "task", "add", "--to", "codex", "--title", "Another"],
                           env=env, capture_output=True, text=True, check=False)
    assert added.returncode == 0, added.stderr
    backup = ran.result("sections")["backup_file"]
    for path in (board, B.lock_path(str(board)), B.archive_path(str(board)), backup):
        assert (owner_of(path), mode_of(path)) == ((OTHER, OTHER), 0o644), path
    assert "Root's task" in board.read_text() and "Another" in board.read_text()
    assert mode_of(new) == mode_of(B.lock_path(str(new))) == 0o640 and owner_of(new) == (0, 0)
