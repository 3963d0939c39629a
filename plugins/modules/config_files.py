#!/usr/bin/python
# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: config_files
short_description: Write a service's configuration files in one step, check them, and put the old ones back if refused
version_added: 0.1.0
description:
  - Creates the O(directories), then writes the O(files) whose content, owner, group or mode differ, in one call to
    the host (a C(template) or C(copy) task per file costs five).
  - Each file with a O(files[].validate) command is checked as a candidate before it replaces the live one. After
    all are written, when any of them changed, the O(validate_commands) check the whole set (as the service would
    read it); if one fails, every file this task changed gets its previous content, owner and mode back (files it
    created are removed) and the task fails with the command's output. The running service has not seen the
    refused files; reload it from a handler, which only runs after this task succeeded.
  - O(files[].template) and O(files[].src) are read on the controller by the action plugin (from the role's
    C(templates/) and C(files/)); O(files[].vars) are added to the template's variables, as the C(template)
    lookup's C(template_vars).
  - Files whose contents are secrets go in O(secret_files), whose contents never appear in the task's output, its
    diff or its logged arguments; the task needs no C(no_log), and the other files keep their diffs.
author: appstack.platform maintainers (@appstack)
attributes:
  check_mode:
    support: full
    description: Reports which files and directories would change; writes and checks nothing.
  diff_mode:
    support: full
    description: Shows each changed file's content before and after; of O(secret_files), only that they changed.
options:
  directories:
    description: Directories to create (with their parents) and keep at the given owner, group and mode.
    type: list
    elements: dict
    default: []
    suboptions:
      path:
        description: Absolute path.
        type: path
        required: true
      owner:
        description: Owner's user name; left as it is when unset.
        type: str
      group:
        description: Group name; left as it is when unset.
        type: str
      mode:
        description: Octal mode, for example C("0755"); left as it is when unset.
        type: str
  files:
    description: Files to write, in order.
    type: list
    elements: dict
    default: []
    suboptions:
      dest:
        description: Absolute path of the file.
        type: path
        required: true
      content:
        description: The file's content. Exactly one of O(files[].content), O(files[].template), O(files[].src).
        type: str
      template:
        description: A template rendered on the controller with the task's variables and O(files[].vars).
        type: str
      src:
        description: A file copied from the controller as it is (text).
        type: str
      vars:
        description: Variables for O(files[].template) only, on top of the task's.
        type: dict
      owner:
        description: Owner's user name or numeric id; left as it is (root for a new file) when unset.
        type: str
      group:
        description: Group name or numeric id; left as it is when unset.
        type: str
      mode:
        description: Octal mode, for example C("0640"); C(0644) for a new file when unset.
        type: str
      force:
        description: Whether an existing file is rewritten; V(false) writes the file only when it is missing.
        type: bool
        default: true
      validate:
        description:
          - Command checking the candidate before it replaces the file; C(%s) is the candidate's path. Run without a
            shell. A failure leaves the live file untouched and fails the task with the command's output.
        type: str
  secret_files:
    description:
      - Files like O(files) whose contents are secrets, written before O(files). Their contents are masked wherever
        the module's arguments or results are shown, and no diff shows them.
      - They have no check of their own, whose output could quote them. A secret whose check shows what it refused
        belongs in a task of its own with C(no_log).
    type: list
    elements: dict
    default: []
    suboptions:
      dest: {description: "As O(files[].dest).", type: path, required: true}
      content: {description: "As O(files[].content).", type: str}
      template: {description: "As O(files[].template).", type: str}
      src: {description: "As O(files[].src).", type: str}
      vars: {description: "As O(files[].vars).", type: dict}
      owner: {description: "As O(files[].owner).", type: str}
      group: {description: "As O(files[].group).", type: str}
      mode: {description: "As O(files[].mode).", type: str}
      force: {description: "As O(files[].force).", type: bool, default: true}
  purge:
    description:
      - Directories whose other files (those this task does not write) are removed, for configuration that must
        hold only what is declared (sites no longer in the inventory). Subdirectories are left alone. A refused
        set brings the removed files back.
    type: list
    elements: path
    default: []
  validate_commands:
    description:
      - Commands (argument lists, run without a shell) that check the whole configuration once the files are in
        place, run in order when any file changed. The first that fails puts every changed file back.
    type: list
    elements: list
    default: []
  validate_user:
    description: The user O(validate_commands) run as (through C(runuser)); the task's user when unset.
    type: str
