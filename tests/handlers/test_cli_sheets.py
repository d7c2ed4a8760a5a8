"""`dealreg init-sheet` and `dealreg check --registry sheets`, run as a user runs them, against
the fake Sheets API (pointed at by DEALREG_SHEETS_API_URL, as a subprocess would be)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from handlers.cli import main
from integrations.sheets.layout import ALL_TABS
from integrations.store.rows import COLUMNS
from tests.fakes.sheets_api import FakeSheetsAPI
from tests.handlers.support import environment_without_settings, write_rules
from tests.integrations.sheets_support import SID, new_sheet, reg_row, rows_of, tab_rows

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
WRITES = ("spreadsheets.batchUpdate", "values.update", "values.batchUpdate", "values.append", "values.clear")


@pytest.fixture
def env(api) -> dict[str, str]:
    return {"DEALREG_SHEETS_API_URL": api.base_url, "DEALREG_SHEET_ID": SID}


def run(args: list[str], env: dict[str, str]):
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def writes(api: FakeSheetsAPI) -> int:
    return sum(api.count(kind=k) for k in WRITES)


def test_init_sheet_has_help():
    result = CliRunner().invoke(main, ["init-sheet", "--help"])
    assert result.exit_code == 0
    for words in ("Registrations, Decisions, Partners, Territories, Named accounts", "--sheet", "exit code 2",
                  "Safe to run again"):
        assert words in " ".join(result.output.split())
    assert "init-sheet" in CliRunner().invoke(main, ["--help"]).output


def test_init_sheet_on_an_empty_spreadsheet_creates_every_tab_with_its_header(api, env):
    api.create_spreadsheet(SID)  # a new spreadsheet: one empty "Sheet1"
    result = run(["init-sheet"], env)
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [f"{title}: created, with its header row" for title in ALL_TABS.values()]
    assert api.sheet_titles(SID) == ["Sheet1", *ALL_TABS.values()]
    for table, title in ALL_TABS.items():
        assert api.values(SID, title) == [list(COLUMNS[table])]
    again = run(["init-sheet"], env)  # safe to repeat: nothing more is written
    assert again.exit_code == 0
    assert again.stdout.splitlines()[0] == f"Registrations: ok ({len(COLUMNS['registrations'])} dealreg columns)"
    assert api.count(kind="spreadsheets.batchUpdate") == 2  # the tabs, then the headers; none on the re-run


def test_init_sheet_writes_the_header_of_an_empty_tab_and_keeps_the_others(api, env):
    new_sheet(api, partners=[[]])
    result = run(["init-sheet"], env)
    assert result.exit_code == 0, result.output
    assert "Partners: header row written" in result.stdout
    assert api.values(SID, "Partners") == [list(COLUMNS["partners"])]


def test_init_sheet_accepts_another_column_order_and_extra_columns_and_changes_nothing(api, env):
    header = ["notes", *reversed(COLUMNS["registrations"]), "region owner"]
    row = {**reg_row("R-000000000001", "Acme", "acme.com", "Northwind Partners", "2026-03-01T10:00:00+00:00"),
           "notes": "call back", "region owner": "Sam"}
    new_sheet(api, registrations=tab_rows("registrations", [row], header))
    before = api.values(SID, "Registrations")
    result = run(["init-sheet"], env)
    assert result.exit_code == 0, result.output
    assert "Registrations: ok (31 dealreg columns; other columns kept: notes, region owner)" in result.stdout
    assert writes(api) == 0
    assert api.values(SID, "Registrations") == before


def test_init_sheet_names_a_misspelt_column_with_the_fix_and_exits_2(api, env):
    header = [c if c != "company_name" else "compnay_name" for c in COLUMNS["registrations"]]
    new_sheet(api, registrations=[header], territories=[["partner", "countries", "regions", "industries",
                                                         "min_employees"]])
    result = run(["init-sheet"], env)
    assert result.exit_code == 2
    assert ("Registrations: column 'compnay_name' (E1) is not a dealreg column — did you mean 'company_name'? "
            "Rename the header cell, or add the missing column 'company_name'") in result.output
    assert ("Territories: missing column 'max_employees'; add a header cell 'max_employees' (any position; extra "
            "columns are fine)") in result.output
    assert writes(api) == 0


def test_init_sheet_without_a_sheet_id_names_the_fix(api):
    result = run(["init-sheet"], {"DEALREG_SHEETS_API_URL": api.base_url})
    assert result.exit_code == 2
    assert "Set DEALREG_SHEET_ID to the spreadsheet id (the part of the URL between /d/ and /edit)" in result.output


def test_init_sheet_reports_a_spreadsheet_not_shared_with_the_service_account(api, env):
    api.create_spreadsheet(SID)
    api.inject(None, 403)
    result = run(["init-sheet"], env)
    assert result.exit_code == 2
    assert "Share the spreadsheet with the service account's client_email as Editor" in result.output


def test_a_subprocess_is_pointed_at_the_fake_by_the_environment_alone(api):
    api.create_spreadsheet(SID)
    environ = environment_without_settings()
    environ.update(DEALREG_SHEETS_API_URL=api.base_url, DEALREG_SHEET_ID=SID)
    done = subprocess.run([sys.executable, "-m", "handlers.cli", "init-sheet"], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert api.sheet_titles(SID) == ["Sheet1", *ALL_TABS.values()]


# -- dealreg check --registry sheets ------------------------------------------------------------

def _csv_values(path: Path) -> list[list[str]]:
    return list(csv.reader(path.open(encoding="utf-8")))


def test_check_against_the_live_sheet_equals_the_check_against_its_csv_download(api, env):
    new_sheet(api, registrations=_csv_values(EXAMPLES / "registrations.csv"))
    common = ["--rules", str(EXAMPLES / "rules.yaml"), "--as-of", "2026-11-20", "-o", "-"]
    from_csv = run(["check", str(EXAMPLES / "prospects.csv"), "--registry", str(EXAMPLES / "registrations.csv"),
                    *common], env)
    api.reset_log()
    from_sheet = run(["check", str(EXAMPLES / "prospects.csv"), "--registry", "sheets", *common], env)
    assert from_sheet.exit_code == 0, from_sheet.output
    assert from_sheet.stdout == from_csv.stdout
    assert [r.kind for r in api.requests] == ["spreadsheets.get", "values.batchGet"]  # read once, nothing written


def test_check_against_the_sheet_reads_its_named_accounts_and_partners(api, env, tmp_path):
    new_sheet(api, named_accounts=tab_rows("named-accounts", [{"owner": "direct", "company_name": "Siemens AG",
                                                               "company_domain": "siemens.com"}]),
              partners=tab_rows("partners", [{"partner": "Northwind Partners"}]))
    prospects = tmp_path / "prospects.csv"
    prospects.write_text("company,website,partner\nSiemens,siemens.com,Northwind Partners\n"
                         "Acme,acme-robotics.de,Nobody Inc\n", encoding="utf-8")
    result = run(["check", str(prospects), "--registry", "sheets", "--rules", str(write_rules(tmp_path)),
                  "--as-of", "2026-03-10", "-o", "-"], env)
    assert result.exit_code == 0, result.output
    siemens, acme = csv.DictReader(io.StringIO(result.stdout))
    assert (siemens["status"], siemens["owner"], siemens["rule"]) == ("conflict", "direct", "named_accounts")
    assert acme["status"] == "rejected" and "unknown partner 'Nobody Inc'" in acme["reason"]
    assert rows_of(api, "Decisions") == []  # a check of a CSV writes nothing


def test_check_against_the_sheet_without_its_settings_names_the_fix(tmp_path):
    prospects = tmp_path / "p.csv"
    prospects.write_text("company\nAcme\n", encoding="utf-8")
    result = run(["check", str(prospects), "--registry", "sheets"], {})
    assert result.exit_code == 2
    assert "Set DEALREG_SHEET_ID" in result.output
