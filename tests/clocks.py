"""A monotonic clock for tests: seconds that only move when told to, or when the code under test
sleeps on it, so retries and caches are tested without waiting."""

from __future__ import annotations


class FakeClock:
    """Monotonic seconds that only move when told to, or when the store sleeps."""

    def __init__(self, start: float = 10_000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds
