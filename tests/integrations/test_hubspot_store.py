"""The HubSpot store (integrations/hubspot/) against the local HubSpot API over HTTP: registrations
as deals with their companies and notes, the CRM's own deals as direct claims, reading what changed
through a search index that lags, failures that never read as "clear", races settled on the
company, and the reference lists on companies."""

from __future__ import annotations

import threading
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from config.rules import load_rules
from dealreg.errors import InputError, StoreUnavailable
from dealreg.models import Record, Status
from handlers.service import Service
from integrations.hubspot import mapping as m
from integrations.store import Racing, Store
from tests.fakes.hubspot_api import FakeHubSpotAPI
from tests.handlers.support import Ids, StepClock, write_rules
from tests.integrations.hubspot_support import seed_registration, store_for
from tests.integrations.sheets_support import PausingService

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
ACME = Record(company_name="Acme Robotics GmbH", company_domain="https://www.acme-robotics.de", source="api")


@pytest.fixture
def store(fake, clock):
    store = store_for(fake, clock)
    yield store
    store.close()


@pytest.fixture
def rules(tmp_path):
    return load_rules(write_rules(tmp_path))


@pytest.fixture
def service(store, rules):
    return Service(store, rules, clock=StepClock(), new_id=Ids())


def partner(name: str, record: Record = ACME, **changes) -> Record:
    return replace(record, partner=name, **changes)


def deals(fake: FakeHubSpotAPI) -> list[dict[str, str]]:
    return sorted(fake.objects("deals"), key=lambda d: int(d["hs_object_id"]))


def notes(fake: FakeHubSpotAPI) -> list[dict[str, str]]:
    return sorted(fake.objects("notes"), key=lambda n: int(n["hs_object_id"]))


def company_deal(fake: FakeHubSpotAPI, name: str, stage: str = "qualifiedtobuy", *, created: str = "2026-02-01",
                 domain: str = "", just_now: bool = False, **props: str) -> tuple[str, str]:
    """A deal the sales team made in HubSpot, on its company; returns (company id, deal id). Made long
    ago (the search index has it), or `just_now` (the search index does not have it yet)."""
    company = fake.seed("companies", {"name": name, **({"domain": domain} if domain else {})})
    properties = {"dealname": f"{name} new business", "dealstage": stage, "createdate": f"{created}T09:00:00Z", **props}
    if not just_now:
        return company, fake.seed("deals", properties, associations=[(company, 5)])
    link = {"to": {"id": company}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}]}
    with fake._lock:
        _, made = fake.dispatch("objects.create", ["deals"], {}, {"properties": properties, "associations": [link]}, "")
    return company, made["id"]


def test_it_implements_the_store_protocols(store):
    assert isinstance(store, Store) and isinstance(store, Racing)
    assert (store.backend, store.serialized) == ("hubspot", False)


# -- a registration: the deal, its company, its note --------------------------------------------

def test_a_registration_is_a_deal_on_its_company_with_a_note_in_both_timelines(service, fake):
    record = partner("Northwind Partners", source="typeform", external_id="tok-1", deal_value=48000.0,
                     contact_email="j.mueller@acme-robotics.de")
    decision = service.register(record)
    [deal] = deals(fake)
    assert (deal["pipeline"], deal["dealstage"]) == ("default", "appointmentscheduled")  # the first open stage
    assert deal["dealname"] == "Acme Robotics GmbH (Northwind Partners)" and deal["amount"] == "48000"
    assert deal["dealreg_registration_id"] == decision.registration_id
    assert deal["dealreg_external_id"] == "typeform:tok-1"  # unique across sources
    assert (deal["dealreg_owner"], deal["dealreg_status"], deal["dealreg_rule"]) == (
        "Northwind Partners", "clear", "no_match")
    assert deal["dealreg_expires_at"] == decision.expires_at.isoformat()  # to the microsecond
    [company] = fake.objects("companies")
    assert (company["name"], company["domain"], company[m.ACCOUNT_KEY]) == (
        "Acme Robotics GmbH", "acme-robotics.de", "domain:acme-robotics.de")
    assert (company["dealreg_owner"], company["dealreg_attribution_primary"]) == ("Northwind Partners",
                                                                                  "partner-sourced")
    assert fake.associations("deals", deal["hs_object_id"], "companies") == {company["hs_object_id"]: {5, 341}}
    [note] = notes(fake)
    assert fake.associations("notes", note["hs_object_id"], "deals") == {deal["hs_object_id"]: {214}}
    assert fake.associations("notes", note["hs_object_id"], "companies") == {company["hs_object_id"]: {190}}
    body = note["hs_note_body"]
    assert decision.reason.replace("(", "").split()[0] in body and "no_match" in body and "rules sha256" in body


