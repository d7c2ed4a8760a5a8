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


class Pairs:
    """The learned pairs, by the id of the registration that was resolved."""

    def __init__(self) -> None:
        self._pairs: dict[str, tuple[str, str]] = {}

    def __len__(self) -> int:
        return len(self._pairs)

    def learn(self, reg: Registration) -> None:
        """Remember (or forget, when the row no longer says so) what `reg` teaches."""
        pair = pair_of(reg)
        if pair is None:
            self._pairs.pop(reg.registration_id, None)
        else:
            self._pairs[reg.registration_id] = pair

    def apply(self, q: Keys, hits: Sequence[Hit], keys: Mapping[str, Keys]) -> list[Hit]:
        """`hits` for a record with keys `q`, as the learned pairs have them (`keys`: every indexed
        claim's keys, where the pairs' two sides are looked up)."""
        sides = [(kind, keys[a], keys[b]) for a, (kind, b) in self._pairs.items() if a in keys and b in keys]
        if not sides:
            return list(hits)
        out: list[Hit] = []
        for hit in hits:
            c = keys.get(hit.claim_id)
            kind = next((k for k, a, b in sides if c is not None and (
                (one_account(q, a) and one_account(c, b)) or (one_account(q, b) and one_account(c, a)))), None)
            if kind == DISTINCT:
                continue  # a person said these are two accounts
            if kind == SAME and hit.level is not MatchLevel.MATCH:
                score = max(hit.score, MATCH_AT)
                hit = Hit(hit.claim_id, MatchLevel.MATCH, score, max(hit.confidence, confidence_of(score)),
                          (*hit.evidence, EVIDENCE))
            out.append(hit)
        return sorted(out, key=lambda h: (-h.score, h.claim_id))
