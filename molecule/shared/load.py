"""Send GET requests to a URL from the moment it is started until the action under test has ended.

Usage: load.py URL --stop-file PATH [--ready-file PATH] [--workers N] [--host NAME] [--max-seconds S] [--interval S]

The caller starts it, waits for the ready file (every worker has had an answer: the load is on before the
action starts), runs the action, then creates the stop file. Each worker then sends one more request, so the
load also covers the moment after the action ended, and exits. --max-seconds only bounds a run whose caller
died; the summary says which of the two ended it ("stopped_by"), so a proof can refuse a run cut by the bound.
Prints one JSON summary: requests, failed, versions (the "version" field of each answer), first_seen (the wall
clock time, in seconds since the epoch, of each version's first answer: when traffic reached it), first_failures.
"""

import argparse
import json
import os
import threading
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor


def parse_arguments():
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--stop-file", required=True)
    parser.add_argument("--ready-file")
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--host", help="the Host header, for a site behind a name")
    parser.add_argument("--max-seconds", type=float, default=900)
    # A pause after each request, for a site with its production rate limit (the proofs raise it and send at once).
    parser.add_argument("--interval", type=float, default=0.0)
    return parser.parse_args()


class Load:
    def __init__(self, arguments):
        self.arguments = arguments
        self.headers = {"Host": arguments.host} if arguments.host else {}
        self.deadline = time.monotonic() + arguments.max_seconds
        self.answered = threading.Barrier(arguments.workers, action=self.announce_ready)
        self.stopped_by = "stop-file"

    def announce_ready(self):
        if self.arguments.ready_file:
            with open(self.arguments.ready_file, "w", encoding="utf-8") as ready:
                ready.write(f"{os.getpid()}\n")

    def should_stop(self):
        if os.path.exists(self.arguments.stop_file):
            return True
        if time.monotonic() > self.deadline:
            self.stopped_by = "max-seconds"
            return True
        return False

    def request(self, versions, failures, first_seen):
        request = urllib.request.Request(self.arguments.url, headers=self.headers)
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                version = json.load(response).get("version", "?")
            versions[version] += 1
            first_seen.setdefault(version, time.time())
        except Exception as error:  # every kind of failure is what the proof counts
            failures.append(f"{time.strftime('%H:%M:%S')} {error}")

    def worker(self, number):  # pool.map hands each worker its number
        versions, failures, first_seen = Counter(), [], {}
        self.request(versions, failures, first_seen)
        self.answered.wait()
        while not self.should_stop():
            self.request(versions, failures, first_seen)
            time.sleep(self.arguments.interval)
        self.request(versions, failures, first_seen)
        return versions, failures, first_seen


def main():
    arguments = parse_arguments()
    load = Load(arguments)
    with ThreadPoolExecutor(arguments.workers) as pool:
        results = list(pool.map(load.worker, range(arguments.workers)))
    versions = sum((result[0] for result in results), Counter())
    failures = [failure for result in results for failure in result[1]]
    first_seen = {}
    for _versions, _failures, seen in results:
        for version, moment in seen.items():
            first_seen[version] = min(moment, first_seen.get(version, moment))
    summary = {
        "requests": sum(versions.values()) + len(failures),
        "failed": len(failures),
        "versions": dict(versions),
        "first_seen": {version: round(moment, 3) for version, moment in sorted(first_seen.items())},
        "first_failures": failures[:10],
        "stopped_by": load.stopped_by,
    }
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
