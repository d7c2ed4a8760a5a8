"""The Google Sheets store: registrations, decisions and the reference lists in one spreadsheet.

Tabs and columns follow SPEC's Sheet layout (`integrations.store.COLUMNS`): Registrations,
Decisions, Partners, Territories, Named accounts. Columns are found BY HEADER NAME (row 1),
so a partner manager may reorder them and add columns of their own; dealreg writes only its
own cells, at the sheet's positions, and never touches the others. `dealreg init-sheet`
creates the tabs and checks the headers.

Every cell dealreg writes is a `stringValue` (or a RAW value): text is never parsed as a
formula, number or date. Values that a spreadsheet would run (starting with = + - @, a tab
or a CR) are also defanged with a leading `'` (`dealreg.normalise.defang`), and read back
without it, so `=IMPORTXML(…)` as a company name round-trips as exactly that text.

Dates as the spreadsheet shows them
    A partner manager types a date the way the spreadsheet's locale shows dates
    (`12/1/2026` in en_US, `1.12.2026` in de_DE), and Sheets stores it as a date serial
    number. Reads ask for UNFORMATTED_VALUE and dateTimeRenderOption=SERIAL_NUMBER, so a
    date cell (typed, or formatted as a date) comes back as that number whatever the locale:
    days since 1899-12-30, a wall-clock time in the spreadsheet's `timeZone`. A date kept
    as text (a plain-text cell, a leading ') is read in the spreadsheet's `locale`
    (`dealreg.dates`); a date without an offset is in the spreadsheet's time zone. Both
    properties come with the tab metadata (one spreadsheets.get per process). What is
    impossible (`31/02/2026`) or ambiguous is left as typed and refused with its cell.

Reads and the cache
    `changes(None)` is ONE `values:batchGet` of Registrations, Partners, Territories, Named
    accounts and the Decisions header. The result is kept in memory for `cache_seconds`
    (DEALREG_SHEETS_CACHE_SECONDS, default 30): while it is warm, `changes(cursor)` and a
    suppression check make no API call at all. A stale cache is re-read; when only rows
    were appended since (same reference rows, same earlier Registrations rows) the cursor
    moves on, otherwise (a row edited by hand, a list replaced) the epoch changes and the
    reader rebuilds.

A registration (at most 3 API calls; no compare-and-set exists in the Sheets API)
    1. a fresh `values:batchGet` (Registrations + reference tabs). Idempotency: a row with
       the same (source, external_id) — the Typeform token is stored in `external_id` — is a
       redelivery: its decision is returned (`created=False`) and nothing is written. A row
       with the registration id we are writing means an earlier attempt of ours landed.
    2. `decide(read)` against that state, then ONE atomic `spreadsheets.batchUpdate`:
       `appendCells` of the registration row, `appendCells` of its decision event (after any
       buffered check events), and `updateCells` rewrites of the rows the decision displaces
       (`Decision.displaced`, `engine.displaced_row`). All land or none does.
    3. `values.get` of Registrations. Rows that were not there at step 1 are concurrent
       claims, ordered by the engine's first_to_register order (earliest `submitted_at`,
       then `registration_id`), which every writer computes alike. Our own outcome is
       re-decided against the claims that sort before ours; a concurrent claim that sorts
       after ours but was appended BEFORE ours is also weighed, because its writer may have
       finished without seeing us: if we beat it, we rewrite its row, as a late claim
       rewrites the rows it displaces. (A concurrent claim appended after ours that sorts
       after ours is left to its own writer, which sees us at its step 3.) If our outcome
       (owner, status) changed, or rows are now displaced, one more batchUpdate rewrites
       our row's decision columns and the displaced rows and appends a correcting event
       (4 calls, only in a race). The callback must keep the claim's stamp between calls
       (`Service` stamps once per registration), or two writers would order it differently.
    A claim delivered late by a retry (earlier `submitted_at`, arriving after another
    claim was decided) is ordered by its `submitted_at`: it wins, and the rows it displaces
    are rewritten in the same request as its own row (step 2). The rows always end with
    one owner; the one answer that can go out of date is that of a writer which finished
    just before a claim that sorts earlier landed: its row is rewritten and says
    "Superseded by …".

Ambiguous failures and quota
    429 and 5xx answers and connection errors are retried with exponential backoff and
    jitter inside a deadline (`store_deadline_seconds`, default 10 s); past it the store
    raises `StoreUnavailable` (the webhook answers 503, never "clear"). A 5xx counts
    whatever its body: Google's front end sometimes answers with an HTML page, which
    gspread raises with `code == -1` (gspread #1504), so the status is taken from the
    response. A token refresh that Google's token endpoint could not answer (google-auth's
    retryable RefreshError) is retried the same way; a refused key is not. A 429 means
    Google refused the request, so a write is simply sent again; a 5xx or a dropped
    connection after a write may hide an applied write (Google has answered 503 for rows
    it had written), so a registration goes back to step 1 instead, where the fresh read
    finds its row by registration id (or token) and never appends it twice. gspread's
    `BackOffHTTPClient` is not used: it retries for up to 254 s.

Check events
    Every decision is logged in the Decisions tab, but a warm check makes no API call, so
    check events are buffered in memory and written in batches: with the next
    registration's batchUpdate, by one batchUpdate when the buffer holds 50 events or is
    older than the cache time, and on `close()`. The trade-off: a process that dies (a
    Lambda container frozen and reclaimed) with a non-empty buffer loses at most those
    check events, never a registration. A flush that failed ambiguously is sent again;
    readers drop the duplicate rows by `event_id`.

Known limits: appends and rewrites address rows by position, so do not sort or delete
Registrations rows while registrations arrive (use a filter view). Read-after-write
consistency between concurrent writers is what Google's API appears to give but does not
document.
"""

from __future__ import annotations

import difflib
import hashlib
import json
import logging
import random
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta, timezone, tzinfo
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import google.auth.credentials
import google.auth.exceptions
import gspread
import requests
from gspread.exceptions import APIError
from gspread.utils import extract_id_from_url, rowcol_to_a1
from requests.adapters import HTTPAdapter

from dealreg import dates
from dealreg.engine import displaced_row
from dealreg.errors import InputError, StoreError, StoreUnavailable
from dealreg.models import Decision, DecisionEvent, MatchLevel, NamedAccount, Quarantined, Registration, Status, Territory
from dealreg.normalise import defang, undefang
from dealreg.records import canonical_key
from dealreg.values import number_text
from integrations.store import (
    COLUMNS,
    Changes,
    Cursor,
    Decide,
    Health,
    Registered,
    Write,
    check_table,
    converted,
    decision_from_fields,
    decision_from_row,
    event_to_row,
    named_account_from_row,
    registration_from_row,
    registration_to_row,
    territory_from_row,
    validated_rows,
)