notes:
  - Contents travel in the module's arguments; put secrets in O(secret_files), not in O(files).
"""

EXAMPLES = r"""
- name: Write nginx's configuration, checked by nginx before it is used
  appstack.platform.config_files:
    directories:
      - {path: /etc/nginx/appstack-sites, owner: root, group: root, mode: "0755"}
    files:
      - {dest: /etc/nginx/nginx.conf, template: nginx.conf.j2, owner: root, group: root, mode: "0644"}
      - dest: /etc/nginx/appstack-sites/shop.conf
        template: site.conf.j2
        vars: {site: {name: shop, domains: [shop.example.com]}}
        owner: root
        group: root
        mode: "0644"
    validate_commands:
      - [nginx, -t]
  notify: Reload nginx

- name: Write an app's environment file (its diff shown) and its secrets (masked), in one call
  appstack.platform.config_files:
    directories:
      - {path: /etc/appstack/shop/secrets, owner: root, group: root, mode: "0755"}
    files:
      - {dest: /etc/appstack/shop/app.env, content: "MODE=production\n", owner: root, group: root, mode: "0600"}
    secret_files:
      - {dest: /etc/appstack/shop/secrets/DATABASE_URL, content: "{{ shop_database_url }}", owner: "1000",
         group: root, mode: "0600"}

# A check of secrets may quote what it refused: such files go in `files` of a task of their own, with no_log.
- name: Write Redis' users, each checked by Redis first
  appstack.platform.config_files:
    files:
      - dest: /etc/redis/users-cache.acl
        template: users.acl.j2
        owner: redis
        group: redis
        mode: "0600"
        validate: /usr/local/lib/appstack/redis-check-config --acl %s
  no_log: true
"""

RETURN = r"""
changed_files:
  description: The files written (or, in check mode, that would be), content or attributes; O(secret_files) too.
  returned: always
  type: list
  elements: str
  sample: [/etc/nginx/nginx.conf]
refused_by:
  description: On failure, the check that refused the configuration (its arguments).
  returned: failure
  type: list
  elements: str
  sample: [nginx, -t]
output:
  description: On failure, what the refusing check printed (standard output, then standard error).
  returned: failure
  type: str
  sample: 'nginx: [emerg] invalid value "ten megabytes" in "client_max_body_size" directive'
refused_files:
  description: On failure, the files the task had changed or removed and has put back.
  returned: failure
  type: list
  elements: str
removed_files:
  description: The files O(purge) removed (or would remove).
  returned: always
  type: list
  elements: str
  sample: [/etc/nginx/appstack/sites/old-shop.conf]
changed_directories:
  description: The directories created or given a new owner, group or mode (or that would be).
  returned: always
  type: list
  elements: str
  sample: [/etc/nginx/appstack-sites]
