"""A person's resolution (dealreg/reviews.py), what it teaches the matcher (dealreg/pairs.py), the
extension rule (dealreg/extensions.py) and what the sweep finds due (dealreg/expiry.py)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from dealreg import expiry, extensions, reviews
from dealreg.engine import Engine
from dealreg.models import Record, Registration
from dealreg.rules import DEFAULT_RULES, Extension, parse_rules

RULES = parse_rules(DEFAULT_RULES)
T = datetime(2026, 3, 1, tzinfo=UTC)
WINDOW = timedelta(days=90)
ACME = Registration("R-1", T, "Northwind", company_name="Acme Robotics", company_domain="acme-robotics.de",
                    country="DE", owner="Northwind", status="clear", attribution_primary="partner-sourced")
HOLDING = Record(company_name="Acme Robotics Holding", company_domain="acmerobotics.com", partner="Fabrikam",
                 country="DE")


@pytest.mark.parametrize("text, action, party", [
    ("confirm", "confirm", ""), ("Same", "confirm", ""), ("not_same", "not_same", ""), ("not same", "not_same", ""),
    ("different", "not_same", ""), ("give:Fabrikam", "give", "Fabrikam"), ("give  direct", "give", "direct"),
])
def test_a_resolution_reads_as_people_write_it(text, action, party):
    got = reviews.parse_resolution(text)
    assert (got.action, got.party) == (action, party)


@pytest.mark.parametrize("text", ["", "maybe", "give", "give:", "confirm it"])
def test_a_resolution_that_is_none_says_what_is_accepted(text):
    with pytest.raises(ValueError, match="confirm|give needs"):
        reviews.parse_resolution(text)


def _reviewed(engine: Engine, record: Record, rid: str, at: datetime) -> Registration:
    """`record` registered as `rid` against `engine`, as its row says."""
    d = engine.decide(record, at, registration_id=rid)
    return Registration(rid, at, record.partner, company_name=record.company_name,
                        company_domain=record.company_domain, country=record.country, owner=d.owner,
                        status=d.status.value, matched_registration_id=d.matched_registration_id, rule=d.rule,
                        reason=d.reason)


def test_a_confirmed_pair_matches_the_next_record_without_review():
    engine = Engine(RULES, [ACME], partners=["Northwind", "Fabrikam"])
    first = _reviewed(engine, HOLDING, "R-2", T + timedelta(days=1))
    assert (first.status, first.matched_registration_id) == ("needs_review", "R-1")
    resolved = reviews.resolve(first, ACME, reviews.Resolution("confirm", by="sam"), T + timedelta(days=2))
    taught = Engine(RULES, [ACME, *resolved.rows], partners=["Northwind", "Fabrikam", "Contoso"])
    again = taught.decide(replace(HOLDING, partner="Contoso"), T + timedelta(days=3))
    assert (again.status.value, again.match.value, again.owner) == ("conflict", "match", "Northwind")
    assert "reviewed" in again.match_evidence
    # Without the review, Acme Robotics' earlier claim is only a possible match and does not count:
    # the pair is what made it decide.
    untaught = Engine(RULES, [ACME, first], partners=["Northwind", "Fabrikam", "Contoso"])
    assert untaught.decide(replace(HOLDING, partner="Contoso"), T + timedelta(days=3)).owner == "Fabrikam"
    alone = Engine(RULES, [ACME], partners=["Northwind", "Fabrikam", "Contoso"])
    assert alone.decide(replace(HOLDING, partner="Contoso"), T).status.value == "needs_review"


def test_a_denied_pair_is_never_suggested_again():
    engine = Engine(RULES, [ACME], partners=["Northwind", "Fabrikam"])
    first = _reviewed(engine, HOLDING, "R-2", T + timedelta(days=1))
    resolved = reviews.resolve(first, ACME, reviews.Resolution("not_same", by="sam"), T + timedelta(days=2))
    [row] = resolved.rows  # the matched row kept its own account: nothing to give back
    assert (row.owner, row.status, row.review, row.reviewed_by) == ("Fabrikam", "clear", "not_same", "sam")
    taught = Engine(RULES, [ACME, row], partners=["Northwind", "Fabrikam", "Contoso"])
    # Another record of the holding (same domain) is not suggested as Acme Robotics again.
    again = taught.decide(Record(company_name="Acme Robotics Holding AG", company_domain="www.acmerobotics.com",
                                 partner="Contoso", country="DE"), T + timedelta(days=3))
    assert "R-1" not in {c.registration_id for c in again.candidates}
    assert again.matched_registration_id in ("", "R-2")


def test_a_pair_is_found_among_many_and_when_its_rows_arrive_later():
    """The pairs are looked up by the record's keys (dealreg/pairs.py): one pair among hundreds still
    applies, and so does a pair whose rows reach a running engine one at a time, after the lookup
    was first built."""
    others = []
    for i in range(300):  # a year of other reviews: unrelated accounts, each confirmed against a sibling
        sibling = Registration(f"S-{i}", T, "Contoso", company_name=f"Sibling {i}", company_domain=f"sibling{i}.com")
        others += [sibling, Registration(f"O-{i}", T, "Contoso", company_name=f"Other {i} Holding",
                                         company_domain=f"other{i}.com", reviewed_at=T, review="confirm",
                                         matched_registration_id=sibling.registration_id)]
    engine = Engine(RULES, [ACME, *others], partners=["Northwind", "Fabrikam", "Contoso"])
    first = _reviewed(engine, HOLDING, "R-2", T + timedelta(days=1))
    assert first.status == "needs_review"  # the lookup is built here, without this pair
    [resolved, *_] = reviews.resolve(first, ACME, reviews.Resolution("confirm", by="sam"), T + timedelta(days=2)).rows
    engine.add(resolved)  # as a server learns a resolution
    again = engine.decide(replace(HOLDING, partner="Contoso"), T + timedelta(days=3))
    assert (again.status.value, again.owner) == ("conflict", "Northwind") and "reviewed" in again.match_evidence
    sibling = engine.decide(Record(company_name="Other 7 Holding", company_domain="other7.com", partner="Fabrikam"),
                            T + timedelta(days=3))
    assert sibling.matched_registration_id in ("O-7", "S-7") and sibling.status.value != "clear"


def test_give_moves_the_account_on_every_row_it_touches():
    conflict = Registration("R-2", T + timedelta(days=1), "Fabrikam", company_name="Acme Robotics",
                            company_domain="acme-robotics.de", owner="Northwind", status="conflict",
                            matched_registration_id="R-1")
    done = reviews.resolve(conflict, ACME, reviews.Resolution("give", "Fabrikam", "brought the deal", "sam"), T)
    ours, theirs = done.rows
    assert (ours.owner, ours.status, ours.attribution_primary, ours.attribution_secondary) == (
        "Fabrikam", "clear", "partner-sourced", "partner-influenced")
    assert (theirs.owner, theirs.status, theirs.reviewed_by) == ("Fabrikam", "conflict", "sam")
    assert reviews.refusal(ours) and "resolved already" in reviews.refusal(ours)
    assert reviews.refusal(theirs)  # decided by the same person: not listed, not resolved twice
    assert "changed since it was listed" in reviews.refusal(conflict, "000000000000")
    assert reviews.refusal(conflict, reviews.version(conflict)) == ""


RULE = Extension(times=1, days=30, require_deal_value=True)


@pytest.mark.parametrize("change, granted, words", [
    ({}, True, "extended by 30 days"),
    ({"extensions": 1}, False, "allow once"),
    ({"deal_value": None}, False, "need a deal value"),
    ({"state": "won"}, False, "only open, pending, approved"),
    ({"expires_at": T - timedelta(days=1)}, False, "protection ended"),
    ({"owner": "direct"}, False, "direct owns the account"),
])
def test_the_extension_rule_decides(change, granted, words):
    reg = replace(ACME, **{"deal_value": 48000.0, "expires_at": T + timedelta(days=10), **change})
    answer = extensions.decide(reg, RULE, T, WINDOW)
    assert answer.granted is granted and words in answer.reason
    if granted:
        assert answer.expires_at == T + timedelta(days=40) and answer.row.extensions == 1


def test_without_an_extension_rule_every_request_is_refused_naming_the_fix():
    answer = extensions.decide(ACME, None, T, WINDOW)
    assert not answer.granted and "add `- extension:" in answer.reason


def test_the_sweep_finds_what_ended_and_what_ends_soon():
    regs = [ACME,  # ends T + 90 d
            replace(ACME, registration_id="R-2", expires_at=T + timedelta(days=100)),
            replace(ACME, registration_id="R-3", state="won", expires_at=T),
            replace(ACME, registration_id="R-4", owner="Contoso", expires_at=T + timedelta(days=95))]
    as_of = T + timedelta(days=90)
    assert [(r.registration_id, r.state) for r in expiry.expired_rows(regs, as_of, WINDOW)] == [("R-1", "expired")]
    assert [r.registration_id for r in expiry.reminders_due(regs, as_of, 14, WINDOW)] == ["R-2"]  # R-4 is not its owner's
    assert expiry.reminders_due(regs, as_of, 0, WINDOW) == []
