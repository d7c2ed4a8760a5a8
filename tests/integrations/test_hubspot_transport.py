"""Calling HubSpot (integrations/hubspot/transport.py) against the local HubSpot API over HTTP:
what is retried and for how long, what is not, and errors that name the fix."""

from __future__ import annotations


import pytest

from dealreg.errors import StoreError, StoreUnavailable
from integrations.hubspot.transport import Ambiguous, BatchRefused, HubSpotAPI, UniqueConflict
from tests.fakes.hubspot_api import FakeHubSpotAPI
from tests.integrations.hubspot_support import FakeClock, hubspot_api


@pytest.fixture
def api(fake: FakeHubSpotAPI, clock: FakeClock) -> HubSpotAPI:
    return hubspot_api(fake, clock)


def read(api: HubSpotAPI) -> object:
    return api.call("GET", "/crm/v3/objects/deals", "the deals read", api.deadline(), params={"limit": "1"})


def create(api: HubSpotAPI, name: str = "Acme") -> object:
    return api.call("POST", "/crm/v3/objects/deals", "the deal", api.deadline(), body={"properties": {"dealname": name}},
                    write=True)


@pytest.mark.parametrize("fault", ["429:TEN_SECONDLY_ROLLING", "429:SECONDLY", 423, 500, 502, 503, 504, "502-html",
                                   "504-html", "reset"])
def test_a_read_is_retried_after_a_passing_fault(fake, api, clock, fault):
    fake.inject("objects.list", fault, times=2)
    assert read(api) == {"results": []}
    assert fake.count("objects.list") == 3
    assert len(clock.slept) == 2
    if fault == 423:  # "locks last 2 seconds" (error-handling guide)
        assert min(clock.slept) >= 2.0


def test_a_fault_that_lasts_past_the_deadline_is_store_unavailable(fake, api, clock):
    fake.inject(None, 503, times=10_000)
    with pytest.raises(StoreUnavailable, match="did not answer the deals read within 10 s"):
        read(api)
    assert sum(clock.slept) <= 10.0  # never past the deadline
    assert fake.count("objects.list") > 3


def test_the_daily_limit_is_not_retried(fake, api, clock):
    fake.inject(None, "429:DAILY", times=10)
    with pytest.raises(StoreUnavailable, match="daily API limit .* resets at midnight"):
        read(api)
    assert fake.count() == 1 and clock.slept == []


def test_the_daily_limit_of_the_fake_itself(fake, api):
    fake.daily_limit = 1
    read(api)
    with pytest.raises(StoreUnavailable, match="DAILY"):
        read(api)


def test_a_write_refused_for_quota_is_sent_again_and_lands_once(fake, api):
    fake.inject("objects.create", "429:TEN_SECONDLY_ROLLING")
    create(api)
    assert [d["dealname"] for d in fake.objects("deals")] == ["Acme"]


@pytest.mark.parametrize("fault", [500, 503, "502-html", "reset", "503-after-write", "reset-after-write"])
def test_a_write_answered_with_a_5xx_or_a_dropped_connection_is_ambiguous(fake, api, fault):
    fake.inject("objects.create", fault)
    with pytest.raises(Ambiguous):
        create(api)
    applied = "after-write" in str(fault)
    assert len(fake.objects("deals")) == (1 if applied else 0)  # the caller must look before sending it again


def test_the_rolling_ten_second_window_is_waited_out(fake, clock):
    """HubSpot's own limit (100 per rolling 10 s for a private app on Free/Starter): the store backs
    off until the window lets it through. The fake's clock moves with the store's sleeps."""
    fake.ten_second_limit = 3
    api = HubSpotAPI(fake.token, base_url=fake.base_url, clock=clock, deadline_seconds=15,
                     sleep=lambda s: (clock.sleep(s), fake.advance(s)))
    for _ in range(5):
        read(api)
    refused = [r for r in fake.requests if r.status == 429]
    assert refused and all(r.body is None for r in refused)
    assert fake.count() == 5 + len(refused)
    assert 9.0 <= sum(clock.slept) <= 15.0  # the fourth read waited for the first to leave the window


def test_a_wrong_token_names_the_setting(fake, clock):
    api = HubSpotAPI("pat-na1-not-a-token", base_url=fake.base_url, clock=clock, sleep=clock.sleep)
    with pytest.raises(StoreError, match="DEALREG_HUBSPOT_TOKEN") as caught:
        read(api)
    assert not isinstance(caught.value, StoreUnavailable)  # retrying will not fix it
    assert fake.count() == 1


def test_no_token_is_refused_before_any_call():
    with pytest.raises(StoreError, match="DEALREG_HUBSPOT_TOKEN"):
        HubSpotAPI("")


@pytest.mark.parametrize("method, path, scope", [
    ("GET", "/crm/v3/objects/deals", "crm.objects.deals.read"),
    ("POST", "/crm/v3/objects/notes", "crm.objects.contacts.write"),  # notes take the contacts scopes
    ("GET", "/crm/v3/properties/companies", "crm.schemas.companies.read"),
    ("POST", "/crm/v3/objects/deals/search", "crm.objects.deals.read"),
])
def test_a_missing_scope_is_named_with_where_to_add_it(fake, clock, method, path, scope):
    token = fake.add_token("pat-na1-few-scopes", set())
    api = HubSpotAPI(token, base_url=fake.base_url, clock=clock, sleep=clock.sleep)
    body = {"properties": {"hs_timestamp": "0"}} if method == "POST" else None
    with pytest.raises(StoreError) as caught:
        api.call(method, path, "the call", api.deadline(), body=body, write=method == "POST" and "search" not in path)
    assert f"lacks the scope {scope}" in str(caught.value)
    assert "Service Key" in str(caught.value) and "Scopes" in str(caught.value)


