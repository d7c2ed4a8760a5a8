"""`dealreg typeform-mapping` and `dealreg sign`: the form owner's two helpers.

`typeform-mapping` reads one webhook payload (as saved from the webhook's delivery log in
Typeform) or a form definition (`GET https://api.typeform.com/forms/{form_id}`) and prints
the `DEALREG_TYPEFORM_MAPPING` that makes dealreg read the form's questions. `sign` prints
the `Typeform-Signature` header for a body, so a payload of one's own can be sent to a
local server. Both work offline, on a file or standard input.
"""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from handlers.cli.common import UsageProblem, load_settings

if TYPE_CHECKING:
    from integrations.typeform.suggest import Question


def _read(path: str) -> bytes:
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise UsageProblem(f"{path}: cannot read ({exc.strerror or exc})") from None


@click.command("typeform-mapping")
@click.argument("source", metavar="RESPONSE_OR_FORM.json")
def typeform_mapping(source: str) -> None:
    """Print the DEALREG_TYPEFORM_MAPPING that makes dealreg read your form.

    RESPONSE_OR_FORM.json is one webhook payload (a delivery's request body, copied from the
    webhook's delivery log under Connect -> Webhooks in Typeform) or the form definition
    (GET https://api.typeform.com/forms/<form_id>); '-' reads standard input. Questions are
    placed on dealreg's fields by their titles and types; the questions it could not place and
    the fields nothing fills are listed. The last line is the setting, ready for .env.
    """
    from integrations.typeform import FORM_LINK
    from integrations.typeform.suggest import suggest

    raw = _read(source)
    try:
        document = json.loads(raw.decode("utf-8-sig"))
    except UnicodeDecodeError as exc:
        raise UsageProblem(f"{source}: not UTF-8 text (byte {exc.start})") from None
    except json.JSONDecodeError as exc:
        raise UsageProblem(f"{source}: not JSON ({exc.msg} at line {exc.lineno} column {exc.colno}); save the "
                           "request body of one webhook delivery, or the form definition") from None
    try:
        found = suggest(document)
    except ValueError as exc:
        raise UsageProblem(f"{source}: {exc}") from None

    name = f'"{found.form_title}" ({found.form_id})' if found.form_title else found.form_id or "the form"
    questions, hidden = len(found.placed) + len(found.unplaced), len(found.hidden)
    click.echo(f"Form {name}, read from {found.source}: {questions} question{'s' * (questions != 1)}, "
               f"{hidden} hidden field{'s' * (hidden != 1)}.\n")
    if found.placed:
        click.echo("dealreg reads:")
        width = max(len(p.field) for p in found.placed)
        for p in found.placed:
            how = {"default ref": "its ref is a default", "title": "by its title", "type": "by its type"}[p.how]
            click.echo(f"  {p.field.ljust(width)}  <- {_question(p.question)}  ({how})")
    if found.unplaced:
        click.echo("\nNot read (switched off below; map one by hand if a dealreg field fits it):")
        for question, why in found.unplaced:
            click.echo(f"  {_question(question)}: {why}")
    if found.hidden:
        click.echo("\nHidden fields: " + "; ".join(f"{n} -> {t}" if t else f"{n} not read" for n, t in found.hidden))
    if found.unfilled:
        click.echo(f"Fields no question fills: {', '.join(found.unfilled)}.")
    if not found.names_partner:
        link = FORM_LINK.format(form_id=found.form_id or "<form_id>", field="partner")
        what = "This response carries" if found.source == "a webhook response" else "The form has"
        click.echo(f"\n{what} no hidden field `partner`, so every registration would be rejected: add the hidden "
                   f"field `partner` to the form and give each partner its own link, e.g. {link}")
    click.echo("")
    if found.mapping:
        click.echo("Set this (in .env, or under provider.environment in serverless.yml):")
        click.echo("DEALREG_TYPEFORM_MAPPING=" + shlex.quote(json.dumps(found.mapping, ensure_ascii=False)))
    else:
        click.echo("The default mapping reads this form as it is: leave DEALREG_TYPEFORM_MAPPING unset.")


def _question(question: Question) -> str:
    if question.title:
        return f'"{question.title}" (ref {question.ref}, {question.type})'
    return f"ref {question.ref} ({question.type})"


@click.command("sign")
@click.argument("source", metavar="FILE.json")
@click.option("--secret", metavar="SECRET",
              help="The Typeform webhook secret (default: the first of DEALREG_TYPEFORM_SECRET).")
@click.option("--url", metavar="URL", help="Print a whole curl command that posts FILE.json there, signed.")
def sign(source: str, secret: str | None, url: str | None) -> None:
    """Print the Typeform-Signature header for FILE.json, as Typeform would sign it.

    The signature covers the file's exact bytes: send it with curl --data-binary @FILE.json
    (plain -d drops the newlines, and the signature no longer matches). '-' reads standard
    input. Example:

      curl -X POST http://127.0.0.1:8000/webhooks/typeform -H 'Content-Type: application/json'
      -H "$(dealreg sign payload.json)" --data-binary @payload.json
    """
    from integrations.typeform import SIGNATURE_HEADER, sign as signature

    if secret is None:
        configured = load_settings().typeform_secrets()
        if not configured:
            raise UsageProblem("no secret to sign with: set DEALREG_TYPEFORM_SECRET or pass --secret "
                               "(`dealreg serve --dev-secrets` prints the one it makes up)")
        secret = configured[0]
    elif not secret:
        raise UsageProblem("--secret is empty")
    if url is not None and source == "-":
        raise UsageProblem("--url needs a file: curl must read the same bytes again")
    raw = _read(source)
    header = f"{SIGNATURE_HEADER}: {signature(raw, secret)}"
    if url is None:
        click.echo(header)
        return
    click.echo(" ".join(shlex.quote(part) for part in [
        "curl", "-sS", "-X", "POST", url, "-H", "Content-Type: application/json", "-H", header,
        "--data-binary", f"@{source}"]))
