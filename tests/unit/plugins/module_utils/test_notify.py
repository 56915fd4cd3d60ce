"""Telling a person: the settings' checks, the cooldown, the event's shape, and sending to a real command and
a real HTTP receiver on loopback (failing first, to be retried)."""

from __future__ import annotations

import json
import os
import sys

import pytest
from webhook import Receiver

from ansible_collections.moana.orchestration.plugins.module_utils import _notify as N


@pytest.fixture
def receiver():
    made = []

    def make(statuses=()):
        made.append(Receiver(statuses))
        return made[-1]

    yield make
    for one in made:
        one.close()


@pytest.mark.parametrize("settings, word", [
    ({"sms": "x"}, "unknown key(s) sms"),
    ({"command": ""}, "command is a shell command"),
    ({"command": ["ok", 3]}, "command is a shell command"),
    ({"webhook": "ftp://x"}, "webhook is an http:// or https:// URL"),
    ({"webhook": "http://"}, "webhook is an http:// or https:// URL with a host"),
    ({"webhook": "https://hooks.invalid:port/x"}, "(and a port number, if any)"),
    ({"webhook": {"env": "ORCHESTRA_NOTIFY_WEBHOOK"}}, "webhook is an http"),  # the dispatcher's file's form only
    ({"cooldown": "soon"}, "cooldown is a number of seconds"),
    ({"timeout": 0}, "timeout must be positive"),
    ({"retries": "many"}, "retries is a whole number"),
    ({"events": ["stuck", "lunch"]}, "events is a list of task_failed"),
])
def test_settings_that_cannot_work_are_refused_naming_the_key(settings, word):
    with pytest.raises(N.NotifyError, match=word.replace("(", r"\(").replace(")", r"\)")):
        N.check(settings, "orchestration_notify")


def test_settings_get_their_defaults():
    out = N.check({"webhook": "https://example.invalid/x", "cooldown": "30"}, "notify")
    assert out["cooldown"] == 30.0 and out["timeout"] == 10.0 and out["retries"] == 3
    assert out["events"] == list(N.EVENTS) and out["command"] is None
    assert not N.enabled({}) and not N.enabled({"cooldown": 5}) and N.enabled(out)


def test_each_kind_goes_out_at_most_once_per_cooldown_and_counts_what_it_held_back():
    now = [100.0]
    cooldown = N.Cooldown(60, clock=lambda: now[0])
    assert cooldown.allow("stuck") == 0
    assert cooldown.allow("plan_complete") == 0  # another kind is not held back
    now[0] += 30
    assert cooldown.allow("stuck") is None and cooldown.allow("stuck") is None
    now[0] += 31
    assert cooldown.allow("stuck") == 2  # the two held back are counted in the next one
    assert cooldown.allow("stuck") is None


def test_an_event_names_its_kind_team_host_time_and_facts():
    data = N.event("stuck", "team-a", "codex looks stuck", 0.0, suppressed=2, agent="codex", task=None)
    assert data["event"] == "stuck" and data["team"] == "team-a" and data["agent"] == "codex"
    assert data["suppressed"] == 2 and "task" not in data and data["host"] and data["time"].startswith("19")


def test_the_command_gets_the_event_on_its_standard_input(tmp_path):
    out = tmp_path / "events.jsonl"
    assert N.run_command("cat >> '%s'" % out, b'{"event": "stuck"}\n', 5) == "command ok"
    assert json.loads(out.read_text()) == {"event": "stuck"}
    said = N.run_command([sys.executable, "-c", "import sys; print('no room'); sys.exit(3)"], b"{}", 5)
    assert said == "command exited 3: no room"
    assert N.run_command([sys.executable, "-c", "import time; time.sleep(5)"], b"{}", 0.3) == "command killed after 0.3 s"


def test_the_webhook_is_retried_on_a_5xx_and_a_429_and_not_on_a_4xx(receiver):
    pauses = []
    flaky = receiver([500, 429])
    assert N.post(flaky.url, b'{"event": "stuck"}', 5, 3, sleep=pauses.append) == "webhook HTTP 200"
    assert flaky.bodies == [{"event": "stuck"}] and pauses == [1, 2]
    refused = receiver([404])
    assert N.post(refused.url, b"{}", 5, 3, sleep=pauses.append) == "webhook HTTP 404"
    assert N.post("http://127.0.0.1:9/nothing", b"{}", 1, 1, sleep=lambda s: None).startswith("webhook unreachable")


