"""Test program: a scripted model server for the real agent CLIs, on loopback.

Usage: model_server.py --port N --scenario FILE --log FILE [--host 127.0.0.1]

``--port 0`` picks a free port; the first line printed is ``listening on PORT``.
It speaks what Claude Code and Codex ask of a model service:

- Anthropic Messages API: ``POST /v1/messages`` (``?beta=true`` too), streamed
  (SSE) or not; ``HEAD /`` and ``GET /``; ``GET /health`` answers as
  antigravity-claude-proxy does (``{"status": "ok", "counts": {"available": 1}}``),
  so the same server stands in for the team's proxy.
- OpenAI Responses API: ``POST /v1/responses`` (streamed) and ``GET /v1/models``.

Agents are told apart by a path prefix: ``/agent/NAME/v1/messages`` is agent
NAME's request. Claude Code gets it from ``ANTHROPIC_BASE_URL=http://HOST:PORT/agent/NAME``,
Codex from its provider's ``base_url = "http://HOST:PORT/agent/NAME/v1"``. A
request without the prefix is agent ``""``.

The scenario (JSON, read again when the file changes)::

    {"default": {"text": "Done."},
     "untooled": {"text": "Title"},
     "rules": [{"agent": "alice", "api": "anthropic", "match": "make (\\\\w+)", "times": 1,
                "replies": [{"command": "touch made"}, {"text": "Made it."}]}]}

A rule applies to a request whose latest real user text (the prompt or a
notice typed into the agent, not a tool result nor a ``<system-reminder>``-like
wrapped block) matches ``match`` (a regular expression, searched; absent: any
text), from ``agent`` (absent or ``"*"``: any) over ``api`` (``anthropic`` or
``openai``; absent: both). The first rule that applies and has fired fewer
than ``times`` (absent: no limit) is chosen when that text is new; its
``replies`` answer the model turns that follow it, one each: the first reply
answers the text, the second answers the request after the first reply's tool
ran, and so on; past the list, and when no rule applies, ``default`` answers.
The position is the number of assistant turns since that user text (plus the
errors already served for it), never "the last message is a tool result":
Claude Code may append a message after a tool result. A reply (``reply``
stands for a one-element ``replies``) is one of:

- ``{"command": "SHELL", "description": "..."}``: a shell tool call (Claude's
  ``Bash``; Codex's ``exec_command``, or ``shell`` if that is what it offers);
- ``{"tool": "NAME", "input": {...}}``: any other tool call, as given;
- ``{"text": "..."}``: a final answer;
- ``{"error": {"status": 429, "type": "rate_limit_error", "message": "...", "in_stream": false}}``:
  an HTTP error (``type`` defaults from the status: 429 rate_limit_error, 529
  overloaded_error, else api_error) or, with ``in_stream``, a stream that
  starts and then fails (Anthropic ``event: error``, OpenAI ``response.failed``).
  An error answers one request and moves to the next reply, so a client's retry
  gets it. ``"headers": {...}`` adds response headers to an HTTP error
  (``retry-after``, ``x-should-retry: false``, a vendor's rate-limit headers), and
  ``"fields": {...}`` more keys to the error object (``resets_at``).

and may carry ``"delay": SECONDS`` (before anything is sent). In a reply's
strings ``\\g<1>`` (or ``\\g<name>``) stands for a group of the rule's match,
so a reply can act on the text it answers (``orchestra task start \\g<1>``). A request with
no shell tool (Claude Code's title request) gets ``untooled`` (default: a
short text) and never consumes a rule.

Every request is logged as one JSON line (see ``log_entry``): time, agent,
api, method, path, model, the latest user text, the number of assistant turns
since it, the rule index and the reply.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import re
import sys
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

AGENT_PATH = re.compile(r"^/agent/([^/?]+)(.*)$")
WRAPPED = re.compile(r"^<([A-Za-z_][\w-]*)[^>]*>.*</\1>$", re.S)
CONTEXT_PREFIXES = ("# AGENTS.md instructions",)
SHELL_TOOLS = ("Bash", "exec_command", "shell")
DEFAULT_REPLY = {"text": "Done."}
UNTOOLED_REPLY = {"text": "Scripted session"}
ERROR_TYPES = {400: "invalid_request_error", 401: "authentication_error", 429: "rate_limit_error", 529: "overloaded_error"}
HEALTH = {"status": "ok", "counts": {"available": 1}}


class ScenarioError(ValueError):
    pass


# Scenario ----------------------------------------------------------------------------------------------


def _check_reply(reply, where: str) -> dict:
    if not isinstance(reply, dict):
        raise ScenarioError("%s: a reply is an object, not %r" % (where, reply))
    kinds = [key for key in ("command", "tool", "text", "error") if key in reply]
    if len(kinds) != 1:
        raise ScenarioError("%s: a reply has exactly one of command, tool, text, error; got %s" % (where, sorted(reply)))
    if kinds[0] == "error":
        error = reply["error"]
        if not isinstance(error, dict) or not isinstance(error.get("status", 500), int):
            raise ScenarioError("%s: error is an object with an integer status" % where)
        if not isinstance(error.get("headers", {}), dict):
            raise ScenarioError("%s: an error's headers are an object (name: value)" % where)
    elif kinds[0] == "tool" and not isinstance(reply.get("input", {}), dict):
        raise ScenarioError("%s: a tool call's input is an object" % where)
    elif kinds[0] != "tool" and not isinstance(reply[kinds[0]], str):
        raise ScenarioError("%s: %s is a string" % (where, kinds[0]))
    if not isinstance(reply.get("delay", 0), (int, float)):
        raise ScenarioError("%s: delay is a number of seconds" % where)
    return reply


def parse_scenario(data: dict) -> dict:
    """Check a scenario and compile its expressions; raise ScenarioError naming what is wrong."""
    if not isinstance(data, dict):
        raise ScenarioError("a scenario is a JSON object")
    unknown = set(data) - {"default", "untooled", "rules", "health"}
    if unknown:
        raise ScenarioError("unknown scenario keys: %s" % ", ".join(sorted(unknown)))
    rules = []
    for index, rule in enumerate(data.get("rules", [])):
        where = "rule %d" % index
        if not isinstance(rule, dict):
            raise ScenarioError("%s: a rule is an object" % where)
        unknown = set(rule) - {"agent", "api", "match", "reply", "replies", "times", "name"}
        if unknown:
            raise ScenarioError("%s: unknown keys %s" % (where, ", ".join(sorted(unknown))))
        if ("reply" in rule) == ("replies" in rule):
            raise ScenarioError("%s: give reply or replies" % where)
        replies = [rule["reply"]] if "reply" in rule else rule["replies"]
        if not isinstance(replies, list) or not replies:
            raise ScenarioError("%s: replies is a non-empty list" % where)
        if rule.get("api") not in (None, "anthropic", "openai"):
            raise ScenarioError("%s: api is anthropic or openai" % where)
        times = rule.get("times")
        if times is not None and (not isinstance(times, int) or times < 1):
            raise ScenarioError("%s: times is a positive integer" % where)
        try:
            pattern = re.compile(rule.get("match", ""), re.S)
        except re.error as exc:
            raise ScenarioError("%s: match is not a regular expression: %s" % (where, exc)) from None
        rules.append({"index": index, "name": rule.get("name", "rule %d" % index), "agent": rule.get("agent"),
                      "api": rule.get("api"), "pattern": pattern, "times": times,
                      "replies": [_check_reply(reply, "%s reply %d" % (where, n)) for n, reply in enumerate(replies)]})
    return {"rules": rules,
            "default": _check_reply(data.get("default", DEFAULT_REPLY), "default"),
            "untooled": _check_reply(data.get("untooled", UNTOOLED_REPLY), "untooled"),
            "health": data.get("health", HEALTH)}


# Requests ----------------------------------------------------------------------------------------------


def split_agent(path: str) -> tuple[str, str]:
    """``/agent/NAME/v1/messages?beta=true`` -> ("NAME", "/v1/messages"); the query is dropped."""
    match = AGENT_PATH.match(path)
    agent, rest = (match.group(1), match.group(2) or "/") if match else ("", path)
    return agent, rest.split("?", 1)[0] or "/"


def is_context(text: str) -> bool:
    """A block the CLI adds around the user's words (``<system-reminder>``, ``<environment_context>``...)."""
    text = text.strip()
    return not text or bool(WRAPPED.match(text)) or text.startswith(CONTEXT_PREFIXES)


