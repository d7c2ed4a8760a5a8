"""`dealreg init-hubspot` and `dealreg check --registry hubspot`, run as a user runs them, against
the local HubSpot API (pointed at by DEALREG_HUBSPOT_API_URL, as a subprocess would be)."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from handlers.cli import main
from handlers.cli.serve import load_examples
from integrations.hubspot.setup import COMPANY_PROPERTIES, DEAL_PROPERTIES
from tests.fakes.hubspot_api import FakeHubSpotAPI
from tests.handlers.support import environment_without_settings, hubspot_environment, store_from, write_rules
from tests.integrations.hubspot_support import new_account

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"
PROPERTY_COUNT = len(DEAL_PROPERTIES) + len(COMPANY_PROPERTIES)


@pytest.fixture
def api(hubspot_server: FakeHubSpotAPI) -> FakeHubSpotAPI:
    """An account before `dealreg init-hubspot`: no dealreg properties yet."""
    hubspot_server.reset()
    hubspot_server.ten_second_limit = hubspot_server.search_per_second = 1_000_000
    return hubspot_server


@pytest.fixture
def env(api) -> dict[str, str]:
    return hubspot_environment(api)


def run(args: list[str], env: dict[str, str]):
    return CliRunner().invoke(main, args, env=env, catch_exceptions=False)


def test_init_hubspot_has_help():
    result = CliRunner().invoke(main, ["init-hubspot", "--help"])
    assert result.exit_code == 0
    for words in ("property group", "--pipeline LABEL", "exit code 2", "Safe to run again", "DEALREG_HUBSPOT_TOKEN"):
        assert words in " ".join(result.output.split())
    assert "init-hubspot" in CliRunner().invoke(main, ["--help"]).output


def test_init_hubspot_creates_the_properties_then_finds_them_right(api, env):
    result = run(["init-hubspot"], env)
    assert result.exit_code == 0, result.output
    assert "deals: property group dealreg created" in result.stdout
    assert f"created {PROPERTY_COUNT} properties: deals.dealreg_registration_id" in result.stdout
    assert "HubSpot is ready for DEALREG_STORE=hubspot." in result.stderr
    api.reset_log()
    again = run(["init-hubspot"], env)
    assert again.exit_code == 0
    assert again.stdout == f"{PROPERTY_COUNT} properties already there and right\n"
    assert api.count(method="POST") == 0


def test_init_hubspot_names_a_mismatch_and_exits_2(api, env):
    api.create_property("deals", "dealreg_registration_id")  # made by hand, without unique values
    result = run(["init-hubspot"], env)
    assert result.exit_code == 2
    assert ("deals property dealreg_registration_id does not require unique values, and HubSpot cannot make an "
            "existing property unique: delete it in HubSpot") in " ".join(result.output.split())


def test_init_hubspot_creates_the_pipeline_and_prints_the_setting(api, env):
    result = run(["init-hubspot", "--pipeline", "Partner registrations"], env)
    assert result.exit_code == 0, result.output
    [line] = [line for line in result.stdout.splitlines() if line.startswith("deal pipeline")]
    assert line.startswith("deal pipeline 'Partner registrations' created (id ")
    pipeline_id = line.rsplit("=", 1)[1]
    checked = run(["init-hubspot"], {**env, "DEALREG_HUBSPOT_PIPELINE": pipeline_id})
    assert checked.exit_code == 0, checked.output


def test_init_hubspot_names_a_pipeline_that_does_not_exist(api, env):
    result = run(["init-hubspot"], {**env, "DEALREG_HUBSPOT_PIPELINE": "Partner regs"})
    assert result.exit_code == 2
    assert "HubSpot has no deal pipeline 'Partner regs' (DEALREG_HUBSPOT_PIPELINE); the account has: Sales Pipeline " \
           "(default)" in " ".join(result.output.split())


def test_init_hubspot_names_the_scope_a_token_lacks_and_where_to_add_it(api, env):
    token = api.add_token("pat-na1-objects-only", {s for s in api._tokens[api.token] if "schemas" not in s})
    result = run(["init-hubspot"], {**env, "DEALREG_HUBSPOT_TOKEN": token})
    assert result.exit_code == 2
    text = " ".join(result.output.split())
    assert "the token lacks the scope crm.schemas.deals.read" in text and "Service Key" in text


def test_init_hubspot_without_a_token_names_the_setting(api):
    result = run(["init-hubspot"], {"DEALREG_HUBSPOT_API_URL": api.base_url})
    assert result.exit_code == 2
    assert "set DEALREG_HUBSPOT_TOKEN to the access token of a HubSpot private app or Service Key" in result.output


def test_a_subprocess_is_pointed_at_the_local_api_by_the_environment_alone(api):
    environ = {**environment_without_settings(), **hubspot_environment(api)}
    done = subprocess.run([sys.executable, "-m", "handlers.cli", "init-hubspot"], cwd=ROOT, env=environ,
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert len([r for r in api.requests if r.kind == "properties.create"]) == PROPERTY_COUNT


# -- dealreg check --registry hubspot ------------------------------------------------------------

def test_check_against_hubspot_equals_the_check_against_the_same_registrations_as_csv(api, env):
    new_account(api)
    load_examples(store_from(env), EXAMPLES)
    common = ["--rules", str(EXAMPLES / "rules.yaml"), "--as-of", "2026-11-20", "-o", "-"]
    from_csv = run(["check", str(EXAMPLES / "prospects.csv"), "--registry", str(EXAMPLES / "registrations.csv"),
                    *common], env)
    api.reset_log()
    from_hubspot = run(["check", str(EXAMPLES / "prospects.csv"), "--registry", "hubspot", *common], env)
    assert from_hubspot.exit_code == 0, from_hubspot.output
    assert from_hubspot.stdout == from_csv.stdout
    # read once: the pipelines, the companies, the deals; nothing written
    assert [r.kind for r in api.requests] == ["pipelines.list", "objects.list", "objects.list"]


def test_check_against_hubspot_counts_the_direct_teams_open_deals(api, env, tmp_path):
    new_account(api)
    siemens = api.seed("companies", {"name": "Siemens AG", "domain": "siemens.com"})
    api.seed("deals", {"dealname": "Siemens renewal", "dealstage": "qualifiedtobuy",
                       "createdate": "2026-03-01T09:00:00Z"}, associations=[(siemens, 5)])
    prospects = tmp_path / "prospects.csv"
    prospects.write_text("company,website,partner\nSiemens,siemens.com,Northwind Partners\n", encoding="utf-8")
    result = run(["check", str(prospects), "--registry", "hubspot", "--rules", str(write_rules(tmp_path)),
                  "--as-of", "2026-03-10", "-o", "-"], env)
    assert result.exit_code == 0, result.output
    [row] = csv.DictReader(io.StringIO(result.stdout))
    assert (row["status"], row["owner"], row["rule"]) == ("conflict", "direct", "first_to_register")
    assert row["matched_registration_id"].startswith("deal-")
    assert api.count(method="POST") == 1  # the batch read of the open deal's company: no write
    assert "1 row decided against 1 registration as of 2026-03-10" in result.stderr


def test_check_against_hubspot_without_a_token_names_the_fix(tmp_path):
    prospects = tmp_path / "p.csv"
    prospects.write_text("company\nAcme\n", encoding="utf-8")
    result = run(["check", str(prospects), "--registry", "hubspot"], {})
    assert result.exit_code == 2
    assert "DEALREG_HUBSPOT_TOKEN" in result.output
