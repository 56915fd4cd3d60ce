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

from ansible_collections.moana.orchestration.plugins.module_utils import _process as P
from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T

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


def leaks(secret: str, run) -> list[str]:
    """Where a playbook run shows the secret: its output and its recorded results."""
    where = []
    if secret in run.stdout or secret in run.stderr:
        where.append("ansible-playbook's output")
    for entry in run.results:
        if secret in json.dumps(entry):
            where.append("the result of %r" % entry["task"])
    return where


def files_holding(secret: str, top) -> list[str]:
    found = []
    for folder, dummy, names in os.walk(top):
        for name in names:
            path = os.path.join(folder, name)
            try:
                with open(path, "rb") as stream:
                    if secret.encode() in stream.read():
                        found.append(path)
            except OSError:
                pass
    return found


def end_team(home, socket_name: str, pidfiles=(), timeout: float = 1.0) -> None:
    """End what started teams left running, without a playbook: a teardown's cleanup, seconds faster than stop.yml.

    Every process recorded in a pidfile under ``home`` (``teams/*/*.pid``) or in ``pidfiles`` (a proxy's
    pidfile kept elsewhere) is stopped as stop.yml stops it (``_process.stop``: only while the pid still has
    the recorded start time, with its group, descendants and whatever carries its token), then the tmux
    server on ``socket_name``, then every process still carrying one of its sessions' tokens (what
    ``_tmux.ensure_absent`` calls leftovers). SIGTERM first, SIGKILL after ``timeout``. Tests that check
    stop itself run stop.yml.
    """
    server = T.Client(socket_name=socket_name)
    sessions = server.cmd("list-sessions", "-F", "#{session_name}").stdout
    # Read before the server goes: the tokens are session options.
    tokens = [token for token in (T.session_token(server, name) for name in sessions) if token]
    ours = os.getpid()
    for pidfile in sorted(Path(home).glob("teams/*/*.pid")) + [Path(path) for path in pidfiles]:
        record = P.read_record(str(pidfile))
        if record is None or record.get("corrupt"):
            continue
        # A record naming this very process or its group is not a team's: never signal the test run.
        assert record["pid"] != ours and record.get("pgid") != os.getpgrp(), "%s names the test process" % pidfile
        # The dispatcher goes before the panes, so it cannot respawn or type into them meanwhile.
        P.stop(P.Spec(record.get("name") or "team-process", ["-"], pidfile=str(pidfile)), timeout)
    server.cmd("kill-server")
    for token in tokens:
        P.terminate(P.marked(token, T.SESSION_VARIABLE), timeout, what="session leftovers")


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


ANSIBLE_PLAYBOOK = str(Path(sys.executable).parent / "ansible-playbook")


def playbook_environment(results_file=None, env: dict | None = None) -> dict:
    """The environment ansible-playbook runs in from the tests: each task's result recorded in ``results_file``
    (JSON lines, through the test callback), no colours, and never the real home's ~/.local/bin."""
    environ = dict(os.environ)
    environ.update(ANSIBLE_CALLBACK_PLUGINS=str(CALLBACKS), ANSIBLE_CALLBACKS_ENABLED="record_results",
                   ANSIBLE_NOCOLOR="1", ANSIBLE_DEPRECATION_WARNINGS="0")
    if results_file is not None:
        environ["MOANA_RESULTS_FILE"] = str(results_file)
    # start.yml links orchestra into ~/.local/bin when that is on PATH: never into the real home from a test.
    user_bin = os.path.expanduser("~/.local/bin")
    environ["PATH"] = os.pathsep.join(d for d in environ.get("PATH", "").split(os.pathsep) if d != user_bin)
    environ.update(env or {})
    return environ


@pytest.fixture
def playbook(tmp_path):
    """Write a playbook and run it with ansible-playbook from the repo root, as a user would."""
    counter = [0]

    def run(plays: list[dict] | str, *extra_args: str, env: dict | None = None) -> PlaybookRun:
        counter[0] += 1
        path = tmp_path / ("play%d.yml" % counter[0])
        path.write_text(plays if isinstance(plays, str) else json.dumps(plays))
        results_file = tmp_path / ("results%d.jsonl" % counter[0])
        proc = subprocess.run([ANSIBLE_PLAYBOOK, str(path), *extra_args], cwd=REPO, env=playbook_environment(results_file, env),
                              capture_output=True, text=True, check=False, timeout=300)
        results = [json.loads(line) for line in results_file.read_text().splitlines()] if results_file.exists() else []
        return PlaybookRun(proc, results)

    return run


