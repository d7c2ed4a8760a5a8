"""The rows a decision writes to the registration list: the new registration itself
(`registration_from`) and the registrations on file it displaces as owner (`displaced_row`). Pure."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from dealreg.attribution import attribution
from dealreg.claims import party_key
from dealreg.models import Decision, Record, Registration, Status


def registration_from(record: Record, decision: Decision, *, submitted_at: datetime) -> Registration:
    """The row to store for a record that was registered (rejected ones included, as `rejected`)."""
    if not decision.registration_id:
        raise ValueError("the decision did not register the record (no registration_id)")
    rejected = decision.status is Status.REJECTED
    made = record.submitted_at
    return Registration(
        registration_id=decision.registration_id,
        # no later than it arrived (see qualify.CLOCK_SKEW): a claim dated ahead must block the next one now
        submitted_at=made if made is not None and made <= submitted_at else submitted_at,
        partner=decision.party or record.party,
        source=record.source,
        company_name=record.company_name,
        company_domain=record.company_domain,
        linkedin_url=record.linkedin_url,
        duns=record.duns,
        country=record.country,
        region=record.region,
        industry=record.industry,
        employees=record.employees,
        contact_name=record.contact_name,
        contact_email=record.contact_email,
        deal_value=record.deal_value,
        currency=record.currency,
        state="rejected" if rejected else "open",
        expires_at=None if rejected else decision.expires_at,
        owner=decision.owner,
        status=decision.status.value,
        attribution_primary=decision.attribution_primary,
        attribution_secondary=decision.attribution_secondary,
        matched_registration_id=decision.matched_registration_id,
        rule=decision.rule,
        reason=decision.reason,
        external_id=record.external_id,
    )


def displaced_row(reg: Registration, decision: Decision) -> Registration:
    """A registration on file, rewritten after `decision` (which registered a claim that now
    owns the account) displaced the owner it had recorded. See `Decision.displaced`."""
    owner = decision.owner
    mine = party_key(reg.party) == party_key(owner)
    primary, secondary = attribution(owner, [reg.party, decision.party])
    return replace(
        reg,
        owner=owner,
        status=Status.CLEAR.value if mine else Status.CONFLICT.value,
        attribution_primary=primary,
        attribution_secondary=secondary,
        matched_registration_id=decision.registration_id,
        rule=decision.rule,
        reason=f"Superseded by {decision.registration_id}: {decision.reason}",
    )