def _texts(content, kinds) -> list[str]:
    if isinstance(content, str):
        return [content]
    if not isinstance(content, list):
        return []
    return [block.get("text", "") for block in content if isinstance(block, dict) and block.get("type") in kinds]


def conversation(api: str, body: dict) -> tuple[str, int, int]:
    """The latest real user text, the assistant turns since it, and how many real user texts there are.

    Anthropic: user messages' ``text`` blocks (tool results are not user text);
    an assistant turn is an assistant message. OpenAI Responses: ``message``
    items of role user, ``input_text`` parts; an assistant turn is an assistant
    message or a ``*_call`` item (function_call, local_shell_call...).
    """
    if api == "anthropic":
        items = body.get("messages") or []
        kinds = ("text",)

        def is_turn(item):
            return item.get("role") == "assistant"
    else:
        items = body.get("input") or []
        if isinstance(items, str):
            return items, 0, 1
        kinds = ("input_text", "text")

        def is_turn(item):
            kind = item.get("type", "message")
            return (kind == "message" and item.get("role") == "assistant") or (kind.endswith("_call") and kind != "message")
    latest, count, position = "", 0, -1
    for index, item in enumerate(items):
        if not isinstance(item, dict) or item.get("role") != "user" or item.get("type", "message") != "message":
            continue
        real = [text for text in _texts(item.get("content"), kinds) if not is_context(text)]
        if real:
            latest, count, position = "\n".join(real), count + 1, index
    turns = sum(1 for item in items[position + 1:] if isinstance(item, dict) and is_turn(item))
    return latest, turns, count


