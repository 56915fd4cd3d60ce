# -*- coding: utf-8 -*-
# Copyright: (c) 2026, Moana Orchestration maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Telling a person: the team's events sent to a command and/or a webhook.

The dispatcher calls ``Notifier.emit`` when something needs a person or is
worth knowing (a task failed, an agent waits on a dialog, is stuck, is limited,
was restarted, the plan is complete). Each kind of event goes out at most once
per cooldown; the ones held back are counted in the next one (``suppressed``).
Sending happens on a thread of its own, so a slow receiver never holds the
dispatcher's loop: the command gets the event as JSON on its standard input
(killed after the timeout), the webhook a JSON POST (with the timeout, retried
with a doubling pause on a connection error, a 429 or a 5xx). The log names
the event and the outcome, never the webhook's address (it often holds a
token). That address is a secret: the dispatcher's configuration file says
only where it is (``hidden``: its ``WEBHOOK_VARIABLE``), the dispatcher's
environment holds it. ``event`` and ``Cooldown`` are pure. Standard library only.
"""

from __future__ import annotations

import json
import os
import queue
import socket
import threading
import time

EVENTS = ("task_failed", "waiting", "stuck", "limited", "restarted", "plan_complete")
DEFAULTS = {"command": None, "webhook": None, "cooldown": 600.0, "timeout": 10.0, "retries": 3, "events": list(EVENTS)}
# The dispatcher's variable that holds the webhook's address, which its configuration file leaves out
# (the role's start sets it).
WEBHOOK_VARIABLE = "ORCHESTRA_NOTIFY_WEBHOOK"


class NotifyError(ValueError):
    """The notification settings cannot work; the message names the key."""


def check(settings: dict | None, where: str, hidden_webhook: bool = False) -> dict:
    """The settings with their defaults; raise NotifyError naming the key when they cannot work.
    ``hidden_webhook``: the dispatcher's file, whose webhook says where its address is (``hidden``)."""
    settings = dict(settings or {})
    unknown = sorted(set(settings) - set(DEFAULTS))
    if unknown:
        raise NotifyError("%s: unknown key(s) %s (known: %s)" % (where, ", ".join(unknown), ", ".join(DEFAULTS)))
    out = {**DEFAULTS, **{k: v for k, v in settings.items() if v is not None}}
    command = out["command"]
    if command is not None and not (isinstance(command, str) and command.strip()
                                    or isinstance(command, list) and command and all(isinstance(a, str) for a in command)):
        raise NotifyError("%s: command is a shell command (a string) or a list of arguments" % where)
    webhook = out["webhook"]
    if webhook is not None and not (hidden_webhook and webhook == {"env": WEBHOOK_VARIABLE} or url_works(webhook)):
        # The address itself is never quoted: it is a secret.
        raise NotifyError("%s: webhook is an http:// or https:// URL with a host (and a port number, if any)" % where)
    for key in ("cooldown", "timeout"):
        try:
            out[key] = float(out[key])
        except (TypeError, ValueError):
            raise NotifyError("%s: %s is a number of seconds, not %r" % (where, key, out[key])) from None
        if out[key] < 0 or (key == "timeout" and out[key] == 0):
            raise NotifyError("%s: %s must be %s" % (where, key, "positive" if key == "timeout" else "0 or more"))
    try:
        out["retries"] = int(out["retries"])
    except (TypeError, ValueError):
        raise NotifyError("%s: retries is a whole number, not %r" % (where, out["retries"])) from None
    events = out["events"]
    if not isinstance(events, list) or not set(events) <= set(EVENTS):
        raise NotifyError("%s: events is a list of %s" % (where, ", ".join(EVENTS)))
    return out


def url_works(url) -> bool:
    import urllib.parse  # here, not above: the dispatcher's loop never needs it
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        return False
    try:
        parts = urllib.parse.urlsplit(url)
        return bool(parts.hostname) and (parts.port is None or parts.port > 0)
    except ValueError:  # a port that is not a number
        return False


def hidden(settings: dict) -> dict:
    """Checked settings as the dispatcher's file holds them: the webhook's address left to its environment."""
    return {**settings, "webhook": {"env": WEBHOOK_VARIABLE}} if settings.get("webhook") else settings


def webhook_of(settings: dict, environ=None) -> str | None:
    """The address to post to: given, or taken out of the dispatcher's environment (``hidden``; ``environ``,
    os.environ unless given), so that no process it starts (tmux, the command) inherits it."""
    environ = os.environ if environ is None else environ
    webhook = settings.get("webhook")
    if isinstance(webhook, dict):
        return environ.pop(webhook["env"], None) or None
    return webhook


def enabled(settings: dict | None) -> bool:
    return bool(settings and (settings.get("command") or settings.get("webhook")))


