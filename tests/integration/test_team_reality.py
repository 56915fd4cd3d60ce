"""What a user meets in the first week, replayed through the start, health and stop playbooks.

A second project with the same home, a board deleted, two teams at once, check
mode on a fresh and a stopped team, bad variables, paths with spaces and
non-ASCII letters, health and stop without the settings given to start.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys

import pytest

from conftest import REPO, end_team, wait_for
from ansible_collections.moana.orchestration.plugins.module_utils import _board as B
from ansible_collections.moana.orchestration.plugins.module_utils import _process as P

pytestmark = pytest.mark.playbook


class Team:
    """One simulated team's settings and its playbook runs (a vars file, as a user would keep one)."""

    def __init__(self, playbook, root, socket_name, session="moana-orchestration", project="project", home="home", **more):
        self.playbook, self.root, self.socket_name, self.session = playbook, root, socket_name, session
        self.settings = {"orchestration_team": "simulated", "orchestration_project_dir": str(root / project),
                         "orchestration_home": str(root / home), "orchestration_tmux_socket_name": socket_name,
                         "orchestration_session_name": session, "orchestration_stop_timeout": 3,
                         "orchestration_command_link": ""}
        self.settings.update(more)
        self.vars = root / ("%s-%s.json" % (session, project))
        self.vars.write_text(json.dumps(self.settings))

    @property
    def board(self):
        return self.root / os.path.basename(self.settings["orchestration_project_dir"]) / "CLAUDE.md"

    @property
    def team_dir(self):
        return os.path.join(self.settings["orchestration_home"], "teams", "%s@%s" % (self.session, self.socket_name))

    def run(self, name, *extra):
        return self.playbook((REPO / "playbooks" / ("%s.yml" % name)).read_text(), "-e", "@%s" % self.vars, *extra)

    def bare(self, name, *extra):
        """The playbook with only what finds the team: its session, socket and home."""
        found = {key: self.settings[key] for key in ("orchestration_session_name", "orchestration_tmux_socket_name",
                                                     "orchestration_home", "orchestration_stop_timeout")}
        return self.playbook((REPO / "playbooks" / ("%s.yml" % name)).read_text(), "-e", json.dumps(found), *extra)


@pytest.fixture
def teams(tmux, tmp_path, playbook):
    made = []

    def make(**kwargs):
        team = Team(playbook, tmp_path, tmux.socket_name, **kwargs)
        made.append(team)
        return team

    yield make
    for team in made:
        end_team(team.settings["orchestration_home"], tmux.socket_name)


def wait_for_plan(board, timeout=60):
    def complete():
        return os.path.exists(board) and "plan complete: 5 tasks done" in [
            m["text"] for m in B.facts(B.load(str(board)))["messages"]]

    wait_for(complete, timeout, "the simulated plan's completion on %s" % board, interval=0.2)


def dispatcher_pid(team):
    return json.loads(open(os.path.join(team.team_dir, "dispatcher.pid"), encoding="utf-8").read())["pid"]


def test_a_second_project_with_the_same_home_gets_its_notices(teams):
    """TASK-001 again, on another board: the dispatcher's memory belongs to the first board."""
    first = teams(project="first")
    assert first.run("start").returncode == 0
    wait_for_plan(first.board)
    assert first.run("stop").returncode == 0
    second = teams(project="second")
    started = second.run("start")
    assert started.returncode == 0, started.stdout
    wait_for_plan(second.board)
    assert "TASK-001" in {c["id"] for c in B.facts(B.load(str(second.board)))["completions"]}


def test_a_deleted_board_is_made_again_and_its_tasks_are_told(teams):
    team = teams()
    assert team.run("start").returncode == 0
    wait_for_plan(team.board)
    assert team.run("stop").returncode == 0
    team.board.unlink()
    assert team.run("start").returncode == 0
    wait_for_plan(team.board)


