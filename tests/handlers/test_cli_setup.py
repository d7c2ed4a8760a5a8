"""`dealreg init-typeform` against a local Typeform API (tests/fakes/typeform_api.py), and
`dealreg clay-config`, whose body filled in as Clay fills it is a body the Clay route decides."""

from __future__ import annotations

import json
import re

import pytest
from click.testing import CliRunner

from handlers.cli import main
from integrations.typeform import DEFAULT_MAPPING
from integrations.typeform.api import QUESTIONS, TypeformAPI
from tests.fakes.typeform_api import FakeTypeformAPI
from tests.handlers.support import API_KEY, AUTH, TYPEFORM_SECRET
from tests.handlers.test_docs_clay import ROW, as_clay_sends_it

HOOK = "https://abc123.execute-api.us-east-1.amazonaws.com"


@pytest.fixture
def typeform():
    with FakeTypeformAPI() as fake:
        yield fake


@pytest.fixture
def run(typeform, tmp_path):
    env = {"DEALREG_TYPEFORM_API_URL": typeform.base_url, "DEALREG_TYPEFORM_TOKEN": typeform.token,
           "DEALREG_TYPEFORM_SECRET": TYPEFORM_SECRET, "DEALREG_DB": str(tmp_path / "dealreg.db"),
           "DEALREG_RULES": str(tmp_path / "none.yaml")}

    def invoke(*args: str, **more: str):
        return CliRunner(env={**env, **more}).invoke(main, ["init-typeform", "--url", HOOK, *args])
    return invoke


def test_run_twice_leaves_one_form_and_one_webhook_and_prints_a_link_per_partner(run, typeform):
    first = run("--partner", "Northwind Partners", "--partner", "Contoso Consulting")
    assert first.exit_code == 0, first.output
    second = run("--partner", "Northwind Partners", "--partner", "Contoso Consulting")
    assert second.exit_code == 0, second.output
    [form] = typeform.forms.values()
    assert [hook["tag"] for hook in typeform.webhooks[form["id"]].values()] == ["dealreg"]
    hook = typeform.webhooks[form["id"]]["dealreg"]
    assert (hook["url"], hook["secret"], hook["enabled"], hook["verify_ssl"]) == (
        f"{HOOK}/webhooks/typeform", TYPEFORM_SECRET, True, True)
    assert "Created the form" in first.output and "Updated the form" in second.output
    link = f"https://acme.typeform.com/to/{form['id']}"
    assert f"Northwind Partners  {link}#partner=Northwind%20Partners" in second.output
    assert f"Contoso Consulting  {link}#partner=Contoso%20Consulting" in second.output
    assert typeform.deleted_fields == []


def test_the_form_carries_the_refs_dealreg_reads_and_the_hidden_partner(run, typeform):
    assert run("--partner", "Northwind Partners").exit_code == 0
    [form] = typeform.forms.values()
    refs = [f["ref"] for f in form["fields"]]
    assert refs == [q["ref"] for q in QUESTIONS]
    assert all(DEFAULT_MAPPING[ref] for ref in refs)  # every question is read by the default mapping
    assert form["hidden"] == ["partner"] and DEFAULT_MAPPING["partner"] == "partner"


def test_an_update_keeps_the_owners_questions_the_ids_and_the_theme(run, typeform):
    assert run("--partner", "P").exit_code == 0
    [form] = typeform.forms.values()
    api = TypeformAPI(typeform.token, base_url=typeform.base_url)
    edited = {**form, "fields": [*form["fields"], {"ref": "close_date", "type": "date", "title": "Expected close"}],
              "hidden": ["utm_source", "partner"], "theme": {"href": "https://api.typeform.com/themes/brand"}}
    api.call("PUT", f"/forms/{form['id']}", edited)  # the form owner's own edit in Typeform
    ids = {f["ref"]: f["id"] for f in typeform.forms[form["id"]]["fields"]}
    assert run("--partner", "P").exit_code == 0
    after = typeform.forms[form["id"]]
    assert {f["ref"]: f["id"] for f in after["fields"]} == ids  # same questions, same ids: the answers stay
    assert after["hidden"] == ["utm_source", "partner"]
    assert after["theme"] == {"href": "https://api.typeform.com/themes/brand"}
    assert typeform.deleted_fields == []


