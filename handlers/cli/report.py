"""`dealreg report` and `dealreg replay`: the channel report as one offline HTML page, and what
another rules file would have decided for the stored history. Both read the store the settings
name (DEALREG_STORE) and write nothing to it. Registered on the `dealreg` group in handlers/cli/__init__.py.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from dealreg.errors import DealregError
from handlers.cli.common import UsageProblem, load_settings, open_store


def _moment(option: str, value: str | None) -> datetime | None:
    from dealreg.records import parse_datetime

    if not value:
        return None
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise UsageProblem(f"{option}: {exc}") from None


def _rules(option: str, path: Path | None, default: Path) -> Any:
    from config.rules import load_rules

    try:
        return load_rules(path or default)
    except DealregError as exc:
        raise UsageProblem(f"{option}: {exc}") from None


def _write(output: str, text: str) -> None:
    if output == "-":
        click.echo(text, nl=False)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise UsageProblem(f"{output}: cannot write ({exc.strerror or exc})") from None


RULES_HELP = "The rules in use (default: DEALREG_RULES, else the example rules)."


@click.command("report")
@click.option("-o", "--output", default="report.html", show_default=True, metavar="FILE.html",
              help="Where to write the page; '-' for standard output.")
@click.option("--as-of", "as_of", metavar="DATE", help="The report's time (default: now).")
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False, path_type=Path), metavar="RULES.yaml",
              help=RULES_HELP)
@click.option("--replay", "replay_path", type=click.Path(dir_okay=False, path_type=Path), metavar="NEW.yaml",
              help="Add the replay section: what these rules would have changed (see dealreg replay).")
@click.option("--since", metavar="DATE", help="With --replay: re-decide only what arrived from DATE on.")
def report(output: str, as_of: str | None, rules_path: Path | None, replay_path: Path | None,
           since: str | None) -> None:
    """Write the channel report: one HTML file that opens offline, with charts and their tables.

    Registrations per partner over time by status, the conflict rate and the rules that decided
    conflicts, pipeline by attribution, time to first registration after joining (the Partners
    list's joined_at), claims active / expiring in 14 days / expired, win rate, the review queue's
    age and what the matcher sent to review. Every chart has its table; the page shows the as-of
    time and the rules hash. Reads the store DEALREG_STORE names; writes nothing to it.
    """
    from handlers.report_page import report_page

    if since and not replay_path:
        raise UsageProblem("--since goes with --replay NEW.yaml")
    settings = load_settings()
    moment = _moment("--as-of", as_of) or datetime.now(UTC)
    rules = _rules("--rules", rules_path, settings.rules)
    new_rules = _rules("--replay", replay_path, replay_path) if replay_path else None
    store = open_store(settings)
    try:
        page = report_page(store, rules, as_of=moment, new_rules=new_rules, since=_moment("--since", since))
    except DealregError as exc:
        raise UsageProblem(str(exc)) from None
    finally:
        store.close()
    _write(output, page)
    if output != "-":
        click.echo(f"wrote {output} ({len(page.encode()) // 1024:,} KB): the {settings.store} store as of "
                   f"{moment.strftime('%Y-%m-%d %H:%M')} UTC, rules {rules.rules_hash[:12]}", err=True)


@click.command("replay")
@click.option("--rules", "new_path", required=True, type=click.Path(dir_okay=False, path_type=Path),
              metavar="NEW.yaml", help="The rules to try.")
@click.option("--since", metavar="DATE", help="Re-decide only what arrived from DATE on (earlier rows stay as on file).")
@click.option("--current", "current_path", type=click.Path(dir_okay=False, path_type=Path), metavar="RULES.yaml",
              help=RULES_HELP)
@click.option("--format", "fmt", type=click.Choice(["table", "csv"]), default="table", show_default=True,
              help="table: for people; csv: one row per registration that would change.")
@click.option("-o", "--output", default="-", show_default=True, metavar="FILE", help="'-' for standard output.")
def replay(new_path: Path, since: str | None, current_path: Path | None, fmt: str, output: str) -> None:
    """What NEW.yaml would have decided for the stored history; writes nothing.

    Every registration is re-decided in the order it arrived, at the time it arrived, with the
    rules in use and with NEW.yaml; the registrations whose status, owner or attribution would
    differ are listed (old -> new), then the totals: conflicts, and which parties gain or lose.
    Run it before raising the deal-size threshold or adding a territory.
    """
    from dealreg.replay import replay as run
    from handlers.history import load_history

    settings = load_settings()
    rules = _rules("--current", current_path, settings.rules)
    new_rules = _rules("--rules", new_path, new_path)
    store = open_store(settings)
    try:
        result = run(load_history(store), rules, new_rules, since=_moment("--since", since))
    except DealregError as exc:
        raise UsageProblem(str(exc)) from None
    finally:
        store.close()
    _write(output, _csv(result) if fmt == "csv" else _table(result))
    before, after = result.conflicts
    click.echo(f"{result.replayed:,} registrations re-decided with {new_path.name} ({new_rules.rules_hash[:12]}) "
               f"against the rules in use ({rules.rules_hash[:12]}): {len(result.changes):,} would change; "
               f"conflicts {before:,} -> {after:,}. Nothing was written.", err=True)
    if result.drift:
        click.echo(f"{len(result.drift):,} rows record another outcome than the rules in use give today (a claim "
                   f"closed since, other rules then, or a hand edit); they are compared as the rules in use decide "
                   f"them: {', '.join(result.drift[:20])}{' …' if len(result.drift) > 20 else ''}", err=True)


CSV_COLUMNS = ("registration_id", "arrived_at", "party", "company", "status", "new_status", "owner", "new_owner",
               "attribution_primary", "new_attribution_primary", "attribution_secondary",
               "new_attribution_secondary", "new_rule", "new_reason")


def _csv(result: Any) -> str:
    from integrations.csvfile import write_rows

    out = io.StringIO()
    write_rows(out, CSV_COLUMNS, ([c.registration_id, c.arrived_at, c.party, c.company, c.old.status, c.new.status,
                                   c.old.owner, c.new.owner, c.old.attribution_primary, c.new.attribution_primary,
                                   c.old.attribution_secondary, c.new.attribution_secondary, c.new.rule, c.new.reason]
                                  for c in result.changes))
    return out.getvalue()


def _table(result: Any) -> str:
    lines = []
    if result.changes:
        rows = [("registration", "arrived", "party", "company", "status", "owner", "attribution", "rule (new)")]
        for c in result.changes:
            rows.append((c.registration_id, c.arrived_at.date().isoformat(), c.party[:22], c.company[:24],
                         f"{c.old.status} -> {c.new.status}", f"{c.old.owner} -> {c.new.owner}",
                         f"{c.old.attribution} -> {c.new.attribution}", c.new.rule))
        widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
        lines += ["  ".join(v.ljust(w) for v, w in zip(r, widths)).rstrip() for r in rows]
    else:
        lines.append("No registration would change.")
    lines.append("")
    lines.append("status         now  new")
    for status, (now, new) in result.statuses.items():
        lines.append(f"{status:<13} {now:>4} {new:>4}")
    if result.parties:
        lines.append("")
        lines.append("owner changes (registrations): " + "; ".join(
            f"{party} +{gained} -{lost}" for party, (gained, lost) in result.parties.items()))
    return "\n".join(lines) + "\n"
