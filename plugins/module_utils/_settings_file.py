# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Settings files of the agent CLIs (JSON or TOML): read, deep-merge a patch, write back. Standard library only.

A patch only adds or replaces: mappings merge key by key, any other value
replaces the one there, and no key of the user's is ever dropped. Whether the
file changes is decided on the parsed data (types included: ``true`` is not
``1``), so a file that already holds the patch is left byte for byte, whatever
its layout.

JSON is written as ``json.dumps(indent=2)`` plus a newline, in the user's key
order. TOML is written by ``dump_toml`` (``tomllib`` only reads): the data are
kept, comments and layout are not, which is why the module keeps a backup.
"""

from __future__ import annotations

import datetime
import json
import math

FORMATS = ("json", "toml")

# Characters of a TOML bare key; any other key is written quoted.
_BARE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-")
_ESCAPES = {"\\": "\\\\", '"': '\\"', "\b": "\\b", "\t": "\\t", "\n": "\\n", "\f": "\\f", "\r": "\\r"}


class SettingsError(Exception):
    """A file that cannot be read or a patch that cannot be written; the message names the file and the fix."""


class Change:
    """The outcome of applying a patch: whether the file changes, its text before ("" when missing) and after."""

    def __init__(self, changed: bool, before: str, after: str, data: dict):
        self.changed, self.before, self.after, self.data = changed, before, after, data


def format_of(path: str, given: str | None = None) -> str:
    """``given``, or the format named by the file's extension; SettingsError when neither says."""
    if given:
        if given not in FORMATS:
            raise SettingsError("format %r must be one of %s" % (given, ", ".join(FORMATS)))
        return given
    extension = path.rsplit(".", 1)[-1].lower() if "." in path.rsplit("/", 1)[-1] else ""
    if extension in FORMATS:
        return extension
    raise SettingsError("%s: cannot tell its format from its name; give format: json or format: toml" % path)


def _tomllib():
    try:
        import tomllib  # pylint: disable=import-outside-toplevel
    except ImportError:
        try:
            import tomli as tomllib  # pylint: disable=import-outside-toplevel
        except ImportError:
            raise SettingsError("reading TOML needs Python 3.11 or later (tomllib) or the tomli package on the target: "
                                "pip install tomli, or point ansible_python_interpreter at Python 3.11+") from None
    return tomllib


def parse(text: str, fmt: str, name: str) -> dict:
    """The file's data; an empty file is an empty mapping. SettingsError naming ``name``, the line and column."""
    if not text.strip():
        return {}
    if fmt == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SettingsError("%s is not valid JSON (line %d, column %d: %s): fix or remove the file, "
                                "nothing was written" % (name, exc.lineno, exc.colno, exc.msg)) from None
        if not isinstance(data, dict):
            raise SettingsError("%s holds a JSON %s, not an object: fix or remove the file, nothing was written"
                                % (name, type(data).__name__))
        return data
    tomllib = _tomllib()
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        # The message ends with "(at line L, column C)".
        raise SettingsError("%s is not valid TOML (%s): fix or remove the file, nothing was written" % (name, exc)) from None


def same(left, right) -> bool:
    """Equal data, types included (``True == 1`` and ``1 == 1.0`` in Python, not in a settings file); the order
    of keys does not count (a merge keeps it, TOML writes a table's values before its sub-tables)."""
    if type(left) is not type(right):
        return False
    if isinstance(left, dict):
        return left.keys() == right.keys() and all(same(left[key], right[key]) for key in left)
    if isinstance(left, list):
        return len(left) == len(right) and all(same(a, b) for a, b in zip(left, right))
    return left == right


LISTS = ("replace", "append")


def merge(base: dict, patch: dict, lists: str = "replace") -> dict:
    """``base`` with ``patch`` merged in, neither modified: mappings merge recursively, other values replace; keys
    keep their order, new ones come last. With ``lists="append"`` a list meeting a list keeps every item it
    had and gains the patch's items it lacks (a user's hooks stay, ours are added once)."""
    merged = dict(base)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value, lists)
        elif lists == "append" and isinstance(value, list) and isinstance(merged.get(key), list):
            merged[key] = merged[key] + [item for item in value if not any(same(item, had) for had in merged[key])]
        else:
            merged[key] = value
    return merged


