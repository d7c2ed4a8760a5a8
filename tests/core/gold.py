"""Scoring the matcher on the labelled set in tests/data/matching (used by the quality test
and by bench/bench_engine.py, which prints the exact-string baseline beside it)."""

from __future__ import annotations

import csv
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from dealreg.engine import Engine
from dealreg.models import Alias, MatchLevel, Record, Registration, Status
from dealreg.normalise import email_domain, is_free_mail
from dealreg.rules import parse_rules

GOLD = Path(__file__).resolve().parents[1] / "data" / "matching"


def load() -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    with (GOLD / "registry.csv").open(encoding="utf-8", newline="") as f:
        registry = list(csv.DictReader(f))
    with (GOLD / "queries.csv").open(encoding="utf-8", newline="") as f:
        queries = list(csv.DictReader(f))
    return registry, queries


@dataclass
class _Rates:
    """What every score of a matcher counts, and its two headline rates."""

    queries: int = 0
    positives: int = 0
    auto_pairs: int = 0  # (query, registration) pairs matched automatically
    wrong_pairs: int = 0
    auto_correct: int = 0  # positives whose right registration was matched automatically

    @property
    def precision(self) -> float:
        return 1.0 if not self.auto_pairs else 1 - self.wrong_pairs / self.auto_pairs

    @property
    def recall(self) -> float:
        return self.auto_correct / self.positives if self.positives else 1.0


@dataclass
class Scores(_Rates):
    possible_only: int = 0  # queries sent to review (a possible match and no automatic one)
    misses: list[tuple[str, str, str]] = field(default_factory=list)  # (query_id, kind, what happened)

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


# --- The extended set (issue 12): name-only records and the kinds the first set lacks -------------
#
# registry.csv + registry_ext.csv are the claims on file; queries_ext.csv are labelled incoming
# records, each tagged with its kind; aliases.csv is the alias table a user would own. The old
# queries (queries.csv) stay scored on registry.csv alone, as above: their floors do not move.

AS_OF = datetime(2026, 3, 1, tzinfo=UTC)
"""The extended set's evaluation date: registry.csv's claims (submitted 2026-01-01, 90 days of
protection) are active then, and registry_ext.csv's rows say their own dates."""
OLD_SUBMITTED = datetime(2026, 1, 1, tzinfo=UTC)
PROTECTION = timedelta(days=90)

POSITIVE_KINDS = ("typo_short", "one_word_exact", "expired_by_name", "other_country", "legal_form_front", "mojibake",
                  "product_division", "brand_former", "abbreviation_order", "careless_fields",
                  "contact_email_domain", "isp_mail_domain")
"""The kinds of issue 12, in its order; each hard negative names the kind whose rule it guards."""


@dataclass(frozen=True)
class ExtendedSet:
    registry: list[dict[str, str]]  # registry.csv rows (no dates) then registry_ext.csv rows (with dates)
    queries: list[dict[str, str]]  # queries_ext.csv
    aliases: list[dict[str, str]]  # aliases.csv: alias, account_name, account_domain, note


def _rows(name: str) -> list[dict[str, str]]:
    with (GOLD / name).open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def load_extended() -> ExtendedSet:
    registry = _rows("registry.csv")
    for row in registry:  # the first set's claims carry no dates: the ones engine_for gives them
        row.update(contact_email="", submitted_at=OLD_SUBMITTED.date().isoformat(),
                   expires_at=(OLD_SUBMITTED + PROTECTION).date().isoformat())
    return ExtendedSet(registry + _rows("registry_ext.csv"), _rows("queries_ext.csv"), _rows("aliases.csv"))


def load_fresh() -> ExtendedSet:
    """The fresh set (registry_fresh.csv, queries_fresh.csv): written after the matcher's rules of
    issue 12 by someone who had not read them, and never used to tune them: the held-out check.
    Decided against every registration of the extended set as well, which are its distractors."""
    extended = load_extended()
    return ExtendedSet(extended.registry + _rows("registry_fresh.csv"), _rows("queries_fresh.csv"), extended.aliases)


def _day(value: str) -> datetime:
    return datetime.fromisoformat(value).replace(tzinfo=UTC)


def registrations(registry: list[dict[str, str]]) -> list[Registration]:
    return [Registration(registration_id=r["registration_id"], submitted_at=_day(r["submitted_at"]), partner="p",
                         company_name=r["company_name"], company_domain=r["company_domain"],
                         linkedin_url=r["linkedin_url"], duns=r["duns"], country=r["country"],
                         contact_email=r["contact_email"], expires_at=_day(r["expires_at"])) for r in registry]


def name_only(q: dict[str, str]) -> bool:
    """No website, no LinkedIn page and no work email: a free-mail or ISP address (as
    dealreg's own list has them) or a malformed one is not a work email."""
    if q["company_domain"].strip() or q["linkedin_url"].strip():
        return False
    email = q["contact_email"].strip()
    domain = email_domain(email) if "@" in email else None
    return domain is None or is_free_mail(domain)


