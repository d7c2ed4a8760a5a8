"""The actions without HTTP: the warm engine, check vs register, idempotency, partners,
store failures. Real stores (SQLite in a temp file, Sheets on the fake API); a fake only
for a store that is down."""

from __future__ import annotations

from datetime import timedelta

import pytest

from config.rules import load_rules
from dealreg.errors import StoreUnavailable
from dealreg.models import Record, Registration, Status
from handlers.service import Service, new_registration_id
from integrations.sqlite import SQLiteStore
from integrations.typeform import parse_typeform
from tests.handlers.support import NOW, DownStore, Ids, StepClock, counts, search_index_catches_up, write_rules
from tests.payloads import load_json

ACME = Record(company_name="Acme Robotics GmbH", company_domain="acme-robotics.de", source="api")


@pytest.fixture
def rules(tmp_path):
    return load_rules(write_rules(tmp_path))


@pytest.fixture
def service(store, rules):
    return Service(store, rules, clock=StepClock(), new_id=Ids())


def as_partner(record: Record, partner: str, **changes) -> Record:
    from dataclasses import replace

    return replace(record, partner=partner, **changes)


def test_check_decides_and_stores_only_the_event(service, store):
    decision = service.check(ACME)
    assert (decision.status, decision.owner, decision.registration_id) == (Status.CLEAR, "direct", "")
    assert counts(store) == (0, 1)
    [event] = store.read_rows("decisions")
    assert (event["action"], event["status"], event["decided_at"]) == ("check", "clear", NOW.isoformat())


def test_register_stores_the_registration_and_its_event_with_the_injected_clock_and_id(service, store):
    decision = service.register(as_partner(ACME, "Northwind Partners"))
    assert decision.status is Status.CLEAR and decision.registration_id == "R-000000000001"
    assert decision.expires_at == NOW + timedelta(days=90)
    [row] = store.read_rows("registrations")
    assert row["registration_id"] == "R-000000000001" and row["submitted_at"] == NOW.isoformat()
    assert (row["partner"], row["owner"], row["state"]) == ("Northwind Partners", "Northwind Partners", "open")
    [event] = store.read_rows("decisions")
    assert event["registration_id"] == "R-000000000001" and event["action"] == "register"


def test_a_later_registration_by_another_party_is_a_conflict_naming_the_first_owner(service, store):
    first = service.register(as_partner(ACME, "Northwind Partners"))
    second = service.register(as_partner(ACME, "Contoso Consulting"))
    assert second.status is Status.CONFLICT and second.owner == "Northwind Partners"
    assert second.rule == "first_to_register" and second.matched_registration_id == first.registration_id
    assert second.attribution_secondary == "partner-influenced"
    rows = list(store.read_rows("registrations"))
    assert [r["owner"] for r in rows] == ["Northwind Partners", "Northwind Partners"]
    assert [r["status"] for r in rows] == ["clear", "conflict"]


def test_register_is_idempotent_on_source_and_external_id(service, store):
    record = as_partner(ACME, "Northwind Partners", external_id="tf-1", source="typeform")
    first = service.register(record)
    again = service.register(record)
    assert again.fields() == first.fields()
    assert again.reasons == first.reasons
    assert counts(store) == (1, 1)
    other_source = service.register(as_partner(record, "Northwind Partners", source="clay"))
    assert other_source.registration_id != first.registration_id  # the key is (source, external_id)


def test_register_rejected_is_stored_with_every_reason_and_is_idempotent(service, store):
    record = Record(source="typeform", external_id="tf-9", contact_email="jane@gmail.com")
    decision = service.register_rejected(record, ["deal_value: must not be negative", "no company; none at all"])
    assert decision.status is Status.REJECTED and decision.registration_id
    assert decision.reasons == ("deal_value: must not be negative", "no company; none at all")
    again = service.register_rejected(record, ["something else"])
    assert (again.fields(), again.reasons) == (decision.fields(), decision.reasons)
    [row] = store.read_rows("registrations")
    assert row["state"] == "rejected" and row["expires_at"] == ""
    [event] = store.read_rows("decisions")
    assert event["reasons"] == "deal_value: must not be negative\nno company; none at all"


def test_first_decision_survives_a_restart(store, reopen, rules):
    record = as_partner(ACME, "Northwind Partners", external_id="tf-1", source="typeform")
    first = Service(store, rules, clock=StepClock(), new_id=Ids()).register(record)
    restarted = Service(reopen(), rules, clock=StepClock(NOW + timedelta(days=3)),
                        new_id=lambda: "R-ffffffffffff")
    assert restarted.register(record).fields() == first.fields()
    assert counts(store) == (1, 1)


