"""Test program: an HTTP server on 127.0.0.1:PORT whose /health reports AVAILABLE accounts, like the proxy."""

from __future__ import annotations

import json
import sys
from http.server import BaseHTTPRequestHandler, HTTPServer


class Health(BaseHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 - the name http.server calls
        body = json.dumps({"status": "ok", "counts": {"available": int(sys.argv[2]) if len(sys.argv) > 2 else 1}})
        self.send_response(200 if self.path == "/health" else 404)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(body.encode())

    def log_message(self, *args):
        sys.stdout.write("request %s\n" % (self.path,))
        sys.stdout.flush()


if __name__ == "__main__":
    server = HTTPServer(("127.0.0.1", int(sys.argv[1])), Health)
    print("listening on %d" % server.server_port, flush=True)
    server.serve_forever()
