"""`dealreg review`, `dealreg extend` and `dealreg sweep`: running the program day to day, on the
store the settings name (docs/operations.md). Registered on the `dealreg` group in
handlers/cli/__init__.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime

import click

from dealreg.errors import DealregError
from handlers.cli.common import UsageProblem, closing_store, load_settings, open_store
from handlers.notifications import Notifier
from handlers.service import Service


def _as_of(value: str | None) -> datetime | None:
    from dealreg.records import parse_datetime

    if not value:
        return None
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise UsageProblem(f"--as-of: {exc}") from None


@contextmanager
def _running(as_of: datetime | None = None) -> Iterator[tuple[Service, Notifier, int]]:
    """The service on the store the settings name, its notifications set up; notifications are
    delivered before the command ends. Yields the service, the notifier and DEALREG_REMIND_DAYS."""
    from config.rules import load_rules
    from handlers.notifications import channels_from
    from handlers.service import utc_now

    settings = load_settings()
    try:
        rules = load_rules(settings.rules)
        channels = channels_from(settings)
    except (DealregError, ValueError) as exc:
        raise UsageProblem(str(exc)) from None
    store = open_store(settings)
    clock = (lambda: as_of) if as_of is not None else utc_now
    service = Service(store, rules, clock=clock)
    notifier = Notifier(store, channels, clock=clock)
    service.notify = notifier.submit
    with closing_store(store):  # a Refusal is a DealregError: exit code 2 with its reason
        yield service, notifier, settings.remind_days
        notifier.flush()


@click.command("review")
@click.argument("registration_id", required=False)
@click.argument("resolution", required=False, metavar="[confirm|not_same|give:PARTY]")
@click.option("--note", default="", help="Why: kept on the row (review_note) and in the event.")
@click.option("--by", "by", default="", help="Who resolves it (default: $USER).")
@click.option("--version", "version", default="", help="The version it was listed with; refused if the row changed.")
def review(registration_id: str | None, resolution: str | None, note: str, by: str, version: str) -> None:
    """Lists the registrations waiting for a person (needs_review and conflict), oldest first, with
    the evidence; with REGISTRATION_ID and a RESOLUTION, resolves one:

    \b
      confirm        the match is right (the settled owner stands)
      not_same       another account: the registration owns its own
      give:PARTY     the account goes to PARTY (a partner, or direct)

    A resolution is stored as a `review` event and rewrites the owner and attribution of every
    registration it touches. Resolving twice, or a row changed since it was listed (--version), is
    refused with the reason (exit code 2).
    """
    import getpass

    from dealreg.reviews import parse_resolution
    from handlers.reviews import open_reviews, resolve

    if registration_id and not resolution:
        raise UsageProblem("give the resolution after the registration id: confirm, not_same or give:PARTY")
    with _running() as (service, _notifier, _days):
        if not registration_id:
            now = service.clock()
            waiting = open_reviews(service)
            for item in waiting:
                f = item.fields(now)
                matched = f["matched"]
                against = (f"{matched['registration_id']} {matched['partner']} {matched['company_name']} "
                           f"({matched['company_domain']})" if isinstance(matched, dict) else
                           f["matched_registration_id"] or "nothing on file")
                click.echo(f"{f['registration_id']}  {f['status']:<12} {f['waiting_days']:>3} d  {f['partner']}: "
                           f"{f['company_name']} ({f['company_domain']})  vs {against}  [version {f['version']}]")
                click.echo(f"    {f['reason']}")
            click.echo(f"{len(waiting)} waiting for review", err=True)
            return
        try:
            parsed = parse_resolution(resolution or "", note, by or getpass.getuser())
        except ValueError as exc:
            raise UsageProblem(str(exc)) from None
        event = resolve(service, registration_id, parsed, version=version)
        d = event.decision
        click.echo(f"{d.registration_id}: {d.status.value}, owner {d.owner or 'nobody'}. {d.reason}")


@click.command("extend")
@click.argument("registration_id")
@click.option("--deal-value", "deal_value", default="", metavar="AMOUNT",
              help="The deal's value, if the extension rule needs one (stored on the registration).")
@click.option("--by", "by", default="", help="Who asks (default: $USER).")
@click.option("--as-of", "as_of", metavar="DATE", help="Decide as of this time (default: now).")
def extend(registration_id: str, deal_value: str, by: str, as_of: str | None) -> None:
    """A partner asks for more time on REGISTRATION_ID: the rules file's `extension` rule decides
    (how many times, how many days, whether a deal value is needed). The answer is stored as an
    `extend` event, the new protection end on the registration, and the partner is told by e-mail.
    Exit code 0 either way; the answer says granted or refused, and why."""
    import getpass

    from dealreg.values import parse_amount
    from handlers.extensions import extend as extend_one

    value = None
    if deal_value.strip():
        try:
            value = parse_amount(deal_value).value
        except ValueError as exc:
            raise UsageProblem(f"--deal-value: {exc}") from None
    with _running(_as_of(as_of)) as (service, _notifier, _days):
        answer, _ = extend_one(service, registration_id, deal_value=value, by=by or getpass.getuser())
    click.echo(("granted: " if answer.granted else "refused: ") + answer.reason)


@click.command("sweep")
@click.option("--as-of", "as_of", metavar="DATE", help="Sweep as of this time (default: now).")
def sweep(as_of: str | None) -> None:
    """What a schedule runs (hourly is plenty; docs/operations.md): applies the resolutions typed in
    the Sheet's `review` cells (or HubSpot's property), marks claims whose protection window ended as
    expired (state and event), reminds DEALREG_REMIND_DAYS before a claim expires, and sends every
    recent notification that failed or never went out. Running it twice changes nothing the second
    time. Exit code 2 when something needs a person (a resolution that cannot apply, a Slack webhook
    that was removed), after doing the rest."""
    from handlers.sweep import sweep as sweep_once

    with _running(_as_of(as_of)) as (service, notifier, days):
        done = sweep_once(service, notifier, remind_days=days)
    for line in done.lines():
        click.echo(line)
    if done.problems or done.delivered.refused:
        raise UsageProblem("the sweep found what needs a person (above)")
