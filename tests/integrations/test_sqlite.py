"""The SQLite store: schema and migrations, the change cursor, atomic registration,
idempotency, bulk rows, and failures that must read as "unavailable"."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from dealreg.engine import rejected
from dealreg.errors import InputError, StoreError, StoreUnavailable
from dealreg.models import DECISION_FIELDS, REGISTRATION_COLUMNS, Decision, MatchLevel, Record, Registration, Status
from handlers.events import new_event
from integrations.sqlite import MIGRATIONS, SQLiteStore
from integrations.store import Changes, Store, Write
from integrations.store.rows import COLUMNS, TABLES, decision_from_fields, registration_from_row, registration_to_row

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path):
    store = SQLiteStore(tmp_path / "store.db", deadline_seconds=2)
    yield store
    store.close()


def reg(rid: str, company: str = "Acme", partner: str = "Northwind Partners", **kw) -> Registration:
    return Registration(registration_id=rid, submitted_at=kw.pop("submitted_at", NOW), partner=partner,
                        company_name=company, **kw)


def decision(rid: str = "", status: Status = Status.CLEAR, owner: str = "Northwind Partners") -> Decision:
    return Decision(status, owner, "partner-sourced", "", "", MatchLevel.NONE, 0, ("domain",), "no_match",
                    "No active registration matches Acme.", registration_id=rid,
                    expires_at=NOW + timedelta(days=90) if rid else None, reasons=("one", "two"),
                    party=owner)


def write_for(registration: Registration, event_id: str = "") -> Write:
    record = Record(company_name=registration.company_name, partner=registration.partner,
                    source=registration.source, external_id=registration.external_id)
    event = new_event("register", record, decision(registration.registration_id), "hash", NOW, event_id or None)
    return Write(registration, event)


def register(store: SQLiteStore, registration: Registration, event_id: str = "") -> Decision:
    """A registration through a session, as the service makes it: the first decision of a key
    registered before, else the write."""
    with store.session() as session:
        first = session.first_decision(registration.source, registration.external_id)
        if first is not None:
            return first
        write = write_for(registration, event_id)
        assert session.write(write) is None
    return write.event.decision


def test_it_implements_the_store_protocol(store):
    assert isinstance(store, Store)


# -- schema ---------------------------------------------------------------------------------

def test_schema_is_created_on_first_use_versioned_and_in_wal_mode(store):
    assert not store.path.exists()
    assert store.health().ok
    assert store.schema_version() == len(MIGRATIONS)
    with sqlite3.connect(store.path) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    assert {"registrations", "decision_events", "partners", "territories", "named_accounts", "meta"} <= tables


def test_a_new_migration_is_applied_once_and_keeps_the_data(tmp_path):
    path = tmp_path / "old.db"
    old = SQLiteStore(path)
    register(old, reg("R-1"))
    old.close()
    migration = ("ALTER TABLE registrations ADD COLUMN note TEXT NOT NULL DEFAULT ''",
                 "UPDATE registrations SET note = 'migrated'")
    newer = SQLiteStore(path, migrations=(*MIGRATIONS, migration))
    assert newer.schema_version() == len(MIGRATIONS) + 1
    assert [r.registration_id for r in newer.changes(None).registrations] == ["R-1"]
    newer.close()
    again = SQLiteStore(path, migrations=(*MIGRATIONS, migration))
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT note FROM registrations").fetchall() == [("migrated",)]
    assert again.schema_version() == len(MIGRATIONS) + 1
    register(again, reg("R-2", "Other"))
    with sqlite3.connect(path) as conn:  # not re-run: the second row was not touched by the UPDATE
        assert conn.execute("SELECT registration_id, note FROM registrations ORDER BY seq").fetchall() == [
            ("R-1", "migrated"), ("R-2", "")]


def test_a_file_from_a_newer_dealreg_is_refused(tmp_path):
    path = tmp_path / "future.db"
    with sqlite3.connect(path) as conn:
        conn.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 5}")
    with pytest.raises(StoreError, match="newer than this dealreg knows"):
        SQLiteStore(path).changes(None)


def test_a_failed_migration_leaves_the_file_at_its_old_version(tmp_path):
    path = tmp_path / "half.db"
    SQLiteStore(path).health()
    broken = ("CREATE TABLE extra (x TEXT)", "THIS IS NOT SQL")
    with pytest.raises(StoreError):
        SQLiteStore(path, migrations=(*MIGRATIONS, broken)).changes(None)
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA user_version").fetchone()[0] == len(MIGRATIONS)
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'extra'").fetchone()[0] == 0


# -- the change cursor ----------------------------------------------------------------------------

def test_changes_are_a_reset_first_then_only_the_appended_rows(store):
    register(store, reg("R-1"))
    first = store.changes(None)
    assert first.reset and [r.registration_id for r in first.registrations] == ["R-1"]
    assert store.changes(first.cursor) == Changes(first.cursor)  # nothing new
    register(store, reg("R-2", "Beta"))
    register(store, reg("R-3", "Gamma"))
    later = store.changes(first.cursor)
    assert not later.reset
    assert [r.registration_id for r in later.registrations] == ["R-2", "R-3"]
    assert later.cursor.epoch == first.cursor.epoch and later.cursor.position > first.cursor.position


@pytest.mark.parametrize("table, row", [
    ("partners", {"partner": "Northwind Partners"}),
    ("territories", {"partner": "Northwind Partners", "countries": "DE;AT"}),
    ("named-accounts", {"owner": "direct", "company_name": "Siemens AG"}),
    ("registrations", {"registration_id": "R-1", "submitted_at": "2026-01-01", "company_name": "Acme", "state": "won"}),
])
def test_an_import_is_a_non_append_change_that_forces_a_rebuild(store, table, row):
    register(store, reg("R-1"))
    before = store.changes(None)
    store.write_rows(table, [row])
    after = store.changes(before.cursor)
    assert after.reset and after.cursor.epoch != before.cursor.epoch
    assert [r.registration_id for r in after.registrations] == ["R-1"]


def test_a_reset_carries_the_reference_data(store):
    store.write_rows("partners", [{"partner": "Northwind Partners"}, {"partner": "Contoso"}])
    store.write_rows("territories", [{"partner": "Contoso", "countries": "AU,NZ", "min_employees": "10"}])
    store.write_rows("named-accounts", [{"owner": "direct", "company_domain": "siemens.com"}])
    changes = store.changes(None)
    assert changes.partners == ("Northwind Partners", "Contoso") == store.partners()
    [territory] = changes.territories
    assert territory.countries == frozenset({"AU", "NZ"}) and territory.min_employees == 10
    assert changes.territories == store.territories()
    assert changes.named_accounts == store.named_accounts()
    assert changes.named_accounts[0].company_domain == "siemens.com"


# -- registering ---------------------------------------------------------------------------------

def test_register_writes_the_registration_and_its_event_together(store):
    result = register(store, reg("R-1", external_id="tok-1", source="typeform"))
    assert result.registration_id == "R-1"
    assert store.count("registrations") == 1 and store.count("decisions") == 1


def test_a_session_reads_the_current_claims(store):
    register(store, reg("R-1"))
    with store.session() as session:
        seen = session.changes(None)
        session.write(write_for(reg("R-2", "Beta")))
    assert [r.registration_id for r in seen.registrations] == ["R-1"]


def test_an_error_inside_a_session_writes_nothing(store):
    with pytest.raises(ValueError):
        with store.session() as session:
            session.write(write_for(reg("R-1")))
            raise ValueError("the engine blew up")  # after the write: it is rolled back with the session
    assert (store.count("registrations"), store.count("decisions")) == (0, 0)


def test_a_session_holds_out_every_other_writer(store, tmp_path):
    other = SQLiteStore(store.path, deadline_seconds=0.2)
    store.health()
    with store.session():
        with pytest.raises(StoreUnavailable):
            with other.session():
                pass
    with other.session():  # free again
        pass
    other.close()


def test_an_event_that_cannot_be_written_rolls_back_its_registration(store):
    register(store, reg("R-1"), event_id="E-same")
    with pytest.raises(StoreError):
        register(store, reg("R-2", "Beta"), event_id="E-same")  # the event id is taken
    assert [r["registration_id"] for r in store.read_rows("registrations")] == ["R-1"]
    assert store.count("decisions") == 1


def test_the_same_external_id_returns_the_first_decision(store):
    register(store, reg("R-1", external_id="tok-1", source="typeform"))
    again = register(store, reg("R-2", external_id="tok-1", source="typeform"))
    assert again.fields() == decision("R-1").fields()
    assert again.reasons == ("one", "two") and again.party == "Northwind Partners"
    assert store.first_decision("typeform", "tok-1") == again
    assert store.first_decision("clay", "tok-1") is None
    assert store.first_decision("typeform", "") is None
    assert store.count("registrations") == 1


def test_first_decision_of_an_imported_registration_comes_from_its_row(store):
    store.write_rows("registrations", [{"registration_id": "R-7", "submitted_at": "2026-01-05T10:00:00Z",
                                        "partner": "Contoso", "company_name": "Acme", "source": "typeform",
                                        "external_id": "tok-7", "status": "conflict", "owner": "Northwind",
                                        "rule": "first_to_register", "reason": "Northwind came first."}])
    found = store.first_decision("typeform", "tok-7")
    assert found is not None
    assert (found.status, found.owner, found.registration_id, found.rule) == (
        Status.CONFLICT, "Northwind", "R-7", "first_to_register")


def test_a_redelivery_of_a_row_edited_by_hand_into_something_unreadable_is_needs_review_not_an_error(store):
    # As the Sheets and HubSpot stores answer it: a person must look, the sender must not retry for ever.
    store.write_rows("registrations", [{"registration_id": "R-7", "submitted_at": "2026-01-05T10:00:00Z",
                                        "partner": "Contoso", "company_name": "Acme", "source": "typeform",
                                        "external_id": "tok-7", "status": "clear", "owner": "Contoso",
                                        "rule": "no_match", "reason": "No claim."}])
    with sqlite3.connect(store.path) as conn:
        conn.execute("UPDATE registrations SET status = 'approved' WHERE registration_id = 'R-7'")
    for found in (store.first_decision("typeform", "tok-7"), register(store, reg("R-8", external_id="tok-7",
                                                                                source="typeform"))):
        assert found is not None
        assert (found.status, found.rule, found.owner, found.matched_registration_id) == (
            Status.NEEDS_REVIEW, "quarantine", "", "R-7")
        assert "registered before as R-7" in found.reason
    assert store.count("registrations") == 1


def test_a_check_event_is_not_a_registration(store):
    record = Record(company_name="Acme", source="clay", external_id="row-1")
    store.record_event(new_event("check", record, decision(), "hash", NOW))
    assert store.first_decision("clay", "row-1") is None
    assert (store.count("registrations"), store.count("decisions")) == (0, 1)


def test_a_locked_database_past_the_deadline_is_unavailable(tmp_path):
    path = tmp_path / "locked.db"
    SQLiteStore(path).health()
    blocker = sqlite3.connect(path, isolation_level=None)
    blocker.execute("BEGIN IMMEDIATE")  # another process holds the write lock
    try:
        impatient = SQLiteStore(path, deadline_seconds=0.05)
        with pytest.raises(StoreUnavailable, match="locked"):
            register(impatient, reg("R-1"))
        assert impatient.changes(None).registrations == ()  # readers are not blocked (WAL)
    finally:
        blocker.execute("ROLLBACK")
        blocker.close()


@pytest.mark.parametrize("make_path", [
    lambda tmp: tmp / "missing-folder" / "x.db",
    lambda tmp: (tmp / "dir.db").mkdir() or tmp / "dir.db",
])
def test_an_unopenable_file_is_unavailable_and_unhealthy(tmp_path, make_path):
    store = SQLiteStore(make_path(tmp_path))
    with pytest.raises(StoreUnavailable):
        store.changes(None)
    with pytest.raises(StoreUnavailable):
        register(store, reg("R-1"))
    health = store.health()
    assert not health.ok and "unable to open" in health.detail


def test_a_corrupt_file_is_unavailable(tmp_path):
    path = tmp_path / "corrupt.db"
    path.write_bytes(b"this is not a database" * 100)
    with pytest.raises(StoreUnavailable):
        SQLiteStore(path).changes(None)


# -- whole tabs ------------------------------------------------------------------------------------

ROWS = {
    "registrations": [{"registration_id": "R-1", "submitted_at": "2026-01-05T10:00:00+00:00", "source": "typeform",
                       "partner": "Northwind Partners", "company_name": "=HYPERLINK(\"http://x\")",
                       "company_domain": "acme.com", "deal_value": "48000.5", "employees": "12", "state": "open",
                       "expires_at": "2026-04-05T10:00:00+00:00", "external_id": "tok-1"}],
    "partners": [{"partner": "Northwind Partners"}, {"partner": "Contoso"}],
    "territories": [{"partner": "Contoso", "countries": "AU;NZ", "regions": "", "industries": "Software",
                     "min_employees": "", "max_employees": "500"}],
    "named-accounts": [{"owner": "direct", "company_name": "Siemens AG", "company_domain": "siemens.com",
                        "linkedin_url": "", "duns": "", "note": "customer"}],
    "aliases": [{"alias": "Philip Morris Companies", "account_domain": "altria.com", "account_name": "",
                 "note": "until 2003"}, {"alias": "Taxify", "account_domain": "", "account_name": "Bolt", "note": ""}],
}


@pytest.mark.parametrize("table", list(ROWS))
def test_rows_written_read_back_in_the_sheet_layout(store, table):
    assert store.write_rows(table, ROWS[table]) == len(ROWS[table])
    back = list(store.read_rows(table))
    assert all(list(row) == list(COLUMNS[table]) for row in back)
    for written, read in zip(ROWS[table], back, strict=True):
        assert {k: v for k, v in read.items() if k in written} == written


def test_decision_rows_round_trip(store, tmp_path):
    register(store, reg("R-1", external_id="tok-1", source="typeform"))
    rows = list(store.read_rows("decisions"))
    assert list(rows[0]) == list(COLUMNS["decisions"])
    assert set(DECISION_FIELDS) <= set(rows[0])
    copy = SQLiteStore(tmp_path / "copy.db")
    copy.write_rows("decisions", rows)
    assert list(copy.read_rows("decisions")) == rows
    assert copy.first_decision("typeform", "tok-1") == store.first_decision("typeform", "tok-1")


def test_reference_lists_are_replaced_whole_and_registrations_upserted(store):
    store.write_rows("partners", [{"partner": "A"}, {"partner": "B"}])
    store.write_rows("partners", [{"partner": "C"}])
    assert store.partners() == ("C",)
    store.write_rows("aliases", [{"alias": "Taxify", "account_domain": "bolt.eu"}])
    store.write_rows("aliases", [{"alias": "Philip Morris Companies", "account_domain": "altria.com"}])
    assert [a.alias for a in store.changes(None).aliases] == ["Philip Morris Companies"]
    store.write_rows("registrations", [{"registration_id": "R-1", "submitted_at": "2026-01-01", "company_name": "Old"}])
    store.write_rows("registrations", [{"registration_id": "R-1", "submitted_at": "2026-01-01", "company_name": "New"},
                                       {"registration_id": "R-2", "submitted_at": "2026-01-02", "company_name": "Two"}])
    assert [(r["registration_id"], r["company_name"]) for r in store.read_rows("registrations")] == [
        ("R-1", "New"), ("R-2", "Two")]


@pytest.mark.parametrize("table, rows, where", [
    ("registrations", [{"registration_id": "R-1", "submitted_at": "2026-01-01"},
                       {"registration_id": "R-2", "submitted_at": "2026-02-30"}], "row 3 submitted_at"),
    ("registrations", [{"registration_id": "", "submitted_at": "2026-01-01"}], "row 2 registration_id"),
    ("registrations", [{"registration_id": "R-1", "submitted_at": "2026-01-01", "deal_value": "NaN"}], "row 2 deal_value"),
    ("registrations", [{"registration_id": "R-1", "submitted_at": "2026-01-01", "employees": "-3"}], "row 2 employees"),
    ("registrations", [{"registration_id": "R-1", "submitted_at": "2026-01-01", "status": "won"}], "row 2 status"),
    ("partners", [{"partner": ""}], "row 2 partner"),
    ("territories", [{"partner": "A", "min_employees": "many"}], "row 2 min_employees"),
    ("named-accounts", [{"owner": "direct"}], "row 2 company_name"),
    ("aliases", [{"alias": "Taxify", "account_domain": "bolt.eu"}, {"alias": "Orphan"}], "row 3 account_domain"),
    ("aliases", [{"alias": "Taxify", "account_domain": "gmail.com"}], "row 2 account_domain"),
    ("aliases", [{"alias": "&", "account_domain": "bolt.eu"}], "row 2 alias"),
    ("decisions", [{"event_id": "E-1", "status": "maybe", "owner": "x", "rule": "r", "reason": "r"}], "row 2 status"),
])
def test_a_bad_row_is_refused_naming_row_and_column_and_nothing_is_written(store, table, rows, where):
    with pytest.raises(InputError, match=where):
        store.write_rows(table, rows)
    assert store.count(table) == 0


def test_unknown_table_is_refused(store):
    with pytest.raises(StoreError, match="unknown table"):
        list(store.read_rows("accounts"))
    # the operations log is no table to import or export
    assert set(TABLES) == set(COLUMNS) - {"log"}


# -- the shared row helpers ----------------------------------------------------------------------

def test_registration_rows_round_trip():
    original = reg("R-1", deal_value=48000.5, employees=12, expires_at=NOW + timedelta(days=30), state="won",
                   external_id="x", source="typeform")
    row = registration_to_row(original)
    assert list(row) == list(REGISTRATION_COLUMNS)
    assert registration_from_row(row) == original


def test_a_stored_decision_rebuilds_exactly():
    original = rejected(["a", "b"], party="Northwind", registration_id="R-1")
    assert decision_from_fields(original.fields(), original.reasons, "Northwind") == original


def test_the_alias_table_is_reference_data_and_a_bad_row_is_reported_not_claimed(store):
    store.changes(None)  # the file and its tables are made on first use
    with sqlite3.connect(store.path) as conn:
        conn.executemany("INSERT INTO aliases (alias, account_domain, account_name, note) VALUES (?, ?, ?, ?)",
                         [("Philip Morris Companies", "altria.com", "", "until 2003"), ("Orphan", "", "", "")])
    changes = store.changes(None)
    assert [(a.alias, a.account_domain) for a in changes.aliases] == [("Philip Morris Companies", "altria.com")]
    bad = [q for q in changes.quarantined if q.table == "aliases"]
    assert len(bad) == 1 and not bad[0].claim and "account_domain" in bad[0].problems[0]