def test_an_unknown_property_names_init_hubspot(fake, api):
    with pytest.raises(StoreError, match=r"no property dealreg_nope .*`dealreg init-hubspot`"):
        api.call("POST", "/crm/v3/objects/deals", "the deal", api.deadline(),
                 body={"properties": {"dealreg_nope": "x"}}, write=True)


def test_an_association_to_a_deleted_object_is_not_taken_for_a_missing_property(fake, api):
    body = {"properties": {"dealname": "Acme"}, "associations": [
        {"to": {"id": "999"}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}]}]}
    with pytest.raises(StoreError) as caught:
        api.call("POST", "/crm/v3/objects/deals", "the deal", api.deadline(), body=body, write=True)
    assert "init-hubspot" not in str(caught.value) and "it does not exist" in str(caught.value)


@pytest.mark.parametrize("status", [409, 400])
def test_a_unique_value_conflict_names_the_property_whichever_status_hubspot_answers(fake, api, status):
    fake.unique_conflict_status = status
    body = {"properties": {"dealreg_registration_id": "R-1"}}
    api.call("POST", "/crm/v3/objects/deals", "the deal", api.deadline(), body=body, write=True)
    with pytest.raises(UniqueConflict) as caught:
        api.call("POST", "/crm/v3/objects/deals", "the deal", api.deadline(), body=body, write=True)
    assert caught.value.properties == ("dealreg_registration_id",)


def test_a_missing_object_read_by_unique_value_is_none(api):
    assert api.get("deals", "R-nope", ["dealname"], "the deal", api.deadline(), id_property="dealreg_registration_id") is None


def test_lists_page_with_after(fake, api):
    for n in range(230):
        fake.seed("deals", {"dealname": f"Deal {n}"})
    fake.reset_log()
    names = [d["properties"]["dealname"] for d in api.list_all("deals", ["dealname"], "the deals", api.deadline)]
    assert names == [f"Deal {n}" for n in range(230)]
    assert fake.count("objects.list") == 3  # 100 a page


def test_a_search_past_10000_results_says_so_instead_of_failing(fake, api):
    fake.inject("search", "429:SECONDLY")  # and the search's own limit is waited out
    for n in range(10_050):
        fake.seed("companies", {"name": f"C{n}"})
    found = api.search("companies", [{"propertyName": "name", "operator": "HAS_PROPERTY"}], ["name"], "the companies",
                       api.deadline())
    assert found is None  # the caller reads with the list endpoint instead
    assert all(r.status in (200, 429) for r in fake.requests)  # never the 400 beyond 10,000


def test_a_batch_sends_again_only_the_inputs_that_failed(fake, api, monkeypatch):
    """HubSpot answers 207 naming the inputs that failed when each carries an objectWriteTraceId
    (error-handling guide, "Multi-status errors"); only those go again."""
    real = fake.dispatch
    failed_once: list[str] = []

    def one_input_fails_once(kind, args, query, body, path):
        if kind == "batch.create" and not failed_once:
            first, *rest = body["inputs"]
            failed_once.append(first["properties"]["dealname"])
            status, answer = real(kind, args, query, {"inputs": rest}, path)
            error = {"status": "error", "category": "RATE_LIMITS", "message": "try again",
                     "context": {"objectWriteTraceId": [first["objectWriteTraceId"]]}}
            return 207, {**answer, "numErrors": 1, "errors": [error]}
        return real(kind, args, query, body, path)

    monkeypatch.setattr(fake, "dispatch", one_input_fails_once)
    inputs = [{"properties": {"dealname": f"Deal {n}"}} for n in range(3)]
    results = api.batch_write("deals", "create", inputs, "the deals", api.deadline())
    assert sorted(r["properties"]["dealname"] for r in results) == ["Deal 0", "Deal 1", "Deal 2"]
    sent = [len(r.body["inputs"]) for r in fake.requests if r.kind == "batch.create"]
    assert sent == [3, 1]  # the second request carries only the input that failed
    assert sorted(d["dealname"] for d in fake.objects("deals")) == ["Deal 0", "Deal 1", "Deal 2"]


def test_a_batch_input_refused_for_good_is_named_once_the_others_are_written(fake, api):
    fake.seed("deals", {"dealname": "A", "dealreg_registration_id": "R-1"})
    inputs = [{"properties": {"dealname": "B", "dealreg_registration_id": "R-1"}},
              {"properties": {"dealname": "C", "dealreg_registration_id": "R-2"}}]
    with pytest.raises(BatchRefused, match="1 of 2 inputs refused") as caught:
        api.batch_write("deals", "create", inputs, "the deals", api.deadline())
    assert caught.value.refused == [inputs[0]]
    assert [r["properties"]["dealname"] for r in caught.value.results] == ["C"]
    assert sorted(d["dealname"] for d in fake.objects("deals")) == ["A", "C"]
