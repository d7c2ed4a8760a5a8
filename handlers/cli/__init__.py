"""The `dealreg` command line: a way in, like the webhooks. Each module holds one group of
commands; they parse files and options, call the core or the store, and print. Exit code 2
for anything the user must fix (`handlers.cli.common.UsageProblem`)."""

from __future__ import annotations

import click

from handlers.cli.check import check, rules
from handlers.cli.hubspot import init_hubspot
from handlers.cli.operations import extend, review, sweep
from handlers.cli.report import replay, report
from handlers.cli.serve import serve
from handlers.cli.setup import clay_config, init_typeform
from handlers.cli.sheets import init_sheet
from handlers.cli.tables import export, import_
from handlers.cli.typeform import sign, typeform_mapping


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="dealreg")
def main() -> None:
    """dealreg: who owns this account, is there a channel conflict, how is it attributed."""


for command in (check, rules, serve, import_, export, init_sheet, init_hubspot, typeform_mapping, sign, init_typeform,
                clay_config, report, replay, review, extend, sweep):
    main.add_command(command)
