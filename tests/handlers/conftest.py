"""Fixtures of the handler tests. Every test that uses the store (directly, or through
`app` / `client` / `service`) runs once per backend: `[sqlite]` on a temp file, `[sheets]`
on the fake Sheets API through the real gspread client, `[hubspot]` on the local HubSpot API
through the store's own `requests` client. Mark a test `@pytest.mark.backends("sqlite")` when it
is about one backend's internals."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from config.settings import Settings
from handlers.app import create_app
from integrations.sqlite import SQLiteStore
from tests.fakes.hubspot_api import FakeHubSpotAPI, fake_hubspot_api
from tests.fakes.sheets_api import FakeSheetsAPI, fake_sheets_api
from tests.handlers.support import (
    API_KEY,
    TYPEFORM_SECRET,
    Ids,
    StepClock,
    hubspot_store,
    is_setting,
    sheets_store,
    write_rules,
)
from tests.integrations.hubspot_support import new_account
from tests.integrations.sheets_support import new_sheet

BACKENDS = ("sqlite", "sheets", "hubspot")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "backends(*names): run the test only on these stores (default: all)")


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        marker = metafunc.definition.get_closest_marker("backends")
        metafunc.parametrize("backend", marker.args if marker else BACKENDS)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings in tests come from the test, never from the developer's shell."""
    import os

    for name in list(os.environ):
        if is_setting(name):
            monkeypatch.delenv(name)


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(_env_file=None, db=tmp_path / "dealreg.db", rules=write_rules(tmp_path),
                    typeform_secret=TYPEFORM_SECRET, api_key=API_KEY)


@pytest.fixture(scope="session")
def sheets_server() -> Iterator[FakeSheetsAPI]:
    """One fake Sheets API for the session; `sheets_api` empties it for each test."""
    yield from fake_sheets_api()


@pytest.fixture
def sheets_api(sheets_server: FakeSheetsAPI) -> Iterator[FakeSheetsAPI]:
    """The fake, holding one spreadsheet (SID) in SPEC's layout and nothing else."""
    sheets_server.reset()
    new_sheet(sheets_server)
    yield sheets_server
    assert sheets_server.errors == [], "the fake itself raised:\n" + "\n".join(sheets_server.errors)


@pytest.fixture(scope="session")
def hubspot_server() -> Iterator[FakeHubSpotAPI]:
    """One local HubSpot API for the session; `hubspot_api` empties it for each test."""
    yield from fake_hubspot_api()


@pytest.fixture
def hubspot_api(hubspot_server: FakeHubSpotAPI) -> Iterator[FakeHubSpotAPI]:
    """The local HubSpot API, holding an account set up by `dealreg init-hubspot` and nothing else.
    The search index lags writes as HubSpot's does; the rate limits are out of the way."""
    hubspot_server.reset()
    new_account(hubspot_server)
    yield hubspot_server
    assert hubspot_server.errors == [], "the fake itself raised:\n" + "\n".join(hubspot_server.errors)


@pytest.fixture
def other_hubspot_api() -> Iterator[FakeHubSpotAPI]:
    """A second HubSpot account (another local API), for copying data between two accounts."""
    for api in fake_hubspot_api():
        new_account(api)
        yield api


@pytest.fixture
def reopen(backend: str, settings: Settings, request: pytest.FixtureRequest) -> Callable[[], Any]:
    """Opens another store on this test's data: a restart, or another process."""
    if backend == "sqlite":
        return lambda: SQLiteStore(settings.db)
    if backend == "hubspot":
        api = request.getfixturevalue("hubspot_api")
        return lambda: hubspot_store(api)
    api = request.getfixturevalue("sheets_api")
    return lambda: sheets_store(api)


@pytest.fixture
def store(reopen):
    store = reopen()
    yield store
    store.close()


@pytest.fixture
def app(settings, store):
    return create_app(settings, store, clock=StepClock(), new_id=Ids())


@pytest.fixture
def client(app):
    return app.test_client()
