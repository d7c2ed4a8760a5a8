"""Between HubSpot's objects and dealreg's rows: a registration is a deal, the account is its
company, a decision event is a note (its text: integrations/hubspot/note_text.py), and the
reference lists live on companies. Pure: no I/O.

- **Registration deal**: every column of SPEC's Registrations tab as a `dealreg_<column>` deal
  property, exactly as registered (text, so a hand edit that cannot be read is quarantined and
  named, never silently lost), plus the decision's match, evidence and reasons. `dealreg_external_id`
  holds `source:external_id` (unique: a redelivery of the same Typeform response creates nothing,
  and the same id from two sources stays two registrations).
- **Direct deal**: a deal of the CRM itself (no `dealreg_registration_id`) in the direct team's
  pipelines and stages is a claim of `direct`: registration id `deal-<id>`, made when it was
  created, protected until its close date (else for the rules' protection window, as a Sheet row
  without `expires_at`), closed when it reaches a closed stage (won or lost). Its keys are its
  company's.
- **Company**: the account. `dealreg_account_key` (unique) is the registered domain, else the
  LinkedIn page, the DUNS, or the normalised name; the account-level owner and attribution of
  the last decision; and, when set, the reference lists: a partner (`dealreg_partner_name`), a
  partner's territory (`dealreg_territory_*`), a named account (`dealreg_named_owner`); and the
  account's other names (`dealreg_aliases`, one a line: the alias table).
- **Note**: each decision, readable in the CRM timeline, with the event as JSON at its end
  (`dealreg-event {…}`), which is what `dealreg export decisions` reads back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from dealreg.errors import InputError
from dealreg.models import (
    DIRECT,
    OPEN_STATES,
    REGISTRATION_COLUMNS,
    Decision,
    Quarantined,
    Registration,
)
from dealreg.normalise import account_domain, duns_key, linkedin_key, name_key
from dealreg.records import parse_datetime
from dealreg.values import number_text
from integrations.store.rows import (
    cell_problem,
    decision_from_fields,
    quarantined_registration,
    registration_from_row,
    registration_to_row,
)

# -- deals -------------------------------------------------------------------------------

DEAL: dict[str, str] = {column: f"dealreg_{column}" for column in REGISTRATION_COLUMNS}
"""The deal property of each Registrations column."""
DEAL_MATCH, DEAL_MATCH_CONFIDENCE = "dealreg_match", "dealreg_match_confidence"
DEAL_MATCH_EVIDENCE, DEAL_REASONS = "dealreg_match_evidence", "dealreg_reasons"
DECISION_COLUMNS_ON_DEAL = ("owner", "status", "attribution_primary", "attribution_secondary",
                            "matched_registration_id", "rule", "reason")
"""The decision's columns on a deal (a direct deal's claim reads them back)."""
AMENDED_COLUMNS = tuple(c for c in REGISTRATION_COLUMNS if c not in ("registration_id", "source", "external_id",
                                                                       "submitted_at", "partner"))
"""The columns `amend` rewrites on a deal: all but the registration's identity (unique, or its order)."""
HUBSPOT_DEAL = ("dealname", "amount", "pipeline", "dealstage", "createdate", "closedate", "hs_lastmodifieddate")
DEAL_READ: tuple[str, ...] = (*DEAL.values(), DEAL_MATCH, DEAL_MATCH_CONFIDENCE, DEAL_MATCH_EVIDENCE, DEAL_REASONS,
                              *HUBSPOT_DEAL)
"""What every read of a deal asks for."""
DIRECT_PREFIX = "deal-"
"""A direct deal's registration id: `deal-<HubSpot deal id>`."""
DIRECT_SOURCE = "hubspot"

# HUBSPOT_DEFINED association types (SDK hubspot/crm/association_type.py)
DEAL_TO_COMPANY, COMPANY_TO_DEAL, NOTE_TO_DEAL, NOTE_TO_COMPANY = 5, 6, 214, 190


def association(object_id: str, type_id: int) -> dict[str, Any]:
    """One entry of a create's `associations`: to `object_id`, of a HUBSPOT_DEFINED type."""
    return {"to": {"id": object_id},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}]}


