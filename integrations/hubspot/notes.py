"""Decision events as notes on HubSpot timelines: a registration's note on its deal and its company,
and the buffered checks' (integrations/store/events.py) grouped by the company of the registration
they matched, one note per company, so that Clay's checks flood neither a timeline nor the quota.
Each note ends with the events as JSON (integrations/hubspot/mapping.py), which is what
`dealreg export decisions` reads back; a note that HubSpot may have written before a 5xx is sent
again, and readers take each event once, by its id."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

from dealreg.models import DecisionEvent
from integrations.hubspot import mapping as m
from integrations.hubspot import note_text as nt
from integrations.hubspot.transport import Ambiguous, BatchRefused, HubSpotAPI
from integrations.store.rows import event_to_row

log = logging.getLogger("integrations.hubspot")

Pending = tuple[DecisionEvent, str, str]
"""A decision event whose note is to be written: (event, its deal id, its company id); "" for a check,
whose company is that of the registration it matched."""


def note_inputs(pending: Sequence[Pending], company_of: Callable[[str], str]) -> list[dict[str, Any]]:
    """The batch-create inputs for `pending`: one note per (deal, company), a check's on the company
    of the registration it matched (`company_of(registration id)`: "" when none is known)."""
    groups: dict[tuple[str, str], list[DecisionEvent]] = {}
    for event, deal, company in pending:
        if not deal and not company and event.decision.matched_registration_id:
            company = company_of(event.decision.matched_registration_id)
        groups.setdefault((deal, company), []).append(event)
    inputs = []
    for (deal, company), group in groups.items():
        associations = [*([m.association(deal, m.NOTE_TO_DEAL)] if deal else []),
                        *([m.association(company, m.NOTE_TO_COMPANY)] if company else [])]
        for body in nt.note_bodies([event_to_row(e) for e in group]):
            inputs.append({"properties": {"hs_timestamp": str(nt.timestamp_ms(group[0].decided_at.isoformat())),
                                          "hs_note_body": body}, "associations": associations})
    return inputs


def write_notes(api: HubSpotAPI, inputs: list[dict[str, Any]], deadline: float) -> None:
    """Create the notes (batches of 100), sent again after an ambiguous answer. A note whose deal or
    company was deleted (or merged) in HubSpot meanwhile is kept without its associations rather
    than blocking every note after it; any other refusal is raised."""
    attempt = 0
    while True:
        try:
            api.batch_write("notes", "create", inputs, "the decision notes", deadline)
            return
        except Ambiguous as exc:
            api.backoff(attempt, str(exc), "the decision notes", deadline)
            attempt += 1
        except BatchRefused as exc:
            loose = [{**item, "associations": []} for item in exc.refused if item.get("associations")]
            if len(loose) < len(exc.refused):
                raise
            log.warning("hubspot: %d decision notes written without their deal or company: %s", len(loose), exc)
            inputs = loose