def test_the_company_sales_made_is_found_by_its_domain_and_keyed_not_duplicated(service, fake):
    existing = fake.seed("companies", {"name": "Acme Robotics", "domain": "acme-robotics.de"})
    service.register(partner("Northwind Partners"))
    [company] = fake.objects("companies")
    assert company["hs_object_id"] == existing and company["name"] == "Acme Robotics"  # its name is the CRM's
    assert company[m.ACCOUNT_KEY] == "domain:acme-robotics.de" and company["dealreg_owner"] == "Northwind Partners"
    [deal] = deals(fake)
    assert set(fake.associations("deals", deal["hs_object_id"], "companies")) == {existing}


def test_a_second_registration_of_the_account_joins_its_company(service, fake):
    service.register(partner("Northwind Partners"))
    second = service.register(partner("Contoso Consulting", company_name="ACME Robotics"))
    assert (second.status, second.owner) == (Status.CONFLICT, "Northwind Partners")
    [company] = fake.objects("companies")
    assert company["dealreg_owner"] == "Northwind Partners"
    assert company["dealreg_attribution_secondary"] == "partner-influenced"  # Contoso influenced the account
    assert len(fake.associations("companies", company["hs_object_id"], "deals")) == 2
    assert [n["hs_note_body"].count("dealreg-event") for n in notes(fake)] == [1, 1]


def test_a_rejected_registration_is_a_closed_lost_deal_without_a_company(service, fake):
    decision = service.register_rejected(Record(source="typeform", external_id="tok-9", contact_email="a@gmail.com"),
                                         ["no company named"])
    [deal] = deals(fake)
    assert (deal["dealstage"], deal["dealreg_state"], deal["dealreg_status"]) == ("closedlost", "rejected", "rejected")
    assert deal["dealreg_registration_id"] == decision.registration_id
    assert fake.objects("companies") == [] and len(notes(fake)) == 1


def test_a_redelivery_is_answered_from_memory_with_no_call(service, fake):
    record = partner("Northwind Partners", source="typeform", external_id="tok-1")
    first = service.register(record)
    fake.reset_log()
    again = service.register(record)
    assert (again.fields(), again.reasons) == (first.fields(), first.reasons)
    assert fake.requests == []


def test_a_restarted_process_answers_a_redelivery_with_the_first_decision(service, fake, rules):
    record = partner("Northwind Partners", source="typeform", external_id="tok-1")
    first = service.register(record)
    restarted = Service(store_for(fake), rules, clock=StepClock(NOW + timedelta(days=3)), new_id=lambda: "R-ff")
    again = restarted.register(record)
    assert (again.fields(), again.reasons) == (first.fields(), first.reasons)
    assert len(deals(fake)) == 1


# -- the CRM's own deals are the direct team's claims ----------------------------------------------

def test_an_open_deal_of_the_direct_team_is_a_claim(service, fake):
    _, deal = company_deal(fake, "Siemens AG", domain="siemens.com")
    decision = service.register(partner("Northwind Partners", Record(company_name="Siemens", company_domain="siemens.com",
                                                                     source="api")))
    assert (decision.status, decision.owner, decision.rule) == (Status.CONFLICT, "direct", "first_to_register")
    assert decision.matched_registration_id == f"deal-{deal}"
    assert f"deal-{deal}, 2026-02-01" in decision.reason