"""

import grp
import os
import pwd
import shlex
import stat
import tempfile

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.common.text.converters import to_bytes

DEFAULT_FILE_MODE = 0o644


class Refused(Exception):
    """A check refused the configuration: ``command`` printed ``output`` and exited with ``rc``."""

    def __init__(self, message, command, rc, output):
        super().__init__(message)
        self.command, self.rc, self.output = command, rc, output


def argument_spec():
    attributes = {"owner": {"type": "str"}, "group": {"type": "str"}, "mode": {"type": "str"}}

    def file_options(secret):
        options = {
            "dest": {"type": "path", "required": True},
            "content": {"type": "str", "no_log": secret},
            "template": {"type": "str"},
            "src": {"type": "str"},
            "vars": {"type": "dict"},
            "force": {"type": "bool", "default": True},
            **attributes,
        }
        # A check's output may quote what it refused.
        return options if secret else {**options, "validate": {"type": "str"}}

    return {
        "directories": {
            "type": "list",
            "elements": "dict",
            "default": [],
            "options": {"path": {"type": "path", "required": True}, **attributes},
        },
        "files": {"type": "list", "elements": "dict", "default": [], "options": file_options(secret=False)},
        # The paths are not secret, the contents are (their suboption).
        "secret_files": {
            "type": "list",
            "elements": "dict",
            "default": [],
            "no_log": False,
            "options": file_options(secret=True),
        },
        "purge": {"type": "list", "elements": "path", "default": []},
        "validate_commands": {"type": "list", "elements": "list", "default": []},
        "validate_user": {"type": "str"},
    }


# The id of an owner or group that does not exist yet: check mode on a new host, before the package that creates
# it is installed (outside check mode, run() refuses unknown names before it changes anything).
NOT_YET_CREATED = -2


def account_id(lookup, name):
    if not name:
        return None
    if name.isdigit():
        return int(name)
    try:
        return lookup(name)[2]
    except KeyError:
        return NOT_YET_CREATED


def unknown_accounts(entries):
    users = {entry["owner"] for entry in entries if entry.get("owner")}
    groups = {entry["group"] for entry in entries if entry.get("group")}
    return sorted(
        [f"user {name}" for name in users if account_id(pwd.getpwnam, name) == NOT_YET_CREATED]
        + [f"group {name}" for name in groups if account_id(grp.getgrnam, name) == NOT_YET_CREATED]
    )


def wanted_attributes(entry):
    """(uid, gid, mode) the entry asks for; None where it leaves the attribute alone."""
    uid = account_id(pwd.getpwnam, entry.get("owner"))
    gid = account_id(grp.getgrnam, entry.get("group"))
    mode = int(entry["mode"], 8) if entry.get("mode") else None
    return uid, gid, mode


def attributes_differ(current, uid, gid, mode):
    return (
        (uid is not None and current.st_uid != uid)
        or (gid is not None and current.st_gid != gid)
        or (mode is not None and stat.S_IMODE(current.st_mode) != mode)
    )


def apply_attributes(path, uid, gid, mode):
    os.chown(path, -1 if uid is None else uid, -1 if gid is None else gid)
    if mode is not None:
        os.chmod(path, mode)


def ensure_directory(entry, check_mode):
    """Whether the directory was (or would be) created or given new attributes."""
    path = entry["path"]
    uid, gid, mode = wanted_attributes(entry)
    if os.path.isdir(path) and not attributes_differ(os.stat(path), uid, gid, mode):
        return False
    if not check_mode:
        os.makedirs(path, exist_ok=True)
        apply_attributes(path, uid, gid, mode)
    return True


def run_check(module, command, refusal, **options):
    """Runs a check; raises Refused with its output when it fails or cannot run."""
    try:
        rc, out, err = module.run_command(command, handle_exceptions=False, **options)
    except OSError as error:
        raise Refused(f"{refusal}: the check could not run", command, 127, str(error)) from error
    if rc != 0:
        raise Refused(refusal, command, rc, (out + err).strip())


def replace_file(path, data, uid, gid, mode, check=None):
    """Replaces ``path`` with ``data`` in one rename, so a reader sees the old file or the new one, never half.
    ``check`` runs on the candidate (its path) before the rename; no candidate outlives a failure."""
    descriptor, candidate = tempfile.mkstemp(dir=os.path.dirname(path), prefix=f".{os.path.basename(path)}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(data)
        apply_attributes(candidate, uid, gid, mode)
        if check:
            check(candidate)
        os.rename(candidate, path)
    except BaseException:
        if os.path.exists(candidate):
            os.unlink(candidate)
        raise


class FileSet:
    """The files one task writes, with what they held before, so that a refused set can be put back."""

    def __init__(self, module):
        self.module = module
        self.previous = {}  # dest -> (bytes, uid, gid, mode), or None for a file this task created
        self.changed = []
        self.removed = []
        self.diffs = []

    def write(self, entry):
        dest = entry["dest"]
        exists = os.path.lexists(dest)
        if exists and not entry["force"]:
            return
        data = to_bytes(entry["content"], errors="surrogate_or_strict")
        uid, gid, mode = wanted_attributes(entry)
        if exists:
            current = os.stat(dest)
            with open(dest, "rb") as handle:
                before = handle.read()
            if before == data and not attributes_differ(current, uid, gid, mode):
                return
        else:
            current, before = None, None
            mode = DEFAULT_FILE_MODE if mode is None else mode
        self.changed.append(dest)
        if self.module._diff and before != data and not entry["secret"]:
            self.diffs.append(
                {
                    "before_header": dest,
                    "after_header": dest,
                    "before": "" if before is None else before.decode(errors="replace"),
                    "after": entry["content"],
                }
            )
        if self.module.check_mode:
            return
        if before == data:
            apply_attributes(dest, uid, gid, mode)
        else:
            replace_file(dest, data, uid, gid, mode, check=self.file_check(entry))
        self.previous[dest] = (
            None if current is None else (before, current.st_uid, current.st_gid, stat.S_IMODE(current.st_mode))
        )

    def file_check(self, entry):
        """The entry's own check of a candidate, or None."""
        if not entry.get("validate"):
            return None
        refusal = f"the new {entry['dest']} was refused by its check"
        return lambda candidate: run_check(self.module, shlex.split(entry["validate"] % candidate), refusal)

    def purge(self, directory, kept):
        for name in sorted(os.listdir(directory)):
            path = os.path.join(directory, name)
            if path in kept or not (os.path.isfile(path) or os.path.islink(path)):
                continue
            self.removed.append(path)
            if self.module.check_mode:
                continue
            current = os.stat(path)
            with open(path, "rb") as handle:
                self.previous[path] = (handle.read(), current.st_uid, current.st_gid, stat.S_IMODE(current.st_mode))
            os.unlink(path)

    def restore(self):
        for dest, previous in reversed(list(self.previous.items())):
            if previous is None:
                os.unlink(dest)
            else:
                replace_file(dest, *previous)

    def check(self, commands, user):
        for command in commands:
            argv = ["runuser", "-u", user, "--", *command] if user else list(command)
            run_check(self.module, argv, "the new configuration was refused by its check", cwd="/")


