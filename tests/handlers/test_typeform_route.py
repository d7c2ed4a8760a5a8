"""The Typeform route as a form owner meets it: Typeform's own published example, a partner
link without `#partner=…`, and answers under refs nothing maps. Every test runs on both
stores (`[sqlite]`, `[sheets]`)."""

from __future__ import annotations

import json
import sqlite3

import pytest

from tests.handlers.support import AUTH, counts, signed
from tests.payloads import load_json, load_payload

TYPEFORM = "/webhooks/typeform"
EXAMPLE = load_payload("typeform_published_example.json")  # Typeform's page, byte for byte
EXAMPLE_TOKEN = "a3a12ec67a1365927098a606107fac15"


def post_typeform(client, raw: bytes):
    return client.post(TYPEFORM, data=raw, headers=signed(raw))


def registration(**change: object) -> bytes:
    """typeform_registration.json with form_response fields changed, as Typeform would send it."""
    payload = load_json("typeform_registration.json")
    payload["form_response"].update(change)
    return json.dumps(payload).encode("utf-8")


# -- Typeform's published example payload ------------------------------------------------------------

def test_typeforms_published_example_is_stored_rejected_saying_what_to_map(client, store):
    response = post_typeform(client, EXAMPLE)
    assert response.status_code == 200
    body = response.json
    assert (body["status"], body["owner"]) == ("rejected", "")
    reason = body["reason"]
    assert "a company name, website, email, LinkedIn URL or DUNS is required" in reason
    assert "No partner is named: the form link lacks #partner=" in reason
    assert "https://form.typeform.com/to/lT4Z3j#partner=" in reason
    # Every answer's ref, and the hidden field, named with the fix.
    for ref in ("readable_ref_long_text", "readable_ref_email", "readable_ref_short_text", "readable_ref_calendly"):
        assert ref in reason
    assert "hidden fields user_id" in reason
    assert "set DEALREG_TYPEFORM_MAPPING" in reason
    # Stored as a rejected registration (a record for the partner manager), with its decision.
    assert counts(store) == (1, 1)
    first = store.first_decision("typeform", EXAMPLE_TOKEN)
    assert first is not None and (first.status.value, first.reason) == ("rejected", reason)
    # A redelivery (Typeform retries) answers the same and stores nothing more.
    assert post_typeform(client, EXAMPLE).json == body
    assert counts(store) == (1, 1)


def test_after_typeforms_published_example_every_later_request_is_still_served(client, store):
    """The stored rejection names no company: a record for the partner manager, never a claim,
    so it stops nothing (issue 9, section 1)."""
    assert post_typeform(client, EXAMPLE).status_code == 200
    registered = post_typeform(client, load_payload("typeform_registration.json"))
    assert registered.status_code == 200 and registered.json["status"] == "clear"
    checked = client.post("/api/check", data=json.dumps({"company_name": "Acme Robotics", "website": "acme-robotics.de"}),
                          headers={"Content-Type": "application/json", **AUTH})
    assert checked.status_code == 200 and checked.json["owner"] == "Northwind Partners"
    health = client.get("/healthz")
    assert health.status_code == 200 and health.json["status"] == "ok"
    assert post_typeform(client, EXAMPLE).json["status"] == "rejected"  # its redelivery too


# -- the partner form never makes a direct claim -------------------------------------------------------

@pytest.mark.parametrize("hidden", [
    pytest.param(None, id="no-hidden-object"),
    pytest.param({"utm_source": "partner-portal"}, id="link-without-partner"),
    pytest.param({"partner": "direct"}, id="partner-is-direct"),
])
def test_a_response_without_a_partner_is_rejected_never_a_direct_claim(client, store, hidden):
    raw = registration(hidden=hidden) if hidden is not None else registration()
    if hidden is None:
        payload = json.loads(raw)
        del payload["form_response"]["hidden"]
        raw = json.dumps(payload).encode("utf-8")
    response = post_typeform(client, raw)
    assert response.status_code == 200
    assert response.json["status"] == "rejected"
    assert response.json["owner"] != "direct"
    assert "https://form.typeform.com/to/pR7kD2xQ#partner=" in response.json["reason"]
    # Nothing blocks the partner whose link was wrong: the fixed link registers the account.
    fixed = post_typeform(client, registration(token="the-resubmission-through-the-right-link"))
    assert (fixed.json["status"], fixed.json["owner"]) == ("clear", "Northwind Partners")


# -- refs nothing maps ---------------------------------------------------------------------------------

@pytest.mark.backends("sqlite")  # the event's JSON is kept by the SQLite store
def test_refs_nothing_maps_are_listed_in_the_decision_event(client, settings):
    response = post_typeform(client, load_payload("typeform_registration.json"))
    assert response.json["status"] == "clear"
    with sqlite3.connect(settings.db) as db:
        [(event,)] = db.execute("SELECT event_json FROM decision_events").fetchall()
    assert json.loads(event)["extra"] == {"unmapped_refs": "contact_phone; products; expected_close; utm_source"}
