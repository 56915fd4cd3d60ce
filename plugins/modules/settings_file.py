#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: settings_file
short_description: Merge settings into a JSON or TOML settings file, keeping every key of the user's
version_added: 0.1.0
author:
  - Moana Orchestration maintainers (@moana)
description:
  - Deep-merges O(settings) into a settings file such as Claude Code's C(~/.claude.json) or
    C(~/.claude/settings.json), or Codex's C(~/.codex/config.toml). Mappings merge key by key,
    any other value (a string, a number, a list) replaces the one there, and no other key is touched.
  - The file is written only when its data change (a second run changes nothing), atomically, with
    its mode, owner and group kept. A missing file is created (mode 0600, its missing parent directories 0700).
  - A file that is not valid JSON or TOML fails the task, naming the file, the line and the column;
    nothing is written.
  - JSON is written with an indent of 2, in the file's key order. TOML is written from its parsed
    data, so its comments and layout are not kept when it changes (the backup keeps them, see O(backup)).
  - A symbolic link is followed, and the file it points to is updated.
  - Reading TOML needs Python 3.11 or later (C(tomllib)) or the C(tomli) package on the target.
extends_documentation_fragment:
  - ansible.builtin.action_common_attributes
options:
  path:
    description:
      - The settings file; C(~) is the home of the user the task runs as on the target.
    type: path
    required: true
  format:
    description:
      - The file's format. Default from the extension of O(path) (C(.json), as in C(~/.claude.json),
        or C(.toml)); required for any other name.
    type: str
    choices: [json, toml]
  settings:
    description:
      - The settings to merge in, as the file's data (a mapping of mappings for nested objects or tables).
      - TOML has no null; a V(null) value fails for a TOML file.
    type: dict
    required: true
  mode:
    description:
      - Mode of the file, octal digits in quotes (such as V('0600')). Default keeps the mode of an
        existing file and gives a new one V(0600).
    type: str
  lists:
    description:
      - How a list in O(settings) meets a list in the file. V(replace) puts it in place of the file's;
        V(append) keeps every item of the file's and adds the items it lacks, once (a user's own hooks
        stay, and a second run adds nothing).
    type: str
    choices: [replace, append]
    default: replace
  backup:
    description:
      - Copy an existing file beside itself before changing it (C(NAME.PID.DATE@TIME~), as
        Ansible's backups are named), with its mode, owner and group. No copy is made when nothing changes.
    type: bool
    default: true
attributes:
  platform:
    platforms: posix
  check_mode:
    support: full
  diff_mode:
    support: full
"""

EXAMPLES = r"""
- name: Let Claude Code start in the project without its onboarding and trust screens
  moana.orchestration.settings_file:
    path: ~/.claude.json
    settings:
      hasCompletedOnboarding: true
      projects:
        /home/dev/project:
          hasTrustDialogAccepted: true

- name: Trust the project in Codex and keep its daemon off
  moana.orchestration.settings_file:
    path: ~/.codex/config.toml
    settings:
      features:
        daemon_auto_start: false
      projects:
        /home/dev/project:
          trust_level: trusted
"""

RETURN = r"""
path:
  description: The file written (or to be written), with C(~) expanded and a symbolic link followed.
  returned: always
  type: str
format:
  description: The format the file was read and written in.
  returned: always
  type: str
  sample: toml
created:
  description: Whether the file was missing (and is created, unless in check mode).
  returned: always
  type: bool
backup_file:
  description: The copy of the file made before it changed.
  returned: when the file existed and changed, with O(backup=true) (not in check mode)
  type: str
mode:
  description: The file's mode after the task, in octal digits (what it would be in check mode).
  returned: always
  type: str
  sample: "0600"
"""

import os
import stat

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_native
from ansible_collections.moana.orchestration.plugins.module_utils import _board_store
from ansible_collections.moana.orchestration.plugins.module_utils import _settings_file as settings_lib


def parse_mode(value: str | None) -> int | None:
    """A file mode from octal digits; ValueError naming the problem."""
    if value is None:
        return None
    text = str(value).strip()
    digits = text[2:] if text[:2] in ("0o", "0O") else text
    if not 3 <= len(digits) <= 4 or digits.strip("01234567"):
        raise ValueError("mode %r is not an octal mode in quotes such as '0600'" % text)
    mode = int(digits, 8)
    if mode & 0o600 != 0o600:
        raise ValueError("mode %r does not let its owner read and write the file: use '0600' or '0644'" % text)
    return mode


def read(path: str) -> str | None:
    """The file's text, None when it is missing."""
    try:
        with open(path, encoding="utf-8") as stream:
            return stream.read()
    except FileNotFoundError:
        return None
    except UnicodeDecodeError as exc:
        raise settings_lib.SettingsError("%s is not UTF-8 text (byte %d): fix or remove the file, nothing was written"
                                         % (path, exc.start)) from None


def main():
    module = AnsibleModule(
        argument_spec={
            "path": {"type": "path", "required": True},
            "format": {"type": "str", "choices": list(settings_lib.FORMATS)},
            "settings": {"type": "dict", "required": True},
            "mode": {"type": "str"},
            "backup": {"type": "bool", "default": True},
            "lists": {"type": "str", "default": "replace", "choices": ["replace", "append"]},
        },
        supports_check_mode=True,
    )
    params = module.params
    path = os.path.realpath(params["path"])
    try:
        wanted_mode = parse_mode(params["mode"])
        fmt = settings_lib.format_of(params["path"], params["format"])
        text = read(path)
        change = settings_lib.apply(text, fmt, params["settings"], path, params["lists"])
    except ValueError as exc:
        module.fail_json(msg="mode: %s" % exc)
    except settings_lib.SettingsError as exc:
        module.fail_json(msg=str(exc))
    created = text is None
    current_mode = None if created else stat.S_IMODE(os.stat(path).st_mode)
    # A new file is private unless told; an existing one keeps its mode unless told.
    mode = wanted_mode if wanted_mode is not None else (0o600 if created else current_mode)
    changed = change.changed or mode != current_mode
    result = {"path": path, "format": fmt, "created": created, "mode": "%04o" % mode, "changed": changed}
    if module._diff and changed:
        result["diff"] = {"before": change.before, "after": change.after,
                          "before_header": path if not created else "%s (absent)" % path, "after_header": path}
        if mode != current_mode and current_mode is not None:
            result["diff"]["before_header"] += " (mode %04o)" % current_mode
            result["diff"]["after_header"] += " (mode %04o)" % mode
    if changed and not module.check_mode:
        try:
            if change.changed:
                if not created and params["backup"]:
                    result["backup_file"] = _board_store.backup_copy(path)
                _board_store.make_dirs(os.path.dirname(path))
                # The collection's one writer: temp file made with the final mode, fsynced, renamed over the file;
                # a replaced file keeps its owner and group.
                _board_store.atomic_write(path, change.after, mode)
            else:
                os.chmod(path, mode)
        except (OSError, settings_lib.SettingsError) as exc:
            module.fail_json(msg="could not write %s: %s" % (path, to_native(exc)), **result)
    if change.changed and fmt == "toml" and not created and "#" in change.before:
        module.warn("%s is written from its parsed data: its comments are not kept%s"
                    % (path, " (the original is %s)" % result["backup_file"] if result.get("backup_file") else ""))
    module.exit_json(**result)


if __name__ == "__main__":
    main()
