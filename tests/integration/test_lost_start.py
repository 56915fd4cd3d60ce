"""A start that ends half-way, as when its controller or its link to the host is lost: health names what it
left undone, and the next start finishes only that."""

from __future__ import annotations

import json
import os
import signal
import subprocess

import pytest

from conftest import ANSIBLE_PLAYBOOK, REPO, end_team, playbook_environment, wait_for
from ansible_collections.moana.orchestration.plugins.module_utils import _board as B
from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T

pytestmark = pytest.mark.playbook
AGENTS = ["claude", "amp", "antigravity", "codex"]


def named_panes(socket_name: str) -> list[str]:
    listed = subprocess.run(["tmux", "-L", socket_name, "list-panes", "-s", "-t", "=moana-orchestration:",
                             "-F", "#{%s}" % T.PANE_OPTION], capture_output=True, text=True, check=False)
    return sorted(name for name in listed.stdout.split() if name)


def test_a_start_lost_after_its_panes_leaves_each_prompt_owed_health_names_it_and_start_gives_it(tmux, tmp_path, playbook):
    settings = {"orchestration_team": "simulated", "orchestration_project_dir": str(tmp_path / "project"),
                "orchestration_home": str(tmp_path / "home"), "orchestration_tmux_socket_name": tmux.socket_name,
                "orchestration_stop_timeout": 3}
    (tmp_path / "vars.json").write_text(json.dumps(settings))
    vars_file = "@%s" % (tmp_path / "vars.json")
    start = (REPO / "playbooks" / "start.yml").read_text()
    health = (REPO / "playbooks" / "health.yml").read_text()
    board = tmp_path / "project" / "CLAUDE.md"
    try:
        # The start is killed, with the module it runs, once every pane is made (the start watches them for
        # orchestration_start_watch seconds before it would start the dispatcher and type the prompts).
        lost = subprocess.Popen([ANSIBLE_PLAYBOOK, str(REPO / "playbooks" / "start.yml"), "-e", vars_file], cwd=REPO,
                                env=playbook_environment(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                start_new_session=True)
        wait_for(lambda: named_panes(tmux.socket_name) == sorted(AGENTS) or lost.poll() is not None, 120,
                 "the start's panes", interval=0.02)
        os.killpg(lost.pid, signal.SIGKILL)
        lost.wait()
        assert named_panes(tmux.socket_name) == sorted(AGENTS)
        assert not (tmp_path / "project" / "logs" / "dispatcher.log").exists(), "the dispatcher started before the session"

        looked = playbook(health, "-e", vars_file)
        assert looked.returncode != 0
        for agent in AGENTS:
            assert ("agent %s: never got its initial prompt (a start ended before giving it): run the start playbook"
                    % agent) in looked.stdout, looked.stdout[-3000:]
        assert "localhost (moana-orchestration): unhealthy: " in looked.stdout

        again = playbook(start, "-e", vars_file)
        assert again.returncode == 0, again.stdout[-3000:]
        session = again.result("Ensure the session, its windows and one pane per agent")
        assert session["actions"] == [] and sorted(session["pending"]) == sorted(AGENTS)  # nothing made again
        typed = again.result("Type the initial prompt into agents whose CLI takes none as argument and that never got it, "
                             "each once it is idle")
        assert sorted(r["pane"] for r in typed["results"]) == sorted(AGENTS)
        assert "localhost (moana-orchestration): started: " in again.stdout
        wait_for(lambda: board.exists() and "plan complete: 5 tasks done" in [
            m["text"] for m in B.facts(B.load(str(board)))["messages"]], 60, "the plan's completion", interval=0.2)

        healthy = playbook(health, "-e", vars_file)
        assert healthy.returncode == 0, healthy.stdout[-3000:]
        settled = playbook(start, "-e", vars_file)
        assert settled.returncode == 0 and settled.recap()["changed"] == 0, settled.stdout[-3000:]
    finally:
        end_team(tmp_path / "home", tmux.socket_name)
