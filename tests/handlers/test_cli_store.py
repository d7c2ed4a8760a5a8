"""`dealreg serve`, `dealreg import`, `dealreg export`: help, round trips, refusals, and
the printed curl commands working against the real server."""

from __future__ import annotations

import csv
import io
import json
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

import pytest
import requests
from click.testing import CliRunner

from dealreg.models import DECISION_FIELDS
from handlers.cli import main
from handlers.cli.common import counted
from handlers.cli.serve import SAMPLE_FILES, load_examples
from integrations.store.rows import COLUMNS, TABLES
from tests.handlers.support import (
    API_KEY, TYPEFORM_SECRET, environment_without_settings, hubspot_environment, sheets_environment, store_environment,
    store_from,
)
from tests.integrations.sheets_support import new_sheet
from tests.payloads import load_json

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.fixture
def env(tmp_path, backend, request) -> dict[str, str]:
    """The DEALREG_* variables of a CLI run: a SQLite file, a spreadsheet on the fake Sheets API, or an
    account on the local HubSpot API."""
    if backend == "sqlite":
        return {"DEALREG_DB": str(tmp_path / "cli.db"), "DEALREG_STORE": "sqlite"}
    return store_environment(backend, request)


@pytest.fixture
def other(env, tmp_path, backend, request) -> dict[str, str]:
    """Another, empty store of the same kind."""
    if backend == "sqlite":
        return {**env, "DEALREG_DB": str(tmp_path / "other.db")}
    if backend == "hubspot":
        return hubspot_environment(request.getfixturevalue("other_hubspot_api"))
    api = request.getfixturevalue("sheets_api")
    return sheets_environment(api, new_sheet(api, "1otherSpreadsheet"))


def run(args: list[str], env: dict[str, str]):
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


@pytest.mark.parametrize("command, words", [
    ("serve", ["--host", "--port", "--examples", "curl"]),
    ("import", ["KIND", "FILE.csv", "replace the whole list"]),
    ("export", ["KIND", "--output", "leading quote"]),
])
def test_every_command_has_help(command, words):
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    for word in words:
        assert word in result.output
    assert command in CliRunner().invoke(main, ["--help"]).output


# -- import / export ------------------------------------------------------------------------------

def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.mark.parametrize("kind, file", [(kind, name) for kind, name in SAMPLE_FILES.items()])
def test_import_then_export_round_trips_in_the_sheet_layout(tmp_path, env, other, kind, file):
    source = EXAMPLES / file
    imported = run(["import", kind, str(source)], env)
    assert imported.exit_code == 0, imported.output
    exported = run(["export", kind], env)
    assert exported.exit_code == 0
    rows = list(csv.DictReader(io.StringIO(exported.stdout)))
    assert list(rows[0]) == list(COLUMNS[kind])
    assert len(rows) == len(list(csv.DictReader(source.open(encoding="utf-8"))))
    # Import the export into a fresh store: the export of that is identical.
    again = tmp_path / f"again-{kind}.csv"
    again.write_text(exported.stdout, encoding="utf-8")
    assert run(["import", kind, str(again)], other).exit_code == 0
    assert run(["export", kind], other).stdout == exported.stdout


def test_export_defangs_formulas_and_import_restores_them(tmp_path, env, other):
    dangerous = ["=HYPERLINK(\"http://evil\")", "+1", "-1", "@SUM(1)", "=1+2"]  # (leading spaces and tabs are trimmed on import)
    rows = [[f"R-{i}", "2026-01-05", "Northwind Partners", name, f"site{i}.com"] for i, name in enumerate(dangerous)]
    source = write_csv(tmp_path / "in.csv", ["registration_id", "submitted_at", "partner", "company_name",
                                               "company_domain"], rows)
    assert run(["import", "registrations", str(source)], env).exit_code == 0
    out = tmp_path / "out.csv"
    assert run(["export", "registrations", "-o", str(out)], env).exit_code == 0
    exported = list(csv.DictReader(out.open(encoding="utf-8", newline="")))
    assert [r["company_name"] for r in exported] == ["'" + d for d in dangerous]  # a spreadsheet shows text
    assert run(["import", "registrations", str(out)], other).exit_code == 0
    assert [r["company_name"] for r in store_from(other).read_rows("registrations")] == dangerous


