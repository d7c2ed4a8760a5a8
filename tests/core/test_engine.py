"""The decision: every rule kind of SPEC, attribution, tie-breaks, expiry against a passed-in date."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dealreg.engine import Engine, registration_from
from dealreg.models import MatchLevel, NamedAccount, Quarantined, Record, Registration, Status, Territory
from dealreg.rules import DEFAULT_RULES, parse_rules

AS_OF = datetime(2026, 11, 20, tzinfo=UTC)


def day(n: int) -> datetime:
    """n days before AS_OF."""
    return AS_OF - timedelta(days=n)


def reg(rid: str, partner: str, name: str, domain: str = "", *, age: int = 10, **kw) -> Registration:
    return Registration(registration_id=rid, submitted_at=day(age), partner=partner, company_name=name,
                        company_domain=domain, owner=kw.pop("owner", partner), **kw)


def rules(*items, **top):
    return parse_rules({"version": 1, "protection_days": top.pop("protection_days", 90), "rules": list(items), **top})


ALL = rules(
    {"qualification": {"require": ["company_name"], "reject_free_mail_without_website": True, "min_deal_value": 1000}},
    "expiry", "same_party", "named_accounts",
    {"partner_territory": {"territories": [{"partner": "Fabrikam", "countries": ["AU", "NZ"]}]}},
    {"direct_above_deal_size": {"threshold": 100000}},
    "first_to_register",
)


def engine(*regs: Registration, ruleset=ALL, **kw) -> Engine:
    return Engine(ruleset, registrations=regs, **kw)


def test_no_match_is_clear_for_the_incoming_party():
    d = engine(reg("R1", "Northwind", "Personio GmbH", "personio.de")).decide(
        Record(company_name="Celonis SE", company_domain="celonis.com", partner="Contoso"), AS_OF)
    assert (d.status, d.owner, d.rule, d.match) == (Status.CLEAR, "Contoso", "no_match", MatchLevel.NONE)
    assert (d.attribution_primary, d.attribution_secondary, d.suppress) == ("partner-sourced", "", False)
    assert d.matched_registration_id == ""


def test_check_by_direct_against_a_partner_claim_is_a_conflict_owned_by_the_partner():
    d = engine(reg("R1", "Northwind", "Personio GmbH", "https://www.personio.de")).decide(
        Record(company_name="PERSONIO", company_domain="https://app.personio.de/login"), AS_OF)
    assert (d.status, d.owner, d.rule) == (Status.CONFLICT, "Northwind", "first_to_register")
    assert (d.attribution_primary, d.attribution_secondary) == ("partner-sourced", "direct")
    assert d.matched_registration_id == "R1" and d.match is MatchLevel.MATCH and d.suppress
    assert "domain" in d.match_evidence
    assert "Northwind registered" in d.reason and "R1" in d.reason


def test_first_to_register_earliest_active_claim_wins_among_several():
    regs = (reg("R2", "Contoso", "Miro", "miro.com", age=5), reg("R1", "Northwind", "Miro", "miro.com", age=20))
    d = engine(*regs).decide(Record(company_name="Miro", company_domain="miro.com", partner="Fabrikam"), AS_OF)
    assert (d.owner, d.matched_registration_id, d.attribution_secondary) == (
        "Northwind", "R1", "partner-influenced")
    assert {c.registration_id for c in d.candidates} == {"R1", "R2"}  # every matching claim is returned


def test_first_to_register_ties_are_broken_by_registration_id():
    same = day(3)
    regs = (reg("R-b", "Contoso", "Miro", "miro.com"), reg("R-a", "Northwind", "Miro", "miro.com"))
    regs = tuple(Registration(**{**{s: getattr(r, s) for s in r.__slots__}, "submitted_at": same}) for r in regs)
    d = engine(*regs).decide(Record(company_name="Miro", company_domain="miro.com", partner="Fabrikam"), AS_OF)
    assert (d.owner, d.matched_registration_id) == ("Northwind", "R-a")


def test_incoming_registration_earlier_than_the_claims_on_file_wins():
    d = engine(reg("R1", "Northwind", "Miro", "miro.com", age=2)).decide(
        Record(company_name="Miro", company_domain="miro.com", partner="Contoso", submitted_at=day(4)),
        AS_OF, registration_id="R-new")
    assert (d.status, d.owner, d.rule) == (Status.CONFLICT, "Contoso", "first_to_register")
    assert d.registration_id == "R-new" and d.expires_at == day(4) + timedelta(days=90)


def test_same_party_is_a_duplicate_returning_the_existing_registration():
    d = engine(reg("R1", "Northwind", "Miro", "miro.com")).decide(
        Record(company_name="Miro Inc", company_domain="miro.com", partner="northwind "), AS_OF)
    assert (d.status, d.owner, d.rule, d.matched_registration_id) == (Status.DUPLICATE, "Northwind", "same_party", "R1")


def test_same_party_duplicate_reports_the_account_owner_when_the_earlier_claim_lost():
    regs = (reg("R1", "Contoso", "Miro", "miro.com", age=30),
            reg("R2", "Northwind", "Miro", "miro.com", age=20, owner="Contoso", status="conflict"))
    d = engine(*regs).decide(Record(company_name="Miro", company_domain="miro.com", partner="Northwind"), AS_OF)
    assert (d.status, d.owner, d.matched_registration_id) == (Status.DUPLICATE, "Contoso", "R2")


def test_expired_claim_no_longer_blocks_and_is_reported():
    d = engine(reg("R1", "Northwind", "Miro", "miro.com", age=120)).decide(
        Record(company_name="Miro", company_domain="miro.com", partner="Contoso"), AS_OF)
    assert (d.status, d.owner, d.rule, d.matched_registration_id) == (Status.CLEAR, "Contoso", "expiry", "R1")
    assert d.expired == ("R1",) and "expired on 2026-10-21" in d.reason


def test_expiry_reports_the_most_recent_of_several_expired_claims():
    regs = (reg("R1", "Northwind", "Miro", "miro.com", age=200), reg("R2", "Contoso", "Miro", "miro.com", age=100))
    d = engine(*regs).decide(Record(company_name="Miro", company_domain="miro.com"), AS_OF)
    assert (d.rule, d.matched_registration_id) == ("expiry", "R2")


def test_an_expired_claim_found_by_name_alone_is_reported_with_its_id():
    """SPEC: when every matching claim has expired, matched_registration_id is the most recent of
    them, a `possible` one too (a one-word name without a second signal)."""
    d = engine(reg("R1", "Northwind", "Kering SA", age=300)).decide(Record(company_name="Kering"), AS_OF)
    assert (d.status, d.rule, d.matched_registration_id, d.match) == (Status.CLEAR, "expiry", "R1",
                                                                       MatchLevel.POSSIBLE)
    assert "expired" in d.reason


def test_an_expired_claim_found_by_its_domain_beats_a_weaker_name_hit_on_another_active_claim():
    regs = (reg("R1", "Northwind", "Nokia Oyj"),  # no website: the name alone makes it a possible match
            reg("R2", "Contoso", "Nokian Tyres plc", "www.nokiantyres.com", age=200))
    d = engine(*regs).decide(Record(company_name="Nokia", company_domain="nokiantyres.com"), AS_OF)
    assert (d.status, d.rule, d.matched_registration_id, d.match) == (Status.CLEAR, "expiry", "R2", MatchLevel.MATCH)


def test_explicit_expires_at_extends_the_window():
    r = reg("R1", "Northwind", "Miro", "miro.com", age=120, expires_at=AS_OF + timedelta(days=10))
    d = engine(r).decide(Record(company_name="Miro", company_domain="miro.com"), AS_OF)
    assert (d.status, d.owner) == (Status.CONFLICT, "Northwind")


def test_the_window_is_measured_against_as_of_not_the_clock():
    e = engine(reg("R1", "Northwind", "Miro", "miro.com", age=80))
    rec = Record(company_name="Miro", company_domain="miro.com")
    assert e.decide(rec, AS_OF).status is Status.CONFLICT
    assert e.decide(rec, AS_OF + timedelta(days=11)).status is Status.CLEAR


def test_claims_made_after_as_of_are_ignored():
    d = engine(reg("R1", "Northwind", "Miro", "miro.com", age=-5)).decide(
        Record(company_name="Miro", company_domain="miro.com"), AS_OF)
    assert d.status is Status.CLEAR


@pytest.mark.parametrize("state", ["won", "lost", "withdrawn"])
def test_closed_claims_do_not_block(state):
    d = engine(reg("R1", "Northwind", "Miro", "miro.com", state=state)).decide(
        Record(company_name="Miro", company_domain="miro.com"), AS_OF)
    assert d.status is Status.CLEAR and d.candidates[0].active is False
    assert (d.match, d.match_confidence) == (MatchLevel.NONE, 0)  # match and confidence agree


def test_a_rejected_registration_is_a_record_never_a_claim():
    d = engine(reg("R1", "Northwind", "Miro", "miro.com", state="rejected")).decide(
        Record(company_name="Miro", company_domain="miro.com"), AS_OF)
    assert (d.status, d.match, d.match_confidence, d.matched_registration_id) == (Status.CLEAR, MatchLevel.NONE, 0, "")
    assert d.candidates == ()  # not even a candidate: it was never indexed


def test_named_account_is_a_conflict_owned_by_its_owner():
    e = engine(named_accounts=[NamedAccount(owner="direct", company_name="Siemens AG", company_domain="siemens.com")])
    d = e.decide(Record(company_name="Siemens", company_domain="www.siemens.com", partner="Northwind"), AS_OF)
    assert (d.status, d.owner, d.rule) == (Status.CONFLICT, "direct", "named_accounts")
    assert (d.attribution_primary, d.attribution_secondary) == ("direct", "partner-influenced")


def test_named_account_checked_by_its_owner_is_a_duplicate():
    e = engine(named_accounts=[NamedAccount(owner="direct", company_name="Siemens AG", company_domain="siemens.com")])
    d = e.decide(Record(company_name="Siemens", company_domain="siemens.com"), AS_OF)
    assert (d.status, d.owner, d.rule) == (Status.DUPLICATE, "direct", "same_party")


def test_partner_territory_designated_partner_wins_even_when_second():
    d = engine(reg("R1", "Northwind", "Canva Pty Ltd", "canva.com", country="AU")).decide(
        Record(company_name="Canva", company_domain="canva.com", partner="Fabrikam", deal_value=5000), AS_OF)
    assert (d.status, d.owner, d.rule) == (Status.CONFLICT, "Fabrikam", "partner_territory")
    assert (d.attribution_primary, d.attribution_secondary) == ("partner-sourced", "partner-influenced")


def test_partner_territory_existing_designated_partner_wins():
    d = engine(reg("R1", "Fabrikam", "Canva Pty Ltd", "canva.com", country="AU", age=1)).decide(
        Record(company_name="Canva", company_domain="canva.com", partner="Northwind", country="AU",
               submitted_at=day(9), deal_value=5000), AS_OF)
    assert (d.owner, d.rule, d.matched_registration_id) == ("Fabrikam", "partner_territory", "R1")


def test_territory_outside_falls_through_to_first_to_register():
    d = engine(reg("R1", "Northwind", "Canva", "canva.com", country="DE")).decide(
        Record(company_name="Canva", company_domain="canva.com", partner="Fabrikam", deal_value=5000), AS_OF)
    assert (d.owner, d.rule) == ("Northwind", "first_to_register")


def test_territory_size_band():
    ruleset = rules("same_party", {"partner_territory": {"territories": [
        {"partner": "Northwind", "min_employees": 1, "max_employees": 500}]}}, "first_to_register")
    e = engine(reg("R1", "Contoso", "Miro", "miro.com"), ruleset=ruleset)
    small = e.decide(Record(company_name="Miro", company_domain="miro.com", partner="Northwind", employees=200), AS_OF)
    big = e.decide(Record(company_name="Miro", company_domain="miro.com", partner="Northwind", employees=2000), AS_OF)
    assert (small.owner, small.rule) == ("Northwind", "partner_territory")
    assert (big.owner, big.rule) == ("Contoso", "first_to_register")


def test_direct_above_deal_size_direct_wins_at_the_threshold():
    d = engine(reg("R1", "Northwind", "Celonis SE", "celonis.com", country="DE")).decide(
        Record(company_name="Celonis", company_domain="celonis.com", deal_value=100000), AS_OF)
    assert (d.status, d.owner, d.rule) == (Status.CONFLICT, "direct", "direct_above_deal_size")
    assert (d.attribution_primary, d.attribution_secondary) == ("direct", "partner-influenced")
    assert d.matched_registration_id == "R1"


def test_direct_above_deal_size_uses_the_claims_deal_value_too():
    d = engine(reg("R1", "Northwind", "Celonis SE", "celonis.com", deal_value=250000.0)).decide(
        Record(company_name="Celonis", company_domain="celonis.com"), AS_OF)
    assert (d.owner, d.rule) == ("direct", "direct_above_deal_size")


def test_direct_above_deal_size_below_threshold_falls_through():
    d = engine(reg("R1", "Northwind", "Celonis SE", "celonis.com")).decide(
        Record(company_name="Celonis", company_domain="celonis.com", deal_value=99999), AS_OF)
    assert (d.owner, d.rule) == ("Northwind", "first_to_register")


def test_direct_above_deal_size_needs_direct_involved():
    d = engine(reg("R1", "Northwind", "Celonis SE", "celonis.com")).decide(
        Record(company_name="Celonis", company_domain="celonis.com", partner="Contoso", deal_value=500000), AS_OF)
    assert (d.owner, d.rule) == ("Northwind", "first_to_register")


def test_deal_in_another_currency_cannot_be_compared_and_goes_to_review():
    ruleset = rules("same_party", {"direct_above_deal_size": {"threshold": 100000, "currency": "USD"}}, "first_to_register")
    d = engine(reg("R1", "Northwind", "Celonis SE", "celonis.com"), ruleset=ruleset).decide(
        Record(company_name="Celonis", company_domain="celonis.com", deal_value=150000, currency="EUR"), AS_OF)
    assert (d.status, d.rule, d.owner) == (Status.NEEDS_REVIEW, "unsettled", "")
    assert "EUR" in d.reason


def test_rule_order_decides_first_applicable_wins():
    deal_first = rules("same_party", {"direct_above_deal_size": {"threshold": 1000}},
                       {"partner_territory": {"territories": [{"partner": "Fabrikam", "countries": ["AU"]}]}}, "first_to_register")
    territory_first = rules("same_party", {"partner_territory": {"territories": [{"partner": "Fabrikam", "countries": ["AU"]}]}},
                            {"direct_above_deal_size": {"threshold": 1000}}, "first_to_register")
    record = Record(company_name="Canva", company_domain="canva.com", partner="Fabrikam", country="AU", deal_value=5000)
    existing = reg("R1", "direct", "Canva", "canva.com")
    assert engine(existing, ruleset=deal_first).decide(record, AS_OF).owner == "direct"
    assert engine(existing, ruleset=territory_first).decide(record, AS_OF).owner == "Fabrikam"


def test_overlap_that_no_rule_settles_goes_to_review_never_clear():
    d = engine(reg("R1", "Northwind", "Miro", "miro.com"), ruleset=rules("same_party")).decide(
        Record(company_name="Miro", company_domain="miro.com", partner="Contoso"), AS_OF)
    assert (d.status, d.rule) == (Status.NEEDS_REVIEW, "unsettled") and d.suppress


def test_possible_match_goes_to_review_with_the_provisional_owner():
    d = engine(reg("R1", "Northwind", "Stripe, Inc.")).decide(Record(company_name="Stripe"), AS_OF)
    assert d.status is Status.NEEDS_REVIEW and d.match is MatchLevel.POSSIBLE
    assert d.owner == "Northwind" and d.matched_registration_id == "R1" and "confirm" in d.reason


@pytest.mark.parametrize(
    ("record", "reason"),
    [
        (Record(contact_email="jane@gmail.com", partner="Northwind", company_name="Acme Robotics", deal_value=5000),
         "free-mail domain (gmail.com)"),
        (Record(company_domain="acme-robotics.de", contact_email="a@acme-robotics.de", partner="Northwind", deal_value=5000),
         "company_name is required"),
        (Record(company_name="Acme Robotics", contact_email="a@acme-robotics.de", partner="Northwind", deal_value=500),
         "under the minimum of 1,000"),
        (Record(company_name="Acme Robotics", company_domain="n/a", partner="Northwind"), "not a usable domain"),
        (Record(partner="Northwind"), "no company name, website"),
    ],
)
def test_qualification_rejects_with_every_reason(record, reason):
    d = engine().decide(record, AS_OF, registration_id="R-new")
    assert (d.status, d.rule, d.owner) == (Status.REJECTED, "qualification", "")
    assert reason in d.reason and d.registration_id == "R-new"


@pytest.mark.parametrize(("email", "registering", "status"), [
    ("www.canva.com", False, Status.CONFLICT),  # a website in the email column: read as the website
    ("www.canva.com", True, Status.CONFLICT),
    ("j.doe at canva.com", False, Status.CONFLICT),  # a malformed email: a check is decided on the rest
    ("j.doe at canva.com", True, Status.REJECTED),  # a registration's contact must be reachable
])
def test_a_careless_email_field_rejects_only_a_registration_that_cannot_reach_its_contact(email, registering, status):
    e = engine(reg("R1", "Northwind", "Canva Pty Ltd", "canva.com"))
    record = Record(company_name="Canva", contact_email=email, partner="Contoso", deal_value=5000)
    d = e.decide(record, AS_OF, registration_id="R2" if registering else "")
    assert d.status is status, d.reason


def test_qualification_requirements_apply_to_registrations_not_checks():
    record = Record(company_domain="acme-robotics.de")
    assert engine().decide(record, AS_OF).status is Status.CLEAR
    assert engine().decide(record, AS_OF, registration_id="R9").status is Status.REJECTED


def test_unknown_partner_is_rejected_naming_the_known_ones_once_partners_exist():
    e = engine(partners=["Northwind Partners", "Contoso Consulting"])
    d = e.decide(Record(company_name="Miro", company_domain="miro.com", partner="Nortwind Partners"), AS_OF)
    assert d.status is Status.REJECTED and "Contoso Consulting, Northwind Partners" in d.reason
    ok = e.decide(Record(company_name="Miro", company_domain="miro.com", partner="  northwind   PARTNERS"), AS_OF)
    assert (ok.status, ok.owner) == (Status.CLEAR, "Northwind Partners")
    assert engine().decide(Record(company_name="Miro", partner="Anyone Ltd"), AS_OF).owner == "Anyone Ltd"


def test_registration_from_builds_the_row_to_store():
    e = engine(reg("R1", "Northwind", "Miro", "miro.com"))
    record = Record(company_name="Miro", company_domain="miro.com", partner="Contoso", contact_email="x@miro.com",
                    deal_value=5000, source="typeform", external_id="tok")
    d = e.decide(record, AS_OF, registration_id="R2")
    row = registration_from(record, d, submitted_at=AS_OF)
    assert (row.registration_id, row.partner, row.owner, row.status, row.state) == ("R2", "Contoso", "Northwind", "conflict", "open")
    assert (row.matched_registration_id, row.rule, row.external_id) == ("R1", "first_to_register", "tok")
    assert row.expires_at == AS_OF + timedelta(days=90)
    e.add(row)
    again = e.decide(Record(company_name="Miro", company_domain="miro.com", partner="Contoso"), AS_OF)
    assert (again.status, again.owner, again.matched_registration_id) == (Status.DUPLICATE, "Northwind", "R2")


def test_rejected_registration_is_stored_as_rejected_and_never_blocks():
    e = engine()
    record = Record(company_name="Miro", contact_email="bob@gmail.com", partner="Contoso", deal_value=5000)
    d = e.decide(record, AS_OF, registration_id="R1")
    row = registration_from(record, d, submitted_at=AS_OF)
    assert (row.state, row.status, row.expires_at) == ("rejected", "rejected", None)
    e.add(row)
    assert e.decide(Record(company_name="Miro", company_domain="miro.com"), AS_OF).status is Status.CLEAR


def test_default_rules_are_valid_and_deterministic():
    e = Engine(parse_rules(DEFAULT_RULES), registrations=[reg("R1", "Northwind", "Miro", "miro.com")])
    a = e.decide(Record(company_name="Miro", company_domain="miro.com"), AS_OF)
    b = e.decide(Record(company_name="Miro", company_domain="miro.com"), AS_OF)
    assert a == b


def test_adding_a_row_with_the_same_id_replaces_it():
    e = engine(reg("R1", "Northwind", "Miro", "miro.com"))
    e.add(reg("R1", "Northwind", "Miro", "miro.com", state="withdrawn"))
    assert len(e) == 1
    assert e.decide(Record(company_name="Miro", company_domain="miro.com"), AS_OF).status is Status.CLEAR


def test_territory_from_the_matched_claim_when_the_record_has_none():
    e = Engine(ALL, registrations=[reg("R1", "Northwind", "Canva", "canva.com", country="AU")],
               territories=[Territory(partner="Contoso", countries=frozenset({"AU"}))])
    d = e.decide(Record(company_name="Canva", company_domain="canva.com", partner="Contoso", deal_value=5000), AS_OF)
    assert (d.owner, d.rule) == ("Contoso", "partner_territory")


def test_a_record_with_nothing_to_match_on_is_rejected_never_clear():
    d = engine(reg("R1", "Northwind", "Miro", "miro.com")).decide(Record(contact_email="ana@gmail.com"), AS_OF)
    assert (d.status, d.rule) == (Status.REJECTED, "qualification") and "nothing identifies" in d.reason


def test_a_check_with_a_free_mail_contact_is_still_checked_by_name():
    d = engine(reg("R1", "Northwind", "Miro Labs", "miro.com")).decide(
        Record(company_name="Miro Labs", contact_email="ana@gmail.com"), AS_OF)
    assert (d.status, d.owner) == (Status.CONFLICT, "Northwind")


# -- when a claim says it was made ------------------------------------------------------------

MIRO = Record(company_name="Miro", company_domain="miro.com", partner="Northwind", deal_value=5000)


def test_a_registration_dated_years_ahead_is_refused_with_the_reason():
    d = engine().decide(replace(MIRO, submitted_at=AS_OF.replace(year=2036)), AS_OF, registration_id="R9")
    assert d.status is Status.REJECTED and d.owner == ""
    assert "submitted_at 2036-11-20" in d.reason and "in the future" in d.reason


def test_a_registration_a_few_minutes_ahead_counts_as_made_now_and_blocks_the_next_claim():
    ahead = replace(MIRO, submitted_at=AS_OF + timedelta(minutes=3))  # the sender's clock runs fast
    first = engine().decide(ahead, AS_OF, registration_id="R1")
    assert first.status is Status.CLEAR and first.expires_at == AS_OF + timedelta(days=90)
    stored = registration_from(ahead, first, submitted_at=AS_OF)
    assert stored.submitted_at == AS_OF  # no later than it arrived
    second = engine(stored).decide(replace(MIRO, partner="Contoso"), AS_OF + timedelta(seconds=1),
                                   registration_id="R2")
    assert (second.status, second.owner) == (Status.CONFLICT, "Northwind")  # whoever was told they own it blocks


def test_a_registration_whose_window_ended_before_it_arrived_says_so():
    d = engine().decide(replace(MIRO, submitted_at=AS_OF.replace(year=2016)), AS_OF, registration_id="R9")
    assert d.status is Status.REJECTED and d.expires_at is None
    assert "protection window ended on 2017-02-18" in d.reason and "before the registration arrived" in d.reason


def test_a_check_dated_ahead_is_decided_as_of_now():
    first = engine(reg("R1", "Contoso", "Miro", "miro.com", age=1))
    d = first.decide(replace(MIRO, submitted_at=AS_OF + timedelta(days=400)), AS_OF)
    assert (d.status, d.owner) == (Status.CONFLICT, "Contoso")  # never "registered first" by a future date


# -- rows that cannot be read --------------------------------------------------------------------

def unreadable(**fields) -> Quarantined:
    return Quarantined("registrations", "Registrations row 7 (R-7)", ("deal_value (O7): 'TBD' is not a number",),
                       registration_id="R-7", party="Contoso", **fields)


def test_a_record_sharing_a_key_with_an_unreadable_row_goes_to_review_naming_the_cell():
    e = engine(reg("R1", "Northwind", "Personio GmbH", "personio.de"), quarantined=[unreadable(company_domain="miro.com")])
    d = e.decide(MIRO, AS_OF, registration_id="R9")
    assert (d.status, d.rule, d.owner, d.matched_registration_id) == (Status.NEEDS_REVIEW, "quarantine", "", "R-7")
    assert "Registrations row 7 (R-7): deal_value (O7): 'TBD' is not a number" in d.reason
    assert d.match is MatchLevel.MATCH and d.expires_at == AS_OF + timedelta(days=90)
    other = e.decide(Record(company_name="Personio", company_domain="personio.de"), AS_OF)
    assert other.status is Status.CONFLICT  # the rest decides as before
    assert [q.where for q in e.quarantined] == ["Registrations row 7 (R-7)"]


def test_a_name_alone_is_enough_to_involve_an_unreadable_row():
    e = engine(quarantined=[unreadable(company_name="Miro Software")])
    assert e.decide(Record(company_name="Miro"), AS_OF).status is Status.NEEDS_REVIEW
    assert e.decide(Record(company_name="Celonis"), AS_OF).status is Status.CLEAR


def test_an_unreadable_rejected_row_claims_nothing():
    e = engine(quarantined=[unreadable(company_domain="miro.com", claim=False)])
    assert e.decide(MIRO, AS_OF).status is Status.CLEAR
    assert len(e.quarantined) == 1  # still reported


def test_an_unreadable_territory_of_a_party_in_the_overlap_sends_it_to_review():
    territory = Quarantined("territories", "Territories row 3", ("min_employees (E3): 'ten' is not a number",),
                            party="Contoso")
    e = engine(reg("R1", "Northwind", "Miro", "miro.com"), quarantined=[territory])
    d = e.decide(replace(MIRO, partner="Contoso"), AS_OF)
    assert (d.status, d.rule) == (Status.NEEDS_REVIEW, "quarantine") and "Territories row 3" in d.reason
    alone = e.decide(Record(company_name="Celonis", partner="Contoso"), AS_OF)
    assert alone.status is Status.CLEAR  # no overlap: no territory is consulted


class _Cycle:
    """An object in a reference cycle: only the cyclic garbage collector can free it."""

    def __init__(self) -> None:
        self.me = self


@pytest.mark.parametrize("collecting", [True, False])
def test_building_an_engine_leaves_the_garbage_collector_as_it_was(collecting):
    """The core never touches the process's collector: a server rebuilds its engine on every
    change, and an engine that froze the heap each time would keep every cycle alive for good."""
    import gc
    import weakref

    was = gc.isenabled()
    try:
        gc.enable() if collecting else gc.disable()
        garbage = _Cycle()
        freed = weakref.ref(garbage)
        del garbage  # unreachable now, but in a cycle: the next collection frees it
        frozen = gc.get_freeze_count()
        engine(*(reg(f"R{i}", "Northwind", f"Company {i} GmbH", f"company{i}.com") for i in range(50)))
        assert gc.isenabled() is collecting
        assert gc.get_freeze_count() == frozen
        gc.collect()
        assert freed() is None
    finally:
        gc.unfreeze()  # whatever an engine froze goes back, for the tests that follow
        gc.enable() if was else gc.disable()


def test_an_alias_in_the_rules_file_or_from_the_store_decides_like_the_account_name():
    from dealreg.models import Alias

    ruleset = rules("expiry", "first_to_register",
                    aliases=[{"alias": "Philip Morris Companies", "account_domain": "altria.com"}])
    e = engine(reg("R1", "Northwind", "Altria Group, Inc.", "altria.com"),
               reg("R2", "Contoso", "Meta Platforms, Inc.", "meta.com"),
               ruleset=ruleset, aliases=[Alias(alias="Facebook", account_domain="meta.com")])
    former = e.decide(Record(company_name="Philip Morris Companies Inc."), AS_OF)
    assert (former.status, former.owner, former.matched_registration_id) == (Status.CONFLICT, "Northwind", "R1")
    assert "alias" in former.match_evidence
    assert e.decide(Record(company_name="Facebook"), AS_OF).matched_registration_id == "R2"
