"""Fixtures of the integration tests shared across modules: the local HubSpot API holding an
account set up as `dealreg init-hubspot` makes it, and the tests' clock."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.clocks import FakeClock
from tests.fakes.hubspot_api import FakeHubSpotAPI, fake_hubspot_api
from tests.integrations.hubspot_support import new_account


@pytest.fixture
def fake() -> Iterator[FakeHubSpotAPI]:
    """The local HubSpot API with dealreg's properties (a module may use an empty account instead)."""
    for api in fake_hubspot_api():
        new_account(api)
        yield api
        assert api.errors == [], "the fake itself raised:\n" + "\n".join(api.errors)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()
