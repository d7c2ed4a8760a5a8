"""What each action costs in HubSpot API calls, counted from the local HubSpot API's request log.
docs/hubspot.md ("Quota") shows the same table; a change here is a change there.

Private apps get 100 requests per 10 s on Free/Starter, and search 4 a second: a warm check costs
nothing, a registration at most 4 calls without a race."""

from __future__ import annotations

from dataclasses import replace

import pytest

from config.rules import load_rules
from dealreg.models import Record
from handlers.service import Service
from tests.fakes.hubspot_api import FakeHubSpotAPI
from tests.handlers.support import Ids, StepClock, write_rules
from tests.integrations.hubspot_support import calls, store_for

ACME = Record(company_name="Acme Robotics GmbH", company_domain="acme-robotics.de", source="api")
CACHE = 30.0


@pytest.fixture
def rules(tmp_path):
    return load_rules(write_rules(tmp_path))


def instance(fake, clock, rules, ids=None) -> Service:
    """One process (a Lambda container): its store on the account, the production cache time."""
    return Service(store_for(fake, clock, cache_seconds=CACHE), rules, clock=StepClock(), new_id=ids or Ids())


def spent(fake: FakeHubSpotAPI, action) -> list[str]:
    fake.reset_log()
    action()
    return calls(fake)


def crm_account(fake: FakeHubSpotAPI) -> None:
    """A startup's CRM: 120 companies, 250 deals, 10 of them open in the sales pipeline."""
    companies = [fake.seed("companies", {"name": f"Customer {n}", "domain": f"customer{n}.com"}) for n in range(120)]
    for n in range(250):
        stage = "qualifiedtobuy" if n < 10 else "closedwon"
        fake.seed("deals", {"dealname": f"Deal {n}", "dealstage": stage, "createdate": "2026-01-15T10:00:00Z"},
                  associations=[(companies[n % 120], 5)])


def test_the_first_request_of_a_process_reads_everything_once(fake, clock, rules):
    service = instance(fake, clock, rules)
    assert spent(fake, lambda: service.check(ACME)) == [
        "pipelines.list deals", "objects.list companies", "objects.list deals"]
    crm_account(fake)
    other = instance(fake, clock, rules)
    assert spent(fake, lambda: other.check(ACME)) == [
        "pipelines.list deals", "objects.list companies", "objects.list companies", "objects.list deals",
        "objects.list deals", "objects.list deals", "assoc.batch.read deals"]  # pages of 100; open deals' companies
    health = instance(fake, clock, rules)
    assert spent(fake, health.health)[-2:] == ["properties.list deals", "properties.list companies"]  # once a process


def test_a_warm_check_costs_nothing_and_a_stale_one_two_searches(fake, clock, rules):
    service = instance(fake, clock, rules)
    service.check(ACME)
    clock.advance(1)
    assert spent(fake, lambda: [service.check(replace(ACME, partner=f"P{n}")) for n in range(40)]) == []
    clock.advance(CACHE)
    assert spent(fake, lambda: service.check(ACME)) == [
        "search companies", "search deals", "batch.create notes"]  # and the 41 checks' notes, in one call


def test_check_notes_are_one_call_per_fifty_checks(fake, clock, rules):
    service = instance(fake, clock, rules)
    service.check(ACME)
    assert spent(fake, lambda: [service.check(ACME) for _ in range(98)]) == ["batch.create notes"]


def test_a_registration_costs_at_most_four_calls(fake, clock, rules):
    service = instance(fake, clock, rules)
    service.warm_up()
    new_account_ = spent(fake, lambda: service.register(replace(ACME, partner="Northwind Partners")))
    assert new_account_ == ["objects.create deals", "objects.create companies", "batch.create notes",
                            "assoc.read companies"]  # the deal, the company, the note, the race check
    second = spent(fake, lambda: service.register(replace(ACME, partner="Contoso Consulting")))
    assert second == ["objects.create deals", "objects.update companies", "batch.create notes",
                      "assoc.read companies"]  # the account's attribution changed: partner-influenced
    third = spent(fake, lambda: service.register(replace(ACME, partner="Fabrikam Solutions")))
    assert third == ["objects.create deals", "batch.create notes", "assoc.read companies"]  # nothing to update
    clock.advance(CACHE)
    stale = spent(fake, lambda: service.register(replace(ACME, partner="Globex Partners")))
    assert stale[:2] == ["search companies", "search deals"] and len(stale) == 5


def test_a_redelivery_costs_nothing_where_the_deal_is_known_and_two_calls_where_it_is_not(fake, clock, rules):
    record = replace(ACME, partner="Northwind Partners", source="typeform", external_id="tok-1")
    here, there = instance(fake, clock, rules), instance(fake, clock, rules, ids=lambda: "R-there")
    there.warm_up()  # a warm instance that has not read the deal yet
    first = here.register(record)
    assert spent(fake, lambda: here.register(record)) == []  # the instance that registered it
    later = instance(fake, clock, rules)
    later.warm_up()
    assert spent(fake, lambda: later.register(record)) == []  # an instance whose read holds the deal
    assert spent(fake, lambda: there.register(record)) == [
        "objects.create deals", "objects.read deals"]  # refused by the unique external id, then read by it
    assert there.register(record).fields() == first.fields()


RACE_START = ["objects.create deals", "objects.create companies", "objects.read companies", "assoc.create deals",
              "objects.update companies", "batch.create notes", "assoc.read companies", "batch.read deals"]
"""A first registration that meets another instance's on the account: the company create is refused
(the account key is taken), so it is read and joined; the read-back finds a deal the index does
not know, so the account's deals are read as they are now."""


@pytest.mark.parametrize("rivals_id, correction", [
    ("R-1", ["batch.update deals", "objects.update companies", "batch.create notes"]),  # it sorts first: we lose
    ("R-3", ["batch.update deals"]),  # we sort first: its deal is rewritten, ours stands
])
def test_a_race_costs_a_read_of_the_accounts_deals_and_the_correction(fake, clock, rules, rivals_id, correction):
    ours, rival = instance(fake, clock, rules, ids=lambda: "R-2"), instance(fake, clock, rules, ids=lambda: rivals_id)
    ours.warm_up(), rival.warm_up()
    rival.register(replace(ACME, partner="Contoso Consulting"))  # the same moment; ours has not read it
    cost = spent(fake, lambda: ours.register(replace(ACME, partner="Northwind Partners")))
    assert cost == RACE_START + correction
    [company] = fake.objects("companies")
    owner = "Contoso Consulting" if rivals_id == "R-1" else "Northwind Partners"
    assert {d["dealreg_owner"] for d in fake.objects("deals")} == {company["dealreg_owner"]} == {owner}


def test_the_alias_table_costs_no_call_of_its_own_and_its_import_a_read_and_a_batch(fake, clock, rules):
    fake.seed("companies", {"name": "Altria Group", "domain": "altria.com",
                            "dealreg_aliases": "Philip Morris Companies"})
    service = instance(fake, clock, rules)
    assert spent(fake, lambda: service.check(ACME)) == [
        "pipelines.list deals", "objects.list companies", "objects.list deals"]  # read with the companies
    clock.advance(1)
    assert spent(fake, lambda: service.check(Record(company_name="Philip Morris Companies", source="api"))) == []
    rows = [{"alias": "Philip Morris Companies", "account_domain": "altria.com"},
            {"alias": "Taxify", "account_domain": "bolt.eu"}]  # a company to create
    assert spent(fake, lambda: service.store.write_rows("aliases", rows)) == [
        "objects.create companies", "objects.list companies", "batch.update companies"]
