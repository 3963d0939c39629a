import os
import pathlib
import subprocess
import sys

import pytest
from collection_layout import PROJECT


@pytest.fixture
def ansible():
    """Run an ansible CLI with this checkout as appstack.platform; return the completed process."""
    environment = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(PROJECT / ".cache/src"), ANSIBLE_NOCOLOR="1")

    def run(command, *arguments, cwd=PROJECT):
        executable = pathlib.Path(sys.executable).parent / command
        return subprocess.run(
            [executable, *arguments], check=False, cwd=cwd, env=environment, capture_output=True, text=True, timeout=120
        )

    return run
