"""The HTTP adapter: every route, every refusal, and what each one writes (or does not)."""

from __future__ import annotations

import json

import pytest

from config.settings import Settings
from dealreg.models import DECISION_FIELDS
from handlers.app import create_app
from integrations.sqlite import SQLiteStore
from integrations.typeform import SIGNATURE_HEADER, sign
from tests.handlers.support import API_KEY, AUTH, TYPEFORM_SECRET, DownStore, Ids, StepClock, counts, signed
from tests.payloads import load_json, load_payload

TYPEFORM = "/webhooks/typeform"
REGISTRATION = load_payload("typeform_registration.json")
TOKEN = load_json("typeform_registration.json")["form_response"]["token"]


def post_typeform(client, raw: bytes = REGISTRATION, headers: dict[str, str] | None = None):
    return client.post(TYPEFORM, data=raw, headers=signed(raw) if headers is None else headers)


def post_json(client, path: str, body: object, headers: dict[str, str] | None = None):
    return client.post(path, data=json.dumps(body), headers={"Content-Type": "application/json",
                                                               **(AUTH if headers is None else headers)})


# -- Typeform: signatures ------------------------------------------------------------------

def _reserialised(raw: bytes) -> bytes:
    return json.dumps(json.loads(raw), indent=1).encode("utf-8")


@pytest.mark.parametrize("name, headers", [
    ("missing header", {"Content-Type": "application/json"}),
    ("empty header", {SIGNATURE_HEADER: ""}),
    ("sha1 prefix", {SIGNATURE_HEADER: sign(REGISTRATION, TYPEFORM_SECRET).replace("sha256=", "sha1=")}),
    ("no prefix", {SIGNATURE_HEADER: sign(REGISTRATION, TYPEFORM_SECRET).removeprefix("sha256=")}),
    ("not base64", {SIGNATURE_HEADER: "sha256=!!!not-base64!!!"}),
    ("wrong length", {SIGNATURE_HEADER: "sha256=AAAA"}),
    ("non-ASCII", {SIGNATURE_HEADER: "sha256=\u00e9\u00e9\u00e9="}),
    ("wrong secret", {SIGNATURE_HEADER: sign(REGISTRATION, "another-secret")}),
    ("signature of another body", {SIGNATURE_HEADER: sign(REGISTRATION + b" ", TYPEFORM_SECRET)}),
])
def test_typeform_refuses_a_bad_signature_with_401_and_writes_nothing(client, store, name, headers):
    response = post_typeform(client, REGISTRATION, headers)
    assert response.status_code == 401, name
    assert "signature" in response.json["error"].lower()
    assert counts(store) == (0, 0)


def test_typeform_refuses_a_reserialised_body_and_accepts_the_original_bytes(client, store):
    original_signature = signed(REGISTRATION)
    same_json_other_whitespace = _reserialised(REGISTRATION)
    assert json.loads(same_json_other_whitespace) == json.loads(REGISTRATION)
    assert post_typeform(client, same_json_other_whitespace, original_signature).status_code == 401
    assert counts(store) == (0, 0)
    response = post_typeform(client, REGISTRATION, original_signature)
    assert response.status_code == 200
    assert response.json["status"] == "clear"
    assert counts(store) == (1, 1)


def test_typeform_without_a_configured_secret_refuses_every_call(tmp_path, settings):
    unset = settings.model_copy(update={"typeform_secret": ()})
    store = SQLiteStore(tmp_path / "other.db")
    client = create_app(unset, store).test_client()
    for secret in (TYPEFORM_SECRET, ""):
        response = post_typeform(client, REGISTRATION, {SIGNATURE_HEADER: sign(REGISTRATION, secret)})
        assert response.status_code == 401
        assert "DEALREG_TYPEFORM_SECRET" in response.json["error"]
    assert counts(store) == (0, 0)


def test_typeform_accepts_both_secrets_during_a_rotation(tmp_path, settings):
    rotating = Settings(_env_file=None, db=tmp_path / "rot.db", rules=settings.rules,
                        typeform_secret="old-secret, new-secret", api_key=API_KEY)
    store = SQLiteStore(rotating.db)
    client = create_app(rotating, store, clock=StepClock(), new_id=Ids()).test_client()
    first = post_typeform(client, REGISTRATION, signed(REGISTRATION, "old-secret"))
    again = post_typeform(client, REGISTRATION, signed(REGISTRATION, "new-secret"))
    assert (first.status_code, again.status_code) == (200, 200)
    assert first.json == again.json
    assert post_typeform(client, REGISTRATION, signed(REGISTRATION, "older-secret")).status_code == 401


