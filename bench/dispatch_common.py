"""What the dispatcher benchmarks share: a simulated team in nudge-only mode on a private tmux socket."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / ".collections"))

from ansible_collections.moana.orchestration.plugins.module_utils import _board as B  # noqa: E402
from ansible_collections.moana.orchestration.plugins.module_utils import _layout as L  # noqa: E402
from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T  # noqa: E402

ORCHESTRA = str(REPO / "scripts" / "orchestra")


class Team:
    """Panes running `orchestra simulate --nudge-only` (an orchestrator and workers), and a dispatcher process."""

    def __init__(self, root: Path, workers: list[str], work: str = "0.01-0.02", hooks: bool = False):
        self.root = root
        self.socket = "moana-bench-%d" % os.getpid()
        self.board = root / "CLAUDE.md"
        B.atomic_write(str(self.board), B.new_board_text())
        (root / "logs").mkdir()
        env = {"ORCHESTRA_BOARD": str(self.board), "ORCHESTRA_PYTHON": sys.executable}
        panes = [{"name": "boss", "variables": env, "log_file": str(root / "logs" / "boss.log"),
                  "command": "%s simulate --agent boss --role orchestrator --nudge-only" % ORCHESTRA}]
        panes += [{"name": name, "variables": env, "log_file": str(root / "logs" / ("%s.log" % name)),
                   "command": "%s simulate --agent %s --work %s --nudge-only" % (ORCHESTRA, name, work)}
                  for name in workers]
        self.spec = L.parse_session({"name": "bench", "start_directory": str(root),
                                     "windows": [{"name": "main", "panes": panes}]})
        agents = [{"name": "boss", "role": "orchestrator", "type": "simulated", "submit_delay": 0.05}]
        agents += [{"name": name, "role": "worker", "type": "simulated", "submit_delay": 0.05} for name in workers]
        self.config = root / "dispatch.json"
        self.config.write_text(json.dumps({
            "session": "bench", "socket_name": self.socket, "board": str(self.board),
            "state_file": str(root / "dispatch-state.json"), "queue_dir": str(root / "queue"), "agents": agents,
            "hooks": hooks}))
        if hooks:  # every agent has reported once: the dispatcher stats each report every round
            from ansible_collections.moana.orchestration.plugins.module_utils import _hooks as H

            for agent in agents:
                H.write_report(str(root), agent["name"], "idle", "claude", "Stop")
        self.server = T.open_server(socket_name=self.socket)
        self.dispatcher = None

    def start(self) -> None:
        T.ensure_session(self.server, self.spec)
        self.dispatcher = subprocess.Popen([ORCHESTRA, "dispatch", "--config", str(self.config)],
                                           stdout=open(self.root / "dispatch.log", "a"), stderr=subprocess.STDOUT,
                                           start_new_session=True, env=dict(os.environ, ORCHESTRA_PYTHON=sys.executable))
        time.sleep(1.0)

    def stop(self) -> None:
        if self.dispatcher is not None and self.dispatcher.poll() is None:
            os.killpg(self.dispatcher.pid, signal.SIGTERM)
            self.dispatcher.wait(10)
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True, check=False)

    def pane_log(self, name: str) -> Path:
        return self.root / "logs" / ("%s.log" % name)


def wait_for_text(path: Path, offset: int, text: bytes, timeout: float = 10.0, poll: float = 0.002) -> float:
    """Poll a pane's log from ``offset`` until ``text`` shows; returns the perf_counter time it was seen."""
    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        with open(path, "rb") as stream:
            stream.seek(offset)
            if text in stream.read():
                return time.perf_counter()
        time.sleep(poll)
    raise TimeoutError("%r never appeared in %s" % (text, path))


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


def report(name: str, figures: list[tuple], json_path: str | None) -> int:
    """Print the figures (figure, value, unit, target, detail) as one table; write JSON; 1 when a target is missed."""
    from _report import Report

    result = Report(name)
    for figure in figures:
        result.add(*figure)
    return result.finish(json_path)