def test_two_teams_on_one_machine_never_touch_each_other(teams, tmux):
    alpha, beta = teams(session="alpha", project="alpha"), teams(session="beta", project="beta")
    assert alpha.run("start").returncode == 0
    pid = dispatcher_pid(alpha)
    started = beta.run("start")
    assert started.returncode == 0, started.stdout
    assert dispatcher_pid(alpha) == pid and dispatcher_pid(beta) != pid
    wait_for_plan(alpha.board)
    wait_for_plan(beta.board)
    reports = {team.session: team.bare("health", "-e", "orchestration_health_format=json") for team in (alpha, beta)}
    for team in (alpha, beta):
        assert reports[team.session].returncode == 0, reports[team.session].stdout
        report = reports[team.session].result("Build the health report")["report"]
        assert report["dispatcher"]["pid"] == dispatcher_pid(team)
    assert beta.bare("stop").returncode == 0
    assert not tmux.has_session("beta") and tmux.has_session("alpha")
    assert P.read_stat(pid) is not None and alpha.bare("health").returncode == 0


def test_health_and_stop_find_the_team_from_its_session_alone(teams, tmux, tmp_path):
    team = teams(project="unusual name é")
    assert team.run("start").returncode == 0
    health = team.bare("health")
    assert health.returncode == 0, health.stdout
    assert "proxy: not used by this team" in health.stdout
    stop = team.bare("stop")
    assert stop.returncode == 0, stop.stdout
    assert not tmux.has_session(team.session)
    lost = team.playbook((REPO / "playbooks" / "health.yml").read_text(), "-e", json.dumps(
        {"orchestration_home": str(tmp_path / "elsewhere"), "orchestration_tmux_socket_name": team.socket_name}))
    assert lost.returncode != 0 and "No team was started with session moana-orchestration" in lost.stdout


def test_paths_with_spaces_and_accents_work_everywhere(teams, tmp_path):
    team = teams(project="my project é", home="my home à")
    started = team.run("start")
    assert started.returncode == 0, started.stdout
    wait_for_plan(team.board)
    assert team.run("health").returncode == 0
    assert team.run("start").recap()["changed"] == 0


def test_check_mode_on_a_fresh_and_a_stopped_team_creates_nothing(teams, tmux, tmp_path):
    team = teams()
    fresh = team.run("start", "--check", "--diff")
    assert fresh.returncode == 0, fresh.stdout
    assert fresh.result("Ensure the session, its windows and one pane per agent")["changed"]
    assert not any(tmp_path.joinpath(name).exists() for name in ("project", "home")) and not tmux.has_session(team.session)
    assert team.run("start").returncode == 0
    assert team.run("stop").returncode == 0

    def files():
        return {str(p): p.stat().st_mtime_ns for name in ("project", "home") for p in tmp_path.joinpath(name).rglob("*")}

    before, board = files(), team.board.read_text()
    stopped = team.run("start", "--check", "--diff")
    assert stopped.returncode == 0, stopped.stdout
    assert files() == before and team.board.read_text() == board and not tmux.has_session(team.session)
    # The diff shows what start would change: the agents back from OFFLINE to IDLE on the board.
    assert any(line.startswith("+|") and "IDLE" in line for line in stopped.stdout.splitlines()), stopped.stdout


def test_a_port_held_by_another_program_fails_start_before_anything_changes(teams, tmux, tmp_path):
    holder = socket.socket()
    holder.bind(("127.0.0.1", 0))
    holder.listen()
    port = holder.getsockname()[1]
    agents = [{"name": "claude", "role": "orchestrator", "command": "orchestra simulate --role orchestrator"},
              {"name": "antigravity", "role": "worker", "complexity": "high", "uses_proxy": True, "command": "orchestra simulate"}]
    team = teams(orchestration_agents=agents, orchestration_proxy_port=port)
    try:
        result = team.run("start")
    finally:
        holder.close()
    assert result.returncode != 0
    message = result.result("Validate the team and plan its windows")["msg"]
    assert "port %d is already in use on 127.0.0.1 by pid %d" % (port, os.getpid()) in message
    assert "orchestration_proxy_port" in message
    assert not (tmp_path / "home").exists() and not (tmp_path / "project").exists()


