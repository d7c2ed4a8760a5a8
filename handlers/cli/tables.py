"""`dealreg import` and `dealreg export`: whole tabs of the store DEALREG_STORE names (the SQLite
file or the Google Sheet) in and out as CSV, in the Sheet's layout."""

from __future__ import annotations

import io
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import click

from dealreg.errors import DealregError
from dealreg.normalise import undefang
from handlers.cli.common import UsageProblem, counted, load_settings, open_store
from integrations.store.rows import COLUMNS, TABLES


def _tables(store: Any) -> Any:
    """The store, when it can read and write whole tabs; else a UsageProblem saying where its data lives."""
    if not (hasattr(store, "read_rows") and hasattr(store, "write_rows")):
        raise UsageProblem(f"the {store.backend} store has no import/export; its data lives in the "
                           f"{store.backend} itself (use DEALREG_STORE=sqlite for CSV import/export)")
    return store


def import_file(store: Any, kind: str, path: Path) -> int:
    """Read a CSV of `kind` in the Sheet layout and write it into the store."""
    from integrations import csvfile
    from integrations.store.rows import (
        alias_to_row,
        named_account_to_row,
        registration_to_row,
        territory_to_row,
    )

    if kind == "registrations":
        rows: Sequence[Mapping[str, str]] = [registration_to_row(r) for r in csvfile.read_registry(path)]
    elif kind == "partners":
        rows = csvfile.read_partner_rows(path)  # the names, and each partner's joined_at
    elif kind == "territories":
        rows = [territory_to_row(t) for t in csvfile.read_territories(path)]
    elif kind == "named-accounts":
        rows = [named_account_to_row(a) for a in csvfile.read_named_accounts(path)]
    elif kind == "aliases":  # the same CSV as the rules file's `aliases_file:`
        rows = [alias_to_row(a) for a in csvfile.read_aliases(path)]
    else:
        header, raw = csvfile.read_rows(path)
        missing = [c for c in ("event_id", "status") if c not in header]
        if missing:
            raise UsageProblem(f"{path}: missing column(s) {', '.join(missing)} (export decisions to see the layout)")
        rows = raw
    # export's quotes come off, so an exported file imports back unchanged
    return int(store.write_rows(kind, [{k: undefang(v) for k, v in row.items()} for row in rows]))


def export_rows(store: Any, kind: str) -> Iterator[list[str]]:
    columns = COLUMNS[kind]
    for row in store.read_rows(kind):
        yield [row.get(c, "") for c in columns]


@click.command("import")
@click.argument("kind", type=click.Choice(TABLES))
@click.argument("csv_file", metavar="FILE.csv", type=click.Path(dir_okay=False, path_type=Path))
def import_(kind: str, csv_file: Path) -> None:
    """Load FILE.csv (the Sheet layout of KIND) into the store.

    registrations and decisions are added (a row with an existing id replaces it);
    partners, territories, named-accounts and aliases replace the whole list. The file is
    checked whole first: one bad row and nothing is written.
    """
    from integrations.csvfile import CSVFileError

    settings = load_settings()
    store = _tables(open_store(settings))
    try:
        count = import_file(store, kind, csv_file)
    except (CSVFileError, DealregError) as exc:
        raise UsageProblem(str(exc)) from None
    finally:
        store.close()
    click.echo(f"imported {counted(count, kind)} from {csv_file} into the {settings.store} store", err=True)
    if kind == "aliases" and store.backend == "hubspot" and (notes := _noted(csv_file)):
        # HubSpot keeps an account's other names on its company, one a line, with no room for a note.
        click.echo(f"HubSpot keeps the names, not the notes: the note of {counted(notes, 'row')} was not "
                   f"written (keep them in your CSV)", err=True)


def _noted(path: Path) -> int:
    """The rows of an alias CSV (already read once) that carry a note."""
    from integrations import csvfile

    return sum(1 for alias in csvfile.read_aliases(path) if alias.note)


@click.command("export")
@click.argument("kind", type=click.Choice(TABLES))
@click.option("-o", "--output", default="-", show_default=True, metavar="FILE.csv",
              help="Where to write the CSV; '-' for standard output.")
def export(kind: str, output: str) -> None:
    """Write KIND from the store as CSV, with the columns of the Sheet's tab, in its order.

    Cells a spreadsheet would run as a formula (starting with = + - @, a tab or a CR)
    are written with a leading quote; `dealreg import` removes it again.
    """
    from integrations.csvfile import write_rows

    settings = load_settings()
    store = _tables(open_store(settings))
    text = io.StringIO()
    try:
        count = write_rows(text, COLUMNS[kind], export_rows(store, kind))
    except DealregError as exc:
        raise UsageProblem(str(exc)) from None
    finally:
        store.close()
    if output == "-":
        click.echo(text.getvalue(), nl=False)
    else:
        try:
            Path(output).write_text(text.getvalue(), encoding="utf-8", newline="")
        except OSError as exc:
            raise UsageProblem(f"{output}: cannot write ({exc.strerror or exc})") from None
    click.echo(f"exported {counted(count, kind)} from the {settings.store} store", err=True)