# -- partners ------------------------------------------------------------------------------

def test_partners_list_empty_accepts_any_partner(service):
    assert service.register(as_partner(ACME, "Anyone At All")).status is Status.CLEAR


def test_partners_list_with_entries_rejects_an_unknown_partner_naming_the_known_ones(service, store):
    store.write_rows("partners", [{"partner": "Northwind Partners"}, {"partner": "Contoso Consulting"}])
    decision = service.register(as_partner(ACME, "Northwnd Partners"))
    assert decision.status is Status.REJECTED
    assert "Northwnd Partners" in decision.reason
    assert "Contoso Consulting, Northwind Partners" in decision.reason
    [row] = store.read_rows("registrations")
    assert row["state"] == "rejected"  # stored, so the partner manager sees the typo


def test_partner_names_match_case_and_space_insensitively(service, store):
    store.write_rows("partners", [{"partner": "Northwind Partners"}])
    decision = service.register(as_partner(ACME, "NORTHWIND   partners"))
    assert decision.status is Status.CLEAR and decision.owner == "Northwind Partners"


def test_direct_is_always_a_known_party(service, store):
    store.write_rows("partners", [{"partner": "Northwind Partners"}])
    assert service.register(ACME).status is Status.CLEAR  # no partner: the direct team


# -- the warm engine -----------------------------------------------------------------------------

def test_the_engine_stays_warm_and_picks_up_rows_written_by_another_process(service, reopen, rules, request):
    service.check(ACME)
    engine = service._engine
    other_process = Service(reopen(), rules, clock=StepClock(), new_id=lambda: "R-0000000000aa")
    other_process.register(as_partner(ACME, "Contoso Consulting"))
    search_index_catches_up(request)  # HubSpot: another instance's write reaches a warm reader through search
    decision = service.check(ACME)
    assert service._engine is engine, "an append must not rebuild the index"
    assert len(engine) == 1
    assert (decision.status, decision.owner, decision.matched_registration_id) == (
        Status.CONFLICT, "Contoso Consulting", "R-0000000000aa")


def test_a_non_append_change_rebuilds_the_engine(service, store):
    service.check(ACME)
    engine = service._engine
    store.write_rows("named-accounts", [{"owner": "direct", "company_name": "Acme Robotics",
                                         "company_domain": "acme-robotics.de"}])
    decision = service.check(as_partner(ACME, "Northwind Partners"))
    assert service._engine is not engine
    assert (decision.status, decision.rule, decision.owner) == (Status.CONFLICT, "named_accounts", "direct")


def test_warm_up_loads_the_claims(service, store):
    store.write_rows("registrations", [{"registration_id": "R-1", "submitted_at": NOW.isoformat(),
                                        "partner": "Northwind Partners", "company_name": "Acme"}])
    assert service.warm_up() == 1


# -- Typeform submissions --------------------------------------------------------------------------

def test_typeform_test_request_writes_nothing(service, store):
    submission = parse_typeform(load_json("typeform_test_request.json"))
    decision = service.receive_typeform(submission)
    assert decision.status is Status.REJECTED and "test request" in decision.reason
    assert counts(store) == (0, 0)


def test_typeform_registration_uses_the_submission_time(service, store):
    submission = parse_typeform(load_json("typeform_registration.json"))
    decision = service.receive_typeform(submission)
    [row] = store.read_rows("registrations")
    assert row["submitted_at"] == "2026-03-02T14:09:47+00:00"
    assert decision.expires_at is not None and decision.expires_at.isoformat().startswith("2026-05-31T14:09:47")


# -- store failures ---------------------------------------------------------------------------------

@pytest.mark.parametrize("action", ["check", "register"])
def test_store_down_raises_store_unavailable_never_a_decision(rules, action):
    service = Service(DownStore(), rules, clock=StepClock(), new_id=Ids())
    with pytest.raises(StoreUnavailable):
        getattr(service, action)(ACME)


BAD_CELLS = {  # hand edits a partner manager makes, each breaking one cell of a row
    "duns": "12",
    "deal_value": "TBD",
    "submitted_at": "2026-02-30",
}


