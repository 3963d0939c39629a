"""Test backend: answers every request with JSON naming itself and echoing the request's path and headers.

Besides, as real apps do:
- /events/: a server-sent event stream that sends "first", then "second" only once /release-events was asked for
  (so a proxy that holds the first event back is seen holding it, however fast or slow the machine is);
- /ws/: a WebSocket-style upgrade (101, then every byte received is sent back), only when the request carries
  Upgrade and Connection: upgrade as a browser sends them.
"""

import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

NAME, PORT = sys.argv[1], int(sys.argv[2])
RELEASE_EVENTS = threading.Event()


class Echo(BaseHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/events/"):
            return self.events()
        if self.path == "/release-events":
            RELEASE_EVENTS.set()
        elif self.path.startswith("/ws/") and self.upgrade_requested():
            return self.upgrade()
        body = json.dumps({"backend": NAME, "path": self.path, "headers": dict(self.headers)}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        return None

    def events(self):
        RELEASE_EVENTS.clear()
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        self.wfile.write(b"data: first\n\n")
        self.wfile.flush()
        RELEASE_EVENTS.wait(120)
        self.wfile.write(b"data: second\n\n")
        self.close_connection = True

    def upgrade_requested(self):
        connection = [token.strip().lower() for token in self.headers.get("Connection", "").split(",")]
        return self.headers.get("Upgrade", "").lower() == "websocket" and "upgrade" in connection

    def upgrade(self):
        self.wfile.write(b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n")
        self.wfile.flush()
        while chunk := self.rfile.read1(4096):
            self.wfile.write(chunk)
            self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


ThreadingHTTPServer(("127.0.0.1", PORT), Echo).serve_forever()
