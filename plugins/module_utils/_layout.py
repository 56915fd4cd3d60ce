# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""A tmux session described as data, and the plan that makes tmux match it.

Pure logic, standard library only: validate a description, compare it with
the state read back from tmux, and list the actions that close the gap.
Talking to tmux is ``_tmux.py``'s job.

Panes and windows are identified by name, stored in tmux user options
(``@moana_pane`` / ``@moana_window``) rather than titles, because agent CLIs
rewrite their pane title.
"""

from __future__ import annotations

import hashlib
import json
import re
import shlex
from dataclasses import dataclass, field, replace

LAYOUTS = ("tiled", "even-horizontal", "even-vertical", "main-horizontal", "main-vertical")

_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
# tmux rewrites '.' and ':' in session names (they are target separators).
_BAD_SESSION_CHARS = re.compile(r"[.:]")


class LayoutError(ValueError):
    """A description that cannot be built; the message names the problem and the fix."""


@dataclass(frozen=True)
class PaneSpec:
    name: str
    command: str | None = None
    start_directory: str | None = None
    environment: tuple[tuple[str, str], ...] = ()
    log_file: str | None = None
    exit_text: str | None = None  # typed to ask the program to leave when the session is removed
    # A file of variables the pane's shell reads before the command (``. FILE``): values that must reach the
    # program and never a command line, tmux option or tmux environment. ``env_digest`` is its content's digest
    # (read by the module, ``with_env_digests``), so that a changed file restarts the pane.
    env_file: str | None = None
    env_digest: str = ""
    # What the pane still needs once started (start's initial prompt): kept in tmux (@moana_pending), set each
    # time the pane is created or respawned here, in the same tmux call, and cleared by whoever gives it
    # (tmux_send's clear_pending). A run that dies between the two leaves it set for the next one to see.
    # Not part of the fingerprint: it says nothing about what the pane runs.
    pending: str | None = None

    def fingerprint(self) -> str:
        """A short digest of what the pane runs; a change means the pane must restart.

        Environment values (and the env file's content) are part of it so that
        a new value restarts the pane, but only as a digest: values are never
        stored in tmux in clear.
        """
        described = [self.command, self.start_directory, list(self.environment)]
        if self.env_file:  # only then, so that panes without one keep the digest they had
            described += [self.env_file, self.env_digest]
        raw = json.dumps(described)
        return hashlib.sha256(raw.encode("utf-8")).hexdigest()[:16]

    def run_command(self) -> str | None:
        """The command tmux runs: the env file read first when there is one (a missing file ends the pane
        with the shell's error rather than starting the program without its variables)."""
        if not self.env_file:
            return self.command
        return ". %s || exit 1; %s" % (shlex.quote(self.env_file), self.command)


@dataclass(frozen=True)
class WindowSpec:
    name: str
    layout: str = "tiled"
    panes: tuple[PaneSpec, ...] = ()


@dataclass(frozen=True)
class SessionSpec:
    name: str
    windows: tuple[WindowSpec, ...] = ()
    start_directory: str | None = None
    environment: tuple[tuple[str, str], ...] = ()
    remain_on_exit: bool = True
    width: int = 200
    height: int = 50


@dataclass(frozen=True)
class PaneState:
    pane_id: str
    name: str
    window_id: str
    window_name: str
    window_index: int
    pane_index: int
    pid: int | None
    current_command: str
    start_command: str
    dead: bool
    dead_status: int | None
    dead_signal: int | None
    fingerprint: str
    logging: bool
    title: str
    activity: int | None
    pending: str = ""


@dataclass(frozen=True)
class WindowState:
    window_id: str
    index: int
    name: str
    managed_name: str
    layout: str  # the layout name set by this collection ('' for windows it did not make)
    remain_on_exit: bool
    panes: tuple[PaneState, ...] = ()

    @property
    def key(self) -> str:
        """The name the description refers to: the managed one when set."""
        return self.managed_name or self.name


@dataclass(frozen=True)
class SessionState:
    session_id: str
    name: str
    windows: tuple[WindowState, ...] = ()

    def panes(self) -> list[PaneState]:
        return [pane for window in self.windows for pane in window.panes]


# Actions: what _tmux.py carries out, in order.
@dataclass(frozen=True)
class CreateSession:
    spec: SessionSpec

    def describe(self) -> str:
        count = sum(len(w.panes) for w in self.spec.windows)
        return "create session %s with %d window(s), %d pane(s)" % (self.spec.name, len(self.spec.windows), count)


@dataclass(frozen=True)
class CreateWindow:
    window: WindowSpec

    def describe(self) -> str:
        return "create window %s with pane(s) %s" % (self.window.name, ", ".join(p.name for p in self.window.panes))


@dataclass(frozen=True)
class AddPane:
    window_id: str
    window_name: str
    pane: PaneSpec

    def describe(self) -> str:
        return "add pane %s to window %s" % (self.pane.name, self.window_name)


@dataclass(frozen=True)
class MovePane:
    pane_id: str
    window_id: str
    window_name: str
    name: str

    def describe(self) -> str:
        return "move pane %s to window %s" % (self.name, self.window_name)


@dataclass(frozen=True)
class RespawnPane:
    pane_id: str
    pane: PaneSpec
    reason: str  # "dead" or "changed"

    def describe(self) -> str:
        return "respawn pane %s (%s)" % (self.pane.name, self.reason)


@dataclass(frozen=True)
class StartLog:
    pane_id: str
    name: str
    log_file: str

    def describe(self) -> str:
        return "log pane %s to %s" % (self.name, self.log_file)


@dataclass(frozen=True)
class KillPane:
    pane_id: str
    name: str

    def describe(self) -> str:
        return "remove pane %s" % self.name


@dataclass(frozen=True)
class KillWindow:
    window_id: str
    name: str

    def describe(self) -> str:
        return "remove window %s" % self.name


@dataclass(frozen=True)
class SetRemainOnExit:
    window_id: str
    name: str
    value: bool

    def describe(self) -> str:
        return "set remain-on-exit %s on window %s" % ("on" if self.value else "off", self.name)


@dataclass(frozen=True)
class Relayout:
    window_id: str
    window_name: str
    layout: str

    def describe(self) -> str:
        return "arrange window %s as %s" % (self.window_name, self.layout)


@dataclass
class Plan:
    actions: list = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.actions)

    def describe(self) -> list[str]:
        return [action.describe() for action in self.actions]

    def names(self, kind: type, reason: str | None = None) -> list[str]:
        """Pane or window names touched by actions of one kind (for the module's result)."""
        out = []
        for action in self.actions:
            if not isinstance(action, kind):
                continue
            if reason is not None and getattr(action, "reason", None) != reason:
                continue
            if isinstance(action, (AddPane, RespawnPane)):
                out.append(action.pane.name)
            elif isinstance(action, CreateWindow):
                out.extend(p.name for p in action.window.panes)
            elif isinstance(action, CreateSession):
                out.extend(p.name for w in action.spec.windows for p in w.panes)
            else:
                out.append(action.name)
        return out


def _environment(value, where: str) -> tuple[tuple[str, str], ...]:
    """Validate a mapping of variables; ``where`` names the option, such as windows[0].panes[1].environment."""
    if value is None:
        return ()
    if not isinstance(value, dict):
        raise LayoutError("%s must be a mapping of NAME: value, got %s" % (where, type(value).__name__))
    items = []
    for key in sorted(value):
        if not isinstance(key, str) or not _ENV_NAME.match(key):
            raise LayoutError(
                "%s: %r is not a valid variable name; use letters, digits and '_', not starting with a digit"
                % (where, key)
            )
        raw = value[key]
        if raw is None or isinstance(raw, (dict, list)):
            raise LayoutError("%s.%s must be a string, number or boolean" % (where, key))
        items.append((key, str(raw)))
    return tuple(items)


def _optional_str(value, where: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise LayoutError("%s must be a string" % where)
    return value or None


def _optional_path(value, where: str) -> str | None:
    # tmux resolves relative paths against its server's directory, which is
    # rarely what the playbook meant.
    path = _optional_str(value, where)
    if path is not None and not path.startswith("/"):
        raise LayoutError("%s: %r is relative; give an absolute path" % (where, path))
    return path


def parse_session(params: dict) -> SessionSpec:
    """Turn module-style parameters into a validated SessionSpec.

    Raises LayoutError naming the first problem found. Checks only the
    description itself; paths are checked by check_paths().
    """
    name = params.get("name")
    if not isinstance(name, str) or not name.strip():
        raise LayoutError("name: the session name is empty; give a name such as 'moana-orchestration'")
    if _BAD_SESSION_CHARS.search(name):
        raise LayoutError("name: %r contains '.' or ':', which tmux uses as target separators; use '-' or '_'" % name)
    for dim in ("width", "height"):
        value = params.get(dim)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool) or value < 2):
            raise LayoutError("%s must be an integer of at least 2, got %r" % (dim, value))
    windows_raw = params.get("windows") or []
    if not windows_raw:
        raise LayoutError("windows: describe at least one window with at least one pane")
    windows = []
    window_names: set[str] = set()
    pane_names: dict[str, str] = {}
    for w_index, w_raw in enumerate(windows_raw):
        where = "windows[%d]" % w_index
        if not isinstance(w_raw, dict):
            raise LayoutError("%s must be a mapping with name, layout and panes" % where)
        w_name = w_raw.get("name")
        if not isinstance(w_name, str) or not w_name.strip():
            raise LayoutError("%s.name is empty; every window needs a name" % where)
        if w_name in window_names:
            raise LayoutError("%s.name: window %r is described twice; window names must be unique" % (where, w_name))
        window_names.add(w_name)
        layout = w_raw.get("layout") or "tiled"
        if layout not in LAYOUTS:
            raise LayoutError(
                "%s.layout: unknown layout %r for window %r; use one of %s" % (where, layout, w_name, ", ".join(LAYOUTS))
            )
        panes_raw = w_raw.get("panes") or []
        if not panes_raw:
            raise LayoutError("%s.panes: window %r has no panes; describe at least one" % (where, w_name))
        panes = []
        for p_index, p_raw in enumerate(panes_raw):
            p_where = "%s.panes[%d]" % (where, p_index)
            if not isinstance(p_raw, dict):
                raise LayoutError("%s must be a mapping with name and command" % p_where)
            p_name = p_raw.get("name")
            if not isinstance(p_name, str) or not p_name.strip():
                raise LayoutError("%s.name is empty; every pane needs a name, unique in the session" % p_where)
            if p_name in pane_names:
                raise LayoutError(
                    "%s.name: pane %r is already described in window %r; pane names must be unique in the session"
                    % (p_where, p_name, pane_names[p_name])
                )
            pane_names[p_name] = w_name
            panes.append(
                PaneSpec(
                    name=p_name,
                    command=_optional_str(p_raw.get("command"), p_where + ".command"),
                    start_directory=_optional_path(p_raw.get("start_directory"), p_where + ".start_directory"),
                    # Plain variables and secret ones reach the pane alike; only Ansible's
                    # logging tells them apart.
                    environment=tuple(sorted(dict(_environment(p_raw.get("variables"), p_where + ".variables")
                                                  + _environment(p_raw.get("environment"), p_where + ".environment")
                                                  ).items())),
                    log_file=_optional_path(p_raw.get("log_file"), p_where + ".log_file"),
                    exit_text=_optional_str(p_raw.get("exit_text"), p_where + ".exit_text"),
                    env_file=_optional_path(p_raw.get("env_file"), p_where + ".env_file"),
                    pending=_optional_str(p_raw.get("pending"), p_where + ".pending"),
                )
            )
            if panes[-1].env_file and not panes[-1].command:
                raise LayoutError("%s.env_file: pane %r reads an env file but has no command to run with it; give "
                                  "its command" % (p_where, p_name))
        windows.append(WindowSpec(name=w_name, layout=layout, panes=tuple(panes)))
    return SessionSpec(
        name=name,
        windows=tuple(windows),
        start_directory=_optional_path(params.get("start_directory"), "start_directory"),
        environment=_environment(params.get("environment"), "environment"),
        remain_on_exit=bool(params.get("remain_on_exit", True)),
        width=params.get("width") or 200,
        height=params.get("height") or 50,
    )


