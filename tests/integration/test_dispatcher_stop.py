"""Stopping the dispatcher: SIGTERM lets the line being typed finish, then it exits 0.

A real ``orchestra dispatch`` process, real tmux on a private socket, and
panes running line_reader.py (a program that records every submitted line).
The process is stopped as background_process stops it: SIGTERM to its group
and to each of its processes, SIGKILL only after the timeout.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import REPO, wait_for
from ansible_collections.moana.orchestration.plugins.module_utils import _board as B
from ansible_collections.moana.orchestration.plugins.module_utils import _dispatch as D
from ansible_collections.moana.orchestration.plugins.module_utils import _layout as L
from ansible_collections.moana.orchestration.plugins.module_utils import _process as P
from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T

ORCHESTRA = str(REPO / "scripts" / "orchestra")
READER = str(REPO / "tests" / "integration" / "programs" / "line_reader.py")
AGENTS = ["claude", "amp", "codex"]
# The role's stop leaves the dispatcher this long between SIGTERM and SIGKILL (background_process's default).
STOP_TIMEOUT = 10.0


@pytest.fixture
def dispatcher(tmux, tmp_path):
    """Workers amp and codex in line_reader panes (slow to take a line: 3 s between text and Enter), the
    orchestrator paneless; starts ``orchestra dispatch`` on demand, in its own process group."""
    board = tmp_path / "CLAUDE.md"
    B.atomic_write(str(board), B.new_board_text())
    panes = [{"name": name, "command": "%s %s %s" % (sys.executable, READER, tmp_path / ("%s.jsonl" % name))}
             for name in ("amp", "codex")]
    spec = L.parse_session({"name": "team", "start_directory": str(tmp_path), "windows": [{"name": "main", "panes": panes}]})
    T.ensure_session(T.open_server(socket_name=tmux.socket_name), spec)
    config = tmp_path / "dispatch.json"
    config.write_text(json.dumps({
        "session": "team", "socket_name": tmux.socket_name, "board": str(board),
        "state_file": str(tmp_path / "dispatch-state.json"), "queue_dir": str(tmp_path / "queue"), "scan": 1.0,
        "agents": [{"name": "claude", "role": "orchestrator", "type": "simulated"}] + [
            {"name": name, "role": "worker", "type": "generic", "submit_delay": 3.0} for name in ("amp", "codex")]}))
    started = []

    def start():
        log = tmp_path / "dispatch.log"
        proc = subprocess.Popen([ORCHESTRA, "dispatch", "--config", str(config)], stdout=open(log, "a"),
                                stderr=subprocess.STDOUT, start_new_session=True)
        started.append(proc)
        wait_for(lambda: "dispatcher watching" in log.read_text(), 10, "the dispatcher's start",
                 detail=lambda: log.read_text()[-3000:])
        return proc, log

    yield board, start
    for proc in started:
        if proc.poll() is None:
            proc.kill()
            proc.wait(5)


def stop_as_background_process_does(proc) -> dict:
    """background_process's stop: TERM to the group and to each process, KILL what is left after the timeout."""
    targets = {(proc.pid, P.read_stat(proc.pid)[4])} | P.descendants(proc.pid)
    return P.terminate(targets, STOP_TIMEOUT, pgid=proc.pid, what="dispatcher")


def submitted(path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_sigterm_while_typing_finishes_the_line_submits_it_once_and_exits_0(tmux, tmp_path, dispatcher):
    board, start = dispatcher
    # A long notice for amp (several tasks: over 200 characters, so it is pasted) and one for codex.
    B.update(str(board), lambda b: [B.add_task(b, "task %d" % n, "amp") for n in range(6)] + [B.add_task(b, "c", "codex")])
    expected = D.notice_text(D.wanted(B.facts(B.load(str(board))), AGENTS, "claude", 0)["amp"])
    assert len(expected) > 200
    proc, log = start()
    amp = tmux.panes("team")["amp"]["id"]

    def screen():
        return "".join(tmux("capture-pane", "-p", "-J", "-t", amp).split("\n"))

    # The text is on amp's input line and its Enter is still 3 s away: stop the dispatcher now.
    wait_for(lambda: "[orchestra] TASK-001" in screen(), 30, "the notice typed into amp's pane",
             detail=lambda: log.read_text()[-3000:])
    assert submitted(tmp_path / "amp.jsonl") == []
    result = stop_as_background_process_does(proc)

    assert result["killed"] == [] and proc.wait(5) == 0
    lines = submitted(tmp_path / "amp.jsonl")
    assert [line["text"] for line in lines] == [expected] and lines[0]["stray"] == []
    assert submitted(tmp_path / "codex.jsonl") == []  # the round ended before codex's turn
    tail = log.read_text().splitlines()
    assert ": delivered [TASK-001:PENDING>amp" in tail[-2] and tail[-1].endswith("dispatcher stopped (SIGTERM)")
    sent = json.loads((tmp_path / "dispatch-state.json").read_text())["sent"]
    # told once, and remembered as told (each key ends with a digest of the task's own fields)
    assert [key.rpartition("@")[0] for key in sent] == ["TASK-%03d:PENDING>amp" % n for n in range(1, 7)]


def test_sigterm_between_rounds_ends_it_at_once(tmux, tmp_path, dispatcher):
    board, start = dispatcher
    proc, log = start()
    result = stop_as_background_process_does(proc)
    assert result["killed"] == [] and proc.wait(5) == 0  # ended on SIGTERM, not KILL after the timeout
    assert log.read_text().splitlines()[-1].endswith("dispatcher stopped (SIGTERM)")
    assert submitted(tmp_path / "amp.jsonl") == [] and os.path.exists(tmp_path / "dispatch-state.json")
