# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by the modules that address a tmux server."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  socket_name:
    description:
      - Name of the tmux server socket, as C(tmux -L NAME).
      - Omit both O(socket_name) and O(socket_path) to use the user's default
        server, the one a plain C(tmux attach) reaches.
      - Use a private name in tests so they never touch a person's sessions.
    type: str
  socket_path:
    description:
      - Full path of the tmux server socket, as C(tmux -S PATH).
      - Its directory must exist.
      - Mutually exclusive with O(socket_name).
    type: path
requirements:
  - tmux 3.2 or newer on the target
"""
