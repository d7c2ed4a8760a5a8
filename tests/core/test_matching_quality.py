"""Matching quality on the labelled set of real companies (tests/data/matching): floors, not timings."""

from __future__ import annotations

import pytest

from tests.core import gold

PRECISION_FLOOR = 0.995  # of automatic matches: a wrong one hands a partner's deal to someone else
RECALL_FLOOR = 0.95  # of the true overlaps, found automatically
POSSIBLE_CEILING = 0.05  # share of queries sent to a person


@pytest.fixture(scope="module")
def scores():
    registry, queries = gold.load()
    assert len(queries) >= 600 and len(registry) >= 300
    return gold.evaluate_dealreg(registry, queries)


def test_precision_of_automatic_matches(scores):
    wrong = [m for m in scores.misses if m[2].startswith("wrong")]
    assert scores.precision >= PRECISION_FLOOR, wrong


def test_recall_of_automatic_matches(scores):
    assert scores.recall >= RECALL_FLOOR, scores.misses


def test_share_sent_to_review(scores):
    assert scores.possible_rate <= POSSIBLE_CEILING


def test_we_beat_the_exact_string_baseline(scores):
    registry, queries = gold.load()
    baseline = gold.evaluate_exact(registry, queries)
    assert scores.recall > baseline.recall + 0.3


# --- the extended set of issue 12 (name-only heavy, tagged by kind) --------------------------------
#
# Floors at what the matcher reaches (bench/RESULTS.md, "Matching per kind"), so that no change
# loses ground unseen. Issue 12's precision (99.5%) and recall with review (98%) are met here. Its
# automatic recall (95%, 90% name-only) and review share (5%) are not: a product or division named
# alone ("Siemens Mobility", "Uber Eats") is a possible match, as the issue itself asks, because
# other companies have the very same shape ("Siemens Energy", "Maersk Drilling"); RESULTS counts
# what that costs and what it would take.

EXTENDED_FLOORS = dict(precision=0.995, recall=0.90, recall_name_only=0.85, recall_with_review=0.98)
EXTENDED_QUEUE_CEILING = 0.10  # sent to the review queue (`needs_review`)
EXTENDED_POSSIBLE_CEILING = 0.12  # answered `possible`, the queue and possible matches on expired claims
KIND_RECALL_FLOORS = {  # automatic recall per kind of positive
    "typo_short": 0.95, "one_word_exact": 0.95, "expired_by_name": 0.80, "other_country": 0.85,
    "legal_form_front": 0.95, "mojibake": 0.95, "product_division": 0.35, "brand_former": 0.95,
    "abbreviation_order": 0.95, "careless_fields": 0.90, "contact_email_domain": 0.95, "isp_mail_domain": 0.95,
}
WRONG_CEILINGS = {  # wrong automatic matches among the hard negatives guarding each kind
    "typo_short": 0, "one_word_exact": 3, "expired_by_name": 0, "other_country": 0, "legal_form_front": 0,
    "mojibake": 0, "product_division": 0, "brand_former": 0, "abbreviation_order": 0, "careless_fields": 0,
    "contact_email_domain": 0, "isp_mail_domain": 0,
}


@pytest.fixture(scope="module")
def extended():
    data = gold.load_extended()
    decide = gold.decide_dealreg(data.registry, data.aliases)
    return gold.score_extended(data.queries, [decide(q) for q in data.queries])


@pytest.mark.parametrize("figure", sorted(EXTENDED_FLOORS))
def test_extended_set_floors(extended, figure):
    wrong = [e for e in extended["all"].examples if e[2].startswith("wrong")]
    assert getattr(extended["all"], figure) >= EXTENDED_FLOORS[figure], wrong


def test_extended_set_share_sent_to_review(extended):
    assert extended["all"].queue_rate <= EXTENDED_QUEUE_CEILING
    assert extended["all"].review_rate <= EXTENDED_POSSIBLE_CEILING


@pytest.mark.parametrize("kind", sorted(KIND_RECALL_FLOORS))
def test_extended_set_recall_per_kind(extended, kind):
    assert extended[kind].recall >= KIND_RECALL_FLOORS[kind], extended[kind].examples


@pytest.mark.parametrize("kind", sorted(WRONG_CEILINGS))
def test_extended_set_hard_negatives_per_kind(extended, kind):
    guarded = extended.get(f"hard_negative:{kind}")
    assert guarded is not None and guarded.wrong_pairs <= WRONG_CEILINGS[kind], guarded and guarded.examples


# --- the fresh set: held out from the rules above (tests/data/matching/README.md) ------------------
#
# Floors at what the matcher reached the first time it met the set, after two general fixes read
# from one half of it (bench/RESULTS.md): a regression guard, not a target.

FRESH_FLOORS = dict(precision=0.99, recall=0.78, recall_name_only=0.73, recall_with_review=0.91)
FRESH_QUEUE_CEILING = 0.13


@pytest.fixture(scope="module")
def fresh():
    data = gold.load_fresh()
    decide = gold.decide_dealreg(data.registry, data.aliases)
    return gold.score_extended(data.queries, [decide(q) for q in data.queries])["all"]


@pytest.mark.parametrize("figure", sorted(FRESH_FLOORS))
def test_fresh_set_floors(fresh, figure):
    assert getattr(fresh, figure) >= FRESH_FLOORS[figure], fresh.examples


def test_fresh_set_share_sent_to_review(fresh):
    assert fresh.queue_rate <= FRESH_QUEUE_CEILING