def test_decisions_export_and_import(tmp_path, env, other):
    store = store_from(env)
    from tests.integrations.test_sqlite import reg, register

    register(store, reg("R-1", external_id="tok-1", source="typeform"))
    exported = run(["export", "decisions"], env)
    assert exported.exit_code == 0
    header = next(csv.reader(io.StringIO(exported.stdout)))
    assert header == list(COLUMNS["decisions"]) and set(DECISION_FIELDS) <= set(header)
    path = tmp_path / "decisions.csv"
    path.write_text(exported.stdout, encoding="utf-8")
    assert run(["import", "decisions", str(path)], other).exit_code == 0
    assert run(["export", "decisions"], other).stdout == exported.stdout


@pytest.mark.parametrize("kind, header, rows, words", [
    ("registrations", ["registration_id", "submitted_at", "company_name"], [["R-1", "2026-02-30", "Acme"]], "submitted_at"),
    ("registrations", ["company_name"], [["Acme"]], "missing column 'registration_id'"),
    ("territories", ["partner", "min_employees"], [["A", "lots"]], "min_employees"),
    ("named-accounts", ["company_name"], [["Acme"]], "missing column 'owner'"),
    ("decisions", ["event_id"], [["E-1"]], "missing column(s) status"),
])
def test_import_of_a_bad_file_exits_2_naming_the_problem_and_writes_nothing(tmp_path, env, kind, header, rows, words):
    path = write_csv(tmp_path / "bad.csv", header, rows)
    result = run(["import", kind, str(path)], env)
    assert result.exit_code == 2
    assert words in result.output
    assert store_from(env).count(kind) == 0


def test_import_of_a_missing_file_and_an_unknown_kind_are_usage_errors(tmp_path, env):
    missing = run(["import", "partners", str(tmp_path / "nope.csv")], env)
    assert missing.exit_code == 2 and "no such file" in missing.output
    unknown = CliRunner().invoke(main, ["export", "accounts"], env=env)
    assert unknown.exit_code == 2 and all(kind in unknown.output for kind in TABLES)


def test_a_bad_setting_is_named(env):
    result = run(["export", "partners"], {**env, "DEALREG_STORE": "excel"})
    assert result.exit_code == 2
    assert "DEALREG_STORE" in result.output


def test_load_examples_fills_an_empty_store(tmp_path, store):
    assert store.is_empty()
    loaded = load_examples(store, EXAMPLES)
    for kind, file in SAMPLE_FILES.items():
        with (EXAMPLES / file).open(encoding="utf-8") as f:
            assert loaded[kind] == store.count(kind) == len(list(csv.DictReader(f)))
    assert not store.is_empty()
    assert load_examples(store, tmp_path / "no-examples-here") == {}


# -- serve: the printed curl commands work against the real server -----------------------------------

def _lines(stream, into: queue.Queue) -> None:
    for line in iter(stream.readline, ""):
        into.put(line)
    into.put(None)


def replay(command: str) -> requests.Response:
    """Send what a printed curl command sends (parsed, not run through a shell)."""
    args = shlex.split(command)
    assert args[:4] == ["curl", "-sS", "-X", "POST"]
    url, headers, body = args[4], {}, b""
    rest = iter(args[5:])
    for flag in rest:
        value = next(rest)
        if flag == "-H":
            name, _, text = value.partition(": ")
            headers[name] = text
        elif flag == "--data-binary":
            body = value.encode("utf-8")
    return requests.post(url, data=body, headers=headers, timeout=10)


@contextmanager
def serving(args: list[str], env: dict[str, str], cwd: Path) -> Iterator[list[str]]:
    """`dealreg serve ARGS` in a process of its own until it prints the health line; yields its
    output lines, then stops it with SIGTERM (and checks it stopped cleanly)."""
    command = [sys.executable, "-m", "handlers.cli", "serve", "--port", "0", *args]
    env = {**env, "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(ROOT)}
    log_path = cwd / "serve.log"
    with log_path.open("a") as log:
        server = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=log, text=True)
        lines: queue.Queue = queue.Queue()
        threading.Thread(target=_lines, args=(server.stdout, lines), daemon=True).start()
        try:
            output: list[str] = []
            while not output or not output[-1].startswith("Health:"):
                line = lines.get(timeout=60)
                assert line is not None, "serve stopped early:\n" + "".join(output) + log_path.read_text()
                output.append(line)
            yield output
        finally:
            server.send_signal(signal.SIGTERM)
            code = server.wait(timeout=30)
    assert code == 0