if TYPE_CHECKING:
    from config.settings import Settings

log = logging.getLogger(__name__)

SHEETS_ORIGIN = "https://sheets.googleapis.com"
SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
TAB_TITLES: dict[str, str] = {
    "registrations": "Registrations",
    "decisions": "Decisions",
    "partners": "Partners",
    "territories": "Territories",
    "named-accounts": "Named accounts",
}
"""SPEC's tab for each of `integrations.store.TABLES`."""
REFERENCE = ("partners", "territories", "named-accounts")
READ_PARAMS = {"valueRenderOption": "UNFORMATTED_VALUE", "dateTimeRenderOption": "SERIAL_NUMBER",
               "majorDimension": "ROWS"}
"""Numbers typed by hand come back as numbers (not "48,000"), and a date cell as its serial
number, whatever the locale shows (`_Reading`). FORMATTED_STRING would give "12/1/2026" in
en_US and "01.12.2026" in de_DE for one date: it "depends on the spreadsheet locale"
(https://developers.google.com/sheets/api/reference/rest/v4/DateTimeRenderOption)."""
DATE_COLUMNS = ("submitted_at", "expires_at")
"""The Registrations columns that hold dates."""
MAX_CELL_CHARS = 50_000  # Google refuses a longer cell with a 400
FLUSH_EVENTS = 50
MAX_BUFFERED_EVENTS = 5_000
SHEET_ID_HELP = "Set DEALREG_SHEET_ID to the spreadsheet id (the part of the URL between /d/ and /edit)"
CREDENTIALS_HELP = ("Set DEALREG_GOOGLE_CREDENTIALS to the service account's JSON key: the path of the key "
                    "file, or the JSON itself")
INIT_HELP = "run `dealreg init-sheet` to create the tabs and check the headers"

Clock = Callable[[], float]


# -- building the client ----------------------------------------------------------------

class _StaticToken(google.auth.credentials.Credentials):
    """A fixed bearer token for an emulator, which accepts any; refresh() never calls out."""

    def __init__(self, token: str = "emulator") -> None:
        super().__init__()
        self.token = token

    def refresh(self, request: Any) -> None:
        self.token = self.token or "emulator"


class _Redirect(HTTPAdapter):
    """Sends https://sheets.googleapis.com/… to another base URL, path and query unchanged."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:
        if request.url and request.url.startswith(SHEETS_ORIGIN + "/"):
            request.url = self.base_url + request.url[len(SHEETS_ORIGIN):]
        return super().send(request, **kwargs)


def emulator_client(base_url: str) -> gspread.Client:
    """A gspread client whose Sheets calls go to `base_url` (DEALREG_SHEETS_API_URL): a local
    emulator or the tests' fake. Only the transport changes; gspread itself is untouched."""
    if not base_url.startswith(("http://", "https://")):
        raise StoreError(f"DEALREG_SHEETS_API_URL must be an http:// or https:// URL, got {base_url!r}")
    client = gspread.Client(auth=_StaticToken())
    client.http_client.session.mount(SHEETS_ORIGIN + "/", _Redirect(base_url))
    return client


