"""The stored history as the report and the replay read it: every registration as it stands,
the decision log, and the Partners list with the day each partner joined.

Pure data, no I/O: handlers/history.py loads it from a store. `arrival` tells when each
registration reached dealreg (its first `register` event), which is the order the service
decided them in; a registration imported without its event arrived when it was submitted.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from dealreg.claims import party_key
from dealreg.models import DIRECT, NamedAccount, Quarantined, Registration, Territory


@dataclass(frozen=True, slots=True)
class Logged:
    """One decision event, as the report reads it (a row of the Decisions tab)."""

    decided_at: datetime
    action: str  # "check" or "register"
    party: str
    status: str
    match: str
    rule: str
    registration_id: str
    rules_hash: str


@dataclass(frozen=True, slots=True)
class Partner:
    name: str
    joined_at: datetime | None = None  # None: the Partners list has no joined date for it


@dataclass(frozen=True)
class History:
    """Everything on file: registrations (in the store's order), decision events, the Partners
    list, the reference lists the rules read, and the rows that could not be read."""

    registrations: tuple[Registration, ...] = ()
    decisions: tuple[Logged, ...] = ()
    partners: tuple[Partner, ...] = ()
    named_accounts: tuple[NamedAccount, ...] = ()
    territories: tuple[Territory, ...] = ()
    quarantined: tuple[Quarantined, ...] = ()
    problems: tuple[str, ...] = ()
    """Cells the loader could not read and left out (a decision event's time, a joined date)."""

    def arrivals(self) -> dict[str, datetime]:
        """Registration id -> when it arrived: its first `register` event, else its submitted_at."""
        first: dict[str, datetime] = {}
        for event in self.decisions:
            rid = event.registration_id
            if event.action == "register" and rid and (rid not in first or event.decided_at < first[rid]):
                first[rid] = event.decided_at
        return {reg.registration_id: first.get(reg.registration_id, reg.submitted_at) for reg in self.registrations}

    def in_arrival_order(self) -> list[tuple[datetime, Registration]]:
        """Every registration with its arrival, in the order the service decided them (ties: the
        store's own order, which is the order they were appended)."""
        arrived = self.arrivals()
        ordered = sorted(enumerate(self.registrations), key=lambda ir: (arrived[ir[1].registration_id], ir[0]))
        return [(arrived[reg.registration_id], reg) for _, reg in ordered]


def partner_names(partners: Iterable[Partner]) -> tuple[str, ...]:
    return tuple(p.name for p in partners)


def parties_in(registrations: Sequence[Registration], partners: Sequence[Partner]) -> list[str]:
    """The parties to show: the Partners list in its order, then any other partner that holds a
    registration (alphabetically), then the direct team when it holds one."""
    seen = {party_key(p.name): p.name for p in partners}
    others = sorted({reg.party for reg in registrations if party_key(reg.party) not in seen
                     and party_key(reg.party) != DIRECT}, key=str.casefold)
    out = [p.name for p in partners] + others
    if any(party_key(reg.party) == DIRECT for reg in registrations):
        out.append(DIRECT)
    return out
