"""A registration's deal, created exactly once (HubSpot has no transactions).

Its `dealreg_external_id` is unique, so a redelivery that another instance registered meanwhile is
answered 409 (or 400 "already has that value"): it is read back by that key, and the caller answers
its first decision, nothing written. A create answered with a 5xx or a dropped connection is looked
for by `dealreg_registration_id` (unique too) before it is sent again: never doubled."""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

from dealreg.errors import StoreError
from dealreg.models import Registration
from integrations.hubspot import mapping as m
from integrations.hubspot.transport import Ambiguous, HubSpotAPI, UniqueConflict

log = logging.getLogger("integrations.hubspot")


def create_deal(api: HubSpotAPI, reg: Registration, props: Mapping[str, str], company: str,
                deadline: float) -> tuple[dict[str, Any], bool]:
    """The registration's deal (associated with `company` when one is known) and True once it is
    created, or found as our own earlier try; the deal and False when the record's external id is
    another writer's deal (a redelivery registered meanwhile: nothing was written)."""
    body: dict[str, Any] = {"properties": dict(props)}
    if company:
        body["associations"] = [m.association(company, m.DEAL_TO_COMPANY)]
    attempt = 0
    while True:
        try:
            created: dict[str, Any] = api.call("POST", "/crm/v3/objects/deals", "the registration's deal", deadline,
                                               body=body, write=True)
            return created, True
        except UniqueConflict as exc:
            existing = _existing_deal(api, reg, exc.properties, deadline)
            if existing is None:
                raise StoreError(f"HubSpot refused the registration's deal as a duplicate but has no deal with "
                                 f"its keys: {exc}") from None
            if _is_ours(existing, reg):
                return existing, True  # our own earlier try had landed
            found = existing.get("properties") or {}
            if (reg.external_id and m.text(found, m.DEAL["external_id"])
                    == m.external_value(reg.source, reg.external_id)):
                log.info("hubspot: %s %s was registered meanwhile as deal %s", reg.source, reg.external_id,
                         existing["id"])
                return existing, False
            raise StoreError(f"registration id {reg.registration_id} is already HubSpot deal {existing['id']}'s; "
                             f"registration ids must be unique") from None
        except Ambiguous as exc:
            log.warning("hubspot: the deal of %s answered %s; looking for it before sending it again",
                        reg.registration_id, exc)
            existing = api.get("deals", reg.registration_id, m.DEAL_READ, "the registration's deal", deadline,
                               id_property=m.DEAL["registration_id"])
            if existing is not None and _is_ours(existing, reg):
                return existing, True
            api.backoff(attempt, str(exc), "the registration's deal", deadline)
            attempt += 1


def _existing_deal(api: HubSpotAPI, reg: Registration, clashing: Sequence[str],
                   deadline: float) -> dict[str, Any] | None:
    """The deal holding a unique value of ours: by external id first (a redelivery), then by
    registration id (our own earlier try)."""
    keys = []
    if reg.external_id and (not clashing or m.DEAL["external_id"] in clashing):
        keys.append((m.DEAL["external_id"], m.external_value(reg.source, reg.external_id)))
    if not clashing or m.DEAL["registration_id"] in clashing or not keys:
        keys.append((m.DEAL["registration_id"], reg.registration_id))
    for prop, value in keys:
        found = api.get("deals", value, m.DEAL_READ, "the deal registered before", deadline, id_property=prop)
        if found is not None:
            return found
    return None


def _is_ours(deal: Mapping[str, Any], reg: Registration) -> bool:
    props = deal.get("properties") or {}
    return (m.text(props, m.DEAL["registration_id"]) == reg.registration_id
            and m.text(props, m.DEAL["external_id"]) == m.external_value(reg.source, reg.external_id))
