"""What reviews taught the matcher: pairs of accounts a person said are one (`confirm`, `give`) or
are not (`not_same`). Each pair is read from the resolved registration itself (its `review` and
the `matched_registration_id` it was compared with), so it lives wherever the registrations do and
needs no table of its own. Pure.

A pair stands for the two *accounts*, not the two rows: a later record of either account (same
domain, LinkedIn page or DUNS, else the same name) meeting a claim of the other is
- one account: a `possible` match becomes a `match` (evidence `reviewed`): no review again;
- not one account: the hit is dropped: that pair is never suggested again.

The alias table the user owns (issue 12) is the other half: it names an account's other names
outright; these pairs are what a person confirmed case by case.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from dealreg.keys import Keys
from dealreg.models import MatchLevel, Registration
from dealreg.reviews import CONFIRM, GIVE, NOT_SAME, parse_resolution
from dealreg.score import MATCH_AT, Hit, confidence_of

SAME, DISTINCT = "same", "distinct"
EVIDENCE = "reviewed"


def pair_of(reg: Registration) -> tuple[str, str] | None:
    """(kind, the other registration's id) that a resolved registration teaches, or None."""
    if not reg.reviewed_at or not reg.matched_registration_id:
        return None
    try:
        action = parse_resolution(reg.review).action
    except ValueError:
        return None
    if action in (CONFIRM, GIVE):
        return SAME, reg.matched_registration_id
    if action == NOT_SAME:
        return DISTINCT, reg.matched_registration_id
    return None


def one_account(a: Keys, b: Keys) -> bool:
    """Whether two sets of keys name the same account for a learned pair: a strong key they share,
    else the same name when their domains do not disagree."""
    if (a.domain and a.domain == b.domain) or (a.linkedin and a.linkedin == b.linkedin) or (a.duns and a.duns == b.duns):
        return True
    if a.domain and b.domain:
        return False
    return bool(a.compact) and a.compact == b.compact


def _account_keys(k: Keys) -> tuple[str, ...]:
    """The keys `one_account` compares, as strings a lookup can find: two sides that are one
    account share at least one of them."""
    return tuple(f"{kind}:{value}" for kind, value in (("d", k.domain), ("l", k.linkedin), ("u", k.duns),
                                                        ("n", k.compact)) if value)


class Pairs:
    """The learned pairs, by the id of the registration that was resolved, and a lookup from the
    account keys of either side to the pairs: a decision reads the few pairs that share a key with
    its record, never all of them (a year of reviews is a thousand pairs; read one by one they cost
    a decision 0.5 ms at the median and 6 ms at p99, bench/RESULTS.md)."""

    def __init__(self) -> None:
        self._pairs: dict[str, tuple[str, str]] = {}
        self._by_key: dict[str, list[str]] | None = None  # built at the first `apply` after a change
        self._sides: set[str] = set()  # the registrations the lookup was built from
        self._rank: dict[str, int] = {}  # each pair's place in the order they were learned

    def __len__(self) -> int:
        return len(self._pairs)

    def learn(self, reg: Registration) -> None:
        """Remember (or forget, when the row no longer says so) what `reg` teaches."""
        pair = pair_of(reg)
        before = self._pairs.get(reg.registration_id)
        if pair is None:
            self._pairs.pop(reg.registration_id, None)
        else:
            self._pairs[reg.registration_id] = pair
        if pair != before or reg.registration_id in self._sides:  # a pair, or a side's keys, changed
            self._by_key = None

    def _lookup(self, keys: Mapping[str, Keys]) -> dict[str, list[str]]:
        if self._by_key is None:
            by_key: dict[str, list[str]] = {}
            self._sides = set()
            for resolved, (_, other) in self._pairs.items():  # in the order the pairs were learned
                for side in (resolved, other):
                    self._sides.add(side)
                    if side in keys:
                        for key in _account_keys(keys[side]):
                            by_key.setdefault(key, []).append(resolved)
            self._by_key = by_key
            self._rank = {resolved: n for n, resolved in enumerate(self._pairs)}
        return self._by_key

    def apply(self, q: Keys, hits: Sequence[Hit], keys: Mapping[str, Keys]) -> list[Hit]:
        """`hits` for a record with keys `q`, as the learned pairs have them (`keys`: every indexed
        claim's keys, where the pairs' two sides are looked up)."""
        by_key = self._lookup(keys)
        near = {resolved for key in _account_keys(q) for resolved in by_key.get(key, ())}
        sides = []
        for a in sorted(near, key=self._rank.__getitem__):  # the first pair learned decides, as it always did
            kind, b = self._pairs[a]
            if a in keys and b in keys:
                sides.append((kind, keys[a], keys[b]))
        if not sides:
            return list(hits)
        out: list[Hit] = []
        for hit in hits:
            c = keys.get(hit.claim_id)
            taught = next((k for k, a, b in sides if c is not None and (
                (one_account(q, a) and one_account(c, b)) or (one_account(q, b) and one_account(c, a)))), None)
            if taught == DISTINCT:
                continue  # a person said these are two accounts
            if taught == SAME and hit.level is not MatchLevel.MATCH:
                score = max(hit.score, MATCH_AT)
                hit = Hit(hit.claim_id, MatchLevel.MATCH, score, max(hit.confidence, confidence_of(score)),
                          (*hit.evidence, EVIDENCE))
            out.append(hit)
        return sorted(out, key=lambda h: (-h.score, h.claim_id))