# -- companies ---------------------------------------------------------------------------

ACCOUNT_KEY = "dealreg_account_key"
COMPANY_OWNER, COMPANY_PRIMARY, COMPANY_SECONDARY = ("dealreg_owner", "dealreg_attribution_primary",
                                                     "dealreg_attribution_secondary")
COMPANY_LINKEDIN, COMPANY_DUNS = "dealreg_linkedin_url", "dealreg_duns"
PARTNER_NAME, PARTNER_EMAIL, PARTNER_NOTE = "dealreg_partner_name", "dealreg_partner_contact_email", "dealreg_partner_note"
PARTNER_JOINED = "dealreg_partner_joined_at"
TERRITORY_PARTNER = "dealreg_territory_partner"
TERRITORY_COUNTRIES, TERRITORY_REGIONS, TERRITORY_INDUSTRIES = ("dealreg_territory_countries",
                                                                "dealreg_territory_regions",
                                                                "dealreg_territory_industries")
TERRITORY_MIN, TERRITORY_MAX = "dealreg_territory_min_employees", "dealreg_territory_max_employees"
NAMED_OWNER, NAMED_NOTE = "dealreg_named_owner", "dealreg_named_note"
REFERENCE: dict[str, dict[str, str]] = {
    # table -> {column: company property}; the first property marks a company as on the list
    "partners": {"partner": PARTNER_NAME, "contact_email": PARTNER_EMAIL, "note": PARTNER_NOTE,
                 "joined_at": PARTNER_JOINED},
    "territories": {"partner": TERRITORY_PARTNER, "countries": TERRITORY_COUNTRIES, "regions": TERRITORY_REGIONS,
                    "industries": TERRITORY_INDUSTRIES, "min_employees": TERRITORY_MIN,
                    "max_employees": TERRITORY_MAX},
    "named-accounts": {"owner": NAMED_OWNER, "company_name": "name", "company_domain": "domain",
                       "linkedin_url": COMPANY_LINKEDIN, "duns": COMPANY_DUNS, "note": NAMED_NOTE},
}
MARKER = {table: next(iter(columns.values())) for table, columns in REFERENCE.items()}
ALIASES = "dealreg_aliases"
"""The alias table on companies: the account's other names (former names, brands, trading names),
one a line of a multi-line text; the account is the company's domain, else its name."""
COMPANY_READ: tuple[str, ...] = tuple(dict.fromkeys((
    "name", "domain", "createdate", "hs_lastmodifieddate", ACCOUNT_KEY, COMPANY_OWNER, COMPANY_PRIMARY,
    COMPANY_SECONDARY, *(p for columns in REFERENCE.values() for p in columns.values()), ALIASES)))


def text(props: Mapping[str, object], name: str) -> str:
    """A property's value as text; HubSpot answers null for a property that was never set."""
    value = props.get(name)
    return "" if value is None else str(value)


def modified_ms(obj: Mapping[str, object]) -> int:
    """When HubSpot last changed an object (epoch ms), from `hs_lastmodifieddate` or `updatedAt`."""
    props = obj.get("properties")
    value = text(props, "hs_lastmodifieddate") if isinstance(props, Mapping) else ""
    value = value or str(obj.get("updatedAt") or "")
    if value.isdigit():
        return int(value)
    try:
        return int(parse_datetime(value).timestamp() * 1000)
    except ValueError:
        return 0


def external_value(source: str, external_id: str) -> str:
    """`dealreg_external_id`: the sender's id with its source, unique across sources."""
    return f"{source}:{external_id}" if external_id else ""


def external_id_of(source: str, value: str) -> str:
    prefix = f"{source}:"
    return value[len(prefix):] if source and value.startswith(prefix) else value


def deal_name(reg: Registration) -> str:
    company = reg.company_name or reg.company_domain or reg.contact_email or reg.registration_id
    if reg.state == "rejected":
        return f"Rejected registration {reg.registration_id} ({company}, {reg.partner})"[:250]
    return f"{company} ({reg.partner})"[:250]