def test_a_rate_limited_call_is_waited_out():
    with FakeTypeformAPI() as typeform:
        slept: list[float] = []
        api = TypeformAPI(typeform.token, base_url=typeform.base_url, sleep=slept.append)
        typeform.throttle(2)
        form, created = api.ensure_form("Partner deal registration")
        assert created and slept == [1.0, 1.0]


def test_two_forms_with_the_title_are_refused_naming_them(run, typeform):
    api = TypeformAPI(typeform.token, base_url=typeform.base_url)
    a = api.call("POST", "/forms", {"title": "Partner deal registration", "fields": []})
    b = api.call("POST", "/forms", {"title": "Partner deal registration", "fields": []})
    api.call("POST", "/forms", {"title": "Partner deal registration (old)", "fields": []})  # contains it: not it
    result = run("--partner", "P")
    assert result.exit_code == 2
    assert f"2 forms are titled 'Partner deal registration' ({a['id']}, {b['id']}); pass --form-id" in result.output
    assert run("--partner", "P", "--form-id", a["id"]).exit_code == 0
    assert len(typeform.forms) == 3


def test_a_wrong_token_and_a_missing_secret_name_the_fix(run):
    result = run("--partner", "P", DEALREG_TYPEFORM_TOKEN="wrong")
    assert result.exit_code == 2 and "Typeform refused the token (403)" in result.output
    result = run("--partner", "P", DEALREG_TYPEFORM_SECRET="")
    assert result.exit_code == 2 and "DEALREG_TYPEFORM_SECRET is not set" in result.output


def test_the_partners_default_to_the_partners_list(run, tmp_path):
    (tmp_path / "partners.csv").write_text("partner,joined_at\nFabrikam Solutions,2026-07-01\n", encoding="utf-8")
    imported = CliRunner(env={"DEALREG_DB": str(tmp_path / "dealreg.db")}).invoke(
        main, ["import", "partners", str(tmp_path / "partners.csv")])
    assert imported.exit_code == 0, imported.output
    rules = tmp_path / "rules.yaml"
    rules.write_text("partners: [Litware Inc]\nrules: [first_to_register]\n", encoding="utf-8")
    result = run(DEALREG_RULES=str(rules))
    assert result.exit_code == 0, result.output
    assert "#partner=Fabrikam%20Solutions" in result.output and "#partner=Litware%20Inc" in result.output


def clay_sections(output: str) -> dict[str, dict[str, str]]:
    sections: dict[str, dict[str, str]] = {}
    for block in output.split("== ")[1:]:
        mode = block.split()[0]
        sections[mode] = dict(re.findall(r"^([A-Z][\w &]+):\s+(.*)$", block, re.M))
    return sections


def test_clay_config_prints_a_body_clay_fills_into_one_the_route_decides(client, store):
    result = CliRunner(env={"DEALREG_API_KEY": API_KEY}).invoke(main, ["clay-config", "--url", "https://x.example"])
    assert result.exit_code == 0, result.output
    sections = clay_sections(result.output)
    assert set(sections) == {"check", "register"}
    check = sections["check"]
    assert check["Method"] == "POST" and check["Endpoint"] == "https://x.example/webhooks/clay?mode=check"
    assert json.loads(check["Headers"]) == AUTH
    assert '"/' not in check["Body"]  # no quotes around a column token: Clay writes the value as JSON itself
    body = as_clay_sends_it(check["Body"], ROW)
    response = client.post("/webhooks/clay?mode=check", data=body, headers={"Content-Type": "application/json", **AUTH})
    assert response.status_code == 200, (body, response.get_data(as_text=True))
    paths = check["Field paths to return"].split(",")
    assert set(paths) <= set(response.json) and {"status", "suppress", "owner", "reason"} <= set(paths)
    assert sections["register"]["Endpoint"].endswith("?mode=register")