@pytest.mark.parametrize("stage", ["closedwon", "closedlost"])
def test_a_closed_deal_closes_the_claim(service, fake, stage):
    company_deal(fake, "Siemens AG", stage, domain="siemens.com")
    decision = service.register(partner("Northwind Partners", Record(company_name="Siemens AG", source="api")))
    assert (decision.status, decision.owner) == (Status.CLEAR, "Northwind Partners")


def test_a_deal_without_a_company_names_no_account(service, fake, store):
    fake.seed("deals", {"dealname": "Siemens", "dealstage": "qualifiedtobuy", "createdate": "2026-02-01"})
    assert service.check(Record(company_name="Siemens", source="api")).status is Status.CLEAR
    assert store.health().facts["direct_deals"] == 0 and store.health().status == "ok"


def test_a_direct_deal_that_cannot_be_read_is_quarantined_never_left_out(service, fake):
    _, deal = company_deal(fake, "Siemens AG", domain="siemens.com", created="1850-01-01")  # a date out of range
    decision = service.check(Record(company_name="Siemens", company_domain="siemens.com", source="api"))
    assert (decision.status, decision.rule) == (Status.NEEDS_REVIEW, "quarantine")
    assert f"HubSpot deal {deal}" in decision.reason and "submitted_at" in decision.reason
    assert service.health().status == "degraded"


def test_the_close_date_is_how_long_a_direct_deal_protects_its_account(service, fake):
    company_deal(fake, "Siemens AG", domain="siemens.com", closedate="2026-02-20T00:00:00Z")  # its close has passed
    decision = service.register(partner("Northwind Partners", Record(company_name="Siemens AG",
                                                                     company_domain="siemens.com", source="api")))
    assert (decision.status, decision.rule) == (Status.CLEAR, "expiry")


def test_which_pipelines_and_stages_count_is_configuration(fake, rules):
    renewals = fake.dispatch("pipelines.create", ["deals"], {}, {"label": "Renewals", "stages": [
        {"label": "Open", "displayOrder": 0, "metadata": {"probability": "0.5"}},
        {"label": "Done", "displayOrder": 1, "metadata": {"probability": "1.0", "isClosed": "true"}}]}, "")[1]
    company_deal(fake, "Siemens AG", domain="siemens.com", pipeline=renewals["id"], dealstage=renewals["stages"][0]["id"])
    company_deal(fake, "Celonis SE", "appointmentscheduled", domain="celonis.com")
    siemens = Record(company_name="Siemens AG", company_domain="siemens.com", source="api")
    celonis = Record(company_name="Celonis SE", company_domain="celonis.com", source="api")

    def owners(**options) -> list[str]:
        service = Service(store_for(fake, **options), rules, clock=StepClock(), new_id=Ids())
        return [service.check(partner("Northwind Partners", r)).owner for r in (siemens, celonis)]

    assert owners() == ["direct", "direct"]  # by default every pipeline (the default one too), every open stage
    assert owners(direct_pipelines=["default"]) == ["Northwind Partners", "direct"]
    assert owners(direct_stages=["Qualified To Buy", "Open"]) == ["direct", "Northwind Partners"]
    with pytest.raises(Exception, match="DEALREG_HUBSPOT_DIRECT_STAGES names closed stages .*Closed Won"):
        owners(direct_stages=["closedwon"])
    with pytest.raises(Exception, match=r"names 'Qualifed To Buy', which is no stage .*Qualified To Buy \(qualifiedtobuy\)"):
        owners(direct_stages=["Qualifed To Buy", "Open"])  # a typo would let that stage's deals through


