#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: orchestra_home
short_description: Install the orchestra command and the team's files in one call
version_added: 0.1.0
author:
  - Moana Orchestration maintainers (@moana)
description:
  - Writes the C(orchestra) command into O(path) (C(bin/orchestra), and C(lib/) with
    the very board, tmux and delivery code this collection's modules use (the dispatcher
    and the simulated agents included), byte-compiled so every agent
    command starts fast), plus any O(files) such as the agents' rendered prompts, in
    one module call whatever the size of the team.
  - Only files whose content or mode differ are written, atomically; directories are
    private to the user (0700), files 0600 (the command 0700).
  - With O(board), also makes sure the team's board exists with its managed sections
    (as M(moana.orchestration.board) with C(create=true)), so that one call lays out
    everything the team needs on disk. A malformed board fails the task and is not rewritten.
  - Sections of O(board) written without markers (the original scripts' C(CLAUDE.md))
    are adopted in place, their entries kept with their ids, after a copy of the board
    (RV(board_backup_file)); see M(moana.orchestration.board).
  - Needs nothing on the target beyond Python.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  path:
    description:
      - The orchestra home directory.
    type: path
    required: true
  files:
    description:
      - More files to keep in the home, relative path to content (such as
        C(prompts/amp.md)).
    type: dict
    default: {}
  python:
    description:
      - Python that byte-compiles the library (the one C(orchestra) runs with).
    type: str
    default: python3
  directories:
    description:
      - Other directories the team needs (project, logs), created 0700 when missing.
      - An existing directory keeps its mode (the project directory is the user's; a team
        that shares its files makes the directory it wants beforehand).
    type: list
    elements: path
    default: []
  team_dir:
    description:
      - The team's own directory (its dispatcher's settings and memory, prompts, queue), created 0700.
    type: path
  team_files:
    description:
      - Files to keep in O(team_dir), relative path to content (such as C(prompts/amp.md)).
    type: dict
    default: {}
  secrets:
    description:
      - Each agent's secret variables, agent name to a mapping of NAME to value (the C(environment)
        of the team's agents). Each agent's are written to O(team_dir)C(/env/NAME.env) as
        C(export NAME='value') lines (each value quoted for the shell), 0600 in a 0700 directory,
        which its pane's shell reads before it runs the agent (see
        O(moana.orchestration.tmux_session#module:windows[].panes[].env_file)). Only files whose
        content differs are written; files in that directory of agents not given are removed.
      - Never logged nor returned; RV(secrets_changed) names the agents whose file changed.
    type: dict
  link:
    description:
      - Where to link the C(orchestra) command so that the user's shell finds it (such as
        C(~/.local/bin/orchestra)). The link is made only when its directory is on the C(PATH)
        the module runs with, and never replaces a file or a link to another command;
        RV(command) says where the command is either way.
    type: path
  board:
    description:
      - The team's board; created when missing, its sections written without markers
        adopted, its missing managed sections added (the rest of the file is kept byte
        for byte), its identity added when missing.
    type: path
  board_agents:
    description:
      - The team's agent names. When given, a task of an adopted section of O(board)
        assigned to another name fails the task, naming its line (names match without
        regard to case).
    type: list
    elements: str
  board_mode:
    description:
      - Mode of O(board) when this task creates it (its lock file and archive take the board's
        mode), in octal digits; see O(moana.orchestration.board#module:mode). An existing board
        keeps its mode, owner and group.
    type: str
    default: "0600"
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: partial
    details:
      - Only the change to O(board) is shown.
"""

EXAMPLES = r"""
- name: Install orchestra and the prompts
  moana.orchestration.orchestra_home:
    path: ~/.local/share/moana-orchestration
    files:
      prompts/amp.md: "You are amp, a worker..."
"""

RETURN = r"""
path:
  description: The home directory, with C(~) expanded.
  returned: always
  type: str
team_dir:
  description: O(team_dir) with C(~) expanded (empty without it).
  returned: always
  type: str
bin:
  description: Directory of the C(orchestra) command.
  returned: always
  type: str
command:
  description: The C(orchestra) command to run from a shell (the link when it was made or already there).
  returned: always
  type: str
linked:
  description: Whether the C(orchestra) command is reachable through O(link).
  returned: always
  type: bool
written:
  description: >-
    Paths of the files written (or, in check mode, to be written): relative to O(path), and
    O(team_dir)'s files prefixed with C(team/).
  returned: always
  type: list
  elements: str
secrets_changed:
  description: >-
    Names of the agents whose env file was written or removed (or, in check mode, would be),
    from O(secrets); never a value.
  returned: always
  type: list
  elements: str
board_sections:
  description: Managed sections adopted or added in O(board) (all four when it was created).
  returned: always
  type: list
  elements: str
board_adopted:
  description: Sections of O(board) that were written without markers and are now managed.
  returned: always
  type: list
  elements: str
board_id:
  description: The identity of O(board) (see M(moana.orchestration.board_info)); null without O(board).
  returned: always
  type: str
board_backup_file:
  description: The copy of O(board) made before its sections were adopted (C(CLAUDE.md.<pid>.<date>@<time>~)).
  returned: when sections were adopted (not in check mode)
  type: str
created_directories:
  description: The O(directories) that were missing and were created.
  returned: always
  type: list
  elements: str
"""

import inspect
import os

from ansible.module_utils.basic import AnsibleModule
from ansible_collections.moana.orchestration.plugins.module_utils import (
    _agents, _board_format, _board_store, _delivery, _dispatch, _dispatch_config, _hooks, _layout, _notify,
    _orchestra, _process, _simulate, _tmux,
)
from ansible_collections.moana.orchestration.plugins.module_utils import _board as board_lib
from ansible_collections.moana.orchestration.plugins.module_utils import _team

# The command's library: the board (operations, format, storage), the simulated agents and the dispatcher
# with the tmux layer it types through, the notifier it tells a person with, and the CLIs' hooks.
LIBRARY = {"lib/%s.py" % module.__name__.rsplit(".", 1)[-1]: module
           for module in (_agents, board_lib, _board_format, _board_store, _delivery, _dispatch, _dispatch_config,
                          _hooks, _layout, _notify, _orchestra, _process, _simulate, _tmux)}


def wanted_files(extra: dict) -> dict:
    """Relative path -> (content, mode) of everything the home holds."""
    files = {path: (inspect.getsource(module), 0o600) for path, module in LIBRARY.items()}
    files["bin/orchestra"] = (_orchestra.LAUNCHER, 0o700)
    files.update({path: (str(content), 0o600) for path, content in extra.items()})
    return files


def link_command(link: str | None, target: str, check_mode: bool) -> tuple[bool, bool]:
    """(reachable through the link, changed): link ``target`` at ``link`` when its directory is on PATH.

    A file or a link to something else is the user's: left alone."""
    if not link or os.path.dirname(link) not in os.environ.get("PATH", "").split(os.pathsep):
        return False, False
    if os.path.islink(link):
        return os.readlink(link) == target, False
    if os.path.lexists(link):
        return False, False
    if not check_mode:
        os.makedirs(os.path.dirname(link), mode=0o700, exist_ok=True)
        os.symlink(target, link)
    return True, True


def ensure_board(module, mode: int) -> tuple[bool, dict]:
    """The board part: sections adopted (after a copy) or added, its identity; (changed, return values)."""
    copies: list[str] = []
    try:
        outcome = board_lib.ensure_board(module.params["board"], create=True, check_mode=module.check_mode,
                                         agents=module.params["board_agents"], mode=mode,
                                         backup=lambda path: copies.append(board_lib.backup_copy(path)))
    except board_lib.BoardError as exc:
        module.fail_json(msg=str(exc))
    for warning in outcome.result["warnings"]:
        module.warn(warning)
    result = {"board_sections": outcome.result["sections"], "board_adopted": outcome.result["adopted"],
              "board_id": outcome.result["board_id"]}
    if copies:
        result["board_backup_file"] = copies[0]
    if module._diff and outcome.changed:
        result["diff"] = outcome.diff(module.params["board"])
    return outcome.changed, result


def differs(path: str, content: str, mode: int) -> bool:
    try:
        with open(path, encoding="utf-8") as stream:
            if stream.read() != content:
                return True
        return os.stat(path).st_mode & 0o777 != mode
    except (FileNotFoundError, UnicodeDecodeError):
        return True


def secret_texts(secrets: dict) -> dict[str, str]:
    """Agent name -> the text of its env file; TeamError naming the agent and the variable, never a value."""
    texts = {}
    for name, environment in secrets.items():
        if not (isinstance(name, str) and name.replace("-", "").replace("_", "").isalnum()):
            raise _team.TeamError("secrets: agent name %r must be letters, digits, '-' or '_'" % (name,))
        texts[name] = _team.env_file_text(environment, "secrets[%s]" % name)
    return texts


def ensure_secrets(texts: dict[str, str], team_dir: str, check_mode: bool) -> tuple[list[str], bool]:
    """Write each agent's env file whose content or mode differs, remove those of agents not given, keep their
    directory 0700; returns the names of the agents whose file changed, and whether anything changed."""
    env_dir = os.path.join(team_dir, _team.ENV_DIR)
    changed = [name for name, text in texts.items() if differs(_team.env_file(team_dir, name), text, 0o600)]
    try:
        present = [entry[:-4] for entry in os.listdir(env_dir) if entry.endswith(".env")]
        opened = os.stat(env_dir).st_mode & 0o777 != 0o700
    except FileNotFoundError:
        present, opened = [], False
    stale = [name for name in present if name not in texts]
    if not check_mode:
        if changed:
            _board_store.make_dirs(env_dir)
        if opened:
            os.chmod(env_dir, 0o700)
        for name in changed:
            write(_team.env_file(team_dir, name), texts[name], 0o600)
        for name in stale:
            os.unlink(_team.env_file(team_dir, name))
    return sorted(changed + stale), bool(changed or stale or opened)


def write(path: str, content: str, mode: int) -> None:
    _board_store.make_dirs(os.path.dirname(path))
    _board_store.atomic_write(path, content, mode)


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "files": {"type": "dict", "default": {}},
            "python": {"type": "str", "default": "python3"},
            "directories": {"type": "list", "elements": "path", "default": []},
            "team_dir": {"type": "path"},
            "team_files": {"type": "dict", "default": {}},
            "link": {"type": "path"},
            "secrets": {"type": "dict", "no_log": True},
            "board": {"type": "path"},
            "board_agents": {"type": "list", "elements": "str"},
            "board_mode": {"type": "str", "default": "0600"},
        },
        supports_check_mode=True,
    )
    home = module.params["path"]
    team_dir = module.params["team_dir"]
    if module.params["team_files"] and not team_dir:
        module.fail_json(msg="team_files needs team_dir: the directory they are written in")
    for option in ("files", "team_files"):
        for relative in module.params[option]:
            if relative.startswith("/") or ".." in relative.split("/"):
                module.fail_json(msg="%s: %r must be a relative path without '..'" % (option, relative))
    secrets = module.params["secrets"]
    if secrets is not None and not team_dir:
        module.fail_json(msg="secrets needs team_dir: the directory their files are written in")
    try:
        texts = secret_texts(secrets or {})
    except _team.TeamError as exc:
        module.fail_json(msg=str(exc))
    try:
        board_mode = board_lib.parse_mode(module.params["board_mode"])
    except ValueError as exc:
        module.fail_json(msg="board_mode: %s" % exc)
    missing = [path for path in module.params["directories"] if not os.path.isdir(path)]
    if missing and not module.check_mode:
        for path in missing:
            _board_store.make_dirs(path)
    todo = {rel: spec for rel, spec in wanted_files(module.params["files"]).items()
            if differs(os.path.join(home, rel), *spec)}
    team_todo = {rel: (str(content), 0o600) for rel, content in module.params["team_files"].items()
                 if differs(os.path.join(team_dir, rel), str(content), 0o600)}
    new_team_dir = bool(team_dir) and not os.path.isdir(team_dir)
    if (todo or team_todo or new_team_dir) and not module.check_mode:
        _board_store.make_dirs(home)
        if team_dir:
            _board_store.make_dirs(team_dir)
        for relative, (content, mode) in todo.items():
            write(os.path.join(home, relative), content, mode)
        for relative, (content, mode) in team_todo.items():
            write(os.path.join(team_dir, relative), content, mode)
        if any(rel.startswith("lib/") for rel in todo):
            rc, out, err = module.run_command([module.params["python"], "-m", "compileall", "-q", os.path.join(home, "lib")],
                                              umask=0o077)
            if rc != 0:
                module.fail_json(msg="could not byte-compile %s/lib with %s: %s" % (home, module.params["python"], err or out))
    secrets_changed, secrets_touched = ensure_secrets(texts, team_dir, module.check_mode) if secrets is not None else ([], False)
    board_changed, board = False, {"board_sections": [], "board_adopted": [], "board_id": None}
    if module.params["board"]:
        board_changed, board = ensure_board(module, board_mode)
    command = os.path.join(home, "bin", "orchestra")
    linked, link_changed = link_command(module.params["link"], command, module.check_mode)
    written = sorted(todo) + sorted("team/" + rel for rel in team_todo)
    module.exit_json(changed=bool(written or new_team_dir or missing or board_changed or link_changed or secrets_touched),
                     secrets_changed=secrets_changed, path=home,
                     bin=os.path.join(home, "bin"), team_dir=team_dir or "", command=module.params["link"] if linked else command, linked=linked,
                     written=written, created_directories=missing, **board)


if __name__ == "__main__":
    main()
