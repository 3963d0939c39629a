# Copyright: (c) 2026, appstack.platform maintainers
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""Reads config_files' templates and source files on the controller, then writes them all in one module call."""

from __future__ import annotations

from ansible.errors import AnsibleActionFail
from ansible.module_utils.common.text.converters import to_text
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):
    # The contents travel in the module's arguments: no temporary directory on the host, one remote command.
    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        task_vars = task_vars or {}
        result = super().run(tmp, task_vars)
        module_args = dict(self._task.args)
        template_lookup = self._shared_loader_obj.lookup_loader.get(
            "ansible.builtin.template", loader=self._loader, templar=self._templar
        )
        for option in ("secret_files", "files"):
            module_args[option] = [
                self._with_content(dict(entry), template_lookup, task_vars) for entry in module_args.get(option) or []
            ]
        result.update(
            self._execute_module(
                module_name="appstack.platform.config_files", module_args=module_args, task_vars=task_vars
            )
        )
        return result

    def _with_content(self, entry, template_lookup, task_vars):
        sources = [key for key in ("content", "template", "src") if entry.get(key) is not None]
        if len(sources) != 1:
            raise AnsibleActionFail(f"{entry.get('dest')}: give exactly one of content, template, src (got {sources})")
        if "template" in entry:
            rendered = template_lookup.run(
                [entry.pop("template")], task_vars, template_vars=entry.pop("vars", None) or {}
            )
            entry["content"] = to_text(rendered[0])
        elif "src" in entry:
            with open(self._find_needle("files", entry.pop("src")), encoding="utf-8") as source:
                entry["content"] = source.read()
        return entry
