"""Rows a store cannot read, kept as `Quarantined` instead of refusing the whole read: what can
be read of them (for the engine to look up), where they are, and each bad cell with its value."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TypeVar

from dealreg.errors import InputError
from dealreg.models import CLOSED_STATES, DIRECT, Quarantined
from dealreg.normalise import duns_key


T = TypeVar("T")
Cell = Callable[[str], str]
"""Names a column's cell in one row as the store shows it: "deal_value (O7)", "column Amount"."""


def converted(table: str, rows: Iterable[tuple[str, Mapping[str, str], Cell]],
              convert: Callable[[Mapping[str, str]], T]) -> tuple[list[T], list[Quarantined]]:
    """Each `(where, row, cell)` through the store's converter for `table`; a row it refuses is
    quarantined, naming the row (`where`) and each bad cell (`cell(column)`), never the whole read."""
    good: list[T] = []
    bad: list[Quarantined] = []
    for where, row, cell in rows:
        try:
            good.append(convert(row))
        except InputError as exc:
            problems = [cell_problem(cell(name), row.get(name, ""), message) for name, message in exc.problems]
            bad.append(quarantined_registration(row, where, problems) if table == "registrations"
                       else quarantined_reference(table, row, where, problems))
    return good, bad


def cell_problem(cell: str, value: str, message: str) -> str:
    """"duns (H7) '12': DUNS must have 9 digits, got 2": the cell, its value unless the message
    quotes it already, and what is wrong, so a person can find and fix it."""
    value = value.strip()
    shown = f" {value!r}" if value and value not in message else ""
    return f"{cell}{shown}: {message}"


def quarantined_registration(row: Mapping[str, str], where: str, problems: Iterable[str]) -> Quarantined:
    """A Registrations row that cannot be read, with what can be read of it (see `Quarantined`).
    `where` names the row and `problems` the cells to fix, each as its store shows them."""
    get = lambda name: (row.get(name) or "").strip()  # noqa: E731
    state = get("state").casefold() or "open"
    return Quarantined(
        "registrations", where, tuple(problems),
        claim=state not in CLOSED_STATES,  # an unreadable state might be open: it counts as a claim
        registration_id=get("registration_id"), party=get("partner") or DIRECT,
        company_name=get("company_name"), company_domain=get("company_domain"),
        contact_email=get("contact_email"), linkedin_url=get("linkedin_url"), duns=_readable_duns(get("duns")),
        country=get("country"),
    )


def quarantined_reference(table: str, row: Mapping[str, str], where: str, problems: Iterable[str]) -> Quarantined:
    """A Named accounts or Territories row that cannot be read (see `Quarantined`)."""
    get = lambda name: (row.get(name) or "").strip()  # noqa: E731
    # a named account's owner (empty: direct, as on a readable row), or a territory's partner
    party = (get("owner") or DIRECT) if table == "named-accounts" else get("partner")
    return Quarantined(table, where, tuple(problems), claim=True, party=party, company_name=get("company_name"),
                       company_domain=get("company_domain"), linkedin_url=get("linkedin_url"),
                       duns=_readable_duns(get("duns")))


def _readable_duns(value: str) -> str:
    try:
        return value if value and duns_key(value) else ""
    except ValueError:
        return ""