def tool_names(api: str, body: dict) -> list[str]:
    names = []
    for tool in body.get("tools") or []:
        if isinstance(tool, dict):
            names.append(tool.get("name") or (tool.get("function") or {}).get("name") or tool.get("type", ""))
    return names


class Script:
    """The scenario's state: which rule answers which user text, how often each fired, errors served."""

    def __init__(self, scenario: dict):
        self.scenario = scenario
        self.fired = {}
        self.threads = {}
        self.lock = threading.Lock()

    def replace(self, scenario: dict) -> None:
        with self.lock:
            self.scenario = scenario

    def choose(self, agent: str, api: str, text: str, turns: int, prompts: int, tools: list[str]) -> tuple[dict | None, dict, int]:
        """The rule (or None) and the reply for this request, and its position in the rule's replies."""
        with self.lock:
            scenario = self.scenario
            if not any(name in SHELL_TOOLS for name in tools):
                return None, scenario["untooled"], 0
            key = (agent, api, prompts, text)
            thread = self.threads.get(key)
            # A new text, or the same text asked again from the start (a new conversation): choose afresh.
            # A retry after an error at the start keeps its thread.
            if thread is None or (turns == 0 and not thread["last_error"]) or turns < thread["turns"]:
                rule = next((r for r in scenario["rules"] if self._applies(r, agent, api, text)), None)
                found = None
                if rule is not None:
                    self.fired[rule["index"]] = self.fired.get(rule["index"], 0) + 1
                    found = rule["pattern"].search(text)
                thread = self.threads[key] = {"rule": rule, "errors": 0, "last_error": False, "turns": turns,
                                              "match": found}
            rule = thread["rule"]
            position = turns + thread["errors"]
            if rule is not None and position < len(rule["replies"]):
                reply = expand(rule["replies"][position], thread["match"])
            else:
                reply = scenario["default"]
            thread["last_error"] = "error" in reply
            thread["errors"] += "error" in reply
            thread["turns"] = turns
            return rule, reply, position

    def _applies(self, rule: dict, agent: str, api: str, text: str) -> bool:
        if rule["agent"] not in (None, "*", agent) or rule["api"] not in (None, api):
            return False
        if rule["times"] is not None and self.fired.get(rule["index"], 0) >= rule["times"]:
            return False
        return bool(rule["pattern"].search(text))


