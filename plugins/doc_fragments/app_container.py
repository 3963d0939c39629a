# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every container of an app release gets from the host, documented once for the modules that start them."""

from __future__ import annotations


class ModuleDocFragment:
    DOCUMENTATION = r"""
requirements:
  - Docker SDK for Python (C(python3-docker) on Debian)
options:
  env_file:
    description: File of C(NAME=value) lines passed to the container (the app's shared environment).
    type: path
  environment:
    description:
      - Environment variables that are not secrets; they override the env file's.
      - A value that is not a string is its text, V(4) the same as V("4").
    type: dict
    default: {}
  secrets_dir:
    description:
      - Directory of secret files, mounted read-only at C(/run/secrets); each file C(NAME) is announced to the app
        as C(NAME_FILE=/run/secrets/NAME). The values never appear in the container's environment.
    type: path
  env_secrets_dir:
    description:
      - Directory of secret files delivered as environment variables instead (C(NAME=<content>)), for apps that
        read their settings from the environment only. Anyone who may run C(docker inspect) on the host reads them;
        the module masks them in everything it returns.
    type: path
  extra_hosts:
    description: "Host name to address entries of the container (for example C({db: host-gateway}))."
    type: dict
    default: {}
  user:
    description: User (and group) the container runs as; the image's when not set.
    type: str
  volumes:
    description:
      - The app's data (uploads, media), kept across releases and rollbacks, in every container of the release.
      - A named volume is C(<app>-<env>-<name>); a host directory is made when missing. Either, when new, is given to
        O(user), since Docker makes it root's and the app runs as its own user.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of a Docker volume of the app environment (not with O(volumes[].host_path)).
        type: str
      host_path:
        description: A host directory instead (not with O(volumes[].name)).
        type: path
      path:
        description: Where the container sees it.
        type: str
        required: true
      read_only:
        description: Mount it read-only.
        type: bool
        default: false
"""