@pytest.mark.parametrize("extra, expected", [
    ({"orchestration_project_dir": ""}, "orchestration_project_dir is required to start a team"),
    ({"orchestration_proxy_port": 70000}, "orchestration_proxy_port: 70000 is not a TCP port"),
    ({"orchestration_teams": {"simulated": [{"name": "c", "role": "orchestrator", "command": "orchestra simulate",
                                             "auto_restart": "sometimes"}]}}, "auto_restart: 'sometimes' is not a boolean"),
])
def test_bad_variables_fail_before_anything_changes(teams, tmp_path, extra, expected):
    team = teams(**extra)
    result = team.run("start")
    assert result.returncode != 0
    assert expected in result.result("Validate the team and plan its windows")["msg"]
    assert not (tmp_path / "home").exists() and not (tmp_path / "project").exists()


def test_a_target_without_tmux_fails_before_any_file_is_written(teams, tmp_path):
    bin_dir = tmp_path / "bin"  # the PATH of this machine, without tmux
    bin_dir.mkdir()
    for directory in [os.path.dirname(sys.executable)] + os.environ["PATH"].split(os.pathsep):
        for name in os.listdir(directory) if os.path.isdir(directory) else ():
            if name != "tmux" and not (bin_dir / name).exists():
                (bin_dir / name).symlink_to(os.path.join(directory, name))
    team = teams()
    result = team.playbook((REPO / "playbooks" / "start.yml").read_text(), "-e", "@%s" % team.vars, env={"PATH": str(bin_dir)})
    assert result.returncode != 0
    assert "tmux is not installed on the target" in result.result("Validate the team and plan its windows")["msg"]
    assert not (tmp_path / "home").exists() and not (tmp_path / "project").exists()


def test_booleans_given_on_the_command_line_read_the_ansible_way(teams, tmux):
    team = teams()
    started = team.run("start", "-e", "orchestration_dispatcher=false")
    assert started.returncode == 0, started.stdout
    assert not os.path.exists(os.path.join(team.team_dir, "dispatcher.pid"))
    command = started.result("Validate the team and plan its windows")["windows"][0]["panes"][0]["command"]
    assert "--nudge-only" not in command


def test_orchestra_is_linked_where_the_user_shell_finds_it(teams, tmp_path):
    user_bin = tmp_path / "user bin"
    team = teams(orchestration_command_link=str(user_bin / "orchestra"))
    command = tmp_path / "home" / "bin" / "orchestra"
    first = team.run("start")  # the link's directory is not on PATH: the output says where the command is
    assert first.returncode == 0 and "orchestra is %s: put" % command in first.stdout, first.stdout
    assert not (user_bin / "orchestra").exists()
    environ = {"PATH": "%s:%s" % (user_bin, os.environ["PATH"])}
    linked = team.playbook((REPO / "playbooks" / "start.yml").read_text(), "-e", "@%s" % team.vars, env=environ)
    assert linked.returncode == 0, linked.stdout
    assert os.readlink(user_bin / "orchestra") == str(command) and "orchestra is" not in linked.stdout
    shown = subprocess.run(["orchestra", "task", "list"], env={**os.environ, **environ, "ORCHESTRA_BOARD": str(team.board)},
                           capture_output=True, text=True, check=False)
    assert shown.returncode == 0, shown.stderr


