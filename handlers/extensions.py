"""Extensions: a partner asks for more time on a registration; the rules file's `extension` rule
decides (dealreg/extensions.py). The answer, granted or not, is stored as an `extend` event, with
the new protection end on the row when granted, and the partner is told (handlers/notifications.py)."""

from __future__ import annotations


from datetime import timedelta

from dealreg import extensions
from dealreg.errors import Refusal
from dealreg.models import Decision, DecisionEvent, MatchLevel, Status
from dealreg.notices import EXTENSION_GRANTED, EXTENSION_REFUSED
from dealreg.rules import Extension
from handlers.events import new_event
from handlers.reviews import record_of
from handlers.service import Service


def extend(service: Service, registration_id: str, *, deal_value: float | None = None,
           by: str = "") -> tuple[extensions.Answer, DecisionEvent]:
    """Decide the request and store the answer. Refusal (not_found) for an id that is no claim on file."""
    rule = service.rules.first("extension")
    window = timedelta(days=service.rules.protection_days)
    with service.amending() as (session, claims, _engine):
        reg = next((r for r in claims if r.registration_id == registration_id.strip()), None)
        if reg is None:
            raise Refusal(f"no registration {registration_id!r} is on file as a claim", "not_found")
        now = service.clock()
        answer = extensions.decide(reg, rule if isinstance(rule, Extension) else None, now, window,
                                   deal_value=deal_value)
        row = answer.row
        decision = Decision(Status(row.status or Status.CLEAR.value), row.owner, row.attribution_primary,
                            row.attribution_secondary, row.matched_registration_id, MatchLevel.NONE, 0, (),
                            EXTENSION_GRANTED if answer.granted else EXTENSION_REFUSED, answer.reason,
                            registration_id=row.registration_id, expires_at=answer.expires_at, party=row.party)
        event = new_event("extend", record_of(reg), decision, service.rules.rules_hash, now)
        event.extra.update(granted="true" if answer.granted else "false", by=by,
                           previous_expires_at=extensions.protection_end(reg, window).isoformat(),
                           extensions=str(row.extensions))
        session.amend([row] if answer.granted else [], [event])
    service.notify_events([event])
    return answer, event



