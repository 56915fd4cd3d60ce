# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by the modules that read or write the board."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  path:
    description:
      - Path of the board file, usually C(CLAUDE.md) in the project directory.
    type: path
    required: true
    aliases: [dest]
  lock_timeout:
    description:
      - Seconds to wait for the board's lock (C(<path>.lock)) while agents write to it.
    type: float
    default: 10
notes:
  - Every write is a locked, atomic replace of the file (temporary file beside it,
    fsync, rename) that keeps the file's mode, owner and group where the writer may set
    them (root may, so a run with become leaves a user's board the user's); text outside
    the managed markers and entries not touched are written back byte for byte.
  - The lock file and the archive, when created, take the board's mode and owner.
  - Completions beyond 20 and messages beyond 50 or older than 7 days move, oldest
    first, to C(<name>.archive.md) beside the board.
"""
