"""Helpers for tests of the Google Sheets store: a spreadsheet in SPEC's layout on the
fake Sheets API, a store on it with a fake clock, and a service that can be held between its
read and its write (for races)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

from dealreg.models import Decision
from dealreg.rules import RuleSet
from handlers.service import Service
from integrations.sheets import SheetsStore
from integrations.sheets.layout import ALL_TABS
from integrations.store import Write
from integrations.store.rows import COLUMNS
from tests.fakes.sheets_api import FakeSheetsAPI, gspread_client_for
from tests.clocks import FakeClock  # noqa: F401  (re-exported for the tests that import it from here)

SID = "1dealregSheetsStoreTest"


def tab_rows(table: str, rows: Sequence[Mapping[str, Any]] = (), columns: Sequence[str] | None = None) -> list[list[Any]]:
    """A tab's values: the header (SPEC's columns, or `columns`), then the rows."""
    header = list(columns or COLUMNS[table])
    return [header] + [[row.get(c, "") for c in header] for row in rows]


def new_sheet(api: FakeSheetsAPI, sid: str = SID, *, locale: str = "en_US", time_zone: str = "Etc/GMT",
              **tabs: list[list[Any]] | None) -> str:
    """A spreadsheet with every dealreg tab (SPEC headers, and the operations' Log), `tabs` overriding some by table
    name with underscores (named_accounts=…); None leaves that tab out. `locale` and
    `time_zone` are the spreadsheet's settings (File → Settings)."""
    sheets: dict[str, list[list[Any]] | None] = {}
    for table, title in ALL_TABS.items():
        key = table.replace("-", "_")
        if key in tabs and tabs[key] is None:
            continue
        sheets[title] = tabs.get(key) or tab_rows(table)
    return api.create_spreadsheet(sid, sheets=sheets, locale=locale, time_zone=time_zone)


def store_for(api: FakeSheetsAPI, sid: str = SID, clock: FakeClock | None = None, **options: Any) -> SheetsStore:
    clock = clock or FakeClock()
    return SheetsStore(gspread_client_for(api.base_url), sid, clock=clock, sleep=clock.sleep,
                       rand=lambda: 0.5, **options)


def reg_row(rid: str, company: str, domain: str, partner: str, submitted_at: str, **more: str) -> dict[str, str]:
    """A Registrations row as a partner manager (or dealreg) would have it."""
    return {"registration_id": rid, "submitted_at": submitted_at, "source": "api", "partner": partner,
            "company_name": company, "company_domain": domain, "state": "open", "owner": partner,
            "status": "clear", "rule": "no_match", "reason": "", **more}


class PausingService(Service):
    """A Service with a fixed stamp and id whose n-th decision (0-based; a race re-decides) first
    runs `before(n)`, so a test can hold a writer between its fresh read and its write.
    `calls` holds every decision it made."""

    def __init__(self, store: Any, rules: RuleSet, rid: str, now: datetime,
                 before: Callable[[int], None] | None = None) -> None:
        super().__init__(store, rules, clock=lambda: now, new_id=lambda: rid)
        self.before = before
        self.calls: list[Decision] = []

    def _write(self, *args: Any) -> Write:
        if self.before is not None:
            self.before(len(self.calls))
        write = super()._write(*args)
        self.calls.append(write.event.decision)
        return write


def rows_of(api: FakeSheetsAPI, title: str, sid: str = SID) -> list[dict[str, str]]:
    """The stored rows of a tab as {header: text}."""
    values = api.values(sid, title)
    if not values:
        return []
    header = values[0]
    return [{h: (row[i] if i < len(row) else "") for i, h in enumerate(header)} for row in values[1:] if any(row)]


__all__ = ["SID", "FakeClock", "PausingService", "new_sheet", "reg_row", "rows_of", "store_for", "tab_rows"]
