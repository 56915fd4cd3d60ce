# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one place that talks to tmux.

The tmux program is run with the standard library alone (``Client``), so a
target needs python3 and tmux and nothing installed into its Python. The
session is built with a few chained tmux invocations (``cmd ; cmd ; ...``)
and read back with a single ``list-panes``: an object API spending a tmux
process per call (libtmux's) measured 8x (4 panes) to 14x (32 panes) slower
(bench/tmux_layout.py).
"""

from __future__ import annotations

import contextlib
import fcntl
import itertools
import os
import re
import shlex
import subprocess
import time

try:
    from ansible_collections.moana.orchestration.plugins.module_utils import _layout, _process
except ImportError:  # deployed with the orchestra command: the files sit side by side
    import _layout  # type: ignore[no-redef]
    import _process  # type: ignore[no-redef]

SESSION_VARIABLE = "MOANA_ORCHESTRATION_SESSION"
TOKEN_OPTION = "@moana_token"
PANE_OPTION = "@moana_pane"
FINGERPRINT_OPTION = "@moana_fingerprint"
PENDING_OPTION = "@moana_pending"
WINDOW_OPTION = "@moana_window"
LAYOUT_OPTION = "@moana_layout"

# tmux strips control characters from the values it prints, so 0x1f cannot
# appear inside a field.
_SEP = "\x1f"
_FIELDS = (
    "session_id",
    "session_name",
    "window_id",
    "window_index",
    "window_name",
    "@moana_window",
    "@moana_layout",
    "remain-on-exit",
    "window_activity",
    "pane_id",
    "pane_index",
    "@moana_pane",
    "@moana_fingerprint",
    "@moana_pending",
    "pane_pid",
    "pane_current_command",
    "pane_dead",
    "pane_dead_status",
    "pane_dead_signal",
    "pane_pipe",
    "pane_title",
    "pane_start_command",
)
PANE_FORMAT = _SEP.join("#{%s}" % name for name in _FIELDS)

_GONE = ("no server running", "can't find session", "error connecting to", "no such file or directory")


class TmuxError(RuntimeError):
    """tmux refused a command; the message carries tmux's own words."""


MIN_TMUX = "3.2"

# Module options shared by every module that addresses a tmux server
# (documented in doc_fragments/tmux_socket.py).
SOCKET_OPTIONS = {"socket_name": {"type": "str"}, "socket_path": {"type": "path"}}


def tmux_version(tmux: str = "tmux") -> str | None:
    """The version ``tmux -V`` prints (``3.3a``), or None when tmux cannot be run."""
    try:
        proc = subprocess.run([tmux, "-V"], stdin=subprocess.DEVNULL, capture_output=True, text=True, check=False)
    except OSError:
        return None
    words = proc.stdout.split()
    return words[-1] if proc.returncode == 0 and words else None


def version_at_least(version: str, minimum: str) -> bool:
    """``3.3a`` against ``3.2``; a development build (``next-3.4``, ``master``) counts as new enough."""
    if not version[:1].isdigit():
        return True

    def numbers(text: str) -> tuple:
        return tuple(int("".join(itertools.takewhile(str.isdigit, part)) or 0) for part in text.split("."))

    return numbers(version) >= numbers(minimum)


def open_server(socket_name: str | None = None, socket_path: str | None = None, creating: bool = True):
    """A ``Client`` for the given socket (the user's default one when both are None).

    Raises TmuxError before anything runs when tmux is missing or too old,
    or, when ``creating``, when the socket's directory does not exist (a
    reader just finds no server there).
    """
    if socket_name is not None and (not socket_name or "/" in socket_name):
        raise TmuxError("socket_name %r must be a plain name without '/'; use socket_path for a path" % socket_name)
    if socket_path and creating:
        parent = os.path.dirname(os.path.abspath(socket_path))
        if not os.path.isdir(parent):
            raise TmuxError("socket_path: directory %s does not exist; create it first or pick another socket path" % parent)
    version = tmux_version()
    if version is None:
        raise TmuxError("tmux is not installed on the target; install the tmux package first")
    if not version_at_least(version, MIN_TMUX):
        raise TmuxError("tmux %s or newer is needed on the target (it has %s)" % (MIN_TMUX, version))
    return Client(socket_name=socket_name, socket_path=socket_path)


def run(server, *argv: str) -> list[str]:
    """Run one tmux command line (possibly chained with ';'); raise TmuxError on failure."""
    proc = server.cmd(*argv)
    if proc.returncode not in (0, None) or proc.stderr:
        raise TmuxError("tmux %s failed: %s" % (argv[0], " ".join(proc.stderr).strip() or "exit %s" % proc.returncode))
    return proc.stdout


class Result:
    """What a tmux call returned: exit status, stdout lines, non-empty stderr lines."""

    def __init__(self, returncode: int, stdout: str, stderr: str):
        self.returncode = returncode
        self.stdout = stdout.split("\n")
        while self.stdout and self.stdout[-1] == "":
            self.stdout.pop()
        self.stderr = [line for line in stderr.split("\n") if line]


class Client:
    """A tmux server reached with the standard library alone: ``cmd(*argv)`` runs one tmux command line on
    its socket. The modules and the dispatcher (``python3 -S`` on the target) use it alike."""

    def __init__(self, socket_name: str | None = None, socket_path: str | None = None, tmux: str = "tmux"):
        self.socket_name, self.socket_path = socket_name, socket_path
        self.prefix = [tmux] + (["-S", socket_path] if socket_path else ["-L", socket_name] if socket_name else [])

    def cmd(self, *argv: str) -> Result:
        try:
            proc = subprocess.run(self.prefix + list(argv), stdin=subprocess.DEVNULL, capture_output=True, check=False)
        except OSError as exc:
            raise TmuxError("cannot run tmux: %s; install the tmux package" % exc) from None
        return Result(proc.returncode, proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace"))


# tmux refuses a command line longer than its message size (16 KiB); stay well below.
CHAIN_LIMIT = 12000


def batches(commands: list[list[str]], limit: int = CHAIN_LIMIT) -> list[list[list[str]]]:
    """Cut a list of commands into runs whose chained length stays under ``limit`` bytes."""
    out: list[list[list[str]]] = []
    size = 0
    for command in commands:
        length = sum(len(arg.encode("utf-8")) + 1 for arg in command) + 2
        if out and size + length <= limit:
            out[-1].append(command)
            size += length
        else:
            out.append([command])
            size = length
    return out


def chain(commands: list[list[str]]) -> list[str]:
    """Join tmux commands into one argv separated by ';'.

    tmux treats any argument that ends in ';' as a separator, so such an
    argument gets its last ';' escaped (tmux removes the backslash).
    """
    argv: list[str] = []
    for command in commands:
        if argv:
            argv.append(";")
        argv.extend(arg[:-1] + "\\;" if arg.endswith(";") else arg for arg in command)
    return argv


def _int(value: str) -> int | None:
    return int(value) if value.lstrip("-").isdigit() else None


def parse_panes(lines: list[str]) -> _layout.SessionState | None:
    """Build the session state from ``list-panes -s -F PANE_FORMAT`` output."""
    rows = [dict(zip(_FIELDS, line.split(_SEP, len(_FIELDS) - 1))) for line in lines if _SEP in line]
    if not rows:
        return None
    windows: dict[str, dict] = {}
    for row in rows:
        window = windows.setdefault(row["window_id"], {"row": row, "panes": []})
        window["panes"].append(
            _layout.PaneState(
                pane_id=row["pane_id"],
                name=row["@moana_pane"],
                window_id=row["window_id"],
                window_name=row["@moana_window"] or row["window_name"],
                window_index=int(row["window_index"]),
                pane_index=int(row["pane_index"]),
                pid=_int(row["pane_pid"]),
                current_command=row["pane_current_command"],
                start_command=row.get("pane_start_command", ""),
                dead=row["pane_dead"] == "1",
                dead_status=_int(row["pane_dead_status"]),
                dead_signal=_int(row["pane_dead_signal"]),
                fingerprint=row["@moana_fingerprint"],
                logging=row["pane_pipe"] == "1",
                title=row["pane_title"],
                activity=_int(row["window_activity"]),
                pending=row["@moana_pending"],
            )
        )
    first = rows[0]
    return _layout.SessionState(
        session_id=first["session_id"],
        name=first["session_name"],
        windows=tuple(
            _layout.WindowState(
                window_id=window_id,
                index=int(w["row"]["window_index"]),
                name=w["row"]["window_name"],
                managed_name=w["row"]["@moana_window"],
                layout=w["row"]["@moana_layout"],
                remain_on_exit=w["row"]["remain-on-exit"] == "on",
                panes=tuple(sorted(w["panes"], key=lambda p: p.pane_index)),
            )
            for window_id, w in sorted(windows.items(), key=lambda item: int(item[1]["row"]["window_index"]))
        ),
    )


def read_session(server, name: str) -> _layout.SessionState | None:
    """The session's windows and panes, or None when the session (or server) does not exist."""
    # list-panes takes a window target: without the ':' an unknown '=name'
    # falls back to some other session's window.
    proc = server.cmd("list-panes", "-s", "-t", "=%s:" % name, "-F", PANE_FORMAT)
    if proc.stderr:
        message = " ".join(proc.stderr)
        if any(marker in message.lower() for marker in _GONE):
            return None
        raise TmuxError("tmux list-panes failed: %s" % message)
    return parse_panes(proc.stdout)


def _spawn_args(pane: _layout.PaneSpec) -> list[str]:
    """Options and command shared by split-window, new-window and respawn-pane (resolved pane)."""
    args: list[str] = []
    if pane.start_directory:
        args += ["-c", pane.start_directory]
    for key, value in pane.environment:
        args += ["-e", "%s=%s" % (key, value)]
    if pane.command:
        args.append(pane.run_command())
    return args


def _label_pane(pane: _layout.PaneSpec, target: list[str]) -> list[list[str]]:
    commands = [
        ["set-option", "-p", *target, PANE_OPTION, pane.name],
        ["set-option", "-p", *target, FINGERPRINT_OPTION, pane.fingerprint()],
        ["select-pane", *target, "-T", pane.name],
        *_mark_pending(pane, target),
    ]
    if pane.log_file:
        commands.append(["pipe-pane", "-o", *target, pipe_command(pane.log_file)])
    return commands


def _mark_pending(pane: _layout.PaneSpec, target: list[str]) -> list[list[str]]:
    """Set the pane's pending note in the call that starts it (so no start leaves a pane without it)."""
    return [["set-option", "-p", *target, PENDING_OPTION, pane.pending]] if pane.pending else []


def clear_pending(server, pane_id: str) -> None:
    """What the pane needed once started was given: forget the note."""
    server.cmd("set-option", "-p", "-u", "-t", pane_id, PENDING_OPTION)


def pipe_command(log_file: str) -> str:
    """The shell command ``pipe-pane`` appends a pane's transcript with: the file is private (0600)
    whatever the tmux server's umask, one left by an earlier run included."""
    quoted = shlex.quote(log_file)
    return "umask 077; chmod 600 %s 2>/dev/null; exec cat >> %s" % (quoted, quoted)


def _label_window(window: _layout.WindowSpec, remain_on_exit: bool, target: list[str]) -> list[list[str]]:
    return [
        ["set-option", "-w", *target, WINDOW_OPTION, window.name],
        ["set-option", "-w", *target, LAYOUT_OPTION, window.layout],
        ["set-option", "-w", *target, "remain-on-exit", "on" if remain_on_exit else "off"],
    ]


def _fill_window(window: _layout.WindowSpec, target: list[str]) -> list[list[str]]:
    """Split the session's current window for panes 2..n, re-tiling after each split.

    Re-tiling after every split is what lets 32 panes fit: tmux refuses to
    split a pane that is already too small.
    """
    commands: list[list[str]] = []
    for pane in window.panes[1:]:
        commands.append(["split-window", *target, *_spawn_args(pane)])
        commands.extend(_label_pane(pane, target))
        commands.append(["select-layout", *target, window.layout])
    if len(window.panes) == 1:
        commands.append(["select-layout", *target, window.layout])
    return commands


def session_commands(spec: _layout.SessionSpec, token: str = "") -> list[list[str]]:
    """Every command that builds a resolved session from nothing, for chained calls.

    Each command targets ``=NAME:``, the session's current window and its
    active pane: a new window (without -d) becomes current and a new pane
    (without -d) active, so no ids are needed and the list can be cut into
    several calls when it is too long for one tmux message.
    """
    target = ["-t", "=%s:" % spec.name]
    first_window = spec.windows[0]
    first = first_window.panes[0]
    # The call that starts a tmux server leaves its argv on that server's
    # process for good (ps shows it), so the session is first made bare: no
    # environment, no command. Values follow in short-lived calls.
    new_session = ["new-session", "-d", "-s", spec.name, "-x", str(spec.width), "-y", str(spec.height)]
    new_session += ["-n", first_window.name]
    if spec.start_directory:
        new_session += ["-c", spec.start_directory]
    commands = [new_session]
    variables = list(spec.environment) + ([(SESSION_VARIABLE, token)] if token else [])
    for key, value in variables:
        commands.append(["set-environment", "-t", "=" + spec.name, key, value])
    # The first pane is started again with its own command and variables.
    commands.append(["respawn-pane", "-k", *target, *_spawn_args(first)])
    if token:
        commands.append(["set-option", *target, TOKEN_OPTION, token])
    commands.extend(_label_window(first_window, spec.remain_on_exit, target))
    commands.extend(_label_pane(first, target))
    commands.extend(_fill_window(first_window, target))
    for window in spec.windows[1:]:
        commands.append(["new-window", *target, "-n", window.name, *_spawn_args(window.panes[0])])
        commands.extend(_label_window(window, spec.remain_on_exit, target))
        commands.extend(_label_pane(window.panes[0], target))
        commands.extend(_fill_window(window, target))
    # Leave the first window selected, as a person attaching expects.
    commands.append(["select-window", "-t", "=%s:^" % spec.name])
    return commands


class _Context:
    """What repair actions need besides themselves: the spec and, when asked, window ids by name."""

    def __init__(self, server, spec: _layout.SessionSpec):
        self.server = server
        self.spec = spec

    def window_id(self, name: str) -> str | None:
        # Read fresh each time: an earlier action may just have made the window.
        state = read_session(self.server, self.spec.name)
        return next((w.window_id for w in state.windows if w.key == name), None) if state else None


def _action_commands(action, ctx: _Context) -> list[list[str]]:
    spec = ctx.spec
    if isinstance(action, _layout.MovePane):
        window_id = action.window_id or ctx.window_id(action.window_name)
        if window_id:
            return [["join-pane", "-d", "-s", action.pane_id, "-t", window_id]]
        window = next(w for w in spec.windows if w.name == action.window_name)
        return [["break-pane", "-d", "-s", action.pane_id, "-n", window.name]] + _label_window(
            window, spec.remain_on_exit, []
        )
    if isinstance(action, _layout.RespawnPane):
        target = ["-t", action.pane_id]
        return [
            ["respawn-pane", "-k", *target, *_spawn_args(action.pane)],
            ["set-option", "-p", *target, FINGERPRINT_OPTION, action.pane.fingerprint()],
            *_mark_pending(action.pane, target),
        ]
    if isinstance(action, _layout.StartLog):
        return [["pipe-pane", "-o", "-t", action.pane_id, pipe_command(action.log_file)]]
    if isinstance(action, _layout.KillPane):
        return [["kill-pane", "-t", action.pane_id]]
    if isinstance(action, _layout.KillWindow):
        return [["kill-window", "-t", action.window_id]]
    if isinstance(action, _layout.SetRemainOnExit):
        return [["set-option", "-w", "-t", action.window_id, "remain-on-exit", "on" if action.value else "off"]]
    if isinstance(action, _layout.Relayout):
        window_id = action.window_id or ctx.window_id(action.window_name)
        return [
            ["select-layout", "-t", window_id, action.layout],
            ["set-option", "-w", "-t", window_id, LAYOUT_OPTION, action.layout],
        ]
    raise TypeError("unknown action %r" % (action,))


def apply(server, spec: _layout.SessionSpec, actions: list) -> None:
    """Carry out planned actions on a resolved spec (see effective()).

    Creating a session is one chained call; if it fails half-way the session
    is removed again so a failed run leaves nothing behind. Repairs run one
    call per action so a failure names the action.
    """
    for action in actions:
        if isinstance(action, _layout.CreateSession):
            try:
                commands = session_commands(spec, os.urandom(8).hex())
                run(server, *commands[0])  # alone: it may start the server
                for batch in batches(commands[1:]):
                    run(server, *chain(batch))
            except TmuxError:
                server.cmd("kill-session", "-t", "=" + spec.name)
                raise
            continue
        ctx = _Context(server, spec)
        try:
            if isinstance(action, _layout.CreateWindow):
                _create_window(server, spec, action.window)
            elif isinstance(action, _layout.AddPane):
                _add_pane(server, action.window_id, action.pane)
            else:
                run(server, *chain(_action_commands(action, ctx)))
        except TmuxError as exc:
            raise TmuxError("%s: %s" % (action.describe(), exc)) from exc


def _add_pane(server, window_id: str, pane: _layout.PaneSpec) -> None:
    """Split the window for one more pane, then re-tile it so that the next split finds room.

    Without re-tiling, tmux refuses a split past a few panes ("no space for
    new pane"). The window's own layout is applied by the caller once every
    pane is in (the plan's Relayout, or _create_window).
    """
    # -d keeps the pane a person is looking at; the new pane's id comes back
    # with -P, so it is labelled by id rather than as "the current pane".
    pane_id = run(server, "split-window", "-d", "-t", window_id, "-P", "-F", "#{pane_id}", *_spawn_args(pane))[0].strip()
    run(server, *chain(_label_pane(pane, ["-t", pane_id]) + [["select-layout", "-t", window_id, "tiled"]]))


def _create_window(server, spec: _layout.SessionSpec, window: _layout.WindowSpec) -> None:
    """A window added to a running session, without switching a person's view to it."""
    first = window.panes[0]
    ids = run(server, "new-window", "-d", "-t", "=%s:" % spec.name, "-n", window.name, "-P", "-F",
              "#{window_id} #{pane_id}", *_spawn_args(first))[0].split()
    window_id, pane_id = ids[0], ids[1]
    run(server, *chain(_label_window(window, spec.remain_on_exit, ["-t", window_id]) + _label_pane(first, ["-t", pane_id])))
    for pane in window.panes[1:]:
        _add_pane(server, window_id, pane)
    run(server, "select-layout", "-t", window_id, window.layout)


def kill_session(server, name: str) -> bool:
    """Remove the session; False when there was none."""
    proc = server.cmd("kill-session", "-t", "=" + name)
    if proc.stderr:
        message = " ".join(proc.stderr)
        if any(marker in message.lower() for marker in _GONE):
            return False
        raise TmuxError("tmux kill-session failed: %s" % message)
    return True


def capture(server, pane_id: str, lines: int) -> list[str]:
    """The last ``lines`` non-empty-trailing lines of a pane's screen, joined where tmux wrapped them."""
    out = run(server, "capture-pane", "-p", "-J", "-t", pane_id, "-S", "-%d" % lines)
    while out and not out[-1].strip():
        out.pop()
    return out[-lines:]


def pane_facts(pane: _layout.PaneState) -> dict:
    """One pane as module output."""
    return {
        "name": pane.name,
        "pane_id": pane.pane_id,
        "window": pane.window_name,
        "window_id": pane.window_id,
        "window_index": pane.window_index,
        "pane_index": pane.pane_index,
        "pid": pane.pid,
        "current_command": pane.current_command,
        "start_command": pane.start_command,
        "alive": not pane.dead,
        "dead": pane.dead,
        "dead_status": pane.dead_status,
        "dead_signal": pane.dead_signal,
        "logging": pane.logging,
        "title": pane.title,
        "activity": pane.activity,
        "pending": pane.pending or None,
    }


def session_facts(state: _layout.SessionState | None) -> dict:
    """The session as module output: id, windows and panes."""
    if state is None:
        return {"exists": False, "session_id": None, "windows": [], "panes": []}
    return {
        "exists": True,
        "session_id": state.session_id,
        "windows": [
            {
                "name": w.key,
                "window_id": w.window_id,
                "index": w.index,
                "layout": w.layout,
                "remain_on_exit": w.remain_on_exit,
                "panes": [p.name or p.pane_id for p in w.panes],
            }
            for w in state.windows
        ],
        "panes": [pane_facts(p) for p in state.panes()],
    }


def ensure_session(server, spec: _layout.SessionSpec, respawn_dead: bool = True, check_mode: bool = False) -> dict:
    """Make the session match ``spec`` (resolved here); report what changed and the result.

    In check mode nothing is touched and the facts are those of the session
    as it is now.
    """
    spec = _layout.resolve(spec)
    before = read_session(server, spec.name)
    todo = _layout.plan(spec, before, respawn_dead)
    after = before
    if todo.changed and not check_mode:
        apply(server, spec, todo.actions)
        after = read_session(server, spec.name)
    result = session_facts(after)
    result.update(
        changed=todo.changed,
        actions=todo.describe(),
        created=todo.names(_layout.CreateSession) + todo.names(_layout.CreateWindow) + todo.names(_layout.AddPane),
        respawned=todo.names(_layout.RespawnPane, "dead"),
        restarted=todo.names(_layout.RespawnPane, "changed"),
        removed=todo.names(_layout.KillPane) + todo.names(_layout.KillWindow),
    )
    # In check mode nothing started: the panes the plan would start count with the notes they would get.
    result["pending"] = pending_panes(spec, after, result["created"] + result["respawned"] + result["restarted"]
                                      if check_mode else ())
    result["diff"] = {"before": _layout.describe_state(before, spec), "after": _layout.describe_after(spec, before, respawn_dead)}
    return result


def pending_panes(spec: _layout.SessionSpec, state: _layout.SessionState | None, starting=()) -> list[str]:
    """Names of the described panes whose pending note is set, and of those in ``starting`` (the panes a
    check-mode plan would start) that would get one."""
    described = {p.name: p for w in spec.windows for p in w.panes}
    names = [p.name for p in (state.panes() if state else []) if p.pending and p.name in described]
    return names + [n for n in starting if n in described and described[n].pending and n not in names]


def watch_started(server, session: str, names: list[str], seconds: float, interval: float = 0.2,
                  clock=time.monotonic, sleep=time.sleep) -> list[dict]:
    """Watch the panes just started (by name) until each program has run ``seconds``; returns those whose
    program ended meanwhile, as {name, status, signal, lines} with the last lines of their screen.

    A CLI that exits at once (a bad option, a bad environment value) leaves a dead pane that start would
    otherwise report as started. Read often: the dispatcher may respawn a dead pane after a short delay.
    """
    died: dict[str, dict] = {}
    deadline = clock() + seconds
    wanted = set(names)
    while True:
        state = read_session(server, session)
        panes = [p for p in state.panes() if p.name in wanted] if state else []
        for pane in panes:
            known = died.get(pane.name)
            if pane.dead and (known is None or (known["status"] is None and known["signal"] is None)):
                # tmux may leave #{pane_dead_status} empty: its own notice on the screen says it too.
                screen = capture(server, pane.pane_id, 200)
                status, signal = pane.dead_status, pane.dead_signal
                if status is None and signal is None:
                    status, signal = dead_notice(screen)
                died[pane.name] = {"name": pane.name, "status": status, "signal": signal, "lines": last_words(screen)}
        young = [p for p in panes if not p.dead and p.name not in died and (_process.age(p.pid) or 0.0) < seconds]
        unsure = [d for d in died.values() if d["status"] is None and d["signal"] is None]
        if (not young and not unsure) or clock() >= deadline:
            return [died[name] for name in names if name in died]
        sleep(interval)


DEAD_NOTICE = re.compile(r"^Pane is dead \((?:status (\d+)|signal (\d+))")


def dead_notice(lines: list[str]) -> tuple[int | None, int | None]:
    """(exit status, signal) from the notice tmux writes in a dead pane kept by remain-on-exit."""
    for line in reversed(lines):
        found = DEAD_NOTICE.match(line)
        if found:
            return tuple(int(group) if group else None for group in found.groups())
    return None, None


def last_words(lines: list[str], count: int = 12) -> list[str]:
    """The last ``count`` lines a dead pane's program wrote, without blank lines and tmux's own notice."""
    said = [line.rstrip() for line in lines if line.strip() and not line.startswith("Pane is dead")]
    return said[-count:]


def describe_deaths(died: list[dict], seconds: float) -> str:
    """One message for the panes ``watch_started`` found dead: who, how, and what they said last."""
    parts = []
    for pane in died:
        how = ("exit status %s" % pane["status"]) if pane["status"] not in (None, "") else (
            "signal %s" % pane["signal"] if pane["signal"] else "no exit status")
        said = "\n".join("    " + line for line in pane["lines"]) or "    (its screen is empty)"
        parts.append("pane %s: its program ended within %gs of its start (%s); its last lines:\n%s"
                     % (pane["name"], seconds, how, said))
    return "\n".join(parts)


# Readline's and the agent CLIs' "kill the line before the cursor"; a tty in canonical mode erases its line.
CLEAR_LINE_KEY = "C-u"
# How long stop waits for a writer to finish the line it is typing into a pane.
LOCK_WAIT_ON_EXIT = 5.0


def ask_to_exit(server, state: _layout.SessionState, spec: _layout.SessionSpec | None, timeout: float) -> list[str]:
    """Type each live pane's exit text (from the description), then wait for those panes to end.

    Each pane is held (``pane_lock``) and its input line cleared first, so a
    half-typed line cannot prefix the exit text. Text and Enter go as
    separate commands, as agent CLIs want. Returns the names of the panes
    that ended on request.
    """
    texts = {p.name: p.exit_text for w in spec.windows for p in w.panes if p.exit_text} if spec else {}
    asked = [p for p in state.panes() if p.name in texts and not p.dead]
    with contextlib.ExitStack() as held:
        for pane in asked:  # wait for a writer still typing into the pane to finish its line
            try:
                held.enter_context(pane_lock(server, pane.pane_id, min(timeout, LOCK_WAIT_ON_EXIT)))
            except PaneBusy:
                pass  # its writer is stuck: clearing the line below still gives the exit text a clean start
        for pane in asked:  # whatever was half typed must not prefix the exit command
            send_key(server, pane.pane_id, CLEAR_LINE_KEY)
        if asked:
            time.sleep(0.1)
        for pane in asked:
            type_text(server, pane.pane_id, texts[pane.name])
        if asked:
            time.sleep(0.2)
        for pane in asked:
            send_key(server, pane.pane_id, "Enter")
    deadline = time.monotonic() + timeout
    waiting = {p.pane_id: p.name for p in asked}
    while waiting and time.monotonic() < deadline:
        time.sleep(0.1)
        now = read_session(server, state.name)
        alive = {p.pane_id for p in now.panes() if not p.dead} if now else set()
        waiting = {pane_id: name for pane_id, name in waiting.items() if pane_id in alive}
    return [p.name for p in asked if p.pane_id not in waiting]


def session_token(server, name: str) -> str:
    proc = server.cmd("show-options", "-v", "-t", "=%s:" % name, TOKEN_OPTION)
    return (proc.stdout or [""])[0].strip() if not proc.stderr else ""


def ensure_absent(server, name: str, check_mode: bool = False, spec: _layout.SessionSpec | None = None,
                  exit_timeout: float = 10.0) -> dict:
    """Remove the session: ask its programs to exit (exit_text of each pane), kill the session, then
    end every process it left behind (found by the session's token in their environment)."""
    before = read_session(server, name)
    result = {
        "changed": before is not None,
        "exists": False,
        "session_id": before.session_id if before else None,
        "actions": ["remove session %s" % name] if before else [],
        "diff": {"before": _layout.describe_state(before), "after": {}},
        "windows": [],
        "panes": [],
        "exited": [],
        "leftovers": [],
    }
    if before is None or check_mode:
        return result
    token = session_token(server, name)
    result["exited"] = ask_to_exit(server, before, spec, exit_timeout)
    kill_session(server, name)
    forget_pane_locks(server, [p.pane_id for p in before.panes()])
    if token:
        left = _process.marked(token, SESSION_VARIABLE)
        result["leftovers"] = _process.terminate(left, exit_timeout, what="session %s" % name)["stopped"]
    return result


# What reading an agent's screen needs about its pane, in the same call as the capture.
SCREEN_FIELDS = ("pane_id", "@moana_pane", "pane_dead", "pane_in_mode", "cursor_x", "cursor_y", "pane_pid",
                 "pane_current_command", "window_activity")
SCREEN_FORMAT = _SEP.join("#{%s}" % name for name in SCREEN_FIELDS)


class Screen:
    """A pane's visible lines and facts (dead, in copy mode, cursor, pid) read at one moment."""

    def __init__(self, facts: dict, lines: list[str]):
        self.facts = facts
        self.lines = lines

    @property
    def dead(self) -> bool:
        return self.facts.get("pane_dead") == "1"

    @property
    def in_mode(self) -> bool:
        return self.facts.get("pane_in_mode") == "1"

    @property
    def pid(self) -> int | None:
        return _int(self.facts.get("pane_pid", ""))

    @property
    def cursor_line(self) -> str:
        row = _int(self.facts.get("cursor_y", "")) or 0
        return self.lines[row].rstrip() if row < len(self.lines) else ""


def read_screen(server, pane_id: str) -> Screen | None:
    """The pane's facts and visible screen in one tmux call; None when the pane is gone."""
    return read_screens(server, [pane_id]).get(pane_id)


def read_screens(server, pane_ids: list[str]) -> dict[str, Screen]:
    """Several panes' facts and screens in one tmux call (panes gone are left out)."""
    commands = []
    for pane_id in pane_ids:
        commands += [["display-message", "-p", "-t", pane_id, SCREEN_FORMAT], ["capture-pane", "-p", "-t", pane_id]]
    screens: dict[str, Screen] = {}
    for batch in batches(commands):
        proc = server.cmd(*chain(batch))
        if proc.stderr:  # a pane went away (tmux stops the chain there): read the others one by one
            batch_ids = [c[3] for c in batch if c[0] == "display-message"]
            if len(batch_ids) > 1:
                for pane_id in batch_ids:
                    screens.update(read_screens(server, [pane_id]))
            continue
        current = None
        for line in proc.stdout:
            if _SEP in line:
                facts = dict(zip(SCREEN_FIELDS, line.split(_SEP, len(SCREEN_FIELDS) - 1)))
                current = Screen(facts, [])
                screens[facts["pane_id"]] = current
            elif current is not None:
                current.lines.append(line)
    return screens


def find_pane(server, session: str, name: str) -> str | None:
    """The id of the pane named ``name`` (its @moana_pane) in the session, or None."""
    state = read_session(server, session)
    return next((p.pane_id for p in state.panes() if p.name == name), None) if state else None


class PaneBusy(TmuxError):
    """Another process is typing into the pane (it holds the pane's lock)."""


def socket_file(server) -> str:
    """The path of the server's socket, as tmux derives it (-S path, or -L name under TMUX_TMPDIR)."""
    path = getattr(server, "socket_path", None)
    if path:
        return os.path.abspath(path)
    base = os.path.realpath(os.environ.get("TMUX_TMPDIR") or "/tmp")
    return os.path.join(base, "tmux-%d" % os.getuid(), getattr(server, "socket_name", None) or "default")


def pane_lock_path(server, pane_id: str) -> str:
    """The lock file of one pane: beside the server's socket, in tmux's private folder."""
    return "%s.moana-pane-%s.lock" % (socket_file(server), pane_id.lstrip("%"))


class pane_lock:  # noqa: N801 - used like a function: ``with pane_lock(server, pane):``
    """Hold a pane for a whole delivery (text, submit key, check), across processes.

    Everything that types into an agent's pane (start's initial prompts,
    tmux_send, the dispatcher, stop's exit command) takes this lock first, so
    two writers never interleave their keys on one input line. An flock: the
    kernel releases it when its holder dies. Raises PaneBusy after ``timeout``.
    """

    def __init__(self, server, pane_id: str, timeout: float, poll: float = 0.02, sleep=time.sleep,
                 clock=time.monotonic):
        self.path = pane_lock_path(server, pane_id)
        self.pane_id, self.timeout, self.poll, self.sleep, self.clock = pane_id, timeout, poll, sleep, clock
        self.descriptor: int | None = None

    def __enter__(self):
        try:
            self.descriptor = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError:
            return self  # no folder to lock in (the server is gone): the tmux call will say so
        deadline = self.clock() + self.timeout
        while True:
            try:
                fcntl.flock(self.descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return self
            except BlockingIOError:
                if self.clock() >= deadline:
                    os.close(self.descriptor)
                    self.descriptor = None
                    raise PaneBusy("pane %s: another process is typing into it (lock %s held for %.1f s)"
                                   % (self.pane_id, self.path, self.timeout)) from None
                self.sleep(self.poll)

    def __exit__(self, *exc_info) -> None:
        if self.descriptor is not None:
            os.close(self.descriptor)  # closing releases the flock
            self.descriptor = None


def forget_pane_locks(server, pane_ids) -> None:
    """Remove the lock files of panes that are gone (nobody types into them any more)."""
    for pane_id in pane_ids:
        try:
            os.unlink(pane_lock_path(server, pane_id))
        except OSError:
            pass


def type_text(server, pane_id: str, text: str) -> None:
    """Type ``text`` as literal keys (no key names, no option parsing)."""
    run(server, *chain([["send-keys", "-t", pane_id, "-l", "--", text]]))


def paste_text(server, pane_id: str, chunks: list[str], buffer: str) -> None:
    """Load the chunks into a named buffer, then paste it bracketed (when the program asked for that) and delete it."""
    commands = [["set-buffer", "-b", buffer, "--", chunks[0]]] + [["set-buffer", "-a", "-b", buffer, "--", c] for c in chunks[1:]]
    for batch in batches(commands):
        run(server, *chain(batch))
    run(server, "paste-buffer", "-p", "-d", "-b", buffer, "-t", pane_id)


def send_key(server, pane_id: str, key: str) -> None:
    """Press one key by its tmux name (Enter, C-m, Escape...)."""
    run(server, "send-keys", "-t", pane_id, key)


def leave_mode(server, pane_id: str) -> None:
    """Leave copy mode (or any mode), so typed keys reach the program again."""
    run(server, "send-keys", "-X", "-t", pane_id, "cancel")


def respawn(server, pane_id: str) -> None:
    """Start a pane's own command again (kept by tmux), which reads the pane's env file again; tmux forgets the
    variables a pane was started with (``-e``), so nothing else is given: no value on a command line."""
    run(server, "respawn-pane", "-k", "-t", pane_id)


def set_status_right(server, session: str, text: str, length: int = 200) -> None:
    """Show ``text`` (a tmux format: '#' doubled) on the right of the session's status line."""
    target = "=%s:" % session
    run(server, *chain([["set-option", "-t", target, "status-right-length", str(length)],
                        ["set-option", "-t", target, "status-right", text]]))