def check_paths(spec: SessionSpec, isdir) -> None:
    """Fail before touching tmux when a directory the session needs is missing.

    ``isdir`` is injected so the rule stays testable without a file system.
    """
    wanted = [("start_directory", spec.start_directory)]
    for window in spec.windows:
        for pane in window.panes:
            wanted.append(("pane %s start_directory" % pane.name, pane.start_directory))
            if pane.log_file:
                wanted.append(("pane %s log_file's directory" % pane.name, pane.log_file.rsplit("/", 1)[0] or "/"))
    for what, path in wanted:
        if path and not isdir(path):
            raise LayoutError("%s: directory %s does not exist; create it first or fix the path" % (what, path))


def env_digest(path: str) -> str:
    """The digest of an env file's content ('' when it cannot be read: the pane would end at once)."""
    try:
        with open(path, "rb") as stream:
            return hashlib.sha256(stream.read()).hexdigest()
    except OSError:
        return ""


def with_env_digests(spec: SessionSpec, digest=env_digest) -> SessionSpec:
    """The description with each env file's digest filled in (``digest`` injected, to test without files)."""
    return replace(spec, windows=tuple(
        replace(w, panes=tuple(replace(p, env_digest=digest(p.env_file)) if p.env_file else p for p in w.panes))
        for w in spec.windows))


