"""A peer baseline for issue 12: the matcher a competent engineer builds in an hour.

dealreg's own domain and LinkedIn keys first (the same lookup: registered domain of the website,
or of a work email when there is no website; LinkedIn slug), then the alias table the labelled set
provides, then names cleaned by cleanco and compared with a rapidfuzz scorer. Scores at or above
`auto_at` match automatically (the best-scoring registrations only), scores from `review_at` up are
a possible match (a review band). The scorer and both thresholds are tuned on one half of the
queries and applied to the other (`cross_validated`).

Decisions follow SPEC ("Decision fields"): active claims decide; when every matching claim has
expired, the most recent of them is reported. Dev-only: cleanco is in requirements-dev.txt, never
in the Lambda package.
"""

from __future__ import annotations

import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from cleanco import basename
from rapidfuzz import fuzz, process
from rapidfuzz.utils import default_process

from dealreg.models import MatchLevel
from dealreg.normalise import account_domain, linkedin_key
from tests.core.gold import Outcome, score_extended

SCORERS: dict[str, Callable[..., float]] = {"token_sort_ratio": fuzz.token_sort_ratio, "WRatio": fuzz.WRatio}
PRECISION_TARGET = 0.995  # issue 12's floor for automatic matches
REVIEW_CEILING = 0.05  # and its ceiling on the share of queries sent to review
TOP = 5  # name candidates kept per query


def clean(name: str) -> str:
    """cleanco's basename twice (its README's advice for "Acme Ltd. Co."), then lowercase and
    punctuation to spaces."""
    return default_process(basename(basename(name.strip())))


@dataclass(frozen=True)
class Thresholds:
    scorer: str
    auto_at: int
    review_at: int


