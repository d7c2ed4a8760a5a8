"""The HubSpot fake, driven with plain `requests` over loopback the way a store would call HubSpot."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from tests.fakes.hubspot_api import FakeHubSpotAPI, fake_hubspot_api

PRIMARY_DEAL_TO_COMPANY, NOTE_TO_DEAL, NOTE_TO_COMPANY = 5, 214, 190


@pytest.fixture
def hs() -> Iterator[FakeHubSpotAPI]:
    for fake in fake_hubspot_api():
        yield fake
        assert fake.errors == [], "the fake itself raised:\n" + "\n".join(fake.errors)


class Client:
    """What a store built on requests would hold: a session with the bearer token and the base URL."""

    def __init__(self, api: FakeHubSpotAPI, token: str | None = None):
        self.base = api.base_url
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token or api.token}"

    def __getattr__(self, method: str):
        return lambda path, **kw: self.session.request(method.upper(), self.base + path, timeout=5, **kw)


@pytest.fixture
def client(hs: FakeHubSpotAPI) -> Client:
    return Client(hs)


def to(object_id: str, type_id: int) -> dict:
    return {
        "to": {"id": object_id},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": type_id}],
    }


def search(client: Client, object_type: str, *filters: dict, **body) -> requests.Response:
    groups = [{"filters": list(filters)}] if filters else []
    return client.post(f"/crm/v3/objects/{object_type}/search", json={"filterGroups": groups, **body})


def ids(response: requests.Response) -> list[str]:
    return [r["id"] for r in response.json()["results"]]


# ---------------------------------------------------------------- auth and scopes


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer pat-na1-wrong"}, {"Authorization": "Basic eDp5"}])
def test_a_missing_or_unknown_token_is_401(hs, headers):
    r = requests.get(hs.base_url + "/crm/v3/objects/deals", headers=headers, timeout=5)
    assert r.status_code == 401
    assert r.json()["category"] == "INVALID_AUTHENTICATION"
    assert r.json()["status"] == "error" and r.json()["correlationId"]


def test_a_missing_scope_is_403_naming_the_scope(hs):
    token = hs.add_token("pat-read-only", {"crm.objects.deals.read"})
    c = Client(hs, token)
    assert c.get("/crm/v3/objects/deals").status_code == 200
    r = c.post("/crm/v3/objects/deals", json={"properties": {"dealname": "x"}})
    assert r.status_code == 403
    assert r.json()["category"] == "MISSING_SCOPES"
    assert r.json()["errors"][0]["context"]["requiredScopes"] == ["crm.objects.deals.write"]
    # Notes take the contacts scopes (notes guide), properties the schema scopes.
    assert c.get("/crm/v3/objects/notes").json()["errors"][0]["context"]["requiredScopes"] == [
        "crm.objects.contacts.read"
    ]
    assert c.get("/crm/v3/properties/deals").json()["errors"][0]["context"]["requiredScopes"] == [
        "crm.schemas.deals.read"
    ]
    assert hs.objects("deals") == []


# ---------------------------------------------------------------- objects


def test_create_and_read_return_every_value_as_a_string(hs, client):
    hs.create_property("deals", "dealreg_submitted_at", "datetime", "date")
    hs.create_property("deals", "dealreg_expires_on", "date", "date")
    r = client.post(
        "/crm/v3/objects/deals",
        json={
            "properties": {
                "dealname": "Acme",
                "amount": 48000,
                "dealreg_submitted_at": 1772460588000,
                "dealreg_expires_on": "2026-06-30",
            }
        },
    )
    assert r.status_code == 201
    deal = r.json()
    assert deal["id"].isdigit() and deal["properties"]["hs_object_id"] == deal["id"]
    got = client.get(
        f"/crm/v3/objects/deals/{deal['id']}",
        params={"properties": "amount,dealreg_submitted_at,dealreg_expires_on,pipeline,no_such_property"},
    ).json()["properties"]
    assert got["amount"] == "48000"
    assert got["dealreg_submitted_at"] == "2026-03-02T14:09:48.000Z"
    assert got["dealreg_expires_on"] == "2026-06-30"
    assert got["pipeline"] == "default"  # no pipeline given: the default one
    assert "no_such_property" not in got  # an unknown property asked for is silently left out
    assert all(isinstance(v, str) for v in got.values())


def test_ids_are_counted_per_object_type_so_a_deal_and_a_company_can_share_one(hs, client):
    company = client.post("/crm/v3/objects/companies", json={"properties": {"name": "Acme"}}).json()
    deal = client.post("/crm/v3/objects/deals", json={"properties": {"dealname": "Acme"}}).json()
    assert company["id"] == deal["id"]


def test_an_unknown_property_is_400_and_nothing_is_written(hs, client):
    r = client.post("/crm/v3/objects/deals", json={"properties": {"dealname": "Acme", "dealreg_partner": "Northwind"}})
    assert r.status_code == 400
    body = r.json()
    assert body["category"] == "VALIDATION_ERROR"
    assert "PROPERTY_DOESNT_EXIST" in body["message"] and "dealreg_partner" in body["message"]
    assert body["errors"][0]["context"] == {"propertyName": ["dealreg_partner"]}
    assert hs.objects("deals") == []


def test_values_are_checked_against_the_property_type(hs, client):
    hs.create_property("deals", "dealreg_status", "enumeration", "select", options=["clear", "conflict"])
    hs.create_property("deals", "dealreg_expires_on", "date", "date")

    def problem(props: dict) -> str:
        r = client.post("/crm/v3/objects/deals", json={"properties": props})
        assert r.status_code == 400, r.text
        return r.json()["message"]

    assert "INVALID_OPTION" in problem({"dealreg_status": "Conflict"})  # the label, not the value
    assert "midnight UTC" in problem({"dealreg_expires_on": "2026-06-30T10:00:00Z"})
    assert "INVALID_FLOAT" in problem({"amount": "48k"})
    assert "READ_ONLY_VALUE" in problem({"hs_object_id": "1"})
    assert hs.objects("deals") == []


def test_update_patches_and_an_empty_string_clears(hs, client):
    deal_id = hs.seed("deals", {"dealname": "Acme", "amount": "10"})
    r = client.patch(f"/crm/v3/objects/deals/{deal_id}", json={"properties": {"amount": "", "dealname": "Acme 2"}})
    assert r.status_code == 200
    got = client.get(f"/crm/v3/objects/deals/{deal_id}").json()["properties"]
    assert got["dealname"] == "Acme 2" and got["amount"] is None
    assert client.patch("/crm/v3/objects/deals/999", json={"properties": {"dealname": "x"}}).status_code == 404


def test_a_multi_line_text_is_one_string_with_its_line_breaks(hs, client):
    hs.create_property("companies", "dealreg_aliases", "string", "textarea")
    value = "Philip Morris Companies\nPM USA\r\nMarlboro"
    company = client.post("/crm/v3/objects/companies",
                          json={"properties": {"name": "Altria", "dealreg_aliases": value}})
    assert company.status_code == 201
    got = client.get(f"/crm/v3/objects/companies/{company.json()['id']}", params={"properties": "dealreg_aliases"})
    assert got.json()["properties"]["dealreg_aliases"] == value


def test_archive_then_read_is_404(hs, client):
    deal_id = hs.seed("deals", {"dealname": "Acme"})
    assert client.delete(f"/crm/v3/objects/deals/{deal_id}").status_code == 204
    assert client.get(f"/crm/v3/objects/deals/{deal_id}").status_code == 404
    assert client.get(f"/crm/v3/objects/deals/{deal_id}", params={"archived": "true"}).json()["archived"] is True


# ---------------------------------------------------------------- unique values


@pytest.fixture
def unique_key(hs):
    hs.create_property("deals", "dealreg_external_id", unique=True)
    return "dealreg_external_id"


def test_a_unique_value_is_refused_on_create_with_409_naming_the_existing_object(hs, client, unique_key):
    first = client.post("/crm/v3/objects/deals", json={"properties": {"dealname": "A", unique_key: "tf-123"}}).json()
    r = client.post("/crm/v3/objects/deals", json={"properties": {"dealname": "B", unique_key: "tf-123"}})
    assert r.status_code == 409
    assert r.json()["category"] == "CONFLICT"
    assert r.json()["message"] == f"Deal already exists. Existing ID: {first['id']}"
    assert r.json()["errors"][0]["in"] == unique_key
    assert len(hs.objects("deals")) == 1


def test_a_unique_value_is_refused_on_update_too(hs, client, unique_key):
    hs.seed("deals", {"dealname": "A", unique_key: "tf-1"})
    other = hs.seed("deals", {"dealname": "B", unique_key: "tf-2"})
    r = client.patch(f"/crm/v3/objects/deals/{other}", json={"properties": {unique_key: "tf-1"}})
    assert r.status_code == 409
    # Writing an object's own value again is no conflict.
    assert client.patch(f"/crm/v3/objects/deals/{other}", json={"properties": {unique_key: "tf-2"}}).status_code == 200


def test_the_400_shape_of_a_unique_conflict_can_be_chosen(hs, client, unique_key):
    hs.unique_conflict_status = 400
    hs.seed("deals", {"dealname": "A", unique_key: "tf-1"})
    r = client.post("/crm/v3/objects/deals", json={"properties": {"dealname": "B", unique_key: "tf-1"}})
    assert r.status_code == 400 and "already has that value" in r.json()["message"]


def test_read_and_update_by_id_property(hs, client, unique_key):
    deal_id = hs.seed("deals", {"dealname": "A", unique_key: "tf-9"})
    r = client.get("/crm/v3/objects/deals/tf-9", params={"idProperty": unique_key})
    assert r.status_code == 200 and r.json()["id"] == deal_id
    assert client.get("/crm/v3/objects/deals/tf-0", params={"idProperty": unique_key}).status_code == 404
    r = client.patch(
        "/crm/v3/objects/deals/tf-9", params={"idProperty": unique_key}, json={"properties": {"amount": 5}}
    )
    assert r.status_code == 200 and r.json()["id"] == deal_id
    r = client.get("/crm/v3/objects/deals/A", params={"idProperty": "dealname"})
    assert r.status_code == 400 and "non-unique" in r.json()["message"]


def test_at_most_ten_unique_properties_per_object(hs, client):
    for n in range(10):
        hs.create_property("companies", f"key_{n}", unique=True)
    body = {
        "name": "key_10",
        "label": "k",
        "type": "string",
        "fieldType": "text",
        "groupName": "companyinformation",
        "hasUniqueValue": True,
    }
    r = client.post("/crm/v3/properties/companies", json=body)
    assert r.status_code == 400 and "10 unique" in r.json()["message"]


def test_company_domain_is_not_unique(hs, client):
    for _ in range(2):
        assert client.post("/crm/v3/objects/companies", json={"properties": {"domain": "acme.com"}}).status_code == 201
    assert len(hs.objects("companies")) == 2


# ---------------------------------------------------------------- lists


def test_list_pages_with_after_and_cuts_limit_to_100(hs, client):
    made = [hs.seed("companies", {"name": f"c{n}"}) for n in range(105)]
    first = client.get("/crm/v3/objects/companies", params={"limit": 500}).json()
    assert len(first["results"]) == 100
    rest = client.get("/crm/v3/objects/companies", params={"limit": 500, "after": first["paging"]["next"]["after"]})
    assert [r["id"] for r in first["results"] + rest.json()["results"]] == made
    assert "paging" not in rest.json()


# ---------------------------------------------------------------- search


@pytest.fixture
def deals(hs):
    hs.search_per_second = 1000  # these tests are about what search finds, not how often it may be asked
    hs.create_property("deals", "dealreg_partner")
    rows = [
        {"dealname": "Acme Robotics GmbH", "amount": "48000", "dealreg_partner": "Northwind"},
        {"dealname": "Globex", "amount": "12000", "dealreg_partner": "Contoso"},
        {"dealname": "Initech robotics", "amount": "90000"},
    ]
    return [hs.seed("deals", row) for row in rows]


def test_search_operators(client, deals):
    acme, globex, initech = deals
    f = lambda op, **kw: {"propertyName": kw.pop("prop", "amount"), "operator": op, **kw}  # noqa: E731
    assert ids(search(client, "deals", f("EQ", prop="dealreg_partner", value="northwind"))) == [acme]
    assert ids(search(client, "deals", f("NEQ", prop="dealreg_partner", value="Northwind"))) == [globex, initech]
    assert ids(search(client, "deals", f("IN", prop="dealreg_partner", values=["contoso", "x"]))) == [globex]
    assert ids(search(client, "deals", f("GT", value="12000"))) == [acme, initech]
    assert ids(search(client, "deals", f("GTE", value="12000"), f("LTE", value="48000"))) == [acme, globex]
    assert ids(search(client, "deals", f("LT", value="48000"))) == [globex]
    assert ids(search(client, "deals", f("BETWEEN", value="40000", highValue="95000"))) == [acme, initech]
    assert ids(search(client, "deals", f("HAS_PROPERTY", prop="dealreg_partner"))) == [acme, globex]
    assert ids(search(client, "deals", f("NOT_HAS_PROPERTY", prop="dealreg_partner"))) == [initech]
    assert ids(search(client, "deals", f("CONTAINS_TOKEN", prop="dealname", value="robotics"))) == [acme, initech]
    assert ids(search(client, "deals", f("CONTAINS_TOKEN", prop="dealname", value="robot"))) == []  # whole tokens
    assert ids(search(client, "deals", f("CONTAINS_TOKEN", prop="dealname", value="robot*"))) == [acme, initech]


def test_filter_groups_are_or_and_sorts_order(client, deals):
    acme, globex, initech = deals
    body = {
        "filterGroups": [
            {"filters": [{"propertyName": "dealreg_partner", "operator": "EQ", "value": "Contoso"}]},
            {"filters": [{"propertyName": "amount", "operator": "GT", "value": "50000"}]},
        ],
        "sorts": [{"propertyName": "amount", "direction": "DESCENDING"}],
        "properties": ["dealname"],
    }
    r = client.post("/crm/v3/objects/deals/search", json=body).json()
    assert [x["id"] for x in r["results"]] == [initech, globex]
    assert r["total"] == 2
    assert set(r["results"][0]["properties"]) == {"dealname", "createdate", "hs_lastmodifieddate", "hs_object_id"}


def test_search_pages_with_after(client, deals):
    page = search(client, "deals", limit=2).json()
    assert page["total"] == 3 and len(page["results"]) == 2
    rest = search(client, "deals", limit=2, after=page["paging"]["next"]["after"]).json()
    assert ids_of(page) + ids_of(rest) == deals and "paging" not in rest


def ids_of(body: dict) -> list[str]:
    return [r["id"] for r in body["results"]]


@pytest.mark.parametrize(
    "body, words",
    [
        ({"limit": 201}, "limit"),
        ({"filterGroups": [{"filters": []}] * 6}, "filter groups"),
        ({"filterGroups": [{"filters": [{"propertyName": "amount", "operator": "HAS_PROPERTY"}] * 11}]}, "per group"),
        ({"filterGroups": [{"filters": [{"propertyName": "amount", "operator": "HAS_PROPERTY"}] * 9}] * 3}, "filters"),
        ({"filterGroups": [{"filters": [{"propertyName": "amount", "operator": "LIKE", "value": "1"}]}]}, "operator"),
        ({"filterGroups": [{"filters": [{"propertyName": "nope", "operator": "EQ", "value": "1"}]}]}, "nope"),
    ],
)
def test_search_limits_are_400(client, body, words):
    r = client.post("/crm/v3/objects/deals/search", json=body)
    assert r.status_code == 400 and words in r.json()["message"]


def test_search_stops_at_10000_results(hs, client):
    for n in range(10_050):
        hs.seed("companies", {"name": f"c{n}"})
    r = search(client, "companies", limit=200, after="9800")
    assert r.status_code == 200 and r.json()["total"] == 10_050 and len(r.json()["results"]) == 200
    r = search(client, "companies", limit=200, after="9900")
    assert r.status_code == 400 and "10000" in r.json()["message"]


def test_search_lags_writes_while_reads_by_id_and_associations_do_not(hs, client, unique_key):
    hs.search_per_second = 1000
    company = hs.seed("companies", {"name": "Acme"})
    r = client.post(
        "/crm/v3/objects/deals",
        json={"properties": {"dealname": "Acme", unique_key: "tf-1"}, "associations": [to(company, 5)]},
    )
    deal = r.json()["id"]
    by_key = {"propertyName": unique_key, "operator": "EQ", "value": "tf-1"}
    assert search(client, "deals", by_key).json()["total"] == 0  # not indexed yet
    assert client.get(f"/crm/v3/objects/deals/{deal}").status_code == 200
    assert client.get("/crm/v3/objects/deals/tf-1", params={"idProperty": unique_key}).status_code == 200
    assert client.get(f"/crm/v4/objects/companies/{company}/associations/deals").json()["results"][0][
        "toObjectId"
    ] == int(deal)

    hs.advance(hs.search_lag_seconds)
    assert ids(search(client, "deals", by_key)) == [deal]

    # An update is seen in its old state until the index catches up.
    client.patch(f"/crm/v3/objects/deals/{deal}", json={"properties": {"dealname": "Acme 2"}})
    renamed = {"propertyName": "dealname", "operator": "EQ", "value": "Acme 2"}
    assert search(client, "deals", renamed).json()["total"] == 0
    assert search(client, "deals", by_key).json()["results"][0]["properties"]["dealname"] == "Acme"
    hs.advance(hs.search_lag_seconds)
    assert ids(search(client, "deals", renamed)) == [deal]

    client.delete(f"/crm/v3/objects/deals/{deal}")
    assert ids(search(client, "deals", renamed)) == [deal]  # archived, still in the index
    hs.advance(hs.search_lag_seconds)
    assert search(client, "deals", renamed).json()["total"] == 0


# ---------------------------------------------------------------- associations


def test_inline_associations_read_back_both_ways_with_their_type_ids(hs, client):
    company = hs.seed("companies", {"name": "Acme"})
    deal = client.post(
        "/crm/v3/objects/deals", json={"properties": {"dealname": "A"}, "associations": [to(company, 5)]}
    )
    note = client.post(
        "/crm/v3/objects/notes",
        json={
            "properties": {"hs_timestamp": "2026-03-02T14:10:03Z", "hs_note_body": "conflict: first_to_register"},
            "associations": [to(deal.json()["id"], NOTE_TO_DEAL), to(company, NOTE_TO_COMPANY)],
        },
    )
    assert note.status_code == 201, note.text
    deal_id, note_id = deal.json()["id"], note.json()["id"]
    [row] = client.get(f"/crm/v4/objects/companies/{company}/associations/deals").json()["results"]
    assert row["toObjectId"] == int(deal_id)  # a JSON number in v4
    assert {(t["typeId"], t["label"]) for t in row["associationTypes"]} == {(6, "Primary"), (342, None)}
    [row] = client.get(f"/crm/v4/objects/deals/{deal_id}/associations/companies").json()["results"]
    assert {t["typeId"] for t in row["associationTypes"]} == {5, 341}
    assert hs.associations("deals", deal_id, "notes") == {note_id: {213}}
    assert hs.associations("companies", company, "notes") == {note_id: {189}}


def test_a_type_id_that_does_not_fit_the_pair_fails_the_whole_create(hs, client):
    company = hs.seed("companies", {"name": "Acme"})
    r = client.post(
        "/crm/v3/objects/notes",
        json={"properties": {"hs_timestamp": "1772460588000"}, "associations": [to(company, NOTE_TO_DEAL)]},
    )
    assert r.status_code == 400
    r = client.post("/crm/v3/objects/deals", json={"properties": {"dealname": "A"}, "associations": [to("404", 5)]})
    assert r.status_code == 400
    assert hs.objects("notes") == [] and hs.objects("deals") == []


def test_default_association_and_paged_v4_reads(hs, client):
    company = hs.seed("companies", {"name": "Acme"})
    made = [hs.seed("deals", {"dealname": f"d{n}"}) for n in range(3)]
    for deal in made:
        r = client.put(f"/crm/v4/objects/deals/{deal}/associations/default/companies/{company}")
        assert r.status_code == 200
        assert r.json()["results"][0]["associationSpec"]["associationTypeId"] == 341
    page = client.get(f"/crm/v4/objects/companies/{company}/associations/deals", params={"limit": 2}).json()
    rest = client.get(
        f"/crm/v4/objects/companies/{company}/associations/deals", params={"after": page["paging"]["next"]["after"]}
    ).json()
    assert [str(r["toObjectId"]) for r in page["results"] + rest["results"]] == made
    r = client.put(
        f"/crm/v4/objects/deals/{made[0]}/associations/companies/{company}",
        json=[{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 5}],
    )
    assert r.status_code == 201 and r.json()["labels"] == ["Primary"]


def test_association_batch_read(hs, client):
    company = hs.seed("companies", {"name": "Acme"})
    deal = hs.seed("deals", {"dealname": "d"}, associations=[(company, 5)])
    lonely = hs.seed("companies", {"name": "Lonely"})
    r = client.post(
        "/crm/v4/associations/companies/deals/batch/read",
        json={"inputs": [{"id": company}, {"id": lonely}, {"id": "404"}]},
    )
    assert r.status_code == 207
    assert [(x["from"]["id"], x["to"][0]["toObjectId"]) for x in r.json()["results"]] == [(company, int(deal))]
    assert r.json()["errors"][0]["context"]["ids"] == ["404"]


# ---------------------------------------------------------------- batches


def test_batch_read_is_207_for_the_ids_it_cannot_find(hs, client, unique_key):
    deal = hs.seed("deals", {"dealname": "A", unique_key: "tf-1"})
    r = client.post(
        "/crm/v3/objects/deals/batch/read",
        json={"idProperty": unique_key, "inputs": [{"id": "tf-1"}, {"id": "tf-2"}], "properties": ["dealname"]},
    )
    assert r.status_code == 207
    assert [x["id"] for x in r.json()["results"]] == [deal]
    assert r.json()["numErrors"] == 1 and r.json()["errors"][0]["context"] == {"ids": ["tf-2"]}


def test_batch_inputs_are_limited_to_100(client):
    r = client.post("/crm/v3/objects/deals/batch/create", json={"inputs": [{"properties": {"dealname": "x"}}] * 101})
    assert r.status_code == 400 and "100" in r.json()["message"]


def test_batch_create_is_all_or_nothing_without_trace_ids(hs, client):
    inputs = [{"properties": {"dealname": "ok"}}, {"properties": {"dealname": "bad", "nope": "1"}}]
    r = client.post("/crm/v3/objects/deals/batch/create", json={"inputs": inputs})
    assert r.status_code == 400 and "nope" in r.json()["message"]
    assert hs.objects("deals") == []


def test_batch_create_with_trace_ids_fails_one_input_alone(hs, client, unique_key):
    hs.seed("deals", {"dealname": "old", unique_key: "tf-1"})
    inputs = [
        {"properties": {"dealname": "new", unique_key: "tf-2"}, "objectWriteTraceId": "a"},
        {"properties": {"dealname": "dup", unique_key: "tf-1"}, "objectWriteTraceId": "b"},
        {"properties": {"dealname": "typo", "nope": "1"}, "objectWriteTraceId": "c"},
    ]
    r = client.post("/crm/v3/objects/deals/batch/create", json={"inputs": inputs})
    assert r.status_code == 207
    body = r.json()
    assert [x["properties"]["dealname"] for x in body["results"]] == ["new"]
    assert [(e["context"]["objectWriteTraceId"], e["category"]) for e in body["errors"]] == [
        (["b"], "CONFLICT"),
        (["c"], "VALIDATION_ERROR"),
    ]
    assert sorted(d["dealname"] for d in hs.objects("deals")) == ["new", "old"]


def test_batch_update_answers_200_and_a_missing_id_fails_the_batch(hs, client):
    a, b = hs.seed("deals", {"dealname": "a"}), hs.seed("deals", {"dealname": "b"})
    r = client.post(
        "/crm/v3/objects/deals/batch/update",
        json={"inputs": [{"id": a, "properties": {"amount": 1}}, {"id": b, "properties": {"amount": 2}}]},
    )
    assert r.status_code == 200 and r.json()["status"] == "COMPLETE"
    r = client.post(
        "/crm/v3/objects/deals/batch/update",
        json={"inputs": [{"id": a, "properties": {"amount": 3}}, {"id": "404", "properties": {"amount": 4}}]},
    )
    assert r.status_code == 404
    assert client.get(f"/crm/v3/objects/deals/{a}").json()["properties"]["amount"] == "1"


# ---------------------------------------------------------------- notes


def test_notes_need_a_timestamp_and_stop_at_65536_characters(hs, client):
    r = client.post("/crm/v3/objects/notes", json={"properties": {"hs_note_body": "x"}})
    assert r.status_code == 400 and "hs_timestamp" in r.json()["message"]
    body = {"hs_timestamp": "1772460588000", "hs_note_body": "x" * 65_537}
    r = client.post("/crm/v3/objects/notes", json={"properties": body})
    assert r.status_code == 400 and "65536" in r.json()["message"]
    body["hs_note_body"] = "x" * 65_536
    r = client.post("/crm/v3/objects/notes", json={"properties": body})
    assert r.status_code == 201 and r.json()["properties"]["hs_timestamp"] == "2026-03-02T14:09:48.000Z"


# ---------------------------------------------------------------- properties and pipelines


def test_property_groups_and_properties(hs, client):
    r = client.post("/crm/v3/properties/deals/groups", json={"name": "dealreg", "label": "Deal registration"})
    assert r.status_code == 201
    assert client.post("/crm/v3/properties/deals/groups", json={"name": "dealreg", "label": "x"}).status_code == 409
    assert client.get("/crm/v3/properties/deals/groups/dealreg").json()["label"] == "Deal registration"
    prop = {
        "name": "dealreg_status",
        "label": "Status",
        "type": "enumeration",
        "fieldType": "select",
        "groupName": "dealreg",
        "options": [{"label": "Conflict", "value": "conflict"}],
    }
    r = client.post("/crm/v3/properties/deals", json=prop)
    assert r.status_code == 201 and r.json()["hasUniqueValue"] is False
    r = client.post("/crm/v3/properties/deals", json=prop)
    assert r.status_code == 409 and r.json()["category"] == "OBJECT_ALREADY_EXISTS"
    got = client.get("/crm/v3/properties/deals/dealreg_status").json()
    assert (got["type"], got["fieldType"], got["groupName"]) == ("enumeration", "select", "dealreg")
    assert client.get("/crm/v3/properties/deals/nope").status_code == 404


@pytest.mark.parametrize(
    "type_, field_type, ok",
    [
        ("string", "text", True),
        ("string", "textarea", True),
        ("number", "number", True),
        ("datetime", "date", True),
        ("date", "date", True),
        ("bool", "booleancheckbox", True),
        ("string", "select", False),
        ("number", "text", False),
        ("datetime", "datetime", False),
        ("text", "text", False),
    ],
)
def test_property_type_and_field_type_must_be_a_documented_pair(client, type_, field_type, ok):
    body = {"name": "p", "label": "P", "type": type_, "fieldType": field_type, "groupName": "dealinformation"}
    r = client.post("/crm/v3/properties/deals", json=body)
    assert r.status_code == (201 if ok else 400), r.text


def test_the_default_pipeline_and_a_created_one(hs, client):
    [default] = client.get("/crm/v3/pipelines/deals").json()["results"]
    assert default["id"] == "default"
    stages = {s["id"]: s["metadata"] for s in default["stages"]}
    assert stages["closedwon"] == {"isClosed": "true", "probability": "1.0"}
    assert stages["closedlost"] == {"isClosed": "true", "probability": "0.0"}
    assert stages["appointmentscheduled"]["isClosed"] == "false"
    body = {
        "label": "Partner registrations",
        "displayOrder": 1,
        "stages": [
            {"label": "Registered", "displayOrder": 0, "metadata": {"probability": "0.1"}},
            {"label": "Won", "displayOrder": 1, "metadata": {"probability": "1.0", "isClosed": "true"}},
        ],
    }
    r = client.post("/crm/v3/pipelines/deals", json=body)
    assert r.status_code == 201
    pipeline = r.json()
    registered, won = pipeline["stages"]
    assert won["metadata"]["isClosed"] == "true" and registered["metadata"]["isClosed"] == "false"
    assert client.post("/crm/v3/pipelines/deals", json=body).status_code == 409
    ok = client.post(
        "/crm/v3/objects/deals",
        json={"properties": {"dealname": "A", "pipeline": pipeline["id"], "dealstage": registered["id"]}},
    )
    assert ok.status_code == 201
    wrong = client.post(
        "/crm/v3/objects/deals",
        json={"properties": {"dealname": "A", "pipeline": pipeline["id"], "dealstage": "closedwon"}},
    )
    assert wrong.status_code == 400 and "dealstage" in wrong.json()["message"]


def test_a_deal_stage_needs_a_probability(client):
    body = {"label": "P", "displayOrder": 1, "stages": [{"label": "S", "displayOrder": 0, "metadata": {}}]}
    r = client.post("/crm/v3/pipelines/deals", json=body)
    assert r.status_code == 400 and "probability" in r.json()["message"]


# ---------------------------------------------------------------- rate limits


def test_the_ten_second_window_rolls(hs, client):
    hs.ten_second_limit = 3
    for n in range(3):
        r = client.get("/crm/v3/objects/deals")
        assert r.status_code == 200 and r.headers["X-HubSpot-RateLimit-Remaining"] == str(2 - n)
    r = client.get("/crm/v3/objects/deals")
    assert r.status_code == 429
    assert r.json()["policyName"] == "TEN_SECONDLY_ROLLING" and r.json()["errorType"] == "RATE_LIMIT"
    assert r.json()["message"] == "You have reached your ten_secondly_rolling limit."
    assert r.headers["X-HubSpot-RateLimit-Max"] == "3" and "Retry-After" not in r.headers
    hs.advance(5)
    assert client.get("/crm/v3/objects/deals").status_code == 429  # rolling, not reset every 10 s
    hs.advance(5)
    assert client.get("/crm/v3/objects/deals").status_code == 200
    # The window is per token.
    assert Client(hs, hs.add_token("pat-other")).get("/crm/v3/objects/deals").status_code == 200


def test_search_has_its_own_per_second_limit_and_no_rate_headers(hs, client):
    answers = [search(client, "deals") for _ in range(5)]
    assert [r.status_code for r in answers] == [200, 200, 200, 200, 429]
    assert answers[-1].json()["policyName"] == "SECONDLY"
    assert not any(h.startswith("X-HubSpot-RateLimit") for h in answers[0].headers)
    assert client.get("/crm/v3/objects/deals").status_code == 200  # other endpoints are not held up
    hs.advance(1)
    assert search(client, "deals").status_code == 200


def test_the_daily_limit(hs, client):
    hs.daily_limit = 2
    assert [client.get("/crm/v3/objects/deals").status_code for _ in range(3)] == [200, 200, 429]
    assert client.get("/crm/v3/objects/deals").json()["policyName"] == "DAILY"


# ---------------------------------------------------------------- faults


@pytest.mark.parametrize("policy", ["TEN_SECONDLY_ROLLING", "SECONDLY", "DAILY"])
def test_an_injected_429_names_its_policy(hs, client, policy):
    hs.inject("objects.create", f"429:{policy}")
    r = client.post("/crm/v3/objects/deals", json={"properties": {"dealname": "A"}})
    assert r.status_code == 429 and r.json()["policyName"] == policy
    assert hs.objects("deals") == []
    assert client.post("/crm/v3/objects/deals", json={"properties": {"dealname": "A"}}).status_code == 201


def test_injected_5xx_json_and_html(hs, client):
    hs.inject("/crm/v3/objects/deals", 503)
    hs.inject("objects.list", "502-html", times=2)
    r = client.get("/crm/v3/objects/deals")
    assert r.status_code == 503 and r.json()["status"] == "error"
    for _ in range(2):
        r = client.get("/crm/v3/objects/deals")
        assert r.status_code == 502 and r.headers["Content-Type"].startswith("text/html")
        assert "<html>" in r.text and "Cloudflare" in r.text
    assert client.get("/crm/v3/objects/deals").status_code == 200


def test_a_dropped_connection_writes_nothing(hs, client):
    hs.inject("objects.create", "reset")
    with pytest.raises(requests.ConnectionError):
        client.post("/crm/v3/objects/deals", json={"properties": {"dealname": "A"}})
    assert hs.objects("deals") == []


@pytest.mark.parametrize("fault", ["504-after-write", "reset-after-write"])
def test_an_ambiguous_write_is_applied(hs, client, unique_key, fault):
    hs.inject("objects.create", fault)
    body = {"properties": {"dealname": "A", unique_key: "tf-1"}}
    if fault == "reset-after-write":
        with pytest.raises(requests.ConnectionError):
            client.post("/crm/v3/objects/deals", json=body)
    else:
        assert client.post("/crm/v3/objects/deals", json=body).status_code == 504
    [deal] = hs.objects("deals")
    # The retry meets the unique key, and a read by it finds the object the failed call made.
    assert client.post("/crm/v3/objects/deals", json=body).status_code == 409
    got = client.get("/crm/v3/objects/deals/tf-1", params={"idProperty": unique_key}).json()
    assert got["id"] == deal["hs_object_id"]


def test_inject_refuses_unknown_kinds_and_faults(hs):
    with pytest.raises(ValueError, match="unknown kind"):
        hs.inject("objects.craete", 500)
    with pytest.raises(ValueError, match="unknown fault"):
        hs.inject("objects.create", 418)


def test_an_unimplemented_endpoint_is_501(client):
    r = client.get("/crm/v3/objects/deals/1", params={"associations": "companies"})
    assert r.status_code == 501 and "v4" in r.json()["message"]
    assert client.get("/crm/v3/owners").status_code == 501


# ---------------------------------------------------------------- the request log


def test_the_request_log_counts_calls_per_action(hs, client):
    company = hs.seed("companies", {"name": "Acme"})
    client.post("/crm/v3/objects/deals", json={"properties": {"dealname": "A"}, "associations": [to(company, 5)]})
    client.get(f"/crm/v4/objects/companies/{company}/associations/deals", params={"limit": 500})
    assert hs.count() == 2
    assert hs.count("objects.create") == 1 and hs.count("assoc.read") == 1 and hs.count(method="GET") == 1
    create, read = hs.requests
    assert (create.method, create.path, create.status, create.object_type) == (
        "POST",
        "/crm/v3/objects/deals",
        201,
        "deals",
    )
    assert create.body["properties"] == {"dealname": "A"}
    assert read.param("limit") == "500"
    hs.reset_log()
    assert hs.count() == 0