def run(module):
    params = module.params
    entries = [dict(entry, secret=True) for entry in params["secret_files"]] + [
        dict(entry, secret=False) for entry in params["files"]
    ]
    for entry in entries:
        if entry.get("content") is None:
            module.fail_json(
                msg=f"{entry['dest']}: give content, template or src (the action plugin reads the last two)"
            )
    unknown = unknown_accounts(params["directories"] + entries)
    if unknown and not module.check_mode:
        module.fail_json(msg=f"no such {', '.join(unknown)} on the host: nothing was written")
    changed_directories = [
        entry["path"] for entry in params["directories"] if ensure_directory(entry, module.check_mode)
    ]
    files = FileSet(module)
    try:
        for entry in entries:
            files.write(entry)
        declared = {entry["dest"] for entry in entries}
        for directory in params["purge"]:
            if os.path.isdir(directory):
                files.purge(directory, declared)
        if (files.changed or files.removed) and not module.check_mode:
            files.check(params["validate_commands"], params["validate_user"])
    except Refused as refused:
        files.restore()
        module.fail_json(
            msg=f"{refused} (exit {refused.rc}); the previous files are back in place and the service has not read the "
            f"new ones:\n{refused.output}",
            refused_by=refused.command,
            output=refused.output,
            refused_files=files.changed + files.removed,
            changed=bool(changed_directories),
        )
    result = {
        "changed": bool(changed_directories or files.changed or files.removed),
        "changed_files": files.changed,
        "removed_files": files.removed,
        "changed_directories": changed_directories,
    }
    if files.diffs:
        result["diff"] = files.diffs
    return result


def main():
    module = AnsibleModule(argument_spec=argument_spec(), supports_check_mode=True)
    module.exit_json(**run(module))


if __name__ == "__main__":
    main()