def test_the_notifier_sends_on_its_thread_and_never_logs_the_webhook_address(receiver, tmp_path):
    hook, out, lines = receiver([503]), tmp_path / "events.jsonl", []
    notifier = N.Notifier({"webhook": hook.url, "command": "cat >> '%s'" % out, "cooldown": 60,
                           "events": ["stuck", "plan_complete"]}, "team-a", lines.append)
    assert notifier.emit("stuck", "codex looks stuck", agent="codex")
    assert not notifier.emit("stuck", "amp looks stuck", agent="amp")  # cooling down
    assert not notifier.emit("restarted", "amp restarted")  # not among the events asked for
    assert notifier.emit("plan_complete", "plan complete")
    notifier.close(10)
    assert [b["event"] for b in hook.bodies] == ["stuck", "plan_complete"]
    assert [json.loads(line)["agent"] for line in out.read_text().splitlines()[:1]] == ["codex"]
    assert any("stuck held back (cooldown)" in line for line in lines), lines
    assert any(line.startswith("notify: stuck sent (command ok; webhook HTTP 200)") for line in lines), lines
    assert not any("s3cret" in line or hook.url in line for line in lines), lines


def test_a_hidden_webhook_is_read_from_the_dispatchers_environment(receiver, monkeypatch):
    hook, lines = receiver([]), []
    settings = N.hidden(N.check({"webhook": hook.url}, "notify"))
    assert hook.url not in json.dumps(settings) and N.check(settings, "notify", hidden_webhook=True) == settings
    monkeypatch.setenv(N.WEBHOOK_VARIABLE, hook.url)
    notifier = N.Notifier(settings, "team-a", lines.append)
    assert N.WEBHOOK_VARIABLE not in os.environ  # taken: no process the dispatcher starts inherits it
    assert notifier.emit("stuck", "codex looks stuck")
    notifier.close(10)
    assert [b["event"] for b in hook.bodies] == ["stuck"]
    unset = N.Notifier(settings, "team-a", lines.append)  # nowhere to send: said once, nothing queued
    assert not unset.emit("stuck", "x") and unset.thread is None
    assert any("no webhook address in ORCHESTRA_NOTIFY_WEBHOOK" in line for line in lines), lines


def test_a_webhook_that_cannot_work_in_the_environment_is_said_and_the_command_still_gets_the_events(
        tmp_path, monkeypatch):
    out, lines = tmp_path / "events", []
    settings = N.hidden(N.check({"webhook": "http://x.invalid/", "command": "cat >> '%s'" % out}, "notify"))
    monkeypatch.setenv(N.WEBHOOK_VARIABLE, "http://:80/s3cret")
    notifier = N.Notifier(settings, "team-a", lines.append)
    assert notifier.webhook is None and notifier.emit("stuck", "codex looks stuck")
    notifier.close(10)
    assert "the webhook is not an http(s) URL with a host" in lines[0] and "s3cret" not in "".join(lines)
    assert json.loads(out.read_text())["event"] == "stuck"


def test_an_event_that_fails_to_go_out_is_logged_and_the_next_ones_still_go(receiver, monkeypatch):
    hook, lines = receiver([]), []
    notifier = N.Notifier({"webhook": hook.url}, "team-a", lines.append)
    real_post = N.post

    def post_failing_once(url, *args):
        monkeypatch.setattr(N, "post", real_post)
        raise RuntimeError("refused by %s" % url)

    monkeypatch.setattr(N, "post", post_failing_once)
    assert notifier.emit("stuck", "codex looks stuck") and notifier.emit("limited", "amp is limited")
    notifier.close(10)
    assert lines[0] == "notify: stuck not sent (RuntimeError): codex looks stuck", lines
    assert [b["event"] for b in hook.bodies] == ["limited"] and hook.url not in "".join(lines)


def test_without_a_command_or_webhook_nothing_is_sent():
    notifier = N.Notifier({}, "team", print)
    assert not notifier.emit("stuck", "x") and notifier.thread is None