def pane_directory(spec: SessionSpec, pane: PaneSpec) -> str | None:
    return pane.start_directory or spec.start_directory


def pane_environment(spec: SessionSpec, pane: PaneSpec) -> tuple[tuple[str, str], ...]:
    """The pane's environment: the session's, overridden by the pane's own."""
    merged = dict(spec.environment)
    merged.update(pane.environment)
    return tuple(sorted(merged.items()))


def resolve(spec: SessionSpec) -> SessionSpec:
    """The description with each pane's directory and environment filled in from the session.

    Planning compares fingerprints of these resolved panes with what tmux
    holds, so a change of the session's environment or directory restarts
    the panes that inherit it.
    """
    windows = tuple(
        WindowSpec(
            w.name,
            w.layout,
            tuple(
                replace(p, start_directory=pane_directory(spec, p), environment=pane_environment(spec, p))
                for p in w.panes
            ),
        )
        for w in spec.windows
    )
    return replace(spec, windows=windows)


def _relayout_source(spec: SessionSpec, state: SessionState, pane: PaneState, relayout: dict) -> None:
    """Re-arrange the described window a pane leaves (moved or removed)."""
    window = next(w for w in state.windows if w.window_id == pane.window_id)
    described = next((w for w in spec.windows if w.name == window.managed_name), None)
    if described is not None:
        relayout.setdefault(described.name, Relayout(window.window_id, described.name, described.layout))


