"""Rows as stores keep them: SPEC's Sheet layout (one table per tab, every cell a string), and the
converters between rows and the core's models. One set of rules for every backend and every
way rows come in (a Sheet, a SQLite table, a CSV file, an import), so they read alike."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import datetime
from functools import lru_cache
from typing import Any

from dealreg.errors import InputError, StoreError
from dealreg.models import (
    DECISION_FIELDS,
    DIRECT,
    OPERATION_COLUMNS,
    REGISTRATION_COLUMNS,
    Alias,
    STATES,
    Decision,
    DecisionEvent,
    MatchLevel,
    NamedAccount,
    Registration,
    Status,
    Territory,
)
from dealreg.normalise import account_domain, duns_key, name_key
from dealreg.records import parse_datetime
from dealreg.values import agreed_currency, number_text, parse_amount, parse_count, plain_number
from integrations.store.contract import LOG_COLUMNS, LogEntry
from integrations.store.quarantine import (  # noqa: F401  (re-exported: the row helpers in one import)
    Cell,
    cell_problem,
    converted,
    quarantined_reference,
    quarantined_registration,
)

# -- the Sheet layout: one tab per table, every cell a string -----------------------------

TABLES = ("registrations", "partners", "territories", "named-accounts", "decisions", "aliases")
"""What `dealreg import` / `dealreg export` move, one Sheet tab each."""

PARTNER_COLUMNS = ("partner", "contact_email", "note", "joined_at")
"""`joined_at`: the day the partner signed (the report's 90-day activation); optional, see OPTIONAL_COLUMNS."""
TERRITORY_COLUMNS = ("partner", "countries", "regions", "industries", "min_employees", "max_employees")
NAMED_ACCOUNT_COLUMNS = ("owner", "company_name", "company_domain", "linkedin_url", "duns", "note")
ALIAS_COLUMNS = ("alias", "account_domain", "account_name", "note")
"""The alias table: another name of an account (a former name, a brand), the account named by its domain."""
DECISION_COLUMNS = (
    "event_id", "decided_at", "action", "source", "external_id", "party", "company_name", "company_domain",
    *DECISION_FIELDS, "reasons", "rules_hash",
)
"""The Decisions tab: one row per decision event (`reasons`: one per line, as a reason may hold a `;`)."""
COLUMNS: dict[str, tuple[str, ...]] = {
    "registrations": REGISTRATION_COLUMNS,
    "partners": PARTNER_COLUMNS,
    "territories": TERRITORY_COLUMNS,
    "named-accounts": NAMED_ACCOUNT_COLUMNS,
    "decisions": DECISION_COLUMNS,
    "log": LOG_COLUMNS,  # the operations log (not imported or exported: `TABLES`)
    "aliases": ALIAS_COLUMNS,  # the alias table (a tab of the Sheet, a SQLite table, a property of HubSpot companies)
}
OPTIONAL_COLUMNS: dict[str, tuple[str, ...]] = {"partners": ("joined_at",), "registrations": OPERATION_COLUMNS}
"""Columns added after a layout shipped: a tab, table or file without them still reads (the cell is
empty), so a Sheet or CSV made before them keeps working."""


# -- helpers every backend shares -------------------------------------------------------

def decision_from_fields(fields: Mapping[str, object], reasons: Iterable[str] = (), party: str = "") -> Decision:
    """Rebuild a Decision from its flat fields (`Decision.fields()`), as stored by a backend,
    so a redelivery is answered with exactly the first decision."""
    missing = [name for name in ("status", "owner", "rule", "reason") if name not in fields]
    if missing:
        raise StoreError(f"a stored decision lacks {', '.join(missing)}")
    evidence = str(fields.get("match_evidence") or "")
    expires = str(fields.get("expires_at") or "")
    return Decision(
        status=Status(str(fields["status"])),
        owner=str(fields.get("owner") or ""),
        attribution_primary=str(fields.get("attribution_primary") or ""),
        attribution_secondary=str(fields.get("attribution_secondary") or ""),
        matched_registration_id=str(fields.get("matched_registration_id") or ""),
        match=MatchLevel(str(fields.get("match") or "none")),
        match_confidence=int(fields.get("match_confidence") or 0),  # type: ignore[call-overload]
        match_evidence=tuple(e for e in evidence.split(";") if e),
        rule=str(fields["rule"]),
        reason=str(fields["reason"]),
        registration_id=str(fields.get("registration_id") or ""),
        expires_at=datetime.fromisoformat(expires) if expires else None,
        reasons=tuple(reasons),
        party=party,
    )


def text_of(value: object) -> str:
    """A value as the text a row stores (ISO times, true/false, 48000 not 48000.0)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return number_text(value)  # 48000 not 48000.0, and 123.4560 so that it never reads back as 123456
    return str(value)


def _time(field_name: str, text: str) -> datetime:
    try:
        return _parsed_time(text)
    except ValueError as exc:
        raise InputError([(field_name, str(exc))]) from None


@lru_cache(maxsize=4096)
def _parsed_time(text: str) -> datetime:
    """`parse_datetime` for a cell's text, remembered: dates and day-granular times repeat
    across a registry's rows, and each is then parsed once (a miss adds about half what a hit
    saves, so a registry of unique timestamps loses little). A datetime is immutable, so
    sharing one between registrations is safe; errors are not cached (lru_cache keeps only
    results)."""
    return parse_datetime(text)


def _number(field_name: str, text: str, kind: type[int] | type[float]) -> int | float | None:
    """A count (`int`) or an amount (`float`) in a cell, read as every way in reads it
    (dealreg.values: `48,000`, `$150,000`, `48.000,50`); None for an empty cell. An amount's
    currency is dropped here: `_deal_value` keeps it. Raises InputError."""
    text = text.strip()
    if not text:
        return None
    try:
        return parse_count(text) if kind is int else parse_amount(text).value
    except ValueError as exc:
        raise InputError([(field_name, str(exc))]) from None


def _deal_value(text: str, currency: str) -> tuple[float | None, str]:
    """A deal value cell and the row's currency cell: the value, and the currency it is in (the
    one written with the value fills an empty currency cell; two that disagree are refused)."""
    if (plain := plain_number(text)) is not None:  # what every store writes: no currency to agree on
        return plain, currency
    try:
        amount = parse_amount(text)
        return amount.value, agreed_currency(amount.currency, currency) if amount.currency else currency
    except ValueError as exc:
        raise InputError([("deal_value", str(exc))]) from None


def registration_to_row(reg: Registration) -> dict[str, str]:
    row = {name: text_of(getattr(reg, name)) for name in REGISTRATION_COLUMNS}
    row["extensions"] = str(reg.extensions) if reg.extensions else ""  # never extended: an empty cell
    return row


def registration_from_row(row: Mapping[str, str]) -> Registration:
    """A Registrations row (strings, SPEC column names) as a Registration. Raises InputError."""
    return registration_from_cells([row.get(name) or "" for name in REGISTRATION_COLUMNS])


def registration_from_cells(cells: Iterable[str]) -> Registration:
    """A Registrations row given as its cells (strings) in `REGISTRATION_COLUMNS` order: what a
    CSV reader picks straight out of each line, so 100,000 rows need no dict each. The one set
    of rules for a registration row, whichever way it comes in. Raises InputError naming every
    bad cell (a backend then quarantines the row: `quarantined_registration`).

    A `rejected` row is a record for the partner manager, never a claim (the engine does not index
    it), so it is read leniently: it need not name a company, and a cell that cannot be read is left
    empty rather than refused. Only its id and date must be readable."""
    (registration_id, submitted_at, source, partner, company_name, company_domain, linkedin_url, duns,
     country, region, industry, employees, contact_name, contact_email, deal_value, currency, state,
     expires_at, owner, status, attribution_primary, attribution_secondary, matched_registration_id,
     rule, reason, external_id, review, review_note, reviewed_by, reviewed_at,
     extensions) = map(str.strip, cells)  # REGISTRATION_COLUMNS, in order
    problems: list[tuple[str, str]] = []
    if not registration_id:
        problems.append(("registration_id", "is required"))
    submitted = None
    if not submitted_at:
        problems.append(("submitted_at", "is required"))
    else:
        submitted = _cell(problems, _time, "submitted_at", submitted_at)
    state_key = state.casefold() or "open"
    if state_key not in STATES:
        problems.append(("state", f"{state!r} is not a state (use one of: {', '.join(sorted(STATES))})"))
    lenient = state_key == "rejected"
    soft: list[tuple[str, str]] = [] if lenient else problems  # a rejected row's unreadable cells are dropped
    expires = _cell(soft, _time, "expires_at", expires_at) if expires_at else None
    # a currency written with the value fills an empty currency cell (most deal_value cells are empty)
    deal = _cell(soft, _deal_value, deal_value, currency) if deal_value else (None, currency)
    value, currency = (None, currency) if deal is _FAILED else deal
    headcount = _cell(soft, _number, "employees", employees, int) if employees else None
    extended = _cell(soft, _number, "extensions", extensions, int) if extensions else 0
    if duns and _cell(soft, _check_duns, duns) is _FAILED:
        duns = ""
    if not lenient and not (company_name or company_domain or linkedin_url or duns or contact_email):
        problems.append(("company_name", "the row names no company (no name, domain, LinkedIn, DUNS or email)"))
    if problems:
        raise InputError(problems)
    assert submitted is not None  # else submitted_at was one of the problems
    return Registration(
        registration_id=registration_id, submitted_at=submitted,
        partner=partner or DIRECT,  # an empty partner is the direct team, as everywhere
        source=source, company_name=company_name, company_domain=company_domain, linkedin_url=linkedin_url,
        duns=duns, country=country, region=region, industry=industry,
        employees=None if headcount is _FAILED else headcount, contact_name=contact_name,
        contact_email=contact_email, deal_value=value, currency=currency,
        state=state_key, expires_at=None if expires is _FAILED else expires, owner=owner, status=status,
        attribution_primary=attribution_primary, attribution_secondary=attribution_secondary,
        matched_registration_id=matched_registration_id, rule=rule, reason=reason, external_id=external_id,
        review=review, review_note=review_note, reviewed_by=reviewed_by, reviewed_at=reviewed_at,
        extensions=0 if extended is _FAILED or extended is None else extended,
    )


_FAILED: Any = object()  # what `_cell` returns for a cell it could not read


def _cell(problems: list[tuple[str, str]], read: Callable[..., Any], *args: Any) -> Any:
    """`read(*args)`, or `_FAILED` with its problem noted in `problems`."""
    try:
        return read(*args)
    except InputError as exc:
        problems.extend(exc.problems)
        return _FAILED


def _check_duns(value: str) -> None:
    try:
        duns_key(value)
    except ValueError as exc:
        raise InputError([("duns", str(exc))]) from None


def _listed(text: str) -> frozenset[str]:
    return frozenset(part.strip() for part in text.replace(",", ";").split(";") if part.strip())


def territory_to_row(t: Territory) -> dict[str, str]:
    return {
        "partner": t.partner, "countries": ";".join(sorted(t.countries)), "regions": ";".join(sorted(t.regions)),
        "industries": ";".join(sorted(t.industries)), "min_employees": text_of(t.min_employees),
        "max_employees": text_of(t.max_employees),
    }


def territory_from_row(row: Mapping[str, str]) -> Territory:
    get = lambda name: (row.get(name) or "").strip()  # noqa: E731
    if not get("partner"):
        raise InputError([("partner", "is required")])
    return Territory(
        partner=get("partner"), countries=_listed(get("countries")), regions=_listed(get("regions")),
        industries=_listed(get("industries")),
        min_employees=_number("min_employees", get("min_employees"), int),  # type: ignore[arg-type]
        max_employees=_number("max_employees", get("max_employees"), int),  # type: ignore[arg-type]
    )


def named_account_to_row(a: NamedAccount) -> dict[str, str]:
    return {name: text_of(getattr(a, name)) for name in NAMED_ACCOUNT_COLUMNS}


def named_account_from_row(row: Mapping[str, str]) -> NamedAccount:
    values = {name: (row.get(name) or "").strip() for name in NAMED_ACCOUNT_COLUMNS}
    if not values["owner"]:
        raise InputError([("owner", "is required")])
    if not any(values[k] for k in ("company_name", "company_domain", "linkedin_url", "duns")):
        raise InputError([("company_name", "a company name, domain, LinkedIn URL or DUNS is required")])
    _check_duns(values["duns"])
    return NamedAccount(**values)


def alias_to_row(a: Alias) -> dict[str, str]:
    return {name: text_of(getattr(a, name)) for name in ALIAS_COLUMNS}


def alias_from_row(row: Mapping[str, str]) -> Alias:
    """An alias row; InputError for one the matcher could not use (it would be dropped silently):
    a name of punctuation only, or no account it names."""
    values = {name: (row.get(name) or "").strip() for name in ALIAS_COLUMNS}
    problems: list[tuple[str, str]] = []
    if not values["alias"]:
        problems.append(("alias", "is required: the other name of the account"))
    elif not name_key(values["alias"]).key:
        problems.append(("alias", "has no letters or digits: write the other name of the account"))
    if values["account_domain"] and not account_domain(values["account_domain"], ""):
        problems.append(("account_domain", "is not a company's domain (e.g. altria.com; free-mail domains are "
                                           "no account's)"))
    elif not (values["account_domain"] or values["account_name"]):
        problems.append(("account_domain", "the account's domain (or its account_name) is required"))
    if problems:
        raise InputError(problems)
    return Alias(**values)


def event_to_row(event: DecisionEvent) -> dict[str, str]:
    """A Decisions row for an event."""
    record, decision = event.record, event.decision
    row = {
        "event_id": event.event_id, "decided_at": event.decided_at.isoformat(), "action": event.action,
        "source": record.source, "external_id": record.external_id, "party": decision.party or record.party,
        "company_name": record.company_name, "company_domain": record.company_domain,
        **{name: text_of(value) for name, value in decision.fields().items()},
        "reasons": "\n".join(decision.reasons), "rules_hash": event.rules_hash,
    }
    return row


def decision_from_row(row: Mapping[str, str]) -> Decision:
    """The decision a Decisions row records."""
    reasons = [r for r in (row.get("reasons") or "").splitlines() if r.strip()]
    return decision_from_fields(row, reasons, row.get("party") or "")


def log_to_row(entry: LogEntry) -> dict[str, str]:
    return {"kind": entry.kind, "key": entry.key, "status": entry.status, "at": entry.at.isoformat(),
            "detail": entry.detail}


def log_from_row(row: Mapping[str, str]) -> LogEntry | None:
    """A log row as an entry; None for a row that cannot be one (edited by hand): the sweep then
    treats its key as not delivered, which at worst sends a message again rather than never."""
    try:
        return LogEntry(row["kind"].strip(), row["key"].strip(), row["status"].strip(),
                        parse_datetime(row["at"].strip()), row.get("detail", ""))
    except (KeyError, ValueError):
        return None


def check_table(table: str) -> str:
    if table not in TABLES:
        raise StoreError(f"unknown table {table!r}; use one of: {', '.join(TABLES)}")
    return table


_STATUSES = tuple(status.value for status in Status)


def validated_row(table: str, row: Mapping[str, str]) -> dict[str, str]:
    """A row as a backend will store it: our columns only, parsed once to refuse bad values
    (the same rules for `dealreg import` into any backend)."""
    out = {name: str(row.get(name) or "").strip() for name in COLUMNS[check_table(table)]}
    if table == "registrations":
        if out["status"] and out["status"] not in _STATUSES:
            raise InputError([("status", f"{out['status']!r} is not a status (use one of: {', '.join(_STATUSES)})")])
        return registration_to_row(registration_from_row(out))
    if table == "territories":
        territory_from_row(out)
    elif table == "named-accounts":
        named_account_from_row(out)
    elif table == "aliases":
        alias_from_row(out)
    elif table == "partners":
        if not out["partner"]:
            raise InputError([("partner", "is required")])
        if out["joined_at"]:
            try:
                _parsed_time(out["joined_at"])
            except ValueError as exc:
                raise InputError([("joined_at", str(exc))]) from None
    elif table == "decisions":
        if not out["event_id"]:
            raise InputError([("event_id", "is required")])
        try:
            decision_from_row(out)
        except (ValueError, StoreError) as exc:
            raise InputError([("status", f"not a stored decision: {exc}")]) from None
    return out


def validated_rows(table: str, rows: Iterable[Mapping[str, str]]) -> list[dict[str, str]]:
    """Every row validated; InputError names every bad row (counting the header as row 1) and column."""
    clean: list[dict[str, str]] = []
    problems: list[tuple[str, str]] = []
    for n, row in enumerate(rows, start=2):
        try:
            clean.append(validated_row(table, row))
        except InputError as exc:
            problems.extend((f"row {n} {name}", message) for name, message in exc.problems)
    if problems:
        raise InputError(problems)
    return clean
