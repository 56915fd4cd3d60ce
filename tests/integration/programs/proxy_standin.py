"""Test program: a stand-in for antigravity-claude-proxy on HOST:PORT (default 127.0.0.1).

Usage: proxy_standin.py PORT [HOST]. It answers as the proxy does what the
collection and Claude Code ask of it: ``GET /health`` (200, ``counts.available``
1), ``HEAD /``, and ``POST /v1/messages`` with a streamed one-line answer. Being
Python, it ignores NODE_OPTIONS: it stands for a proxy the loopback preload did
not reach, listening wherever HOST says. Each request is logged to stdout with
how it was authenticated (``bearer``, ``x-api-key`` or ``none``).
"""

from __future__ import annotations

import json
import socket
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWER = "Ready."


def event(name: str, data: dict) -> bytes:
    return ("event: %s\ndata: %s\n\n" % (name, json.dumps(data))).encode()


def streamed_answer(model: str) -> bytes:
    """An Anthropic Messages API stream with one text block and end_turn."""
    message = {"id": "msg_standin", "type": "message", "role": "assistant", "model": model, "content": [],
               "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 1, "output_tokens": 1}}
    return b"".join([
        event("message_start", {"type": "message_start", "message": message}),
        event("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
        event("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": ANSWER}}),
        event("content_block_stop", {"type": "content_block_stop", "index": 0}),
        event("message_delta", {"type": "message_delta", "delta": {"stop_reason": "end_turn", "stop_sequence": None},
                                "usage": {"output_tokens": 2}}),
        event("message_stop", {"type": "message_stop"}),
    ])


class Proxy(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def _auth(self) -> str:
        if (self.headers.get("Authorization") or "").startswith("Bearer "):
            return "bearer"
        return "x-api-key" if self.headers.get("x-api-key") else "none"

    def _reply(self, status: int, body: bytes, kind: str = "application/json") -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def do_HEAD(self):  # noqa: N802 - the name http.server calls
        self._reply(200, b"")

    def do_GET(self):  # noqa: N802
        if self.path.split("?")[0] == "/health":
            self._reply(200, json.dumps({"status": "ok", "counts": {"total": 1, "available": 1}}).encode())
        else:
            self._reply(404, b'{"error": "not found"}')

    def do_POST(self):  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        try:
            request = json.loads(self.rfile.read(length) or b"{}")
        except ValueError:
            request = {}
        if self.path.split("?")[0] != "/v1/messages":
            self._reply(404, b'{"error": "not found"}')
        elif request.get("stream"):
            self._reply(200, streamed_answer(request.get("model") or "standin"), "text/event-stream")
        else:
            self._reply(200, json.dumps({"id": "msg_standin", "type": "message", "role": "assistant",
                                         "model": request.get("model") or "standin", "stop_reason": "end_turn",
                                         "content": [{"type": "text", "text": ANSWER}],
                                         "usage": {"input_tokens": 1, "output_tokens": 2}}).encode())

    def log_message(self, *args):
        sys.stdout.write("request %s %s auth=%s\n" % (self.command, self.path, self._auth()))
        sys.stdout.flush()


class Server(ThreadingHTTPServer):
    daemon_threads = True


if __name__ == "__main__":
    host = sys.argv[2] if len(sys.argv) > 2 else "127.0.0.1"
    if ":" in host:
        Server.address_family = socket.AF_INET6
    server = Server((host, int(sys.argv[1])), Proxy)
    print("listening on %s:%d" % (host, server.server_port), flush=True)
    server.serve_forever()
