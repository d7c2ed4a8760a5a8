"""Attribution as the guide defines it: primary to whoever's claim won (`partner-sourced` or
`direct`), secondary to the other party's influence (`partner-influenced`, or `direct` when
the direct team touched a partner-won account). Pure."""

from __future__ import annotations

from collections.abc import Iterable

from dealreg.claims import party_key
from dealreg.models import Attribution, is_direct


def primary(owner: str) -> str:
    """The primary attribution of an account `owner` holds."""
    return Attribution.DIRECT.value if is_direct(owner) else Attribution.PARTNER_SOURCED.value


def attribution(owner: str, parties: Iterable[str]) -> tuple[str, str]:
    """(primary, secondary) when `owner` won over the other `parties` involved; both empty
    when nobody owns the account (a decision left to a person)."""
    if not owner:
        return "", ""
    me = party_key(owner)
    others = [p for p in parties if party_key(p) != me]
    if is_direct(owner):
        return Attribution.DIRECT.value, Attribution.PARTNER_INFLUENCED.value if others else ""
    if any(is_direct(p) for p in others):
        return Attribution.PARTNER_SOURCED.value, Attribution.DIRECT.value
    return Attribution.PARTNER_SOURCED.value, Attribution.PARTNER_INFLUENCED.value if others else ""
