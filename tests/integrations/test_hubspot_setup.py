"""`dealreg init-hubspot` (integrations/hubspot/setup.py) against the local HubSpot API: the
properties made with the right types, idempotent, a mismatch named with its fix, the pipeline."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from dealreg.errors import StoreError
from integrations.hubspot import mapping as m
from integrations.hubspot.setup import COMPANY_PROPERTIES, DEAL_PROPERTIES, PROPERTIES, check_properties, init_hubspot
from tests.fakes.hubspot_api import FakeHubSpotAPI, fake_hubspot_api
from tests.integrations.hubspot_support import FakeClock, hubspot_api, new_account


@pytest.fixture
def fake() -> Iterator[FakeHubSpotAPI]:
    for api in fake_hubspot_api():
        yield api
        assert api.errors == [], "the fake itself raised:\n" + "\n".join(api.errors)


def run_init(fake: FakeHubSpotAPI, pipeline: str = ""):
    api = hubspot_api(fake, FakeClock())
    return init_hubspot(api, api.deadline, pipeline)


def properties(fake: FakeHubSpotAPI, object_type: str) -> dict[str, dict]:
    answer = requests.get(f"{fake.base_url}/crm/v3/properties/{object_type}", timeout=5,
                          headers={"Authorization": f"Bearer {fake.token}"}).json()
    return {p["name"]: p for p in answer["results"]}


def test_init_creates_the_group_and_every_property_with_its_type(fake):
    report = run_init(fake)
    assert report.created_groups == ["deals", "companies"] and report.problems == []
    assert len(report.created) == len(DEAL_PROPERTIES) + len(COMPANY_PROPERTIES)
    deals = properties(fake, "deals")
    assert {m.DEAL[c] for c in m.DEAL} <= set(deals)  # a property for every column of the Registrations tab
    assert deals["dealreg_external_id"]["hasUniqueValue"] and deals["dealreg_registration_id"]["hasUniqueValue"]
    assert (deals["dealreg_status"]["type"], deals["dealreg_status"]["fieldType"]) == ("enumeration", "select")
    assert [o["value"] for o in deals["dealreg_status"]["options"]] == [
        "clear", "duplicate", "conflict", "needs_review", "rejected"]
    assert deals["dealreg_reason"]["fieldType"] == "textarea"
    assert all(deals[p.name]["groupName"] == "dealreg" for p in DEAL_PROPERTIES)
    assert properties(fake, "companies")[m.ACCOUNT_KEY]["hasUniqueValue"]


def test_init_again_creates_nothing_and_finds_everything_right(fake):
    run_init(fake)
    fake.reset_log()
    again = run_init(fake)
    assert (again.created_groups, again.created, again.problems) == ([], [], [])
    assert again.ok == len(DEAL_PROPERTIES) + len(COMPANY_PROPERTIES)
    assert fake.count(method="POST") == 0  # read only: 2 reads per object type
    assert fake.count() == 4


def test_a_property_of_the_wrong_kind_is_named_with_the_fix(fake):
    fake.create_property("deals", "dealreg_status")  # text, not a dropdown
    fake.create_property("deals", "dealreg_external_id")  # not unique
    fake.create_property("deals", "dealreg_state", "enumeration", "select", options=["open", "won"])
    report = run_init(fake)
    assert len(report.problems) == 2
    status, external = sorted(report.problems, key=lambda p: ["status", "external"].index(
        p.split()[2].removeprefix("dealreg_").split("_")[0]))
    assert "dealreg_status is string/text; dealreg needs enumeration/select" in status and "delete it" in status
    assert "cannot make an existing property unique" in external and "init-hubspot" in external
    assert "deals.dealreg_status" not in report.created  # what exists is never overwritten
    # A dropdown that lacks options (a state added since, `expired`) gets them, its own kept first.
    assert report.updated == ["deals.dealreg_state"]
    assert [o["value"] for o in properties(fake, "deals")["dealreg_state"]["options"]] == [
        "open", "won", "approved", "expired", "lost", "pending", "rejected", "withdrawn"]


def test_a_property_hubspot_makes_otherwise_than_asked_is_named(fake, monkeypatch):
    real = fake.dispatch

    def no_unique_values(kind, args, query, body, path):  # an account that ignores hasUniqueValue
        if kind == "properties.create":
            body = {**body, "hasUniqueValue": False}
        return real(kind, args, query, body, path)

    monkeypatch.setattr(fake, "dispatch", no_unique_values)
    report = run_init(fake)
    assert [p.split(" does not")[0] for p in report.problems] == [
        "HubSpot created it, but deals property dealreg_registration_id",
        "HubSpot created it, but deals property dealreg_external_id",
        f"HubSpot created it, but companies property {m.ACCOUNT_KEY}"]


def test_check_properties_names_what_is_missing(fake):
    new_account(fake)
    api = hubspot_api(fake)
    assert check_properties(api, api.deadline()) == []
    with fake._lock:
        del fake._props["companies"][m.ACCOUNT_KEY]  # deleted by hand in HubSpot's settings
    [problem] = check_properties(api, api.deadline())
    assert problem == f"companies property {m.ACCOUNT_KEY} does not exist: run `dealreg init-hubspot`"


def test_a_missing_scope_is_named(fake):
    token = fake.add_token("pat-na1-no-schemas", {s for s in fake._tokens[fake.token] if "schemas" not in s})
    api = hubspot_api(fake, FakeClock())
    api._http.headers["Authorization"] = f"Bearer {token}"
    with pytest.raises(StoreError, match="lacks the scope crm.schemas.deals.read; add it to the Service Key.s scopes"):
        init_hubspot(api, api.deadline)


def test_the_pipeline_is_created_when_asked_for_and_found_the_next_time(fake):
    report = run_init(fake, "Partner registrations")
    assert report.pipeline_created
    stages = report.pipeline["stages"]
    assert [(s["label"], s["metadata"]["isClosed"]) for s in stages] == [
        ("Registered", "false"), ("Closed won", "true"), ("Closed lost", "true")]
    again = run_init(fake, "partner registrations")
    assert not again.pipeline_created and again.pipeline["id"] == report.pipeline["id"]


def test_an_account_that_cannot_have_another_pipeline_is_told_what_to_do(fake):
    fake.deal_pipeline_limit = 1  # HubSpot's free CRM: the one default pipeline
    with pytest.raises(StoreError, match="leave DEALREG_HUBSPOT_PIPELINE at 'default'"):
        run_init(fake, "Partner registrations")


def test_every_property_name_is_one_hubspot_accepts(fake):
    for object_type, wanted in PROPERTIES.items():
        for prop in wanted:
            assert prop.name.startswith("dealreg_") and len(prop.name) <= 100
    assert sum(p.unique for p in DEAL_PROPERTIES) <= 10  # HubSpot allows 10 unique properties per object
