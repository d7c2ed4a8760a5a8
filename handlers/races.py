"""Settling a race on a store that cannot lock out other writers (Google Sheets, HubSpot).

Two registrations of one account may be written at the same moment by two processes, each
decided without seeing the other. After its write, each writer reads back the claims written
around its own (`Racing.competing`, a consistent read) and settles in the one order every
writer computes alike: the engine's first_to_register order, earliest `submitted_at`, then
`registration_id`. So whichever way the writes interleave, the rows end with one owner:

- Our outcome is re-decided against the claims that sort before ours. A concurrent claim that
  sorts after ours is its own writer's to settle, since that writer sees ours when it reads
  back, unless it was written BEFORE ours: its writer may have finished without seeing us, so
  we weigh it too, and if we beat it we rewrite its row, as a late claim rewrites the rows it
  displaces.
- If our outcome (owner, status) changed, or rows are now displaced, one correction rewrites
  them and appends a correcting event (`Racing.amend`; repeating it is safe).

The one answer that can go out of date is that of a writer which finished just before a claim
that sorts earlier landed; its row is rewritten and says "Superseded by …".
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from dealreg.models import Decision, Registration, Status
from integrations.store import Racing, Write

log = logging.getLogger(__name__)

Redecide = Callable[[Sequence[Registration]], Write]
"""Our registration decided again against a view of the claims (pure: safe to call twice)."""


def order(reg: Registration) -> tuple[datetime, str]:
    """The deterministic order of claims: the engine's first_to_register order."""
    return reg.submitted_at, reg.registration_id


def settle(store: Racing, write: Write, baseline: frozenset[str], redecide: Redecide) -> Decision:
    """The final decision for `write`, once the claims written around it are settled.
    `baseline` holds the ids of the claims `write` was decided against."""
    ours = write.registration
    decided = write.event.decision
    if decided.status is Status.REJECTED:  # a record, not a claim: nothing to settle
        return decided
    rows = list(store.competing(write))
    index = next((i for i, reg in enumerate(rows) if reg.registration_id == ours.registration_id), None)
    if index is None:
        log.warning("registration %s is not in the read-back (deleted by hand?)", ours.registration_id)
        return decided
    mine = order(ours)
    before: list[Registration] = []  # what our own outcome is decided against
    later_above: list[Registration] = []  # concurrent, later in the order, but written before us
    raced = False
    for i, reg in enumerate(rows):
        if i == index:
            continue
        concurrent = reg.registration_id not in baseline
        if concurrent and order(reg) > mine:
            if i < index:  # its writer may have finished without seeing us: we displace it if we win
                later_above.append(reg)
            continue  # written after us: that writer decides against us when it reads back
        raced = raced or concurrent
        before.append(reg)
    if not raced and not later_above:
        return decided

    own_write = redecide(before) if raced else write
    displacer = own_write
    if later_above:
        displacer = redecide(before + later_above)
        if displacer.event.decision.owner != own_write.event.decision.owner:
            own_write = displacer  # a later claim wins (a territory partner …): so do we lose
    own = replace(own_write.event.decision, expires_at=decided.expires_at)  # our window stays
    corrections: list[Registration] = []
    final = decided
    if (own.status, own.owner) != (decided.status, decided.owner):
        final = own
        corrections.append(replace(ours, owner=own.owner, status=own.status.value,
                                   attribution_primary=own.attribution_primary,
                                   attribution_secondary=own.attribution_secondary,
                                   matched_registration_id=own.matched_registration_id, rule=own.rule,
                                   reason=own.reason))
    if displacer is not write:
        corrections.extend(displacer.displaced)
    if corrections:
        log.info("registration %s raced; %s/%s -> %s/%s, %d other rows rewritten", ours.registration_id,
                 decided.status.value, decided.owner, final.status.value, final.owner,
                 len(corrections) - (final is not decided))
        event = replace(own_write.event, decision=final) if final is not decided else None
        store.amend(corrections, [event] if event is not None else [])
    return final
