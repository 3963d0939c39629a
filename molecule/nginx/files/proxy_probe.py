"""Client side of the streamed and upgraded connection proofs, through nginx's loopback listener.

    proxy_probe.py events PATH      the first event arrives while the app still holds the stream open
    proxy_probe.py websocket PATH   the upgrade reaches the app (101) and bytes go both ways

Waits are bounded by DEADLINE only to fail: each step goes on as soon as what it waits for has arrived.
"""

import socket
import sys
import urllib.request

NGINX = ("127.0.0.1", 8088)
HOST = "app.test"
BACKEND = "http://127.0.0.1:8101"
DEADLINE = 60


def read_until(connection, marker, received=b""):
    while marker not in received:
        try:
            chunk = connection.recv(4096)
        except TimeoutError:
            sys.exit(f"no {marker!r} within {DEADLINE} s; received so far: {received!r}")
        if not chunk:
            sys.exit(f"connection closed before {marker!r}; received: {received!r}")
        received += chunk
    return received


def request(path, *headers):
    connection = socket.create_connection(NGINX, timeout=DEADLINE)
    lines = [f"GET {path} HTTP/1.1", f"Host: {HOST}", *headers, "", ""]
    connection.sendall("\r\n".join(lines).encode())
    return connection


def events(path):
    connection = request(path, "Accept: text/event-stream")
    received = read_until(connection, b"data: first")
    # Only now may the app send the rest: nginx passed the first event on while the stream was open.
    urllib.request.urlopen(f"{BACKEND}/release-events", timeout=DEADLINE).read()
    read_until(connection, b"data: second", received)
    print(received.split(b"\r\n", 1)[0].decode(), "/ first event passed on before the stream ended")


def websocket(path):
    connection = request(
        path,
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
    )
    head = read_until(connection, b"\r\n\r\n")
    status = head.split(b"\r\n", 1)[0].decode()
    if not status.startswith("HTTP/1.1 101"):
        sys.exit(f"no upgrade: {head.decode(errors='replace')}")
    connection.sendall(b"ping over the upgraded connection\n")
    read_until(connection, b"ping over the upgraded connection\n", head.split(b"\r\n\r\n", 1)[1])
    print(status, "/ echoed")


{"events": events, "websocket": websocket}[sys.argv[1]](sys.argv[2])
