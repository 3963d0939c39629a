"""Loads a program a role installs on hosts (a Python file without the .py suffix) as a module, for its unit tests."""

import importlib.machinery
import importlib.util
import pathlib

ROOT = pathlib.Path(__file__).resolve().parents[3]


def load(relative_path, module_name):
    loader = importlib.machinery.SourceFileLoader(module_name, str(ROOT / relative_path))
    spec = importlib.util.spec_from_loader(module_name, loader)
    module = importlib.util.module_from_spec(spec)
    loader.exec_module(module)
    return module