def plan(spec: SessionSpec, state: SessionState | None, respawn_dead: bool = True) -> Plan:
    """List the actions that turn ``state`` into what a resolved ``spec`` describes.

    Existing live panes that still match are left alone; order and sizes the
    user changed by hand are kept. Only managed panes/windows (those carrying
    a name) that the description no longer has are removed.
    """
    result = Plan()
    if state is None:
        result.actions.append(CreateSession(spec))
        return result

    by_window = {w.key: w for w in state.windows if w.managed_name}
    by_pane = {p.name: p for p in state.panes() if p.name}
    wanted_panes = {p.name for w in spec.windows for p in w.panes}
    relayout: dict[str, Relayout] = {}

    for window in spec.windows:
        current = by_window.get(window.name)
        if current is None:
            missing = tuple(p for p in window.panes if p.name not in by_pane)
            if missing:
                result.actions.append(CreateWindow(WindowSpec(window.name, window.layout, missing)))
            moved = [p for p in window.panes if p.name in by_pane]
            if moved:
                # Panes that exist elsewhere join the new window once it exists.
                for p in moved:
                    result.actions.append(MovePane(by_pane[p.name].pane_id, "", window.name, p.name))
                    _relayout_source(spec, state, by_pane[p.name], relayout)
                relayout[window.name] = Relayout("", window.name, window.layout)
            continue
        if current.layout != window.layout:
            relayout[window.name] = Relayout(current.window_id, window.name, window.layout)
        if current.remain_on_exit != spec.remain_on_exit:
            result.actions.append(SetRemainOnExit(current.window_id, window.name, spec.remain_on_exit))
        for pane in window.panes:
            existing = by_pane.get(pane.name)
            if existing is None:
                result.actions.append(AddPane(current.window_id, window.name, pane))
                relayout[window.name] = Relayout(current.window_id, window.name, window.layout)
                continue
            if existing.window_id != current.window_id:
                result.actions.append(MovePane(existing.pane_id, current.window_id, window.name, pane.name))
                relayout[window.name] = Relayout(current.window_id, window.name, window.layout)
                _relayout_source(spec, state, existing, relayout)
            if existing.fingerprint != pane.fingerprint():
                result.actions.append(RespawnPane(existing.pane_id, pane, "changed"))
            elif existing.dead and respawn_dead:
                result.actions.append(RespawnPane(existing.pane_id, pane, "dead"))
            if pane.log_file and not existing.logging:
                result.actions.append(StartLog(existing.pane_id, pane.name, pane.log_file))

    wanted_windows = {w.name for w in spec.windows}
    for window in state.windows:
        if window.managed_name and window.managed_name not in wanted_windows:
            # Panes that were moved out survive; the rest go with the window.
            if not any(p.name in wanted_panes for p in window.panes):
                result.actions.append(KillWindow(window.window_id, window.managed_name))
                continue
        for pane in window.panes:
            if pane.name and pane.name not in wanted_panes:
                result.actions.append(KillPane(pane.pane_id, pane.name))
                _relayout_source(spec, state, pane, relayout)
    result.actions.extend(relayout.values())
    return result


