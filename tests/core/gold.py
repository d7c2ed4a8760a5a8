"""Scoring the matcher on the labelled set in tests/data/matching (used by the quality test
and by bench/bench_engine.py, which prints the exact-string baseline beside it)."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from dealreg.engine import Engine
from dealreg.models import MatchLevel, Record, Registration
from dealreg.rules import parse_rules

GOLD = Path(__file__).resolve().parents[1] / "data" / "matching"


def load() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    with (GOLD / "registry.csv").open(encoding="utf-8", newline="") as f:
        registry = list(csv.DictReader(f))
    with (GOLD / "queries.csv").open(encoding="utf-8", newline="") as f:
        queries = list(csv.DictReader(f))
    return registry, queries


@dataclass
class Scores:
    queries: int = 0
    positives: int = 0
    auto_pairs: int = 0  # (query, registration) pairs matched automatically
    wrong_pairs: int = 0
    auto_correct: int = 0  # positives whose right registration was matched automatically
    possible_only: int = 0  # queries sent to review (a possible match and no automatic one)
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # (query_id, kind, what happened)

    @property
    def precision(self) -> float:
        return 1.0 if not self.auto_pairs else 1 - self.wrong_pairs / self.auto_pairs

    @property
    def recall(self) -> float:
        return self.auto_correct / self.positives if self.positives else 1.0

    @property
    def possible_rate(self) -> float:
        return self.possible_only / self.queries if self.queries else 0.0


def engine_for(registry: list[dict[str, str]]) -> Engine:
    when = datetime(2026, 1, 1, tzinfo=UTC)
    regs = [Registration(registration_id=r["registration_id"], submitted_at=when, partner="p",
                         company_name=r["company_name"], company_domain=r["company_domain"],
                         linkedin_url=r["linkedin_url"], duns=r["duns"], country=r["country"]) for r in registry]
    return Engine(parse_rules({"rules": ["first_to_register"]}), registrations=regs)


def evaluate_dealreg(registry: list[dict[str, str]], queries: list[dict[str, str]]) -> Scores:
    engine = engine_for(registry)
    scores = Scores()
    for q in queries:
        record = Record(company_name=q["company_name"], company_domain=q["company_domain"],
                        contact_email=q["contact_email"], linkedin_url=q["linkedin_url"])
        hits = engine.index.lookup(engine.keys(record))
        auto = {h.claim_id for h in hits if h.level is MatchLevel.MATCH}
        possible = {h.claim_id for h in hits if h.level is MatchLevel.POSSIBLE}
        _tally(scores, q, auto, possible)
    return scores


def evaluate_exact(registry: list[dict[str, str]], queries: list[dict[str, str]]) -> Scores:
    """The baseline a spreadsheet VLOOKUP gives: the same name string, or the same website string."""
    by_name: dict[str, set[str]] = {}
    by_site: dict[str, set[str]] = {}
    for r in registry:
        by_name.setdefault(r["company_name"].strip(), set()).add(r["registration_id"])
        if r["company_domain"].strip():
            by_site.setdefault(r["company_domain"].strip(), set()).add(r["registration_id"])
    scores = Scores()
    for q in queries:
        auto = set(by_name.get(q["company_name"].strip(), set())) | set(by_site.get(q["company_domain"].strip(), set()))
        _tally(scores, q, auto, set())
    return scores


def _tally(scores: Scores, q: dict[str, str], auto: set[str], possible: set[str]) -> None:
    expected = q["expected_registration_id"].strip()
    scores.queries += 1
    scores.auto_pairs += len(auto)
    scores.wrong_pairs += len(auto - {expected})
    if expected:
        scores.positives += 1
        if expected in auto:
            scores.auto_correct += 1
    if not auto and possible:
        scores.possible_only += 1
    if auto - {expected}:
        scores.misses.append((q["query_id"], q["kind"], f"wrong auto-match {sorted(auto - {expected})}"))
    elif expected and expected not in auto:
        scores.misses.append((q["query_id"], q["kind"], "sent to review" if possible else "missed"))
