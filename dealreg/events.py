"""The JSON form of a decision event: input, candidates with evidence, the rule, the rules
hash, the outcome, the time. Pure; every store and log uses this one form."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import Any

from dealreg.models import Candidate, DecisionEvent, Record


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, (tuple, list, frozenset, set)):
        return [_plain(v) for v in value]
    return value


def _fields(obj: Record | Candidate) -> dict[str, Any]:
    # A shallow walk over the slots: dataclasses.asdict deep-copies, which costs a check ~0.15 ms.
    return {name: _plain(getattr(obj, name)) for name in obj.__slots__}


def event_to_dict(event: DecisionEvent) -> dict[str, Any]:
    decision = event.decision
    return {
        "event_id": event.event_id,
        "decided_at": event.decided_at.isoformat(),
        "action": event.action,
        "rules_hash": event.rules_hash,
        "input": _fields(event.record),
        "decision": decision.fields(),
        "reasons": list(decision.reasons),
        "candidates": [_fields(c) for c in decision.candidates],
        "expired": list(decision.expired),
        **({"extra": dict(event.extra)} if event.extra else {}),
    }
