"""Decision events: the audit record of every decision, and its JSON form."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from datetime import datetime
from typing import Any

from dealreg.models import Decision, DecisionEvent, Record


def new_event(action: str, record: Record, decision: Decision, rules_hash: str, now: datetime,
              event_id: str | None = None) -> DecisionEvent:
    return DecisionEvent(event_id=event_id or f"E-{uuid.uuid4().hex[:16]}", decided_at=now, action=action,
                         record=record, decision=decision, rules_hash=rules_hash)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, frozenset, set)):
        return [_plain(v) for v in value]
    if hasattr(value, "value") and isinstance(getattr(value, "value"), str):
        return value.value  # StrEnum
    return value


def event_to_dict(event: DecisionEvent) -> dict[str, Any]:
    """JSON-safe: input, candidates with evidence, the rule, the rules hash, the outcome, the time."""
    decision = event.decision
    return {
        "event_id": event.event_id,
        "decided_at": event.decided_at.isoformat(),
        "action": event.action,
        "rules_hash": event.rules_hash,
        "input": _plain(asdict(event.record)),
        "decision": decision.fields(),
        "reasons": list(decision.reasons),
        "candidates": [_plain(asdict(c)) for c in decision.candidates],
        "expired": list(decision.expired),
        **({"extra": dict(event.extra)} if event.extra else {}),
    }
