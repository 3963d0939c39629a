import json
import os
import pathlib
import threading

import pytest

from ansible_collections.appstack.platform.plugins.module_utils import service_lock


def test_the_holder_is_written_into_the_lock_file(tmp_path, clock):
    path = str(tmp_path / "ledger" / "web.lock")
    # The fake clock: a free lock is taken without waiting, however busy the machine.
    with service_lock.held(path, 1, {"pid": 7, "host": "a"}, clock=clock, sleep=clock.sleep) as waited:
        assert waited == 0
        assert json.loads(pathlib.Path(path).read_text()) == {"host": "a", "pid": 7}
    assert oct(os.stat(path).st_mode & 0o777) == "0o640"


def test_a_second_holder_times_out_naming_the_first(tmp_path, clock):
    path = str(tmp_path / "web.lock")

    def hold_it_too():
        with service_lock.held(path, 5, {"pid": 8}, clock=clock, sleep=clock.sleep):
            pytest.fail("two holders at once")

    with service_lock.held(path, 1, {"pid": 7, "image": "demo:v2"}), pytest.raises(service_lock.LockTimeout) as raised:
        hold_it_too()
    assert "waited 5 s" in str(raised.value) and "image demo:v2, pid 7" in str(raised.value)
    assert raised.value.holder == {"image": "demo:v2", "pid": 7}
    assert clock.now == pytest.approx(5)


def test_a_waiting_run_gets_the_lock_once_the_first_ends(tmp_path):
    path = str(tmp_path / "web.lock")
    first_has_it, release = threading.Event(), threading.Event()

    def first():
        with service_lock.held(path, 1, {"pid": 1}):
            first_has_it.set()
            release.wait(5)

    thread = threading.Thread(target=first)
    thread.start()
    first_has_it.wait(5)
    threading.Timer(0.3, release.set).start()
    with service_lock.held(path, 10, {"pid": 2}, poll=0.05) as waited:
        assert waited > 0
        assert json.loads(pathlib.Path(path).read_text()) == {"pid": 2}
    thread.join()
