"""Real tmux on a private socket per test, and real ansible-playbook runs."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
CALLBACKS = Path(__file__).resolve().parent / "callback_plugins"

if shutil.which("tmux") is None:
    pytest.exit("tmux is not installed: the integration tests need it (apt-get install tmux)", returncode=2)


def free_port() -> int:
    """A loopback port nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float = 5.0, what: str = "the condition", detail=None, interval: float = 0.05):
    """Poll ``predicate`` until it returns something true, and return that; fail naming ``what`` on timeout.

    Tests wait for an observable event (a file, a log line, a screen, a pane's
    state, a process's exit) this way rather than sleeping a fixed time, which
    is too short on a loaded machine and proves nothing when the event is that
    nothing happened. ``detail`` (a callable) adds its text to the failure.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise AssertionError("%s did not happen within %ss%s" % (what, timeout, ("\n" + detail()) if detail else ""))
        time.sleep(interval)


class Tmux:
    """Raw tmux on one private socket: an independent view to check the modules against."""

    def __init__(self, socket_name: str):
        self.socket_name = socket_name

    def __call__(self, *args: str, check: bool = True) -> str:
        proc = subprocess.run(["tmux", "-L", self.socket_name, *args], capture_output=True, text=True, check=False)
        if check and proc.returncode != 0:
            raise AssertionError("tmux %s failed: %s" % (" ".join(args), proc.stderr))
        return proc.stdout

    def has_session(self, name: str) -> bool:
        return subprocess.run(["tmux", "-L", self.socket_name, "has-session", "-t", "=" + name],
                              capture_output=True, check=False).returncode == 0

    def panes(self, name: str) -> dict[str, dict]:
        """Named panes of a session: window name, id, pid, dead."""
        out = self("list-panes", "-s", "-t", "=%s:" % name, "-F",
                   "#{@moana_pane}|#{@moana_window}|#{pane_id}|#{pane_pid}|#{pane_dead}|#{window_id}")
        panes = {}
        for line in out.splitlines():
            pane, window, pane_id, pid, dead, window_id = line.split("|")
            panes[pane or pane_id] = {"window": window, "id": pane_id, "pid": int(pid), "dead": dead == "1",
                                      "window_id": window_id}
        return panes

    def wait_dead(self, name: str, pane: str, timeout: float = 5.0) -> None:
        wait_for(lambda: self.panes(name)[pane]["dead"], timeout, "pane %s's death" % pane)

    def wait_for_file(self, path: Path, text: str, timeout: float = 5.0) -> str:
        def contents():
            current = path.read_text() if path.exists() else ""
            return current if text in current else None

        return wait_for(contents, timeout, "%r in %s" % (text, path))


@pytest.fixture
def tmux():
    """A private tmux server, killed after the test whatever happened."""
    socket_name = "moana-test-%d-%s" % (os.getpid(), uuid.uuid4().hex[:8])
    yield Tmux(socket_name)
    subprocess.run(["tmux", "-L", socket_name, "kill-server"], capture_output=True, check=False)
    # tmux leaves the socket file behind when its server is killed.
    socket_dir = Path(os.environ.get("TMUX_TMPDIR", "/tmp")) / ("tmux-%d" % os.getuid())
    (socket_dir / socket_name).unlink(missing_ok=True)


class PlaybookRun:
    def __init__(self, proc: subprocess.CompletedProcess, results: list[dict]):
        self.returncode = proc.returncode
        self.stdout = proc.stdout
        self.stderr = proc.stderr
        self.results = results

    def result(self, task: str) -> dict:
        for entry in self.results:
            if entry["task"] == task:
                return entry["result"]
        raise AssertionError("no result for task %r; output:\n%s\n%s" % (task, self.stdout, self.stderr))

    def recap(self) -> dict:
        """PLAY RECAP counters for localhost."""
        line = next(line for line in self.stdout.splitlines() if line.startswith("localhost") and "ok=" in line)
        return {key: int(value) for key, value in (part.split("=") for part in line.split()[2:])}


@pytest.fixture
def playbook(tmp_path):
    """Write a playbook and run it with ansible-playbook from the repo root, as a user would."""
    counter = [0]

    def run(plays: list[dict] | str, *extra_args: str, env: dict | None = None) -> PlaybookRun:
        counter[0] += 1
        path = tmp_path / ("play%d.yml" % counter[0])
        path.write_text(plays if isinstance(plays, str) else json.dumps(plays))
        results_file = tmp_path / ("results%d.jsonl" % counter[0])
        environ = dict(os.environ)
        environ.update(
            MOANA_RESULTS_FILE=str(results_file),
            ANSIBLE_CALLBACK_PLUGINS=str(CALLBACKS),
            ANSIBLE_CALLBACKS_ENABLED="record_results",
            ANSIBLE_NOCOLOR="1",
            ANSIBLE_DEPRECATION_WARNINGS="0",
        )
        # start.yml links orchestra into ~/.local/bin when that is on PATH: never into the real home from a test.
        user_bin = os.path.expanduser("~/.local/bin")
        environ["PATH"] = os.pathsep.join(d for d in environ.get("PATH", "").split(os.pathsep) if d != user_bin)
        environ.update(env or {})
        bin_dir = Path(sys.executable).parent
        proc = subprocess.run([str(bin_dir / "ansible-playbook"), str(path), *extra_args], cwd=REPO,
                              env=environ, capture_output=True, text=True, check=False, timeout=300)
        results = [json.loads(line) for line in results_file.read_text().splitlines()] if results_file.exists() else []
        return PlaybookRun(proc, results)

    return run
