"""Fixtures for the whole suite: no test reaches the internet, and the local Sheets API."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.fakes.sheets_api import FakeSheetsAPI, fake_sheets_api, loopback_only


@pytest.fixture(autouse=True)
def no_internet() -> Iterator[list[str]]:
    """Every test runs with DNS for non-loopback hosts failing, so nothing leaves the machine,
    and a test that even tried fails."""
    with loopback_only() as refused:
        yield refused
    assert refused == [], f"a test tried to reach {refused}"


@pytest.fixture
def api() -> Iterator[FakeSheetsAPI]:
    """A local Google Sheets v4 API on loopback; the test fails if the fake itself raised."""
    for fake in fake_sheets_api():
        yield fake
        assert fake.errors == [], "the fake itself raised:\n" + "\n".join(fake.errors)
