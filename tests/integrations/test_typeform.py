"""Typeform: signature verification on raw bytes, and answers -> Record by ref."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from dealreg.errors import DealregError
from integrations.typeform import (
    DEFAULT_MAPPING,
    PayloadError,
    SignatureError,
    parse_typeform,
    sign,
    validate_mapping,
    verify_signature,
)
from tests.payloads import load_json, load_payload

SECRET = "test-secret-not-a-real-one"
VECTOR_SECRET = "s3cr3t-typeform"  # a vector computed by hand, by Typeform's recipe (secure-your-webhooks)
VECTOR_BODY = b'{"event_id":"test"}'
VECTOR_SIGNATURE = "sha256=dNGTsOhVhOuwZ0Ogzdcmzt7TC5fM5+B1hCxunWszH/E="


# --- signature ----------------------------------------------------------------------


def test_the_published_vector_verifies():
    assert sign(VECTOR_BODY, VECTOR_SECRET) == VECTOR_SIGNATURE
    verify_signature(VECTOR_BODY, VECTOR_SIGNATURE, [VECTOR_SECRET])  # raises if not


def test_a_recorded_payload_signed_with_our_secret_verifies():
    raw = load_payload("typeform_registration.json")
    verify_signature(raw, sign(raw, SECRET), [SECRET])  # raises SignatureError on a mismatch
    with pytest.raises(SignatureError):
        verify_signature(raw + b" ", sign(raw, SECRET), [SECRET])


def test_signature_error_is_a_dealreg_error():
    assert issubclass(SignatureError, DealregError)


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        (None, "missing"),
        ("", "missing"),
        ("   ", "missing"),
        ("sha1=dNGTsOhVhOuwZ0Ogzdcmzt7TC5fM5+B1hCxunWszH/E=", "malformed"),
        ("SHA256=dNGTsOhVhOuwZ0Ogzdcmzt7TC5fM5+B1hCxunWszH/E=", "malformed"),
        ("dNGTsOhVhOuwZ0Ogzdcmzt7TC5fM5+B1hCxunWszH/E=", "malformed"),  # no prefix
        ("sha256=", "malformed"),
        ("sha256=not base64!", "malformed"),
        ("sha256=dNGTsOhVhOuwZ0Ogzdcmzt7TC5fM5+B1hCxunWszH/E", "malformed"),  # padding cut
        ("sha256=dNGTsOhVhOuwZ0Ogzdcmzt7TC5fM5+B1hCxunWszH/E==", "malformed"),
        ("sha256=dNGTsOhVhOuwZ0Ogzdcmzt7TC5fM5+B1hCxunWsz", "malformed"),  # 24 bytes
        ("sha256=dNGTsOhVhOuwZ0Ogzdcmzt7TC5fM5+B1hCxunWszH/FdNGTsOhVhOuwZ0Og=", "malformed"),  # too long
        ("sha256=dNGTsOhVhOuwZ0Ogzdcmzt7TC5fM5+B1hCxunWszH/F=", "malformed"),  # same bytes, non-canonical
        ("sha256=dNGTsOhVhOuwZ0Ogzdcmzt7TC5fM5+B1hCxunWszH/E=\u00e9", "malformed"),  # non-ASCII
        ("sha256=\uff44NGTsOhVhOuwZ0Ogzdcmzt7TC5fM5+B1hCxunWszH/E=", "malformed"),  # full-width d
        ("sha256=" + "A" * 43 + "=", "does not match"),  # well-formed, wrong digest
        (sign(VECTOR_BODY, "another-secret"), "does not match"),
        (sign(VECTOR_BODY + b"\n", VECTOR_SECRET), "does not match"),
    ],
)
def test_bad_headers_raise_signature_error_naming_the_reason(header, reason):
    with pytest.raises(SignatureError) as caught:
        verify_signature(VECTOR_BODY, header, [VECTOR_SECRET])
    assert reason in caught.value.reason


def test_surrounding_whitespace_in_the_header_is_tolerated():
    verify_signature(VECTOR_BODY, f"  {VECTOR_SIGNATURE} ", [VECTOR_SECRET])  # raises on a mismatch
    with pytest.raises(SignatureError):
        verify_signature(VECTOR_BODY, f"  {VECTOR_SIGNATURE[:-2]}x= ", [VECTOR_SECRET])


@pytest.mark.parametrize("secrets", [[], (), [""], ["", ""], ""])
def test_no_secret_configured_refuses_even_a_valid_signature(secrets):
    with pytest.raises(SignatureError, match="no Typeform secret"):
        verify_signature(VECTOR_BODY, VECTOR_SIGNATURE, secrets)


def test_rotation_accepts_either_of_two_secrets():
    old, new = "old-secret", "new-secret"
    for secret in (old, new):
        verify_signature(VECTOR_BODY, sign(VECTOR_BODY, secret), [old, new])
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(VECTOR_BODY, sign(VECTOR_BODY, "retired-secret"), [old, new])


def test_a_bare_string_is_one_secret_not_a_list_of_characters():
    # If a caller passes the setting itself, "s3cr3t…" must not become the keys "s", "3", …
    verify_signature(VECTOR_BODY, VECTOR_SIGNATURE, VECTOR_SECRET)
    with pytest.raises(SignatureError):
        verify_signature(VECTOR_BODY, sign(VECTOR_BODY, "s"), VECTOR_SECRET)


def test_a_reserialised_body_does_not_verify():
    raw = load_payload("typeform_registration.json")
    header = sign(raw, SECRET)
    compact = json.dumps(json.loads(raw), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    assert compact != raw
    with pytest.raises(SignatureError, match="does not match"):
        verify_signature(compact, header, [SECRET])


def test_flipping_any_byte_of_the_body_breaks_the_signature():
    raw = load_payload("typeform_registration.json")
    header = sign(raw, SECRET)
    for i in range(len(raw)):
        flipped = raw[:i] + bytes([raw[i] ^ 0x01]) + raw[i + 1 :]
        with pytest.raises(SignatureError):
            verify_signature(flipped, header, [SECRET, "second-secret"])


@pytest.mark.parametrize("mask", [0x01, 0x20, 0x80])
def test_flipping_any_character_of_the_header_breaks_the_signature(mask):
    raw = load_payload("typeform_registration.json")
    header = sign(raw, SECRET)
    for i in range(len(header)):
        flipped = header[:i] + chr(ord(header[i]) ^ mask) + header[i + 1 :]
        with pytest.raises(SignatureError):
            verify_signature(raw, flipped, [SECRET])


@pytest.mark.parametrize("header", [b"sha256=abc", 12345, ["sha256=abc"]])
def test_a_header_of_the_wrong_type_is_malformed_not_a_crash(header):
    with pytest.raises(SignatureError, match="malformed"):
        verify_signature(VECTOR_BODY, header, [VECTOR_SECRET])  # type: ignore[arg-type]


# --- the realistic registration ---------------------------------------------------------


def test_the_realistic_registration_maps_every_answer_by_ref():
    submission = parse_typeform(load_json("typeform_registration.json"))
    record = submission.record
    assert (record.company_name, record.company_domain) == ("Acme Robotics GmbH", "https://www.acme-robotics.de")
    assert (record.contact_email, record.contact_name) == ("j.mueller@acme-robotics.de", "Jana Müller")
    assert record.deal_value == 48000
    assert record.country == "DE"
    assert record.linkedin_url == "https://www.linkedin.com/company/acme-robotics/"
    assert record.partner == "Northwind Partners"  # from the hidden field
    assert (record.source, record.external_id) == ("typeform", "a8f3kq2m9x1v7c4b6n0z5s2d8e1r3t6y")
    assert record.submitted_at == datetime(2026, 3, 2, 14, 9, 47, tzinfo=UTC)
    assert submission.token == "a8f3kq2m9x1v7c4b6n0z5s2d8e1r3t6y"
    assert submission.event_id == "01HQ7Z3K9WJ4TN8B2R6XGMV5CD"
    assert submission.form_id == "pR7kD2xQ"
    assert submission.submitted_at == record.submitted_at
    assert submission.is_test is False
    assert submission.problems == ()
    assert submission.notes == ()
    # Questions and hidden fields the mapping does not know are listed for the operator.
    assert submission.unmapped_refs == ("contact_phone", "products", "expected_close", "utm_source")


def test_unanswered_questions_leave_their_fields_empty():
    payload = load_json("typeform_registration.json")
    answers = payload["form_response"]["answers"]
    payload["form_response"]["answers"] = [a for a in answers if a["field"]["ref"] not in ("deal_value", "country")]
    record = parse_typeform(payload).record
    assert record.deal_value is None
    assert record.country == ""
    assert record.company_name == "Acme Robotics GmbH"


def test_an_answer_without_a_ref_is_found_through_the_definition():
    payload = load_json("typeform_registration.json")
    for answer in payload["form_response"]["answers"]:
        del answer["field"]["ref"]  # older payloads carry only the field id
    record = parse_typeform(payload).record
    assert record.company_name == "Acme Robotics GmbH"
    assert record.deal_value == 48000


# --- every answer type ------------------------------------------------------------------


def test_every_answer_type_with_the_default_mapping():
    submission = parse_typeform(load_json("typeform_every_answer_type.json"))
    record = submission.record
    assert record.company_name == "Acme Robotics GmbH"  # text
    assert record.company_domain == "https://www.acme-robotics.de"  # url
    assert record.contact_email == "j.mueller@acme-robotics.de"  # email
    assert record.deal_value == 48000.5  # number
    assert record.employees == 120  # number from an opinion scale
    assert record.country == "Germany"  # choice: the label
    assert record.industry == "Industrial robotics"  # choice: the "other" text
    assert record.region == "DACH; EMEA"  # choices: labels joined
    assert submission.problems == ()
    # phone, yes/no, date, file upload, payment and long text have no default field.
    assert submission.unmapped_refs == ("contact_phone", "is_new_logo", "expected_close", "nda_file", "deposit", "notes")


@pytest.mark.parametrize(
    ("ref", "field", "expected"),
    [
        ("company_name", "company_name", "Acme Robotics GmbH"),  # text
        ("company_website", "company_domain", "https://www.acme-robotics.de"),  # url
        ("contact_email", "contact_email", "j.mueller@acme-robotics.de"),  # email
        ("contact_phone", "contact_name", "+4930123456789"),  # phone_number
        ("deal_value", "deal_value", 48000.5),  # number
        ("employees", "employees", 120),  # number (opinion scale)
        ("country", "country", "Germany"),  # choice
        ("industry", "industry", "Industrial robotics"),  # choice, other
        ("region", "region", "DACH; EMEA"),  # choices
        ("is_new_logo", "industry", "true"),  # boolean
        ("expected_close", "region", "2026-06-30"),  # date
        ("nda_file", "linkedin_url", "https://api.typeform.com/forms/pR7kD2xQ/responses/z9y8x7w6v5u4t3s2r1q0p9o8n7m6l5k4/fields/f0file000012/files/nda.pdf"),  # file_url
        ("deposit", "deal_value", 250.0),  # payment: the amount
        ("notes", "contact_name", "Met at the Hannover fair.\nBudget approved."),  # long text
    ],
)
def test_each_answer_type_can_be_mapped_to_a_field(ref, field, expected):
    mapping = {"company_name": "company_name", ref: field}
    submission = parse_typeform(load_json("typeform_every_answer_type.json"), mapping)
    assert getattr(submission.record, field) == expected
    assert ref not in submission.unmapped_refs


def test_a_ref_mapped_to_nothing_is_ignored_not_reported():
    mapping = {**DEFAULT_MAPPING, "contact_phone": "", "is_new_logo": ""}
    submission = parse_typeform(load_json("typeform_every_answer_type.json"), mapping)
    assert "contact_phone" not in submission.unmapped_refs
    assert "is_new_logo" not in submission.unmapped_refs


def test_a_mapping_to_an_unknown_field_is_refused_naming_the_ref():
    with pytest.raises(ValueError, match="'company' maps to unknown field 'account'"):
        validate_mapping({"company": "account"})
    with pytest.raises(ValueError, match="unknown field"):
        parse_typeform(load_json("typeform_registration.json"), {"company": "account"})


def test_a_custom_mapping_reads_custom_refs():
    payload = load_json("typeform_registration.json")
    payload["form_response"]["answers"][0]["field"]["ref"] = "prospect_company"
    assert parse_typeform(payload).record.company_name == ""
    mapping = {**DEFAULT_MAPPING, "prospect_company": "company_name"}
    assert parse_typeform(payload, mapping).record.company_name == "Acme Robotics GmbH"


# --- hidden fields ------------------------------------------------------------------


def _with_partner_answer(payload: dict, partner: str) -> dict:
    payload["form_response"]["answers"].append(
        {"type": "choice", "choice": {"label": partner}, "field": {"id": "Zt6GhY4rXs1H", "type": "dropdown", "ref": "partner_name"}}
    )
    return payload


def test_the_hidden_partner_wins_over_a_different_answer_and_the_clash_is_noted():
    payload = _with_partner_answer(load_json("typeform_registration.json"), "Contoso Resellers")
    submission = parse_typeform(payload)
    assert submission.record.partner == "Northwind Partners"
    assert submission.problems == ()  # a note for reviewers, not a reason to reject
    assert len(submission.notes) == 1
    assert "Northwind Partners" in submission.notes[0] and "Contoso Resellers" in submission.notes[0]


def test_the_same_partner_in_link_and_answer_is_no_clash():
    payload = _with_partner_answer(load_json("typeform_registration.json"), "northwind  partners")
    submission = parse_typeform(payload)
    assert submission.record.partner == "Northwind Partners"
    assert submission.notes == ()


def test_without_the_hidden_field_the_answer_names_the_partner():
    payload = _with_partner_answer(load_json("typeform_registration.json"), "Contoso Resellers")
    del payload["form_response"]["hidden"]
    assert parse_typeform(payload).record.partner == "Contoso Resellers"


def test_an_empty_hidden_partner_does_not_blank_the_answer():
    payload = _with_partner_answer(load_json("typeform_registration.json"), "Contoso Resellers")
    payload["form_response"]["hidden"] = {"partner": "  "}  # a link ending in #partner=
    assert parse_typeform(payload).record.partner == "Contoso Resellers"


def _without_partner(payload: dict) -> dict:
    """The registration as the partner form's bare link sends it: no hidden `partner`."""
    payload["form_response"]["hidden"].pop("partner")
    return payload


@pytest.mark.parametrize(
    "hidden",
    [
        pytest.param(None, id="no-hidden-object"),
        pytest.param({"partner": ""}, id="empty"),  # a link ending in #partner=
        pytest.param({"partner": "   "}, id="blank"),
        pytest.param({"utm_source": "partner-portal"}, id="other-hidden-fields-only"),
    ],
)
def test_no_partner_is_a_problem_never_a_direct_claim(hidden):
    payload = _without_partner(load_json("typeform_registration.json"))
    if hidden is None:
        del payload["form_response"]["hidden"]
    else:
        payload["form_response"]["hidden"] = hidden
    submission = parse_typeform(payload)
    assert submission.record.partner == ""
    problem = next(p for p in submission.problems if "partner" in p)
    # The reason tells the partner manager what is wrong with the link, and how to build one.
    assert problem.startswith("No partner is named: the form link lacks #partner=")
    assert "https://form.typeform.com/to/pR7kD2xQ#partner=" in problem


def test_direct_named_on_the_partner_form_is_a_problem():
    payload = _without_partner(load_json("typeform_registration.json"))
    payload["form_response"]["hidden"] = {"partner": "Direct"}
    problems = parse_typeform(payload).problems
    assert any(p.startswith("'Direct' is the direct team, not a partner") for p in problems)