SEED_BOARD = (
    "# Moana\r\n\r\nNotes of mine, café.\r\n\r\n"
    "## Task Assignment Queue\r\n\r\n"
    "### [TASK-001] Implement user authentication\r\n- **Assigned To**: AMP\r\n- **Priority**: HIGH\r\n"
    "- **Status**: PENDING\r\n- **Description**: Add JWT auth to the API\r\n- **Files Involved**: backend/auth.py\r\n"
    "- **Date**: 2025-12-22 10:30\r\n\r\n"
    "## Task Completion Log\r\n\r\n"
    "### [TASK-000] COMPLETED\r\n- **Completed By**: CODEX\r\n- **Date**: 2025-12-22 09:00\r\n- **Duration**: 5 minutes\r\n"
    "- **Changes Made**: Project skeleton\r\n- **Files Modified**: README.md\r\n\r\n"
    "## Current LLM Status\r\n\r\n| LLM | Status | Current Task | Last Updated |\r\n|-----|--------|--------------|--------------|\r\n"
    "| AMP | IDLE | - | 2025-12-22 09:00 |\r\n\r\n"
    "## Inter-LLM Messages\r\n\r\n"
    "## Notes\r\n\r\nMy closing words."
)


def test_the_users_claude_md_is_adopted_and_its_tasks_done(teams, tmp_path):
    """The original scripts' board: no markers, CRLF, no final newline, names in capitals."""
    team = teams()
    team.board.parent.mkdir()
    team.board.write_bytes(SEED_BOARD.encode("utf-8"))
    started = team.run("start", "--diff")
    assert started.returncode == 0, started.stdout
    wait_for_plan(team.board)
    wait_for(lambda: "TASK-001" in {c["id"] for c in B.facts(B.load(str(team.board)))["completions"]}, 30,
             "the user's own TASK-001, assigned to AMP, done by amp")
    text = team.board.read_bytes().decode("utf-8")
    for heading in ("## Task Assignment Queue", "## Task Completion Log", "## Current LLM Status", "## Inter-LLM Messages"):
        assert text.count(heading) == 1, heading
    assert text.startswith("# Moana\r\n\r\nNotes of mine, café.\r\n\r\n") and text.endswith("## Notes\r\n\r\nMy closing words.")
    assert "\n" not in text.replace("\r\n", "")
    titles = {t["title"] for t in B.facts(B.load(str(team.board)))["tasks"]}
    titles |= {e.heading for e in B.load_archive(str(team.board))} | {c["id"] for c in B.facts(B.load(str(team.board)))["completions"]}
    assert {"TASK-%03d" % n for n in range(2, 7)} <= titles  # the plan numbered after the user's TASK-001
    assert list(team.board.parent.glob("CLAUDE.md.*~")), "no copy of the board was left beside it"
    assert team.run("start").recap()["changed"] == 0


def test_a_restored_messages_section_never_reuses_an_id(teams):
    """The messages the board archived keep their ids out of use when the section is deleted and restored."""
    team = teams()
    assert team.run("start").returncode == 0
    wait_for_plan(team.board)
    assert team.run("stop").returncode == 0
    orchestra = os.path.join(team.settings["orchestration_home"], "bin", "orchestra")

    def send(text, **env):
        sent = subprocess.run([orchestra, "msg", "send", "--from", "claude", "--to", "amp", text], capture_output=True,
                              text=True, check=False, env={**os.environ, "ORCHESTRA_BOARD": str(team.board), **env})
        assert sent.returncode == 0, sent.stderr

    send("the last word", ORCHESTRA_KEEP_MESSAGES="1")  # the others move to the archive
    highest = max(B.id_number(m["id"]) for m in B.facts(B.load(str(team.board)))["messages"])
    assert highest >= 2 and {e.entry_id for e in B.load_archive(str(team.board))} >= {"MSG-001"}
    text = team.board.read_text()
    begin, end = "<!-- BEGIN moana.orchestration: messages -->", "<!-- END moana.orchestration: messages -->\n"
    team.board.write_text(text[:text.index(begin)] + text[text.index(end) + len(end):])
    restored = team.run("start")
    assert restored.returncode == 0, restored.stdout
    send("hello again")
    ids = [B.id_number(m["id"]) for m in B.facts(B.load(str(team.board)))["messages"]]
    # Only the archived ones are known once the section is gone: numbering resumes after the archive's highest.
    archived = max(B.id_number(e.entry_id) for e in B.load_archive(str(team.board)) if e.entry_id.startswith("MSG-"))
    assert ids and min(ids) > archived, (ids, archived)
