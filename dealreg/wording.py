"""The words of a reason: how a decision names an account, a party's territory and a day, so
every reason reads alike ("Acme (acme.com)", "Northwind Partners' territory", "2026-12-01")."""

from __future__ import annotations

from datetime import datetime

from dealreg.domains import registered_domain
from dealreg.models import Record


def label(record: Record) -> str:
    """The account as a reason names it: its name and domain, else whatever identifies it."""
    name = record.company_name.strip()
    domain = registered_domain(record.company_domain) if record.company_domain.strip() else None
    if name and domain:
        return f"{name} ({domain})"
    return name or domain or record.company_domain.strip() or record.linkedin_url.strip() or record.duns.strip() or "this account"


def possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment else "?"
