"""Which Record field each Typeform question fills: the default mapping, keyed on question refs (or
hidden field names) named after the fields, and the check of a mapping set in
`DEALREG_TYPEFORM_MAPPING`. Suggesting one for a form whose refs Typeform generated:
integrations/typeform/suggest.py."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields

from dealreg.models import Record

MAPPABLE_FIELDS: tuple[str, ...] = tuple(
    f.name for f in fields(Record) if f.name not in {"submitted_at", "source", "external_id"}
)
"""Record fields an answer or hidden field can fill. `submitted_at` comes from the envelope."""

DEFAULT_MAPPING: dict[str, str] = {
    "company_name": "company_name",
    "company_website": "company_domain",
    "company_domain": "company_domain",
    "website": "company_domain",
    "contact_email": "contact_email",
    "email": "contact_email",
    "contact_name": "contact_name",
    "partner": "partner",  # also the hidden field of partner-specific links (#partner=northwind)
    "partner_name": "partner",
    "deal_value": "deal_value",
    "currency": "currency",
    "country": "country",
    "region": "region",
    "industry": "industry",
    "employees": "employees",
    "linkedin_url": "linkedin_url",
    "duns": "duns",
}
"""Question ref (or hidden field name) -> Record field. SPEC's defaults: refs named after the fields.
A config mapping is merged over this one; mapping a ref to "" switches it off."""


def validate_mapping(mapping: Mapping[str, str]) -> dict[str, str]:
    """The mapping as a dict; ValueError naming the first ref that maps to no Record field."""
    for ref, target in mapping.items():
        if target and target not in MAPPABLE_FIELDS:
            raise ValueError(
                f"Typeform ref {ref!r} maps to unknown field {target!r}; use one of: {', '.join(MAPPABLE_FIELDS)}"
            )
    return dict(mapping)
