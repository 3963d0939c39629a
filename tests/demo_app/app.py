"""Demo application for the rollout tests: /health, /version, and behaviours chosen at build time.

APP_BEHAVIOUR: healthy | broken (health always 500) | slow (listens only after APP_SLOW_START seconds) |
routes-broken (health 200, every other route 500) | degrading (healthy until it has served a request that came
through a proxy, i.e. carried X-Forwarded-For; from then on /version answers 500: it passes a direct health gate and
smoke test and fails the verification through nginx, however slow the machine, while other routes keep answering) |
strict (as Django with ALLOWED_HOSTS and SECURE_SSL_REDIRECT: 400 for a Host not in APP_ALLOWED_HOSTS, then a 301
to https for a request whose X-Forwarded-Proto is not https, on every path).
APP_SERVICE: the service this container runs, in every answer but /health (default web).
APP_SHUTDOWN_SECONDS: time taken to finish after SIGTERM, like a worker completing its current job.
/health checks the database and Redis when DATABASE_URL / REDIS_URL (or their *_FILE secrets) are set.
PUT /media/<name> stores the request's body as a file under MEDIA_DIR (an upload); GET /media/<name> reads it back.
"""

import json
import os
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import psycopg
import redis

VERSION = os.environ.get("APP_VERSION", "dev")
# Which service of the app this container runs (one image, several services: web pages, an API, a worker).
SERVICE = os.environ.get("APP_SERVICE", "web")
BEHAVIOUR = os.environ.get("APP_BEHAVIOUR", "healthy")
PROXIED_REQUEST_SEEN = threading.Event()


def setting(name):
    path = os.environ.get(f"{name}_FILE")
    if path:
        with open(path, encoding="utf-8") as handle:
            return handle.read().strip()
    return os.environ.get(name)


def dependency_problems():
    problems = []
    database_url = setting("DATABASE_URL")
    if database_url:
        try:
            with psycopg.connect(database_url, connect_timeout=2) as connection:
                connection.execute("SELECT 1")
        except Exception as error:  # any failure makes the release unhealthy
            problems.append(f"database: {error}")
    redis_url = setting("REDIS_URL")
    if redis_url:
        try:
            redis.Redis.from_url(redis_url, socket_timeout=2).ping()
        except Exception as error:
            problems.append(f"redis: {error}")
    return problems


class Handler(BaseHTTPRequestHandler):
    def do_GET(self):
        self.reply(*self.answer())

    def answer(self):
        """(status, payload[, location]) for this request, as the release's behaviour has it."""
        return self.refusal() or self.route()

    def refusal(self):
        if BEHAVIOUR == "strict":
            host = (self.headers.get("Host") or "").split(":")[0]
            if host not in os.environ.get("APP_ALLOWED_HOSTS", "app.test").split(","):
                return 400, {"error": f"DisallowedHost: Invalid HTTP_HOST header: {self.headers.get('Host')!r}"}
            if self.headers.get("X-Forwarded-Proto") != "https":
                return 301, {"error": "https only"}, f"https://{host}{self.path}"
        if BEHAVIOUR == "degrading":
            if self.headers.get("X-Forwarded-For"):
                PROXIED_REQUEST_SEEN.set()
            if PROXIED_REQUEST_SEEN.is_set() and self.path == "/version":
                return 500, {"error": "degraded"}
        if BEHAVIOUR == "routes-broken" and self.path != "/health":
            return 500, {"error": "routes-broken"}
        return None

    def route(self):
        if self.path.startswith("/media/"):
            try:
                with open(self.media_file(), encoding="utf-8") as upload:
                    return 200, {"content": upload.read()}
            except FileNotFoundError:
                return 404, {"error": "no such upload"}
        if self.path == "/health":
            if BEHAVIOUR == "broken":
                return 500, {"status": "broken", "version": VERSION}
            problems = dependency_problems()
            return (503 if problems else 200), {"status": problems or "ok"}
        if self.path == "/version":
            return 200, {"version": VERSION, "service": SERVICE}
        return 200, {"hello": "appstack", "version": VERSION, "service": SERVICE}

    def do_PUT(self):
        if not self.path.startswith("/media/"):
            return self.reply(405, {"error": "only uploads"})
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(self.media_file(), "wb") as upload:
            upload.write(body)
        return self.reply(201, {"stored": len(body)})

    def media_file(self):
        return os.path.join(os.environ.get("MEDIA_DIR", "/tmp"), os.path.basename(self.path))

    def reply(self, status, payload, location=None):
        body = json.dumps(payload).encode()
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args):
        sys.stdout.write(f"{self.address_string()} {format % args}\n")
        sys.stdout.flush()


if __name__ == "__main__":
    if BEHAVIOUR == "slow":
        time.sleep(float(os.environ.get("APP_SLOW_START", "8")))

    def finish_and_exit(*_):
        time.sleep(float(os.environ.get("APP_SHUTDOWN_SECONDS", "0")))
        print("finished the current job, exiting", flush=True)
        sys.exit(0)

    # As PID 1 the process has no default SIGTERM handler: without this, every stop waits for SIGKILL.
    signal.signal(signal.SIGTERM, finish_and_exit)
    print(f"demo app {VERSION} ({BEHAVIOUR}) listening on :8000", flush=True)
    ThreadingHTTPServer(("0.0.0.0", 8000), Handler).serve_forever()