@dataclass(frozen=True)
class Outcome:
    """What a matcher answers for one record, in the decision's terms (SPEC "Decision fields")."""

    level: MatchLevel  # the decision's `match`
    matched: str  # the decision's `matched_registration_id`
    auto: frozenset[str]  # every registration matched automatically (any state): precision counts these
    candidates: frozenset[str]  # every registration at `match` or `possible`: what a reviewer is shown
    queued: bool  # sent to the review queue: `needs_review`, a possible match on a claim still active (a
    # possible match on an expired claim is `clear`: the account is free whichever company it is)


def aliases(rows: list[dict[str, str]]) -> list[Alias]:
    return [Alias(alias=a["alias"], account_domain=a["account_domain"], account_name=a["account_name"],
                  note=a["note"]) for a in rows]


def decide_dealreg(registry: list[dict[str, str]],
                   alias_rows: list[dict[str, str]] = ()) -> Callable[[dict[str, str]], Outcome]:  # type: ignore[assignment]
    """dealreg's decision for each record: the engine with the expiry and first-to-register rules,
    and the alias table."""
    engine = Engine(parse_rules({"rules": ["expiry", "first_to_register"]}), registrations=registrations(registry),
                    aliases=aliases(list(alias_rows)))

    def decide(q: dict[str, str]) -> Outcome:
        record = Record(company_name=q["company_name"], company_domain=q["company_domain"],
                        contact_email=q["contact_email"], linkedin_url=q["linkedin_url"])
        d = engine.decide(record, AS_OF)
        auto = frozenset(c.registration_id for c in d.candidates if c.level is MatchLevel.MATCH)
        seen = frozenset(c.registration_id for c in d.candidates if c.level is not MatchLevel.NONE)
        return Outcome(d.match, d.matched_registration_id, auto, seen,  # a rejected record answers `none`
                       d.status is Status.NEEDS_REVIEW)

    return decide


@dataclass
class KindScores(_Rates):
    name_only: int = 0
    auto_correct_name_only: int = 0
    found_with_review: int = 0  # matched automatically, or sent to review with the right registration shown
    review: int = 0  # queries answered `possible`
    queued: int = 0  # queries sent to the review queue (`Outcome.queued`)
    examples: list[tuple[str, str, str]] = field(default_factory=list)  # (query_id, record, what happened)

    @property
    def recall_name_only(self) -> float:
        return self.auto_correct_name_only / self.name_only if self.name_only else 1.0

    @property
    def recall_with_review(self) -> float:
        return self.found_with_review / self.positives if self.positives else 1.0

    @property
    def review_rate(self) -> float:
        return self.review / self.queries if self.queries else 0.0

    @property
    def queue_rate(self) -> float:
        return self.queued / self.queries if self.queries else 0.0


def score_extended(queries: list[dict[str, str]], outcomes: list[Outcome]) -> dict[str, KindScores]:
    """Scores per kind ("hard_negative:<kind>" for the negatives guarding a kind) and "all"."""
    by_kind: dict[str, KindScores] = {"all": KindScores()}
    for q, o in zip(queries, outcomes, strict=True):
        kind = q["kind"] if q["kind"] != "hard_negative" else f"hard_negative:{q['guards']}"
        for s in (by_kind["all"], by_kind.setdefault(kind, KindScores())):
            _tally_outcome(s, q, o)
    return by_kind


def _tally_outcome(s: KindScores, q: dict[str, str], o: Outcome) -> None:
    expected = q["expected_registration_id"].strip()
    record = " | ".join(v for v in (q["company_name"], q["company_domain"], q["contact_email"], q["linkedin_url"]) if v)
    s.queries += 1
    s.auto_pairs += len(o.auto)
    s.wrong_pairs += len(o.auto - {expected})
    if o.level is MatchLevel.POSSIBLE:
        s.review += 1
    s.queued += o.queued
    if o.auto - {expected}:
        s.examples.append((q["query_id"], record, f"wrong automatic match {sorted(o.auto - {expected})}"))
    if not expected:
        return
    s.positives += 1
    only_name = name_only(q)
    s.name_only += only_name
    right = o.level is MatchLevel.MATCH and o.matched == expected
    s.auto_correct += right
    s.auto_correct_name_only += right and only_name
    s.found_with_review += right or (o.level is MatchLevel.POSSIBLE and expected in o.candidates)
    if not right and not o.auto - {expected}:
        what = (f"answered {o.level.value} on {o.matched}" if o.matched and o.matched != expected
                else "sent to review" if o.level is MatchLevel.POSSIBLE
                else f"{o.level.value}, {expected} not reported" if expected in o.candidates else "not found")
        s.examples.append((q["query_id"], record, what))