# -- Typeform: what a signed call does -------------------------------------------------------

def test_typeform_registration_is_registered_and_answered_with_the_flat_decision(client, store):
    response = post_typeform(client)
    assert response.status_code == 200
    body = response.json
    assert list(body) == list(DECISION_FIELDS)
    assert body["status"] == "clear" and body["owner"] == "Northwind Partners"
    assert body["attribution_primary"] == "partner-sourced"
    assert body["registration_id"] == "R-000000000001"
    assert body["expires_at"].startswith("2026-05-31")  # submitted 2026-03-02 + 90 days
    [row] = store.read_rows("registrations")
    assert row["external_id"] == TOKEN and row["source"] == "typeform" and row["state"] == "open"
    assert row["company_name"] == "Acme Robotics GmbH" and row["status"] == "clear"
    [event] = store.read_rows("decisions")
    assert event["action"] == "register" and event["registration_id"] == "R-000000000001"


def test_typeform_redelivery_returns_the_first_decision_and_writes_nothing_new(client, store):
    answers = [post_typeform(client) for _ in range(5)]
    assert {a.status_code for a in answers} == {200}
    assert all(a.json == answers[0].json for a in answers)
    assert counts(store) == (1, 1)


def test_typeform_test_request_is_answered_rejected_and_writes_nothing(client, store):
    raw = load_payload("typeform_test_request.json")
    response = post_typeform(client, raw)
    assert response.status_code == 200
    assert response.json["status"] == "rejected" and response.json["suppress"] is True
    assert "test request" in response.json["reason"]
    assert counts(store) == (0, 0)


def test_typeform_unusable_submission_is_stored_rejected_and_answered_200(client, store):
    raw = load_payload("typeform_unusable.json")
    token = json.loads(raw)["form_response"]["token"]
    response = post_typeform(client, raw)
    assert response.status_code == 200
    assert response.json["status"] == "rejected"
    assert "no company" in response.json["reason"]
    [row] = store.read_rows("registrations")
    assert (row["state"], row["status"], row["external_id"]) == ("rejected", "rejected", token)
    [event] = store.read_rows("decisions")
    assert event["status"] == "rejected" and "no company" in event["reasons"]
    assert post_typeform(client, raw).json == response.json  # a redelivery changes nothing
    assert counts(store) == (1, 1)


def test_typeform_unknown_partner_is_stored_rejected_naming_the_known_partners(client, store):
    store.write_rows("partners", [{"partner": "Contoso Consulting"}, {"partner": "Fabrikam Solutions"}])
    response = post_typeform(client)  # the form link says Northwind Partners
    assert response.status_code == 200
    assert response.json["status"] == "rejected"
    assert "Northwind Partners" in response.json["reason"]
    assert "Contoso Consulting, Fabrikam Solutions" in response.json["reason"]
    [row] = store.read_rows("registrations")
    assert row["state"] == "rejected"


