"""New decision events: the id and the time come from the edge, never from the core."""

from __future__ import annotations

import uuid
from datetime import datetime

from dealreg.models import Decision, DecisionEvent, Record


def new_event(action: str, record: Record, decision: Decision, rules_hash: str, now: datetime,
              event_id: str | None = None) -> DecisionEvent:
    return DecisionEvent(event_id=event_id or f"E-{uuid.uuid4().hex[:16]}", decided_at=now, action=action,
                         record=record, decision=decision, rules_hash=rules_hash)
