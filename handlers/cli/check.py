"""`dealreg check` and `dealreg rules check`: the batch suppression pass over a CSV, and the
rules file validated. Both read files and write nothing to a store."""

from __future__ import annotations

import gc
import io
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import click

from dealreg.engine import Engine, rejected
from dealreg.errors import DealregError, InputError
from dealreg.models import DECISION_FIELDS, Decision
from dealreg.records import IDENTIFYING, parse_datetime, parse_record
from handlers.cli.common import UsageProblem, counted


@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a batch run reads a registry and builds its index,
    then move what was built out of its sight (`gc.freeze`). The registry and its index are
    hundreds of thousands of small objects in no cycle: left running, the collector rescans them
    during the build (twice as slow) and again in every full collection while the rows are
    decided. A batch process owns its collector; a server keeps collecting."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


def _as_of(value: str | None) -> datetime:
    if not value:
        return datetime.now(UTC)
    try:
        return parse_datetime(value)
    except ValueError as exc:
        raise UsageProblem(f"--as-of: {exc}") from None


@click.command()
@click.argument("input_csv", metavar="INPUT.csv", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--registry", required=True, metavar="REGISTRY.csv",
              help="The registrations to check against: a CSV in the Registrations layout (the Sheet downloaded as CSV), "
                   "'sheets' for the live Google Sheet (DEALREG_SHEET_ID; its Named accounts, Territories and "
                   "Partners tabs too), or 'hubspot' for the HubSpot account (DEALREG_HUBSPOT_TOKEN; registration "
                   "deals, the direct team's open deals, the lists on companies).")
@click.option("--rules", "rules_path", type=click.Path(dir_okay=False, path_type=Path), metavar="RULES.yaml",
              help="The rules file (default: config/rules.example.yaml).")
@click.option("--as-of", "as_of", metavar="DATE", help="Decide as of this date or time (default: now), so runs are reproducible.")
@click.option("-o", "--output", default="-", show_default=True, metavar="OUTPUT.csv",
              help="Where to write the decisions; '-' for standard output.")
@click.option("--format", "fmt", type=click.Choice(["csv", "table"]), default="csv", show_default=True,
              help="csv: every input column then the decision fields; table: a summary for people.")
def check(input_csv: Path, registry: str, rules_path: Path | None, as_of: str | None, output: str, fmt: str) -> None:
    """Decide every row of INPUT.csv against the registry, writing nothing to the registry.

    The batch suppression pass over a Clay export: each row gets status, suppress, owner,
    attribution, the matched registration, the evidence, the rule and a reason. A row
    without a partner is checked on behalf of the direct team. A bad row is `rejected`
    with the reason and the batch goes on.
    """
    from config.rules import load_rules
    from integrations.csvfile import (
        CSVFileError,
        delimiter_of,
        input_field_columns,
        read_registry_rows,
        read_rows,
        separated_by,
    )

    moment = _as_of(as_of)
    try:
        rules = load_rules(rules_path)
        header, rows = read_rows(input_csv)
        columns = input_field_columns(header)
        if not (set(IDENTIFYING) & columns.keys()):
            # The same rule as the API: a record needs one key to match on, any of them.
            raise UsageProblem(f"{input_csv}: needs a column that identifies the company: a name, website, email, "
                               f"LinkedIn or DUNS column (e.g. company_name, website, email, linkedin_url, duns); "
                               f"found: {', '.join(header)} ({separated_by(delimiter_of(input_csv))})")
        if registry == "sheets":
            from handlers.cli.sheets import sheet_engine

            engine = sheet_engine(rules)
        elif registry == "hubspot":
            from handlers.cli.hubspot import hubspot_engine

            engine = hubspot_engine(rules)
        else:
            with paused_gc():  # 100,000 rows of small objects: see paused_gc
                registrations, unreadable = read_registry_rows(registry)
                engine = Engine(rules, registrations=registrations, quarantined=unreadable)
    except (CSVFileError, DealregError) as exc:
        raise UsageProblem(str(exc)) from None
    if engine.quarantined:
        # Decided around, never as "clear": a record that could be one of these rows' accounts
        # is `needs_review`, naming the row and the cell to fix.
        click.echo(f"{counted(len(engine.quarantined), 'registry row')} could not be read; records that could be "
                   f"their accounts are sent to review. Fix:", err=True)
        for row in engine.quarantined:
            click.echo(f"  {row.describe()}", err=True)

    decisions = _decide_rows(engine, rows, moment, input_csv)
    out_header, out_rows = _output(header, rows, decisions)
    text = io.StringIO()
    if fmt == "table":
        _table(text, rows, columns, decisions)
    else:
        from integrations.csvfile import write_rows

        write_rows(text, out_header, out_rows)
    if output == "-":
        click.echo(text.getvalue(), nl=False)
    else:
        try:
            Path(output).write_text(text.getvalue(), encoding="utf-8")
        except OSError as exc:
            raise UsageProblem(f"{output}: cannot write ({exc.strerror or exc})") from None
    counts: dict[str, int] = {}
    for d in decisions:
        counts[d.status.value] = counts.get(d.status.value, 0) + 1
    summary = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    unread = f" ({counted(len(engine.quarantined), 'row')} unreadable)" if engine.quarantined else ""
    files = [f"{input_csv.name} {separated_by(delimiter_of(input_csv))}"]
    if registry not in ("sheets", "hubspot"):
        files.append(f"{Path(registry).name} {separated_by(delimiter_of(registry))}")
    click.echo(f"{counted(len(decisions), 'row')} decided against {counted(len(engine), 'registration')}{unread} as of "
               f"{moment.date().isoformat()}: {summary or 'nothing to do'} ({'; '.join(files)})", err=True)