GROUP = re.compile(r"\\g<(\w+)>")


def expand(reply: dict, found) -> dict:
    """The reply with ``\\g<N>`` / ``\\g<name>`` in its strings replaced by the rule's match groups, so a
    reply can act on what the text said (the task id in a notice). Nothing else is interpreted."""
    if found is None:
        return reply

    def group(ref):
        name = ref.group(1)
        return found.group(int(name) if name.isdigit() else name) or ""

    return {key: GROUP.sub(group, value) if isinstance(value, str) else value for key, value in reply.items()}


# Replies -----------------------------------------------------------------------------------------------


def error_body(api: str, error: dict) -> tuple[int, dict]:
    status = error.get("status", 500)
    kind = error.get("type") or ERROR_TYPES.get(status, "api_error")
    message = error.get("message", "scripted %s" % kind)
    fields = error.get("fields") or {}  # more of the vendor's error object (Codex reads resets_at from it)
    if api == "anthropic":
        return status, {"type": "error", "error": dict({"type": kind, "message": message}, **fields)}
    return status, {"error": dict({"type": kind, "code": kind, "message": message, "param": None}, **fields)}


def sse(events: list[tuple[str, dict]]) -> bytes:
    """Server-sent events: an ``event:`` and a ``data:`` line each, a blank line after."""
    return b"".join(("event: %s\ndata: %s\n\n" % (name, json.dumps(data))).encode() for name, data in events)


def _shell_input(api: str, reply: dict, tools: list[str]) -> tuple[str, dict]:
    if api == "anthropic":
        return "Bash", {"command": reply["command"], "description": reply.get("description", "Run a command")}
    if "exec_command" not in tools and "shell" in tools:
        return "shell", {"command": ["bash", "-lc", reply["command"]]}
    return "exec_command", {"cmd": reply["command"]}


def anthropic_content(reply: dict, tools: list[str], call_id: str) -> dict:
    if "text" in reply:
        return {"type": "text", "text": reply["text"]}
    name, arguments = (reply["tool"], reply.get("input", {})) if "tool" in reply else _shell_input("anthropic", reply, tools)
    return {"type": "tool_use", "id": call_id, "name": name, "input": arguments}