def test_a_hand_made_deal_in_the_registrations_pipeline_is_no_direct_claim(fake, rules):
    pipeline = fake.dispatch("pipelines.create", ["deals"], {}, {"label": "Partner registrations", "stages": [
        {"label": "Registered", "displayOrder": 0, "metadata": {"probability": "0.2"}},
        {"label": "Lost", "displayOrder": 1, "metadata": {"probability": "0.0", "isClosed": "true"}}]}, "")[1]
    company_deal(fake, "Siemens AG", pipeline=pipeline["id"], dealstage=pipeline["stages"][0]["id"])
    service = Service(store_for(fake, pipeline="Partner registrations"), rules, clock=StepClock(), new_id=Ids())
    decision = service.register(partner("Northwind Partners", Record(company_name="Siemens AG", source="api")))
    assert decision.status is Status.CLEAR
    registration = [d for d in deals(fake) if d.get("dealreg_registration_id")]
    assert [d["pipeline"] for d in registration] == [pipeline["id"]]


# -- reading what changed: the search index lags ------------------------------------------------

def test_a_deal_made_in_hubspot_is_seen_once_the_search_index_has_it_and_nothing_is_listed_again(fake, clock, rules):
    store = store_for(fake, clock, cache_seconds=30)
    service = Service(store, rules, clock=StepClock(), new_id=Ids())
    siemens = Record(company_name="Siemens AG", company_domain="siemens.com", source="api", partner="Northwind Partners")
    assert service.check(siemens).status is Status.CLEAR  # the first read: everything, listed
    company, deal = company_deal(fake, "Siemens AG", domain="siemens.com", just_now=True)
    fake.reset_log()
    assert service.check(siemens).status is Status.CLEAR  # warm: no call at all
    assert fake.requests == []
    clock.advance(31)
    assert service.check(siemens).status is Status.CLEAR  # searched, but the index lags the write
    reads = [r.kind for r in fake.requests if r.object_type != "notes"]  # the checks' notes go out meanwhile
    assert reads == ["search", "search"]
    fake.advance(fake.search_lag_seconds + 1)
    clock.advance(31)
    decision = service.check(siemens)
    assert (decision.status, decision.owner) == (Status.CONFLICT, "direct")
    assert "objects.list" not in [r.kind for r in fake.requests]  # the change, not everything


def test_a_deal_closed_in_hubspot_stops_blocking(fake, service):
    _, deal = company_deal(fake, "Siemens AG")
    siemens = Record(company_name="Siemens AG", source="api", partner="Northwind Partners")
    assert service.check(siemens).owner == "direct"
    engine = service._engine
    with fake._lock:
        fake.dispatch("objects.update", ["deals", deal], {}, {"properties": {"dealstage": "closedwon"}}, "")
    fake.advance(fake.search_lag_seconds + 1)
    assert service.check(siemens).status is Status.CLEAR
    assert service._engine is engine  # a closed claim is an append, not a rebuild


def test_our_own_write_is_never_taken_back_by_a_lagging_search(service, fake):
    first = service.register(partner("Northwind Partners"))
    fake.advance(fake.search_lag_seconds + 1)  # the search index has the deal as it was created ...
    later = service.register(partner("Contoso Consulting", submitted_at=NOW - timedelta(days=1)))
    # ... and keeps answering with that state for a while after our rewrite: the rewrite must stand
    assert later.owner == "Contoso Consulting"
    for _ in range(3):
        decision = service.check(partner("Northwind Partners"))
        assert (decision.status, decision.owner) == (Status.DUPLICATE, "Contoso Consulting")
    rows = {r["registration_id"]: r for r in service.store.read_rows("registrations")}
    assert rows[first.registration_id]["reason"].startswith(f"Superseded by {later.registration_id}")


def test_a_deal_deleted_in_hubspot_stops_counting_at_the_next_full_read(fake, clock, rules):
    store = store_for(fake, clock, cache_seconds=30)
    service = Service(store, rules, clock=StepClock(), new_id=Ids())
    _, deal = company_deal(fake, "Siemens AG")
    siemens = Record(company_name="Siemens AG", source="api", partner="Northwind Partners")
    assert service.check(siemens).owner == "direct"
    with fake._lock:
        fake.dispatch("objects.archive", ["deals", deal], {}, None, "")
    fake.advance(120)
    clock.advance(60)
    assert service.check(siemens).owner == "direct"  # a search never shows what was deleted
    clock.advance(store.reader.full_reload_seconds)
    assert service.check(siemens).status is Status.CLEAR


