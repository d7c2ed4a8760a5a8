"""The alias table on HubSpot: an account's other names in its company's `dealreg_aliases` (a
multi-line text, one name a line), read with the companies the store reads anyway, loaded by
`dealreg import aliases` like the reference lists, and a value that names no account quarantined."""

from __future__ import annotations

import pytest

from config.rules import load_rules
from dealreg.errors import InputError
from dealreg.models import Record, Status
from handlers.service import Service
from integrations.hubspot import mapping as m
from tests.fakes.hubspot_api import FakeHubSpotAPI
from tests.handlers.support import Ids, StepClock, write_rules
from tests.integrations.hubspot_support import store_for

ALTRIA = Record(company_name="Altria Group, Inc.", company_domain="altria.com", source="api",
                partner="Northwind Partners")


@pytest.fixture
def store(fake, clock):
    store = store_for(fake, clock)
    yield store
    store.close()


@pytest.fixture
def service(store, tmp_path):
    return Service(store, load_rules(write_rules(tmp_path)), clock=StepClock(), new_id=Ids())


def edit_company(fake: FakeHubSpotAPI, company: str, **props: str) -> None:
    """A hand edit of a company in HubSpot; then the search index catches up."""
    with fake._lock:
        fake.dispatch("objects.update", ["companies", company], {}, {"properties": props}, "")
    fake.advance(fake.search_lag_seconds + 1)


def companies(fake: FakeHubSpotAPI) -> dict[str, dict[str, str]]:
    return {c.get("domain") or c["name"]: c for c in fake.objects("companies")}


def test_other_names_typed_on_the_company_in_hubspot_match_its_claims(service, fake):
    service.register(ALTRIA)
    [company] = fake.objects("companies")
    # Typed in HubSpot's multi-line field: lines may end in CR LF, a blank line or a repeat slips in.
    edit_company(fake, company["hs_object_id"], **{m.ALIASES: "Philip Morris Companies\r\n\r\nPM USA\nPM USA\n"})
    for name in ("Philip Morris Companies Inc.", "PM USA"):
        decision = service.check(Record(company_name=name, source="api"))
        assert (decision.status, decision.owner) == (Status.CONFLICT, "Northwind Partners"), name
        assert "alias" in decision.match_evidence
    assert service.health().status == "ok"


def test_a_company_without_a_domain_is_the_account_by_its_name(service, fake):
    fake.seed("companies", {"name": "Bolt Technology", m.ALIASES: "Taxify"})
    service.register(Record(company_name="Bolt Technology OÜ", source="api", partner="Northwind Partners"))
    decision = service.check(Record(company_name="Taxify", source="api"))
    assert (decision.status, decision.owner) == (Status.CONFLICT, "Northwind Partners")


def test_other_names_on_a_company_that_names_no_account_are_quarantined_naming_it(service, fake):
    nameless = fake.seed("companies", {m.ALIASES: "Taxify"})
    free_mail = fake.seed("companies", {"domain": "gmail.com", m.ALIASES: "Googlemail"})
    punctuation = fake.seed("companies", {"name": "Altria Group", "domain": "altria.com", m.ALIASES: "--"})
    service.check(Record(company_name="Taxify", source="api"))
    health = service.health()
    assert health.status == "degraded"
    fix = health.facts["fix"]
    assert len(fix) == 3
    assert fix[0].startswith(f"HubSpot company {nameless} (no name), its other names: properties domain and name: "
                             f"domain is empty and name is empty")
    assert f"HubSpot company {free_mail} (gmail.com)" in fix[1]
    assert "domain 'gmail.com' is no company's domain" in fix[1]
    assert fix[2].startswith(f"HubSpot company {punctuation} (Altria Group), its other names: property "
                             f"dealreg_aliases, line '--': has no letters or digits")
    # fixed in HubSpot: the next read is clean
    edit_company(fake, nameless, name="Bolt")
    edit_company(fake, free_mail, **{m.ALIASES: ""})
    edit_company(fake, punctuation, **{m.ALIASES: "Philip Morris Companies"})
    assert service.health().status == "ok"


def test_import_finds_the_company_by_domain_creates_the_missing_and_takes_names_off(store, fake):
    altria = fake.seed("companies", {"name": "Altria Group", "domain": "altria.com"})
    store.write_rows("aliases", [
        {"alias": "Philip Morris Companies", "account_domain": "https://www.altria.com/", "note": "until 2003"},
        {"alias": "Taxify", "account_domain": "bolt.eu"},
        {"alias": "Marlboro", "account_domain": "altria.com"},
        {"alias": "MS", "account_name": "Morgan Stanley"},
    ])
    by_key = companies(fake)
    assert by_key["altria.com"]["hs_object_id"] == altria
    assert by_key["altria.com"][m.ALIASES] == "Philip Morris Companies\nMarlboro"  # one a line, as typed in HubSpot
    assert (by_key["bolt.eu"]["name"], by_key["bolt.eu"][m.ALIASES]) == ("bolt.eu", "Taxify")  # created
    assert by_key["Morgan Stanley"][m.ALIASES] == "MS"
    assert list(store.read_rows("aliases")) == [
        {"alias": alias, "account_domain": domain, "account_name": name, "note": ""}
        for alias, domain, name in [("Philip Morris Companies", "altria.com", "Altria Group"),
                                    ("Marlboro", "altria.com", "Altria Group"), ("Taxify", "bolt.eu", "bolt.eu"),
                                    ("MS", "", "Morgan Stanley")]]
    store.write_rows("aliases", [{"alias": "Taxify", "account_domain": "bolt.eu"}])
    by_key = companies(fake)
    assert len(by_key) == 3  # taken off, never deleted
    assert [by_key[k].get(m.ALIASES) or "" for k in ("altria.com", "bolt.eu", "Morgan Stanley")] == ["", "Taxify", ""]
    assert [a.alias for a in store.changes(None).aliases] == ["Taxify"]


def test_a_bad_alias_row_is_refused_naming_row_and_column_and_nothing_is_written(store, fake):
    with pytest.raises(InputError, match=r"row 3 account_domain"):
        store.write_rows("aliases", [{"alias": "Taxify", "account_domain": "bolt.eu"},
                                     {"alias": "Orphan", "account_domain": "gmail.com"}])
    assert fake.objects("companies") == []