def anthropic_message(reply: dict, model: str, tools: list[str], message_id: str, call_id: str) -> dict:
    """The non-streamed Messages API answer."""
    block = anthropic_content(reply, tools, call_id)
    return {"id": message_id, "type": "message", "role": "assistant", "model": model, "content": [block],
            "stop_reason": "tool_use" if block["type"] == "tool_use" else "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 10}}


def anthropic_events(reply: dict, model: str, tools: list[str], message_id: str, call_id: str) -> list[tuple[str, dict]]:
    """The streamed Messages API answer: message_start, one content block, message_delta, message_stop."""
    message = {"id": message_id, "type": "message", "role": "assistant", "model": model, "content": [],
               "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 10, "output_tokens": 1}}
    events = [("message_start", {"type": "message_start", "message": message})]
    if "error" in reply:
        return events + [("error", error_body("anthropic", reply["error"])[1])]
    block = anthropic_content(reply, tools, call_id)
    if block["type"] == "text":
        start, delta = dict(block, text=""), {"type": "text_delta", "text": block["text"]}
    else:
        start, delta = dict(block, input={}), {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
    events += [
        ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": start}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        ("message_delta", {"type": "message_delta",
                           "delta": {"stop_reason": "tool_use" if block["type"] == "tool_use" else "end_turn", "stop_sequence": None},
                           "usage": {"output_tokens": 10}}),
        ("message_stop", {"type": "message_stop"}),
    ]
    return events


def openai_item(reply: dict, tools: list[str], item_id: str, call_id: str) -> dict:
    if "text" in reply:
        return {"type": "message", "id": item_id, "status": "completed", "role": "assistant",
                "content": [{"type": "output_text", "text": reply["text"], "annotations": []}]}
    name, arguments = (reply["tool"], reply.get("input", {})) if "tool" in reply else _shell_input("openai", reply, tools)
    return {"type": "function_call", "id": item_id, "status": "completed", "call_id": call_id, "name": name,
            "arguments": json.dumps(arguments)}


def openai_events(reply: dict, model: str, tools: list[str], response_id: str, item_id: str, call_id: str) -> list[tuple[str, dict]]:
    """The streamed Responses API answer: created, one output item added and done, completed (or failed)."""
    response = {"id": response_id, "object": "response", "created_at": int(time.time()), "model": model,
                "status": "in_progress", "output": []}
    events = [("response.created", {"type": "response.created", "response": response})]
    if "error" in reply:
        _status, body = error_body("openai", reply["error"])
        failed = dict(response, status="failed", error=body["error"])
        events.append(("response.failed", {"type": "response.failed", "response": failed}))
    else:
        item = openai_item(reply, tools, item_id, call_id)
        added = dict(item, status="in_progress")
        if item["type"] == "message":
            added["content"] = []
        usage = {"input_tokens": 10, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 10,
                 "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 20}
        events += [
            ("response.output_item.added", {"type": "response.output_item.added", "output_index": 0, "item": added}),
            ("response.output_item.done", {"type": "response.output_item.done", "output_index": 0, "item": item}),
            ("response.completed", {"type": "response.completed",
                                    "response": dict(response, status="completed", output=[item], usage=usage)}),
        ]
    for number, (_name, data) in enumerate(events):
        data["sequence_number"] = number
    return events


def describe(reply: dict) -> dict:
    """The reply as the log shows it."""
    if "command" in reply:
        return {"kind": "command", "command": reply["command"]}
    if "tool" in reply:
        return {"kind": "tool", "tool": reply["tool"], "input": reply.get("input", {})}
    if "text" in reply:
        return {"kind": "text", "text": reply["text"]}
    return {"kind": "error", "status": reply["error"].get("status", 500), "in_stream": bool(reply["error"].get("in_stream"))}


def log_entry(when: float, agent: str, api: str | None, method: str, path: str, status: int, model: str | None = None,
              text: str | None = None, turns: int | None = None, rule: dict | None = None, position: int | None = None,
              reply: dict | None = None, stream: bool | None = None, tools: int | None = None,
              prompts: int | None = None) -> dict:
    """One request-log line: api is anthropic, openai or None (HEAD, health...); the rest only for model requests
    (``prompts``: how many real user texts the conversation holds, the latest one included)."""
    entry = {"time": round(when, 3), "agent": agent, "api": api, "method": method, "path": path, "status": status}
    if api is not None:
        entry.update(model=model, stream=stream, tools=tools, user_text=text, turns=turns, prompts=prompts,
                     rule=None if rule is None else rule["name"], position=position,
                     reply=None if reply is None else describe(reply))
    return entry


# Server ------------------------------------------------------------------------------------------------


class ModelServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address, scenario_path: str, log_path: str):
        self.scenario_path = scenario_path
        self.scenario_stamp = self._stamp()
        self.script = Script(load_scenario(scenario_path))
        self.log_path = log_path
        self.log_lock = threading.Lock()
        super().__init__(address, Handler)

    def _stamp(self):
        info = os.stat(self.scenario_path)
        return info.st_mtime_ns, info.st_size

    def refresh(self) -> None:
        """Read the scenario again if its file changed (a bad edit keeps the last good one, and says so)."""
        stamp = self._stamp()
        if stamp != self.scenario_stamp:
            self.scenario_stamp = stamp
            try:
                self.script.replace(load_scenario(self.scenario_path))
            except (OSError, ValueError) as exc:
                sys.stderr.write("scenario not reloaded: %s\n" % exc)

    def log(self, entry: dict) -> None:
        with self.log_lock, open(self.log_path, "a", encoding="utf-8") as log:
            log.write(json.dumps(entry) + "\n")


def load_scenario(path: str) -> dict:
    with open(path, encoding="utf-8") as source:
        return parse_scenario(json.load(source))


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: ModelServer

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        pass  # the JSON log says it all

    def _send(self, status: int, body: bytes, kind: str = "application/json", headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        for name, value in (headers or {}).items():
            self.send_header(name, str(value))
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data: dict, headers: dict | None = None) -> None:
        self._send(status, json.dumps(data).encode(), headers=headers)

    def _plain(self) -> None:
        agent, path = split_agent(self.path)
        status = 200
        if path == "/health":
            self._json(200, self.server.script.scenario["health"])
        elif path == "/v1/models":
            models = [{"id": name, "object": "model", "type": "model", "display_name": name}
                      for name in ("claude-opus-4-8", "claude-sonnet-4-6", "gpt-5.5")]
            self._json(200, {"object": "list", "data": models, "models": models})
        elif path == "/":
            self._send(200, b"scripted model server\n", "text/plain")
        else:
            status = 404
            self._json(404, {"error": {"type": "not_found_error", "message": "no %s here" % path}})
        self.server.log(log_entry(time.time(), agent, None, self.command, self.path, status))

    do_GET = _plain  # noqa: N815 - the names http.server calls
    do_HEAD = _plain  # noqa: N815

    def _body(self) -> dict:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            raw = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                raw += self.rfile.read(size)
                self.rfile.readline()
        else:
            raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.headers.get("Content-Encoding", "").lower() == "gzip":
            raw = gzip.decompress(raw)
        return json.loads(raw or b"{}")

    def do_POST(self):  # noqa: N802
        started = time.time()
        agent, path = split_agent(self.path)
        api = {"/v1/messages": "anthropic", "/v1/responses": "openai"}.get(path)
        try:
            body = self._body()
        except ValueError as exc:
            self._json(400, {"error": {"type": "invalid_request_error", "message": "unreadable body: %s" % exc}})
            self.server.log(log_entry(started, agent, None, "POST", self.path, 400))
            return
        if api is None:
            self._json(404, {"error": {"type": "not_found_error", "message": "no %s here" % path}})
            self.server.log(log_entry(started, agent, None, "POST", self.path, 404))
            return
        self.server.refresh()
        text, turns, prompts = conversation(api, body)
        tools = tool_names(api, body)
        rule, reply, position = self.server.script.choose(agent, api, text, turns, prompts, tools)
        stream = bool(body.get("stream"))
        model = body.get("model") or ""
        error = reply.get("error")
        status = error.get("status", 500) if error and not error.get("in_stream") else 200
        # Logged before answering: a test that sees the line knows what the agent is being told.
        self.server.log(log_entry(started, agent, api, "POST", self.path, status, model, text, turns, rule, position, reply,
                                  stream, len(tools), prompts))
        if reply.get("delay"):
            time.sleep(reply["delay"])
        if status != 200:
            self._json(status, error_body(api, error)[1], error.get("headers"))
            return
        call_id = ("toolu_" if api == "anthropic" else "call_") + uuid.uuid4().hex[:24]
        if api == "anthropic" and not stream:
            self._json(200, anthropic_message(reply, model, tools, "msg_" + uuid.uuid4().hex[:24], call_id))
            return
        if api == "anthropic":
            events = anthropic_events(reply, model, tools, "msg_" + uuid.uuid4().hex[:24], call_id)
        else:
            events = openai_events(reply, model, tools, "resp_" + uuid.uuid4().hex[:24], "item_" + uuid.uuid4().hex[:24], call_id)
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True
        self.wfile.write(sse(events))
        self.wfile.flush()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--port", type=int, required=True, help="0 picks a free one")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--scenario", required=True, help="the scenario's JSON file")
    parser.add_argument("--log", required=True, help="where each request is logged as a JSON line")
    args = parser.parse_args(argv)
    try:
        server = ModelServer((args.host, args.port), args.scenario, args.log)
    except (OSError, ValueError) as exc:
        sys.stderr.write("model_server: %s\n" % exc)
        return 2
    print("listening on %d" % server.server_port, flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