def dump_json(data: dict) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def toml_key(key: str) -> str:
    if not isinstance(key, str):
        raise SettingsError("TOML keys are strings; %r is not" % (key,))
    return key if key and set(key) <= _BARE else toml_string(key)


def toml_string(text: str) -> str:
    out = []
    for char in text:
        if char in _ESCAPES:
            out.append(_ESCAPES[char])
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append("\\u%04X" % ord(char))
        else:
            out.append(char)
    return '"%s"' % "".join(out)


def toml_value(value, where: str) -> str:
    """A value written inline (inside a table, an array or an inline table)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    if isinstance(value, str):
        return toml_string(value)
    if isinstance(value, (datetime.datetime, datetime.date, datetime.time)):
        return value.isoformat()
    if isinstance(value, (list, tuple)):
        return "[%s]" % ", ".join(toml_value(item, "%s[%d]" % (where, i)) for i, item in enumerate(value))
    if isinstance(value, dict):
        if not value:
            return "{}"
        return "{ %s }" % ", ".join("%s = %s" % (toml_key(k), toml_value(v, "%s.%s" % (where, k))) for k, v in value.items())
    if value is None:
        raise SettingsError("%s: TOML has no null value; give a string, number, boolean, list or mapping" % where)
    raise SettingsError("%s: %s cannot be written to TOML" % (where, type(value).__name__))


def _table_array(value) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(item, dict) for item in value)


def _dump_table(table: dict, path: list[str], lines: list[str], header: str | None) -> None:
    """Write ``table``'s own values under ``header``, then its sub-tables and arrays of tables (a header's
    values must come before the next header)."""
    plain = [(k, v) for k, v in table.items() if not isinstance(v, dict) and not _table_array(v)]
    nested = [(k, v) for k, v in table.items() if isinstance(v, dict) or _table_array(v)]
    where = ".".join(path) or "settings"
    # A table holding only tables needs no header of its own; an empty one does, or it would vanish.
    if header is not None and (plain or not nested or header.startswith("[[")):
        if lines:
            lines.append("")
        lines.append(header)
    for key, value in plain:
        lines.append("%s = %s" % (toml_key(key), toml_value(value, "%s.%s" % (where, key))))
    for key, value in nested:
        sub = path + [toml_key(key)]
        if isinstance(value, dict):
            _dump_table(value, sub, lines, "[%s]" % ".".join(sub))
        else:
            for item in value:
                _dump_table(item, sub, lines, "[[%s]]" % ".".join(sub))


def dump_toml(data: dict) -> str:
    """TOML text of ``data`` (as ``tomllib`` returns it): values, tables, arrays of tables, quoted keys."""
    lines: list[str] = []
    _dump_table(data, [], lines, None)
    return "\n".join(lines) + "\n" if lines else ""


def dump(data: dict, fmt: str) -> str:
    return dump_json(data) if fmt == "json" else dump_toml(data)


def apply(text: str | None, fmt: str, patch: dict, name: str, lists: str = "replace") -> Change:
    """Merge ``patch`` into the file whose text is ``text`` (None: no file). Nothing is written here."""
    if not isinstance(patch, dict):
        raise SettingsError("settings must be a mapping, not %s" % type(patch).__name__)
    current = parse(text or "", fmt, name)
    merged = merge(current, patch, lists)
    if text is not None and same(current, merged):
        return Change(False, text, text, current)
    after = dump(merged, fmt)
    if fmt == "toml":  # what is written must read back as the same data
        try:
            reread = _tomllib().loads(after)
        except Exception as exc:  # pylint: disable=broad-except
            raise SettingsError("%s: the merged settings did not write as valid TOML (%s); nothing was written" % (name, exc)) from None
        if not same(_plain(reread), _plain(merged)):
            raise SettingsError("%s: the merged settings do not read back the same from TOML; nothing was written" % name)
    return Change(True, text or "", after, merged)


def _plain(value):
    """Tuples as lists, NaN as a marker: the forms in which written and re-read data compare."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, float) and math.isnan(value):
        return "\0nan"
    return value
