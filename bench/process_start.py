"""Benchmark: background_process against a server started by hand, and against Ansible's floor.

In one run, with the test HTTP server (tests/integration/programs/http_server.py):
  hand        start it from a shell and poll its port in a shell loop until it accepts
  core        _process.ensure(state=started) until ready (in-process)
  playbook    ansible-playbook with one background_process task (state=started, readiness)
  ping        ansible-playbook with one ansible.builtin.ping task (the floor)
  idempotent  ansible-playbook with background_process on the running server
Targets: playbook <= 1.2 x (hand + ping); idempotent <= 1.2 x ping. Medians.

Usage: .venv/bin/python bench/process_start.py [--repeat N] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SERVER = REPO / "tests" / "integration" / "programs" / "http_server.py"
sys.path.insert(0, str(REPO / ".collections"))

from ansible_collections.moana.orchestration.plugins.module_utils import _process as P  # noqa: E402
from _report import Report  # noqa: E402

HAND = """
%s %s $PORT > "$LOG" 2>&1 &
echo $! > "$PIDFILE"
until (exec 3<>/dev/tcp/127.0.0.1/$PORT) 2>/dev/null; do sleep 0.005; done
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def timed(argv, env=None) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=REPO, env=env, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit("%s failed:\n%s%s" % (argv, proc.stdout, proc.stderr))
    return elapsed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--json")
    args = parser.parse_args()
    root = Path(tempfile.mkdtemp(prefix="moana-process-bench-"))
    playbook = [str(Path(sys.executable).parent / "ansible-playbook")]
    env = dict(os.environ, ANSIBLE_NOCOLOR="1")
    samples: dict[str, list[float]] = {"hand": [], "core": [], "playbook": [], "ping": [], "idempotent": []}
    try:
        ping = root / "ping.yml"
        ping.write_text(json.dumps([{"name": "floor", "hosts": "localhost", "gather_facts": False,
                                     "tasks": [{"name": "Ping", "ansible.builtin.ping": {}}]}]))
        start_play = root / "start.yml"
        start_play.write_text(json.dumps([{"name": "start", "hosts": "localhost", "gather_facts": False, "tasks": [{
            "name": "Start", "moana.orchestration.background_process": {
                "name": "bench", "command": [sys.executable, str(SERVER), "{{ port }}"],
                "pidfile": str(root / "bench.pid"), "log_file": str(root / "bench.log"),
                "readiness": {"type": "tcp", "port": "{{ port }}"}}}]}]))
        timed(playbook + [str(ping)], env)  # warm caches
        for dummy in range(args.repeat):
            port = free_port()
            hand_env = dict(env, PORT=str(port), LOG=str(root / "hand.log"), PIDFILE=str(root / "hand.pid"))
            samples["hand"].append(timed(["bash", "-c", HAND % (sys.executable, SERVER)], hand_env))
            os.kill(int((root / "hand.pid").read_text()), 15)

            port = free_port()
            spec = P.Spec("core", [sys.executable, str(SERVER), str(port)], pidfile=str(root / "core.pid"),
                          log_file=str(root / "core.log"),
                          readiness={"type": "tcp", "port": port})
            start = time.perf_counter()
            P.ensure(spec, "started")
            samples["core"].append(time.perf_counter() - start)
            P.stop(spec)

            samples["ping"].append(timed(playbook + [str(ping)], env))
            port = free_port()
            samples["playbook"].append(timed(playbook + [str(start_play), "-e", "port=%d" % port], env))
            samples["idempotent"].append(timed(playbook + [str(start_play), "-e", "port=%d" % port], env))
            P.stop(P.Spec("bench", ["true"], pidfile=str(root / "bench.pid"), log_file=str(root / "bench.log")))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    median = {key: statistics.median(value) for key, value in samples.items()}
    figures = {
        "median_ms": {key: value * 1e3 for key, value in median.items()},
        "playbook_over_hand_plus_ping": median["playbook"] / (median["hand"] + median["ping"]),
        "core_over_hand": median["core"] / median["hand"],
        "idempotent_over_ping": median["idempotent"] / median["ping"],
        "repeat": args.repeat,
    }
    m = figures["median_ms"]
    report = Report("process_start")
    report.add("core start to ready / by hand", figures["core_over_hand"], detail="hand %.0f ms, core %.0f ms" % (m["hand"], m["core"]))
    report.add("playbook start / (hand + ping)", figures["playbook_over_hand_plus_ping"], target="<= 1.2",
               detail="%.0f ms vs %.0f ms" % (m["playbook"], m["hand"] + m["ping"]))
    report.add("idempotent playbook / ping", figures["idempotent_over_ping"], target="<= 1.2",
               detail="%.0f ms vs %.0f ms" % (m["idempotent"], m["ping"]))
    return report.finish(args.json)


if __name__ == "__main__":
    sys.exit(main())