def decision_properties(decision: Decision) -> dict[str, str]:
    """The decision's fields a redelivery is answered with, beyond the Registrations columns."""
    return {DEAL_MATCH: decision.match.value, DEAL_MATCH_CONFIDENCE: str(decision.match_confidence),
            DEAL_MATCH_EVIDENCE: ";".join(decision.match_evidence), DEAL_REASONS: "\n".join(decision.reasons)}


def deal_properties(reg: Registration, decision: Decision | None = None, *, clear_empty: bool = False) -> dict[str, str]:
    """A registration as deal properties (the pipeline and stage are the caller's). Empty values
    are left out of a create; `clear_empty` sends them, as an update clears with "" ."""
    row = registration_to_row(reg)
    props = {DEAL[c]: row[c] for c in REGISTRATION_COLUMNS}
    props[DEAL["external_id"]] = external_value(reg.source, reg.external_id)
    props["dealname"] = deal_name(reg)
    props["amount"] = number_text(reg.deal_value) if reg.deal_value is not None else ""
    if decision is not None:
        props.update(decision_properties(decision))
    return props if clear_empty else {k: v for k, v in props.items() if v != ""}


def correction_properties(reg: Registration, decision: Decision | None) -> dict[str, str]:
    """The columns `amend` rewrites on a deal ("" clears one), and a race-corrected decision's own fields."""
    row = registration_to_row(reg)
    props = {DEAL[c]: row[c] for c in AMENDED_COLUMNS}
    props["amount"] = row["deal_value"]
    if decision is not None:
        props.update(decision_properties(decision))
    return props


def is_registration(props: Mapping[str, object]) -> bool:
    return bool(text(props, DEAL["registration_id"]).strip())


def registration_row(props: Mapping[str, object], closed_as: str = "") -> dict[str, str]:
    """A registration deal as a Registrations row. `closed_as` ("won"/"lost"): the deal sits in a
    closed stage, which closes a registration recorded as open."""
    row = {c: text(props, DEAL[c]) for c in REGISTRATION_COLUMNS}
    row["external_id"] = external_id_of(row["source"].strip(), row["external_id"].strip())
    if closed_as and (row["state"].strip().casefold() or "open") in OPEN_STATES:
        row["state"] = closed_as
    return row


def cell(column: str) -> str:
    """Names a column's cell of a deal: "deal_value (property dealreg_deal_value)"."""
    return f"{column} (property {DEAL[column]})"


def decision_from_deal(props: Mapping[str, object]) -> Decision:
    """The decision a registration deal records (its first, or the one a race settled on)."""
    get = lambda name: text(props, name)  # noqa: E731
    fields = {c: get(DEAL[c]) for c in ("owner", "attribution_primary", "attribution_secondary",
                                        "matched_registration_id", "rule", "reason", "registration_id", "expires_at")}
    fields.update(status=get(DEAL["status"]) or "clear", match=get(DEAL_MATCH) or "none",
                  match_confidence=get(DEAL_MATCH_CONFIDENCE) or "0", match_evidence=get(DEAL_MATCH_EVIDENCE))
    reasons = [r for r in get(DEAL_REASONS).splitlines() if r.strip()]
    return decision_from_fields(fields, reasons, get(DEAL["partner"]))


