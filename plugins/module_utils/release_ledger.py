# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release ledger: one JSON record per rollout attempt, written atomically, read by rollback and status."""

from __future__ import annotations

import json
import os
import tempfile

SUCCEEDED = "succeeded"


class ReleaseLedger:
    def __init__(self, path):
        self.path = path

    def records(self):
        try:
            with open(self.path, encoding="utf-8") as handle:
                return json.load(handle)
        except FileNotFoundError:
            return []

    def append(self, record):
        records = [*self.records(), record]
        directory = os.path.dirname(self.path)
        os.makedirs(directory, mode=0o750, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=directory, prefix=".releases.")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as output:
                json.dump(records, output, indent=1, sort_keys=True)
            os.chmod(temporary, 0o640)
            os.replace(temporary, self.path)
        except BaseException:
            os.unlink(temporary)
            raise
        return record

    def succeeded(self, service):
        """Succeeded releases of ``service``, newest first."""
        return [
            record
            for record in reversed(self.records())
            if record.get("service") == service and record.get("outcome") == SUCCEEDED
        ]

    def previous_good(self, service, current_release):
        """The newest succeeded release of ``service`` other than ``current_release``, or None."""
        return next((r for r in self.succeeded(service) if r["release"] != current_release), None)

    def find(self, service, release):
        """The newest succeeded record of ``release`` for ``service``, or None."""
        return next((r for r in self.succeeded(service) if r["release"] == release), None)
