"""The Partners list's `joined_at` (the day a partner signed, for the report's 90-day activation):
an optional column, so a SQLite file, a Sheet or a CSV made before it keeps working."""

from __future__ import annotations

import sqlite3

import pytest

from dealreg.errors import InputError, StoreError
from integrations.csvfile import CSVFileError, read_partner_rows
from integrations.sqlite import MIGRATIONS, SQLiteStore
from integrations.store.rows import validated_rows
from tests.fakes.sheets_api import FakeSheetsAPI
from tests.integrations.sheets_support import FakeClock, new_sheet, store_for, tab_rows


def test_a_sqlite_file_made_before_joined_at_is_upgraded_and_keeps_its_partners(tmp_path):
    path = tmp_path / "old.db"
    old = SQLiteStore(path, migrations=MIGRATIONS[:1])  # a file as dealreg made it before joined_at
    assert old.schema_version() == 1
    old.close()
    with sqlite3.connect(path) as conn:
        conn.execute("INSERT INTO partners (partner, note) VALUES ('Northwind Partners', 'signed in March')")
    store = SQLiteStore(path)
    assert store.schema_version() == len(MIGRATIONS)
    assert list(store.read_rows("partners")) == [
        {"partner": "Northwind Partners", "contact_email": "", "note": "signed in March", "joined_at": ""}]
    store.write_rows("partners", [{"partner": "Northwind Partners", "joined_at": "2026-04-15"}])
    assert [r["joined_at"] for r in store.read_rows("partners")] == ["2026-04-15"]
    assert store.changes(None).partners == ("Northwind Partners",)


def test_a_joined_at_that_is_no_date_is_refused_naming_the_row_and_column():
    with pytest.raises(InputError) as caught:
        validated_rows("partners", [{"partner": "A", "joined_at": "2026-04-15"}, {"partner": "B", "joined_at": "soon"}])
    assert list(caught.value.problems) == [("row 3 joined_at", "'soon' is not a date (use YYYY-MM-DD or an ISO-8601 time)")]


def test_a_partners_csv_of_names_alone_still_imports(tmp_path):
    names = tmp_path / "partners.csv"
    names.write_text("Partner Name\nNorthwind Partners\n\n", encoding="utf-8")
    assert read_partner_rows(names) == [{"partner": "Northwind Partners", "contact_email": "", "note": "",
                                         "joined_at": ""}]
    full = tmp_path / "full.csv"
    full.write_text("partner,Joined At,note\nContoso Consulting,2026-06-01,EMEA\n", encoding="utf-8")
    assert read_partner_rows(full) == [{"partner": "Contoso Consulting", "contact_email": "", "note": "EMEA",
                                        "joined_at": "2026-06-01"}]
    nameless = tmp_path / "nameless.csv"
    nameless.write_text("company\nAcme\n", encoding="utf-8")
    with pytest.raises(CSVFileError, match="missing column 'partner'"):
        read_partner_rows(nameless)


@pytest.fixture
def api():
    with FakeSheetsAPI() as fake:
        yield fake


def test_a_partners_tab_without_joined_at_still_serves_and_refuses_to_drop_an_imported_date(api):
    new_sheet(api, partners=tab_rows("partners", [{"partner": "Northwind Partners"}],
                                      columns=["partner", "contact_email", "note"]))
    store = store_for(api, clock=FakeClock())
    assert store.changes(None).partners == ("Northwind Partners",)
    assert list(store.read_rows("partners")) == [{"partner": "Northwind Partners", "contact_email": "", "note": ""}]
    with pytest.raises(StoreError, match="Partners: no column for joined_at; add a header cell 'joined_at'"):
        store.write_rows("partners", [{"partner": "Northwind Partners", "joined_at": "2026-04-15"}])
    assert list(store.read_rows("partners")) == [{"partner": "Northwind Partners", "contact_email": "", "note": ""}]


def test_a_joined_at_typed_as_a_date_in_the_sheet_reads_as_that_day(api):
    # A date typed into a cell is stored as a serial number (days since 1899-12-30): 46127 is 2026-04-15
    new_sheet(api, partners=tab_rows("partners", [{"partner": "Northwind Partners", "joined_at": 46127}]))
    store = store_for(api, clock=FakeClock())
    [row] = store.read_rows("partners")
    assert row["joined_at"].startswith("2026-04-15T00:00:00")