def direct_registration(deal_id: str, props: Mapping[str, object], company: Mapping[str, object],
                        closed_as: str = "") -> Registration | Quarantined | None:
    """A direct deal as the direct team's claim on its company's account; None when the company
    names no account (a deal without a company cannot be matched). A company key that cannot be
    read (a DUNS of 10 digits) is left out rather than costing the deal its claim; a deal still
    unreadable without them is quarantined."""
    row = {c: text(props, DEAL[c]) for c in ("owner", "status", "attribution_primary", "attribution_secondary",
                                               "matched_registration_id", "rule", "reason")}
    created = text(props, "createdate")
    row.update(registration_id=f"{DIRECT_PREFIX}{deal_id}", submitted_at=created, partner=DIRECT,
               source=DIRECT_SOURCE, external_id=deal_id, company_name=text(company, "name"),
               company_domain=text(company, "domain"), linkedin_url=text(company, COMPANY_LINKEDIN),
               duns=text(company, COMPANY_DUNS), deal_value=text(props, "amount"), state=closed_as or "open",
               expires_at=text(props, "closedate"))
    problems: tuple[tuple[str, str], ...] = ()
    for drop in ((), ("duns",), ("duns", "linkedin_url", "deal_value", "expires_at")):
        try:
            return registration_from_row({**row, **dict.fromkeys(drop, "")})
        except InputError as exc:
            problems = exc.problems
    if not (row["company_name"] or row["company_domain"] or row["linkedin_url"]):
        return None  # its company names no account: nothing to match it by
    # Unreadable even without its optional cells (its create date, say): quarantined, never left out,
    # so a record of its account goes to review instead of reading as clear.
    return quarantined_registration(row, f"HubSpot deal {deal_id} (the direct team's)",
                                    [cell_problem(name, row.get(name, ""), message) for name, message in problems])


# -- accounts ----------------------------------------------------------------------------

def account_key(company_name: str = "", company_domain: str = "", contact_email: str = "", linkedin_url: str = "",
                duns: str = "") -> str:
    """The account's key on its company: the registered domain (of the website, else of the
    contact's email), else the LinkedIn page, the DUNS, the normalised name; "" when nothing
    identifies it."""
    domain = account_domain(company_domain, contact_email)
    if domain:
        return f"domain:{domain}"
    linkedin = linkedin_key(linkedin_url) if linkedin_url else None
    if linkedin:
        return f"linkedin:{linkedin}"
    try:
        number = duns_key(duns) if duns else None
    except ValueError:
        number = None
    if number:
        return f"duns:{number}"
    name = name_key(company_name).key if company_name else ""
    return f"name:{name}" if name else ""


def registration_account_key(reg: Registration) -> str:
    return account_key(reg.company_name, reg.company_domain, reg.contact_email, reg.linkedin_url, reg.duns)


def company_domain(company_domain_: str, contact_email: str = "") -> str:
    """The `domain` a new company gets: the registered domain, as HubSpot keys companies."""
    return account_domain(company_domain_, contact_email) or ""


# -- reference lists on companies ---------------------------------------------------------

def reference_row(table: str, props: Mapping[str, object]) -> dict[str, str]:
    """A company's row of a reference table (Partners, Territories, Named accounts)."""
    return {column: text(props, prop) for column, prop in REFERENCE[table].items()}


def reference_properties(table: str, row: Mapping[str, str]) -> dict[str, str]:
    """A reference row as company properties (the company's own name and domain are left to it)."""
    return {prop: row.get(column, "") for column, prop in REFERENCE[table].items() if prop not in ("name", "domain")}


def cleared(table: str) -> dict[str, str]:
    """The properties that take a company off a reference list."""
    return {prop: "" for prop in REFERENCE[table].values() if prop not in ("name", "domain")}


def reference_cell(table: str) -> object:
    return lambda column: f"{column} (property {REFERENCE[table].get(column, column)})"


def alias_names(value: str) -> list[str]:
    """The names in a company's `dealreg_aliases`: one a line (HubSpot answers a multi-line text as
    one string; a value typed in HubSpot may end its lines with CR LF), blank lines and repeats left out."""
    names: dict[str, str] = {}
    for line in value.splitlines():
        if line.strip():
            names.setdefault(line.strip().casefold(), line.strip())
    return list(names.values())


def alias_rows(props: Mapping[str, object]) -> list[dict[str, str]]:
    """A company's other names as rows of the alias table: the account is the company's domain
    (its registered domain, as registrations key it), with its name beside it, which is what the
    account goes by when it has no domain. HubSpot keeps no note per name."""
    domain = company_domain(text(props, "domain"))
    name = text(props, "name").strip()
    return [{"alias": alias, "account_domain": domain, "account_name": name, "note": ""}
            for alias in alias_names(text(props, ALIASES))]


def alias_value(names: Sequence[str]) -> str:
    """`dealreg_aliases` holding these names, one a line."""
    return "\n".join(alias_names("\n".join(names)))