def write_behind_the_store(backend, store, request, row: dict[str, str]) -> str:
    """Write `row` where the store keeps its registrations, the way a hand edit does (no checks);
    returns how the store names the row."""
    import sqlite3

    if backend == "sqlite":
        store.health()
        columns = ", ".join(row)
        with sqlite3.connect(store.path) as conn:
            conn.execute(f"INSERT INTO registrations ({columns}) VALUES ({', '.join('?' for _ in row)})",
                         list(row.values()))
        return f"registration {row['registration_id']} (row 1 of the registrations table"
    from tests.integrations.sheets_support import SID, tab_rows

    if backend == "hubspot":  # a deal edited by hand in HubSpot, then read by the search index
        from tests.integrations.hubspot_support import write_behind

        return write_behind(request.getfixturevalue("hubspot_api"), row)
    request.getfixturevalue("sheets_api").set_values(SID, "Registrations", tab_rows("registrations", [row]))
    return f"Registrations row 2 ({row['registration_id']})"


@pytest.mark.parametrize("column", sorted(BAD_CELLS))
def test_a_stored_row_that_cannot_be_read_is_quarantined_not_the_service(service, store, backend, request, column):
    row = {"registration_id": "R-bad", "submitted_at": "2026-01-01T00:00:00+00:00", "partner": "Northwind Partners",
           "company_name": "Acme Robotics GmbH", "company_domain": "acme-robotics.de", column: BAD_CELLS[column]}
    where = write_behind_the_store(backend, store, request, row)

    other = service.check(Record(company_name="Globex", company_domain="globex.com", source="api"))
    assert other.status is Status.CLEAR  # decisions go on against the rest
    decision = service.check(ACME)  # shares the row's domain and name: it could be that claim
    assert decision.status is Status.NEEDS_REVIEW and decision.rule == "quarantine"
    assert where in decision.reason and column in decision.reason and BAD_CELLS[column] in decision.reason
    assert decision.matched_registration_id == "R-bad" and decision.owner == ""
    registered = service.register(as_partner(ACME, "Contoso Consulting"))
    assert registered.status is Status.NEEDS_REVIEW  # never clear: the unreadable row may be the first claim
    health = service.health()
    assert (health.ok, health.status) == (True, "degraded")
    [fix] = health.facts["fix"]
    assert fix.startswith(where) and column in fix


def test_a_row_that_names_no_company_is_quarantined_and_reported(service, store, backend, request):
    where = write_behind_the_store(backend, store, request, {"registration_id": "R-empty",
                                                             "submitted_at": "2026-01-01T00:00:00+00:00"})
    assert service.check(ACME).status is Status.CLEAR  # nothing to share a key with: it involves no record
    [fix] = service.health().facts["fix"]
    assert fix.startswith(where) and "names no company" in fix


def test_a_rejected_registration_naming_no_company_is_a_record_never_a_problem(service, store, rules):
    rejected = service.register_rejected(Record(source="typeform", external_id="tok-1"), ["no company named"])
    assert rejected.status is Status.REJECTED
    assert counts(store) == (1, 1)
    assert service.check(ACME).status is Status.CLEAR
    assert service.register(as_partner(ACME, "Northwind Partners")).status is Status.CLEAR
    assert service.health().status == "ok"
    # a new process (a restart, `dealreg serve`) starts on the same store
    assert Service(store, rules, clock=StepClock(), new_id=Ids()).warm_up() == 1  # the one claim


def test_a_quarantined_row_fixed_by_hand_is_a_claim_again(service, store, backend, request):
    row = {"registration_id": "R-bad", "submitted_at": "2026-01-01T00:00:00+00:00", "partner": "Northwind Partners",
           "company_name": "Acme Robotics GmbH", "company_domain": "acme-robotics.de", "deal_value": "TBD"}
    write_behind_the_store(backend, store, request, row)
    assert service.check(ACME).status is Status.NEEDS_REVIEW
    if backend == "sqlite":
        import sqlite3

        with sqlite3.connect(store.path) as conn:  # a hand fix is a non-append change: readers rebuild
            conn.execute("UPDATE registrations SET deal_value = '48000' WHERE registration_id = 'R-bad'")
            conn.execute("UPDATE meta SET value = 'fixed' WHERE key = 'epoch'")
    else:
        write_behind_the_store(backend, store, request, {**row, "deal_value": "48000"})
    decision = service.check(ACME)
    assert (decision.status, decision.owner, decision.rule) == (Status.CONFLICT, "Northwind Partners",
                                                                "first_to_register")
    assert service.health().status == "ok"