def service_account_info(value: str) -> dict[str, Any]:
    """The service-account key from DEALREG_GOOGLE_CREDENTIALS: the JSON itself (it starts
    with `{`) or the path of the key file. Messages never quote the key."""
    text = value.strip()
    if not text:
        raise StoreError(CREDENTIALS_HELP + ".")
    if text.startswith("{"):
        where, raw = "DEALREG_GOOGLE_CREDENTIALS", text
    else:
        path = Path(text).expanduser()
        where = f"DEALREG_GOOGLE_CREDENTIALS ({path})"
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise StoreError(f"{where}: no such file. {CREDENTIALS_HELP}.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise StoreError(f"{where}: cannot read the file ({exc.__class__.__name__}). {CREDENTIALS_HELP}.") from None
    try:
        info = json.loads(raw)
    except ValueError:
        raise StoreError(f"{where} is not JSON. {CREDENTIALS_HELP} (IAM → Service accounts → Keys → "
                         f"Add key → JSON).") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        kind = info.get("type") if isinstance(info, dict) else type(info).__name__
        raise StoreError(f"{where} is not a service-account key (type {kind!r}); create a JSON key for a "
                         f"service account, not an OAuth client.")
    missing = [k for k in ("client_email", "private_key", "token_uri") if not info.get(k)]
    if missing:
        raise StoreError(f"{where} lacks {', '.join(missing)}; download a new JSON key for the service account.")
    return info


def service_account_client(value: str) -> tuple[gspread.Client, str]:
    """A gspread client signed in as the service account (no network call yet), and its email."""
    from google.oauth2 import service_account

    info = service_account_info(value)
    try:
        credentials = service_account.Credentials.from_service_account_info(info, scopes=list(SCOPES))
    except (ValueError, TypeError) as exc:
        raise StoreError(f"DEALREG_GOOGLE_CREDENTIALS: the key cannot be used ({exc.__class__.__name__}); "
                         f"download a new JSON key for the service account.") from None
    return gspread.Client(auth=credentials), str(info["client_email"])


def spreadsheet_id(value: str) -> str:
    """The spreadsheet id from DEALREG_SHEET_ID (a pasted URL works too)."""
    text = value.strip()
    if not text:
        raise StoreError(SHEET_ID_HELP + ".")
    if "/" in text:
        try:
            return extract_id_from_url(text)
        except gspread.exceptions.NoValidUrlKeyFound:
            raise StoreError(f"DEALREG_SHEET_ID {text!r} is not a spreadsheet URL. {SHEET_ID_HELP}.") from None
    return text


ClientFactory = Callable[["Settings"], gspread.Client]


def open_sheets_store(settings: Settings, *, client_factory: ClientFactory | None = None,
                      **options: Any) -> SheetsStore:
    """The store for DEALREG_STORE=sheets. Missing or unusable settings raise StoreError
    naming the fix; nothing is sent to Google until the store is first used."""
    sheet = spreadsheet_id(settings.sheet_id)
    email = ""
    if client_factory is not None:
        client = client_factory(settings)
    elif settings.sheets_api_url:
        client = emulator_client(settings.sheets_api_url)
    else:
        secret = settings.google_credentials.get_secret_value() if settings.google_credentials else ""
        client, email = service_account_client(secret)
    return SheetsStore(client, sheet, cache_seconds=settings.sheets_cache_seconds,
                       deadline_seconds=settings.store_deadline_seconds, client_email=email, **options)


# -- the layout: which column is where ----------------------------------------------------

@dataclass(frozen=True, slots=True)
class Layout:
    """Where dealreg's columns are in one tab, from its header row."""

    table: str
    title: str
    columns: Mapping[str, int]  # our column -> 0-based position
    extra: tuple[str, ...] = ()  # header cells that are not ours (kept, never written)
    problems: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        return max(self.columns.values(), default=-1) + 1


def _letter(index: int) -> str:
    return rowcol_to_a1(1, index + 1)[:-1]


def read_layout(table: str, title: str, header: Sequence[object]) -> Layout:
    """Map the header row to our columns (`Company Name` = `company_name`) and name every
    problem with its fix: a misspelt column (difflib), a missing one, a repeated one."""
    wanted = COLUMNS[table]
    cells = [_cell_text(h).strip() for h in header]
    if not any(cells):
        return Layout(table, title, {}, (), (f"{title}: the header row (row 1) is empty; {INIT_HELP}",))
    columns: dict[str, int] = {}
    extra: list[tuple[int, str]] = []
    problems: list[str] = []
    for i, cell in enumerate(cells):
        key = canonical_key(cell)
        if not cell:
            continue
        if key in wanted:
            if key in columns:
                problems.append(f"{title}: column {key!r} appears twice ({_letter(columns[key])}1 and "
                                f"{_letter(i)}1); delete or rename one")
            else:
                columns[key] = i
        else:
            extra.append((i, cell))
    missing = [c for c in wanted if c not in columns]
    for i, cell in extra:
        guess = difflib.get_close_matches(canonical_key(cell), missing, n=1, cutoff=0.75)
        if guess:
            missing.remove(guess[0])
            problems.append(f"{title}: column {cell!r} ({_letter(i)}1) is not a dealreg column — did you mean "
                            f"{guess[0]!r}? Rename the header cell, or add the missing column {guess[0]!r}")
    for name in missing:
        problems.append(f"{title}: missing column {name!r}; add a header cell {name!r} (any position; "
                        f"extra columns are fine)")
    return Layout(table, title, columns, tuple(cell for _, cell in extra), tuple(problems))


def _layout_error(problems: Iterable[str]) -> StoreError:
    return StoreError("The spreadsheet's layout is not dealreg's: " + "; ".join(problems) + f". Or {INIT_HELP}.")


# -- cells --------------------------------------------------------------------------------

def _cell_text(value: object) -> str:
    """A value as read (UNFORMATTED_VALUE: str, int, float or bool) as our text."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return number_text(value)  # 48000, not 48000.0; 123.456 as 123.4560, never read back as 123456
    return undefang("" if value is None else str(value))


def _string_cell(value: str) -> dict[str, Any]:
    """One cell to write: always a string (never a formula), defanged; {} leaves it empty."""
    return {"userEnteredValue": {"stringValue": defang(value)}} if value else {}


def _row_dicts(layout: Layout, values: Sequence[Sequence[object]]) -> list[dict[str, str]]:
    """The data rows (row 2 on) as {our column: text}; a row blank in our columns is {}."""
    rows: list[dict[str, str]] = []
    duns = layout.columns.get("duns")
    for raw in values[1:]:
        row = {name: _cell_text(raw[i]) if i < len(raw) else "" for name, i in layout.columns.items()}
        if duns is not None and duns < len(raw) and _is_number(raw[duns]):
            # A DUNS typed into a cell becomes a number and loses its leading zeros (012345678 -> 12345678).
            row["duns"] = f"{int(raw[duns]):09d}"  # type: ignore[call-overload]
        rows.append(row if any(v.strip() for v in row.values()) else {})
    return rows


def _is_number(value: object) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and float(value).is_integer()


@dataclass(frozen=True, slots=True)
class _Reading:
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
            return wall.replace(tzinfo=_zone(self.time_zone)).isoformat()
        if isinstance(value, str) and value.strip():
            try:
                moment = dates.read_date(value, self.locale)
            except ValueError:
                return value
            if moment.tzinfo is not None:
                return value
            return moment.replace(tzinfo=_zone(self.time_zone)).isoformat()
        return value

    def dated(self, title: str, values: list[list[object]]) -> list[list[object]]:
        """The Registrations tab as read, its date columns (found by header) as ISO-8601 text."""
        if len(values) < 2:
            return values
        layout = read_layout("registrations", title, values[0])
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


_CUSTOM_ZONE = re.compile(r"(?:GMT|UTC)(?:([+-])(\d{1,2})(?::?(\d{2}))?)?")


@lru_cache(maxsize=64)
def _zone(name: str) -> tzinfo:
    """A spreadsheet's timeZone: a CLDR name (`America/New_York`), or the custom offset
    (`GMT-07:00`) Google gives for a zone it does not recognise (SpreadsheetProperties)."""
    custom = _CUSTOM_ZONE.fullmatch(name.strip())
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


def _digest(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _cell_namer(layout: Layout, grid_row: int) -> Callable[[str], str]:
    """Names a column's cell in one row as the spreadsheet shows it: "deal_value (O7)"."""
    return lambda name: f"{name} ({_letter(layout.columns[name])}{grid_row + 1})" if name in layout.columns else name


def _where(layout: Layout, grid_row: int, row: Mapping[str, str], key: str = "") -> str:
    named = f" ({row.get(key, '').strip()})" if key and row.get(key, "").strip() else ""
    return f"{layout.title} row {grid_row + 1}{named}"


def _registration(layout: Layout, grid_row: int, row: Mapping[str, str]) -> Registration | Quarantined:
    """The row as a Registration, or quarantined (naming the row and each bad cell) when a hand
    edit made it unreadable: one bad row never stops the store."""
    # the one set of rules for a row, whichever store: dates, numbers, state, DUNS
    good, bad = converted("registrations", [(_where(layout, grid_row, row, "registration_id"), row,
                                             _cell_namer(layout, grid_row))], registration_from_row)
    return good[0] if good else bad[0]


@dataclass(frozen=True, slots=True)
class _Reference:
    partners: tuple[str, ...] = ()
    territories: tuple[Territory, ...] = ()
    named_accounts: tuple[NamedAccount, ...] = ()
    digest: str = ""
    quarantined: tuple[Quarantined, ...] = ()  # rows of the reference tabs that cannot be read


def _reference(layouts: Mapping[str, Layout], values: Mapping[str, Sequence[Sequence[object]]]) -> _Reference:
    rows = {table: _row_dicts(layouts[table], values[table]) for table in REFERENCE}
    partners = tuple(r["partner"].strip() for r in rows["partners"] if r and r["partner"].strip())
    territories, bad_territories = _converted("territories", layouts["territories"], rows["territories"],
                                              territory_from_row)
    named, bad_named = _converted("named-accounts", layouts["named-accounts"], rows["named-accounts"],
                                  named_account_from_row)
    return _Reference(partners, tuple(territories), tuple(named), _digest(rows), (*bad_named, *bad_territories))


T = TypeVar("T")


def _converted(table: str, layout: Layout, rows: Sequence[Mapping[str, str]],
               convert: Callable[[Mapping[str, str]], T]) -> tuple[list[T], list[Quarantined]]:
    """Every non-empty row through the store's converter; a bad row is quarantined by position."""
    return converted(table, [(_where(layout, n, row), row, _cell_namer(layout, n))
                             for n, row in enumerate(rows, start=1) if row], convert)


@dataclass(frozen=True)
class _Snapshot:
    """One read of the Registrations tab (plus the reference tabs, possibly from an earlier
    read): immutable, so readers never see it change under them."""

    epoch: str
    read_at: float
    layouts: Mapping[str, Layout]
    rows: tuple[dict[str, str], ...]  # data rows; rows[i] is grid row i + 1
    registrations: tuple[Registration | None, ...]  # aligned with rows; None for a blank row
    digest: str
    reference: _Reference
    ids: Mapping[str, int] = field(default_factory=dict)  # registration id -> index (first)
    externals: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (source, external_id) -> index
    unread: Mapping[int, Quarantined] = field(default_factory=dict)  # index -> a row that cannot be read

    @property
    def position(self) -> int:
        return len(self.rows)

    def changes_since(self, since: Cursor | None) -> Changes:
        if since is not None and since.epoch == self.epoch and since.position <= self.position:
            new = tuple(r for r in self.registrations[since.position:] if r is not None)
            unread = tuple(q for i, q in sorted(self.unread.items()) if i >= since.position)
            return Changes(Cursor(self.epoch, self.position), new, quarantined=unread)
        return self.everything(tuple(r for r in self.registrations if r is not None))

    def everything(self, registrations: tuple[Registration, ...], epoch: str = "") -> Changes:
        """A reset: `registrations`, the reference lists and every row that could not be read."""
        ref = self.reference
        unread = (*(q for _, q in sorted(self.unread.items())), *ref.quarantined)
        return Changes(Cursor(epoch or self.epoch, self.position), registrations, reset=True,
                       named_accounts=ref.named_accounts, territories=ref.territories, partners=ref.partners,
                       quarantined=unread)


def _indexes(registrations: Sequence[Registration | None], rows: Sequence[Mapping[str, str]],
             unread: Mapping[int, Quarantined]) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Registration id -> index, and (source, external_id) -> index; a row that cannot be read still
    holds its ids (a redelivery of its submission must not be registered twice)."""
    ids: dict[str, int] = {}
    externals: dict[tuple[str, str], int] = {}
    for i, reg in enumerate(registrations):
        if reg is not None:
            rid, source, external = reg.registration_id, reg.source, reg.external_id
        elif i in unread:
            row = rows[i]
            rid, source, external = (row.get("registration_id", "").strip(), row.get("source", "").strip(),
                                     row.get("external_id", "").strip())
        else:
            continue
        if rid:
            ids.setdefault(rid, i)
        if external:
            externals.setdefault((source, external), i)
    return ids, externals


def _key(reg: Registration) -> tuple[Any, str]:
    """The deterministic order of claims: the engine's first_to_register order."""
    return (reg.submitted_at, reg.registration_id)


@dataclass(frozen=True, slots=True)
class _Tab:
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


class _Ambiguous(Exception):
    """A write may or may not have been applied (5xx, or the connection dropped)."""


@dataclass
class InitReport:
    """What `init_sheet` did and found."""

    created: list[str] = field(default_factory=list)
    headers_written: list[str] = field(default_factory=list)
    layouts: dict[str, Layout] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


# -- the store ----------------------------------------------------------------------------

class SheetsStore:
    """The `integrations.store.Store` (and `Tables`) on a Google spreadsheet, through gspread.

    `client` is a ready `gspread.Client` (tests pass one pointed at the local fake); the
    clock (monotonic seconds), `sleep` and `rand` are injected so tests never wait."""

    backend = "sheets"

    def __init__(self, client: gspread.Client, sheet_id: str, *, cache_seconds: float = 30.0,
                 deadline_seconds: float = 10.0, client_email: str = "", clock: Clock = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep, rand: Callable[[], float] = random.random,
                 flush_events: int = FLUSH_EVENTS, request_timeout: float | None = None,
                 base_backoff: float = 0.25, max_backoff: float = 4.0) -> None:
        self.client = client
        self.sheet_id = sheet_id
        self.cache_seconds = cache_seconds
        self.deadline_seconds = deadline_seconds
        self.client_email = client_email
        self.flush_events = flush_events
        self.base_backoff = base_backoff
        self.max_backoff = max_backoff
        self._http = client.http_client
        self._clock, self._sleep, self._rand = clock, sleep, rand
        timeout = request_timeout if request_timeout is not None else deadline_seconds
        client.set_timeout((min(5.0, timeout), timeout))  # (connect, read): no request outlives the deadline
        self._tabs: dict[str, _Tab] | None = None  # cached: each metadata fetch is an API call
        self._reading = _Reading()  # set with the tabs
        self._snap: _Snapshot | None = None
        self._stale = True
        self._generation = 0  # bumped by invalidate(): a read that began before it does not clear it
        self._buffer: list[DecisionEvent] = []
        self._buffer_since = 0.0
        self._decisions: OrderedDict[tuple[str, ...], Decision] = OrderedDict()
        self._state = threading.RLock()  # snapshot, buffer, memory
        self._refresh = threading.Lock()  # one re-read at a time
        self._registering = threading.Lock()  # registrations of this process, one at a time
        self._flushing = threading.Lock()

    # -- calling Google ----------------------------------------------------------------

    def _deadline(self) -> float:
        return self._clock() + self.deadline_seconds

    def _call(self, fn: Callable[[], Any], what: str, deadline: float, *, write: bool = False,
              retry_ambiguous: bool = False) -> Any:
        """Run one API call with bounded retries. Reads (and writes that are safe to repeat)
        are retried on 429, 5xx and connection errors; other writes raise `_Ambiguous` on
        anything but a 429, so the caller can look before writing again."""
        attempt = 0
        while True:
            if self._clock() > deadline:  # slow answers used the time up: no new request
                raise StoreUnavailable(f"Google Sheets did not answer {what} within {self.deadline_seconds:g} s; "
                                       f"retry later")
            try:
                return fn()
            except APIError as exc:
                code = _status(exc)
                if code != 429 and not 500 <= code <= 599:
                    raise self._refused(exc, what) from None
                reason = f"{code} {_error_status(exc)}".strip()
                if write and code != 429 and not retry_ambiguous:
                    raise _Ambiguous(reason) from None
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
                    raise _Ambiguous(reason) from None
            self._backoff(attempt, reason, what, deadline)
            attempt += 1

    def _backoff(self, attempt: int, reason: str, what: str, deadline: float) -> None:
        """Sleep before the next try (exponential, half of it jitter), or give up at the deadline."""
        delay = min(self.max_backoff, self.base_backoff * 2 ** attempt)
        delay = delay / 2 + self._rand() * delay / 2
        if self._clock() + delay > deadline:
            raise StoreUnavailable(f"Google Sheets did not answer {what} within {self.deadline_seconds:g} s "
                                   f"(last: {reason}); retry later")
        log.info("sheets: %s answered %s; retrying in %.2f s", what, reason, delay)
        self._sleep(delay)

    def _refused(self, exc: APIError, what: str) -> StoreError:
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

    def _metadata(self, deadline: float, *, fresh: bool = False) -> dict[str, _Tab]:
        """The tabs (title, sheetId) and how dates read (`_Reading`), fetched once per process:
        one spreadsheets.get. A locale or time zone changed later is seen by the next process."""
        tabs = self._tabs
        if tabs is None or fresh:
            data = self._call(lambda: self._http.fetch_sheet_metadata(self.sheet_id), "the spreadsheet metadata",
                              deadline)
            props = data.get("properties") or {}
            self._reading = _Reading(str(props.get("locale") or ""), str(props.get("timeZone") or ""))
            by_title = {s["properties"]["title"].casefold(): s["properties"] for s in data.get("sheets", [])}
            tabs = {}
            for table, title in TAB_TITLES.items():
                props = by_title.get(title.casefold())
                if props is not None:
                    tabs[table] = _Tab(table, props["title"], int(props["sheetId"]),
                                       int(props.get("gridProperties", {}).get("columnCount", 26)))
            self._tabs = tabs
        return tabs

    def _tab(self, table: str, deadline: float) -> _Tab:
        tabs = self._metadata(deadline)
        if table not in tabs:
            self._tabs = None
            raise _layout_error([f"the spreadsheet has no tab {TAB_TITLES[table]!r}"])
        return tabs[table]

    @staticmethod
    def _range(tab: _Tab, a1: str = "") -> str:
        quoted = "'" + tab.title.replace("'", "''") + "'"
        return f"{quoted}!{a1}" if a1 else quoted

    def _batch_get(self, ranges: list[str], what: str, deadline: float) -> list[list[list[object]]]:
        data = self._call(lambda: self._http.values_batch_get(self.sheet_id, ranges, params=dict(READ_PARAMS)),
                          what, deadline)
        return [vr.get("values", []) for vr in data.get("valueRanges", [])]

    def _get(self, tab: _Tab, what: str, deadline: float) -> list[list[object]]:
        data = self._call(lambda: self._http.values_get(self.sheet_id, self._range(tab), params=dict(READ_PARAMS)),
                          what, deadline)
        return data.get("values", [])  # type: ignore[no-any-return]

    def _write(self, requests_: list[dict[str, Any]], what: str, deadline: float, *,
               retry_ambiguous: bool = False) -> None:
        """One atomic spreadsheets.batchUpdate."""
        body = {"requests": requests_}
        self._call(lambda: self._http.batch_update(self.sheet_id, body), what, deadline, write=True,
                   retry_ambiguous=retry_ambiguous)

    # -- reading -----------------------------------------------------------------------

    def _read(self, deadline: float, *, reference: bool = True) -> _Snapshot:
        """A fresh read: one values:batchGet of Registrations, the reference tabs and the
        Decisions header (or, with reference=False, one values.get of Registrations)."""
        tabs = [self._tab(t, deadline) for t in TAB_TITLES]  # every tab must exist
        by_table = {t.table: t for t in tabs}
        started, generation = self._clock(), self._generation
        if reference:
            order = ("registrations", *REFERENCE)
            ranges = [self._range(by_table[t]) for t in order] + [self._range(by_table["decisions"], "1:1")]
            got = self._batch_get(ranges, "the registrations read", deadline)
            values = dict(zip((*order, "decisions"), got))
        else:
            values = {"registrations": self._get(by_table["registrations"], "the registrations re-read", deadline)}
        values["registrations"] = self._reading.dated(by_table["registrations"].title, values["registrations"])
        return self._absorb(by_table, values, started, generation)

    def _absorb(self, tabs: Mapping[str, _Tab], values: Mapping[str, list[list[object]]], read_at: float,
                generation: int) -> _Snapshot:
        """Turn a read into the current snapshot; the epoch survives when only rows were appended."""
        with self._state:
            old = self._snap
            layouts = dict(old.layouts) if old is not None else {}
            for table, rows in values.items():
                layouts[table] = read_layout(table, tabs[table].title, rows[0] if rows else [])
            problems = [p for layout in layouts.values() for p in layout.problems]
            if problems:
                raise _layout_error(problems)
            if all(t in values for t in REFERENCE):
                reference = _reference(layouts, values)
            elif old is not None:
                reference = old.reference
            else:  # cannot happen: the first read is a full one
                raise StoreError("the reference tabs were never read")
            layout = layouts["registrations"]
            rows = _row_dicts(layout, values["registrations"])
            digest = _digest(rows)
            appended = (old is not None and reference.digest == old.reference.digest
                        and layout.columns == old.layouts["registrations"].columns
                        and len(rows) >= old.position and _digest(rows[:old.position]) == old.digest)
            start = old.position if appended and old is not None else 0
            read = [None if not row else _registration(layout, start + i + 1, row)
                    for i, row in enumerate(rows[start:])]
            fresh = [r if isinstance(r, Registration) else None for r in read]
            unread = {start + i: q for i, q in enumerate(read) if isinstance(q, Quarantined)}
            if appended and old is not None:
                regs = (*old.registrations, *fresh)
                unread = {**old.unread, **unread}
                epoch = old.epoch
            else:
                regs = tuple(fresh)
                epoch = secrets.token_hex(8)
            known = {q.describe() for q in old.unread.values()} if old is not None else set()
            for q in unread.values():
                if q.describe() not in known:
                    log.warning("sheets: %s; the row is quarantined until it is fixed", q.describe())
            ids, externals = _indexes(regs, rows, unread)
            snap = _Snapshot(epoch, read_at, layouts, tuple(rows), regs, digest, reference, ids, externals, unread)
            self._snap = snap
            if generation == self._generation:
                self._stale = False
            return snap

    def _current(self) -> _Snapshot:
        """The cached snapshot while it is warm; otherwise a fresh read."""
        snap = self._snap
        if snap is not None and not self._stale and self._clock() - snap.read_at < self.cache_seconds:
            return snap
        with self._refresh:
            snap = self._snap  # another thread may have just read
            if snap is not None and not self._stale and self._clock() - snap.read_at < self.cache_seconds:
                return snap
            return self._read(self._deadline())

    def changes(self, since: Cursor | None) -> Changes:
        return self._current().changes_since(since)

    def partners(self) -> tuple[str, ...]:
        return self._current().reference.partners

    def territories(self) -> tuple[Territory, ...]:
        return self._current().reference.territories

    def named_accounts(self) -> tuple[NamedAccount, ...]:
        return self._current().reference.named_accounts

    def invalidate(self) -> None:
        """Forget the cache: the next read goes to the spreadsheet."""
        with self._state:
            self._generation += 1
            self._stale = True

    # -- first decisions (redeliveries) ------------------------------------------------

    def _remember(self, decision: Decision, registration_id: str, source: str, external_id: str) -> None:
        with self._state:
            self._decisions[("id", registration_id)] = decision
            if external_id:
                self._decisions[("ext", source, external_id)] = decision
            while len(self._decisions) > 20_000:
                self._decisions.popitem(last=False)

    def first_decision(self, source: str, external_id: str) -> Decision | None:
        """From memory: the decisions this process registered or looked up, and the rows of
        its last read (no API call unless the row is known but its decision is not: then
        one read of the Decisions tab). `register` repeats the check on a fresh read."""
        if not external_id:
            return None
        known = self._decisions.get(("ext", source, external_id))
        if known is not None:
            return known
        snap = self._snap
        if snap is None or (source, external_id) not in snap.externals:
            return None
        return self._decision_of(snap, snap.externals[(source, external_id)], self._deadline())

    def _decision_of(self, snap: _Snapshot, index: int, deadline: float) -> Decision:
        """The decision the registration in row `index` was answered with: the last register event
        for its id in the Decisions tab (a race correction comes after the first), else its
        row's own decision columns (a row added by hand)."""
        reg = snap.registrations[index]
        row = registration_to_row(reg) if reg is not None else snap.rows[index]
        rid = row.get("registration_id", "")
        known = self._decisions.get(("id", rid))
        if known is not None:
            return known
        decision = None
        for event in self._decision_rows(deadline):
            if event.get("action") == "register" and event.get("registration_id") == rid:
                try:
                    decision = decision_from_row(event)
                except (ValueError, StoreError):
                    continue
        if decision is None:
            try:
                decision = decision_from_fields({**row, "status": row.get("status") or Status.CLEAR.value},
                                                party=row.get("partner", ""))
            except (ValueError, StoreError):  # a row edited by hand into something we cannot answer with
                unread = snap.unread.get(index)
                fix = f" Fix: {unread.describe()}." if unread is not None else ""
                decision = Decision(Status.NEEDS_REVIEW, "", "", "", rid, MatchLevel.NONE, 0, (), "quarantine",
                                    f"This submission was registered before as {rid}, whose row cannot be read; "
                                    f"a person should check it.{fix}")
        self._remember(decision, rid, row.get("source", ""), row.get("external_id", ""))
        return decision

    def _decision_rows(self, deadline: float) -> list[dict[str, str]]:
        """Every Decisions row (one values.get), duplicates of an event dropped."""
        tab = self._tab("decisions", deadline)
        values = self._get(tab, "the decisions read", deadline)
        layout = read_layout("decisions", tab.title, values[0] if values else [])
        if layout.problems:
            raise _layout_error(layout.problems)
        seen: set[str] = set()
        rows = []
        for row in _row_dicts(layout, values):
            if row and row.get("event_id") not in seen:
                seen.add(row.get("event_id", ""))
                rows.append(row)
        return rows

    # -- registering -------------------------------------------------------------------

    def register(self, decide: Decide, *, source: str = "", external_id: str = "") -> Registered:
        deadline = self._deadline()
        with self._registering:
            attempt = 0
            tried: tuple[Write, frozenset[str], list[DecisionEvent]] | None = None
            try:
                while True:
                    snap = self._read(deadline)  # 1. fresh
                    if tried is not None:
                        write, baseline, events = tried
                        if write.registration.registration_id in snap.ids:  # the ambiguous write had landed
                            log.warning("sheets: registration %s had landed despite the error; not written again",
                                        write.registration.registration_id)
                            tried = None
                            self._remember(write.event.decision, *_ids(write.registration))
                            return self._settle(write, baseline, snap, decide, deadline)
                        self._return_events(events)  # not written: keep them for the next write
                        tried = None
                    if external_id and (source, external_id) in snap.externals:
                        return Registered(self._decision_of(snap, snap.externals[(source, external_id)], deadline),
                                          created=False)
                    write = decide(snap.changes_since)  # 2. decide against the fresh state …
                    rid = write.registration.registration_id
                    if rid in snap.ids:
                        return Registered(self._decision_of(snap, snap.ids[rid], deadline), created=False)
                    events = self._take_events()
                    tried = (write, frozenset(snap.ids), events)
                    requests_ = self._registration_requests(snap, write, events, deadline)
                    try:  # … and write the row, its event and the displaced rows together
                        self._write(requests_, "the registration write", deadline)
                    except _Ambiguous as exc:
                        log.warning("sheets: the registration write of %s answered %s; reading before retrying",
                                    rid, exc)
                        self._backoff(attempt, str(exc), "the registration write", deadline)
                        attempt += 1
                        continue
                    tried = None
                    self._remember(write.event.decision, *_ids(write.registration))
                    after = self._read(deadline, reference=False)  # 3. re-read
                    return self._settle(write, frozenset(snap.ids), after, decide, deadline)
            finally:
                if tried is not None:  # gave up, or the write was refused: the events were not written
                    self._return_events(tried[2])

    def _registration_requests(self, snap: _Snapshot, write: Write, events: Sequence[DecisionEvent],
                               deadline: float) -> list[dict[str, Any]]:
        regs, decisions = self._tab("registrations", deadline), self._tab("decisions", deadline)
        layout = snap.layouts["registrations"]
        requests_ = [
            self._append(regs, layout, [registration_to_row(write.registration)]),
            self._append(decisions, snap.layouts["decisions"], [event_to_row(e) for e in (*events, write.event)],
                         truncate=True),
        ]
        for index, row in _displaced(write, snap):
            requests_ += self._update(regs, layout, index + 1, registration_to_row(row))
        return requests_

    def _settle(self, write: Write, baseline: frozenset[str], snap: _Snapshot, decide: Decide,
                deadline: float) -> Registered:
        """Step 3: re-decide our claim if concurrent claims changed its outcome (module docstring)."""
        ours = write.registration
        decided = write.event.decision
        index = snap.ids.get(ours.registration_id)
        if decided.status is Status.REJECTED:  # a record, not a claim: no race to settle
            return Registered(decided, created=True)
        if index is None:
            log.warning("sheets: registration %s is not in the re-read (deleted by hand?)", ours.registration_id)
            return Registered(decided, created=True)
        mine = _key(ours)
        before: list[Registration] = []  # what our own outcome is decided against
        later_above: list[Registration] = []  # concurrent, later in the order, but written before us
        raced = False
        for i, reg in enumerate(snap.registrations):
            if reg is None or reg.registration_id == ours.registration_id:
                continue
            concurrent = reg.registration_id not in baseline
            if concurrent and _key(reg) > mine:
                if i < index:  # its writer may have finished without seeing us: we displace it if we win
                    later_above.append(reg)
                continue  # written after us: that writer decides against us at its own step 3
            raced = raced or concurrent
            before.append(reg)
        if not raced and not later_above:
            return Registered(decided, created=True)

        def redo(view: list[Registration]) -> tuple[Write, Decision]:
            """Our claim decided against `view` (the callback is pure: calling it again is safe)."""
            changes = snap.everything(tuple(view), epoch="race-" + secrets.token_hex(8))
            again = decide(lambda since: changes)
            if again.registration.submitted_at != ours.submitted_at:
                log.warning("sheets: registration %s was re-decided with submitted_at %s instead of %s; "
                            "simultaneous claims are only ordered exactly when the record carries its "
                            "submitted_at", ours.registration_id, again.registration.submitted_at,
                            ours.submitted_at)
            return again, replace(again.event.decision, expires_at=decided.expires_at)  # our window stays

        own_write, own = (write, decided) if not raced else redo(before)
        displacer = own_write
        if later_above:
            displacer, everything = redo(before + later_above)
            if everything.owner != own.owner:  # a later claim wins (a territory partner …): so do we lose
                own_write, own = displacer, everything
        regs_tab = self._tab("registrations", deadline)
        layout = snap.layouts["registrations"]
        requests_: list[dict[str, Any]] = []
        final = decided
        if (own.status, own.owner) != (decided.status, decided.owner):
            final = own
            corrected = replace(snap.registrations[index], owner=final.owner,  # type: ignore[arg-type]
                                status=final.status.value, attribution_primary=final.attribution_primary,
                                attribution_secondary=final.attribution_secondary,
                                matched_registration_id=final.matched_registration_id, rule=final.rule,
                                reason=final.reason)
            requests_ += self._update(regs_tab, layout, index + 1, registration_to_row(corrected))
        displaced = _displaced(displacer, snap) if displacer is not write else []
        for i, row in displaced:
            requests_ += self._update(regs_tab, layout, i + 1, registration_to_row(row))
        if requests_:
            if final is not decided:  # the correcting decision event
                requests_.append(self._append(self._tab("decisions", deadline), snap.layouts["decisions"],
                                              [event_to_row(replace(own_write.event, decision=final))],
                                              truncate=True))
            log.info("sheets: registration %s raced; %s/%s -> %s/%s, %d other rows rewritten",
                     ours.registration_id, decided.status.value, decided.owner, final.status.value, final.owner,
                     len(displaced))
            # Rewrites are idempotent; a repeated correcting event is dropped by event_id on read.
            self._write(requests_, "the race correction", deadline, retry_ambiguous=True)
            self.invalidate()  # our own rewrites are not in the snapshot
        self._remember(final, *_ids(ours))
        return Registered(final, created=True)

    @staticmethod
    def _append(tab: _Tab, layout: Layout, rows: Sequence[Mapping[str, str]], *,
                truncate: bool = False) -> dict[str, Any]:
        return {"appendCells": {"sheetId": tab.sheet_id, "fields": "userEnteredValue",
                                "rows": [{"values": _row_cells(layout, row, truncate)} for row in rows]}}

    @staticmethod
    def _update(tab: _Tab, layout: Layout, grid_row: int, row: Mapping[str, str]) -> list[dict[str, Any]]:
        """Rewrite our cells of one row: one updateCells per run of adjacent columns of ours,
        so the other columns keep their values."""
        cells = _row_cells(layout, row)
        out = []
        for start, end in _runs(sorted(layout.columns.values())):
            out.append({"updateCells": {
                "start": {"sheetId": tab.sheet_id, "rowIndex": grid_row, "columnIndex": start},
                "rows": [{"values": cells[start:end + 1]}], "fields": "userEnteredValue"}})
        return out

    # -- check events ------------------------------------------------------------------

    def record_event(self, event: DecisionEvent) -> None:
        """Buffer the event; write the buffer when it is full or old (module docstring)."""
        with self._state:
            if not self._buffer:
                self._buffer_since = self._clock()
            self._buffer.append(event)
            due = (len(self._buffer) >= self.flush_events
                   or self._clock() - self._buffer_since >= self.cache_seconds)
        if due:
            try:
                self.flush()
            except StoreError as exc:  # the events stay buffered; the decision was made and answered
                log.warning("sheets: could not write %d decision events yet: %s", self.buffered(), exc)

    def buffered(self) -> int:
        return len(self._buffer)

    def _take_events(self) -> list[DecisionEvent]:
        with self._state:
            events, self._buffer = self._buffer, []
            return events

    def _return_events(self, events: list[DecisionEvent]) -> None:
        if not events:
            return
        with self._state:
            if not self._buffer:
                self._buffer_since = self._clock()
            self._buffer[:0] = events
            if len(self._buffer) > MAX_BUFFERED_EVENTS:
                dropped = len(self._buffer) - MAX_BUFFERED_EVENTS
                del self._buffer[:dropped]
                log.error("sheets: dropped the %d oldest unwritten check events (the spreadsheet is unreachable)",
                          dropped)

    def flush(self) -> int:
        """Write the buffered events now (one batchUpdate); returns how many."""
        with self._flushing:
            events = self._take_events()
            if not events:
                return 0
            try:
                deadline = self._deadline()
                snap = self._snap or self._read(deadline)
                request = self._append(self._tab("decisions", deadline), snap.layouts["decisions"],
                                       [event_to_row(e) for e in events], truncate=True)
                self._write([request], "the decision events write", deadline, retry_ambiguous=True)
            except BaseException:
                self._return_events(events)
                raise
            return len(events)

    # -- health and closing ------------------------------------------------------------

    def health(self) -> Health:
        try:
            snap = self._current()
        except StoreError as exc:
            return Health(False, self.backend, str(exc))
        facts: dict[str, object] = {
            "registrations": sum(1 for r in snap.registrations if r is not None),
            "buffered_events": self.buffered(),
        }
        return Health(True, self.backend, "", facts)

    def close(self) -> None:
        try:
            self.flush()
        except StoreError as exc:
            log.error("sheets: %d decision events were not written: %s", self.buffered(), exc)
        self._http.session.close()

    # -- whole tabs (dealreg import / export, tests) ----------------------------------

    def read_rows(self, table: str) -> Iterator[dict[str, str]]:
        """The rows of one tab, our columns only (buffered events are written first)."""
        check_table(table)
        deadline = self._deadline()
        if table == "decisions":
            self.flush()
            rows: list[dict[str, str]] = self._decision_rows(deadline)
        else:
            tab = self._tab(table, deadline)
            values = self._get(tab, f"the {table} read", deadline)
            layout = read_layout(table, tab.title, values[0] if values else [])
            if layout.problems:
                raise _layout_error(layout.problems)
            if table == "registrations":
                values = self._reading.dated(tab.title, values)
            rows = [r for r in _row_dicts(layout, values) if r]
        yield from rows

    def count(self, table: str) -> int:
        return sum(1 for _ in self.read_rows(table))

    def is_empty(self) -> bool:
        snap = self._read(self._deadline())
        ref = snap.reference
        return not (snap.ids or ref.partners or ref.territories or ref.named_accounts)

    def write_rows(self, table: str, rows: Iterable[Mapping[str, str]]) -> int:
        """registrations and decisions: add rows, rewriting those whose id is on file;
        partners, territories, named-accounts: replace the list. Every row is checked
        first; the write is one atomic batchUpdate (repeated after an ambiguous failure,
        which is safe: it is recomputed from a fresh read)."""
        clean = validated_rows(table, rows)
        deadline = self._deadline()
        tab = self._tab(table, deadline)
        key = {"registrations": "registration_id", "decisions": "event_id"}.get(table)
        attempt = 0
        while True:
            values = self._get(tab, f"the {table} read", deadline)
            layout = read_layout(table, tab.title, values[0] if values else [])
            if layout.problems:
                raise _layout_error(layout.problems)
            on_file = _row_dicts(layout, values)
            requests_: list[dict[str, Any]] = []
            if key is None:
                if len(values) > 1:
                    requests_.append({"deleteDimension": {"range": {
                        "sheetId": tab.sheet_id, "dimension": "ROWS", "startIndex": 1, "endIndex": len(values)}}})
                new = clean
            else:
                where = {row[key]: i for i, row in reversed(list(enumerate(on_file))) if row}
                new = []
                for row in clean:
                    if row[key] in where:
                        requests_ += self._update(tab, layout, where[row[key]] + 1, row)
                    else:
                        new.append(row)
            if new:
                requests_.append(self._append(tab, layout, new))
            if not requests_:
                return 0
            try:
                self._write(requests_, f"the {table} import", deadline)
            except _Ambiguous as exc:
                self._backoff(attempt, str(exc), f"the {table} import", deadline)
                attempt += 1
                continue
            self.invalidate()
            return len(clean)

    # -- dealreg init-sheet ------------------------------------------------------------

    def init_sheet(self) -> InitReport:
        """Create the missing tabs with their header rows, write the header of an empty tab,
        and check every other header (a misspelt or missing column is a problem)."""
        report = InitReport()
        deadline = self._deadline()
        tabs = self._metadata(deadline, fresh=True)
        missing = [t for t in TAB_TITLES if t not in tabs]
        if missing:
            try:
                self._write([{"addSheet": {"properties": {"title": TAB_TITLES[t], "gridProperties": {
                    "rowCount": 1000, "columnCount": max(26, len(COLUMNS[t])), "frozenRowCount": 1}}}}
                    for t in missing], "adding the tabs", deadline)
            except _Ambiguous as exc:
                self._tabs = None
                raise StoreUnavailable(f"Google Sheets answered {exc} while adding the tabs; run "
                                       f"`dealreg init-sheet` again (it is safe to repeat)") from None
            report.created = [TAB_TITLES[t] for t in missing]
            tabs = self._metadata(deadline, fresh=True)
        headers = self._batch_get([self._range(tabs[t], "1:1") for t in TAB_TITLES], "the header rows", deadline)
        empty = []
        for table, header in zip(TAB_TITLES, headers):
            if not any(_cell_text(h).strip() for h in (header[0] if header else [])):
                empty.append(table)
                report.layouts[table] = Layout(table, tabs[table].title,
                                               {c: i for i, c in enumerate(COLUMNS[table])})
            else:
                layout = read_layout(table, tabs[table].title, header[0])
                report.layouts[table] = layout
                report.problems.extend(layout.problems)
        if empty:
            grow = [{"appendDimension": {"sheetId": tabs[t].sheet_id, "dimension": "COLUMNS",
                                         "length": len(COLUMNS[t]) - tabs[t].columns}}
                    for t in empty if tabs[t].columns < len(COLUMNS[t])]
            write = [{"updateCells": {"start": {"sheetId": tabs[t].sheet_id, "rowIndex": 0, "columnIndex": 0},
                                      "fields": "userEnteredValue",
                                      "rows": [{"values": [_string_cell(c) for c in COLUMNS[t]]}]}} for t in empty]
            self._write(grow + write, "writing the header rows", deadline, retry_ambiguous=True)
            report.headers_written = [tabs[t].title for t in empty if TAB_TITLES[t] not in report.created]
        self._tabs = None
        self.invalidate()
        return report


def _row_cells(layout: Layout, row: Mapping[str, str], truncate: bool = False) -> list[dict[str, Any]]:
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
        cells[index] = _string_cell(value)
    return cells


def _displaced(write: Write, snap: _Snapshot) -> list[tuple[int, Registration]]:
    """The rows a registration rewrites, with their index in `snap`: the callback's
    `Write.displaced`, or (a callback that leaves it empty) `engine.displaced_row` of the
    rows `Decision.displaced` names."""
    decision = write.event.decision
    rows = write.displaced or tuple(
        displaced_row(reg, decision) for reg in (snap.registrations[snap.ids[rid]] for rid in decision.displaced
                                                 if rid in snap.ids) if reg is not None)
    return [(snap.ids[row.registration_id], row) for row in rows if row.registration_id in snap.ids]


def _ids(reg: Registration) -> tuple[str, str, str]:
    return reg.registration_id, reg.source, reg.external_id


def _runs(indexes: Sequence[int]) -> list[tuple[int, int]]:
    """[0, 1, 2, 5, 6] -> [(0, 2), (5, 6)]."""
    runs: list[tuple[int, int]] = []
    for i in indexes:
        if runs and runs[-1][1] == i - 1:
            runs[-1] = (runs[-1][0], i)
        else:
            runs.append((i, i))
    return runs


