"""`dealreg check`: the batch suppression pass over a Clay export, as a user runs it."""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from dealreg.models import DECISION_FIELDS
from handlers.cli import main

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
REGISTRY_HEADER = "registration_id,submitted_at,partner,company_name,company_domain,state\n"


def run(*args: str):
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def check_examples(*extra: str):
    return run("check", str(EXAMPLES / "prospects.csv"), "--registry", str(EXAMPLES / "registrations.csv"),
               "--rules", str(EXAMPLES / "rules.yaml"), "--as-of", "2026-11-20", "-o", "-", *extra)


def test_examples_every_input_column_kept_then_the_decision_fields_in_spec_order():
    result = check_examples()
    assert result.exit_code == 0, result.output
    out = rows_of(result.stdout)
    header = next(csv.reader(io.StringIO(result.stdout)))
    inputs = next(csv.reader((EXAMPLES / "prospects.csv").open(encoding="utf-8")))
    assert header == inputs + list(DECISION_FIELDS)
    by_company = {r["Company Name"] or r["Work Email"]: r for r in out}
    assert (by_company["PERSONIO"]["status"], by_company["PERSONIO"]["owner"]) == ("conflict", "Northwind Partners")
    assert by_company["PERSONIO"]["suppress"] == "true"
    assert by_company["Personio"]["status"] == "duplicate"
    assert (by_company["Celonis"]["owner"], by_company["Celonis"]["rule"]) == ("direct", "direct_above_deal_size")
    assert (by_company["Canva"]["owner"], by_company["Canva"]["rule"]) == ("Fabrikam Solutions", "partner_territory")
    assert (by_company["Siemens AG"]["owner"], by_company["Siemens AG"]["rule"]) == ("direct", "same_party")
    assert (by_company["Zalando"]["status"], by_company["Zalando"]["suppress"]) == ("clear", "false")  # lost deal
    assert by_company["Mollie"]["rule"] == "expiry" and by_company["Mollie"]["matched_registration_id"] == "R-0004"
    assert by_company["jane@gmail.com"]["status"] == "rejected"
    assert by_company["Figma Inc"]["status"] == "rejected" and "deal_value" in by_company["Figma Inc"]["reason"]
    assert by_company["Personio SE"]["status"] == "needs_review"  # personio.com vs personio.de: a person checks
    assert "linkedin" in by_company["Mirо"]["match_evidence"]
    assert "rows decided" in result.stderr


def test_table_format_for_people():
    result = check_examples("--format", "table")
    assert result.exit_code == 0
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["company", "for", "status", "owner"] and len(lines) == 12


def test_output_file(tmp_path):
    out = tmp_path / "out.csv"
    result = run("check", str(EXAMPLES / "prospects.csv"), "--registry", str(EXAMPLES / "registrations.csv"),
                 "--as-of", "2026-11-20", "-o", str(out))
    assert result.exit_code == 0 and len(rows_of(out.read_text())) == 11


def test_as_of_makes_runs_reproducible(tmp_path):
    registry = tmp_path / "r.csv"
    registry.write_text(REGISTRY_HEADER + "R1,2026-01-01,Northwind,Miro,miro.com,open\n")
    prospects = tmp_path / "p.csv"
    prospects.write_text("company,website\nMiro,miro.com\n")
    early = run("check", str(prospects), "--registry", str(registry), "--as-of", "2026-02-01")
    late = run("check", str(prospects), "--registry", str(registry), "--as-of", "2026-06-01")
    assert rows_of(early.stdout)[0]["status"] == "conflict"
    assert rows_of(late.stdout)[0]["status"] == "clear" and rows_of(late.stdout)[0]["rule"] == "expiry"


def test_input_columns_named_like_decision_fields_are_kept(tmp_path):
    prospects = tmp_path / "p.csv"
    prospects.write_text("company,status\nMiro,lead\n")
    registry = tmp_path / "r.csv"
    registry.write_text(REGISTRY_HEADER)
    out = rows_of(run("check", str(prospects), "--registry", str(registry), "--as-of", "2026-01-01").stdout)
    assert out[0]["status"] == "lead" and out[0]["dealreg_status"] == "clear"


def test_formula_like_values_are_defanged_in_the_output(tmp_path):
    prospects = tmp_path / "p.csv"
    prospects.write_text('company,website\n"=HYPERLINK(""http://x"")",acme.com\n')
    registry = tmp_path / "r.csv"
    registry.write_text(REGISTRY_HEADER)
    out = rows_of(run("check", str(prospects), "--registry", str(registry), "--as-of", "2026-01-01").stdout)
    assert out[0]["company"] == "'=HYPERLINK(\"http://x\")"


