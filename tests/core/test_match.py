"""The matcher on the cases that decide whether people trust it: one row per real situation."""

from __future__ import annotations

import pytest

from dealreg.match import AccountIndex, keys_of, name_similarity
from dealreg.models import MatchLevel

REGISTRY = {
    "apple": dict(company_name="Apple Inc.", company_domain="apple.com"),
    "delta": dict(company_name="Delta Air Lines, Inc.", company_domain="delta.com"),
    "gm": dict(company_name="General Motors Company", company_domain="gm.com"),
    "fnbo": dict(company_name="First National Bank of Omaha", company_domain="fnbo.com"),
    "siemens": dict(company_name="Siemens AG", company_domain="https://www.siemens.com"),
    "zalando": dict(company_name="Zalando SE", company_domain="zalando.com"),
    "stripe": dict(company_name="Stripe, Inc.", company_domain="", linkedin_url="https://www.linkedin.com/company/stripe/"),
    "jnj": dict(company_name="Johnson & Johnson", company_domain="jnj.com"),
    "ibm": dict(company_name="IBM Corporation", company_domain="ibm.com"),
    "bosch": dict(company_name="Robert Bosch GmbH", company_domain="bosch.com"),
    "datadog": dict(company_name="Datadog, Inc.", company_domain="datadoghq.com"),
    "pandora": dict(company_name="Pandora A/S", company_domain="pandora.net"),
    "nestle": dict(company_name="Nestlé S.A.", company_domain="nestle.com", duns="481234567"),
    "salesforce": dict(company_name="Salesforce, Inc.", company_domain="salesforce.com"),
    "mercury": dict(company_name="Mercury Technologies, Inc.", company_domain="mercury.com"),
    "embraer": dict(company_name="Embraer S.A.", company_domain="embraer.com"),
}


@pytest.fixture(scope="module")
def index() -> AccountIndex:
    idx = AccountIndex()
    for claim_id, fields in REGISTRY.items():
        idx.add(claim_id, keys_of(**fields))
    return idx


def best(index: AccountIndex, **record) -> tuple[str, MatchLevel, tuple[str, ...]]:
    hits = index.lookup(keys_of(**record))
    return (hits[0].claim_id, hits[0].level, hits[0].evidence) if hits else ("", MatchLevel.NONE, ())


