import pytest

from ansible_collections.appstack.platform.plugins.module_utils import advisory_lock


class FakeConnection:
    """Answers pg_try_advisory_lock from a script, and the holder query with one row."""

    def __init__(self, lock_answers, holder_rows=()):
        self.lock_answers = iter(lock_answers)
        self.holder_rows = list(holder_rows)
        self.executed = []

    def cursor(self):
        return FakeCursor(self)


class FakeCursor:
    def __init__(self, connection):
        self.connection = connection
        self.rows = []

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def execute(self, sql, parameters):
        self.connection.executed.append((sql.strip().split("(")[0], parameters))
        if "pg_try_advisory_lock" in sql:
            self.rows = [(next(self.connection.lock_answers),)]
        elif "pg_locks" in sql:
            self.rows = self.connection.holder_rows
        else:
            self.rows = [(True,)]

    def fetchall(self):
        return self.rows


def test_key_is_stable_signed_64_bit_and_split_as_pg_locks_shows_it():
    key = advisory_lock.key_of("appstack.db_migrate:demo-prod")
    assert key == advisory_lock.key_of("appstack.db_migrate:demo-prod")
    assert key != advisory_lock.key_of("appstack.db_migrate:demo-staging")
    assert -(2**63) <= key < 2**63
    classid, objid = advisory_lock.key_halves(key)
    assert (classid << 32 | objid) == key & 0xFFFFFFFFFFFFFFFF
    assert advisory_lock.key_halves(-1) == (0xFFFFFFFF, 0xFFFFFFFF)


def test_acquire_takes_a_free_lock_at_once(clock):
    connection = FakeConnection([True])
    assert advisory_lock.acquire(connection, "x", timeout=10, clock=clock, sleep=clock.sleep) == 0
    assert connection.executed == [("SELECT pg_try_advisory_lock", (advisory_lock.key_of("x"),))]


def test_acquire_waits_until_the_holder_lets_go(clock):
    connection = FakeConnection([False, False, False, True])
    waited = advisory_lock.acquire(connection, "x", timeout=10, poll_interval=2, clock=clock, sleep=clock.sleep)
    assert waited == 6


def test_acquire_gives_up_at_the_deadline_naming_the_holder(clock):
    holder = (4242, "db_migrate demo-prod on web1 pid 7", "10.0.0.5", "2026-11-22 04:00:00+00", None, "idle")
    connection = FakeConnection([False] * 20, [holder])
    with pytest.raises(advisory_lock.LockTimeout) as raised:
        advisory_lock.acquire(connection, "x", timeout=5, poll_interval=2, clock=clock, sleep=clock.sleep)
    # Polls at 0, 2, 4 and a last one at the deadline: never past it.
    assert clock.now == 5
    message = str(raised.value)
    assert "waited 5 s" in message
    assert "backend 4242 (db_migrate demo-prod on web1 pid 7 from 10.0.0.5)" in message
    assert raised.value.holder.endswith("idle")
    assert connection.executed[-1][1] == advisory_lock.key_halves(advisory_lock.key_of("x"))


def test_holder_unknown_when_pg_stat_activity_hides_it(clock):
    connection = FakeConnection([False] * 3)
    with pytest.raises(advisory_lock.LockTimeout, match="holder unknown"):
        advisory_lock.acquire(connection, "x", timeout=1, clock=clock, sleep=clock.sleep)


def test_holder_in_a_transaction_says_since_when():
    row = (1, "", None, "t0", "t1", "active")
    connection = FakeConnection([], [row])
    assert advisory_lock.describe_holder(connection, 1) == (
        "PostgreSQL backend 1 (no application_name), connected since t0, active in a transaction since t1"
    )


def test_release_unlocks_the_same_key():
    connection = FakeConnection([])
    advisory_lock.release(connection, "x")
    assert connection.executed == [("SELECT pg_advisory_unlock", (advisory_lock.key_of("x"),))]
