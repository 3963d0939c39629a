import pytest


class FakeResponse:
    """What open_url returns, as far as the health gate reads it."""

    def __init__(self, status, body):
        self.status, self.body = status, body

    def getcode(self):
        return self.status

    def read(self, size):
        return self.body[:size]


@pytest.fixture
def http_response():
    return FakeResponse


class FakeClock:
    """A monotonic clock whose sleep only moves time forward."""

    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


@pytest.fixture
def clock():
    return FakeClock()
