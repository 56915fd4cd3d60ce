"""Settings files of the agent CLIs: a patch merges in without dropping a key of the user's, TOML written by our
serializer reads back the same through tomllib, a second run changes nothing, a broken file is named and kept."""

from __future__ import annotations

import datetime
import json
import tomllib

import pytest

from ansible_collections.moana.orchestration.plugins.module_utils import _settings_file as S

USER_TOML = """\
# Codex settings of the user's
model = "gpt-5.5"   # the model
approval_policy = "on-request"

[model_providers.local]
name = "Local"
base_url = "http://127.0.0.1:9999/v1"

[projects."/home/dev/old project"]
trust_level = "untrusted"

[[mcp_servers]]
name = "files"
args = ["--root", "/srv"]

[[mcp_servers]]
name = "search"
[mcp_servers.env]
TOKEN_FILE = "~/.token"
"""


def test_merge_keeps_every_user_key_nested_and_in_arrays_of_tables():
    user = tomllib.loads(USER_TOML)
    patch = {"projects": {"/p": {"trust_level": "trusted"}}, "features": {"daemon_auto_start": False}}
    change = S.apply(USER_TOML, "toml", patch, "config.toml")
    assert change.changed
    after = tomllib.loads(change.after)
    assert after["projects"] == {"/home/dev/old project": {"trust_level": "untrusted"}, "/p": {"trust_level": "trusted"}}
    assert after["mcp_servers"] == user["mcp_servers"]
    assert after["model_providers"] == user["model_providers"]
    assert after["features"] == {"daemon_auto_start": False}
    assert {k: v for k, v in after.items() if k not in patch} == {k: v for k, v in user.items() if k not in patch}


def test_merge_replaces_values_that_are_not_mappings_and_copies_nothing_it_is_given():
    base = {"a": {"b": 1, "c": [1, 2]}, "d": "x"}
    patch = {"a": {"c": [3]}, "d": {"now": "a table"}}
    assert S.merge(base, patch) == {"a": {"b": 1, "c": [3]}, "d": {"now": "a table"}}
    assert base == {"a": {"b": 1, "c": [1, 2]}, "d": "x"}


TRICKY = {
    "bare-key_1": "plain",
    "": "empty key",
    "with space": "quote \" backslash \\ tab \t newline \n cr \r bell \x07 del \x7f",
    "ünïcödé ключ": "snow ☃ and 😀 and 中文",
    "a.dotted.key": True,
    "numbers": {"int": -42, "big": 2 ** 62, "float": 3.25, "exp": 1e300, "neg0": -0.0, "inf": float("inf"),
                "ninf": float("-inf")},
    "lists": {"empty": [], "mixed": [1, "two", 3.0, False, [4, [5]], {"inline": {"deep": "x"}}],
              "of_empty_tables": [{}, {}]},
    "dates": {"dt": datetime.datetime(1979, 5, 27, 7, 32, tzinfo=datetime.timezone.utc),
              "local": datetime.datetime(1979, 5, 27, 0, 32, 0, 999999), "day": datetime.date(2026, 1, 2),
              "time": datetime.time(7, 32, 1)},
    "projects": {"/abs/path with space": {"trust_level": "trusted"}, "C:\\win\\path": {}, "[x]": {"y": "z"}},
    "empty_table": {},
    "only_tables": {"inner": {"k": 1}},
    "servers": [{"name": "a", "env": {"K": "v"}, "more": [{"n": 1}, {"n": 2}]}, {"name": "b"}],
}


def test_toml_round_trip_on_tricky_keys_strings_and_unicode():
    text = S.dump_toml(TRICKY)
    assert tomllib.loads(text) == TRICKY
    assert '[projects."/abs/path with space"]' in text.splitlines()
    assert 'bare-key_1 = "plain"' in text.splitlines()
    assert S.dump_toml(tomllib.loads(text)) == text  # stable


def test_toml_nan_round_trips():
    import math

    assert math.isnan(tomllib.loads(S.dump_toml({"x": float("nan")}))["x"])


