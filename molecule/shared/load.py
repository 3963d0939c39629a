"""Send GET requests to a URL for a number of seconds; print a JSON summary (requests, failures, versions).

Usage: load.py URL SECONDS [WORKERS [HOST]]  (HOST: the Host header, for a site behind a name)
"""

import json
import sys
import time
import urllib.request
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

URL, SECONDS = sys.argv[1], float(sys.argv[2])
WORKERS = int(sys.argv[3]) if len(sys.argv) > 3 else 4
HEADERS = {"Host": sys.argv[4]} if len(sys.argv) > 4 else {}


def hammer(deadline):
    outcomes, versions, failures = 0, Counter(), []
    while time.monotonic() < deadline:
        outcomes += 1
        try:
            with urllib.request.urlopen(urllib.request.Request(URL, headers=HEADERS), timeout=5) as response:
                versions[json.load(response).get("version", "?")] += 1
        except Exception as error:
            failures.append(f"{time.strftime('%H:%M:%S')} {error}")
    return outcomes, versions, failures


deadline = time.monotonic() + SECONDS
with ThreadPoolExecutor(WORKERS) as pool:
    results = list(pool.map(hammer, [deadline] * WORKERS))
versions = sum((r[1] for r in results), Counter())
failures = [f for r in results for f in r[2]]
print(
    json.dumps(
        {
            "requests": sum(r[0] for r in results),
            "failed": len(failures),
            "versions": dict(versions),
            "first_failures": failures[:10],
        }
    )
)