def test_more_changes_than_a_search_pages_through_are_listed_instead(fake, clock, rules):
    store = store_for(fake, clock, cache_seconds=30)
    service = Service(store, rules, clock=StepClock(), new_id=Ids())
    service.check(ACME)
    for n in range(10_050):  # an import of 10,050 companies
        fake.seed("companies", {"name": f"Imported {n}"})
    company_deal(fake, "Siemens AG")
    fake.reset_log()
    clock.advance(31)
    assert service.check(Record(company_name="Siemens AG", source="api", partner="Northwind")).owner == "direct"
    kinds = [r.kind for r in fake.requests]
    assert kinds[0] == "search" and "objects.list" in kinds  # the search said too many; everything was listed


# -- rows that cannot be read are quarantined, naming the property to fix --------------------------

def test_a_deal_edited_by_hand_into_something_unreadable_is_quarantined(service, fake):
    deal = seed_registration(fake, {"registration_id": "R-hand", "submitted_at": "2026-01-01T00:00:00+00:00",
                                    "partner": "Contoso", "company_name": "Acme Robotics GmbH", "duns": "12"})
    decision = service.check(ACME)
    assert (decision.status, decision.rule) == (Status.NEEDS_REVIEW, "quarantine")
    health = service.health()
    assert health.status == "degraded"
    assert health.facts["fix"] == [f"HubSpot deal {deal} (R-hand): duns (property dealreg_duns) '12': DUNS must have "
                                   f"9 digits, got 2"]


def test_a_redelivery_of_a_deal_edited_by_hand_into_something_unreadable_is_needs_review_naming_it(service, fake):
    deal = seed_registration(fake, {"registration_id": "R-hand", "submitted_at": "2026-01-01T00:00:00+00:00",
                                    "partner": "Contoso", "company_name": "Acme Robotics GmbH", "source": "typeform",
                                    "external_id": "tok-7", "status": "clear", "owner": "Contoso",
                                    "rule": "no_match", "reason": "No claim.", "expires_at": "soon"})
    decision = service.register(partner("Northwind Partners", source="typeform", external_id="tok-7"))
    assert (decision.status, decision.rule, decision.owner, decision.matched_registration_id) == (
        Status.NEEDS_REVIEW, "quarantine", "", "R-hand")
    assert decision.reason.startswith(f"This submission was registered before as R-hand (HubSpot deal {deal}), "
                                      f"which cannot be read; a person should check it. Fix: HubSpot deal {deal} "
                                      f"(R-hand): expires_at (property dealreg_expires_at): 'soon' is not a date")
    assert len(deals(fake)) == 1  # never registered twice


def test_a_named_account_company_that_cannot_be_read_is_quarantined(service, fake):
    fake.seed("companies", {"name": "Siemens AG", m.NAMED_OWNER: "direct", m.COMPANY_DUNS: "1234"})
    decision = service.check(partner("Northwind Partners", Record(company_name="Siemens AG", source="api")))
    assert decision.status is Status.NEEDS_REVIEW
    [fix] = service.health().facts["fix"]
    assert "on the named-accounts list: duns (property dealreg_duns)" in fix


# -- failures: retried within the deadline, then 503; never "clear", never doubled -----------------

@pytest.mark.parametrize("fault", ["503-after-write", "reset-after-write", "502-html", "reset"])
def test_a_deal_create_that_may_have_landed_is_found_and_never_doubled(service, fake, fault):
    service.check(ACME)  # warm
    fake.inject("objects.create", fault)
    decision = service.register(partner("Northwind Partners", source="typeform", external_id="tok-1"))
    assert decision.status is Status.CLEAR
    assert len(deals(fake)) == 1 and len(fake.objects("companies")) == 1
    assert [e["action"] for e in service.store.read_rows("decisions")] == ["check", "register"]
    [deal] = deals(fake)
    assert deal["dealreg_registration_id"] == decision.registration_id