def _pane_view(name: str, command: str | None, environment, state: str, env_file: str | None = None) -> dict:
    view = {"name": name, "command": command or "(shell)", "environment": list(environment), "state": state}
    if env_file:
        view["env_file"] = env_file
    return view


def describe_after(spec: SessionSpec, state: SessionState | None, respawn_dead: bool = True) -> dict:
    """The layout once the plan has run, as the diff's ``after``; no environment values.

    Panes tmux has that the description does not name (made by hand) stay.
    """
    current = {p.name: p for p in state.panes() if p.name} if state else {}
    windows = []
    for w in spec.windows:
        panes = []
        for p in w.panes:
            existing = current.get(p.name)
            stays_dead = (
                existing is not None and existing.dead and not respawn_dead
                and existing.fingerprint == p.fingerprint()
            )
            panes.append(_pane_view(p.name, p.command, [key for key, dummy in p.environment], "dead" if stays_dead else "alive",
                                    p.env_file))
        windows.append({"name": w.name, "layout": w.layout, "panes": panes})
    wanted = {w.name for w in spec.windows}
    for w in state.windows if state else ():
        extra = [_pane_view(p.pane_id, p.start_command, [], "dead" if p.dead else "alive") for p in w.panes if not p.name]
        if not extra:
            continue
        match = next((v for v in windows if v["name"] == w.key), None) if w.key in wanted else None
        if match is None:
            windows.append({"name": w.key, "layout": w.layout, "panes": extra})
        else:
            match["panes"].extend(extra)
    return {"session": spec.name, "windows": windows}


def describe_state(state: SessionState | None, spec: SessionSpec | None = None) -> dict:
    """The layout tmux has now, as the diff's ``before``.

    A pane whose fingerprint matches its description shows the described
    command and environment names (tmux only knows them quoted, or not at all),
    so an unchanged session gives ``before == after``.
    """
    if state is None:
        return {}
    described = {p.name: p for w in spec.windows for p in w.panes} if spec else {}
    windows = []
    for w in state.windows:
        panes = []
        for p in w.panes:
            wanted = described.get(p.name)
            env_file = None
            if wanted is not None and wanted.fingerprint() == p.fingerprint:
                command, env, env_file = wanted.command, [key for key, dummy in wanted.environment], wanted.env_file
            else:
                command, env = (p.start_command or None), []
            panes.append(_pane_view(p.name or p.pane_id, command, env, "dead" if p.dead else "alive", env_file))
        windows.append({"name": w.key, "layout": w.layout, "panes": panes})
    return {"session": state.name, "windows": windows}