def event(kind: str, team: str, text: str, when: float, suppressed: int = 0, **fields) -> dict:
    """One event as it is sent: its kind, the team and host, when, a sentence, and the facts given."""
    data = {"event": kind, "team": team, "host": socket.gethostname(),
            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z", time.localtime(when)), "text": text}
    data.update({k: v for k, v in fields.items() if v is not None})
    if suppressed:
        data["suppressed"] = suppressed  # events of this kind held back by the cooldown since the last one
    return data


class Cooldown:
    """Each kind at most once per ``seconds``; counts what it held back."""

    def __init__(self, seconds: float, clock=time.monotonic):
        self.seconds, self.clock = seconds, clock
        self.last: dict[str, float] = {}
        self.held: dict[str, int] = {}

    def allow(self, kind: str) -> int | None:
        """None when ``kind`` is cooling down (counted); else how many were held back since the last one."""
        now = self.clock()
        if kind in self.last and now - self.last[kind] < self.seconds:
            self.held[kind] = self.held.get(kind, 0) + 1
            return None
        self.last[kind] = now
        return self.held.pop(kind, 0)


def run_command(command, data: bytes, timeout: float) -> str:
    """Run the command with the event on its standard input; returns how it went."""
    import subprocess  # here, not above: the team module checks the settings without paying for it
    try:
        done = subprocess.run(command, input=data, shell=isinstance(command, str), timeout=timeout, check=False,
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    except subprocess.TimeoutExpired:
        return "command killed after %g s" % timeout
    except OSError as exc:
        return "command did not run: %s" % exc
    if done.returncode:
        return "command exited %d: %s" % (done.returncode, done.stdout.decode("utf-8", "replace").strip()[:300])
    return "command ok"


def post(url: str, data: bytes, timeout: float, retries: int, sleep=time.sleep) -> str:
    """POST the event; retry a connection error, a 429 or a 5xx, pausing 1 s, 2 s, 4 s..."""
    # http.client, not urllib: a plain POST with a timeout, on the target's standard library alone.
    import http.client  # here, not above: the team module checks the settings without paying for it
    import urllib.parse

    parts = urllib.parse.urlsplit(url)
    kind = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    outcome = ""
    for attempt in range(retries + 1):
        if attempt:
            sleep(2 ** (attempt - 1))
        connection = kind(parts.hostname, parts.port, timeout=timeout)
        try:
            connection.request("POST", target, body=data, headers={"Content-Type": "application/json",
                                                                   "User-Agent": "moana-orchestra"})
            status = connection.getresponse().status
        except (OSError, http.client.HTTPException) as exc:
            outcome = "webhook unreachable (%s)" % (exc.__class__.__name__ if not str(exc) else exc)
            continue
        finally:
            connection.close()
        outcome = "webhook HTTP %d" % status
        if status < 300 or (status != 429 and status < 500):
            return outcome
    return "%s after %d attempt(s)" % (outcome, retries + 1)


class Notifier:
    """Events to the configured command and webhook, each kind at most once per cooldown, sent on a thread."""

    def __init__(self, settings: dict | None, team: str, log, clock=time.monotonic, wall_clock=time.time):
        self.settings = check(settings, "notify", hidden_webhook=True) if settings else None
        self.webhook = webhook_of(self.settings) if self.settings else None
        if self.settings and self.settings["webhook"] and not url_works(self.webhook):
            log("notify: %s in %s; events go to the command only" % (
                "no webhook address" if not self.webhook else "the webhook is not an http(s) URL with a host",
                WEBHOOK_VARIABLE))
            self.webhook = None
        self.team, self.log, self.wall_clock = team, log, wall_clock
        self.cooldown = Cooldown(self.settings["cooldown"] if self.settings else 0.0, clock)
        self.queue: queue.Queue = queue.Queue()
        self.thread: threading.Thread | None = None

    def emit(self, kind: str, text: str, **fields) -> bool:
        """Send one event unless it is not wanted or cooling down; True when it went to be sent."""
        if not self.settings or not (self.settings["command"] or self.webhook) or kind not in self.settings["events"]:
            return False
        held = self.cooldown.allow(kind)
        if held is None:
            self.log("notify: %s held back (cooldown): %s" % (kind, text))
            return False
        self.queue.put(event(kind, self.team, text, self.wall_clock(), held, **fields))
        if self.thread is None:
            self.thread = threading.Thread(target=self._send_all, name="notify", daemon=True)
            self.thread.start()
        return True

    def _send_all(self) -> None:
        while True:
            data = self.queue.get()
            if data is None:
                return
            try:
                self.log("notify: %s sent (%s): %s" % (data["event"], "; ".join(self._send(data)), data["text"]))
            except Exception as exc:  # pylint: disable=broad-except  # the next events must still go out
                # The class only: a message could quote the webhook's address.
                self.log("notify: %s not sent (%s): %s" % (data["event"], exc.__class__.__name__, data["text"]))

    def _send(self, data: dict) -> list:
        body = json.dumps(data, sort_keys=True).encode("utf-8")
        outcomes = []
        if self.settings["command"]:
            outcomes.append(run_command(self.settings["command"], body + b"\n", self.settings["timeout"]))
        if self.webhook:
            outcomes.append(post(self.webhook, body, self.settings["timeout"], self.settings["retries"]))
        return outcomes

    def close(self, timeout: float = 5.0) -> None:
        """Let what was emitted go out (up to ``timeout``), then stop the thread."""
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join(timeout)
