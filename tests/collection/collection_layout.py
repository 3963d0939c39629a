"""Where the collection under test is, and which roles it has."""

import pathlib

PROJECT = pathlib.Path(__file__).resolve().parents[2]
ROLES = sorted(path.name for path in (PROJECT / "roles").iterdir() if (path / "meta/argument_specs.yml").exists())