def test_the_partner_link_in_the_reason_names_the_mapped_hidden_field():
    payload = _without_partner(load_json("typeform_registration.json"))
    mapping = {**DEFAULT_MAPPING, "partner": "", "partner_name": "", "partner_id": "partner"}
    payload["form_response"]["hidden"] = {}
    problems = parse_typeform(payload, mapping).problems
    assert any("the form link lacks #partner_id=" in p and "#partner_id=Northwind%20Partners" in p for p in problems)
    nothing = {**DEFAULT_MAPPING, "partner": "", "partner_name": ""}
    assert any("maps nothing to partner" in p for p in parse_typeform(payload, nothing).problems)


def test_a_partner_from_the_answer_alone_is_enough():
    payload = _with_partner_answer(load_json("typeform_registration.json"), "Contoso Resellers")
    del payload["form_response"]["hidden"]  # a "Your company" dropdown names the partner instead
    submission = parse_typeform(payload)
    assert submission.record.partner == "Contoso Resellers"
    assert submission.problems == ()


def test_two_answers_for_one_field_keep_the_first_and_note_the_second():
    payload = load_json("typeform_registration.json")
    payload["form_response"]["answers"].append(
        {"type": "url", "url": "https://acme.example.org", "field": {"id": "x", "type": "website", "ref": "website"}}
    )
    submission = parse_typeform(payload)
    assert submission.record.company_domain == "https://www.acme-robotics.de"
    assert any("https://acme.example.org" in note for note in submission.notes)


# --- test request, partial, unusable --------------------------------------------------


def test_typeforms_test_request_is_detected():
    submission = parse_typeform(load_json("typeform_test_request.json"))
    assert submission.is_test is True
    assert "test request" in submission.problems[0]


def test_the_realistic_registration_is_not_a_test():
    assert parse_typeform(load_json("typeform_registration.json")).is_test is False


@pytest.mark.parametrize(
    "change",
    [
        pytest.param(lambda p: p["form_response"].update(token="another-token-than-the-event-id"), id="token-differs"),
        pytest.param(lambda p: p["form_response"].update(hidden={"partner": "Northwind Partners"}), id="has-hidden"),
        pytest.param(
            lambda p: p["form_response"].update(
                answers=[{"type": "text", "text": "Acme Robotics GmbH", "field": {"id": "Kq3XbN7pLm2A", "type": "short_text", "ref": "company_name"}}]
            ),
            id="no-placeholder",
        ),
    ],
)
def test_the_test_request_needs_every_trait(change):
    payload = load_json("typeform_test_request.json")
    change(payload)
    submission = parse_typeform(payload)
    assert submission.is_test is False
    assert not any("test request" in p for p in submission.problems)


def test_a_partial_response_with_null_answers_is_parsed_as_unanswered():
    submission = parse_typeform(load_json("typeform_partial.json"))
    assert submission.token == "p4rt1alt0ken00000000000000000000"
    assert submission.record.company_name == ""
    assert submission.is_test is False
    assert len(submission.problems) == 2
    assert "company" in submission.problems[0]
    assert "No partner is named" in submission.problems[1]