def test_a_company_create_that_may_have_landed_is_joined_not_doubled(service, fake):
    service.check(ACME)
    fake.inject("/crm/v3/objects/companies", "503-after-write")
    service.register(partner("Northwind Partners"))
    [company] = fake.objects("companies")
    [deal] = deals(fake)
    assert set(fake.associations("deals", deal["hs_object_id"], "companies")) == {company["hs_object_id"]}


def test_hubspot_down_is_store_unavailable_and_nothing_is_written(fake, clock, rules):
    service = Service(store_for(fake, clock), rules, clock=StepClock(), new_id=Ids())
    fake.inject(None, 503, times=10_000)
    with pytest.raises(StoreUnavailable):
        service.check(ACME)  # never "clear" for a read that could not be made
    with pytest.raises(StoreUnavailable):
        service.register(partner("Northwind Partners"))
    assert not service.health().ok
    assert deals(fake) == [] and clock.now - 10_000 <= 3 * 10  # each call gave up at its deadline


def test_a_registration_whose_note_cannot_be_written_yet_is_registered_and_the_note_follows(service, fake):
    service.warm_up()
    fake.inject("batch.create", 503, times=10_000)
    service.check(ACME)
    decision = service.register(partner("Northwind Partners"))
    assert decision.status is Status.CLEAR and len(deals(fake)) == 1 and notes(fake) == []
    assert service.store.buffered() == 2  # the check's event and the registration's
    with fake._lock:
        fake._faults.clear()
    assert service.store.flush() == 2
    [note] = [n for n in notes(fake) if "register R-" in n["hs_note_body"]]
    [deal] = deals(fake)
    assert set(fake.associations("notes", note["hs_object_id"], "deals")) == {deal["hs_object_id"]}


# -- redeliveries and races between instances (no transactions in HubSpot) ------------------------

@pytest.mark.parametrize("status", [409, 400])
def test_a_redelivery_another_instance_registered_meanwhile_is_answered_its_first_decision(fake, rules, status):
    fake.unique_conflict_status = status  # HubSpot may answer a unique-value clash either way
    here, there = store_for(fake), store_for(fake)
    Service(there, rules).warm_up()  # warm before the first delivery: it cannot know of it
    record = partner("Northwind Partners", source="typeform", external_id="tok-1")
    first = Service(here, rules, clock=StepClock(), new_id=Ids()).register(record)
    fake.reset_log()
    again = Service(there, rules, clock=StepClock(), new_id=lambda: "R-other").register(record)
    assert (again.fields(), again.reasons) == (first.fields(), first.reasons)
    assert len(deals(fake)) == 1 and len(notes(fake)) == 1
    assert [r.kind for r in fake.requests if r.method != "POST" or r.kind != "search"] == [
        "objects.create", "objects.read"]  # refused as a duplicate, then read by its unique key


def _race(fake, rules, first_at: datetime, second_at: datetime):
    """Writer A decides, then waits while writer B registers entirely; then A writes."""
    a, b = store_for(fake), store_for(fake)
    a.changes(None), b.changes(None)
    decided, b_done = threading.Event(), threading.Event()

    def pause(n: int) -> None:
        if n == 0:
            decided.set()
            assert b_done.wait(10)

    a_service = PausingService(a, rules, "R-00000000000a", NOW, before=pause)
    result: dict[str, object] = {}
    thread = threading.Thread(target=lambda: result.update(a=a_service.register(partner("Northwind Partners",
                                                                                        submitted_at=first_at))))
    thread.start()
    assert decided.wait(10)
    result["b"] = PausingService(b, rules, "R-00000000000b", NOW).register(partner("Contoso Consulting",
                                                                                   submitted_at=second_at))
    b_done.set()
    thread.join(10)
    return result["a"], result["b"], a_service


