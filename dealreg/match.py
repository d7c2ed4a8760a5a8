"""Account matching: which registrations (and named accounts) is a record the same account as?

Pure and in memory. `AccountIndex` holds every claim's keys in dicts; a lookup gathers
candidates from the strong keys (registered domain, LinkedIn, DUNS), the exact and
compact name keys, the rarest name tokens (typo-tolerant through a deletion index over
the token vocabulary) and acronyms, then scores each candidate with additive evidence
(Fellegi-Sunter style log-odds, see ../shared/reference/matching.md section 5):

    strong keys that agree push towards a match, strong keys that disagree push away,
    a multi-token name can match on its own, a one-word name needs a second signal.

`match` >= MATCH_AT, `possible` >= POSSIBLE_AT, anything lower is not returned.
Every candidate carries its evidence (`domain`, `linkedin`, `duns`, `name:93`, `-domain` …).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from dealreg.models import MatchLevel
from dealreg.normalise import NameKey, account_domain, duns_key, linkedin_key, name_key

# Evidence weights (log-odds points). Calibrated on tests/data/matching (see bench/RESULTS.md).
W_DUNS, W_DUNS_DIFF = 10.0, -8.0
W_DOMAIN, W_DOMAIN_DIFF, W_DOMAIN_LABEL = 9.0, -6.0, 4.0
W_LINKEDIN, W_LINKEDIN_DIFF = 9.0, -4.0
W_NAME_EXACT_MULTI, W_NAME_EXACT_ONE = 9.0, 5.0
W_NAME_FUZZY_HIGH, W_NAME_FUZZY_MID, W_NAME_FUZZY_ONE = 8.0, 5.0, 4.0
W_ACRONYM = 4.0
W_COUNTRY = 1.0
MATCH_AT, POSSIBLE_AT = 8.0, 3.0

FUZZY_HIGH, FUZZY_MID = 92, 85  # name similarity bands (0-100)
TYPO_MIN_LEN = 5  # tokens shorter than this must match exactly
STOPWORDS = frozenset({"of", "the", "and", "for", "de", "la", "le", "du", "des", "der", "die", "van", "von", "y", "e"})


@dataclass(frozen=True, slots=True)
class Keys:
    """The normalised keys of one record or claim."""

    domain: str | None
    domain_label: str | None  # the registered domain without its suffix: "siemens" for siemens.de
    linkedin: str | None
    duns: str | None
    name: NameKey
    compact: str  # the name key without spaces ("hub spot" -> "hubspot")
    acronym: str  # initials of a 3+ token name ("ibm"), else ""
    country: str


def keys_of(
    company_name: str = "",
    company_domain: str = "",
    contact_email: str = "",
    linkedin_url: str = "",
    duns: str = "",
    country: str = "",
) -> Keys:
    """Normalise the identifying fields. Raises ValueError for a malformed DUNS."""
    domain = account_domain(company_domain, contact_email)
    name = name_key(company_name)
    informative = [t for t in name.tokens if t not in STOPWORDS]
    return Keys(
        domain=domain,
        domain_label=domain.split(".", 1)[0] if domain else None,
        linkedin=linkedin_key(linkedin_url) if linkedin_url else None,
        duns=duns_key(duns) if duns else None,
        name=name,
        compact=name.key.replace(" ", ""),
        acronym="".join(t[0] for t in informative) if len(informative) >= 3 else "",
        country=country.strip().casefold(),
    )


@dataclass(frozen=True, slots=True)
class Hit:
    """One scored candidate."""

    claim_id: str
    level: MatchLevel
    score: float
    confidence: int
    evidence: tuple[str, ...]


def confidence_of(score: float) -> int:
    """Map log-odds points to 0-100 (logistic; MATCH_AT is about 88, POSSIBLE_AT about 12)."""
    return max(0, min(100, round(100 / (1 + math.exp(-0.8 * (score - 5.5))))))


def name_similarity(a: NameKey, b: NameKey, a_compact: str, b_compact: str) -> int:
    """0-100. Exact keys (or the same letters with other spacing) score 100. Otherwise the
    best of ratio / token_sort_ratio, capped when each side has a token the other lacks
    and the two are not near-spellings (First National Bank of *Omaha* vs *Pennsylvania*)."""
    if a.key == b.key or a_compact == b_compact:
        return 100
    if not a.key or not b.key:
        return 0
    score = max(fuzz.ratio(a.key, b.key), fuzz.token_sort_ratio(a.key, b.key), fuzz.ratio(a_compact, b_compact))
    if score < FUZZY_MID:
        return int(score)
    only_a = set(a.tokens) - set(b.tokens)
    only_b = set(b.tokens) - set(a.tokens)
    for token in only_a:
        if not any(_near(token, other) for other in only_b):
            # a token with no near-spelling on the other side: a different company or a missing word
            return int(min(score, FUZZY_MID - 1)) if only_b or len(token) >= 3 else int(score)
    return int(score)


def _near(x: str, y: str) -> bool:
    if len(x) < TYPO_MIN_LEN or len(y) < TYPO_MIN_LEN:
        return x == y
    return OSA.distance(x, y, score_cutoff=2) <= (2 if min(len(x), len(y)) >= 9 else 1)  # OSA: a swap is one edit


def _deletes(token: str) -> Iterable[str]:
    return {token[:i] + token[i + 1:] for i in range(len(token))}


class AccountIndex:
    """The keys of every claim, indexed for fast candidate lookup. Claims are added one
    at a time (`add`), so a server keeps one index warm and adds new registrations."""

    def __init__(self) -> None:
        self.keys: dict[str, Keys] = {}
        self._by_domain: dict[str, set[str]] = {}
        self._by_label: dict[str, set[str]] = {}
        self._by_linkedin: dict[str, set[str]] = {}
        self._by_duns: dict[str, set[str]] = {}
        self._by_name: dict[str, set[str]] = {}
        self._by_compact: dict[str, set[str]] = {}
        self._by_token: dict[str, set[str]] = {}
        self._by_acronym: dict[str, set[str]] = {}
        self._vocab_deletes: dict[str, set[str]] = {}  # token with one letter deleted -> vocabulary tokens

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, claim_id: str) -> bool:
        return claim_id in self.keys

    def add(self, claim_id: str, keys: Keys) -> None:
        if claim_id in self.keys:
            self.remove(claim_id)
        self.keys[claim_id] = keys
        for table, key in self._postings(keys):
            table.setdefault(key, set()).add(claim_id)
        for token in keys.name.tokens:
            if len(token) >= TYPO_MIN_LEN and len(self._by_token.get(token, ())) == 1:
                for deleted in _deletes(token):
                    self._vocab_deletes.setdefault(deleted, set()).add(token)

    def remove(self, claim_id: str) -> None:
        keys = self.keys.pop(claim_id)
        for table, key in self._postings(keys):
            ids = table.get(key)
            if ids is not None:
                ids.discard(claim_id)
                if not ids:
                    del table[key]
        # The deletion index keeps stale vocabulary; lookups go through _by_token, which is exact.

    def _postings(self, keys: Keys) -> Iterable[tuple[dict[str, set[str]], str]]:
        if keys.domain:
            yield self._by_domain, keys.domain
            yield self._by_label, keys.domain_label or ""
        if keys.linkedin:
            yield self._by_linkedin, keys.linkedin
        if keys.duns:
            yield self._by_duns, keys.duns
        if keys.name.key:
            yield self._by_name, keys.name.key
            yield self._by_compact, keys.compact
        if keys.acronym:
            yield self._by_acronym, keys.acronym
        for token in set(keys.name.tokens):
            yield self._by_token, token

    # -- lookup -----------------------------------------------------------------------

    def _block_limit(self) -> int:
        return max(200, len(self.keys) // 50)  # tokens in more than ~2% of names carry no signal

    def candidates(self, q: Keys) -> set[str]:
        found: set[str] = set()
        for table, key in (
            (self._by_domain, q.domain),
            (self._by_label, q.domain_label),
            (self._by_linkedin, q.linkedin),
            (self._by_duns, q.duns),
            (self._by_name, q.name.key or None),
            (self._by_compact, q.compact or None),
        ):
            if key and key in table:
                found |= table[key]
        if q.compact and len(q.compact) <= 5 and q.compact in self._by_acronym:
            found |= self._by_acronym[q.compact]
        limit = self._block_limit()
        tokens = [t for t in set(q.name.tokens) if t not in STOPWORDS]
        postings: list[set[str]] = []
        for token in tokens:
            ids = self._by_token.get(token)
            if ids is not None:
                postings.append(ids)
            elif len(token) >= TYPO_MIN_LEN:
                # symmetric deletion: catches one substituted, missing, extra or swapped letter
                near: set[str] = set()
                for variant in _deletes(token) | {token}:
                    if variant in self._by_token:
                        near.add(variant)
                    near.update(self._vocab_deletes.get(variant, ()))
                for vocab in near:
                    if vocab in self._by_token and _near(token, vocab):
                        postings.append(self._by_token[vocab])
        for ids in sorted(postings, key=len)[:3]:
            if len(ids) <= limit:
                found |= ids
        return found

    def lookup(self, q: Keys) -> list[Hit]:
        """Every claim the record may be, best first; only `match` and `possible` levels."""
        hits = []
        for claim_id in self.candidates(q):
            hit = score(q, claim_id, self.keys[claim_id])
            if hit is not None:
                hits.append(hit)
        hits.sort(key=lambda h: (-h.score, h.claim_id))
        return hits


def score(q: Keys, claim_id: str, c: Keys) -> Hit | None:
    """Score one candidate; None below the possible band."""
    points = 0.0
    evidence: list[str] = []
    strong_agree = False

    if q.duns and c.duns:
        if q.duns == c.duns:
            points += W_DUNS; evidence.append("duns"); strong_agree = True
        else:
            points += W_DUNS_DIFF; evidence.append("-duns")
    if q.domain and c.domain:
        if q.domain == c.domain:
            points += W_DOMAIN; evidence.append("domain"); strong_agree = True
        elif q.domain_label == c.domain_label:
            points += W_DOMAIN_LABEL; evidence.append("domain_label")
        else:
            points += W_DOMAIN_DIFF; evidence.append("-domain")
    if q.linkedin and c.linkedin:
        if q.linkedin == c.linkedin:
            points += W_LINKEDIN; evidence.append("linkedin"); strong_agree = True
        else:
            points += W_LINKEDIN_DIFF; evidence.append("-linkedin")

    sim = name_similarity(q.name, c.name, q.compact, c.compact) if q.name.key and c.name.key else 0
    multi = min(len(q.name.tokens), len(c.name.tokens)) >= 2
    if sim == 100:
        points += W_NAME_EXACT_MULTI if multi else W_NAME_EXACT_ONE
    elif sim >= FUZZY_HIGH:
        points += W_NAME_FUZZY_HIGH if multi else W_NAME_FUZZY_ONE
    elif sim >= FUZZY_MID:
        points += W_NAME_FUZZY_MID if multi else W_NAME_FUZZY_ONE
    elif (q.compact and (q.compact == c.acronym or c.compact == q.acronym)):
        points += W_ACRONYM; evidence.append("acronym")
    if sim >= FUZZY_MID:
        evidence.append(f"name:{sim}")

    # Only agreement counts: "DE" and "Germany" are the same country written two ways.
    if q.country and q.country == c.country and (points > 0 or strong_agree):
        points += W_COUNTRY; evidence.append("country")

    if points >= MATCH_AT:
        level = MatchLevel.MATCH
    elif points >= POSSIBLE_AT:
        level = MatchLevel.POSSIBLE
    else:
        return None
    return Hit(claim_id, level, points, confidence_of(points), tuple(evidence))