@pytest.mark.parametrize(
    ("record", "claim", "level"),
    [
        # strong keys
        (dict(company_name="Totally Different Name", company_domain="https://shop.apple.com/x"), "apple", MatchLevel.MATCH),
        (dict(company_name="", contact_email="tim@apple.com"), "apple", MatchLevel.MATCH),
        (dict(company_name="Stripe Payments Europe", linkedin_url="uk.linkedin.com/company/stripe/about"), "stripe", MatchLevel.MATCH),
        (dict(company_name="Nestle", duns="48-123-4567"), "nestle", MatchLevel.MATCH),
        # names that are the same account
        (dict(company_name="APPLE INC", company_domain="apple.com"), "apple", MatchLevel.MATCH),
        (dict(company_name="Johnson and Johnson"), "jnj", MatchLevel.MATCH),
        (dict(company_name="Johnson & Jonhson"), "jnj", MatchLevel.MATCH),  # a typo in a two-word name
        (dict(company_name="First National Bank Omaha"), "fnbo", MatchLevel.MATCH),
        (dict(company_name="Zalando"), "zalando", MatchLevel.MATCH),  # one word + it spells the domain
        (dict(company_name="Siemens Aktiengesellschaft"), "siemens", MatchLevel.MATCH),
        (dict(company_name="Ѕiemens"), "siemens", MatchLevel.MATCH),  # Cyrillic S
        (dict(company_name="Bosch"), "bosch", MatchLevel.MATCH),  # "Bosch" is Robert Bosch at bosch.com
        (dict(company_name="Data Dog Inc"), "datadog", MatchLevel.MATCH),
        (dict(company_name="Salesfroce"), "salesforce", MatchLevel.MATCH),
        (dict(company_name="International Business Machines"), "ibm", MatchLevel.MATCH),
        # one word without a second signal: review, never automatic
        (dict(company_name="Stripe"), "stripe", MatchLevel.POSSIBLE),
        (dict(company_name="Zalando", company_domain="zalando.de"), "zalando", MatchLevel.POSSIBLE),
        # different companies
        (dict(company_name="Apple Bank for Savings"), "", MatchLevel.NONE),
        (dict(company_name="Apple Bank for Savings", company_domain="applebank.com"), "", MatchLevel.NONE),
        (dict(company_name="Delta Dental", company_domain="deltadental.com"), "", MatchLevel.NONE),
        (dict(company_name="General Mills", company_domain="generalmills.com"), "", MatchLevel.NONE),
        (dict(company_name="General Mills"), "", MatchLevel.NONE),
        (dict(company_name="First National Bank of Pennsylvania"), "", MatchLevel.NONE),
        (dict(company_name="Johnson Controls"), "", MatchLevel.NONE),
        (dict(company_name="Siemens Energy", company_domain="siemens-energy.com"), "", MatchLevel.NONE),
        (dict(company_name="Siemens Energy"), "", MatchLevel.NONE),
        (dict(company_name="Pandora", company_domain="pandora.com"), "pandora", MatchLevel.POSSIBLE),  # same label
        (dict(company_name="Mercury", company_domain="mrcy.com"), "", MatchLevel.NONE),  # same name, other domain
        (dict(company_name="Embracer Group"), "embraer", MatchLevel.POSSIBLE),  # an added letter: another name
        (dict(company_name="Embraer"), "embraer", MatchLevel.MATCH),
        (dict(company_name="Apple", company_domain="apple.org"), "apple", MatchLevel.POSSIBLE),  # same name, same label
    ],
)
def test_hard_cases(index, record, claim, level):
    found, found_level, evidence = best(index, **record)
    assert (found, found_level) == (claim, level), evidence


def test_disagreeing_strong_keys_count_against():
    idx = AccountIndex()
    idx.add("a", keys_of(company_name="Acme Robotics GmbH", company_domain="acme-robotics.de"))
    hits = idx.lookup(keys_of(company_name="Acme Robotics", company_domain="acmerobotics.com"))
    assert hits and hits[0].level is MatchLevel.POSSIBLE and "-domain" in hits[0].evidence


def test_every_matching_claim_is_returned_best_first():
    idx = AccountIndex()
    idx.add("r1", keys_of(company_name="Miro", company_domain="miro.com"))
    idx.add("r2", keys_of(company_name="Miro Inc", company_domain="https://miro.com/app"))
    idx.add("r3", keys_of(company_name="Mirror Labs", company_domain="mirror.io"))
    assert [h.claim_id for h in idx.lookup(keys_of(company_name="Miro", company_domain="miro.com"))] == ["r1", "r2"]


def test_removed_and_replaced_claims_are_not_found():
    idx = AccountIndex()
    idx.add("r1", keys_of(company_name="Miro", company_domain="miro.com"))
    idx.add("r1", keys_of(company_name="Canva", company_domain="canva.com"))
    assert idx.lookup(keys_of(company_domain="miro.com")) == []
    assert [h.claim_id for h in idx.lookup(keys_of(company_domain="canva.com"))] == ["r1"]
    idx.remove("r1")
    assert len(idx) == 0 and idx.lookup(keys_of(company_domain="canva.com")) == []


def test_typo_lookup_sees_claims_added_after_the_first_typo_search():
    idx = AccountIndex()
    idx.add("r1", keys_of(company_name="Personio GmbH", company_domain="personio.de"))
    assert [h.claim_id for h in idx.lookup(keys_of(company_name="Perosnio"))] == ["r1"]
    idx.add("r2", keys_of(company_name="Celonis SE", company_domain="celonis.com"))
    assert [h.claim_id for h in idx.lookup(keys_of(company_name="Cellonis"))] == ["r2"]