def test_an_unusable_registration_lists_its_problems():
    submission = parse_typeform(load_json("typeform_unusable.json"))
    assert submission.problems == (
        "The registration names no company (no company name, website, LinkedIn page or DUNS number).",
    )
    # Everything else is kept, so the rejection is recorded with what was sent.
    record = submission.record
    assert (record.contact_email, record.partner, record.deal_value) == ("jane.doe1987@gmail.com", "Northwind Partners", 12000)
    assert record.external_id == "un0s4bl3t0k3n000000000000000000a"


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        (-5, "deal_value: must not be negative"),
        (float("nan"), "deal_value: must be a finite number"),
        (1e308, "deal_value: "),
        ("1,250k", "deal_value: '1,250k' is ambiguous"),
        ("48 000 kr", "deal_value: 'kr' can mean DKK, ISK, NOK, SEK"),
    ],
)
def test_a_bad_deal_value_is_a_problem_and_the_rest_is_kept(value, problem):
    payload = load_json("typeform_registration.json")
    for answer in payload["form_response"]["answers"]:
        if answer["field"]["ref"] == "deal_value":
            answer["type"], answer["number"] = "number", value
    submission = parse_typeform(payload)
    assert submission.problems[0].startswith(problem)
    # The form's other questions are not read: the rejection says so, last.
    assert submission.problems[1:] == (
        "The answers under refs contact_phone, products, expected_close and the hidden fields utm_source were "
        "not used: set DEALREG_TYPEFORM_MAPPING (`dealreg typeform-mapping RESPONSE.json` prints it from one "
        "saved response).",
    )
    assert submission.record.deal_value is None
    assert submission.record.company_name == "Acme Robotics GmbH"


# --- envelope -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda p: p.update(event_type="form_response_partial"), "partial"),
        (lambda p: p.update(event_type="ping"), "event_type 'ping'"),
        (lambda p: p.pop("event_type"), "event_type None"),
        (lambda p: p.pop("form_response"), "form_response"),
        (lambda p: p["form_response"].pop("token"), "token"),
        (lambda p: p["form_response"].update(token=""), "token"),
        (lambda p: p["form_response"].update(token="   "), "token"),
        (lambda p: p["form_response"].update(answers="none"), "answers"),
        (lambda p: p["form_response"].update(submitted_at="yesterday"), "submitted_at"),
        (lambda p: p["form_response"].update(submitted_at="2026-03-02T14:09:47"), "submitted_at"),  # no zone
        (lambda p: p["form_response"].update(hidden=["partner"]), "hidden"),
        (lambda p: p["form_response"]["answers"][0].pop("type"), "answers.0.type"),
    ],
)
def test_an_unreadable_envelope_raises_payload_error(change, message):
    payload = load_json("typeform_registration.json")
    change(payload)
    with pytest.raises(PayloadError, match=message):
        parse_typeform(payload)


def test_payload_error_carries_the_token_when_there_is_one():
    payload = load_json("typeform_registration.json")
    payload["form_response"]["submitted_at"] = "yesterday"
    with pytest.raises(PayloadError) as caught:
        parse_typeform(payload)
    assert (caught.value.token, caught.value.event_id) == ("a8f3kq2m9x1v7c4b6n0z5s2d8e1r3t6y", "01HQ7Z3K9WJ4TN8B2R6XGMV5CD")


@pytest.mark.parametrize("payload", [[], "form_response", None, 42])
def test_a_body_that_is_not_an_object_raises_payload_error(payload):
    with pytest.raises(PayloadError, match="not a JSON object"):
        parse_typeform(payload)  # type: ignore[arg-type]
