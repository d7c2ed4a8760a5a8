"""A claim as the rules see it (`Claim`): a registration on file, or a named account standing as
its owner's claim; who holds it (`party_key` compares parties) and how old it is (`age`).

Pure data and small functions.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import lru_cache
from typing import NamedTuple

from dealreg.models import DIRECT, NamedAccount, Registration


class Claim(NamedTuple):
    """A claim as the rules see it: a registration or a named-account entry."""

    claim_id: str
    party: str
    owner: str  # who owned the account after this claim's own decision ("" if unknown)
    submitted_at: datetime | None  # None: a named account, a standing claim older than any registration
    expires_at: datetime | None
    state: str
    named: bool
    name: str
    country: str = ""
    region: str = ""
    industry: str = ""
    employees: int | None = None
    deal_value: float | None = None
    currency: str = ""


def registration_claim(reg: Registration, window: timedelta) -> Claim:
    """The claim a registration makes: protected until `expires_at`, else for `window` after it was made."""
    return Claim(
        claim_id=reg.registration_id,
        party=reg.party,
        owner=reg.owner.strip(),
        submitted_at=reg.submitted_at,
        expires_at=reg.expires_at or reg.submitted_at + window,
        state=reg.state.strip().casefold() or "open",
        named=False,
        name=reg.company_name or reg.company_domain,
        country=reg.country,
        region=reg.region,
        industry=reg.industry,
        employees=reg.employees,
        deal_value=reg.deal_value,
        currency=reg.currency,
    )


def named_claim(claim_id: str, account: NamedAccount) -> Claim:
    """A named account: a standing claim by its owner (the direct team when none is named)."""
    owner = account.owner.strip() or DIRECT
    return Claim(claim_id=claim_id, party=owner, owner=owner, submitted_at=None, expires_at=None, state="open",
                 named=True, name=account.company_name or account.company_domain)


@lru_cache(maxsize=1024)  # a handful of parties, compared many times in every decision
def party_key(party: str) -> str:
    """Parties compare case- and space-insensitively ("Northwind  partners" = "Northwind Partners")."""
    return " ".join(party.casefold().split())


_EPOCH = datetime.fromisoformat("0001-01-01T00:00:00+00:00")


def age(claim: Claim) -> tuple[datetime, str]:
    """Sort key for first-to-register: named accounts (standing claims) first, then the
    earliest `submitted_at`, then the registration id, so every writer orders alike."""
    return (claim.submitted_at or _EPOCH, claim.claim_id)
