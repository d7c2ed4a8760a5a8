"""`dealreg init-typeform` and `dealreg clay-config`: set the two senders up in minutes.
Registered on the `dealreg` group in handlers/cli/__init__.py."""

from __future__ import annotations

import json
from typing import Any

import click

from handlers.cli.common import UsageProblem, load_settings

# What dealreg answers, in SPEC's order: the paths to return in Clay (`decision.fields()`).
RETURNED = ("status", "suppress", "owner", "attribution_primary", "attribution_secondary", "matched_registration_id",
            "match", "match_confidence", "rule", "reason")
# Clay columns → the body's keys; the column names are Clay's usual ones (a find-people/companies table).
CLAY_BODY = (("company_name", "Company Name"), ("company_domain", "Website"), ("contact_email", "Work Email"),
             ("linkedin_url", "Company LinkedIn"), ("country", "Country"), ("employees", "Employee Count"))


@click.command("init-typeform")
@click.option("--token", envvar="DEALREG_TYPEFORM_TOKEN", metavar="TOKEN",
              help="A Typeform personal access token (forms and webhooks, read and write); or DEALREG_TYPEFORM_TOKEN.")
@click.option("--url", "base_url", required=True, metavar="URL",
              help="Where dealreg runs, e.g. https://abc123.execute-api.us-east-1.amazonaws.com; the webhook posts to "
                   "URL/webhooks/typeform.")
@click.option("--title", default="Partner deal registration", show_default=True, help="The form's title.")
@click.option("--form-id", default="", metavar="ID", help="Update this form rather than the one titled --title.")
@click.option("--partner", "partners", multiple=True, metavar="NAME",
              help="Print a link for this partner (repeat it); default: every partner of the store and the rules.")
@click.option("--api-url", envvar="DEALREG_TYPEFORM_API_URL", default="https://api.typeform.com", show_default=True,
              metavar="URL", help="Typeform's API (DEALREG_TYPEFORM_API_URL): a local fake in tests.")
def init_typeform(token: str | None, base_url: str, title: str, form_id: str, partners: tuple[str, ...],
                  api_url: str) -> None:
    """Create (or update) the registration form in Typeform, register its webhook, print the links.

    The form gets the questions dealreg reads by their refs (company_name, company_website,
    contact_email, contact_name, deal_value, currency, country) and the hidden field `partner`;
    its webhook (tag `dealreg`) posts to URL/webhooks/typeform signed with DEALREG_TYPEFORM_SECRET.
    Safe to run again: the form titled --title is updated (questions you added stay, and so do
    the answers of ours), never duplicated, and the webhook is replaced. One link per partner is
    printed: https://…typeform.com/to/<id>#partner=Northwind%20Partners.
    """
    from dealreg.errors import DealregError
    from integrations.typeform.api import TypeformAPI, TypeformAPIError, partner_link

    settings = load_settings()
    secrets = settings.typeform_secrets()
    if not secrets:
        raise UsageProblem("DEALREG_TYPEFORM_SECRET is not set: set it first (the webhook is signed with it, and "
                           "dealreg refuses every unsigned call)")
    if not base_url.startswith(("https://", "http://127.0.0.1", "http://localhost")):
        raise UsageProblem(f"--url {base_url}: Typeform delivers to an https:// address (dealreg's public URL)")
    names = list(partners) or _partners(settings)
    try:
        api = TypeformAPI(token or "", base_url=api_url)
        form, created = api.ensure_form(title, form_id)
        hook_url = base_url.rstrip("/") + "/webhooks/typeform"
        api.ensure_webhook(form["id"], hook_url, secrets[0])
    except (TypeformAPIError, DealregError) as exc:
        raise UsageProblem(str(exc)) from None
    click.echo(f"{'Created' if created else 'Updated'} the form {form['title']!r} ({form['id']}) with the refs "
               f"dealreg reads and the hidden field `partner`.")
    click.echo(f"Webhook `dealreg` -> {hook_url}, signed with DEALREG_TYPEFORM_SECRET, SSL verified.")
    if not names:
        click.echo("No partners on file: add them to the Partners list, or pass --partner NAME.")
        return
    click.echo("\nOne link per partner (the link carries the partner: the form never asks for it):")
    width = max(len(n) for n in names)
    for name in names:
        click.echo(f"  {name.ljust(width)}  {partner_link(form, name)}")


def _partners(settings: Any) -> list[str]:
    """The Partners list of the store, and the partners of the rules file."""
    from config.rules import load_rules
    from dealreg.errors import DealregError
    from handlers.cli.common import open_store

    names: list[str] = []
    try:
        store = open_store(settings)
        try:
            names += store.changes(None).partners
        finally:
            store.close()
        names += load_rules(settings.rules).partners
    except DealregError as exc:
        raise UsageProblem(f"cannot read the partners ({exc}); pass --partner NAME for each") from None
    return list(dict.fromkeys(n for n in names if n.strip()))


@click.command("clay-config")
@click.option("--url", "base_url", default="https://<your dealreg URL>", show_default=True, metavar="URL",
              help="Where dealreg runs (the API Gateway URL).")
def clay_config(base_url: str) -> None:
    """Print what to paste into Clay's HTTP API column, for check and for register.

    Method, endpoint, headers and body, with the column tokens written as Clay's doc says: the key
    in quotes, the token inserted with / and never in quotes (Clay writes each value as JSON,
    https://docs.clay.com/en/articles/9672489-http-api-with-clay); then the field paths to return,
    to map into columns.
    """
    settings = load_settings()
    keys = settings.api_keys()
    key = keys[0] if keys else "<the value of DEALREG_API_KEY>"
    body = "{" + ", ".join(f'"{name}": /{column}' for name, column in CLAY_BODY) + "}"
    for mode, what in (("check", "suppression: decide, record only the decision event; run it before outreach"),
                       ("register", "register the row as a direct claim")):
        click.echo(f"== {mode} ({what}) ==")
        click.echo("Method:    POST")
        click.echo(f"Endpoint:  {base_url.rstrip('/')}/webhooks/clay?mode={mode}")
        click.echo("Headers:   " + json.dumps({"Authorization": f"Bearer {key}"}))
        click.echo(f"Body:      {body}")
        click.echo("           (type each key in quotes, then insert its column with /; no quotes around the "
                   "column: Clay writes the value as JSON itself)")
        click.echo("Remove null & undefined values: on")
        click.echo(f"Field paths to return: {','.join(RETURNED)}")
        click.echo(f"Rate limit: {'10 per 1000 ms' if mode == 'check' else '20 per 60000 ms (Google Sheets store)'}"
                   f"; timeout 30000 ms\n")
    click.echo("Then run one row, and Add as columns: suppress and owner gate the sequence; status, rule and reason "
               "say why.")
