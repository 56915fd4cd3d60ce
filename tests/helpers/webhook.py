"""A webhook receiver on loopback for the tests that tell a person: a real HTTP server on its own thread."""

from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Receiver:
    """Answers each POST with the next status of ``statuses`` (then 200), keeps the bodies it accepted and
    counts every POST. Its URL carries ``token``, as a real webhook's does."""

    def __init__(self, statuses=(), token: str = "s3cret"):
        self.statuses, self.bodies, self.posts = list(statuses), [], 0
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.posts += 1
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                if status == 200:
                    receiver.bodies.append(json.loads(body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = "http://127.0.0.1:%d/events?token=%s" % (self.server.server_address[1], token)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def events(self) -> list[str]:
        return [body["event"] for body in self.bodies]

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
