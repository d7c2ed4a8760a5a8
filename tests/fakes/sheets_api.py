"""A local fake of the Google Sheets v4 REST API, served over loopback HTTP.

The real, unmodified gspread client talks to it, so tests exercise the same
requests, parameters and error handling as production, without the internet.

How gspread reaches the fake
----------------------------
gspread builds every URL from ``gspread.urls`` (``https://sheets.googleapis.com/v4/
spreadsheets/...``) and sends it through ``client.http_client.session``, a
``google.auth.transport.requests.AuthorizedSession`` (a ``requests.Session``).
We leave gspread alone and change only that session's transport:

* ``https://sheets.googleapis.com/`` is mounted on :class:`LoopbackAdapter`, a
  ``requests`` ``HTTPAdapter`` that rewrites the scheme and host to the fake's base
  URL (``http://127.0.0.1:<port>``) and keeps path and query byte for byte;
* ``https://`` and ``http://`` are mounted on :class:`RefuseAdapter`, so any other
  call this session makes (the Drive API on www.googleapis.com, say) fails at once
  with ``requests.ConnectionError`` instead of leaving the machine.

``requests`` picks the longest matching mount prefix, so only Sheets traffic gets
through. Credentials are :class:`FakeCredentials`: a static bearer token that
``refresh()`` never fetches over the network (``google.oauth2`` credentials would
start a background "regional access boundary" lookup in google-auth 2.62).

Exact code (what :func:`gspread_client_for` does)::

    import gspread
    from tests.fakes.sheets_api import FakeCredentials, redirect_session_to

    client = gspread.Client(auth=FakeCredentials())
    redirect_session_to(client.http_client.session, base_url)  # base_url = api.start()

Production code only needs a seam that accepts a ready ``gspread.Client`` (or a
factory for one); tests pass ``gspread_client_for(api.base_url)``. If the backend
wants an environment override instead (say ``DEALREG_SHEETS_API_URL``), it can
copy the 10 lines of :class:`LoopbackAdapter` and mount it the same way when the
variable is set; nothing in gspread is patched globally either way.

Behaviour worth knowing
-----------------------
* Ranges arrive URL-quoted with ``:append`` / ``:clear`` added after quoting, so
  the raw path is split on the literal verb before unquoting.
* RAW stores strings as text and JSON numbers/booleans as such. USER_ENTERED
  "will be parsed as if the user typed them into the UI" (ValueInputOption): ``=...``
  becomes a formula, a leading ``'`` forces text, numbers (``00123``, ``50%``, and
  ``1,000`` / ``1.000,5`` as the locale groups them), ``TRUE``/``FALSE`` and dates
  (``2026-11-20`` anywhere; ``11/20/2026`` in en_US, ``20.11.2026`` in de_DE,
  ``20/11/2026`` in en_GB, with an optional ``14:30``) are converted, an impossible
  date (``31/02/2026``) stays text, and ``+x`` / ``-x`` that are not numbers become
  formulas. :meth:`FakeSheetsAPI.hand_edit` types values the same way, as a partner
  manager does. A cell formatted as plain text keeps what is typed as text.
* The spreadsheet's ``locale`` and ``timeZone`` are its own (``create_spreadsheet``,
  ``set_properties``, ``updateSpreadsheetProperties``) and spreadsheets.get reports
  them (SpreadsheetProperties). Only the locales in ``LOCALES`` are modelled; any
  other is refused, so no test relies on a guess.
* A date is a serial number: "the days since December 30th 1899", the fraction the
  time of day (DateTimeRenderOption). Reads honour ``valueRenderOption``
  (FORMATTED_VALUE: as the locale shows it, a typed value as it was typed, decimals
  with the locale's separator; UNFORMATTED_VALUE: numbers as numbers; FORMULA:
  formula text) and ``dateTimeRenderOption`` (SERIAL_NUMBER, the default: the
  number; FORMATTED_STRING: as shown), which "is ignored if valueRenderOption is
  FORMATTED_VALUE" (values.get). A number format applied to a range
  (``set_number_format``, or ``repeatCell`` with ``userEnteredFormat.numberFormat``)
  turns its numbers into dates shown in the locale's pattern (DATE, DATE_TIME) or
  back (NUMBER); other formatting is accepted and ignored.
* Formulas are never evaluated: FORMATTED_VALUE and UNFORMATTED_VALUE show
  ``FORMULA_RESULT_PREFIX + text``, so a read-back can never mistake a formula for
  the literal that was sent; FORMULA shows the text.
* Reads clamp open-ended ranges to the grid; writes past the grid answer 400
  "exceeds grid limits" like Google. ``values.append`` grows rows (not columns).
* ``values.append`` finds the table the way Google does in the common cases: the
  first non-empty row inside the range's rows starts it, it extends down while
  rows are non-empty (a blank row ends it), and the new rows go right below, at
  the table's first column. A single-cell range whose cell row is empty writes
  right there (that is what gspread's ``insert_row`` relies on).
* ``spreadsheets.batchUpdate`` and ``values.batchUpdate`` are atomic. Besides the
  sheet requests (addSheet, updateSheetProperties, dimensions …) it takes the two
  cell requests a store writes rows with: ``appendCells`` (new rows after the last
  row with data anywhere in the sheet, growing the grid like Google) and
  ``updateCells`` (at a ``start`` coordinate, or over a ``range`` whose uncovered
  cells are cleared). Only the ``userEnteredValue`` field is stored: a
  ``stringValue`` is text whatever it starts with (never parsed as a number or
  date), ``formulaValue`` a formula, and a cell without a value is cleared when
  ``fields`` names ``userEnteredValue``.
* Faults on demand (:meth:`FakeSheetsAPI.inject`): quota 429s with Google's body,
  JSON 5xx, a 503 after the write was applied, dropped connections, slow answers,
  and Google's front-end HTML error page for a 502 or 503 (applied or not), which
  gspread raises as ``APIError`` with ``code == -1`` (burnash/gspread#1504, #1510).
* Anything not implemented answers 501, so a test that needs it fails loudly.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import re
import socket
import struct
import threading
import time
import traceback
from collections import deque
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Iterator
from urllib.parse import parse_qs, unquote

import google.auth.credentials
import gspread
import requests
from requests.adapters import HTTPAdapter

from tests.fakes.server import Handler, Server

SHEETS_ORIGIN = "https://sheets.googleapis.com"
API_PREFIX = "/v4/spreadsheets/"
FORMULA_RESULT_PREFIX = "#FORMULA:"
MAX_CELL_CHARS = 50_000
MAX_WORKBOOK_CELLS = 10_000_000

KINDS = (
    "spreadsheets.get",
    "spreadsheets.batchUpdate",
    "values.get",
    "values.batchGet",
    "values.update",
    "values.batchUpdate",
    "values.append",
    "values.clear",
    "values.batchClear",
)
READ_KINDS = {"spreadsheets.get", "values.get", "values.batchGet"}
FAULTS = (400, 403, 404, 429, 500, 503, "503-after-write", "reset", "reset-after-write")

# Request types that only change formatting or view state: accepted, ignored, reply {}.
IGNORED_SHEET_REQUESTS = {
    "updateBorders",
    "updateDimensionProperties",
    "autoResizeDimensions",
    "mergeCells",
    "unmergeCells",
    "setBasicFilter",
    "clearBasicFilter",
    "setDataValidation",
    "addConditionalFormatRule",
    "updateConditionalFormatRule",
    "deleteConditionalFormatRule",
}


# --------------------------------------------------------------------------- errors


class ApiError(Exception):
    """An error answered with Google's JSON error body."""

    def __init__(self, code: int, status: str, message: str, details: list | None = None):
        super().__init__(message)
        self.code = code
        self.status = status
        self.message = message
        self.details = details

    def body(self) -> dict:
        error: dict[str, Any] = {"code": self.code, "message": self.message, "status": self.status}
        if self.details is not None:
            error["details"] = self.details
        return {"error": error}


def _bad_request(message: str) -> ApiError:
    return ApiError(400, "INVALID_ARGUMENT", message)


def quota_error(kind: str) -> ApiError:
    """Google's 429 for the per-user read or write quota."""
    read = kind in READ_KINDS
    metric = "Read requests" if read else "Write requests"
    limit = "ReadRequestsPerMinutePerUser" if read else "WriteRequestsPerMinutePerUser"
    return ApiError(
        429,
        "RESOURCE_EXHAUSTED",
        f"Quota exceeded for quota metric '{metric}' and limit '{metric} per minute per user' "
        "of service 'sheets.googleapis.com' for consumer 'project_number:123'.",
        [
            {
                "@type": "type.googleapis.com/google.rpc.ErrorInfo",
                "reason": "RATE_LIMIT_EXCEEDED",
                "domain": "googleapis.com",
                "metadata": {
                    "quota_location": "global",
                    "quota_limit": limit,
                    "quota_limit_value": "60",
                    "quota_metric": "sheets.googleapis.com/" + ("read_requests" if read else "write_requests"),
                    "service": "sheets.googleapis.com",
                    "consumer": "projects/123",
                },
            },
            {
                "@type": "type.googleapis.com/google.rpc.Help",
                "links": [
                    {
                        "description": "Request a higher quota limit.",
                        "url": "https://cloud.google.com/docs/quotas/help/request_increase",
                    }
                ],
            },
        ],
    )


def _fault_error(fault: Any, kind: str) -> ApiError:
    if fault == 429:
        return quota_error(kind)
    if fault == 500:
        return ApiError(500, "INTERNAL", "Internal error encountered.")
    if fault in (503, "503-after-write"):
        return ApiError(503, "UNAVAILABLE", "The service is currently unavailable.")
    if fault == 400:
        return _bad_request("Invalid request (injected fault).")
    if fault == 403:
        return ApiError(403, "PERMISSION_DENIED", "The caller does not have permission")
    if fault == 404:
        return ApiError(404, "NOT_FOUND", "Requested entity was not found.")
    raise AssertionError(f"no error body for fault {fault!r}")


# Google's front end answers some 5xx with its generic HTML error page instead of the API's
# JSON error: gspread met it as a JSONDecodeError inside APIError (burnash/gspread#1504, since
# 6.1.3 an APIError with code -1, #1510); the 502 page with this title and text is quoted in
# akretion/connector-google-spreadsheet#5 and burnash/gspread#1564 (from the token endpoint),
# the 503 page's title "Error 503 (Service Unavailable)!!1" is Google's generic 503 page. The
# markup is trimmed (Google's page also carries a style block and the logo).
_HTML_PAGE = """<!DOCTYPE html>
<html lang=en>
  <meta charset=utf-8>
  <meta name=viewport content="initial-scale=1, minimum-scale=1, width=device-width">
  <title>Error {code} ({title})!!1</title>
  <a href=//www.google.com/><span id=logo aria-label=Google></span></a>
  <p><b>{code}.</b> <ins>That’s an error.</ins>
  <p>{text}  <ins>That’s all we know.</ins>
"""
HTML_PAGES = {
    502: _HTML_PAGE.format(code=502, title="Server Error", text="The server encountered a temporary error and "
                           "could not complete your request.<p>Please try again in 30 seconds."),
    503: _HTML_PAGE.format(code=503, title="Service Unavailable", text="The service is temporarily unavailable."
                           "<p>Please try again in 30 seconds."),
}


class Html(str):
    """A response body that is an HTML page, not JSON."""


# --------------------------------------------------------------------------- A1 notation


def col_letters(index: int) -> str:
    """0 -> 'A', 25 -> 'Z', 26 -> 'AA'."""
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(ord("A") + rem) + letters
    return letters


def col_index(letters: str) -> int:
    """'A' -> 0, 'AA' -> 26."""
    value = 0
    for ch in letters.upper():
        value = value * 26 + ord(ch) - ord("A") + 1
    return value - 1


def quote_sheet_title(title: str) -> str:
    """Quote a sheet title the way Google writes it in response ranges."""
    looks_like_cell = re.fullmatch(r"[A-Za-z]{1,3}\d+|R\d*C\d*", title, re.IGNORECASE)
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", title) and not looks_like_cell:
        return title
    return "'" + title.replace("'", "''") + "'"


@dataclass(frozen=True)
class GridRange:
    """0-based, end-exclusive; None means unbounded on that side."""

    start_row: int | None = None
    end_row: int | None = None
    start_col: int | None = None
    end_col: int | None = None
    single_cell: bool = False

    @property
    def whole_sheet(self) -> bool:
        return self.start_row is None and self.end_row is None and self.start_col is None and self.end_col is None


_CELL = re.compile(r"\$?([A-Za-z]{1,3})\$?([0-9]+)")
_COL = re.compile(r"\$?([A-Za-z]{1,3})")
_ROW = re.compile(r"\$?([0-9]+)")


def _row_number(text: str) -> int:
    number = int(text)
    if number < 1:
        raise ValueError("row 0")
    return number - 1


def parse_a1(a1: str) -> GridRange:
    """Parse the part after '!': '', 'A1', 'A1:C3', 'A2:Z', 'A:C', '1:1', 'A5:5'."""
    a1 = a1.strip()
    if not a1:
        return GridRange()
    if ":" not in a1:
        m = _CELL.fullmatch(a1)
        if not m:
            raise ValueError(a1)
        r, c = _row_number(m[2]), col_index(m[1])
        return GridRange(r, r + 1, c, c + 1, single_cell=True)
    left, right = a1.split(":", 1)
    lc, rc = _CELL.fullmatch(left), _CELL.fullmatch(right)
    if lc and rc:
        r0, r1 = sorted((_row_number(lc[2]), _row_number(rc[2])))
        c0, c1 = sorted((col_index(lc[1]), col_index(rc[1])))
        return GridRange(r0, r1 + 1, c0, c1 + 1)
    if lc and _COL.fullmatch(right):  # A2:Z -> rows from 2 down
        c0, c1 = sorted((col_index(lc[1]), col_index(_COL.fullmatch(right)[1])))
        return GridRange(_row_number(lc[2]), None, c0, c1 + 1)
    if lc and _ROW.fullmatch(right):  # A5:5 (gspread's row_values)
        r0, r1 = sorted((_row_number(lc[2]), _row_number(right.lstrip("$"))))
        return GridRange(r0, r1 + 1, col_index(lc[1]), None)
    lcol, rcol = _COL.fullmatch(left), _COL.fullmatch(right)
    if lcol and rcol:
        c0, c1 = sorted((col_index(lcol[1]), col_index(rcol[1])))
        return GridRange(None, None, c0, c1 + 1)
    lrow, rrow = _ROW.fullmatch(left), _ROW.fullmatch(right)
    if lrow and rrow:
        r0, r1 = sorted((_row_number(lrow[1]), _row_number(rrow[1])))
        return GridRange(r0, r1 + 1, None, None)
    raise ValueError(a1)


def split_sheet_title(text: str) -> tuple[str | None, str]:
    """"'Named accounts'!A1:C" -> ("Named accounts", "A1:C"); "A1:B2" -> (None, "A1:B2")."""
    if text.startswith("'"):
        chars: list[str] = []
        i = 1
        while i < len(text):
            if text[i] == "'":
                if text[i + 1 : i + 2] == "'":  # '' is an escaped quote
                    chars.append("'")
                    i += 2
                    continue
                i += 1
                break
            chars.append(text[i])
            i += 1
        else:
            raise ValueError("unterminated quote")
        rest = text[i:]
        if rest and not rest.startswith("!"):
            raise ValueError(text)
        return "".join(chars), rest[1:]
    if "!" in text:
        title, _, a1 = text.partition("!")
        return title, a1
    return None, text


# --------------------------------------------------------------------------- cells


@dataclass
class Cell:
    kind: str  # text | number | bool | date | formula
    value: Any  # str, int/float, bool, serial day number, or formula text
    display: str | None = None  # how FORMATTED_VALUE shows it when not canonical


@dataclass(frozen=True)
class LocaleRules:
    """What typing means in one spreadsheet locale. USER_ENTERED values "will be parsed as if
    the user typed them into the UI" (ValueInputOption), and the UI reads numbers and dates the
    way the spreadsheet's locale writes them (SpreadsheetProperties.locale); FORMATTED_VALUE
    is "based on the spreadsheet's locale" (ValueRenderOption). The orders and default date
    patterns are CLDR's short date formats for these locales."""

    decimal: str  # decimal separator
    group: str  # thousands separator
    order: str  # "MDY", "DMY" or "YMD": how a numeric date is read
    separator: str  # the separator the locale's dates use (ISO yyyy-mm-dd is read everywhere)
    date_pattern: str  # the default DATE number format, e.g. "M/d/yyyy"


LOCALES = {
    "en_US": LocaleRules(".", ",", "MDY", "/", "M/d/yyyy"),
    "en_GB": LocaleRules(".", ",", "DMY", "/", "dd/MM/yyyy"),
    "de_DE": LocaleRules(",", ".", "DMY", ".", "dd.MM.yyyy"),
    "fr_FR": LocaleRules(",", "\u202f", "DMY", "/", "dd/MM/yyyy"),
    "ja_JP": LocaleRules(".", ",", "YMD", "/", "yyyy/MM/dd"),
}
"""The locales the fake models; any other is refused (501), so a test cannot rely on a guess."""
NUMBER_FORMATS = ("TEXT", "NUMBER", "DATE", "DATE_TIME")
"""NumberFormat types the fake models (Format → Number → Plain text / Number / Date / Date time)."""

_SKIP = object()  # JSON null in a write: leave the cell as it is
_EPOCH = dt.datetime(1899, 12, 30)  # Sheets' day 0: "the days since December 30th 1899" (DateTimeRenderOption)


def _number(value: float) -> int | float:
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    return value


def format_number(value: int | float, rules: LocaleRules = LOCALES["en_US"]) -> str:
    text = str(value) if isinstance(value, int) else "%.15g" % value
    return text.replace(".", rules.decimal)


def _parse_number(text: str, rules: LocaleRules) -> tuple[int | float, str | None] | None:
    """A number as the locale writes it: `1,000.5` in en_US, `1.000,5` in de_DE, `50%`."""
    s = text.strip()
    percent = s.endswith("%")
    core = s[:-1].strip() if percent else s
    decimal, group = re.escape(rules.decimal), re.escape(rules.group)
    display = None
    if re.fullmatch(rf"[+-]?\d{{1,3}}(?:{group}\d{{3}})+(?:{decimal}\d*)?", core):
        display = s
        core = core.replace(rules.group, "")
    if not re.fullmatch(rf"[+-]?(?:\d+(?:{decimal}\d*)?|{decimal}\d+)(?:[eE][+-]?\d+)?", core):
        return None
    value = float(core.replace(rules.decimal, "."))
    if percent:
        value /= 100
        display = s
    elif rules.decimal != "." and rules.decimal in core:
        display = s
    return _number(value), display


_TIME = r"(?:\s+(\d{1,2}):(\d{2})(?::(\d{2}))?)?"


def _parse_date(text: str, rules: LocaleRules) -> int | float | None:
    """A date (and time) as the locale writes it -> its serial number; None if it is not one
    (an impossible date such as 31/02/2026 stays text, as in the UI)."""
    s = text.strip()
    sep = re.escape(rules.separator)
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})" + _TIME, s)
    if m:
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    else:
        m = re.fullmatch(rf"(\d{{1,4}}){sep}(\d{{1,2}}){sep}(\d{{1,4}})" + _TIME, s)
        if not m:
            return None
        a, b, c = int(m[1]), int(m[2]), int(m[3])
        if rules.order == "YMD" and len(m[1]) == 4:
            y, mo, d = a, b, c
        elif rules.order != "YMD" and len(m[3]) == 4:
            y, mo, d = (c, a, b) if rules.order == "MDY" else (c, b, a)
        else:
            return None
    try:
        moment = dt.datetime(y, mo, d, int(m[4] or 0), int(m[5] or 0), int(m[6] or 0))
    except ValueError:
        return None
    serial = (moment - _EPOCH) / dt.timedelta(days=1)
    return _number(serial)


def format_date(serial: int | float, pattern: str) -> str:
    """A serial number shown with a date pattern (yyyy, MM, M, dd, d, HH, mm, ss)."""
    moment = _EPOCH + dt.timedelta(milliseconds=round(serial * 86_400_000))
    tokens = {"yyyy": f"{moment.year:04d}", "MM": f"{moment.month:02d}", "M": str(moment.month),
              "dd": f"{moment.day:02d}", "d": str(moment.day), "HH": f"{moment.hour:02d}",
              "mm": f"{moment.minute:02d}", "ss": f"{moment.second:02d}"}
    return re.sub(r"yyyy|MM|M|dd|d|HH|mm|ss", lambda t: tokens[t[0]], pattern)


def to_cell(value: Any, user_entered: bool, rules: LocaleRules = LOCALES["en_US"],
            number_format: str | None = None) -> Cell | None | object:
    """A JSON value from a write -> Cell, None (clear the cell) or _SKIP (leave it).
    `number_format` is the cell's own (NUMBER_FORMATS): typing into a plain-text cell keeps
    the text, and a number typed into a date cell is a date."""
    if value is None:
        return _SKIP
    if isinstance(value, bool):
        return Cell("bool", value)
    if isinstance(value, (int, float)):
        return _formatted(Cell("number", _number(value)), number_format, rules)
    if not isinstance(value, str):
        raise _bad_request(f"Invalid values: a cell must be a string, number or boolean, got {json.dumps(value)}")
    if len(value) > MAX_CELL_CHARS:
        raise _bad_request(
            f"Your input contains more than the maximum of {MAX_CELL_CHARS} characters in a single cell."
        )
    if value == "":
        return None
    if not user_entered:
        return Cell("text", value)
    if value.startswith("'"):
        return Cell("text", value[1:]) if len(value) > 1 else None
    if number_format == "TEXT":
        return Cell("text", value)
    if value.startswith("=") and len(value) > 1:
        return Cell("formula", value)
    if value.strip().upper() in ("TRUE", "FALSE"):
        return Cell("bool", value.strip().upper() == "TRUE")
    number = _parse_number(value, rules)
    if number is not None:
        return _formatted(Cell("number", number[0], number[1]), number_format, rules)
    serial = _parse_date(value, rules)
    if serial is not None:
        return Cell("date", serial, value.strip())
    if value[0] in "+-" and len(value) > 1:
        return Cell("formula", "=" + value)  # the UI parses +x / -x as a formula
    return Cell("text", value)


def _formatted(cell: Cell, number_format: str | None, rules: LocaleRules) -> Cell:
    """A number or date cell under a cell's number format: a date format shows a number as a
    date (its value stays the serial number); a number format shows a date as its number."""
    if cell.kind in ("number", "date") and number_format in ("DATE", "DATE_TIME"):
        pattern = rules.date_pattern + (" HH:mm:ss" if number_format == "DATE_TIME" else "")
        return Cell("date", cell.value, format_date(cell.value, pattern))
    if cell.kind == "date" and number_format == "NUMBER":
        return Cell("number", cell.value)
    return cell


def render(cell: Cell | None, value_render: str, date_render: str, rules: LocaleRules = LOCALES["en_US"]) -> Any:
    """How values.get shows a cell under valueRenderOption / dateTimeRenderOption. The date
    option "is ignored if valueRenderOption is FORMATTED_VALUE" (values.get)."""
    if cell is None:
        return ""
    formatted = value_render == "FORMATTED_VALUE"
    if cell.kind == "formula":
        return cell.value if value_render == "FORMULA" else FORMULA_RESULT_PREFIX + cell.value
    if cell.kind == "text":
        return cell.value
    if cell.kind == "bool":
        return ("TRUE" if cell.value else "FALSE") if formatted else cell.value
    if cell.kind == "date":
        return cell.display if formatted or date_render == "FORMATTED_STRING" else cell.value
    if formatted:
        return cell.display or format_number(cell.value, rules)
    return cell.value


def stored_text(cell: Cell, rules: LocaleRules = LOCALES["en_US"]) -> str:
    """What a person sees typed into the cell: formula text, literal text, or the number."""
    if cell.kind in ("text", "formula"):
        return cell.value
    return render(cell, "FORMATTED_VALUE", "SERIAL_NUMBER", rules)


# --------------------------------------------------------------------------- state


@dataclass
class Sheet:
    sheet_id: int
    title: str
    row_count: int = 1000
    col_count: int = 26
    frozen_rows: int = 0
    frozen_cols: int = 0
    hidden: bool = False
    cells: dict[tuple[int, int], Cell] = field(default_factory=dict)
    formats: dict[tuple[int, int], str] = field(default_factory=dict)  # number format types (NUMBER_FORMATS)

    def properties(self, index: int) -> dict:
        grid: dict[str, int] = {"rowCount": self.row_count, "columnCount": self.col_count}
        if self.frozen_rows:
            grid["frozenRowCount"] = self.frozen_rows
        if self.frozen_cols:
            grid["frozenColumnCount"] = self.frozen_cols
        props: dict[str, Any] = {
            "sheetId": self.sheet_id,
            "title": self.title,
            "index": index,
            "sheetType": "GRID",
            "gridProperties": grid,
        }
        if self.hidden:
            props["hidden"] = True
        return props

    def a1(self, r0: int, c0: int, r1: int, c1: int) -> str:
        """Google's A1 text for the half-open block [r0, r1) x [c0, c1)."""
        start = f"{col_letters(c0)}{r0 + 1}"
        if r1 - r0 <= 1 and c1 - c0 <= 1:
            return f"{quote_sheet_title(self.title)}!{start}"
        return f"{quote_sheet_title(self.title)}!{start}:{col_letters(c1 - 1)}{r1}"

    def shift_rows(self, at: int, by: int) -> None:
        """Move rows >= at down by `by` (negative: delete rows [at, at-by)); formats move along."""
        self.cells = _shifted(self.cells, 0, at, by)
        self.formats = _shifted(self.formats, 0, at, by)

    def shift_cols(self, at: int, by: int) -> None:
        self.cells = _shifted(self.cells, 1, at, by)
        self.formats = _shifted(self.formats, 1, at, by)

    def truncate(self) -> None:
        self.cells = {k: v for k, v in self.cells.items() if k[0] < self.row_count and k[1] < self.col_count}
        self.formats = {k: v for k, v in self.formats.items() if k[0] < self.row_count and k[1] < self.col_count}


def _shifted(grid: dict[tuple[int, int], Any], axis: int, at: int, by: int) -> dict[tuple[int, int], Any]:
    moved: dict[tuple[int, int], Any] = {}
    for key, item in grid.items():
        if key[axis] < at:
            moved[key] = item
        elif by > 0 or key[axis] >= at - by:
            moved[(key[0] + by, key[1]) if axis == 0 else (key[0], key[1] + by)] = item
    return moved


@dataclass
class Spreadsheet:
    spreadsheet_id: str
    title: str
    sheets: list[Sheet]
    locale: str = "en_US"
    time_zone: str = "Etc/GMT"
    next_sheet_id: int = 1

    @property
    def rules(self) -> LocaleRules:
        return LOCALES[self.locale]

    def metadata(self) -> dict:
        return {
            "spreadsheetId": self.spreadsheet_id,
            "properties": {
                "title": self.title,
                "locale": self.locale,
                "autoRecalc": "ON_CHANGE",
                "timeZone": self.time_zone,
                "defaultFormat": {
                    "backgroundColor": {"red": 1, "green": 1, "blue": 1},
                    "verticalAlignment": "BOTTOM",
                    "wrapStrategy": "OVERFLOW_CELL",
                    "textFormat": {"fontFamily": "arial,sans,sans-serif", "fontSize": 10},
                },
            },
            "sheets": [{"properties": s.properties(i)} for i, s in enumerate(self.sheets)],
            "spreadsheetUrl": f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit",
        }

    def sheet_by_title(self, title: str) -> Sheet | None:
        # Sheet titles are unique regardless of case in Google Sheets.
        wanted = title.casefold()
        return next((s for s in self.sheets if s.title.casefold() == wanted), None)

    def sheet_by_id(self, sheet_id: int) -> Sheet | None:
        return next((s for s in self.sheets if s.sheet_id == sheet_id), None)

    def total_cells(self) -> int:
        return sum(s.row_count * s.col_count for s in self.sheets)

    def resolve(self, text: str) -> tuple[Sheet, GridRange]:
        """A1 text from a request -> (sheet, grid range); 400 like Google if it cannot."""
        try:
            title, a1 = split_sheet_title(text)
            if title is None:
                sheet = self.sheet_by_title(text)
                if sheet is not None:  # a bare sheet title means the whole sheet
                    return sheet, GridRange()
                sheet = next(s for s in self.sheets if not s.hidden)
                return sheet, parse_a1(a1)
            sheet = self.sheet_by_title(title)
            if sheet is None:
                raise ValueError(title)
            return sheet, parse_a1(a1)
        except (ValueError, StopIteration):
            raise _bad_request(f"Unable to parse range: {text}") from None


def _grid_error(sheet: Sheet, row: int, col: int) -> ApiError:
    return _bad_request(
        f"Range ({quote_sheet_title(sheet.title)}!{col_letters(col)}{row + 1}) exceeds grid limits. "
        f"Max rows: {sheet.row_count}, max columns: {sheet.col_count}"
    )


def _read_box(sheet: Sheet, grid: GridRange) -> tuple[int, int, int, int]:
    """Clamp a read range to the grid; its start must lie inside the grid."""
    r0, c0 = grid.start_row or 0, grid.start_col or 0
    if r0 >= sheet.row_count or c0 >= sheet.col_count:
        raise _grid_error(sheet, r0, c0)
    r1 = sheet.row_count if grid.end_row is None else min(grid.end_row, sheet.row_count)
    c1 = sheet.col_count if grid.end_col is None else min(grid.end_col, sheet.col_count)
    return r0, c0, r1, c1


def _shape(values: list) -> tuple[int, int]:
    return len(values), max((len(row) for row in values), default=0)


def _normalise_values(body_values: Any, major: str | None) -> list[list[Any]]:
    """Request 'values' -> rows of cells (transposing COLUMNS input)."""
    if body_values is None:
        return []
    if not isinstance(body_values, list) or not all(isinstance(row, list) for row in body_values):
        raise _bad_request("Invalid values: expected a list of lists.")
    if major == "COLUMNS":
        height = max((len(col) for col in body_values), default=0)
        return [[col[r] if r < len(col) else None for col in body_values] for r in range(height)]
    if major not in (None, "ROWS", "DIMENSION_UNSPECIFIED"):
        raise _bad_request(f"Invalid value at 'data.major_dimension' ({major})")
    return body_values


def _check_write(sheet: Sheet, grid: GridRange, r0: int, c0: int, rows: list[list[Any]], bounded: bool) -> None:
    """Raise like Google when a block of values does not fit its range or the grid."""
    height, width = _shape(rows)
    if r0 >= sheet.row_count or c0 >= sheet.col_count:
        raise _grid_error(sheet, r0, c0)
    if bounded:
        wanted = sheet.a1(
            r0,
            c0,
            sheet.row_count if grid.end_row is None else grid.end_row,
            sheet.col_count if grid.end_col is None else grid.end_col,
        )
        if grid.end_row is not None and r0 + height > grid.end_row:
            raise _bad_request(
                f"Requested writing within range [{wanted}], but tried writing to row [{grid.end_row + 1}]"
            )
        if grid.end_col is not None and c0 + width > grid.end_col:
            raise _bad_request(
                f"Requested writing within range [{wanted}], but tried writing to column "
                f"[{col_letters(grid.end_col)}]"
            )
    if r0 + height > sheet.row_count:
        raise _grid_error(sheet, sheet.row_count, c0)
    if c0 + width > sheet.col_count:
        raise _grid_error(sheet, r0, sheet.col_count)


def _write(sheet: Sheet, r0: int, c0: int, rows: list[list[Any]], user_entered: bool,
           rules: LocaleRules = LOCALES["en_US"]) -> dict:
    """Write already-checked values (USER_ENTERED ones parsed in the spreadsheet's locale,
    under each cell's number format); returns Google's update counts."""
    converted = [[to_cell(v, user_entered, rules, sheet.formats.get((r0 + i, c0 + j))) for j, v in enumerate(row)]
                 for i, row in enumerate(rows)]  # may raise before writing
    cells = 0
    for i, row in enumerate(converted):
        for j, cell in enumerate(row):
            if cell is _SKIP:
                continue
            cells += 1
            if cell is None:
                sheet.cells.pop((r0 + i, c0 + j), None)
            else:
                sheet.cells[(r0 + i, c0 + j)] = cell
    height, width = _shape(rows)
    return {
        "updatedRange": sheet.a1(r0, c0, r0 + max(height, 1), c0 + max(width, 1)),
        "updatedRows": height,
        "updatedColumns": width,
        "updatedCells": cells,
    }


def read_values(sheet: Sheet, box: tuple[int, int, int, int], major: str, value_render: str, date_render: str,
                rules: LocaleRules = LOCALES["en_US"]) -> list:
    """Rendered values of a block, trimmed like Google (trailing empties dropped)."""
    r0, c0, r1, c1 = box
    present = [(r, c) for (r, c) in sheet.cells if r0 <= r < r1 and c0 <= c < c1]
    if not present:
        return []
    last_r = max(r for r, _ in present)
    last_c = max(c for _, c in present)
    if major == "COLUMNS":
        outer = [[sheet.cells.get((r, c)) for r in range(r0, last_r + 1)] for c in range(c0, last_c + 1)]
    else:
        outer = [[sheet.cells.get((r, c)) for c in range(c0, last_c + 1)] for r in range(r0, last_r + 1)]
    result = []
    for line in outer:
        while line and line[-1] is None:
            line.pop()
        result.append([render(cell, value_render, date_render, rules) for cell in line])
    while result and not result[-1]:
        result.pop()
    return result


def _find_table(sheet: Sheet, grid: GridRange) -> tuple[int, int, int, int] | None:
    """The table values.append appends to, as (r0, c0, r1, c1), or None if none."""
    r0, c0 = grid.start_row or 0, grid.start_col or 0
    # A single cell, or a range without columns, searches rightwards to the grid's edge.
    c1 = sheet.col_count if grid.single_cell or grid.end_col is None else grid.end_col
    search_end = sheet.row_count if grid.end_row is None else grid.end_row
    rows_with_data = {r for (r, c) in sheet.cells if c0 <= c < c1}
    first = next((r for r in sorted(rows_with_data) if r0 <= r < search_end), None)
    if first is None:
        return None
    last = first
    while last + 1 in rows_with_data:  # a blank row ends the table
        last += 1
    cols = [c for (r, c) in sheet.cells if first <= r <= last and c0 <= c < c1]
    return first, min(cols), last + 1, max(cols) + 1


def _writes_values(fields: Any) -> bool:
    """Whether a cell request's field mask covers the cell values (formatting is ignored)."""
    names = {f.strip() for f in (fields or "").split(",") if f.strip()}
    if not names:
        raise _bad_request("At least one field must be updated, but none were specified.")
    return "*" in names or "userEnteredValue" in names


def _cell_data(data: Any) -> Cell | None:
    """A CellData's userEnteredValue as a Cell; None (clear) for a cell without one."""
    if not isinstance(data, dict):
        raise _bad_request(f"Invalid CellData: {json.dumps(data)}")
    value = data.get("userEnteredValue")
    if value is None:
        return None
    if not isinstance(value, dict) or len(value) != 1:
        raise _bad_request(f"Invalid ExtendedValue: exactly one kind of value is required, got {json.dumps(value)}")
    (kind, v), = value.items()
    if kind == "stringValue" and isinstance(v, str):
        if len(v) > MAX_CELL_CHARS:
            raise _bad_request(
                f"Your input contains more than the maximum of {MAX_CELL_CHARS} characters in a single cell."
            )
        return Cell("text", v) if v else None  # a string is text, never parsed
    if kind == "numberValue" and isinstance(v, (int, float)) and not isinstance(v, bool):
        return Cell("number", _number(v))
    if kind == "boolValue" and isinstance(v, bool):
        return Cell("bool", v)
    if kind == "formulaValue" and isinstance(v, str) and v.startswith("="):
        return Cell("formula", v)
    raise _bad_request(f"Invalid ExtendedValue: {json.dumps(value)}")


def _row_data(rows: Any) -> list[list[Cell | None]]:
    """RowData[] -> rows of cells, every value checked before anything is written."""
    if not isinstance(rows, list) or not all(isinstance(r, dict) for r in rows):
        raise _bad_request("Invalid rows: expected a list of RowData.")
    return [[_cell_data(c) for c in (row.get("values") or [])] for row in rows]


def _put_cells(sheet: Sheet, r0: int, c0: int, rows: list[list[Cell | None]],
               rules: LocaleRules = LOCALES["en_US"]) -> None:
    for i, row in enumerate(rows):
        for j, cell in enumerate(row):
            if cell is None:
                sheet.cells.pop((r0 + i, c0 + j), None)
            else:  # a numberValue in a date-formatted cell is a date
                sheet.cells[(r0 + i, c0 + j)] = _formatted(cell, sheet.formats.get((r0 + i, c0 + j)), rules)


def _field_paths(mask: str) -> set[str]:
    """A FieldMask as dotted paths: "userEnteredFormat(numberFormat,textFormat)" (gspread's
    format()) -> {"userEnteredFormat.numberFormat", "userEnteredFormat.textFormat"}."""
    paths: set[str] = set()
    depth, start, parts = 0, 0, []
    for i, ch in enumerate(mask + ","):
        depth += {"(": 1, ")": -1}.get(ch, 0)
        if ch == "," and depth == 0:
            parts.append(mask[start:i].strip())
            start = i + 1
    for part in filter(None, parts):
        head, _, inner = part.partition("(")
        if inner:
            paths |= {f"{head.strip()}.{sub}" for sub in _field_paths(inner.rstrip(")"))}
        else:
            paths.add(part.replace("/", "."))
    return paths


def _check_locale(locale: str) -> None:
    if locale not in LOCALES:
        raise ValueError(f"the fake models the locales {', '.join(LOCALES)}, not {locale!r}; add its rules to LOCALES")


def _box_of(sheet: Sheet, grid: GridRange) -> tuple[int, int, int, int]:
    """A range's cells, clamped to the grid (r0, c0, r1, c1)."""
    r0, c0 = grid.start_row or 0, grid.start_col or 0
    r1 = sheet.row_count if grid.end_row is None else min(grid.end_row, sheet.row_count)
    c1 = sheet.col_count if grid.end_col is None else min(grid.end_col, sheet.col_count)
    return r0, c0, r1, c1


def _apply_number_format(sheet: Sheet, box: tuple[int, int, int, int], number_format: str,
                         rules: LocaleRules) -> None:
    if number_format not in NUMBER_FORMATS:
        raise ApiError(501, "UNIMPLEMENTED", f"FakeSheetsAPI does not model the number format {number_format!r}")
    r0, c0, r1, c1 = box
    for r in range(r0, r1):
        for c in range(c0, c1):
            sheet.formats[(r, c)] = number_format
    for key in [k for k in sheet.cells if r0 <= k[0] < r1 and c0 <= k[1] < c1]:
        sheet.cells[key] = _formatted(sheet.cells[key], number_format, rules)


# --------------------------------------------------------------------------- request log


@dataclass
class RecordedRequest:
    """One request the fake received, as the client sent it."""

    method: str
    path: str  # raw, still percent-encoded
    query: dict[str, list[str]]
    body: Any  # parsed JSON, or None
    kind: str  # e.g. "values.append"; "unsupported" for 501s
    spreadsheet_id: str | None
    range: str | None  # decoded A1 range from the path, if any
    time: float  # time.time() on arrival
    status: int | None = None  # None while in flight or when the connection was dropped
    fault: Any = None  # the injected fault applied, if any

    def param(self, name: str, default: str | None = None) -> str | None:
        values = self.query.get(name)
        return values[0] if values else default


@dataclass
class _FaultRule:
    kind: str | None
    fault: Any
    remaining: int


def _check_fault(fault: Any) -> None:
    if isinstance(fault, tuple):
        if len(fault) == 2 and fault[0] == "slow" and isinstance(fault[1], (int, float)) and fault[1] >= 0:
            return
        if len(fault) == 2 and fault[0] in ("html", "html-after-write") and fault[1] in HTML_PAGES:
            return
    elif fault in FAULTS:
        return
    raise ValueError(f"unknown fault {fault!r}; use one of {FAULTS}, ('slow', seconds), ('html', status) or "
                     f"('html-after-write', status) with a status in {tuple(HTML_PAGES)}")


def _route(method: str, raw_path: str) -> tuple[str, str | None, str | None]:
    """(kind, spreadsheet id, decoded range) for a raw request path."""
    if not raw_path.startswith(API_PREFIX):
        return "unsupported", None, None
    parts = raw_path[len(API_PREFIX) :].split("/")
    head, colon, verb = parts[0].partition(":")
    sid = unquote(head)
    if not sid:
        return "unsupported", None, None
    if len(parts) == 1:
        if not colon and method == "GET":
            return "spreadsheets.get", sid, None
        if verb == "batchUpdate" and method == "POST":
            return "spreadsheets.batchUpdate", sid, None
        return "unsupported", sid, None
    if colon:
        return "unsupported", sid, None
    if len(parts) == 2:
        known = {
            ("GET", "values:batchGet"): "values.batchGet",
            ("POST", "values:batchUpdate"): "values.batchUpdate",
            ("POST", "values:batchClear"): "values.batchClear",
        }
        return known.get((method, parts[1]), "unsupported"), sid, None
    if len(parts) == 3 and parts[1] == "values" and parts[2]:
        # gspread quotes the range and appends ':append' / ':clear' after quoting,
        # so the verb is the literal suffix of the raw segment.
        raw = parts[2]
        for suffix, kind in ((":append", "values.append"), (":clear", "values.clear")):
            if raw.endswith(suffix):
                return (kind if method == "POST" else "unsupported"), sid, unquote(raw[: -len(suffix)])
        kind = {"GET": "values.get", "PUT": "values.update"}.get(method, "unsupported")
        return kind, sid, unquote(raw)
    return "unsupported", sid, None


def _flag(query: dict[str, list[str]], name: str) -> bool:
    # requests serialises Python booleans as "True"/"False".
    return (query.get(name) or ["false"])[0].lower() == "true"


def _one(query: dict[str, list[str]], name: str, default: str) -> str:
    values = query.get(name)
    return values[0] if values and values[0] else default


# --------------------------------------------------------------------------- HTTP server


# --------------------------------------------------------------------------- the fake


class FakeSheetsAPI:
    """In-memory spreadsheets behind a real loopback HTTP server.

    Use ``with FakeSheetsAPI() as api:`` (or ``start()`` / ``stop()``), seed data with
    ``create_spreadsheet``, point gspread at ``api.base_url`` with
    :func:`gspread_client_for`, inspect ``api.requests`` / ``api.count(...)`` and
    inject faults with ``api.inject(...)``.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._spreadsheets: dict[str, Spreadsheet] = {}
        self._log: list[RecordedRequest] = []
        self._faults: list[_FaultRule] = []
        self._quota_hits: dict[str, deque[float]] = {"read": deque(), "write": deque()}
        self._stopping = threading.Event()
        self._server: Server | None = None
        self._thread: threading.Thread | None = None
        self.base_url: str | None = None
        self.errors: list[str] = []  # tracebacks of bugs in the fake itself (answered 500)
        # Optional per-minute quota for reads and for writes (each counted apart,
        # as Google does); None disables it. `clock` is swappable so tests need not wait.
        self.quota_per_minute: int | None = None
        self.clock = time.monotonic

    # ---- lifecycle

    def start(self) -> str:
        """Start serving on 127.0.0.1 with an OS-assigned port; returns the base URL."""
        if self._server is not None:
            return self.base_url  # type: ignore[return-value]
        self._stopping.clear()
        self._server = Server(self)
        host, port = self._server.server_address[:2]
        self.base_url = f"http://{host}:{port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.01}, name="fake-sheets-api", daemon=True
        )
        self._thread.start()
        return self.base_url

    def stop(self) -> None:
        """Stop the server, cut open keep-alive connections and wake slow faults."""
        if self._server is None:
            return
        self._stopping.set()
        self._server.shutdown()
        self._server.server_close()
        self._server.drop_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None
        self._thread = None

    def __enter__(self) -> "FakeSheetsAPI":
        self.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    def reset(self) -> None:
        """Forget all spreadsheets, requests, faults and quota use (the server keeps running)."""
        with self._lock:
            self._spreadsheets.clear()
            self._log.clear()
            self._faults.clear()
            for hits in self._quota_hits.values():
                hits.clear()
            self.errors.clear()
            self.quota_per_minute = None

    # ---- seeding and inspecting data

    def create_spreadsheet(
        self,
        spreadsheet_id: str,
        title: str = "dealreg",
        sheets: dict[str, list[list[Any]] | None] | None = None,
        *,
        rows: int = 1000,
        cols: int = 26,
        locale: str = "en_US",
        time_zone: str = "Etc/GMT",
    ) -> str:
        """Add a spreadsheet. Seed values are stored as RAW (strings stay text).

        Each sheet gets a rows x cols grid (grown to fit its seed data); the first
        sheet has sheetId 0, like a new Google spreadsheet. `locale` (one of LOCALES) and
        `time_zone` are its properties, as spreadsheets.get reports them.
        """
        sheets = {"Sheet1": None} if sheets is None else sheets
        if not sheets:
            raise ValueError("a spreadsheet needs at least one sheet")
        _check_locale(locale)
        book = Spreadsheet(spreadsheet_id, title, [], locale, time_zone)
        for n, (sheet_title, data) in enumerate(sheets.items()):
            data = data or []
            height, width = _shape(data)
            sheet = Sheet(n, sheet_title, max(rows, height), max(cols, width))
            _write(sheet, 0, 0, data, user_entered=False)
            book.sheets.append(sheet)
        book.next_sheet_id = len(book.sheets)
        with self._lock:
            if spreadsheet_id in self._spreadsheets:
                raise ValueError(f"spreadsheet {spreadsheet_id!r} exists")
            self._spreadsheets[spreadsheet_id] = book
        return spreadsheet_id

    def set_values(
        self, spreadsheet_id: str, sheet_title: str, rows: list[list[Any]], *, user_entered: bool = False
    ) -> None:
        """Replace a sheet's contents (from A1), growing the grid if needed."""
        with self._lock:
            sheet = self._sheet(spreadsheet_id, sheet_title)
            height, width = _shape(rows)
            sheet.row_count = max(sheet.row_count, height)
            sheet.col_count = max(sheet.col_count, width)
            sheet.cells = {}
            _write(sheet, 0, 0, rows, user_entered, self._book(spreadsheet_id).rules)

    def set_properties(self, spreadsheet_id: str, *, locale: str | None = None, time_zone: str | None = None) -> None:
        """Change the spreadsheet's locale or time zone (File → Settings). Cells keep their values."""
        with self._lock:
            book = self._book(spreadsheet_id)
            if locale is not None:
                _check_locale(locale)
                book.locale = locale
            if time_zone is not None:
                book.time_zone = time_zone

    def hand_edit(self, spreadsheet_id: str, sheet_title: str, a1: str, rows: list[list[Any]]) -> None:
        """Type values into the cells from `a1` on, as a partner manager does in the Sheets UI:
        a string is parsed as USER_ENTERED is, in the spreadsheet's locale and under the
        cell's number format (a date becomes a date serial, `48,000` in en_US the number
        48000, a leading ' or a plain-text cell keeps the text); "" clears a cell. The grid
        grows to fit."""
        with self._lock:
            book = self._book(spreadsheet_id)
            sheet = self._sheet(spreadsheet_id, sheet_title)
            grid = parse_a1(a1)
            r0, c0 = grid.start_row or 0, grid.start_col or 0
            height, width = _shape(rows)
            sheet.row_count = max(sheet.row_count, r0 + height)
            sheet.col_count = max(sheet.col_count, c0 + width)
            _write(sheet, r0, c0, rows, True, book.rules)

    def set_number_format(self, spreadsheet_id: str, sheet_title: str, a1: str, number_format: str) -> None:
        """Format → Number on a range (NUMBER_FORMATS): "TEXT" keeps what is typed later as text;
        "DATE" / "DATE_TIME" show the numbers in it as dates in the locale's pattern (their
        value stays the serial number); "NUMBER" shows dates as their numbers."""
        with self._lock:
            book = self._book(spreadsheet_id)
            sheet = self._sheet(spreadsheet_id, sheet_title)
            _apply_number_format(sheet, _box_of(sheet, parse_a1(a1)), number_format, book.rules)

    def values(self, spreadsheet_id: str, sheet_title: str) -> list[list[str]]:
        """What is stored, as text: formula text for formulas, trailing empties trimmed."""
        with self._lock:
            rules = self._book(spreadsheet_id).rules
            sheet = self._sheet(spreadsheet_id, sheet_title)
            if not sheet.cells:
                return []
            rows: list[list[str]] = [[] for _ in range(max(r for r, _ in sheet.cells) + 1)]
            for (r, c), cell in sorted(sheet.cells.items()):
                rows[r].extend([""] * (c - len(rows[r])))
                rows[r].append(stored_text(cell, rules))
            return rows

    def cell_kind(self, spreadsheet_id: str, sheet_title: str, a1: str) -> str | None:
        """'text', 'number', 'bool', 'date', 'formula', or None for an empty cell."""
        with self._lock:
            sheet = self._sheet(spreadsheet_id, sheet_title)
            grid = parse_a1(a1)
            cell = sheet.cells.get((grid.start_row, grid.start_col))
            return cell.kind if cell else None

    def cell_is_formula(self, spreadsheet_id: str, sheet_title: str, a1: str) -> bool:
        return self.cell_kind(spreadsheet_id, sheet_title, a1) == "formula"

    def sheet_titles(self, spreadsheet_id: str) -> list[str]:
        with self._lock:
            return [s.title for s in self._book(spreadsheet_id).sheets]

    def grid_size(self, spreadsheet_id: str, sheet_title: str) -> tuple[int, int]:
        """(rowCount, columnCount) of a sheet."""
        with self._lock:
            sheet = self._sheet(spreadsheet_id, sheet_title)
            return sheet.row_count, sheet.col_count

    def _book(self, spreadsheet_id: str) -> Spreadsheet:
        try:
            return self._spreadsheets[spreadsheet_id]
        except KeyError:
            raise KeyError(f"no spreadsheet {spreadsheet_id!r}") from None

    def _sheet(self, spreadsheet_id: str, sheet_title: str) -> Sheet:
        sheet = self._book(spreadsheet_id).sheet_by_title(sheet_title)
        if sheet is None:
            raise KeyError(f"no sheet {sheet_title!r} in {spreadsheet_id!r}")
        return sheet

    # ---- request log

    @property
    def requests(self) -> list[RecordedRequest]:
        """A snapshot of every request received, in arrival order."""
        with self._lock:
            return list(self._log)

    def count(self, method: str | None = None, kind: str | None = None) -> int:
        """How many requests matched (method is case-insensitive; kind as in KINDS)."""
        with self._lock:
            return sum(
                1
                for r in self._log
                if (method is None or r.method == method.upper()) and (kind is None or r.kind == kind)
            )

    def reset_log(self) -> None:
        with self._lock:
            self._log.clear()

    # ---- faults

    def inject(self, kind: str | None, fault: Any, times: int = 1) -> None:
        """Answer the next `times` requests of `kind` (None: any kind) with `fault`.

        Faults: 429, 500, 503 (answered without touching data), "503-after-write"
        (apply the request, then answer 503), ("slow", seconds) (wait, then answer
        normally), "reset" (drop the connection without applying or answering),
        "reset-after-write" (apply, then drop), ("html", 502 or 503) (Google's HTML
        error page instead of JSON, without touching data), ("html-after-write", 502 or
        503) (apply, then the HTML page), and 400/403/404. Rules are consumed in the
        order they were injected.
        """
        if kind is not None and kind not in KINDS:
            raise ValueError(f"unknown kind {kind!r}; use one of {KINDS}")
        _check_fault(fault)
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._faults.append(_FaultRule(kind, fault, times))

    def clear_faults(self) -> None:
        with self._lock:
            self._faults.clear()

    def _take_fault(self, kind: str) -> Any:
        for rule in self._faults:
            if rule.kind is None or rule.kind == kind:
                rule.remaining -= 1
                if rule.remaining == 0:
                    self._faults.remove(rule)
                return rule.fault
        return None

    def _over_quota(self, kind: str) -> bool:
        if self.quota_per_minute is None:
            return False
        now = self.clock()
        hits = self._quota_hits["read" if kind in READ_KINDS else "write"]
        while hits and hits[0] <= now - 60:
            hits.popleft()
        if len(hits) >= self.quota_per_minute:
            return True
        hits.append(now)
        return False

    # ---- HTTP handling

    def _handle(self, handler: Handler) -> None:
        method = handler.command.upper()
        raw_path, _, raw_query = handler.path.partition("?")
        length = int(handler.headers.get("Content-Length") or 0)
        raw_body = handler.rfile.read(length) if length else b""
        query = parse_qs(raw_query, keep_blank_values=True)
        kind, sid, range_text = _route(method, raw_path)
        try:
            body = json.loads(raw_body) if raw_body else None
            body_error = None
        except ValueError:
            body, body_error = raw_body.decode("utf-8", "replace"), _bad_request("Invalid JSON payload received.")
        record = RecordedRequest(method, raw_path, query, body, kind, sid, range_text, time.time())
        with self._lock:
            self._log.append(record)

        status, payload, drop = self._answer(handler, record, body_error)
        if drop:
            # Abortive close (RST), no response: the client sees a connection error.
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.close_connection = True
            return
        record.status = status
        if isinstance(payload, Html):
            data, content_type = payload.encode("utf-8"), "text/html; charset=UTF-8"
        else:
            data = json.dumps(payload, ensure_ascii=False).encode("utf-8")
            content_type = "application/json; charset=UTF-8"
        handler.send_response(status)
        handler.send_header("Content-Type", content_type)
        handler.send_header("Content-Length", str(len(data)))
        handler.end_headers()
        handler.wfile.write(data)

    def _answer(self, handler: Handler, record: RecordedRequest, body_error: ApiError | None) -> tuple[int, Any, bool]:
        """(status, JSON payload, drop the connection?)"""
        auth = handler.headers.get("Authorization", "")
        if not auth.startswith("Bearer ") or not auth[7:].strip():
            err = ApiError(
                401,
                "UNAUTHENTICATED",
                "Request is missing required authentication credential. Expected OAuth 2 access token, "
                "login cookie or other valid authentication credential. "
                "See https://developers.google.com/identity/sign-in/web/devconsole-project.",
            )
            return 401, err.body(), False
        if record.kind == "unsupported":
            err = ApiError(
                501,
                "UNIMPLEMENTED",
                f"FakeSheetsAPI does not implement {record.method} {record.path}; add it to tests/fakes/sheets_api.py",
            )
            return 501, err.body(), False

        with self._lock:
            fault = self._take_fault(record.kind)
            over_quota = fault is None and self._over_quota(record.kind)
            record.fault = fault
        if over_quota:
            return 429, quota_error(record.kind).body(), False
        if isinstance(fault, tuple) and fault[0] == "html":  # the front end's page; nothing applied
            return fault[1], Html(HTML_PAGES[fault[1]]), False
        if isinstance(fault, tuple) and fault[0] == "slow":  # wait outside the lock, then answer normally
            self._stopping.wait(fault[1])
        elif fault == "reset":
            return 0, None, True
        elif fault in (400, 403, 404, 429, 500, 503):  # answered without touching data
            err = _fault_error(fault, record.kind)
            return err.code, err.body(), False

        try:
            if body_error is not None:
                raise body_error
            with self._lock:
                payload = self._dispatch(record)
            status = 200
        except ApiError as err:
            status, payload = err.code, err.body()
        except Exception as exc:  # a bug in the fake: answer loudly, keep the traceback
            with self._lock:
                self.errors.append(traceback.format_exc())
            status, payload = 500, ApiError(500, "INTERNAL", f"FakeSheetsAPI bug: {exc!r}").body()
        if fault == "503-after-write":
            return 503, _fault_error(fault, record.kind).body(), False
        if fault == "reset-after-write":
            return 0, None, True
        if isinstance(fault, tuple) and fault[0] == "html-after-write":
            return fault[1], Html(HTML_PAGES[fault[1]]), False
        return status, payload, False

    def _dispatch(self, record: RecordedRequest) -> dict:
        book = self._spreadsheets.get(record.spreadsheet_id or "")
        if book is None:
            raise ApiError(404, "NOT_FOUND", "Requested entity was not found.")
        body = record.body if isinstance(record.body, dict) else {}
        q = record.query
        if record.kind == "spreadsheets.get":
            if _flag(q, "includeGridData"):
                raise ApiError(501, "UNIMPLEMENTED", "FakeSheetsAPI does not implement includeGridData=true")
            return book.metadata()
        if record.kind == "spreadsheets.batchUpdate":
            return self._batch_update_sheets(book, body)
        if record.kind == "values.get":
            return self._get(book, record.range or "", q)
        if record.kind == "values.batchGet":
            return {
                "spreadsheetId": book.spreadsheet_id,
                "valueRanges": [self._get(book, text, q) for text in q.get("ranges", [])],
            }
        if record.kind == "values.update":
            return self._update(book, record.range or "", body, q)
        if record.kind == "values.batchUpdate":
            return self._batch_update_values(book, body)
        if record.kind == "values.append":
            return self._append(book, record.range or "", body, q)
        if record.kind == "values.clear":
            return {"spreadsheetId": book.spreadsheet_id, "clearedRange": self._clear(book, record.range or "")}
        if record.kind == "values.batchClear":
            ranges = body.get("ranges") or []
            for text in ranges:  # validate all first: nothing is cleared if one is bad
                book.resolve(text)
            return {"spreadsheetId": book.spreadsheet_id, "clearedRanges": [self._clear(book, t) for t in ranges]}
        raise AssertionError(record.kind)

    # ---- values endpoints

    def _get(self, book: Spreadsheet, text: str, q: dict[str, list[str]]) -> dict:
        sheet, grid = book.resolve(text)
        box = _read_box(sheet, grid)
        major = _one(q, "majorDimension", "ROWS")
        if major not in ("ROWS", "COLUMNS"):
            raise _bad_request(f"Invalid majorDimension: {major}")
        value_render = _one(q, "valueRenderOption", "FORMATTED_VALUE")
        if value_render not in ("FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"):
            raise _bad_request(f"Invalid valueRenderOption: {value_render}")
        date_render = _one(q, "dateTimeRenderOption", "SERIAL_NUMBER")
        if date_render not in ("SERIAL_NUMBER", "FORMATTED_STRING"):
            raise _bad_request(f"Invalid dateTimeRenderOption: {date_render}")
        result: dict[str, Any] = {"range": sheet.a1(*box[:2], *box[2:]), "majorDimension": major}
        values = read_values(sheet, box, major, value_render, date_render, book.rules)
        if values:  # Google omits "values" for an empty range
            result["values"] = values
        return result

    def _input_option(self, option: str | None) -> bool:
        if option not in ("RAW", "USER_ENTERED"):
            raise _bad_request(
                "'valueInputOption' is required but not specified"
                if not option
                else f"Invalid value at 'value_input_option' ({option})"
            )
        return option == "USER_ENTERED"

    def _with_data(self, book: Spreadsheet, result: dict, include: bool, q_render: str) -> dict:
        if include:
            sheet, grid = book.resolve(result["updatedRange"])
            box = _read_box(sheet, grid)
            data = {"range": result["updatedRange"], "majorDimension": "ROWS"}
            values = read_values(sheet, box, "ROWS", q_render, "SERIAL_NUMBER", book.rules)
            if values:
                data["values"] = values
            result["updatedData"] = data
        return result

    def _prepare_update(
        self, book: Spreadsheet, text: str, values: Any, major: str | None
    ) -> tuple[Sheet, int, int, list[list[Any]], GridRange]:
        sheet, grid = book.resolve(text)
        rows = _normalise_values(values, major)
        r0, c0 = grid.start_row or 0, grid.start_col or 0
        # A single cell or a bare sheet is only an anchor; other ranges bound the write.
        bounded = not (grid.single_cell or grid.whole_sheet)
        _check_write(sheet, grid, r0, c0, rows, bounded)
        for row in rows:
            for v in row:
                to_cell(v, False)  # reject bad types / oversize cells before writing anything
        return sheet, r0, c0, rows, grid

    def _update(self, book: Spreadsheet, text: str, body: dict, q: dict[str, list[str]]) -> dict:
        user_entered = self._input_option(_one(q, "valueInputOption", ""))
        if body.get("range"):
            if book.resolve(body["range"]) != book.resolve(text):
                raise _bad_request(
                    f"Requested range [{body['range']}] must match the range in the URL [{text}]"
                )
        sheet, r0, c0, rows, _ = self._prepare_update(book, text, body.get("values"), body.get("majorDimension"))
        if not rows:
            return {"spreadsheetId": book.spreadsheet_id, "updatedRange": sheet.a1(r0, c0, r0 + 1, c0 + 1)}
        result = {"spreadsheetId": book.spreadsheet_id, **_write(sheet, r0, c0, rows, user_entered, book.rules)}
        return self._with_data(
            book,
            result,
            _flag(q, "includeValuesInResponse"),
            _one(q, "responseValueRenderOption", "FORMATTED_VALUE"),
        )

    def _batch_update_values(self, book: Spreadsheet, body: dict) -> dict:
        user_entered = self._input_option(body.get("valueInputOption"))
        data = body.get("data") or []
        # Atomic like Google: check every range before writing any.
        prepared = [self._prepare_update(book, d.get("range", ""), d.get("values"), d.get("majorDimension")) for d in data]
        responses = []
        for sheet, r0, c0, rows, _ in prepared:
            if rows:
                result = {"spreadsheetId": book.spreadsheet_id,
                          **_write(sheet, r0, c0, rows, user_entered, book.rules)}
                responses.append(
                    self._with_data(
                        book,
                        result,
                        bool(body.get("includeValuesInResponse")),
                        body.get("responseValueRenderOption") or "FORMATTED_VALUE",
                    )
                )
        return {
            "spreadsheetId": book.spreadsheet_id,
            "totalUpdatedRows": sum(r["updatedRows"] for r in responses),
            "totalUpdatedColumns": sum(r["updatedColumns"] for r in responses),
            "totalUpdatedCells": sum(r["updatedCells"] for r in responses),
            "totalUpdatedSheets": len({p[0].sheet_id for p in prepared if p[3]}),
            "responses": responses,
        }

    def _append(self, book: Spreadsheet, text: str, body: dict, q: dict[str, list[str]]) -> dict:
        user_entered = self._input_option(_one(q, "valueInputOption", ""))
        insert = _one(q, "insertDataOption", "OVERWRITE")
        if insert not in ("OVERWRITE", "INSERT_ROWS"):
            raise _bad_request(f"Invalid insertDataOption: {insert}")
        sheet, grid = book.resolve(text)
        rows = _normalise_values(body.get("values"), body.get("majorDimension"))
        if (grid.start_row or 0) >= sheet.row_count or (grid.start_col or 0) >= sheet.col_count:
            raise _grid_error(sheet, grid.start_row or 0, grid.start_col or 0)
        table = _find_table(sheet, grid)
        if table is None:
            r0, c0 = grid.start_row or 0, grid.start_col or 0
        else:
            r0, c0 = table[2], table[1]
        height, width = _shape(rows)
        if c0 + width > sheet.col_count:  # append grows rows, never columns
            raise _grid_error(sheet, r0, sheet.col_count)
        for row in rows:
            for v in row:
                to_cell(v, False)
        grow = height if insert == "INSERT_ROWS" else max(0, r0 + height - sheet.row_count)
        if (book.total_cells() + grow * sheet.col_count) > MAX_WORKBOOK_CELLS:
            raise _bad_request(
                f"This action would increase the number of cells in the workbook above the limit of "
                f"{MAX_WORKBOOK_CELLS} cells."
            )
        if insert == "INSERT_ROWS":
            sheet.shift_rows(r0, height)
        sheet.row_count += grow
        result: dict[str, Any] = {"spreadsheetId": book.spreadsheet_id}
        if table is not None:
            result["tableRange"] = sheet.a1(*table[:2], *table[2:])
        updates = {"spreadsheetId": book.spreadsheet_id, **_write(sheet, r0, c0, rows, user_entered, book.rules)}
        result["updates"] = self._with_data(
            book, updates, _flag(q, "includeValuesInResponse"), _one(q, "responseValueRenderOption", "FORMATTED_VALUE")
        )
        return result

    def _clear(self, book: Spreadsheet, text: str) -> str:
        sheet, grid = book.resolve(text)
        r0, c0, r1, c1 = _read_box(sheet, grid)
        for key in [k for k in sheet.cells if r0 <= k[0] < r1 and c0 <= k[1] < c1]:
            del sheet.cells[key]
        return sheet.a1(r0, c0, r1, c1)

    # ---- spreadsheets.batchUpdate

    def _batch_update_sheets(self, book: Spreadsheet, body: dict) -> dict:
        requests_ = body.get("requests")
        if not isinstance(requests_, list) or not requests_:
            raise _bad_request("Must specify at least one request.")
        work = copy.deepcopy(book)  # atomic: apply to a copy, keep it only if all succeed
        replies = []
        for i, request in enumerate(requests_):
            if not isinstance(request, dict) or len(request) != 1:
                raise _bad_request(f"Invalid requests[{i}]: exactly one request type is required.")
            (name, args), = request.items()
            handler = getattr(self, f"_req_{name}", None)
            if handler is not None:
                try:
                    replies.append(handler(work, args or {}))
                except ApiError as err:
                    if err.code == 501:  # not modelled: say so, never pretend Google refused it
                        raise
                    raise _bad_request(f"Invalid requests[{i}].{name}: {err.message}") from None
            elif name in IGNORED_SHEET_REQUESTS:
                replies.append({})
            else:
                raise ApiError(501, "UNIMPLEMENTED", f"FakeSheetsAPI does not implement batchUpdate request {name!r}")
        self._spreadsheets[book.spreadsheet_id] = work
        return {"spreadsheetId": book.spreadsheet_id, "replies": replies}

    @staticmethod
    def _target(book: Spreadsheet, sheet_id: Any) -> Sheet:
        sheet = book.sheet_by_id(sheet_id if isinstance(sheet_id, int) else 0)
        if sheet is None:
            raise _bad_request(f"No grid with id: {sheet_id}")
        return sheet

    def _req_addSheet(self, book: Spreadsheet, args: dict) -> dict:
        props = args.get("properties") or {}
        title = props.get("title")
        if title is None:
            n = len(book.sheets) + 1
            while book.sheet_by_title(f"Sheet{n}"):
                n += 1
            title = f"Sheet{n}"
        if book.sheet_by_title(title):
            raise _bad_request(f'A sheet with the name "{title}" already exists. Please enter another name.')
        sheet_id = props.get("sheetId")
        if sheet_id is None:
            sheet_id = book.next_sheet_id
        elif book.sheet_by_id(sheet_id):
            raise _bad_request(f"A sheet with the id {sheet_id} already exists.")
        book.next_sheet_id = max(book.next_sheet_id, sheet_id + 1)
        grid = props.get("gridProperties") or {}
        sheet = Sheet(
            sheet_id,
            title,
            grid.get("rowCount", 1000),
            grid.get("columnCount", 26),
            grid.get("frozenRowCount", 0),
            grid.get("frozenColumnCount", 0),
            bool(props.get("hidden", False)),
        )
        if book.total_cells() + sheet.row_count * sheet.col_count > MAX_WORKBOOK_CELLS:
            raise _bad_request(
                f"This action would increase the number of cells in the workbook above the limit of "
                f"{MAX_WORKBOOK_CELLS} cells."
            )
        index = props.get("index")
        book.sheets.insert(len(book.sheets) if index is None else min(index, len(book.sheets)), sheet)
        return {"addSheet": {"properties": sheet.properties(book.sheets.index(sheet))}}

    def _req_deleteSheet(self, book: Spreadsheet, args: dict) -> dict:
        sheet = self._target(book, args.get("sheetId"))
        if len(book.sheets) == 1:
            raise _bad_request("You can't remove all the sheets in a document.")
        book.sheets.remove(sheet)
        return {}

    def _req_updateSheetProperties(self, book: Spreadsheet, args: dict) -> dict:
        props = args.get("properties") or {}
        sheet = self._target(book, props.get("sheetId", 0))
        fields = {f.strip().replace("/", ".") for f in (args.get("fields") or "").split(",") if f.strip()}
        if not fields:
            raise _bad_request("At least one field must be updated, but none were specified.")

        def wanted(name: str) -> bool:
            return "*" in fields or name in fields or name.split(".")[0] in fields

        grid = props.get("gridProperties") or {}
        if wanted("title"):
            title = props.get("title") or ""
            other = book.sheet_by_title(title)
            if other is not None and other is not sheet:
                raise _bad_request(f'A sheet with the name "{title}" already exists. Please enter another name.')
            sheet.title = title
        if wanted("gridProperties.rowCount") and "rowCount" in grid:
            sheet.row_count = grid["rowCount"]
        if wanted("gridProperties.columnCount") and "columnCount" in grid:
            sheet.col_count = grid["columnCount"]
        if wanted("gridProperties.frozenRowCount"):
            sheet.frozen_rows = grid.get("frozenRowCount", 0)
        if wanted("gridProperties.frozenColumnCount"):
            sheet.frozen_cols = grid.get("frozenColumnCount", 0)
        if wanted("hidden"):
            sheet.hidden = bool(props.get("hidden", False))
        if wanted("index") and "index" in props:
            book.sheets.remove(sheet)
            book.sheets.insert(min(props["index"], len(book.sheets)), sheet)
        if sheet.row_count < 1 or sheet.col_count < 1:
            raise _bad_request("A sheet must have at least one row and one column.")
        if book.total_cells() > MAX_WORKBOOK_CELLS:
            raise _bad_request(
                f"This action would increase the number of cells in the workbook above the limit of "
                f"{MAX_WORKBOOK_CELLS} cells."
            )
        sheet.truncate()
        return {}

    def _req_updateSpreadsheetProperties(self, book: Spreadsheet, args: dict) -> dict:
        props = args.get("properties") or {}
        fields = {f.strip() for f in (args.get("fields") or "").split(",")}
        if "title" in fields or "*" in fields:
            book.title = props.get("title", book.title)
        if "locale" in fields or "*" in fields:
            locale = props.get("locale", book.locale)
            if locale not in LOCALES:
                raise ApiError(501, "UNIMPLEMENTED", f"FakeSheetsAPI does not model the locale {locale!r}")
            book.locale = locale
        if "timeZone" in fields or "*" in fields:
            book.time_zone = props.get("timeZone", book.time_zone)
        return {}

    def _req_appendDimension(self, book: Spreadsheet, args: dict) -> dict:
        sheet = self._target(book, args.get("sheetId", 0))
        length = int(args.get("length", 0))
        if length < 1:
            raise _bad_request("length must be at least 1")
        if args.get("dimension") == "COLUMNS":
            sheet.col_count += length
        else:
            sheet.row_count += length
        return {}

    def _req_insertDimension(self, book: Spreadsheet, args: dict) -> dict:
        rng = args.get("range") or {}
        sheet = self._target(book, rng.get("sheetId", 0))
        start, end = int(rng.get("startIndex", 0)), int(rng.get("endIndex", 0))
        if end <= start:
            raise _bad_request("endIndex must be greater than startIndex")
        if rng.get("dimension") == "COLUMNS":
            sheet.shift_cols(start, end - start)
            sheet.col_count += end - start
        else:
            sheet.shift_rows(start, end - start)
            sheet.row_count += end - start
        return {}

    def _req_appendCells(self, book: Spreadsheet, args: dict) -> dict:
        sheet = self._target(book, args.get("sheetId", 0))
        rows = _row_data(args.get("rows"))
        if not _writes_values(args.get("fields")):
            return {}
        present = [r for r, _ in sheet.cells]
        r0 = max(present) + 1 if present else 0  # after the last row with data, in any column
        width = max((len(row) for row in rows), default=0)
        if width > sheet.col_count:
            raise _grid_error(sheet, r0, sheet.col_count)
        grow = max(0, r0 + len(rows) - sheet.row_count)  # Google inserts the rows it needs
        if book.total_cells() + grow * sheet.col_count > MAX_WORKBOOK_CELLS:
            raise _bad_request(
                f"This action would increase the number of cells in the workbook above the limit of "
                f"{MAX_WORKBOOK_CELLS} cells."
            )
        sheet.row_count += grow
        _put_cells(sheet, r0, 0, rows, book.rules)
        return {}

    def _req_updateCells(self, book: Spreadsheet, args: dict) -> dict:
        start, rng = args.get("start"), args.get("range")
        if (start is None) == (rng is None):
            raise _bad_request("Exactly one of start or range must be specified.")
        rows = _row_data(args.get("rows"))
        if not _writes_values(args.get("fields")):
            return {}
        height, width = len(rows), max((len(row) for row in rows), default=0)
        if start is not None:
            sheet = self._target(book, start.get("sheetId", 0))
            r0, c0 = int(start.get("rowIndex", 0)), int(start.get("columnIndex", 0))
            r1, c1 = r0 + height, c0 + width
        else:
            sheet = self._target(book, rng.get("sheetId", 0))
            r0, c0 = int(rng.get("startRowIndex", 0)), int(rng.get("startColumnIndex", 0))
            r1 = int(rng.get("endRowIndex", sheet.row_count))
            c1 = int(rng.get("endColumnIndex", sheet.col_count))
            if r0 + height > r1 or c0 + width > c1:
                raise _bad_request("The rows do not fit in the range.")
        if r0 < 0 or c0 < 0 or r1 > sheet.row_count or c1 > sheet.col_count:
            raise _grid_error(sheet, max(r0, min(r1, sheet.row_count)), max(c0, min(c1, sheet.col_count)))
        if rng is not None:  # a range is written whole: cells the rows do not cover are cleared
            for key in [k for k in sheet.cells if r0 <= k[0] < r1 and c0 <= k[1] < c1]:
                del sheet.cells[key]
        _put_cells(sheet, r0, c0, rows, book.rules)
        return {}

    def _req_repeatCell(self, book: Spreadsheet, args: dict) -> dict:
        """Only the number format is modelled (Format → Number): other formatting is accepted
        and ignored, like the requests in IGNORED_SHEET_REQUESTS."""
        rng = args.get("range") or {}
        sheet = self._target(book, rng.get("sheetId", 0))
        fields = _field_paths(args.get("fields") or "")
        if not fields:
            raise _bad_request("At least one field must be updated, but none were specified.")
        cell = args.get("cell") or {}
        if fields & {"*", "userEnteredFormat", "userEnteredFormat.numberFormat"}:
            number_format = ((cell.get("userEnteredFormat") or {}).get("numberFormat") or {}).get("type")
            if number_format:
                grid = GridRange(rng.get("startRowIndex"), rng.get("endRowIndex"), rng.get("startColumnIndex"),
                                 rng.get("endColumnIndex"))
                _apply_number_format(sheet, _box_of(sheet, grid), number_format, book.rules)
        if fields & {"*", "userEnteredValue"} and cell.get("userEnteredValue") is not None:
            raise ApiError(501, "UNIMPLEMENTED", "FakeSheetsAPI does not implement repeatCell of values")
        return {}

    def _req_deleteDimension(self, book: Spreadsheet, args: dict) -> dict:
        rng = args.get("range") or {}
        sheet = self._target(book, rng.get("sheetId", 0))
        columns = rng.get("dimension") == "COLUMNS"
        size = sheet.col_count if columns else sheet.row_count
        start = int(rng.get("startIndex", 0))
        end = int(rng.get("endIndex", size))
        if not 0 <= start < end <= size:
            raise _bad_request("Invalid range for deleteDimension")
        if end - start == size:
            raise _bad_request("You can't delete all the rows on the sheet." if not columns else
                               "You can't delete all the columns on the sheet.")
        if columns:
            sheet.shift_cols(start, start - end)
            sheet.col_count -= end - start
        else:
            sheet.shift_rows(start, start - end)
            sheet.row_count -= end - start
        return {}


# --------------------------------------------------------------------------- gspread wiring


class FakeCredentials(google.auth.credentials.Credentials):
    """A static bearer token; refresh() never touches the network."""

    def __init__(self, token: str = "fake-token"):
        super().__init__()
        self.token = token

    def refresh(self, request: Any) -> None:
        # Nothing to fetch: the fake accepts any bearer token.
        self.token = self.token or "fake-token"


class LoopbackAdapter(HTTPAdapter):
    """Sends https://sheets.googleapis.com/... to base_url instead, path and query unchanged."""

    def __init__(self, base_url: str, origin: str = SHEETS_ORIGIN):
        super().__init__()
        self.base_url = base_url.rstrip("/")
        self.origin = origin

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if not request.url or not request.url.startswith(self.origin + "/"):
            raise requests.ConnectionError(f"LoopbackAdapter only handles {self.origin}, not {request.url}")
        request.url = self.base_url + request.url[len(self.origin) :]
        return super().send(request, **kwargs)


class RefuseAdapter(HTTPAdapter):
    """Fails every request at once: nothing but the fake may be reached."""

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        raise requests.ConnectionError(
            f"blocked in tests: {request.method} {request.url} (only the fake Sheets API is reachable)",
            request=request,
        )


def redirect_session_to(session: requests.Session, base_url: str) -> requests.Session:
    """Route a session's Sheets traffic to base_url and refuse everything else."""
    session.mount("https://", RefuseAdapter())
    session.mount("http://", RefuseAdapter())
    session.mount(SHEETS_ORIGIN + "/", LoopbackAdapter(base_url))
    return session


def gspread_client_for(base_url: str, timeout: float | None = None) -> gspread.Client:
    """A real gspread.Client whose requests go to the fake at base_url."""
    client = gspread.Client(auth=FakeCredentials())
    redirect_session_to(client.http_client.session, base_url)
    if timeout is not None:
        client.set_timeout(timeout)
    return client


# --------------------------------------------------------------------------- test helpers

_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


@contextmanager
def loopback_only() -> Iterator[list[str]]:
    """Make DNS lookups of non-loopback hosts fail; yields the hosts that were refused.

    Every TCP client in the process resolves through socket.getaddrinfo, so inside
    this block nothing can reach the internet, whatever library tries.
    """
    refused: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        name = host.decode() if isinstance(host, bytes) else str(host)
        if name not in _LOOPBACK:
            refused.append(name)
            raise socket.gaierror(socket.EAI_NONAME, f"non-loopback host {name!r} blocked in tests")
        return real(host, *args, **kwargs)

    socket.getaddrinfo = guarded
    try:
        yield refused
    finally:
        socket.getaddrinfo = real


def fake_sheets_api() -> Iterator[FakeSheetsAPI]:
    """Generator for a pytest fixture: ``sheets_api = pytest.fixture(fake_sheets_api)``."""
    api = FakeSheetsAPI()
    api.start()
    try:
        yield api
    finally:
        api.stop()
