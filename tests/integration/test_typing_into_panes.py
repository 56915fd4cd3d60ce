"""Typing into real tmux panes: a prompt-reading program must receive exactly one clean submission."""

from __future__ import annotations

import json
import sys
import threading
import time
import uuid

import pytest

from conftest import REPO, wait_for
from ansible_collections.moana.orchestration.plugins.module_utils import _agents as A
from ansible_collections.moana.orchestration.plugins.module_utils import _delivery as D
from ansible_collections.moana.orchestration.plugins.module_utils import _tmux as T

READER = str(REPO / "tests" / "integration" / "programs" / "line_reader.py")


@pytest.fixture
def reader(tmux, tmp_path):
    """A pane running line_reader.py; returns (client, pane id, submissions file, busy file)."""
    out, busy = tmp_path / "received.jsonl", tmp_path / "busy"
    tmux("new-session", "-d", "-s", "agent", "-x", "100", "-y", "30", "-c", str(tmp_path),
         "%s %s %s %s" % (sys.executable, READER, out, busy))
    client = T.Client(socket_name=tmux.socket_name)
    pane_id = tmux("display-message", "-p", "-t", "=agent:", "#{pane_id}").strip()
    wait_for(lambda: prompt_shown(client, pane_id), 5, "the reader's prompt")
    return client, pane_id, out, busy


def screen(client, pane_id) -> str:
    return "\n".join(client.cmd("capture-pane", "-p", "-t", pane_id).stdout)


def prompt_shown(client, pane_id) -> bool:
    """The reader is idle: its last line is its prompt (not "working N")."""
    lines = [line for line in screen(client, pane_id).splitlines() if line.strip()]
    return bool(lines) and lines[-1].strip() == ">"


def received(client, pane_id, path, timeout=10.0) -> list[dict]:
    """Every submission the reader took before a marker typed now into the same pane.

    A delivery has sent all its keys when it returns, and a pane's input
    arrives in order, so anything more it typed (a second submission, text
    left on the input line) reaches the reader before the marker does: waiting
    for the marker proves there was nothing more, without sleeping.
    """
    marker = "marker-%s" % uuid.uuid4().hex[:8]
    client.cmd("send-keys", "-t", pane_id, "-l", marker)
    client.cmd("send-keys", "-t", pane_id, "Enter")

    def records():
        lines = path.read_text().splitlines() if path.exists() else []
        return [json.loads(line) for line in lines] if any(marker in line for line in lines) else None

    submissions = wait_for(records, timeout, "the marker's submission",
                           lambda: "submissions: %s\nscreen:\n%s" % (
                               path.read_text() if path.exists() else "none", screen(client, pane_id)))
    assert submissions[-1] == {"text": marker, "while_busy": False, "stray": []}, submissions
    return submissions[:-1]


@pytest.mark.parametrize("text", [
    "hello world",
    "quotes ' and \" ; $(touch /tmp/pwned) `id` && echo; -n --flag \\;",
    "ends with a semicolon;",
    "-starts with a dash",
    "ünïcödé → ❯ 日本",
])
def test_single_line_arrives_verbatim_as_one_submission(reader, text):
    client, pane_id, out, dummy = reader
    result = D.deliver(client, pane_id, text, "generic", submit_delay=0.05)
    assert result["status"] == "delivered", result
    assert result["method"] == "keys"
    assert received(client, pane_id, out) == [{"text": text, "while_busy": False, "stray": []}]


def test_multi_line_text_is_pasted_and_submitted_once(reader):
    client, pane_id, out, dummy = reader
    text = "first line\n  indented; $(x)\n\nlast line"
    result = D.deliver(client, pane_id, text, "generic", submit_delay=0.05)
    assert result["method"] == "paste" and result["status"] == "delivered"
    assert received(client, pane_id, out) == [{"text": text, "while_busy": False, "stray": []}]


def test_ten_kilobytes_arrive_whole(reader):
    client, pane_id, out, dummy = reader
    text = "\n".join("line %04d %s" % (n, "x;y$z'" * 10) for n in range(150))
    assert len(text.encode()) > 10_000
    result = D.deliver(client, pane_id, text, "generic", submit_delay=0.2)
    assert result["status"] == "delivered", result
    assert received(client, pane_id, out) == [{"text": text, "while_busy": False, "stray": []}]


def test_escape_sequences_and_control_bytes_never_arrive(reader):
    client, pane_id, out, dummy = reader
    hostile = "a\x1b[31mred\x1b[0m\x07b\x1b]0;title\x07c\x1b[201~d\x03\x04e\x1bPdcs\x1b\\f\x7f"
    result = D.deliver(client, pane_id, hostile, "generic", submit_delay=0.05)
    assert result["status"] == "delivered"
    assert received(client, pane_id, out) == [{"text": "aredbcdef", "while_busy": False, "stray": []}]


def test_a_busy_agent_gets_the_text_once_idle_and_not_before(reader):
    client, pane_id, out, busy = reader
    busy.write_text("")
    threading.Timer(1.0, busy.unlink).start()
    started = time.monotonic()
    result = D.deliver(client, pane_id, "after work", "generic", submit_delay=0.05, wait_timeout=10)
    assert result["status"] == "delivered"
    assert time.monotonic() - started >= 1.0
    assert received(client, pane_id, out) == [{"text": "after work", "while_busy": False, "stray": []}]


def test_an_agent_busy_past_the_timeout_is_left_alone(reader, tmp_path):
    client, pane_id, out, busy = reader
    busy.write_text("")
    result = D.deliver(client, pane_id, "too early", "generic", wait_timeout=0.8)
    assert result["status"] == "queued" and result["state"] == "busy"
    busy.unlink()
    wait_for(lambda: prompt_shown(client, pane_id), 5, "the reader's prompt once it is no longer busy")
    assert received(client, pane_id, out) == []  # nothing came before the marker: not even on the input line
    assert "too early" not in screen(client, pane_id)


def test_a_pane_in_copy_mode_is_taken_out_of_it_first(reader, tmux):
    client, pane_id, out, dummy = reader
    tmux("copy-mode", "-t", pane_id)
    assert T.read_screen(client, pane_id).in_mode
    result = D.deliver(client, pane_id, "from copy mode", "generic", submit_delay=0.05)
    assert result["status"] == "delivered"
    assert not T.read_screen(client, pane_id).in_mode
    assert received(client, pane_id, out) == [{"text": "from copy mode", "while_busy": False, "stray": []}]


def test_text_that_is_never_submitted_is_reported_as_failed(tmux, tmp_path):
    # A program that echoes but ignores the submit key: the text stays on the input line.
    tmux("new-session", "-d", "-s", "deaf", "-x", "80", "-y", "10",
         "%s -c \"import tty,sys,os; tty.setraw(0); os.write(1,b'> ');"
         " [os.write(1, c) for c in iter(lambda: os.read(0, 1), b'') if c not in b'\\r\\n']\"" % sys.executable)
    client = T.Client(socket_name=tmux.socket_name)
    pane_id = tmux("display-message", "-p", "-t", "=deaf:", "#{pane_id}").strip()
    wait_for(lambda: ">" in screen(client, pane_id), 5, "the deaf program's prompt")
    result = D.deliver(client, pane_id, "stuck", "generic", submit_delay=0.05, retries=1)
    assert result["status"] == "failed" and result["attempts"] == 2
    assert "still on the input line" in result["message"]


def test_dead_pane_reads_dead_and_a_shell_left_behind_reads_dead(tmux, tmp_path):
    tmux("new-session", "-d", "-s", "s", "-x", "80", "-y", "10", "sleep 30")
    tmux("set-option", "-w", "-t", "=s:", "remain-on-exit", "on")
    tmux("split-window", "-t", "=s:", "true")
    tmux("split-window", "-t", "=s:", "bash --norc --noprofile -i")
    client = T.Client(socket_name=tmux.socket_name)
    panes = tmux("list-panes", "-t", "=s:", "-F", "#{pane_id}").split()
    # The middle pane's program has ended; the last one's shell is up and showing its prompt.
    wait_for(lambda: tmux("list-panes", "-t", "=s:", "-F", "#{pane_dead}#{pane_current_command}").split()[1:] == [
        "1true", "0bash"] and screen(client, panes[2]).strip(), 5, "the panes' programs to settle")
    states = [A.observe(client, pane, "claude")[0] for pane in panes]
    assert states[1:] == ["dead", "dead"]
    assert states[0] == "starting"  # sleep shows nothing a claude screen would, and is young


def test_several_screens_read_in_one_call_match_one_by_one_reads(tmux):
    tmux("new-session", "-d", "-s", "s", "-x", "60", "-y", "8", "printf 'one\\ntwo'; sleep 30")
    tmux("split-window", "-t", "=s:", "printf 'three'; sleep 30")
    client = T.Client(socket_name=tmux.socket_name)
    panes = tmux("list-panes", "-t", "=s:", "-F", "#{pane_id}").split()
    wait_for(lambda: screen(client, panes[0]).startswith("one\ntwo") and screen(client, panes[1]).startswith("three"),
             5, "both panes' text")
    together = T.read_screens(client, panes + ["%999"])
    assert sorted(together) == sorted(panes)
    for pane_id in panes:
        alone = T.read_screen(client, pane_id)
        assert together[pane_id].lines == alone.lines and together[pane_id].facts == alone.facts
    assert together[panes[0]].lines[:2] == ["one", "two"]


def test_tmux_send_through_a_playbook_delivers_queues_and_checks(reader, tmux, playbook, tmp_path):
    client, pane_id, out, busy = reader
    tmux("set-option", "-p", "-t", pane_id, "@moana_pane", "helper")
    queue = tmp_path / "queue"

    def send(extra: dict, *args):
        task = dict({"session": "agent", "socket_name": tmux.socket_name, "submit_delay": 0.05}, **extra)
        return playbook([{"hosts": "localhost", "gather_facts": False,
                          "tasks": [{"name": "send", "moana.orchestration.tmux_send": task}]}], *args)

    checked = send({"pane": "helper", "text": "not yet"}, "--check")
    assert checked.returncode == 0 and checked.result("send")["status"] == "would_deliver"
    sent = send({"messages": [{"pane": "helper", "text": "from ansible; $(x)", "submit_delay": 0.05}]})
    assert sent.returncode == 0, sent.stdout
    assert sent.result("send")["results"][0]["status"] == "delivered"
    assert [r["text"] for r in received(client, pane_id, out)] == ["from ansible; $(x)"]  # the check run typed nothing

    busy.write_text("")
    queued = send({"pane": "helper", "text": "later", "wait_timeout": 1, "queue_dir": str(queue)})
    assert queued.returncode == 0 and queued.result("send")["status"] == "queued"
    assert [p.read_text() for p in sorted((queue / "helper").iterdir())] == ["later"]
    refused = send({"pane": "helper", "text": "later", "wait_timeout": 1})
    assert refused.returncode != 0 and "not idle" in refused.result("send")["msg"]
    missing = send({"pane": "nobody", "text": "x"})
    assert missing.returncode != 0 and "no pane 'nobody' in session 'agent'" in missing.result("send")["msg"]