def test_a_user_file_round_trips_through_our_serializer():
    data = tomllib.loads(USER_TOML)
    assert tomllib.loads(S.dump_toml(data)) == data


@pytest.mark.parametrize("fmt,text,patch", [
    ("toml", USER_TOML, {"projects": {"/p": {"trust_level": "trusted"}}}),
    ("json", '{"b": 1, "projects": {"/p": {"x": 1}}}', {"hasCompletedOnboarding": True,
                                                        "projects": {"/p": {"hasTrustDialogAccepted": True}}}),
])
def test_a_second_run_changes_nothing_and_keeps_the_file_byte_for_byte(fmt, text, patch):
    first = S.apply(text, fmt, patch, "f")
    assert first.changed
    second = S.apply(first.after, fmt, patch, "f")
    assert not second.changed and second.after == first.after
    # A file that already holds the patch is left as it is, its layout and comments included.
    already = S.apply(USER_TOML, "toml", {"model": "gpt-5.5", "projects": {}}, "f")
    assert not already.changed and already.after == USER_TOML


def test_types_count_true_is_not_one():
    assert S.apply('{"a": 1}', "json", {"a": True}, "f").changed
    assert S.apply('{"a": 1}', "json", {"a": 1.0}, "f").changed
    assert not S.apply('{"a": true}', "json", {"a": True}, "f").changed


def test_json_keeps_the_users_key_order_and_appends_new_keys():
    text = json.dumps({"zeta": 1, "alpha": {"y": 1, "b": 2}, "mid": [3]}, indent=2)
    change = S.apply(text, "json", {"alpha": {"a": 0}, "new": "x"}, "f")
    assert change.after == json.dumps({"zeta": 1, "alpha": {"y": 1, "b": 2, "a": 0}, "mid": [3], "new": "x"},
                                      indent=2, ensure_ascii=False) + "\n"
    assert list(json.loads(change.after)) == ["zeta", "alpha", "mid", "new"]


def test_a_missing_or_empty_file_is_created_with_the_patch():
    created = S.apply(None, "json", {"a": {"b": True}}, "f")
    assert created.changed and created.before == "" and json.loads(created.after) == {"a": {"b": True}}
    assert S.apply("", "toml", {"a": 1}, "f").after == "a = 1\n"


@pytest.mark.parametrize("fmt,text,expected", [
    ("json", '{"a": 1,\n  "b": }', ["/home/u/.claude.json", "line 2, column 8", "nothing was written"]),
    ("json", "[1, 2]", ["/home/u/.claude.json", "not an object"]),
    ("toml", 'a = 1\n[t]\nb = "unterminated\n', ["/home/u/.claude.json", "line 3", "column", "fix or remove"]),
    ("toml", "a = 1\na = 2\n", ["/home/u/.claude.json", "line 2"]),
])
def test_malformed_input_names_the_file_the_place_and_the_fix(fmt, text, expected):
    with pytest.raises(S.SettingsError) as raised:
        S.apply(text, fmt, {"x": 1}, "/home/u/.claude.json")
    for part in expected:
        assert part in str(raised.value)


def test_toml_refuses_null_naming_the_key():
    with pytest.raises(S.SettingsError, match=r"projects\.\"/p\"\.x: TOML has no null"):
        S.apply(None, "toml", {"projects": {"/p": {"x": None}}}, "f")


def test_format_comes_from_the_extension_or_is_asked_for():
    assert S.format_of("/home/u/.claude.json") == "json"
    assert S.format_of("/home/u/.codex/config.TOML") == "toml"
    assert S.format_of("/home/u/settings", "toml") == "toml"
    with pytest.raises(S.SettingsError, match="give format"):
        S.format_of("/home/u.d/settings")


def test_without_tomllib_nor_tomli_the_error_names_the_fix(monkeypatch):
    import builtins

    real_import = builtins.__import__

    def no_toml(name, *args, **kwargs):
        if name in ("tomllib", "tomli"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_toml)
    with pytest.raises(S.SettingsError, match="pip install tomli"):
        S.apply("a = 1\n", "toml", {"b": 2}, "f")