class PeerMatcher:
    """Indexes the registry once; `decide` answers for one query (`key_hits` and `name_scores`
    are its two halves, kept apart so that tuning scores each query's names once)."""

    scorers: tuple[str, ...] = tuple(SCORERS)  # the name scorers `tune` chooses from

    def __init__(self, registry: list[dict[str, str]], aliases: Iterable[dict[str, str]], as_of: datetime) -> None:
        self.as_of = as_of
        self.ids = [r["registration_id"] for r in registry]
        self.rows = {r["registration_id"]: r for r in registry}
        self.by_domain: dict[str, set[str]] = {}
        self.by_linkedin: dict[str, set[str]] = {}
        for r in registry:
            rid = r["registration_id"]
            domain = account_domain(r["company_domain"], r.get("contact_email", ""))
            if domain:
                self.by_domain.setdefault(domain, set()).add(rid)
            slug = linkedin_key(r["linkedin_url"]) if r["linkedin_url"].strip() else None
            if slug:
                self.by_linkedin.setdefault(slug, set()).add(rid)
        self.names = [clean(r["company_name"]) for r in registry]
        self.by_alias: dict[str, set[str]] = {}
        for a in aliases:  # an alias names an account by its domain: every registration on that domain
            ids = self.by_domain.get(account_domain(a["account_domain"]) or "", set())
            if ids:
                self.by_alias.setdefault(clean(a["alias"]), set()).update(ids)

    def key_hits(self, q: dict[str, str]) -> set[str]:
        """Registrations sharing the record's domain or LinkedIn page, or named by its alias."""
        found: set[str] = set()
        domain = account_domain(q["company_domain"], q["contact_email"])
        if domain:
            found |= self.by_domain.get(domain, set())
        slug = linkedin_key(q["linkedin_url"]) if q["linkedin_url"].strip() else None
        if slug:
            found |= self.by_linkedin.get(slug, set())
        name = clean(q["company_name"]) if q["company_name"].strip() else ""
        if name:
            found |= self.by_alias.get(name, set())
        return found

    def name_scores(self, q: dict[str, str], scorer: str) -> list[tuple[str, float]]:
        """The best `TOP` registrations by name score (scores under 50 dropped)."""
        name = clean(q["company_name"]) if q["company_name"].strip() else ""
        if not name:
            return []
        found = process.extract(name, self.names, scorer=SCORERS[scorer], processor=None, limit=TOP, score_cutoff=50)
        return [(self.ids[i], score) for _, score, i in found]

    def decide(self, q: dict[str, str], t: Thresholds) -> Outcome:
        return self.outcome(self.key_hits(q), self.name_scores(q, t.scorer), t)

    def outcome(self, keyed: set[str], scored: list[tuple[str, float]], t: Thresholds) -> Outcome:
        levels = {rid: MatchLevel.MATCH for rid in keyed}
        best = max((s for _, s in scored), default=0.0)
        for rid, s in scored:
            if rid in levels:
                continue
            if s >= t.auto_at and s == best:
                levels[rid] = MatchLevel.MATCH
            elif s >= t.review_at:
                levels[rid] = MatchLevel.POSSIBLE
        rank = {rid: s for rid, s in scored}
        active = [rid for rid in levels if self._expires(rid) > self.as_of]
        expired = [rid for rid in levels if rid not in active]
        auto = frozenset(rid for rid, level in levels.items() if level is MatchLevel.MATCH)
        shown = frozenset(levels)
        if matches := [rid for rid in active if levels[rid] is MatchLevel.MATCH]:
            first = min(matches, key=lambda rid: (self.rows[rid]["submitted_at"], rid))  # first to register
            return Outcome(MatchLevel.MATCH, first, auto, shown, False)
        if possibles := [rid for rid in active if levels[rid] is MatchLevel.POSSIBLE]:
            return Outcome(MatchLevel.POSSIBLE, max(possibles, key=lambda rid: rank.get(rid, 0.0)), auto, shown, True)
        if expired:  # every matching claim has expired: report one (a match before a possible, then the latest)
            ordered = sorted(expired, key=lambda rid: (levels[rid] is MatchLevel.MATCH, self._expires(rid)))
            return Outcome(levels[ordered[-1]], ordered[-1], auto, shown, False)
        return Outcome(MatchLevel.NONE, "", auto, shown, False)

    def _expires(self, rid: str) -> datetime:
        return datetime.fromisoformat(self.rows[rid]["expires_at"]).replace(tzinfo=self.as_of.tzinfo)


def half(query_id: str) -> int:
    """A fixed split of the queries in two halves (the same on every run)."""
    return zlib.crc32(query_id.encode()) % 2


def tune(peer: PeerMatcher, queries: list[dict[str, str]]) -> Thresholds:
    """The scorer and thresholds with the best automatic recall whose automatic precision is at
    least 99.5% and whose review share is at most 5% on these queries (then the best recall
    including review). When no setting reaches the precision, the most precise one."""
    keyed = [peer.key_hits(q) for q in queries]
    best: tuple[tuple[float, ...], Thresholds] | None = None
    for scorer in peer.scorers:
        scored = [peer.name_scores(q, scorer) for q in queries]
        for auto_at in range(70, 101):
            for review_at in range(60, auto_at + 1, 2):
                t = Thresholds(scorer, auto_at, review_at)
                s = score_extended(queries, [peer.outcome(k, n, t) for k, n in zip(keyed, scored)])["all"]
                ok = s.precision >= PRECISION_TARGET and s.review_rate <= REVIEW_CEILING
                key = (ok, s.recall if ok else s.precision, s.recall_with_review if ok else s.recall, -s.review_rate)
                if best is None or key > best[0]:
                    best = (key, t)
    assert best is not None
    return best[1]


def cross_validated(peer: PeerMatcher, queries: list[dict[str, str]]) -> tuple[list[Outcome], list[Thresholds]]:
    """Each half decided with the thresholds tuned on the other half; outcomes in query order."""
    chosen = [tune(peer, [q for q in queries if half(q["query_id"]) != h]) for h in (0, 1)]
    return [peer.decide(q, chosen[half(q["query_id"])]) for q in queries], chosen
