"""The scripted model server's pure parts: scenarios, rule choice, SSE for both APIs, log lines. No sockets."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

PROGRAM = Path(__file__).resolve().parents[1] / "integration" / "programs" / "model_server.py"
_spec = importlib.util.spec_from_file_location("model_server", PROGRAM)
M = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(M)

CLAUDE_TOOLS = ["Task", "Bash", "Edit", "Read"]
CODEX_TOOLS = ["exec_command", "write_stdin", "request_user_input"]


def script(**scenario):
    return M.Script(M.parse_scenario(scenario))


def anthropic_body(*messages, tools=("Bash",)):
    return {"model": "claude-opus-4-8", "stream": True, "messages": list(messages),
            "tools": [{"name": name, "input_schema": {}} for name in tools]}


def user(*blocks):
    return {"role": "user", "content": [{"type": "text", "text": text} for text in blocks]}


def tool_use(call="t1"):
    return {"role": "assistant", "content": [{"type": "tool_use", "id": call, "name": "Bash", "input": {"command": "true"}}]}


def tool_result(call="t1", *extra):
    return {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call, "content": "ok"}]
            + [{"type": "text", "text": text} for text in extra]}


def parse_sse(raw: bytes) -> list[tuple[str, dict]]:
    events = []
    for chunk in raw.decode().split("\n\n"):
        if chunk:
            name, data = chunk.split("\n")
            assert name.startswith("event: ") and data.startswith("data: ")
            events.append((name[len("event: "):], json.loads(data[len("data: "):])))
    return events


# Requests


@pytest.mark.parametrize("path, expected", [
    ("/v1/messages?beta=true", ("", "/v1/messages")),
    ("/agent/alice/v1/messages?beta=true", ("alice", "/v1/messages")),
    ("/agent/bob/v1/responses", ("bob", "/v1/responses")),
    ("/agent/bob", ("bob", "/")),
    ("/health", ("", "/health")),
])
def test_the_agent_is_the_path_prefix(path, expected):
    assert M.split_agent(path) == expected


def test_the_latest_user_text_skips_tool_results_reminders_and_counts_assistant_turns_since():
    body = anthropic_body(user("<system-reminder>\nContext.\n</system-reminder>", "make the file"), tool_use(),
                          tool_result("t1", "<system-reminder>file was modified</system-reminder>"),
                          {"role": "system", "content": "The file was modified."})
    assert M.conversation("anthropic", body) == ("make the file", 1, 1)
    later = anthropic_body(*body["messages"], {"role": "assistant", "content": [{"type": "text", "text": "Done."}]},
                           {"role": "user", "content": "now the second"})
    assert M.conversation("anthropic", later) == ("now the second", 0, 2)
    assert M.conversation("anthropic", anthropic_body()) == ("", 0, 0)


def test_the_latest_user_text_of_a_responses_request():
    body = {"model": "gpt-5.5", "input": [
        {"type": "message", "role": "developer", "content": [{"type": "input_text", "text": "<permissions>x</permissions>"}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "# AGENTS.md instructions for /p\n..."}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "<environment_context>\n</environment_context>"}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "make the file"}]},
        {"type": "function_call", "call_id": "c1", "name": "exec_command", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "c1", "output": "ok"},
    ]}
    assert M.conversation("openai", body) == ("make the file", 1, 1)
    assert M.conversation("openai", {"input": "plain"}) == ("plain", 0, 1)
    assert M.tool_names("openai", {"tools": [{"type": "function", "name": "exec_command"}, {"type": "web_search"}]}) == [
        "exec_command", "web_search"]


# Scenarios and rule choice


def test_replies_follow_the_turns_since_the_user_text_and_the_default_comes_after():
    s = script(default={"text": "fallback"},
               rules=[{"match": "make", "replies": [{"command": "touch f"}, {"text": "made"}]}])
    assert s.choose("a", "anthropic", "please make it", 0, 1, CLAUDE_TOOLS)[1] == {"command": "touch f"}
    # After the tool ran: same user text, one assistant turn; never the tool call again.
    rule, reply, position = s.choose("a", "anthropic", "please make it", 1, 1, CLAUDE_TOOLS)
    assert (rule["name"], reply, position) == ("rule 0", {"text": "made"}, 1)
    assert s.choose("a", "anthropic", "please make it", 2, 1, CLAUDE_TOOLS)[1] == {"text": "fallback"}
    assert s.choose("a", "anthropic", "something else", 0, 2, CLAUDE_TOOLS)[:2] == (None, {"text": "fallback"})


def test_a_reply_can_use_the_groups_of_the_rules_match_and_nothing_else_is_interpreted():
    s = script(rules=[{"match": r"(?P<task>TASK-\d+) is assigned", "replies": [
        {"command": "orchestra task start \\g<1> && printf '%s\\n' \"${HOME}\"", "description": "start \\g<task>"},
        {"text": "Done with \\g<task>."}]}])
    assert s.choose("a", "openai", "[orchestra] TASK-007 is assigned to you", 0, 1, CODEX_TOOLS)[1] == {
        "command": "orchestra task start TASK-007 && printf '%s\\n' \"${HOME}\"", "description": "start TASK-007"}
    assert s.choose("a", "openai", "[orchestra] TASK-007 is assigned to you", 1, 1, CODEX_TOOLS)[1] == {
        "text": "Done with TASK-007."}


def test_rules_are_per_agent_and_per_api_first_match_wins():
    s = script(rules=[{"agent": "alice", "match": "go", "reply": {"text": "alice"}},
                      {"api": "openai", "match": "go", "reply": {"text": "codex"}},
                      {"agent": "*", "reply": {"text": "anyone"}}])
    assert s.choose("alice", "anthropic", "go", 0, 1, CLAUDE_TOOLS)[1] == {"text": "alice"}
    assert s.choose("bob", "openai", "go", 0, 1, CODEX_TOOLS)[1] == {"text": "codex"}
    assert s.choose("bob", "anthropic", "go", 0, 1, CLAUDE_TOOLS)[1] == {"text": "anyone"}


def test_a_rule_fires_as_often_as_times_says_and_keeps_its_thread():
    s = script(rules=[{"match": "go", "times": 1, "replies": [{"command": "one"}, {"text": "ok"}]}])
    assert s.choose("a", "anthropic", "go", 0, 1, CLAUDE_TOOLS)[1] == {"command": "one"}
    assert s.choose("a", "anthropic", "go", 1, 1, CLAUDE_TOOLS)[1] == {"text": "ok"}  # the same thread goes on
    assert s.choose("a", "anthropic", "go again", 0, 2, CLAUDE_TOOLS)[1] == M.DEFAULT_REPLY  # fired once already
    assert s.choose("b", "anthropic", "go", 0, 1, CLAUDE_TOOLS)[1] == M.DEFAULT_REPLY
    again = script(rules=[{"match": "go", "reply": {"command": "one"}}])
    for prompts in (1, 2, 3):
        assert again.choose("a", "anthropic", "go", 0, prompts, CLAUDE_TOOLS)[1] == {"command": "one"}


def test_an_error_answers_one_request_and_the_retry_gets_the_next_reply():
    s = script(rules=[{"replies": [{"error": {"status": 429}}, {"error": {"status": 529}}, {"command": "touch f"}, {"text": "ok"}]}])
    kinds = [s.choose("a", "anthropic", "go", 0, 1, CLAUDE_TOOLS)[1] for _attempt in range(3)]
    assert kinds == [{"error": {"status": 429}}, {"error": {"status": 529}}, {"command": "touch f"}]
    assert s.choose("a", "anthropic", "go", 1, 1, CLAUDE_TOOLS)[1] == {"text": "ok"}
    # The same text from the start once the thread is done: a new conversation, the rule again.
    assert s.choose("a", "anthropic", "go", 0, 1, CLAUDE_TOOLS)[1] == {"error": {"status": 429}}


def test_a_request_without_a_shell_tool_gets_the_untooled_reply_and_consumes_nothing():
    s = script(untooled={"text": "A title"}, rules=[{"match": "go", "times": 1, "reply": {"command": "x"}}])
    assert s.choose("a", "anthropic", "go", 0, 1, []) == (None, {"text": "A title"}, 0)
    assert s.choose("a", "anthropic", "go", 0, 1, CLAUDE_TOOLS)[1] == {"command": "x"}


@pytest.mark.parametrize("scenario, message", [
    ({"rules": [{"match": "x"}]}, "give reply or replies"),
    ({"rules": [{"reply": {"text": "a", "command": "b"}}]}, "exactly one of"),
    ({"rules": [{"reply": {"text": "a"}, "match": "("}]}, "not a regular expression"),
    ({"rules": [{"reply": {"text": "a"}, "api": "gemini"}]}, "api is anthropic or openai"),
    ({"rules": [{"reply": {"text": "a"}, "times": 0}]}, "times is a positive integer"),
    ({"rules": [{"reply": {"error": {"status": "busy"}}}]}, "integer status"),
    ({"rules": [{"reply": {"text": "a"}, "agnet": "x"}]}, "unknown keys agnet"),
    ({"defaults": {}}, "unknown scenario keys: defaults"),
])
def test_a_bad_scenario_is_refused_saying_why(scenario, message):
    with pytest.raises(M.ScenarioError, match=message):
        M.parse_scenario(scenario)


# SSE


def test_anthropic_stream_of_a_tool_call():
    events = parse_sse(M.sse(M.anthropic_events({"command": "touch f", "description": "Make f"}, "claude-opus-4-8",
                                                CLAUDE_TOOLS, "msg_1", "toolu_1")))
    assert [name for name, _data in events] == ["message_start", "content_block_start", "content_block_delta",
                                                "content_block_stop", "message_delta", "message_stop"]
    assert all(data["type"] == name for name, data in events)
    assert events[1][1]["content_block"] == {"type": "tool_use", "id": "toolu_1", "name": "Bash", "input": {}}
    assert events[2][1]["delta"]["type"] == "input_json_delta"
    assert json.loads(events[2][1]["delta"]["partial_json"]) == {"command": "touch f", "description": "Make f"}
    assert events[4][1]["delta"]["stop_reason"] == "tool_use"


def test_anthropic_stream_of_a_text_and_of_an_error_and_the_plain_message():
    events = parse_sse(M.sse(M.anthropic_events({"text": "Done."}, "m", CLAUDE_TOOLS, "msg_1", "toolu_1")))
    assert events[1][1]["content_block"] == {"type": "text", "text": ""}
    assert events[2][1]["delta"] == {"type": "text_delta", "text": "Done."}
    assert events[4][1]["delta"]["stop_reason"] == "end_turn"
    failed = parse_sse(M.sse(M.anthropic_events({"error": {"status": 529, "in_stream": True}}, "m", [], "msg_1", "t")))
    assert [name for name, _data in failed] == ["message_start", "error"]
    assert failed[1][1]["error"]["type"] == "overloaded_error"
    plain = M.anthropic_message({"tool": "Write", "input": {"file_path": "/x"}}, "m", CLAUDE_TOOLS, "msg_1", "toolu_1")
    assert plain["content"] == [{"type": "tool_use", "id": "toolu_1", "name": "Write", "input": {"file_path": "/x"}}]
    assert plain["stop_reason"] == "tool_use"


def test_responses_stream_of_a_tool_call_and_of_a_message():
    events = parse_sse(M.sse(M.openai_events({"command": "touch f"}, "gpt-5.5", CODEX_TOOLS, "resp_1", "item_1", "call_1")))
    assert [name for name, _data in events] == ["response.created", "response.output_item.added",
                                                "response.output_item.done", "response.completed"]
    assert [data["sequence_number"] for _name, data in events] == [0, 1, 2, 3]
    item = events[2][1]["item"]
    assert (item["type"], item["name"], item["call_id"], json.loads(item["arguments"])) == (
        "function_call", "exec_command", "call_1", {"cmd": "touch f"})
    assert events[3][1]["response"]["output"] == [item] and events[3][1]["response"]["usage"]["total_tokens"] == 20
    shell = M.openai_item({"command": "touch f"}, ["shell"], "item_1", "call_1")
    assert (shell["name"], json.loads(shell["arguments"])) == ("shell", {"command": ["bash", "-lc", "touch f"]})
    message = parse_sse(M.sse(M.openai_events({"text": "Done."}, "gpt-5.5", CODEX_TOOLS, "resp_1", "item_1", "call_1")))
    assert message[2][1]["item"]["content"] == [{"type": "output_text", "text": "Done.", "annotations": []}]
    assert message[1][1]["item"]["content"] == []


def test_responses_errors():
    failed = parse_sse(M.sse(M.openai_events({"error": {"status": 500, "in_stream": True}}, "m", [], "r", "i", "c")))
    assert [name for name, _data in failed] == ["response.created", "response.failed"]
    assert failed[1][1]["response"]["error"]["type"] == "api_error"
    limited = {"error": {"type": "rate_limit_error", "code": "rate_limit_error", "message": "scripted rate_limit_error", "param": None}}
    assert M.error_body("openai", {"status": 429}) == (429, limited)
    assert M.error_body("anthropic", {"status": 529, "message": "Overloaded"}) == (
        529, {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}})


# Log lines


def test_log_lines():
    rule = M.parse_scenario({"rules": [{"name": "make", "reply": {"command": "touch f"}}]})["rules"][0]
    line = M.log_entry(12.3456, "alice", "anthropic", "POST", "/agent/alice/v1/messages?beta=true", 200, "claude-opus-4-8",
                       "make it", 0, rule, 0, {"command": "touch f", "delay": 1}, True, 25, 2)
    assert json.loads(json.dumps(line)) == {
        "time": 12.346, "agent": "alice", "api": "anthropic", "method": "POST", "path": "/agent/alice/v1/messages?beta=true",
        "status": 200, "model": "claude-opus-4-8", "stream": True, "tools": 25, "user_text": "make it", "turns": 0,
        "prompts": 2, "rule": "make", "position": 0, "reply": {"kind": "command", "command": "touch f"}}
    assert M.log_entry(1.0, "", None, "HEAD", "/", 200) == {"time": 1.0, "agent": "", "api": None, "method": "HEAD",
                                                            "path": "/", "status": 200}
    assert M.describe({"error": {"status": 429}}) == {"kind": "error", "status": 429, "in_stream": False}
