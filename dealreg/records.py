"""Turn a flat mapping (a CSV row, a Clay body, a JSON API body) into a core `Record`.

One parser for every way in, so the CLI, Clay and the JSON API accept the same names
and refuse the same bad values with the same words. Keys are matched case-insensitively
with common aliases; every problem is reported at once, naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, date, datetime, time

from dealreg.errors import InputError
from dealreg.models import Record
from dealreg.normalise import duns_key
from dealreg.values import agreed_currency, parse_amount, parse_count

ALIASES: dict[str, tuple[str, ...]] = {
    "company_name": ("company_name", "company", "companyname", "account_name", "account", "organization", "organisation", "organization_name"),
    "company_domain": ("company_domain", "website", "domain", "company_website", "url", "web", "homepage"),
    "contact_email": ("contact_email", "email", "work_email", "email_address"),
    "contact_name": ("contact_name", "contact", "full_name", "name_of_contact"),
    "linkedin_url": ("linkedin_url", "linkedin", "company_linkedin", "linkedin_company_url", "company_linkedin_url"),
    "duns": ("duns", "duns_number", "d_u_n_s"),
    "partner": ("partner", "partner_name"),
    "deal_value": ("deal_value", "amount", "deal_size", "deal_amount", "value"),
    "currency": ("currency", "deal_currency"),
    "country": ("country", "country_code", "hq_country"),
    "region": ("region", "state_region"),
    "industry": ("industry", "vertical"),
    "employees": ("employees", "employee_count", "headcount", "company_size"),
    "submitted_at": ("submitted_at", "registered_at", "created_at", "date"),
    "external_id": ("external_id", "record_id", "row_id"),
}
TEXT_FIELDS = ("company_name", "company_domain", "contact_email", "contact_name", "linkedin_url", "duns",
               "partner", "currency", "country", "region", "industry", "external_id")
MAX_TEXT = 2_000  # longer values are refused before they reach any store or API
MAX_DEAL_VALUE = 1e12
MAX_EMPLOYEES = 10_000_000
IDENTIFYING = ("company_name", "company_domain", "contact_email", "linkedin_url", "duns")


def canonical_key(key: str) -> str:
    """`Company Name`, `company-name` and `COMPANY_NAME` are the same column."""
    return re.sub(r"[\s\-.]+", "_", key.strip().casefold()).strip("_")


_LOOKUP = {alias: field for field, aliases in ALIASES.items() for alias in aliases}


def field_for(key: str) -> str | None:
    """The Record field a column or JSON key feeds, or None if it is not one of ours."""
    return _LOOKUP.get(canonical_key(key))


def parse_record(data: Mapping[str, object], *, source: str, external_id: str = "") -> Record:
    """Validate and convert. Raises InputError naming every bad field."""
    values: dict[str, object] = {}
    problems: list[tuple[str, str]] = []
    for key, value in data.items():
        field = field_for(str(key))
        if field is None or value is None or value == "":
            continue
        if field in values and values[field] not in (None, ""):
            continue  # the first of two aliases wins (company_name before company)
        values[field] = value

    out: dict[str, object] = {}
    for field in TEXT_FIELDS:
        value = values.get(field)
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (str, int, float)):
            problems.append((field, f"must be text, got {type(value).__name__}"))
            continue
        text = str(value).strip()
        if len(text) > MAX_TEXT:
            problems.append((field, f"is longer than {MAX_TEXT} characters"))
            continue
        out[field] = text
    if "duns" in out:
        try:
            duns_key(str(out["duns"]))
        except ValueError as exc:
            problems.append(("duns", str(exc)))
    _number("deal_value", values.get("deal_value"), out, problems, MAX_DEAL_VALUE, integer=False)
    _number("employees", values.get("employees"), out, problems, MAX_EMPLOYEES, integer=True)
    if values.get("submitted_at") is not None:
        try:
            out["submitted_at"] = parse_datetime(values["submitted_at"])
        except ValueError as exc:
            problems.append(("submitted_at", str(exc)))
    if not problems and not any(out.get(f) for f in IDENTIFYING):
        problems.append(("company_name", "a company name, website, email, LinkedIn URL or DUNS is required"))
    if problems:
        raise InputError(problems)
    if external_id:
        out["external_id"] = external_id
    return Record(source=source, **out)  # type: ignore[arg-type]


def _number(field: str, value: object, out: dict[str, object], problems: list[tuple[str, str]],
            maximum: float, *, integer: bool) -> None:
    """Read `value` with the one number parser (dealreg.values) into `out[field]`; a deal value
    written with a currency fills `currency` when that is empty (and must agree when it is not)."""
    if value is None:
        return
    try:
        if integer:
            number: float = parse_count(value)
        else:
            amount = parse_amount(value)
            number = amount.value
            if amount.currency:
                out["currency"] = agreed_currency(amount.currency, str(out.get("currency") or ""))
    except ValueError as exc:
        problems.append((field, str(exc)))
        return
    if number > maximum:
        problems.append((field, f"{number:,.0f} is implausibly large (over {maximum:,.0f})"))
    else:
        out[field] = number


def parse_datetime(value: object) -> datetime:
    """ISO-8601 date or date-time; a date means midnight UTC, a naive time means UTC."""
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, date):
        moment = datetime.combine(value, time(), tzinfo=UTC)
    elif isinstance(value, str) and value.strip():
        text = value.strip()
        try:
            moment = datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text)
        except ValueError:
            raise ValueError(f"{text!r} is not a date (use YYYY-MM-DD or an ISO-8601 time)") from None
    else:
        raise ValueError("must be a date (YYYY-MM-DD or an ISO-8601 time)")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    moment = moment.astimezone(UTC)
    if not 1990 <= moment.year <= 2100:
        raise ValueError(f"{moment.date().isoformat()} is out of range (1990-2100)")
    return moment
