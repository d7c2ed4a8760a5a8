"""Fixtures of the handler tests. Every test that uses the store (directly, or through
`app` / `client` / `service`) runs once per backend: `[sqlite]` on a temp file, `[sheets]`
on the fake Sheets API through the real gspread client. Mark a test
`@pytest.mark.backends("sqlite")` when it is about one backend's internals."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from config.settings import Settings
from handlers.app import create_app
from integrations.sqlite import SQLiteStore
from tests.fakes.sheets_api import FakeSheetsAPI, fake_sheets_api
from tests.handlers.support import API_KEY, TYPEFORM_SECRET, Ids, StepClock, is_setting, sheets_store, write_rules
from tests.integrations.sheets_support import new_sheet

BACKENDS = ("sqlite", "sheets")


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


@pytest.fixture
def reopen(backend: str, settings: Settings, request: pytest.FixtureRequest) -> Callable[[], Any]:
    """Opens another store on this test's data: a restart, or another process."""
    if backend == "sqlite":
        return lambda: SQLiteStore(settings.db)
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
