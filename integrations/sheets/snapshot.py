"""One read of the spreadsheet as dealreg sees it: the registrations (or the rows quarantined
because they cannot be read), the reference lists, and the indexes a registration needs. A new
read keeps the old epoch when only rows were appended, so readers add rather than rebuild."""

from __future__ import annotations

import hashlib
import json
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TypeVar

from dealreg.errors import StoreError
from dealreg.models import Alias, NamedAccount, Quarantined, Registration, Territory
from integrations.sheets.cells import Reading, row_dicts
from integrations.sheets.layout import REFERENCE, Layout, layout_error, letter, read_layout
from integrations.store.contract import Changes, Cursor
from integrations.store.rows import (
    alias_from_row,
    converted,
    named_account_from_row,
    registration_from_row,
    territory_from_row,
)

log = logging.getLogger("integrations.sheets")


def _digest(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _cell_namer(layout: Layout, grid_row: int) -> Callable[[str], str]:
    """Names a column's cell in one row as the spreadsheet shows it: "deal_value (O7)"."""
    return lambda name: f"{name} ({letter(layout.columns[name])}{grid_row + 1})" if name in layout.columns else name


def _where(layout: Layout, grid_row: int, row: Mapping[str, str], key: str = "") -> str:
    named = f" ({row.get(key, '').strip()})" if key and row.get(key, "").strip() else ""
    return f"{layout.title} row {grid_row + 1}{named}"


def _registration(layout: Layout, grid_row: int, row: Mapping[str, str]) -> Registration | Quarantined:
    """The row as a Registration, or quarantined (naming the row and each bad cell) when a hand
    edit made it unreadable: one bad row never stops the store."""
    # the one set of rules for a row, whichever store: dates, numbers, state, DUNS
    good, bad = converted("registrations", [(_where(layout, grid_row, row, "registration_id"), row,
                                             _cell_namer(layout, grid_row))], registration_from_row)
    return good[0] if good else bad[0]


@dataclass(frozen=True, slots=True)
class _Reference:
    partners: tuple[str, ...] = ()
    territories: tuple[Territory, ...] = ()
    named_accounts: tuple[NamedAccount, ...] = ()
    digest: str = ""
    quarantined: tuple[Quarantined, ...] = ()  # rows of the reference tabs that cannot be read
    aliases: tuple[Alias, ...] = ()


def _reference(layouts: Mapping[str, Layout], values: Mapping[str, Sequence[Sequence[object]]]) -> _Reference:
    tables = (*REFERENCE, "aliases") if "aliases" in values else REFERENCE  # the Aliases tab is optional
    rows = {table: row_dicts(layouts[table], values[table]) for table in tables}
    partners = tuple(r["partner"].strip() for r in rows["partners"] if r and r["partner"].strip())
    territories, bad_territories = _converted("territories", layouts["territories"], rows["territories"],
                                              territory_from_row)
    named, bad_named = _converted("named-accounts", layouts["named-accounts"], rows["named-accounts"],
                                  named_account_from_row)
    aliases, bad_aliases = (_converted("aliases", layouts["aliases"], rows["aliases"], alias_from_row)
                            if "aliases" in rows else ([], []))
    # an alias row that cannot be read names no account: reported, never a claim
    unread_aliases = [replace(q, claim=False) for q in bad_aliases]
    return _Reference(partners, tuple(territories), tuple(named), _digest(rows),
                      (*bad_named, *bad_territories, *unread_aliases), tuple(aliases))


T = TypeVar("T")


def _converted(table: str, layout: Layout, rows: Sequence[Mapping[str, str]],
               convert: Callable[[Mapping[str, str]], T]) -> tuple[list[T], list[Quarantined]]:
    """Every non-empty row through the store's converter; a bad row is quarantined by position."""
    return converted(table, [(_where(layout, n, row), row, _cell_namer(layout, n))
                             for n, row in enumerate(rows, start=1) if row], convert)


@dataclass(frozen=True)
class Snapshot:
    """One read of the Registrations tab (plus the reference tabs, possibly from an earlier
    read): immutable, so readers never see it change under them."""

    epoch: str
    read_at: float
    layouts: Mapping[str, Layout]
    rows: tuple[dict[str, str], ...]  # data rows; rows[i] is grid row i + 1
    registrations: tuple[Registration | None, ...]  # aligned with rows; None for a blank row
    digest: str
    reference: _Reference
    ids: Mapping[str, int] = field(default_factory=dict)  # registration id -> index (first)
    externals: Mapping[tuple[str, str], int] = field(default_factory=dict)  # (source, external_id) -> index
    unread: Mapping[int, Quarantined] = field(default_factory=dict)  # index -> a row that cannot be read

    @property
    def position(self) -> int:
        return len(self.rows)

    def changes_since(self, since: Cursor | None) -> Changes:
        if since is not None and since.epoch == self.epoch and since.position <= self.position:
            new = tuple(r for r in self.registrations[since.position:] if r is not None)
            unread = tuple(q for i, q in sorted(self.unread.items()) if i >= since.position)
            return Changes(Cursor(self.epoch, self.position), new, quarantined=unread)
        return self.everything(tuple(r for r in self.registrations if r is not None))

    def everything(self, registrations: tuple[Registration, ...], epoch: str = "") -> Changes:
        """A reset: `registrations`, the reference lists and every row that could not be read."""
        ref = self.reference
        unread = (*(q for _, q in sorted(self.unread.items())), *ref.quarantined)
        return Changes(Cursor(epoch or self.epoch, self.position), registrations, reset=True,
                       named_accounts=ref.named_accounts, territories=ref.territories, partners=ref.partners,
                       quarantined=unread, aliases=ref.aliases)


def _indexes(registrations: Sequence[Registration | None], rows: Sequence[Mapping[str, str]],
             unread: Mapping[int, Quarantined]) -> tuple[dict[str, int], dict[tuple[str, str], int]]:
    """Registration id -> index, and (source, external_id) -> index; a row that cannot be read still
    holds its ids (a redelivery of its submission must not be registered twice)."""
    ids: dict[str, int] = {}
    externals: dict[tuple[str, str], int] = {}
    for i, reg in enumerate(registrations):
        if reg is not None:
            rid, source, external = reg.registration_id, reg.source, reg.external_id
        elif i in unread:
            row = rows[i]
            rid, source, external = (row.get("registration_id", "").strip(), row.get("source", "").strip(),
                                     row.get("external_id", "").strip())
        else:
            continue
        if rid:
            ids.setdefault(rid, i)
        if external:
            externals.setdefault((source, external), i)
    return ids, externals





def build(old: Snapshot | None, titles: Mapping[str, str], values: Mapping[str, list[list[object]]],
          read_at: float, reading: Reading) -> Snapshot:
    """Turn a read (`values` by table, `titles` by table) into a snapshot; the epoch survives
    when only rows were appended since `old`. Raises StoreError when the layout is not ours."""
    layouts = dict(old.layouts) if old is not None else {}
    for table, grid in values.items():
        layouts[table] = read_layout(table, titles[table], grid[0] if grid else [])
    problems = [p for layout in layouts.values() for p in layout.problems]
    if problems:
        raise layout_error(problems)
    if all(t in values for t in REFERENCE):
        reference = _reference(layouts, values)
    elif old is not None:
        reference = old.reference
    else:  # cannot happen: the first read is a full one
        raise StoreError("the reference tabs were never read")
    layout = layouts["registrations"]
    rows = row_dicts(layout, reading.dated(layout, values["registrations"]))
    digest = _digest(rows)
    appended = (old is not None and reference.digest == old.reference.digest
                and layout.columns == old.layouts["registrations"].columns
                and len(rows) >= old.position and _digest(rows[:old.position]) == old.digest)
    start = old.position if appended and old is not None else 0
    read = [None if not row else _registration(layout, start + i + 1, row) for i, row in enumerate(rows[start:])]
    fresh = [r if isinstance(r, Registration) else None for r in read]
    unread = {start + i: q for i, q in enumerate(read) if isinstance(q, Quarantined)}
    if appended and old is not None:
        regs = (*old.registrations, *fresh)
        unread = {**old.unread, **unread}
        epoch = old.epoch
    else:
        regs = tuple(fresh)
        epoch = secrets.token_hex(8)
    known = {q.describe() for q in old.unread.values()} if old is not None else set()
    for q in unread.values():
        if q.describe() not in known:
            log.warning("sheets: %s; the row is quarantined until it is fixed", q.describe())
    ids, externals = _indexes(regs, rows, unread)
    return Snapshot(epoch, read_at, layouts, tuple(rows), regs, digest, reference, ids, externals, unread)