@pytest.mark.backends("sqlite")  # the Sheets store buffers check events by design (tests/integrations/test_sheets.py)
def test_event_write_failing_after_the_decision_raises(store, rules):
    class EventsDown(SQLiteStore):
        def record_event(self, event):
            raise StoreUnavailable("the events table is down")

    service = Service(EventsDown(store.path), rules, clock=StepClock(), new_id=Ids())
    with pytest.raises(StoreUnavailable):
        service.check(ACME)  # an unaudited decision is not answered


def test_new_registration_ids_look_right():
    ids = {new_registration_id() for _ in range(1000)}
    assert len(ids) == 1000
    assert all(len(i) == 14 and i.startswith("R-") and int(i[2:], 16) >= 0 and i[2:] == i[2:].lower() for i in ids)


def test_a_claim_submitted_earlier_but_delivered_later_takes_the_account_and_every_row_says_so(service, store):
    later = service.register(as_partner(ACME, "Northwind Partners", submitted_at=NOW - timedelta(hours=1)))
    earlier = service.register(as_partner(ACME, "Contoso Consulting", submitted_at=NOW - timedelta(hours=5),
                                          source="typeform", external_id="tok-retried"))
    assert (later.status, later.owner) == (Status.CLEAR, "Northwind Partners")
    assert (earlier.status, earlier.owner, earlier.rule) == (Status.CONFLICT, "Contoso Consulting", "first_to_register")
    rows = {r["partner"]: r for r in store.read_rows("registrations")}
    assert {r["owner"] for r in rows.values()} == {"Contoso Consulting"}
    assert rows["Northwind Partners"]["status"] == "conflict"
    assert rows["Northwind Partners"]["matched_registration_id"] == earlier.registration_id
    # the warm engine of this (and any other) service sees the rewritten row
    again = service.check(as_partner(ACME, "Northwind Partners"))
    assert (again.status, again.owner) == (Status.DUPLICATE, "Contoso Consulting")


def test_a_race_decides_again_and_the_claim_keeps_its_stamp(rules):
    """On a store without a lock the service re-decides a claim after a race: a record without its
    own submitted_at must keep the stamp it was written with, or two writers would order it differently."""
    from contextlib import contextmanager

    from integrations.store import Changes, Cursor

    written, corrected = [], []
    rival = Registration(registration_id="R-rival", submitted_at=NOW - timedelta(hours=1), partner="Contoso",
                         company_name="Acme Robotics GmbH", company_domain="acme-robotics.de", owner="Contoso")

    class Racy:
        backend, serialized = "racy", False
        empty = Changes(Cursor("e", 0), reset=True)

        def first_decision(self, source, external_id):
            return None

        @contextmanager
        def session(self):
            class Session:
                def changes(self, since):
                    return Racy.empty

                def first_decision(self, source, external_id):
                    return None

                def write(self, write):
                    written.append(write)

            yield Session()

        def competing(self, write):  # a rival written meanwhile, stamped earlier
            return [rival, write.registration]

        def amend(self, rows, events=()):
            corrected.append((rows, events[0] if events else None))

    decision = Service(Racy(), rules, clock=StepClock(), new_id=Ids()).register(ACME)  # 1 s per clock reading
    assert (decision.status, decision.owner) == (Status.CONFLICT, "Contoso")
    [(rows, event)] = corrected
    assert [r.submitted_at for r in (written[0].registration, *rows)] == [NOW, NOW]  # the same stamp, re-decided
    assert event.decided_at == NOW and event.decision.owner == "Contoso"



def test_the_store_alias_table_reaches_the_engine(service, store):
    # Loaded as `dealreg import aliases` loads it: the SQLite table, the Sheet's Aliases tab, the
    # other names on the account's HubSpot company.
    service.register(as_partner(Record(company_name="Altria Group, Inc.", company_domain="altria.com"),
                                "Northwind Partners"))
    before = service.check(Record(company_name="Philip Morris Companies Inc."))
    assert before.status is Status.CLEAR  # no spelling rule finds it
    store.write_rows("aliases", [{"alias": "Philip Morris Companies", "account_domain": "altria.com"}])
    decision = service.check(Record(company_name="Philip Morris Companies Inc."))
    assert (decision.status, decision.owner) == (Status.CONFLICT, "Northwind Partners")
    assert "alias" in decision.match_evidence