def curls(output: list[str]) -> tuple[str, str]:
    """The printed Typeform and Clay commands."""
    commands = [line.strip() for line in output if line.strip().startswith("curl ")]
    assert len(commands) == 2
    typeform, clay = commands
    assert "/webhooks/typeform" in typeform and "Typeform-Signature: sha256=" in typeform
    assert "/webhooks/clay?mode=check" in clay and "Authorization: Bearer " in clay
    return typeform, clay


@pytest.mark.parametrize("secrets", ["configured", "--dev-secrets"])
def test_serve_loads_the_examples_and_its_printed_curl_commands_work(tmp_path, secrets, backend, request):
    env = environment_without_settings()
    env["DEALREG_DB"] = str(tmp_path / "serve.db")
    if backend != "sqlite":  # the same server on a Sheet or HubSpot; serve loads examples into SQLite only, so the test does
        env.update(store_environment(backend, request))
        load_examples(store_from(env), EXAMPLES)
    args = ["--examples", str(EXAMPLES)]
    if secrets == "configured":
        env.update({"DEALREG_TYPEFORM_SECRET": TYPEFORM_SECRET, "DEALREG_API_KEY": API_KEY})
    else:
        args.append("--dev-secrets")
    with serving(args, env, tmp_path) as output:
        text = "".join(output)
        assert ("Loaded the sample data" in text) == (backend == "sqlite")
        assert f"6 registrations in the {backend} store; serving on http://127.0.0.1:" in text
        typeform, clay = curls(output)
        assert (API_KEY in clay) == (secrets == "configured")

        first = replay(typeform)
        assert first.status_code == 200, first.text
        assert (first.json()["status"], first.json()["owner"]) == ("clear", "Northwind Partners")
        assert replay(typeform).json() == first.json()  # pasted twice: the redelivery answer
        checked = replay(clay)
        assert checked.status_code == 200 and list(checked.json()) == list(DECISION_FIELDS)
        assert (checked.json()["status"], checked.json()["matched_registration_id"]) == ("conflict", "R-0003")
        if shutil.which("curl"):  # the command as printed, through a shell, when curl is installed
            shell = subprocess.run(clay, shell=True, capture_output=True, text=True, timeout=30)
            assert shell.returncode == 0 and json.loads(shell.stdout) == checked.json()
    assert store_from(env).count("registrations") == 7


def test_a_second_serve_on_the_same_store_answers_the_same(tmp_path):
    """Run twice on one store (as `make run` used to): the sample Typeform is a redelivery the
    second time, not a `duplicate` claim with a new row, and the Clay sample checks the same
    account."""
    env = {**environment_without_settings(), "DEALREG_DB": str(tmp_path / "serve.db")}
    answers = []
    for _ in range(2):
        with serving(["--examples", str(EXAMPLES), "--dev-secrets"], env, tmp_path) as output:
            typeform, clay = curls(output)
            answers.append((replay(typeform).json(), replay(clay).json()))
    assert answers[0] == answers[1]
    assert answers[0][0]["status"] == "clear"
    assert store_from(env).count("registrations") == 7  # the six samples and one Typeform registration


def test_serve_starts_on_a_store_holding_a_row_it_cannot_read_and_names_the_cell(tmp_path):
    import sqlite3

    env = {**environment_without_settings(), "DEALREG_DB": str(tmp_path / "serve.db")}
    with serving(["--examples", str(EXAMPLES), "--dev-secrets"], env, tmp_path):
        pass  # loads the examples
    with sqlite3.connect(tmp_path / "serve.db") as conn:  # a hand edit, and a submission that named no company
        conn.execute("INSERT INTO registrations (registration_id, submitted_at, partner, company_name, deal_value) "
                     "VALUES ('R-hand', '2026-12-01', 'Contoso Consulting', 'Globex', 'TBD')")
        conn.execute("INSERT INTO registrations (registration_id, submitted_at, state, status) "
                     "VALUES ('R-empty', '2026-12-01', 'rejected', 'rejected')")
    with serving(["--examples", str(EXAMPLES), "--dev-secrets"], env, tmp_path) as output:
        assert "6 registrations in the sqlite store; serving on" in "".join(output)
        _, clay = curls(output)
        assert replay(clay).json()["status"] == "conflict"  # decisions go on
    log = (tmp_path / "serve.log").read_text()
    assert "1 stored row cannot be read" in log and "R-hand" in log and "deal_value: 'TBD' is not a number" in log
    assert "R-empty" not in log  # a rejected submission is a record, not a problem


