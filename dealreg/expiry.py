"""What the sweep finds due (`dealreg sweep`): claims whose protection window has ended, to be
marked `expired`, and claims about to end, whose party gets a reminder. Pure: the clock comes in."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace
from datetime import datetime, timedelta

from dealreg.claims import party_key
from dealreg.models import EXPIRED, OPEN_STATES, Registration, Status
from dealreg.wording import day

RULE = "expiry"


def ends(reg: Registration, window: timedelta) -> datetime:
    return reg.expires_at or reg.submitted_at + window


def is_claim(reg: Registration) -> bool:
    """An open claim (not rejected, closed or marked expired)."""
    return (reg.state or "open") in OPEN_STATES and reg.status != Status.REJECTED.value


def expired_rows(regs: Iterable[Registration], as_of: datetime, window: timedelta) -> list[Registration]:
    """The open claims whose window ended by `as_of`, as the rows to store (state `expired`)."""
    out = []
    for reg in regs:
        if is_claim(reg) and ends(reg, window) <= as_of:
            # The row keeps the decision it was registered with; the `expire` event says what ended.
            out.append(replace(reg, state=EXPIRED, expires_at=ends(reg, window)))
    return sorted(out, key=lambda r: (ends(r, window), r.registration_id))


def expiry_reason(reg: Registration) -> str:
    return f"{reg.party}'s registration {reg.registration_id} for {reg.company_name or reg.company_domain} expired on " \
           f"{day(reg.expires_at)}; it no longer blocks another claim on the account."


def reminders_due(regs: Iterable[Registration], as_of: datetime, days: int, window: timedelta) -> list[Registration]:
    """The open claims that own their account and end within `days` after `as_of`."""
    if days <= 0:
        return []
    horizon = as_of + timedelta(days=days)
    due = [reg for reg in regs if is_claim(reg) and as_of < ends(reg, window) <= horizon
           and reg.owner.strip() and party_key(reg.owner) == party_key(reg.party)]
    return sorted(due, key=lambda r: (ends(r, window), r.registration_id))
