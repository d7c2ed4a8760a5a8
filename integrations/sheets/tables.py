"""Whole tabs of the spreadsheet as rows of strings (`dealreg import` / `dealreg export`, the
Decisions tab a redelivery is answered from): read with one values.get, written with one atomic
batchUpdate. The store (integrations/sheets/store.py) flushes its buffered events before a read of
Decisions and forgets its cache after a write."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from dealreg.errors import StoreError
from integrations.sheets.cells import append_request, row_dicts, string_cell, update_requests
from integrations.sheets.layout import ALL_TABS, INIT_HELP, Layout, layout_error, read_layout
from integrations.sheets.transport import Ambiguous, SheetsAPI, Tab
from integrations.store.contract import LogEntry
from integrations.store.rows import COLUMNS, check_table, log_from_row, log_to_row, validated_rows

ID_COLUMN = {"registrations": "registration_id", "decisions": "event_id"}
"""The tables whose rows are kept by id (an import rewrites the row with the same id); the others
are lists an import replaces whole."""


def _layout(tab: Tab, table: str, values: list[list[object]]) -> Layout:
    layout = read_layout(table, tab.title, values[0] if values else [])
    if layout.problems:
        raise layout_error(layout.problems)
    return layout


def decision_rows(api: SheetsAPI, deadline: float) -> list[dict[str, str]]:
    """Every Decisions row (one values.get), a repeated event (written twice by a retry) once."""
    tab = api.tab("decisions", deadline)
    values = api.get(tab, "the decisions read", deadline)
    seen: set[str] = set()
    rows = []
    for row in row_dicts(_layout(tab, "decisions", values), values):
        if row and row.get("event_id") not in seen:
            seen.add(row.get("event_id", ""))
            rows.append(row)
    return rows


def read_rows(api: SheetsAPI, table: str) -> list[dict[str, str]]:
    """The rows of one tab, our columns only."""
    check_table(table)
    deadline = api.deadline()
    if table == "decisions":
        return decision_rows(api, deadline)
    if table == "aliases" and "aliases" not in api.metadata(deadline):
        return []  # the Aliases tab is optional: a Sheet without it has no other names
    tab = api.tab(table, deadline)
    values = api.get(tab, f"the {table} read", deadline)
    layout = _layout(tab, table, values)
    if table in ("registrations", "partners"):  # partners: joined_at typed as a date
        values = api.reading.dated(layout, values)
    return [r for r in row_dicts(layout, values) if r]


def write_rows(api: SheetsAPI, table: str, rows: Iterable[Mapping[str, str]]) -> int:
    """registrations and decisions: add rows, rewriting those whose id is on file; partners,
    territories, named-accounts, aliases: replace the list (an Aliases tab is created when missing).
    Every row is checked first; the write is one atomic batchUpdate (repeated after an ambiguous
    failure, which is safe: it is recomputed from a fresh read). Returns the row count."""
    clean = validated_rows(table, rows)
    deadline = api.deadline()
    if table == "aliases" and "aliases" not in api.metadata(deadline, fresh=True):
        return _new_aliases_tab(api, clean, deadline)
    tab = api.tab(table, deadline)
    key = ID_COLUMN.get(table)
    attempt = 0
    while True:
        values = api.get(tab, f"the {table} read", deadline)
        layout = _layout(tab, table, values)
        unplaced = sorted({name for row in clean for name, value in row.items()
                           if value and name not in layout.columns})
        if unplaced:  # an optional column (OPTIONAL_COLUMNS) the tab lacks: never drop its values silently
            raise StoreError(f"{tab.title}: no column for {', '.join(unplaced)}; add a header cell "
                             f"{unplaced[0]!r} to the tab (any position), then import again")
        requests_: list[dict[str, Any]] = []
        if key is None:
            if len(values) > 1:
                requests_.append({"deleteDimension": {"range": {
                    "sheetId": tab.sheet_id, "dimension": "ROWS", "startIndex": 1, "endIndex": len(values)}}})
            new = clean
        else:
            where = {row[key]: i for i, row in reversed(list(enumerate(row_dicts(layout, values)))) if row}
            new = []
            for row in clean:
                if row[key] in where:
                    requests_ += update_requests(tab.sheet_id, layout, where[row[key]] + 1, row)
                else:
                    new.append(row)
        if new:
            requests_.append(append_request(tab.sheet_id, layout, new))
        if not requests_:
            return 0
        try:
            api.write(requests_, f"the {table} import", deadline)
        except Ambiguous as exc:
            api.backoff(attempt, str(exc), f"the {table} import", deadline)
            attempt += 1
            continue
        return len(clean)


def _new_aliases_tab(api: SheetsAPI, clean: Sequence[Mapping[str, str]], deadline: float) -> int:
    """The Aliases tab a Sheet made before it lacks, created with its header and the rows in one
    atomic batchUpdate (the new tab's sheetId is ours to choose, so the rows can name it)."""
    columns = COLUMNS["aliases"]
    layout = Layout("aliases", ALL_TABS["aliases"], {c: i for i, c in enumerate(columns)})
    attempt = 0
    while True:
        sheet_id = 1 + secrets.randbelow(2**31 - 2)  # a sheetId is a positive int32; another tab's is refused
        requests_: list[dict[str, Any]] = [
            {"addSheet": {"properties": {"sheetId": sheet_id, "title": layout.title, "gridProperties": {
                "rowCount": max(1000, len(clean) + 1), "columnCount": 26, "frozenRowCount": 1}}}},
            {"updateCells": {"start": {"sheetId": sheet_id, "rowIndex": 0, "columnIndex": 0},
                             "fields": "userEnteredValue", "rows": [{"values": [string_cell(c) for c in columns]}]}},
        ]
        if clean:
            requests_.append(append_request(sheet_id, layout, clean))
        try:
            api.write(requests_, "the aliases import (a new Aliases tab)", deadline)
        except Ambiguous as exc:
            # All or nothing: when the tab is there now, so are the rows.
            if "aliases" in api.metadata(deadline, fresh=True):
                break
            api.backoff(attempt, str(exc), "the aliases import", deadline)
            attempt += 1
            continue
        break
    api.forget_tabs()
    return len(clean)


# -- the Log tab: what dealreg sent (notifications), read back by the sweep ----------------

def append_log(api: SheetsAPI, entries: Sequence[LogEntry]) -> None:
    """Appended to the Log tab (one batchUpdate)."""
    if not entries:
        return
    deadline = api.deadline()
    tab, layout = _log_tab(api, deadline)
    api.write([append_request(tab.sheet_id, layout, [log_to_row(e) for e in entries], truncate=True)],
              "the log write", deadline, retry_ambiguous=True)


def read_log(api: SheetsAPI, kind: str) -> list[LogEntry]:
    """The Log tab's entries of `kind` (one values.get)."""
    deadline = api.deadline()
    tab = _log_tab(api, deadline)[0]
    values = api.get(tab, "the log read", deadline)
    layout = _log_layout(tab.title, values)
    entries = (log_from_row(row) for row in row_dicts(layout, values) if row)
    return [e for e in entries if e is not None and e.kind == kind]


def _log_tab(api: SheetsAPI, deadline: float) -> tuple[Tab, Layout]:
    try:
        tab = api.tab("log", deadline)
    except StoreError:
        raise StoreError(f"The spreadsheet has no Log tab, where dealreg records what it sent; {INIT_HELP}") from None
    header = api.batch_get([api.range(tab, "1:1")], "the log header", deadline)[0]
    return tab, _log_layout(tab.title, header)


def _log_layout(title: str, values: Sequence[Sequence[object]]) -> Layout:
    layout = read_layout("log", title, values[0] if values else [])
    if layout.problems:
        raise layout_error(layout.problems)
    return layout