def _decide_rows(engine: Engine, rows: Sequence[dict[str, str]], moment: datetime, source: Path) -> list[Decision]:
    from tqdm import tqdm

    decisions: list[Decision] = []
    # The bar appears only when the run takes more than two seconds and stderr is a terminal.
    for row in tqdm(rows, desc="deciding", unit="row", file=sys.stderr, delay=2, disable=None, leave=False):
        try:
            record = parse_record(row, source="csv")
            decisions.append(engine.decide(record, moment))
        except InputError as exc:
            decisions.append(rejected([f"{field}: {message}" for field, message in exc.problems],
                                      party=row.get("partner", "")))
    return decisions


def _output(header: Sequence[str], rows: Sequence[dict[str, str]],
            decisions: Sequence[Decision]) -> tuple[list[str], list[list[object]]]:
    """Every input column, then the decision fields; an input column already named like one of
    them keeps its values, and the decision's column is called `dealreg_<field>`."""
    taken = {h.casefold() for h in header}
    names = [f"dealreg_{f}" if f in taken else f for f in DECISION_FIELDS]
    out_header = [*header, *names]
    out_rows: list[list[object]] = []
    for row, decision in zip(rows, decisions, strict=True):
        fields = decision.fields()
        out_rows.append([*(row.get(h, "") for h in header), *(fields[f] for f in DECISION_FIELDS)])
    return out_header, out_rows


def _table(out: io.StringIO, rows: Sequence[dict[str, str]], columns: dict[str, str], decisions: Sequence[Decision]) -> None:
    def company(row: dict[str, str]) -> str:
        """The first identifying value the row has (a row may carry only an email)."""
        return next((v for f in IDENTIFYING if (v := row.get(columns.get(f, ""), "").strip())), "")

    def party(row: dict[str, str]) -> str:
        return row.get(columns.get("partner", ""), "").strip() or "direct"

    table = [("company", "for", "status", "owner", "attribution", "rule", "match", "reason")]
    for row, d in zip(rows, decisions, strict=True):
        attribution = d.attribution_primary + (f" / {d.attribution_secondary}" if d.attribution_secondary else "")
        evidence = f"{d.match.value} {d.match_confidence}" if d.match.value != "none" else "none"
        table.append((company(row)[:28], party(row)[:20], d.status.value, d.owner[:20], attribution, d.rule,
                      evidence, d.reason))
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]) - 1)]
    for r in table:
        out.write("  ".join(c.ljust(w) for c, w in zip(r, widths)) + "  " + r[-1] + "\n")


@click.group()
def rules() -> None:
    """Work with rules files."""


@rules.command("check")
@click.argument("rules_path", metavar="RULES.yaml", type=click.Path(dir_okay=False, path_type=Path))
def rules_check(rules_path: Path) -> None:
    """Validate a rules file (and the CSV files it references) and summarise it."""
    from config.rules import load_rules

    try:
        ruleset = load_rules(rules_path)
    except DealregError as exc:
        raise UsageProblem(str(exc)) from None
    click.echo(f"{rules_path}: valid; protection window {ruleset.protection_days} days; "
               f"divisions: {ruleset.divisions}; "
               f"{len(ruleset.named_accounts)} named accounts; {len(ruleset.territories)} territories; "
               f"rules in order: {', '.join(r.kind for r in ruleset.rules)}; sha256 {ruleset.rules_hash[:12]}")

