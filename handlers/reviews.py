"""Reviews: what waits for a person (`open_reviews`, oldest first, with the evidence) and a person's
resolution of one (`resolve`), the same from the CLI, the JSON API and the sweep (a resolution
typed in the Sheet's `review` cell or HubSpot's `dealreg_review` property). The effect on owners
and attribution is the core's (dealreg/reviews.py); this module reads fresh, refuses what cannot
be done (resolved already, changed since listed), and writes the rows and the `review` event in
one `amend`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from dealreg import reviews
from dealreg.claims import party_key
from dealreg.errors import Refusal
from dealreg.models import DecisionEvent, Record, Registration
from dealreg.reviews import Resolution
from handlers.events import new_event
from handlers.service import Service


@dataclass(frozen=True, slots=True)
class Waiting:
    """One registration waiting for a person, with what a person needs to decide."""

    registration: Registration
    matched: Registration | None
    version: str

    def fields(self, as_of: datetime) -> dict[str, object]:
        reg, other = self.registration, self.matched
        return {
            "registration_id": reg.registration_id, "version": self.version, "status": reg.status,
            "submitted_at": reg.submitted_at.isoformat(), "waiting_days": max(0, (as_of - reg.submitted_at).days),
            "partner": reg.party, "company_name": reg.company_name, "company_domain": reg.company_domain,
            "owner": reg.owner, "rule": reg.rule, "reason": reg.reason,
            "matched_registration_id": reg.matched_registration_id,
            "matched": None if other is None else {
                "registration_id": other.registration_id, "partner": other.party, "company_name": other.company_name,
                "company_domain": other.company_domain, "submitted_at": other.submitted_at.isoformat(),
                "owner": other.owner},
            "review": reg.review,
        }


def record_of(reg: Registration) -> Record:
    """The registration as the record an operation's event is about."""
    return Record(company_name=reg.company_name, company_domain=reg.company_domain, contact_email=reg.contact_email,
                  contact_name=reg.contact_name, linkedin_url=reg.linkedin_url, duns=reg.duns, partner=reg.partner,
                  deal_value=reg.deal_value, currency=reg.currency, country=reg.country, region=reg.region,
                  industry=reg.industry, employees=reg.employees, submitted_at=reg.submitted_at, source=reg.source,
                  external_id=reg.external_id)


def open_reviews(service: Service) -> list[Waiting]:
    """Every registration waiting for a person, oldest first."""
    with service.amending() as (_, claims, _engine):
        by_id = {r.registration_id: r for r in claims}
    waiting = [Waiting(r, by_id.get(r.matched_registration_id), reviews.version(r)) for r in claims if reviews.is_open(r)]
    return sorted(waiting, key=lambda w: (w.registration.submitted_at, w.registration.registration_id))


def resolve(service: Service, registration_id: str, resolution: Resolution, *, version: str = "") -> DecisionEvent:
    """Apply `resolution` to the registration (`version`: as it was listed; a row changed since is
    refused). Returns the stored `review` event. Refusal: unknown id (not_found), resolved already or
    changed (conflict), a give to an unknown party (invalid)."""
    with service.amending() as (session, claims, engine):
        event, rows = _resolution(service, claims, engine.partners, registration_id, resolution, version)
        session.amend(rows, [event])
    service.notify_events([event])
    return event


def resolution_in(service: Service, claims: Sequence[Registration], partners: dict[str, str], reg: Registration,
                  resolution: Resolution) -> tuple[DecisionEvent, Sequence[Registration]]:
    """The event and the rows of a resolution written in the row itself (the sweep's)."""
    return _resolution(service, claims, partners, reg.registration_id, resolution, "")


def _resolution(service: Service, claims: Sequence[Registration], partners: dict[str, str], registration_id: str,
                resolution: Resolution, version: str) -> tuple[DecisionEvent, Sequence[Registration]]:
    by_id = {r.registration_id: r for r in claims}
    reg = by_id.get(registration_id.strip())
    if reg is None:
        raise Refusal(f"no registration {registration_id!r} is on file as a claim (a rejected registration is never "
                      f"reviewed); `dealreg review` lists the open ones", "not_found")
    problem = reviews.refusal(reg, version)
    if problem:
        raise Refusal(problem)
    matched = by_id.get(reg.matched_registration_id)
    if resolution.action == reviews.GIVE:
        known = {party_key(p): p for p in (*partners.values(), reg.party, *([matched.party] if matched else []))}
        name = reviews.known_party(resolution.party, known)
        if not name:
            raise Refusal(f"give:{resolution.party}: no such party; give the account to direct, "
                          f"{reg.party}{f', {matched.party}' if matched else ''} or a partner on the Partners list",
                          "invalid")
        resolution = Resolution(resolution.action, name, resolution.note, resolution.by)
    now = service.clock()
    try:
        resolved = reviews.resolve(reg, matched, resolution, now)
    except ValueError as exc:
        raise Refusal(str(exc), "invalid") from None
    event = new_event("review", record_of(reg), resolved.decision, service.rules.rules_hash, now)
    event.extra.update(review=resolution.text, note=resolution.note, by=resolution.by,
                       version=reviews.version(reg), rows=",".join(r.registration_id for r in resolved.rows))
    return event, resolved.rows
