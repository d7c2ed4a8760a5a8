"""Helpers shared by the handler tests: fixed clock and ids, a rules file, a real
server on loopback, a store fake that is down, and Sheets and HubSpot stores on their fakes."""

from __future__ import annotations

import itertools
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import waitress

from dealreg.errors import StoreUnavailable
from integrations.sqlite import SQLiteStore
from integrations.store import Health
from integrations.typeform import SIGNATURE_HEADER, sign

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def is_setting(name: str) -> bool:
    """A DEALREG_* setting, which tests take from the test and never from the shell."""
    return name.startswith("DEALREG_")


def environment_without_settings() -> dict[str, str]:
    """This process's environment for a subprocess, without the developer's settings."""
    return {k: v for k, v in os.environ.items() if not is_setting(k)}


TYPEFORM_SECRET = "test-typeform-secret"
API_KEY = "test-api-key"
AUTH = {"Authorization": f"Bearer {API_KEY}"}

RULES = """\
version: 1
protection_days: 90
rules:
  - qualification:
      reject_free_mail_without_website: true
  - expiry
  - same_party
  - named_accounts
  - partner_territory
  - first_to_register
"""


def write_rules(folder: Path) -> Path:
    path = folder / "rules.yaml"
    path.write_text(RULES, encoding="utf-8")
    return path


class StepClock:
    """A clock that starts at `start` and moves one second per reading, so every
    decision has its own time and tests are reproducible."""

    def __init__(self, start: datetime = NOW) -> None:
        self._next = start
        self._lock = threading.Lock()

    def __call__(self) -> datetime:
        with self._lock:
            now, self._next = self._next, self._next + timedelta(seconds=1)
            return now


class Ids:
    """R-000000000001, R-000000000002, …"""

    def __init__(self) -> None:
        self._count = itertools.count(1)
        self._lock = threading.Lock()

    def __call__(self) -> str:
        with self._lock:
            return f"R-{next(self._count):012x}"


def signed(raw: bytes, secret: str = TYPEFORM_SECRET) -> dict[str, str]:
    return {SIGNATURE_HEADER: sign(raw, secret), "Content-Type": "application/json"}


def counts(store: SQLiteStore) -> tuple[int, int]:
    """(registrations, decision events) in the store."""
    return store.count("registrations"), store.count("decisions")


@contextmanager
def live_server(app: object, threads: int = 8) -> Iterator[str]:
    """The app under waitress on 127.0.0.1 and a free port; yields the base URL."""
    server = waitress.create_server(app, host="127.0.0.1", port=0, threads=threads)
    thread = threading.Thread(target=server.run, name="waitress", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        # Close from inside the server's own loop thread (closing its sockets from here
        # would pull them from under select()); the loop ends once its map is empty.
        server.trigger.pull_trigger(server.close)
        thread.join(timeout=10)
        assert not thread.is_alive(), "the test server did not stop"


class DownStore:
    """A store whose backend does not answer: every call raises StoreUnavailable."""

    backend = "down"

    def _down(self, *args: object, **kwargs: object) -> None:
        raise StoreUnavailable("the test store is down")

    serialized = True
    changes = session = first_decision = record_event = _down
    partners = territories = named_accounts = _down

    def health(self) -> Health:
        return Health(False, self.backend, "the test store is down")

    def close(self) -> None:
        pass


def sheets_store(api: Any, sheet_id: str = "") -> Any:
    """A Sheets store on the fake Sheets API. Cache time 0: the handler suites expect every
    read to see the other instances' writes at once, as SQLite does (the cache has its own
    tests in tests/integrations/test_sheets.py)."""
    from integrations.sheets import SheetsStore
    from tests.fakes.sheets_api import gspread_client_for
    from tests.integrations.sheets_support import SID

    return SheetsStore(gspread_client_for(api.base_url), sheet_id or SID, cache_seconds=0)


def sheets_environment(api: Any, sheet_id: str = "") -> dict[str, str]:
    """DEALREG_* variables that point a CLI run or a subprocess at the fake Sheets API."""
    from tests.integrations.sheets_support import SID

    return {"DEALREG_STORE": "sheets", "DEALREG_SHEET_ID": sheet_id or SID, "DEALREG_SHEETS_API_URL": api.base_url,
            "DEALREG_SHEETS_CACHE_SECONDS": "0"}


def store_from(env: dict[str, str]) -> Any:
    """The store the DEALREG_* variables in `env` name (what a CLI run with `env` opens)."""
    from config.settings import Settings
    from handlers.stores import open_store

    fields = {k.removeprefix("DEALREG_").lower(): v for k, v in env.items() if k.startswith("DEALREG_")}
    return open_store(Settings(_env_file=None, **fields))


def hubspot_store(api: Any) -> Any:
    """A HubSpot store on the local HubSpot API. Cache time 0: the handler suites expect every read
    to see the other instances' writes (once HubSpot's search index has them), as SQLite does."""
    from tests.integrations.hubspot_support import store_for

    return store_for(api)


def hubspot_environment(api: Any) -> dict[str, str]:
    """DEALREG_* variables that point a CLI run or a subprocess at the local HubSpot API."""
    return {"DEALREG_STORE": "hubspot", "DEALREG_HUBSPOT_TOKEN": api.token, "DEALREG_HUBSPOT_API_URL": api.base_url,
            "DEALREG_HUBSPOT_CACHE_SECONDS": "0"}


def store_environment(backend: str, request: Any) -> dict[str, str]:
    """The DEALREG_* variables of the shared store of a `backend` test (sheets or hubspot)."""
    if backend == "sheets":
        return sheets_environment(request.getfixturevalue("sheets_api"))
    return hubspot_environment(request.getfixturevalue("hubspot_api"))


def search_index_catches_up(request: Any) -> None:
    """On the HubSpot backend, let the local API's clock pass its search lag, as real time would
    between two requests a minute apart; nothing on the other backends."""
    if "hubspot" in request.node.callspec.params.get("backend", ""):
        api = request.getfixturevalue("hubspot_api")
        api.advance(api.search_lag_seconds + 1)
