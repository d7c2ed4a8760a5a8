"""Cells as dealreg reads and writes them: text always written as a string (never a formula),
numbers and DUNS read back as text, dates read in the spreadsheet's locale and time zone, and the
batchUpdate requests that write rows of cells."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta, timezone, tzinfo
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dealreg import dates
from dealreg.errors import InputError, StoreError
from dealreg.normalise import defang, undefang
from dealreg.values import number_text
from integrations.sheets.layout import Layout

DATE_COLUMNS = ("submitted_at", "expires_at", "joined_at")
"""The columns that hold dates: the Registrations tab's two, and the Partners tab's joined_at."""
MAX_CELL_CHARS = 50_000  # Google refuses a longer cell with a 400


def cell_text(value: object) -> str:
    """A value as read (UNFORMATTED_VALUE: str, int, float or bool) as our text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number_text(value)  # 48000, not 48000.0; 123.456 as 123.4560, never read back as 123456
    return undefang("" if value is None else str(value))


def string_cell(value: str) -> dict[str, Any]:
    """One cell to write: always a string (never a formula), defanged; {} leaves it empty."""
    return {"userEnteredValue": {"stringValue": defang(value)}} if value else {}


def row_dicts(layout: Layout, values: Sequence[Sequence[object]]) -> list[dict[str, str]]:
    """The data rows (row 2 on) as {our column: text}; a row blank in our columns is {}."""
    rows: list[dict[str, str]] = []
    duns = layout.columns.get("duns")
    for raw in values[1:]:
        row = {name: cell_text(raw[i]) if i < len(raw) else "" for name, i in layout.columns.items()}
        if duns is not None and duns < len(raw) and is_number(raw[duns]):
            # A DUNS typed into a cell becomes a number and loses its leading zeros (012345678 -> 12345678).
            row["duns"] = f"{int(raw[duns]):09d}"  # type: ignore[call-overload]
        rows.append(row if any(v.strip() for v in row.values()) else {})
    return rows


def is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer()


@dataclass(frozen=True, slots=True)
class Reading:
    """How this spreadsheet's dates read, from its spreadsheets.get properties (fetched once,
    with the tabs): `locale` for a date typed as text, `timeZone` for every date that carries
    no offset (SpreadsheetProperties,
    https://developers.google.com/sheets/api/reference/rest/v4/spreadsheets#SpreadsheetProperties).

    A date cell (typed as a partner manager's spreadsheet shows dates, or formatted as a
    date) is read as its serial number: days since 1899-12-30, a wall-clock time in the
    spreadsheet's time zone, since "date and time serial numbers don't store a time zone
    offset" (https://developers.google.com/sheets/api/guides/formats#about_date_time_values).
    Text (a plain-text cell, or one typed with a leading ') is read in the locale's
    day/month/year order (`dealreg.dates`). Either becomes ISO-8601 text with its offset for
    the shared row converter. dealreg's own cells already are (written as strings, with
    the offset) and are kept as written."""

    locale: str = ""
    time_zone: str = ""

    def date(self, value: object) -> object:
        """One date cell as read (UNFORMATTED_VALUE, SERIAL_NUMBER). A value that is no date
        is left as it is, for the row converter to refuse with the cell's name."""
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            try:
                wall = dates.from_serial(float(value))
            except ValueError:
                return value
            return wall.replace(tzinfo=zone(self.time_zone)).isoformat()
        if isinstance(value, str) and value.strip():
            try:
                moment = dates.read_date(value, self.locale)
            except ValueError:
                return value
            if moment.tzinfo is not None:
                return value
            return moment.replace(tzinfo=zone(self.time_zone)).isoformat()
        return value

    def dated(self, layout: Layout, values: list[list[object]]) -> list[list[object]]:
        """A tab as read (`layout`: its header), its date columns as ISO-8601 text."""
        if len(values) < 2:
            return values
        columns = [layout.columns[c] for c in DATE_COLUMNS if c in layout.columns]
        out = [values[0]]
        for raw in values[1:]:
            if any(i < len(raw) and raw[i] != "" for i in columns):
                raw = list(raw)
                for i in columns:
                    if i < len(raw):
                        raw[i] = self.date(raw[i])
            out.append(raw)
        return out


CUSTOM_ZONE = re.compile(r"(?:GMT|UTC)(?:([+-])(\d{1,2})(?::?(\d{2}))?)?")


@lru_cache(maxsize=64)
def zone(name: str) -> tzinfo:
    """A spreadsheet's timeZone: a CLDR name (`America/New_York`), or the custom offset
    (`GMT-07:00`) Google gives for a zone it does not recognise (SpreadsheetProperties)."""
    custom = CUSTOM_ZONE.fullmatch(name.strip())
    if custom:
        sign = -1 if custom[1] == "-" else 1
        return timezone(sign * timedelta(hours=int(custom[2] or 0), minutes=int(custom[3] or 0)))
    if not name.strip():
        raise StoreError("The spreadsheet reports no time zone, so a date typed without one cannot be placed; "
                         "set it under File → Settings → Time zone, or type the date as ISO-8601 with an offset")
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        raise StoreError(f"The spreadsheet's time zone {name!r} is not in the time zone database, so a date typed "
                         f"without one cannot be placed; choose another under File → Settings → Time zone, or "
                         f"update the tzdata package (pip install -U tzdata)") from None


def row_cells(layout: Layout, row: Mapping[str, str], truncate: bool = False) -> list[dict[str, Any]]:
    """A row to write, at the sheet's own positions; other columns get an empty cell. A value
    too long for a cell is refused (InputError), or cut short in an audit event (`truncate`),
    which must never block the buffer it sits in."""
    cells: list[dict[str, Any]] = [{} for _ in range(layout.width)]
    for name, index in layout.columns.items():
        value = row.get(name, "")
        if len(value) > MAX_CELL_CHARS - 1:  # room for the defanging quote
            if not truncate:
                raise InputError([(name, f"is longer than the {MAX_CELL_CHARS:,} characters a Google Sheets "
                                         f"cell holds")])
            value = value[:MAX_CELL_CHARS - 2] + "…"
        cells[index] = string_cell(value)
    return cells


def append_request(sheet_id: int, layout: Layout, rows: Sequence[Mapping[str, str]], *,
                   truncate: bool = False) -> dict[str, Any]:
    """The batchUpdate request that appends `rows` below the last row of the tab (`row_cells`)."""
    return {"appendCells": {"sheetId": sheet_id, "fields": "userEnteredValue",
                            "rows": [{"values": row_cells(layout, row, truncate)} for row in rows]}}


def update_requests(sheet_id: int, layout: Layout, grid_row: int, row: Mapping[str, str]) -> list[dict[str, Any]]:
    """The batchUpdate requests that rewrite our cells of one row: one updateCells per run of
    adjacent columns of ours, so the other columns keep their values."""
    cells = row_cells(layout, row)
    return [{"updateCells": {"start": {"sheetId": sheet_id, "rowIndex": grid_row, "columnIndex": start},
                             "rows": [{"values": cells[start:end + 1]}], "fields": "userEnteredValue"}}
            for start, end in runs(sorted(layout.columns.values()))]


def runs(indexes: Sequence[int]) -> list[tuple[int, int]]:
    """[0, 1, 2, 5, 6] -> [(0, 2), (5, 6)]."""
    runs: list[tuple[int, int]] = []
    for i in indexes:
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs
