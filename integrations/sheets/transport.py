"""Calling the Google Sheets API: bounded retries inside a deadline, errors that name the fix,
and the calls the store makes (the tabs and how dates read, values:batchGet, values.get, one
atomic batchUpdate).

429 and 5xx answers and connection errors are retried with exponential backoff and jitter
inside a deadline (`store_deadline_seconds`, default 10 s); past it a call raises
`StoreUnavailable` (the webhook answers 503, never "clear"). A 5xx counts whatever its body:
Google's front end sometimes answers with an HTML page, which gspread raises with `code == -1`
(gspread #1504), so the status is taken from the response. A token refresh that Google's token
endpoint could not answer (google-auth's retryable RefreshError) is retried the same way; a
refused key is not. A 429 means Google refused the request, so a write is simply sent again; a
5xx or a dropped connection after a write may hide an applied write (Google has answered 503 for
rows it had written), so such a write raises `Ambiguous` and the caller looks before writing
again. gspread's `BackOffHTTPClient` is not used: it retries for up to 254 s.
"""

from __future__ import annotations

import logging
import random
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import google.auth.exceptions
import gspread
import requests
from gspread.exceptions import APIError

from dealreg.errors import StoreError, StoreUnavailable
from integrations.sheets.cells import Reading
from integrations.sheets.credentials import SHEET_ID_HELP
from integrations.sheets.layout import ALL_TABS, layout_error

log = logging.getLogger("integrations.sheets")

READ_PARAMS = {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER",
               "majorDimension": "ROWS"}
"""Numbers typed by hand come back as numbers (not "48,000"), and a date cell as its serial
number, whatever the locale shows (`cells.Reading`). FORMATTED_STRING would give "12/1/2026" in
en_US and "01.12.2026" in de_DE for one date: it "depends on the spreadsheet locale"
(https://developers.google.com/sheets/api/reference/rest/v4/DateTimeRenderOption)."""

Clock = Callable[[], float]


class Ambiguous(Exception):
    """A write may or may not have been applied (5xx, or the connection dropped)."""


@dataclass(frozen=True, slots=True)
class Tab:
    table: str
    title: str
    sheet_id: int
    columns: int  # the grid's column count


def _status(exc: APIError) -> int:
    """The HTTP status of a refused call. gspread takes `code` from Google's JSON error body;
    for a body that is not JSON, such as the HTML page Google's front end sends with some 502
    and 503 answers, it gives -1 (gspread #1504, handled since 6.1.3 by #1510), and the status
    is the response's own."""
    if isinstance(exc.code, int) and exc.code > 0:
        return exc.code
    status = getattr(getattr(exc, "response", None), "status_code", None)
    return status if isinstance(status, int) else -1


def _error_status(exc: APIError) -> str:
    """Google's status word (RESOURCE_EXHAUSTED …), or the HTTP reason of a non-JSON answer."""
    if isinstance(exc.code, int) and exc.code > 0:
        return str(exc.error.get("status", ""))
    reason = getattr(getattr(exc, "response", None), "reason", "") or ""
    return f"{reason} (not JSON)".strip()


def _error_message(exc: APIError) -> str:
    """Google's error message; for an HTML page, its title (the page itself is long markup)."""
    message = str(exc.error.get("message", ""))
    if isinstance(exc.code, int) and exc.code > 0:
        return message
    title = re.search(r"<title>(.*?)</title>", message, re.IGNORECASE | re.DOTALL)
    text = title[1] if title else re.sub(r"<[^>]*>", " ", message)
    return " ".join(text.split())[:200] or "an answer that is not JSON"



class SheetsAPI:
    """One spreadsheet through gspread, every call bounded by a deadline. `client` is a ready
    `gspread.Client` (tests pass one pointed at the local fake); the clock (monotonic seconds),
    `sleep` and `rand` are injected so tests never wait."""

    def __init__(self, client: gspread.Client, sheet_id: str, *, deadline_seconds: float = 10.0,
                 client_email: str = "", clock: Clock = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, rand: Callable[[], float] = random.random,
                 request_timeout: float | None = None, base_backoff: float = 0.25,
                 max_backoff: float = 4.0) -> None:
        self.client = client
        self.sheet_id = sheet_id
        self.deadline_seconds = deadline_seconds
        self.client_email = client_email
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self._http = client.http_client
        self.clock, self._sleep, self._rand = clock, sleep, rand
        timeout = request_timeout if request_timeout is not None else deadline_seconds
        client.set_timeout((min(5.0, timeout), timeout))  # (connect, read): no request outlives the deadline
        self._tabs: dict[str, Tab] | None = None  # cached: each metadata fetch is an API call
        self.reading = Reading()  # set with the tabs

    def deadline(self) -> float:
        return self.clock() + self.deadline_seconds

    def call(self, fn: Callable[[], Any], what: str, deadline: float, *, write: bool = False,
              retry_ambiguous: bool = False) -> Any:
        """Run one API call with bounded retries. Reads (and writes that are safe to repeat)
        are retried on 429, 5xx and connection errors; other writes raise `Ambiguous` on
        anything but a 429, so the caller can look before writing again."""
        attempt = 0
        while True:
            if self.clock() > deadline:  # slow answers used the time up: no new request
                raise StoreUnavailable(f"Google Sheets did not answer {what} within {self.deadline_seconds:g} s; "
                                       f"retry later")
            try:
                return fn()
            except APIError as exc:
                code = _status(exc)
                if code != 429 and not 500 <= code <= 599:
                    raise self.refused(exc, what) from None
                reason = f"{code} {_error_status(exc)}".strip()
                if write and code != 429 and not retry_ambiguous:
                    raise Ambiguous(reason) from None
            except google.auth.exceptions.RefreshError as exc:
                if not exc.retryable:
                    raise StoreError(f"Google refused the service account's key ({exc.__class__.__name__}); "
                                     f"check DEALREG_GOOGLE_CREDENTIALS, or create a new key") from None
                # Google's token endpoint answered a 5xx (even as an HTML page, gspread #1564) after
                # google-auth's own retries. A token is fetched before a request is sent, or after
                # Google refused it with a 401: either way nothing was applied.
                reason = "a token refresh that Google could not answer"
            except (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                    google.auth.exceptions.TransportError) as exc:
                reason = exc.__class__.__name__
                if write and not retry_ambiguous:
                    raise Ambiguous(reason) from None
            self.backoff(attempt, reason, what, deadline)
            attempt += 1

    def backoff(self, attempt: int, reason: str, what: str, deadline: float) -> None:
        """Sleep before the next try (exponential, half of it jitter), or give up at the deadline."""
        delay = min(self.max_backoff, self.base_backoff * 2 ** attempt)
        delay = delay / 2 + self._rand() * delay / 2
        if self.clock() + delay > deadline:
            raise StoreUnavailable(f"Google Sheets did not answer {what} within {self.deadline_seconds:g} s "
                                   f"(last: {reason}); retry later")
        log.info("sheets: %s answered %s; retrying in %.2f s", what, reason, delay)
        self._sleep(delay)

    def refused(self, exc: APIError, what: str) -> StoreError:
        code, message = _status(exc), _error_message(exc)
        if code == 401:
            return StoreError(f"Google refused the credentials (401: {message}); check DEALREG_GOOGLE_CREDENTIALS")
        if code == 403:
            who = self.client_email or "the service account's client_email"
            return StoreError(f"Google Sheets refused access to the spreadsheet (403: {message}). Share the "
                              f"spreadsheet with {who} as Editor, and enable the Google Sheets API in the "
                              f"service account's project")
        if code == 404:
            return StoreError(f"Google Sheets has no spreadsheet {self.sheet_id!r} (404). {SHEET_ID_HELP}")
        self._tabs = None  # e.g. a tab deleted and re-created: its sheetId changed
        return StoreError(f"Google Sheets refused {what} ({code}: {message})")

    def metadata(self, deadline: float, *, fresh: bool = False) -> dict[str, Tab]:
        """The tabs (title, sheetId) and how dates read (`Reading`), fetched once per process:
        one spreadsheets.get. A locale or time zone changed later is seen by the next process."""
        tabs = self._tabs
        if tabs is None or fresh:
            data = self.call(lambda: self._http.fetch_sheet_metadata(self.sheet_id), "the spreadsheet metadata",
                              deadline)
            props = data.get("properties") or {}
            self.reading = Reading(str(props.get("locale") or ""), str(props.get("timeZone") or ""))
            by_title = {s["properties"]["title"].casefold(): s["properties"] for s in data.get("sheets", [])}
            tabs = {}
            for table, title in ALL_TABS.items():
                props = by_title.get(title.casefold())
                if props is not None:
                    tabs[table] = Tab(table, props["title"], int(props["sheetId"]),
                                       int(props.get("gridProperties", {}).get("columnCount", 26)))
            self._tabs = tabs
        return tabs

    def close(self) -> None:
        self._http.session.close()

    def forget_tabs(self) -> None:
        """The next call fetches the tabs again (a tab was added, or deleted and re-created)."""
        self._tabs = None

    def tab(self, table: str, deadline: float) -> Tab:
        tabs = self.metadata(deadline)
        if table not in tabs:
            self._tabs = None
            raise layout_error([f"the spreadsheet has no tab {ALL_TABS[table]!r}"])
        return tabs[table]

    @staticmethod
    def range(tab: Tab, a1: str = "") -> str:
        quoted = "'" + tab.title.replace("'", "''") + "'"
        return f"{quoted}!{a1}" if a1 else quoted

    def batch_get(self, ranges: list[str], what: str, deadline: float) -> list[list[list[object]]]:
        data = self.call(lambda: self._http.values_batch_get(self.sheet_id, ranges, params=dict(READ_PARAMS)),
                          what, deadline)
        return [vr.get("values", []) for vr in data.get("valueRanges", [])]

    def get(self, tab: Tab, what: str, deadline: float) -> list[list[object]]:
        data = self.call(lambda: self._http.values_get(self.sheet_id, self.range(tab), params=dict(READ_PARAMS)),
                          what, deadline)
        return data.get("values", [])  # type: ignore[no-any-return]

    def write(self, requests_: list[dict[str, Any]], what: str, deadline: float, *,
               retry_ambiguous: bool = False) -> None:
        """One atomic spreadsheets.batchUpdate."""
        body = {"requests": requests_}
        self.call(lambda: self._http.batch_update(self.sheet_id, body), what, deadline, write=True,
                   retry_ambiguous=retry_ambiguous)

