"""Reading the SQLite store's rows into the core's models: registrations, and the reference lists
(partners, territories, named accounts, aliases). A row that cannot be read (written behind the
store's back) is quarantined, naming it, rather than refusing the whole read."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Sequence
from dataclasses import replace

from dealreg.errors import InputError
from dealreg.models import REGISTRATION_COLUMNS, Alias, NamedAccount, Quarantined, Registration, Territory
from integrations.store.rows import (
    ALIAS_COLUMNS,
    NAMED_ACCOUNT_COLUMNS,
    TERRITORY_COLUMNS,
    alias_from_row,
    cell_problem,
    converted,
    named_account_from_row,
    quarantined_registration,
    registration_from_cells,
    territory_from_row,
)


def partners(conn: sqlite3.Connection) -> tuple[str, ...]:
    return tuple(r[0] for r in conn.execute("SELECT partner FROM partners WHERE partner <> '' ORDER BY seq"))


def territories(conn: sqlite3.Connection) -> tuple[tuple[Territory, ...], list[Quarantined]]:
    good, bad = converted("territories", _reference_rows(conn, "territories", TERRITORY_COLUMNS), territory_from_row)
    return tuple(good), bad


def named_accounts(conn: sqlite3.Connection) -> tuple[tuple[NamedAccount, ...], list[Quarantined]]:
    good, bad = converted("named-accounts", _reference_rows(conn, "named_accounts", NAMED_ACCOUNT_COLUMNS),
                          named_account_from_row)
    return tuple(good), bad


def aliases(conn: sqlite3.Connection) -> tuple[tuple[Alias, ...], list[Quarantined]]:
    """The alias table. A row that cannot be read names no account: it is reported (`/healthz`),
    never a claim."""
    good, bad = converted("aliases", _reference_rows(conn, "aliases", ALIAS_COLUMNS), alias_from_row)
    return tuple(good), [replace(q, claim=False) for q in bad]


def registrations(rows: Sequence[Sequence[str]]) -> tuple[tuple[Registration, ...], tuple[Quarantined, ...]]:
    """The rows as registrations; a row that cannot be read (written behind the store's back) is
    quarantined, naming it, rather than refusing the whole read."""
    good: list[Registration] = []
    bad: list[Quarantined] = []
    for row in rows:
        try:
            good.append(registration_from_cells(row[1:]))  # the columns are REGISTRATION_COLUMNS, never NULL
        except InputError as exc:
            rid = f" {row[1]}" if row[1] else ""
            where = f"registration{rid} (row {row[0]} of the registrations table in the SQLite store)"
            cells = dict(zip(REGISTRATION_COLUMNS, row[1:]))
            bad.append(quarantined_registration(cells, where, [cell_problem(field, cells.get(field, ""), message)
                                                               for field, message in exc.problems]))
    return tuple(good), tuple(bad)


def _reference_rows(conn: sqlite3.Connection, table: str,
                    columns: Sequence[str]) -> list[tuple[str, dict[str, str], Callable[[str], str]]]:
    rows = conn.execute(f"SELECT seq, {', '.join(columns)} FROM {table} ORDER BY seq").fetchall()
    return [(f"row {r[0]} of the {table} table in the SQLite store", dict(zip(columns, r[1:])), str) for r in rows]