@pytest.mark.parametrize(
    ("registry", "prospects", "message"),
    [
        (None, "company\nMiro\n", "no such file"),
        ("registration_id,partner,company_name\nR1,N,Miro\n", "company\nMiro\n", "missing column 'submitted_at'"),
        ("registration_id,submitted_at,partner\nR1,2026-01-01,N\n", "company\nMiro\n", "needs at least one of the columns"),
        (REGISTRY_HEADER, "first,last\nJane,Doe\n", "needs a column that identifies the company: a name, website, "
                                                   "email, LinkedIn or DUNS column"),
        (REGISTRY_HEADER, "first;last\nJane;Doe\n", "found: first, last (semicolon-separated)"),
        (REGISTRY_HEADER + "R1,2026-01-01,N,Miro,miro.com,open,x\n", "company\nMiro\n",
         "row 2: 7 cells but only 6 columns in the header (read as comma-separated"),
        (REGISTRY_HEADER, "", "the file is empty"),
    ],
)
def test_bad_files_exit_2_naming_file_and_column(tmp_path, registry, prospects, message):
    reg_path = tmp_path / "registry.csv"
    if registry is not None:
        reg_path.write_text(registry)
    in_path = tmp_path / "in.csv"
    in_path.write_text(prospects)
    result = CliRunner().invoke(main, ["check", str(in_path), "--registry", str(reg_path), "--as-of", "2026-02-01"])
    assert result.exit_code == 2, result.output
    assert message in result.output
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("rows", "problem"), [
    ("R1,not-a-date,N,Miro,miro.com,open\n", "row 2: column submitted_at: 'not-a-date' is not a date"),
    ("R1,2026-01-01,N,Miro,miro.com,maybe\n", "row 2: column state: 'maybe' is not a state"),
    ("R0,2026-01-01,N,Miro,,open\nR0,2026-01-02,C,Miro,miro.com,open\n", "row 3: column registration_id: 'R0' repeats row 2"),
])
def test_registry_rows_that_cannot_be_read_are_reported_and_the_rest_decided(tmp_path, rows, problem):
    reg_path = tmp_path / "registry.csv"
    reg_path.write_text(REGISTRY_HEADER + rows + "R9,2026-01-01,Contoso,Celonis,celonis.com,open\n")
    in_path = tmp_path / "in.csv"
    in_path.write_text("company,website\nMiro,miro.com\nCelonis,celonis.com\nPersonio,personio.de\n")
    result = CliRunner().invoke(main, ["check", str(in_path), "--registry", str(reg_path), "--as-of", "2026-02-01"])
    assert result.exit_code == 0, result.output
    assert "1 registry row could not be read" in result.stderr
    assert f"  {reg_path} {problem}" in result.stderr
    statuses = {row["company"]: row["status"] for row in rows_of(result.stdout)}
    # Miro could be the unreadable row's account: review, never clear; the rest as always
    assert statuses == {"Miro": "needs_review", "Celonis": "conflict", "Personio": "clear"}