def test_race_two_first_registrations_meet_on_one_company_and_the_earlier_claim_wins(fake, rules):
    a, b, a_decide = _race(fake, rules, NOW - timedelta(hours=1), NOW - timedelta(hours=2))
    assert (b.status, b.owner) == (Status.CLEAR, "Contoso Consulting")
    assert (a.status, a.owner) == (Status.CONFLICT, "Contoso Consulting")
    assert len(a_decide.calls) == 2  # decided, then again against the claim that landed meanwhile
    [company] = fake.objects("companies")  # the second create was refused by the unique account key
    assert company["dealreg_owner"] == "Contoso Consulting"
    assert {d["dealreg_owner"] for d in deals(fake)} == {"Contoso Consulting"}
    assert len(fake.associations("companies", company["hs_object_id"], "deals")) == 2


def test_race_a_claim_sorting_first_but_written_last_displaces_the_finished_one(fake, rules):
    a, b, _ = _race(fake, rules, NOW - timedelta(hours=2), NOW - timedelta(hours=1))
    assert b.owner == "Contoso Consulting"  # B could not know; its deal is rewritten
    assert a.owner == "Northwind Partners"
    by_id = {d["dealreg_registration_id"]: d for d in deals(fake)}
    assert {d["dealreg_owner"] for d in by_id.values()} == {"Northwind Partners"}
    assert by_id["R-00000000000b"]["dealreg_reason"].startswith("Superseded by R-00000000000a")
    [company] = fake.objects("companies")
    assert company["dealreg_owner"] == "Northwind Partners"


def test_a_full_read_on_another_thread_during_a_registration_keeps_its_deal(fake, rules):
    """Every 15 minutes a process reads everything again, whichever thread asks first: a registration
    in flight meanwhile must not come back as its own rival."""
    store = store_for(fake)
    store.changes(None)

    def full_read_elsewhere(n: int) -> None:
        if n == 0:  # decided; another thread reads everything before the write lands
            thread = threading.Thread(target=lambda: (store.invalidate(), store.changes(None)))
            thread.start()
            thread.join(10)

    service = PausingService(store, rules, "R-1", NOW, before=full_read_elsewhere)
    decision = service.register(partner("Northwind Partners"))
    assert (decision.status, decision.rule) == (Status.CLEAR, "no_match")
    assert len(service.calls) == 1  # never decided again against itself
    [deal] = deals(fake)
    assert (deal["dealreg_status"], deal["dealreg_reason"]) == ("clear", decision.reason)
    assert service.check(partner("Contoso Consulting")).owner == "Northwind Partners"


# -- check events: notes in batches, on the company they concern ---------------------------------

def test_checks_are_written_as_one_note_per_company_in_one_call(fake, clock, rules):
    store = store_for(fake, clock, cache_seconds=30, flush_events=5)
    service = Service(store, rules, clock=StepClock(), new_id=Ids())
    service.register(partner("Northwind Partners"))
    fake.reset_log()
    for _ in range(3):
        service.check(ACME)
    service.check(Record(company_name="Globex", company_domain="globex.com", source="clay"))
    assert fake.requests == []  # buffered
    service.check(Record(company_name="Initech", company_domain="initech.com", source="clay"))
    assert [r.kind for r in fake.requests] == ["batch.create"]  # the fifth: one call for every note
    acme_note, other = [n for n in notes(fake)][1:]
    [company] = fake.objects("companies")
    assert set(fake.associations("notes", acme_note["hs_object_id"], "companies")) == {company["hs_object_id"]}
    assert acme_note["hs_note_body"].count("dealreg-event") == 3
    assert fake.associations("notes", other["hs_object_id"], "companies") == {}  # matched no account
    assert len(list(store.read_rows("decisions"))) == 6


def test_a_note_sent_again_after_a_5xx_is_read_once(service, fake):
    fake.inject("batch.create", "503-after-write")
    service.register(partner("Northwind Partners"))
    assert len(notes(fake)) == 2  # HubSpot had written it, then answered 503: sent again
    assert len(list(service.store.read_rows("decisions"))) == 1


