"""`dealreg serve`: the webhooks on a production WSGI server, with sample data and ready-to-paste
curl commands for a first try (`--demo`, `--dev-secrets`)."""

from __future__ import annotations

import itertools
import json
import logging
import shlex
import signal
import sys
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from dealreg.errors import DealregError
from handlers.cli.common import UsageProblem, counted, load_settings, open_store
from handlers.cli.tables import import_file

EXAMPLES = Path("examples")
DEMO_DB = Path("dealreg-demo.db")  # `serve --demo` rebuilds it at every start; never DEALREG_DB
SAMPLE_FILES = {  # what `dealreg serve` loads into an empty SQLite store, in this order
    "partners": "partners.csv",
    "territories": "territories.csv",
    "named-accounts": "named_accounts.csv",
    "registrations": "registrations.csv",
}


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on (loopback by default).")
@click.option("--port", default=8000, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--threads", default=8, show_default=True, type=click.IntRange(1, 64), help="Worker threads.")
@click.option("--examples", "examples", default=str(EXAMPLES), show_default=True, metavar="DIR",
              help="Sample data loaded into the SQLite store when it is empty; '' to start empty.")
@click.option("--dev-secrets", is_flag=True,
              help="For a local try-out: when DEALREG_TYPEFORM_SECRET or DEALREG_API_KEY is unset, make up one "
                   "for this run and print it.")
@click.option("--demo", is_flag=True,
              help=f"A try-out that answers the same way every time: the sample data of --examples in a fresh "
                   f"SQLite file ({DEMO_DB}, rebuilt at every start; DEALREG_STORE and DEALREG_DB are not used), "
                   f"with --dev-secrets.")
def serve(host: str, port: int, threads: int, examples: str, dev_secrets: bool, demo: bool) -> None:
    """Run the webhooks (Typeform, Clay, the JSON API, /healthz) on a production WSGI server.

    Uses the store named by DEALREG_STORE (default: the SQLite file DEALREG_DB). A fresh
    SQLite store is filled with the sample data from --examples, and ready-to-paste curl
    commands are printed: a signed Typeform registration and a Clay check.
    """
    import waitress

    from handlers.app import create_app
    from integrations.sqlite import SQLiteStore

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    settings = load_settings()
    new_id = None
    if demo:
        settings, new_id = demo_settings(settings)
    if dev_secrets or demo:
        settings = with_dev_secrets(settings)
    store = open_store(settings)
    try:
        if examples and isinstance(store, SQLiteStore) and store.is_empty():
            loaded = load_examples(store, Path(examples))
            if loaded:
                click.echo(f"Loaded the sample data from {examples}/ into {settings.db}: "
                           + ", ".join(counted(n, kind) for kind, n in loaded.items()))
        app = create_app(settings, store, new_id=new_id)
        count = app.extensions["dealreg"].warm_up()
    except DealregError as exc:
        raise UsageProblem(str(exc)) from None
    server = waitress.create_server(app, host=host, port=port, threads=threads, ident="dealreg",  # type: ignore[attr-defined]  # not in types-waitress
                                    clear_untrusted_proxy_headers=True)
    shown = "127.0.0.1" if host in ("0.0.0.0", "") else host
    base = f"http://{shown}:{server.effective_port}"
    click.echo(f"dealreg: {count} registrations in the {settings.store} store; serving on {base}\n")
    unread = app.extensions["dealreg"].health().facts.get("fix") or []
    if unread:  # served all the same (quarantined); said here so nobody has to ask /healthz first
        click.echo(f"{counted(len(unread), 'stored row')} cannot be read, and records that could be their "
                   f"accounts go to review until fixed:", err=True)
        for line in unread:
            click.echo(f"  {line}", err=True)
    # Before the instructions: whoever waits for them may stop the server straight after.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))  # stop cleanly under a process manager too
    click.echo(instructions(settings, base, clay_row=_taken_account(store)))
    try:
        server.run()
    finally:
        store.close()


def with_dev_secrets(settings: Any) -> Any:
    """The settings with a throwaway Typeform secret and API key where none is configured.
    Both are printed: the API key goes in the sample Clay command, and the Typeform secret is
    what a user signs their own payloads with (`dealreg sign`)."""
    import secrets

    from pydantic import SecretStr

    update = {}
    if not settings.typeform_secrets():
        value = f"dev-{secrets.token_hex(12)}"
        update["typeform_secret"] = (SecretStr(value),)
        click.echo(f"DEALREG_TYPEFORM_SECRET is not set: using {value} for this run only. Sign a payload of your "
                   f"own with: dealreg sign FILE.json --secret {value}")
    if not settings.api_keys():
        value = f"dev-{secrets.token_hex(12)}"
        update["api_key"] = (SecretStr(value),)
        click.echo(f"DEALREG_API_KEY is not set: using {value} for this run only (Authorization: Bearer {value}).")
    return settings.model_copy(update=update) if update else settings


def demo_settings(settings: Any) -> tuple[Any, Callable[[], str]]:
    """The settings of `serve --demo`, after removing the last demo's file, and the demo's
    registration ids: R-000000000001, R-000000000002, … The store is rebuilt at every start,
    so counting from 1 never meets an id already used, and a run answers what the last did."""
    for suffix in ("", "-wal", "-shm"):
        Path(f"{DEMO_DB}{suffix}").unlink(missing_ok=True)
    numbers = itertools.count(1)
    lock = threading.Lock()  # waitress serves from several threads

    def new_id() -> str:
        with lock:
            return f"R-{next(numbers):012x}"

    return settings.model_copy(update={"store": "sqlite", "db": DEMO_DB}), new_id


def _taken_account(store: Any) -> dict[str, str] | None:
    """A Clay row for an account someone holds, so the sample check shows a conflict. The
    sample Typeform registration is left out: a second run checks the same account as the first."""
    held = [r for r in store.changes(None).registrations
            if r.state == "open" and r.company_domain and r.company_name and r.external_id != SAMPLE_TOKEN]
    if not held:
        return None
    # A partner's claim (an SDR checking it sees a conflict), the latest: the least likely to have expired.
    latest = max(held, key=lambda r: (r.party != "direct", r.submitted_at))
    return {"company_name": latest.company_name, "website": latest.company_domain, "country": latest.country}


def load_examples(store: Any, folder: Path) -> dict[str, int]:
    """Import the sample CSVs found in `folder` (missing ones are skipped)."""
    loaded: dict[str, int] = {}
    for kind, name in SAMPLE_FILES.items():
        path = folder / name
        if path.is_file():
            loaded[kind] = import_file(store, kind, path)
    return loaded


@dataclass(frozen=True)
class SampleRequest:
    title: str
    url: str
    headers: dict[str, str]
    body: bytes

    def curl(self) -> str:
        parts = ["curl", "-sS", "-X", "POST", self.url]
        for name, value in self.headers.items():
            parts += ["-H", f"{name}: {value}"]
        parts += ["--data-binary", self.body.decode("utf-8")]
        return " ".join(shlex.quote(p) for p in parts)


SAMPLE_TOKEN = "sampleacmerobotics0northwind0001"
"""The sample Typeform response's token, the same in every run: pasting the command twice, or
in a second run against the same store, is a redelivery and answers the first decision."""


def sample_requests(settings: Any, base: str, *, now: datetime | None = None,
                    clay_row: Mapping[str, str] | None = None) -> list[SampleRequest]:
    """A signed Typeform registration (a fixed token, so pasting it again shows the redelivery
    answer) and a Clay check of `clay_row`, for the configured secrets."""
    from integrations.typeform import SIGNATURE_HEADER, sign

    now = now or datetime.now(UTC)
    out: list[SampleRequest] = []
    secrets = settings.typeform_secrets()
    if secrets:
        body = _compact(_typeform_sample(SAMPLE_TOKEN, now))
        out.append(SampleRequest("A partner registers a deal through Typeform (signed with DEALREG_TYPEFORM_SECRET):",
                                 f"{base}/webhooks/typeform",
                                 {"Content-Type": "application/json", SIGNATURE_HEADER: sign(body, secrets[0])}, body))
    keys = settings.api_keys()
    if keys:
        body = _compact(dict(clay_row or {"company_name": "Personio", "website": "personio.de", "country": "DE"}))
        out.append(SampleRequest("An SDR's Clay row is checked before outreach (suppression):",
                                 f"{base}/webhooks/clay?mode=check",
                                 {"Content-Type": "application/json", "Authorization": f"Bearer {keys[0]}"}, body))
    return out


def instructions(settings: Any, base: str, clay_row: Mapping[str, str] | None = None) -> str:
    lines: list[str] = []
    for sample in sample_requests(settings, base, clay_row=clay_row):
        lines += [sample.title, "  " + sample.curl(), ""]
    if not settings.typeform_secrets():
        lines.append("Typeform calls are refused: set DEALREG_TYPEFORM_SECRET (or try it out with --dev-secrets).")
    if not settings.api_keys():
        lines.append("Clay and /api calls are refused: set DEALREG_API_KEY (or try it out with --dev-secrets).")
    lines.append(f"Health: curl -sS {base}/healthz    Stop: Ctrl-C")
    return "\n".join(lines) + "\n"


def _compact(data: object) -> bytes:
    return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def _typeform_sample(token: str, now: datetime) -> dict[str, object]:
    """A Typeform `form_response` as Typeform sends it, with the default refs, submitted today."""
    field_types = {"text": "short_text", "url": "website", "email": "email", "number": "number"}

    def answer(ref: str, kind: str, value: object) -> dict[str, object]:
        return {"type": kind, kind: value, "field": {"id": f"f_{ref}", "type": field_types[kind], "ref": ref}}

    # Today at midnight UTC: never in the future, and the same all day, so every run of the
    # demo that day answers the same `expires_at`.
    stamp = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0).isoformat().replace("+00:00", "Z")
    return {
        "event_id": f"sample-{token[6:18]}",
        "event_type": "form_response",
        "form_response": {
            "form_id": "sample",
            "token": token,
            "landed_at": stamp,
            "submitted_at": stamp,
            "hidden": {"partner": "Northwind Partners"},
            "definition": {"id": "sample", "title": "Partner Deal Registration", "fields": []},
            "answers": [
                answer("company_name", "text", "Acme Robotics GmbH"),
                answer("company_website", "url", "https://www.acme-robotics.de"),
                answer("contact_email", "email", "j.mueller@acme-robotics.de"),
                answer("contact_name", "text", "Jana Mueller"),
                answer("deal_value", "number", 48000),
                answer("country", "text", "DE"),
            ],
        },
    }
