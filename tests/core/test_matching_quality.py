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
