"""The spreadsheet's layout: which tab holds which table, and which column is where (found by
header name, so a partner manager may reorder columns and add their own)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from gspread.utils import rowcol_to_a1

from dealreg.errors import StoreError
from dealreg.records import canonical_key
from dealreg.normalise import undefang
from integrations.store.rows import COLUMNS, OPTIONAL_COLUMNS

TAB_TITLES: dict[str, str] = {
    "registrations": "Registrations",
    "decisions": "Decisions",
    "partners": "Partners",
    "territories": "Territories",
    "named-accounts": "Named accounts",
}
"""SPEC's tab for each of `integrations.store.rows.TABLES`: every one must exist."""
OPERATIONS_TABS: dict[str, str] = {"log": "Log", "aliases": "Aliases"}
"""Tabs a Sheet made before them lacks: the operations' log of notification deliveries, and the
alias table the user owns (other names of accounts, read with the reference tabs when the tab is
there). A Sheet without them still serves registrations, and `dealreg init-sheet` adds them."""
ALL_TABS: dict[str, str] = {**TAB_TITLES, **OPERATIONS_TABS}
REFERENCE = ("partners", "territories", "named-accounts")
INIT_HELP = "run `dealreg init-sheet` to create the tabs and check the headers"


@dataclass(frozen=True, slots=True)
class Layout:
    """Where dealreg's columns are in one tab, from its header row."""

    table: str
    title: str
    columns: Mapping[str, int]  # our column -> 0-based position
    extra: tuple[str, ...] = ()  # header cells that are not ours (kept, never written)
    problems: tuple[str, ...] = ()

    @property
    def width(self) -> int:
        return max(self.columns.values(), default=-1) + 1


def letter(index: int) -> str:
    return rowcol_to_a1(1, index + 1)[:-1]


def read_layout(table: str, title: str, header: Sequence[object]) -> Layout:
    """Map the header row to our columns (`Company Name` = `company_name`) and name every
    problem with its fix: a misspelt column (difflib), a missing one, a repeated one."""
    wanted = COLUMNS[table]
    cells = [_header_text(h).strip() for h in header]
    if not any(cells):
        return Layout(table, title, {}, (), (f"{title}: the header row (row 1) is empty; {INIT_HELP}",))
    columns: dict[str, int] = {}
    extra: list[tuple[int, str]] = []
    problems: list[str] = []
    for i, cell in enumerate(cells):
        key = canonical_key(cell)
        if not cell:
            continue
        if key in wanted:
            if key in columns:
                problems.append(f"{title}: column {key!r} appears twice ({letter(columns[key])}1 and "
                                f"{letter(i)}1); delete or rename one")
            else:
                columns[key] = i
        else:
            extra.append((i, cell))
    optional = OPTIONAL_COLUMNS.get(table, ())
    missing = [c for c in wanted if c not in columns and c not in optional]  # a tab made before `optional` reads
    for i, cell in extra:
        guess = difflib.get_close_matches(canonical_key(cell), missing, n=1, cutoff=0.75)
        if guess:
            missing.remove(guess[0])
            problems.append(f"{title}: column {cell!r} ({letter(i)}1) is not a dealreg column — did you mean "
                            f"{guess[0]!r}? Rename the header cell, or add the missing column {guess[0]!r}")
    for name in missing:
        problems.append(f"{title}: missing column {name!r}; add a header cell {name!r} (any position; "
                        f"extra columns are fine)")
    return Layout(table, title, columns, tuple(cell for _, cell in extra), tuple(problems))


def layout_error(problems: Iterable[str]) -> StoreError:
    return StoreError("The spreadsheet's layout is not dealreg's: " + "; ".join(problems) + f". Or {INIT_HELP}.")


def _header_text(value: object) -> str:
    """A header cell as read (a string, or a number someone typed as a header) as text."""
    return undefang("" if value is None else str(value))
