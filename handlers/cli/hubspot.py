"""`dealreg init-hubspot`, and the HubSpot side of `dealreg check --registry hubspot`.

The account is the one DEALREG_HUBSPOT_TOKEN opens (a private app's or a Service Key's token);
registrations go into DEALREG_HUBSPOT_PIPELINE."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from dealreg.errors import DealregError
from handlers.cli.common import UsageProblem, closing_store, load_settings

if TYPE_CHECKING:
    from config.settings import Settings
    from dealreg.engine import Engine
    from dealreg.rules import RuleSet
    from integrations.hubspot import HubSpotStore


def _open(settings: Settings) -> HubSpotStore:
    """The HubSpot store, whatever DEALREG_STORE says; a setting it cannot use is a UsageProblem."""
    from handlers.stores import open_hubspot_store

    try:
        return open_hubspot_store(settings)
    except DealregError as exc:
        raise UsageProblem(str(exc)) from None


@click.command("init-hubspot")
@click.option("--pipeline", metavar="LABEL",
              help="Also make sure the deal pipeline LABEL exists for registrations, creating it with the stages "
                   "Registered, Closed won and Closed lost (HubSpot's free CRM has only its one pipeline).")
def init_hubspot(pipeline: str | None) -> None:
    """Set up HubSpot for dealreg: the `dealreg` property group and dealreg's deal and company
    properties, created with the right types; the ones that exist are checked.

    A property of the wrong type, or one that should hold unique values and does not, is named
    with the fix (exit code 2). A scope the token lacks is named with where to add it. Safe to
    run again at any time. Needs DEALREG_HUBSPOT_TOKEN (docs/hubspot.md).
    """
    store = _open(load_settings())
    with closing_store(store):
        report = store.init(pipeline or "")
        if not report.problems and not pipeline:
            store.pipelines()  # the configured pipelines exist: a mistyped one is named now, not at the first webhook
    for object_type in report.created_groups:
        click.echo(f"{object_type}: property group dealreg created")
    created = [name for name in report.created]
    if created:
        click.echo(f"created {len(created)} properties: {', '.join(created)}")
    if report.updated:
        click.echo(f"added the options dealreg needs to: {', '.join(report.updated)}")
    if report.ok:
        click.echo(f"{report.ok} properties already there and right")
    if report.problems:
        raise UsageProblem("dealreg's HubSpot properties need fixing:\n  " + "\n  ".join(report.problems))
    if report.pipeline is not None:
        p = report.pipeline
        done = "created" if report.pipeline_created else "found"
        click.echo(f"deal pipeline {p.get('label')!r} {done} (id {p.get('id')}): set DEALREG_HUBSPOT_PIPELINE="
                   f"{p.get('id')}")
    click.echo("HubSpot is ready for DEALREG_STORE=hubspot.", err=True)


def hubspot_engine(rules: RuleSet) -> Engine:
    """An engine over the live HubSpot account for `dealreg check --registry hubspot`: the
    registration deals, the direct team's open deals and the reference lists on companies, read
    once (pages of 100 of deals and companies, and the pipelines)."""
    from dealreg.engine import Engine

    store = _open(load_settings())
    try:
        changes = store.changes(None)
    finally:
        store.close()
    return Engine(rules, changes.registrations, changes.named_accounts, changes.territories, changes.partners,
                  changes.quarantined, changes.aliases)