def test_a_note_whose_company_was_deleted_meanwhile_is_written_without_it(fake, clock, rules):
    store = store_for(fake, clock, cache_seconds=30)
    service = Service(store, rules, clock=StepClock(), new_id=Ids())
    service.register(partner("Northwind Partners"))
    service.check(ACME)  # buffered, for Acme's company
    [company] = fake.objects("companies")
    with fake._lock:  # merged away by hand in HubSpot
        fake.dispatch("objects.archive", ["companies", company["hs_object_id"]], {}, None, "")
    assert store.flush() == 1
    assert store.buffered() == 0  # not blocking every note after it
    check_note = notes(fake)[-1]
    assert "check" in check_note["hs_note_body"] and fake.associations("notes", check_note["hs_object_id"],
                                                                        "companies") == {}


def test_a_registration_imported_with_an_id_like_a_direct_deals_is_found_by_it(store):
    store.write_rows("registrations", [{"registration_id": "deal-771", "submitted_at": "2026-01-01",
                                        "source": "hubspot", "partner": "direct", "company_name": "Canva"}])
    deal = store.reader.current().deal_of("deal-771")  # what a race correction and a check note look up
    assert deal is not None and deal.props["dealreg_registration_id"] == "deal-771"


# -- the reference lists live on companies -----------------------------------------------------------

def test_the_partners_list_is_kept_on_companies_and_replaced_whole(store, fake):
    store.write_rows("partners", [{"partner": "Northwind Partners", "contact_email": "pm@northwind.example"},
                                  {"partner": "Contoso Consulting"}])
    assert [r["partner"] for r in store.read_rows("partners")] == ["Northwind Partners", "Contoso Consulting"]
    store.write_rows("partners", [{"partner": "Contoso Consulting"}, {"partner": "Fabrikam Solutions"}])
    assert [r["partner"] for r in store.read_rows("partners")] == ["Contoso Consulting", "Fabrikam Solutions"]
    names = {c["name"]: c.get(m.PARTNER_NAME, "") for c in fake.objects("companies")}
    assert names == {"Northwind Partners": "", "Contoso Consulting": "Contoso Consulting",
                     "Fabrikam Solutions": "Fabrikam Solutions"}  # taken off the list, not deleted


def test_a_named_account_is_its_company_found_by_domain(store, fake, service):
    siemens = fake.seed("companies", {"name": "Siemens", "domain": "siemens.com"})
    store.write_rows("named-accounts", [{"owner": "direct", "company_name": "Siemens AG",
                                         "company_domain": "siemens.com", "note": "customer since 2024"}])
    [company] = fake.objects("companies")
    assert (company["hs_object_id"], company[m.NAMED_OWNER], company[m.NAMED_NOTE]) == (
        siemens, "direct", "customer since 2024")
    decision = service.register(partner("Northwind Partners", Record(company_name="Siemens AG",
                                                                     company_domain="siemens.com", source="api")))
    assert (decision.status, decision.rule, decision.owner) == (Status.CONFLICT, "named_accounts", "direct")


def test_a_partners_territory_is_on_its_company_and_one_per_partner(store, fake):
    store.write_rows("partners", [{"partner": "Fabrikam Solutions"}])
    store.write_rows("territories", [{"partner": "Fabrikam Solutions", "countries": "AU;NZ"}])
    [company] = fake.objects("companies")
    assert (company[m.PARTNER_NAME], company[m.TERRITORY_PARTNER], company[m.TERRITORY_COUNTRIES]) == (
        "Fabrikam Solutions", "Fabrikam Solutions", "AU;NZ")
    with pytest.raises(InputError, match="HubSpot keeps one territory per company; merge the two rows"):
        store.write_rows("territories", [{"partner": "Fabrikam Solutions", "countries": "AU"},
                                         {"partner": "Fabrikam Solutions", "industries": "Retail"}])


def test_a_registration_moved_to_closed_won_in_hubspot_exports_as_won(service, fake):
    service.register(partner("Northwind Partners"))
    [deal] = deals(fake)
    with fake._lock:
        fake.dispatch("objects.update", ["deals", deal["hs_object_id"]], {}, {"properties": {"dealstage": "closedwon"}},
                      "")
    [row] = service.store.read_rows("registrations")
    assert row["state"] == "won"
