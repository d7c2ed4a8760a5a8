"""`dealreg init-sheet`, and the Sheets side of `dealreg check --registry sheets`.

The spreadsheet is DEALREG_SHEET_ID (or `--sheet`), signed in with DEALREG_GOOGLE_CREDENTIALS."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from handlers.cli.common import UsageProblem, closing_store, load_settings, open_sheets_store

if TYPE_CHECKING:
    from dealreg.engine import Engine
    from dealreg.rules import RuleSet


@click.command("init-sheet")
@click.option("--sheet", metavar="ID", help="The spreadsheet id or URL (default: DEALREG_SHEET_ID).")
def init_sheet(sheet: str | None) -> None:
    """Set up the Google Sheet: create the missing tabs and header rows, check the rest.

    Tabs: Registrations, Decisions, Partners, Territories, Named accounts. A tab that
    exists keeps its data; its header row may list the columns in any order and add
    columns of its own. A misspelt or missing column is named with the fix (exit code 2).
    Safe to run again at any time.
    """
    store = open_sheets_store(load_settings(sheet))
    with closing_store(store):
        report = store.init_sheet()
    for title in report.created:
        click.echo(f"{title}: created, with its header row")
    for title in report.headers_written:
        click.echo(f"{title}: header row written")
    for added in report.columns_added:
        click.echo(f"{added}: column added")
    for table, layout in report.layouts.items():
        if layout.title in report.created or layout.title in report.headers_written or layout.problems:
            continue
        extra = f"; other columns kept: {', '.join(layout.extra)}" if layout.extra else ""
        click.echo(f"{layout.title}: ok ({len(layout.columns)} dealreg columns{extra})")
    if report.problems:
        raise UsageProblem("the spreadsheet's layout needs fixing:\n  " + "\n  ".join(report.problems))
    click.echo(f"The spreadsheet {store.sheet_id} is ready for DEALREG_STORE=sheets.", err=True)


def sheet_engine(rules: RuleSet) -> Engine:
    """An engine over the live Sheet for `dealreg check --registry sheets`: Registrations,
    Partners, Territories and Named accounts, read once (one values:batchGet)."""
    from dealreg.engine import Engine

    store = open_sheets_store(load_settings())
    try:
        changes = store.changes(None)
    finally:
        store.close()
    return Engine(rules, changes.registrations, changes.named_accounts, changes.territories, changes.partners,
                  changes.quarantined, changes.aliases)