README_CLAY_ANSWER = re.search(r"so the SDR sees the\s+conflict:\s+```json\n(.*?)\n```", README, re.S)


def test_serve_demo_answers_the_same_every_run_and_as_the_readme_shows(tmp_path):
    """`make run` runs `dealreg serve --demo`: each start rebuilds its own store from examples/
    (DEALREG_DB is left alone), so every run gives the answers the README prints, today and
    next month alike (the sample claim the Clay check meets is protected until 2030)."""
    env = {**environment_without_settings(), "DEALREG_DB": str(tmp_path / "mine.db")}
    runs = []
    for _ in range(2):
        with serving(["--demo", "--examples", str(EXAMPLES)], env, tmp_path) as output:
            assert "Loaded the sample data" in "".join(output)
            typeform, clay = curls(output)
            registered, again, checked = replay(typeform).json(), replay(typeform).json(), replay(clay).json()
            runs.append((registered, checked))
            assert again == registered  # pasted twice: the redelivery answer
    assert runs[0] == runs[1]
    registered, checked = runs[0]
    assert (registered["status"], registered["owner"], registered["registration_id"]) == (
        "clear", "Northwind Partners", "R-000000000001")
    assert README_CLAY_ANSWER is not None
    assert checked == json.loads(README_CLAY_ANSWER.group(1))
    assert not (tmp_path / "mine.db").exists()  # the user's own store is not touched
    assert store_from({"DEALREG_DB": str(tmp_path / "dealreg-demo.db")}).count("registrations") == 7


def test_dev_secrets_prints_the_typeform_secret_and_a_payload_signed_with_it_is_accepted(tmp_path):
    env = {**environment_without_settings(), "DEALREG_DB": str(tmp_path / "serve.db")}
    with serving(["--examples", "", "--dev-secrets"], env, tmp_path) as output:
        [line] = [line for line in output if line.startswith("DEALREG_TYPEFORM_SECRET is not set")]
        secret = re.search(r"--secret (dev-[0-9a-f]+)", line).group(1)
        mine = load_json("typeform_registration.json")  # submitted just now: a window over on arrival is refused
        mine["form_response"]["submitted_at"] = datetime.now(UTC).replace(microsecond=0).isoformat()
        payload = tmp_path / "mine.json"
        payload.write_text(json.dumps(mine, indent=2) + "\n", encoding="utf-8")
        signed = run(["sign", str(payload), "--secret", secret], env)
        assert signed.exit_code == 0
        name, _, value = signed.stdout.strip().partition(": ")
        base = re.search(r"serving on (http://\S+)", "".join(output)).group(1)
        response = requests.post(f"{base}/webhooks/typeform", data=payload.read_bytes(), timeout=10,
                                 headers={"Content-Type": "application/json", name: value})
        assert response.status_code == 200, response.text
        assert response.json()["owner"] == "Northwind Partners"


# -- words a user has ----------------------------------------------------------------------------------

def test_the_help_speaks_the_users_words():
    for command in ("import", "export", "serve"):
        text = CliRunner().invoke(main, [command, "--help"]).output
        assert "SPEC" not in text, command
    assert "columns of the Sheet's tab" in CliRunner().invoke(main, ["export", "--help"]).output


def test_import_and_serve_count_in_words(tmp_path, env):
    result = run(["import", "territories", str(EXAMPLES / "territories.csv")], env)
    assert result.exit_code == 0
    assert result.stderr.startswith("imported 1 territory from ")
    assert [counted(n, kind) for n, kind in [(1, "named-accounts"), (3, "partners"), (0, "registrations")]] == [
        "1 named account", "3 partners", "0 registrations"]