@pytest.mark.parametrize("body, reason", [
    (b'{"event_type": "form_response", "form_response": ', "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"event_type": "form_response_partial", "form_response": {"token": "t1"}}', "partial"),
    (b'{"event_type": "form_response", "form_response": {"token": ""}}', "token"),
    (b'{"event_id": "x", "event_type": "ping"}', "ping"),
    (b"\xff\xfe not utf-8", "UTF-8"),
])
def test_typeform_signed_but_unreadable_payload_is_audited_and_answered_200(client, store, body, reason):
    response = post_typeform(client, body)
    assert response.status_code == 200
    assert response.json["status"] == "rejected"
    assert reason in response.json["reason"]
    assert counts(store) == (0, 1)  # an audit event, no registration
    [event] = store.read_rows("decisions")
    assert event["external_id"] == ""  # never keyed on the token: the real response may follow


# -- text that is not Unicode: a lone surrogate (a JSON \ud800 escape) -----------------------------

def _with(raw: bytes, old: str, new: str) -> bytes:
    assert old.encode() in raw
    return raw.replace(old.encode(), new.encode(), 1)


TYPEFORM_SURROGATES = [
    # (the body with one lone surrogate, the field the reason names)
    (_with(REGISTRATION, "Acme Robotics GmbH", r"\ud800 Surrogate Corp"), "form_response.answers[0].text"),
    (_with(REGISTRATION, "Jana M", r"Jana \udfff M"), "form_response.answers[3].text"),
    (_with(REGISTRATION, '"01HQ7Z3K9WJ4TN8B2R6XGMV5CD"', r'"01HQ\ud800"'), "event_id"),
    (_with(REGISTRATION, '"a8f3kq2m9x1v7c4b6n0z5s2d8e1r3t6y"', r'"a8f3\udc00"'), "form_response.token"),
    (_with(REGISTRATION, '"Northwind Partners"', r'"Northwind \ude00\ud83d Partners"'), "form_response.hidden.partner"),
    (_with(REGISTRATION, '"utm_source"', r'"utm_\ud800"'), r"form_response.hidden.utm_\ud800"),  # a key
    (_with(REGISTRATION, "Partner Deal Registration", r"Partner \udbff"), "form_response.definition.title"),
]


@pytest.mark.parametrize("raw, field", TYPEFORM_SURROGATES, ids=[t[1] for t in TYPEFORM_SURROGATES])
def test_typeform_lone_surrogate_is_rejected_naming_the_field_and_stores_nothing(client, store, raw, field):
    response = post_typeform(client, raw)
    assert response.status_code == 200
    assert response.json["status"] == "rejected" and list(response.json) == list(DECISION_FIELDS)
    assert f"{field}: contains a lone surrogate" in response.json["reason"]
    assert counts(store) == (0, 0)  # not even the audit event: no store takes that text
    assert post_typeform(client, raw).json == response.json  # a redelivery: the same answer, still nothing stored
    assert counts(store) == (0, 0)
    served = post_typeform(client)  # every later request is served
    assert (served.status_code, served.json["status"]) == (200, "clear")
    assert counts(store) == (1, 1)


API_SURROGATES = [
    # (the body, the field named)
    (rb'{"company_name": "\ud800 Surrogate Corp"}', "company_name"),
    (rb'{"company": "Acme", "website": "acme.com", "partner": "North\udfffwind"}', "partner"),
    (rb'{"company_name": "Acme", "external_id": "row-\udc00"}', "external_id"),
    (rb'{"company_name": "Acme", "note": "not ours \ud800"}', "note"),  # a key we do not read: still refused
    (rb'{"company_name": "Acme", "\ud800": "x"}', r"\ud800"),  # a key
    (rb'{"company_name": "Acme", "x": {"y": ["ok", "\ude00\ud83d"]}}', "x.y[1]"),  # a pair in the wrong order
]


@pytest.mark.parametrize("path", ["/webhooks/clay", "/webhooks/clay?mode=register", "/api/check", "/api/registrations"])
@pytest.mark.parametrize("raw, field", API_SURROGATES, ids=[a[1] for a in API_SURROGATES])
def test_api_lone_surrogate_is_400_naming_the_field_and_writes_nothing(client, store, path, raw, field):
    response = client.post(path, data=raw, headers={"Content-Type": "application/json", **AUTH})
    assert response.status_code == 400, response.json
    assert [p["field"] for p in response.json["problems"]] == [field]
    assert "lone surrogate" in response.json["problems"][0]["message"]
    assert counts(store) == (0, 0)
    assert post_json(client, path, CLAY_ROW).status_code == 200  # every later request is served


@pytest.mark.parametrize("raw, name", [
    (rb'{"company_name": "\ud83d\ude00 Emoji Corp", "website": "emoji-corp.com"}', "\U0001F600 Emoji Corp"),  # a pair
    (rb'{"company_name": "Back\\ud800slash Corp", "website": "backslash-corp.com"}', "Back\\ud800slash Corp"),  # the text "\ud800"
])
def test_valid_escapes_are_text_as_usual(client, store, raw, name):
    response = client.post("/api/registrations", data=raw, headers={"Content-Type": "application/json", **AUTH})
    assert response.status_code == 200 and response.json["status"] == "clear"
    [row] = store.read_rows("registrations")
    assert row["company_name"] == name


# -- Typeform: the route never answers 404 or 410 ---------------------------------------------

class Exploding:
    """A store that fails in a way nobody planned for."""

    backend = "exploding"

    def __getattr__(self, name: str):
        def explode(*args, **kwargs):
            raise RuntimeError("unexpected")
        return explode


@pytest.mark.parametrize("method, path, body, headers, store_kind, expected", [
    ("GET", TYPEFORM, b"", {}, "sqlite", 405),
    ("PUT", TYPEFORM, REGISTRATION, None, "sqlite", 405),
    ("DELETE", TYPEFORM, b"", {}, "sqlite", 405),
    ("PATCH", TYPEFORM, REGISTRATION, None, "sqlite", 405),
    ("POST", TYPEFORM + "/", REGISTRATION, None, "sqlite", 200),
    ("POST", TYPEFORM + "/unknown", REGISTRATION, None, "sqlite", 400),
    ("GET", TYPEFORM + "/a/b/c", b"", {}, "sqlite", 400),
    ("POST", TYPEFORM, b"x" * 300_000, {SIGNATURE_HEADER: "sha256=x"}, "sqlite", 413),
    ("POST", TYPEFORM, REGISTRATION, {}, "sqlite", 401),
    ("POST", TYPEFORM, REGISTRATION, None, "down", 503),
    ("POST", TYPEFORM, REGISTRATION, None, "exploding", 500),
])
def test_typeform_route_never_answers_404_or_410(settings, tmp_path, method, path, body, headers, store_kind,
                                                 expected):
    store = {"sqlite": lambda: SQLiteStore(tmp_path / "sweep.db"), "down": DownStore, "exploding": Exploding}[store_kind]()
    client = create_app(settings, store, clock=StepClock(), new_id=Ids()).test_client()
    response = client.open(path, method=method, data=body, headers=signed(body) if headers is None else headers)
    assert response.status_code == expected
    assert response.status_code not in (404, 410)
    assert response.is_json


def test_other_unknown_paths_are_404_with_a_json_body(client):
    response = client.get("/nope")
    assert response.status_code == 404
    assert "no route" in response.json["error"]


# -- Clay and the JSON API --------------------------------------------------------------------

CLAY_ROW = load_json("clay_check.json")


@pytest.mark.parametrize("path", ["/webhooks/clay", "/webhooks/clay?mode=register", "/api/check", "/api/registrations"])
@pytest.mark.parametrize("headers, why", [
    ({}, "send the API key"),
    ({"Authorization": "Bearer wrong"}, "not valid"),
    ({"X-Api-Key": "wrong"}, "not valid"),
    ({"Authorization": f"Basic {API_KEY}"}, "send the API key"),
    ({"Authorization": f"Bearer {API_KEY}x"}, "not valid"),
])
def test_api_refuses_a_missing_or_wrong_key_with_401_and_writes_nothing(client, store, path, headers, why):
    response = post_json(client, path, CLAY_ROW, headers)
    assert response.status_code == 401
    assert why in response.json["error"]
    assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert counts(store) == (0, 0)


@pytest.mark.parametrize("headers", [{"Authorization": f"Bearer {API_KEY}"}, {"authorization": f"bearer {API_KEY}"},
                                     {"X-Api-Key": API_KEY}])
def test_api_accepts_the_key_as_bearer_or_x_api_key(client, headers):
    assert post_json(client, "/api/check", CLAY_ROW, headers).status_code == 200


def test_api_without_a_configured_key_refuses_every_call(settings, tmp_path):
    store = SQLiteStore(tmp_path / "nokey.db")
    client = create_app(settings.model_copy(update={"api_key": ()}), store).test_client()
    for headers in ({"Authorization": "Bearer "}, {"X-Api-Key": ""}, {}):
        response = post_json(client, "/webhooks/clay", CLAY_ROW, headers)
        assert response.status_code == 401
        assert "DEALREG_API_KEY" in response.json["error"]
    assert counts(store) == (0, 0)


def test_api_accepts_every_configured_key(settings, tmp_path):
    store = SQLiteStore(tmp_path / "keys.db")
    client = create_app(settings.model_copy(update={"api_key": settings.api_key + settings.typeform_secret}),
                        store).test_client()
    assert post_json(client, "/api/check", CLAY_ROW, {"X-Api-Key": API_KEY}).status_code == 200
    assert post_json(client, "/api/check", CLAY_ROW, {"X-Api-Key": TYPEFORM_SECRET}).status_code == 200


def test_clay_check_is_the_default_and_writes_only_the_event(client, store):
    response = post_json(client, "/webhooks/clay", CLAY_ROW)
    assert response.status_code == 200
    body = response.json
    assert list(body) == list(DECISION_FIELDS)
    assert (body["status"], body["match"], body["rule"], body["owner"]) == ("clear", "none", "no_match", "direct")
    assert body["registration_id"] == "" and body["suppress"] is False
    assert counts(store) == (0, 1)
    [event] = store.read_rows("decisions")
    assert (event["action"], event["source"]) == ("check", "clay")


def test_clay_register_registers_then_a_check_is_suppressed(client, store):
    registered = post_json(client, "/webhooks/clay?mode=register", {**CLAY_ROW, "partner": "Contoso Consulting"})
    assert registered.status_code == 200 and registered.json["status"] == "clear"
    assert counts(store) == (1, 1)
    checked = post_json(client, "/webhooks/clay?mode=check", CLAY_ROW)
    assert checked.status_code == 200
    body = checked.json
    assert (body["status"], body["suppress"], body["owner"]) == ("conflict", True, "Contoso Consulting")
    assert body["matched_registration_id"] == registered.json["registration_id"]
    assert body["match"] == "match" and "domain" in body["match_evidence"]
    assert counts(store) == (1, 2)


def test_api_registration_then_the_same_party_again_is_a_duplicate(client, store):
    row = {**CLAY_ROW, "partner": "Northwind Partners"}
    first = post_json(client, "/api/registrations", row)
    second = post_json(client, "/api/registrations", row)
    assert first.json["status"] == "clear"
    assert (second.json["status"], second.json["rule"]) == ("duplicate", "same_party")
    assert second.json["matched_registration_id"] == first.json["registration_id"]
    assert counts(store) == (2, 2)


def test_api_registration_with_an_external_id_is_idempotent(client, store):
    row = {**CLAY_ROW, "external_id": "row-17"}
    answers = [post_json(client, "/api/registrations", row).json for _ in range(3)]
    assert answers[0] == answers[1] == answers[2]
    assert counts(store) == (1, 1)


@pytest.mark.parametrize(("written", "deal_value", "currency"), [
    ("48,000", "48000", ""), ("$150,000", "150000", "USD"), ("48.000,50 €", "48000.5", "EUR"), ("USD 48k", "48000", "USD"),
])
def test_deal_values_are_read_as_people_write_them(client, store, written, deal_value, currency):
    registered = post_json(client, "/api/registrations", {**CLAY_ROW, "partner": "Contoso Consulting",
                                                          "deal_value": written})
    assert registered.status_code == 200 and registered.json["status"] == "clear", registered.json
    [row] = store.read_rows("registrations")
    assert (row["deal_value"], row["currency"]) == (deal_value, currency)
    checked = post_json(client, "/webhooks/clay?mode=check", {**CLAY_ROW, "deal_value": written, "employees": "1,200"})
    assert checked.status_code == 200
    assert (checked.json["status"], checked.json["owner"]) == ("conflict", "Contoso Consulting")


def test_a_typeform_deal_value_typed_as_text_is_read_the_same_way(client, store):
    payload = load_json("typeform_registration.json")
    [answer] = [a for a in payload["form_response"]["answers"] if a["field"]["ref"] == "deal_value"]
    answer.pop("number")
    answer.update(type="text", text="€150.000")  # a Short text question, as a German partner types it
    response = post_typeform(client, json.dumps(payload).encode())
    assert (response.status_code, response.json["status"]) == (200, "clear"), response.json
    [row] = store.read_rows("registrations")
    assert (row["deal_value"], row["currency"]) == ("150000", "EUR")


@pytest.mark.parametrize("mode", ["delete", "REGISTERX", "1"])
def test_clay_bad_mode_is_400_naming_mode(client, store, mode):
    response = post_json(client, f"/webhooks/clay?mode={mode}", CLAY_ROW)
    assert response.status_code == 400
    assert response.json["problems"][0]["field"] == "mode"
    assert counts(store) == (0, 0)


def test_same_keys_every_time_whatever_the_status(client, store):
    store.write_rows("partners", [{"partner": "Contoso Consulting"}])
    bodies = [
        post_json(client, "/api/check", CLAY_ROW).json,  # clear
        post_json(client, "/api/registrations", {**CLAY_ROW, "partner": "Contoso Consulting"}).json,
        post_json(client, "/api/check", CLAY_ROW).json,  # conflict
        post_json(client, "/api/check", {**CLAY_ROW, "partner": "Unknown Co"}).json,  # rejected
    ]
    assert [b["status"] for b in bodies] == ["clear", "clear", "conflict", "rejected"]
    assert all(list(b) == list(DECISION_FIELDS) for b in bodies)


def test_partner_names_compare_case_and_space_insensitively(client, store):
    store.write_rows("partners", [{"partner": "Northwind Partners"}])
    response = post_json(client, "/api/registrations", {**CLAY_ROW, "partner": "  northwind   PARTNERS "})
    assert response.json["status"] == "clear"
    assert response.json["owner"] == "Northwind Partners"  # spelt as the Partners list spells it


def test_any_partner_is_accepted_while_the_partners_list_is_empty(client, store):
    response = post_json(client, "/api/registrations", {**CLAY_ROW, "partner": "Brand New Partner"})
    assert (response.json["status"], response.json["owner"]) == ("clear", "Brand New Partner")


# -- bad input: 4xx naming the problem, nothing written ----------------------------------------

def _deep(n: int) -> bytes:
    return b'{"company_name": ' + b"[" * n + b"]" * n + b"}"


BAD_BODIES = [
    # (name, raw body, content type, status, field named or None, words in the error)
    ("malformed JSON", b'{"company_name": "Acme"', "application/json", 400, None, "not valid JSON"),
    ("trailing garbage", b'{"company_name": "Acme"} x', "application/json", 400, None, "not valid JSON"),
    ("NaN deal value", b'{"company_name": "Acme", "deal_value": NaN}', "application/json", 400, "deal_value", "NaN"),
    ("Infinity", b'{"company_name": "Acme", "deal_value": Infinity}', "application/json", 400, "deal_value", "Infinity"),
    ("-Infinity", b'{"company_name": "Acme", "employees": -Infinity}', "application/json", 400, "employees", "Infinity"),
    ("nested NaN", b'{"company_name": "Acme", "x": [NaN]}', "application/json", 400, "body", "NaN"),
    ("negative deal value", b'{"company_name": "Acme", "deal_value": -1}', "application/json", 400, "deal_value", "negative"),
    ("absurd deal value", b'{"company_name": "Acme", "deal_value": 1e308}', "application/json", 400, "deal_value", "large"),
    ("ambiguous deal value", b'{"company_name": "Acme", "deal_value": "1,250k"}', "application/json", 400, "deal_value", "ambiguous"),
    ("currencies that disagree", b'{"company_name": "Acme", "deal_value": "\xe2\x82\xac48,000", "currency": "USD"}', "application/json", 400, "deal_value", "in EUR but currency is 'USD'"),
    ("employees as a range", b'{"company_name": "Acme", "employees": "51-200"}', "application/json", 400, "employees", "range"),
    ("deal value as boolean", b'{"company_name": "Acme", "deal_value": true}', "application/json", 400, "deal_value", "boolean"),
    ("impossible date", b'{"company_name": "Acme", "submitted_at": "2026-02-30"}', "application/json", 400, "submitted_at", "not a date"),
    ("date out of range", b'{"company_name": "Acme", "submitted_at": "1066-10-14"}', "application/json", 400, "submitted_at", "out of range"),
    ("company as object", b'{"company_name": {"a": 1}}', "application/json", 400, "company_name", "must be text"),
    ("company as list", b'{"company_name": ["Acme"]}', "application/json", 400, "company_name", "must be text"),
    ("fractional employees", b'{"company_name": "Acme", "employees": 2.5}', "application/json", 400, "employees", "whole number"),
    ("no identifying field", b'{"country": "DE"}', "application/json", 400, "company_name", "required"),
    ("empty body", b"", "application/json", 400, None, "empty"),
    ("whitespace body", b"  \n ", "application/json", 400, None, "empty"),
    ("array body", b'[{"company_name": "Acme"}]', "application/json", 400, None, "not an array"),
    ("string body", b'"Acme"', "application/json", 400, None, "not a string"),
    ("null body", b"null", "application/json", 400, None, "not null"),
    ("number body", b"42", "application/json", 400, None, "not a number"),
    ("duplicate keys", b'{"company_name": "Acme", "company_name": "Evil"}', "application/json", 400, "company_name", "twice"),
    ("not UTF-8", b'{"company_name": "\xff\xfe"}', "application/json", 400, None, "UTF-8"),
    ("5,000-digit integer", b'{"company_name": "Acme", "deal_value": ' + b"9" * 5000 + b"}", "application/json", 400, None, "usable JSON"),
    ("nested 100,000 deep", _deep(100_000), "application/json", 400, None, "nested too deeply"),
    ("text longer than 2,000", json.dumps({"company_name": "A" * 2001}).encode(), "application/json", 400, "company_name", "longer"),
    ("form-encoded", b"company_name=Acme", "application/x-www-form-urlencoded", 415, None, "application/json"),
    ("plain text", b'{"company_name": "Acme"}', "text/plain", 415, None, "application/json"),
    ("oversize", json.dumps({"company_name": "Acme", "pad": "x" * 300_000}).encode(), "application/json", 413, None, "larger than"),
]


@pytest.mark.parametrize("path", ["/webhooks/clay?mode=register", "/api/registrations", "/api/check"])
@pytest.mark.parametrize("name, raw, content_type, status, field, words", BAD_BODIES, ids=[b[0] for b in BAD_BODIES])
def test_bad_input_is_refused_naming_the_problem_and_writes_nothing(client, store, path, name, raw, content_type,
                                                                    status, field, words):
    response = client.post(path, data=raw, headers={"Content-Type": content_type, **AUTH})
    assert response.status_code == status, response.json
    assert words in json.dumps(response.json), response.json
    if field is not None:
        assert field in [p["field"] for p in response.json["problems"]]
    assert counts(store) == (0, 0)


def test_oversize_is_refused_from_content_length_before_the_body_is_read(client, store):
    response = client.post("/api/registrations", data=b"{}", headers={"Content-Type": "application/json", **AUTH},
                           environ_overrides={"CONTENT_LENGTH": "300000"})
    assert response.status_code == 413
    assert counts(store) == (0, 0)


def test_a_body_just_under_the_limit_is_accepted(client, settings):
    body = {"company_name": "Acme Robotics", "website": "acme-robotics.de"}
    pad = settings.max_body_bytes - len(json.dumps({**body, "pad": ""}))
    raw = json.dumps({**body, "pad": "x" * pad}).encode()
    assert len(raw) == settings.max_body_bytes
    response = client.post("/api/check", data=raw, headers={"Content-Type": "application/json", **AUTH})
    assert response.status_code == 200


def test_content_type_may_carry_a_charset_or_be_missing(client):
    raw = json.dumps(CLAY_ROW).encode()
    for content_type in ("application/json; charset=utf-8", "application/vnd.clay+json", None):
        headers = {**AUTH, **({"Content-Type": content_type} if content_type else {})}
        assert client.post("/api/check", data=raw, headers=headers).status_code == 200


# -- the store is down: 503, never "clear" ------------------------------------------------------

@pytest.fixture
def down_client(settings):
    return create_app(settings, DownStore()).test_client()


@pytest.mark.parametrize("path", ["/webhooks/clay", "/webhooks/clay?mode=register", "/api/check", "/api/registrations"])
def test_store_down_is_503_with_retry_after_never_clear(down_client, path):
    response = post_json(down_client, path, CLAY_ROW)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "60"
    assert "status" not in response.json and "unavailable" in response.json["error"]


def test_store_down_on_typeform_is_503_so_typeform_retries(down_client):
    response = post_typeform(down_client)
    assert response.status_code == 503
    assert "status" not in response.json


def test_unwritable_sqlite_file_is_503(settings, tmp_path):  # Sheets: see the test above
    folder = tmp_path / "a-directory.db"
    folder.mkdir()  # a directory where the database file should be: SQLite cannot open it
    client = create_app(settings, SQLiteStore(folder)).test_client()
    assert post_json(client, "/api/check", CLAY_ROW).status_code == 503
    assert post_typeform(client).status_code == 503
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["status"] == "unavailable"


def test_google_sheets_down_or_over_quota_is_503_never_clear(settings, sheets_api):
    from integrations.sheets import SheetsStore
    from tests.fakes.sheets_api import gspread_client_for
    from tests.integrations.sheets_support import SID, FakeClock, rows_of

    clock = FakeClock()  # the store's backoff sleeps on it: the test does not wait out the deadline
    store = SheetsStore(gspread_client_for(sheets_api.base_url), SID, clock=clock, sleep=clock.sleep)
    client = create_app(settings, store, clock=StepClock()).test_client()  # the payload's day
    sheets_api.inject(None, 429, times=10_000)
    response = post_json(client, "/api/registrations", CLAY_ROW)
    assert response.status_code == 503 and response.headers["Retry-After"] == "60"
    sheets_api.clear_faults()
    sheets_api.inject(None, 503, times=10_000)
    assert post_typeform(client).status_code == 503
    assert post_json(client, "/api/check", CLAY_ROW).status_code == 503
    health = client.get("/healthz")
    assert health.status_code == 503 and "did not answer" in health.json["detail"]
    sheets_api.clear_faults()
    assert rows_of(sheets_api, "Registrations") == []
    assert post_typeform(client).json["status"] == "clear"  # and once it answers again, all is well


# -- health --------------------------------------------------------------------------------------

def test_healthz_reports_the_store(client, backend):
    post_typeform(client)
    response = client.get("/healthz")
    assert response.status_code == 200
    facts = {"sqlite": {"schema_version": 4, "registrations": 1},
             "sheets": {"registrations": 1, "buffered_events": 0},
             "hubspot": {"registrations": 1, "direct_deals": 0, "buffered_events": 0}}[backend]
    assert response.json == {"status": "ok", "store": backend, **facts}


@pytest.mark.parametrize("answers", [
    [],  # a form whose questions were all skipped or renamed
    [{"type": "text", "text": "Jane Doe", "field": {"id": "Rr4NwQ2eTy7U", "type": "short_text", "ref": "contact_name"}}],
    [{"type": "text", "text": "Acme Robotics", "field": {"id": "x1", "type": "short_text", "ref": "prospect_company"}}],
])
def test_an_unusable_typeform_submission_is_a_record_and_every_later_request_is_served(client, store, answers):
    payload = load_json("typeform_registration.json")
    payload["form_response"]["answers"] = answers
    payload["form_response"]["token"] = "another-response"
    raw = json.dumps(payload).encode()
    first = post_typeform(client, raw)
    assert first.status_code == 200 and first.json["status"] == "rejected"
    assert post_typeform(client, raw).json == first.json  # a redelivery: the same answer, nothing new
    assert store.count("registrations") == 1  # stored, for the partner manager
    assert post_json(client, "/api/check", CLAY_ROW).status_code == 200
    assert post_typeform(client).json["status"] == "clear"  # the next real registration goes through
    assert post_json(client, "/api/registrations", {**CLAY_ROW, "partner": "Contoso"}).json["status"] == "conflict"
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json["status"] == "ok"  # a rejected record is no problem


def test_healthz_is_degraded_naming_the_cells_to_fix_and_decisions_go_on(client, store, backend, request):
    from tests.handlers.test_service import write_behind_the_store

    where = write_behind_the_store(backend, store, request, {
        "registration_id": "R-hand", "submitted_at": "2026-01-01", "partner": "Contoso",
        "company_name": "Acme Robotics GmbH", "deal_value": "TBD"})
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json["status"] == "degraded"
    assert health.json["quarantined"] == 1 and health.json["fix"][0].startswith(where)
    assert "'TBD' is not a number" in health.json["fix"][0]
    assert post_json(client, "/api/check", {"company_name": "Globex", "website": "globex.com"}).json["status"] == "clear"
    review = post_typeform(client).json  # Acme Robotics: it could be the unreadable row's account
    assert review["status"] == "needs_review" and review["rule"] == "quarantine" and "TBD" in review["reason"]


def test_a_store_refusal_is_503_with_retry_after_never_500(settings, backend, store, request):
    if backend == "sqlite":
        import sqlite3

        store.health()
        with sqlite3.connect(store.path) as conn:  # a file from a newer dealreg
            conn.execute("PRAGMA user_version = 99")
        from integrations.sqlite import SQLiteStore

        store = SQLiteStore(store.path)
    elif backend == "hubspot":  # a token without the scopes dealreg needs
        from tests.handlers.support import hubspot_store

        api = request.getfixturevalue("hubspot_api")
        store = hubspot_store(api)
        store.api._http.headers["Authorization"] = f"Bearer {api.add_token('pat-na1-no-scopes', set())}"
    else:  # the Registrations header edited by hand: a column dealreg needs is gone
        from tests.integrations.sheets_support import SID

        request.getfixturevalue("sheets_api").set_values(SID, "Registrations", [["registration_id", "oops"]])
    client = create_app(settings, store, clock=StepClock(), new_id=Ids()).test_client()
    for response in (post_typeform(client), post_json(client, "/api/check", CLAY_ROW)):
        assert response.status_code == 503 and response.headers["Retry-After"] == "60"
        assert "GET /healthz" in response.json["error"]
    health = client.get("/healthz")
    assert health.status_code == 503 and health.json["detail"]


def test_healthz_is_503_with_details_when_the_store_is_down(down_client):
    response = down_client.get("/healthz")
    assert response.status_code == 503
    assert response.json == {"status": "unavailable", "store": "down", "detail": "the test store is down"}


def test_a_bad_typeform_mapping_is_refused_at_start_up_naming_the_setting(settings):
    with pytest.raises(ValueError, match="DEALREG_TYPEFORM_MAPPING: .*'deal_size'"):
        create_app(settings.model_copy(update={"typeform_mapping": {"amount": "deal_size"}}), DownStore())


def test_the_typeform_mapping_setting_maps_custom_refs(settings, store):
    payload = load_json("typeform_registration.json")
    for answer in payload["form_response"]["answers"]:
        if answer["field"]["ref"] == "company_name":
            answer["field"]["ref"] = "prospect"
    raw = json.dumps(payload).encode()
    client = create_app(settings.model_copy(update={"typeform_mapping": {"prospect": "company_name"}}), store,
                        clock=StepClock(), new_id=Ids()).test_client()
    assert post_typeform(client, raw).json["status"] == "clear"
    [row] = store.read_rows("registrations")
    assert row["company_name"] == "Acme Robotics GmbH"