# The real Claude Code and Codex, pinned: the facts the scripted model server relies on were measured on them.
REAL_CLIS = {"claude": ("@anthropic-ai/claude-code", "2.1.197"), "codex": ("@openai/codex", "0.169.0")}
MODEL_SERVER = Path(__file__).resolve().parent / "programs" / "model_server.py"


@pytest.fixture(scope="session")
def real_clis() -> dict[str, Path]:
    """{program: path} of the pinned real CLIs, installed once into the repo's npm cache (.cache/npm, where
    scripts/setup.sh --test puts them; MOANA_CLI_PREFIX elsewhere). Skips only when npm or its registry is out
    of reach; an install that fails otherwise fails the test."""
    import fcntl

    prefix = Path(os.environ.get("MOANA_CLI_PREFIX") or REPO / ".cache" / "npm")

    def missing():
        wanted = []
        for package, version in REAL_CLIS.values():
            manifest = prefix / "lib" / "node_modules" / package / "package.json"
            if not manifest.exists() or json.loads(manifest.read_text()).get("version") != version:
                wanted.append("%s@%s" % (package, version))
        return wanted

    if missing():
        if shutil.which("npm") is None:
            pytest.skip("npm is not installed: the real agent CLIs cannot be installed")
        prefix.mkdir(parents=True, exist_ok=True)
        with open(prefix / ".install.lock", "w", encoding="utf-8") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)  # one install at a time, whoever else runs the tests here
            wanted = missing()
            if wanted:
                proc = subprocess.run(["npm", "install", "-g", "--prefix", str(prefix), "--no-audit", "--no-fund", *wanted],
                                      capture_output=True, text=True, timeout=900, check=False)
                if proc.returncode != 0:
                    reach = subprocess.run(["npm", "view", REAL_CLIS["codex"][0], "version"], capture_output=True, text=True,
                                           timeout=120, check=False)
                    if reach.returncode != 0:
                        pytest.skip("the npm registry is out of reach: %s"
                                    % (reach.stderr.strip().splitlines() or ["npm view failed"])[-1])
                    raise AssertionError("npm install %s failed:\n%s" % (" ".join(wanted), proc.stderr[-3000:]))
    return {program: prefix / "bin" / program for program in REAL_CLIS}


class ModelServerProcess:
    """A running model_server.py: its url, its request log, and the agent base URLs."""

    def __init__(self, proc: subprocess.Popen, port: int, scenario: Path, log: Path):
        self.proc, self.port, self.scenario, self.log = proc, port, scenario, log
        self.url = "http://127.0.0.1:%d" % port

    def base_url(self, agent: str) -> str:
        """ANTHROPIC_BASE_URL for agent AGENT; Codex's provider base_url is this plus /v1."""
        return "%s/agent/%s" % (self.url, agent)

    def set_scenario(self, scenario: dict) -> None:
        """Replace the scenario; the server reads it again at the next model request."""
        self.scenario.write_text(json.dumps(scenario))

    def requests(self, agent: str | None = None, every: bool = False) -> list[dict]:
        """Logged requests, oldest first: AGENT's (or all agents'), model requests only unless EVERY."""
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        entries = [json.loads(line) for line in lines]
        return [e for e in entries if (agent is None or e["agent"] == agent) and (every or e["api"])]


@pytest.fixture
def model_server(tmp_path):
    """start(scenario) runs tests/integration/programs/model_server.py on a free loopback port; stopped after the test."""
    procs = []

    def start(scenario: dict) -> ModelServerProcess:
        folder = tmp_path / ("model-server-%d" % len(procs))
        folder.mkdir()
        (folder / "scenario.json").write_text(json.dumps(scenario))
        proc = subprocess.Popen([sys.executable, str(MODEL_SERVER), "--port", "0", "--scenario", str(folder / "scenario.json"),
                                 "--log", str(folder / "requests.jsonl")], stdout=subprocess.PIPE,
                                stderr=(folder / "stderr.txt").open("w"), text=True)
        procs.append(proc)
        first = proc.stdout.readline()
        if not first.startswith("listening on "):
            proc.wait(5)
            raise AssertionError("the model server did not start: %s%s" % (first, (folder / "stderr.txt").read_text()))
        return ModelServerProcess(proc, int(first.split()[-1]), folder / "scenario.json", folder / "requests.jsonl")

    yield start
    for proc in procs:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