@pytest.mark.parametrize(
    ("a", "b", "at_least", "below"),
    [
        ("Acme Robotics", "ACME ROBOTICS GMBH", 100, 101),
        ("Hub Spot", "HubSpot", 100, 101),
        ("Airbus Group", "Airbus SE", 97, 98),
        ("General Motors", "General Mills", 0, 85),
        ("First National Bank of Omaha", "First National Bank of Pennsylvania", 0, 85),
        ("Apple", "Apple Bank for Savings", 0, 85),
        ("Starbucks Coffee", "Starbucks", 0, 85),
    ],
)
def test_name_similarity(a, b, at_least, below):
    assert at_least <= name_similarity(keys_of(company_name=a), keys_of(company_name=b)) < below


@pytest.mark.parametrize(
    ("typed", "real", "slip"),
    [
        ("salesfroce", "salesforce", True),  # swapped
        ("spotfy", "spotify", True),  # dropped
        ("klarrna", "klarna", True),  # doubled
        ("embracer", "embraer", False),  # an added letter makes another word
        ("mondo", "monzo", False),  # a changed letter too
        ("salesforce", "salesforce", False),  # no slip at all
    ],
)
def test_typo_shapes(typed, real, slip):
    from dealreg.similarity import typo_shaped

    assert typo_shaped(typed, real) is slip


# --- building a registry at once gives what building it one claim at a time gives ----------


def _gold_rows() -> list[tuple[str, str, str, str, str, str]]:
    from tests.core import gold

    registry, queries = gold.load()
    rows = [(r["company_name"], r["company_domain"], "", r["linkedin_url"], r["duns"], r["country"]) for r in registry]
    rows += [(q["company_name"], q["company_domain"], q["contact_email"], q["linkedin_url"], "", "") for q in queries]
    rows += [tuple(fields.get(f, "") for f in ("company_name", "company_domain", "contact_email", "linkedin_url",
                                               "duns", "country")) for fields in REGISTRY.values()]
    rows += [("", "", "", "", "", ""), ("The Inc", "n/a", "jane@gmail.com", "", "", " DE "),
             ("Ｔｏｙｏｔａ", "https://[::1]/", "taro@toyota.co.jp", "", "", "")]
    return rows  # type: ignore[return-value]


def test_keys_many_is_keys_of_for_every_row():
    from dealreg.match import keys_many

    rows = _gold_rows()
    assert len(rows) > 2000
    assert list(keys_many(rows)) == [keys_of(*row) for row in rows]


def test_add_many_builds_the_index_add_builds():
    rows = _gold_rows()
    claims = [(f"c{i % 1500}", keys_of(*row)) for i, row in enumerate(rows)]  # ids repeat: later rows replace
    one_by_one, at_once = AccountIndex(), AccountIndex()
    for claim_id, keys in claims:
        one_by_one.add(claim_id, keys)
    at_once.add_many(claims)
    assert at_once.keys == one_by_one.keys
    assert at_once._post == one_by_one._post
    probe = keys_of(company_name="Stirpe")  # a typo lookup builds the deletion index from the postings
    assert at_once.lookup(probe) == one_by_one.lookup(probe)


def test_no_key_is_posted_empty_and_removal_leaves_no_posting():
    """Claims without a domain, a name or both post nothing under "" (a lookup for an empty
    word would otherwise find them all), and removing every claim empties every table."""
    index = AccountIndex()
    rows = [("Acme Corp", "", "", "", "", ""), ("", "acme.com", "", "", "", ""),
            ("", "", "", "https://linkedin.com/company/acme", "", ""), ("", "", "", "", "123456789", ""),
            ("Acme", "https://the-acme-group.com", "", "", "", "")]
    for i, row in enumerate(rows):
        index.add(f"c{i}", keys_of(*row))
    assert all("" not in table for table in index._post)
    assert [h.claim_id for h in index.lookup(keys_of(linkedin_url="https://linkedin.com/company/acme"))] == ["c2"]
    for i in range(len(rows)):
        index.remove(f"c{i}")
    assert all(table == {} for table in index._post)
