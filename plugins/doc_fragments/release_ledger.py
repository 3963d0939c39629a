# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The app environment whose release ledger a module reads, documented once for the modules that name it so."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  app:
    description: Application name.
    type: str
    required: true
  deployment:
    description: The app's deployment environment (for example C(prod)); with O(app) it names the ledger.
    type: str
    required: true
    aliases: [env]
  ledger_dir:
    description: Directory of the app environments' release ledgers (C(<ledger_dir>/<app>-<env>/releases.json)).
    type: path
    default: /var/lib/appstack
"""