def test_bad_rules_file_exit_2(tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("rules:\n  - direct_above_deal_size: {threshold: 0}\n")
    result = CliRunner().invoke(main, ["check", str(EXAMPLES / "prospects.csv"), "--registry",
                                       str(EXAMPLES / "registrations.csv"), "--rules", str(rules)])
    assert result.exit_code == 2
    assert "rules[0].direct_above_deal_size.threshold: must be a positive number" in result.output


def test_bad_as_of_exit_2():
    result = CliRunner().invoke(main, ["check", str(EXAMPLES / "prospects.csv"), "--registry",
                                       str(EXAMPLES / "registrations.csv"), "--as-of", "someday"])
    assert result.exit_code == 2 and "--as-of" in result.output


def test_bad_rows_are_rejected_and_the_batch_goes_on(tmp_path):
    prospects = tmp_path / "p.csv"
    prospects.write_text("company,website,deal_value,submitted_at\n,,,\nAcme,acme.com,12abc,\nBeta,beta.io,,2026-13-01\nMiro,miro.com,,\n")
    registry = tmp_path / "r.csv"
    registry.write_text(REGISTRY_HEADER)
    result = run("check", str(prospects), "--registry", str(registry), "--as-of", "2026-01-01")
    out = rows_of(result.stdout)
    assert [r["status"] for r in out] == ["rejected", "rejected", "clear"]  # the empty row is skipped
    assert "deal_value" in out[0]["reason"] and "submitted_at" in out[1]["reason"]


# -- the same rules as the API, whatever the spreadsheet that saved the files -------------------------

def _check(tmp_path, prospects: str, registry: str, *extra: str):
    (tmp_path / "p.csv").write_text(prospects, encoding="utf-8")
    (tmp_path / "r.csv").write_text(registry, encoding="utf-8")
    return run("check", str(tmp_path / "p.csv"), "--registry", str(tmp_path / "r.csv"), "--as-of", "2026-02-01", *extra)


def test_an_input_with_only_an_email_column_is_decided_as_the_api_decides_it(tmp_path):
    result = _check(tmp_path, "Work Email\nceo@miro.com\njane@gmail.com\nsam@figma.com\n",
                    REGISTRY_HEADER + "R1,2026-01-01,Northwind,Miro,miro.com,open\n")
    assert result.exit_code == 0, result.output
    out = rows_of(result.stdout)
    assert [(r["status"], r["owner"]) for r in out] == [("conflict", "Northwind"), ("rejected", ""), ("clear", "direct")]
    assert out[0]["matched_registration_id"] == "R1" and "domain" in out[0]["match_evidence"]
    table = _check(tmp_path, "email\nceo@miro.com\n", REGISTRY_HEADER, "--format", "table")
    assert table.stdout.splitlines()[1].startswith("ceo@miro.com")  # the table names the row by what it has


@pytest.mark.parametrize("column", ["linkedin", "duns"])
def test_any_identifying_column_is_enough(tmp_path, column):
    value = {"linkedin": "linkedin.com/company/miro", "duns": "15-048-3782"}[column]
    result = _check(tmp_path, f"{column}\n{value}\n", REGISTRY_HEADER)
    assert result.exit_code == 0, result.output
    assert rows_of(result.stdout)[0]["status"] == "clear"


def test_written_numbers_never_hide_a_conflict(tmp_path):
    result = _check(tmp_path, 'company,website,deal_value,employees\nMiro,miro.com,"$150,000","1,200"\n'
                              'Globex,globex.com,"48.000,50 €",\n',
                    "registration_id,submitted_at,partner,company_name,company_domain,deal_value\n"
                    'R1,2026-01-01,Northwind,Miro,miro.com,"48,000"\n')
    assert result.exit_code == 0, result.output
    out = rows_of(result.stdout)
    assert [(r["status"], r["owner"], r["rule"]) for r in out] == [
        ("conflict", "direct", "direct_above_deal_size"), ("clear", "direct", "no_match")]
    assert "(150,000)" in out[0]["reason"]  # the example rules' 100,000 threshold, against the value as written


SEMICOLON_REGISTRY = ("registration_id;submitted_at;partner;company_name;company_domain;deal_value;currency;employees\n"
                      "R1;2026-01-01;Northwind;Miro;miro.com;48000,50;EUR;1.200\n"
                      "R2;2026-01-02;Contoso;Acme, Inc;acme.com;1.250.000,00;;\n")


@pytest.mark.parametrize("separator", [",", ";", "\t"], ids=["comma", "semicolon", "tab"])
def test_excel_files_in_any_locale_are_read_and_the_summary_says_how(tmp_path, separator):
    prospects = separator.join(["Company Name", "Website", "Deal Value"]) + "\n" + separator.join(
        ["Miro", "miro.com", '"48000,50"' if separator == "," else "48000,50"]) + "\n" + separator.join(
        ['"Acme; Inc"' if separator == ";" else "Acme Inc", "acme.com", ""]) + "\n"
    result = _check(tmp_path, prospects, SEMICOLON_REGISTRY)
    assert result.exit_code == 0, result.output
    out = rows_of(result.stdout)
    assert [(r["status"], r["owner"], r["rule"]) for r in out] == [
        ("conflict", "Northwind", "first_to_register"),  # 48000,50 is under the 100,000 threshold …
        ("conflict", "direct", "direct_above_deal_size")]  # … and R2's 1.250.000,00 above it
    name = {",": "comma", ";": "semicolon", "\t": "tab"}[separator]
    assert f"(p.csv {name}-separated; r.csv semicolon-separated)" in result.stderr


def test_a_semicolon_registry_keeps_its_decimal_commas(tmp_path):
    from integrations.csvfile import read_registry

    (tmp_path / "r.csv").write_text(SEMICOLON_REGISTRY, encoding="utf-8")
    r1, r2 = read_registry(tmp_path / "r.csv")
    assert (r1.deal_value, r1.currency, r1.employees) == (48000.5, "EUR", 1200)
    assert (r2.company_name, r2.deal_value) == ("Acme, Inc", 1250000.0)


def test_rules_check_command():
    result = run("rules", "check", str(EXAMPLES / "rules.yaml"))
    assert result.exit_code == 0 and "valid" in result.stdout and "first_to_register" in result.stdout
    assert "divisions: review" in result.stdout  # the default, said out loud


def _command_paths(group=main, prefix=()):
    yield list(prefix)
    for name, command in getattr(group, "commands", {}).items():
        yield from _command_paths(command, (*prefix, name))


@pytest.mark.parametrize("args", list(_command_paths()), ids=lambda a: " ".join(a) or "dealreg")
def test_every_command_has_help(args):
    result = run(*args, "--help")
    assert result.exit_code == 0 and "Usage:" in result.stdout
    assert len(result.stdout.split("\n\n", 2)[1].strip()) > 10  # a sentence saying what it does


def test_the_command_list_is_what_the_readme_documents():
    # the README, or the docs/ page of its topic (the README links them)
    readme = "\n".join(path.read_text(encoding="utf-8") for path in
                       [EXAMPLES.parent / "README.md", *sorted((EXAMPLES.parent / "docs").glob("*.md"))])
    for args in _command_paths():
        if args:
            assert f"dealreg {' '.join(args)}" in readme, f"README does not show `dealreg {' '.join(args)}`"


def test_the_console_script_is_installed():
    exe = shutil.which("dealreg", path=str(Path(sys.executable).parent))
    assert exe is not None, "pip install -e . should put `dealreg` in the venv"
    out = subprocess.run([exe, "--help"], capture_output=True, text=True, check=True).stdout
    assert "check" in out
