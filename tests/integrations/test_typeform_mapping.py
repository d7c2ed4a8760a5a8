"""Suggesting DEALREG_TYPEFORM_MAPPING from a form's question titles and types."""

from __future__ import annotations

import pytest

from integrations.typeform import DEFAULT_MAPPING, parse_typeform
from integrations.typeform.suggest import Question, _guess, read_form, suggest
from tests.payloads import load_json

FORM = "typeform_form_definition.json"  # a builder-made form: Typeform generated every ref


@pytest.mark.parametrize(
    ("title", "kind", "field"),
    [
        ("What's the prospect's company name?", "short_text", "company_name"),
        ("Account name", "short_text", "company_name"),
        ("Company website", "website", "company_domain"),
        ("Prospect domain", "short_text", "company_domain"),
        ("Link", "website", "company_domain"),  # a Website question, by its type
        ("Company LinkedIn page", "website", "linkedin_url"),
        ("DUNS number", "short_text", "duns"),
        ("Their work email", "email", "contact_email"),
        ("Where do we reach them?", "email", "contact_email"),  # by its type
        ("Contact's full name", "short_text", "contact_name"),
        ("First name", "short_text", "contact_name"),
        ("Estimated deal size (USD)", "number", "deal_value"),
        ("Deal value", "number", "deal_value"),
        ("Number of employees", "number", "employees"),
        ("Currency", "dropdown", "currency"),
        ("Country", "dropdown", "country"),
        ("Sales region", "multiple_choice", "region"),
        ("Industry", "dropdown", "industry"),
        ("Your company", "dropdown", "partner"),
        ("Which partner are you?", "dropdown", "partner"),
        # Words that must not pull a question onto a company or contact field:
        ("Company size", "dropdown", None),
        ("Contact phone", "phone_number", None),
        ("Expected close date", "date", None),
        ("Is this a new customer?", "yes_no", None),
        ("Products of interest", "multiple_choice", None),
        ("Anything else we should know?", "long_text", None),
    ],
)
def test_a_question_is_placed_by_its_title_and_type(title, kind, field):
    assert _guess(Question("ref", title, kind))[0] == field


def test_a_builder_made_form_gets_a_mapping_for_its_generated_refs():
    found = suggest(load_json(FORM))
    assert (found.source, found.form_id, found.form_title) == ("a form definition", "Hq3Vb7Lm", "Partner deal registration")
    placed = {p.field: p.question.title for p in found.placed}
    assert placed == {
        "company_name": "What's the prospect's company name?",  # *bold* marks taken out
        "company_domain": "Company website",
        "contact_name": "Who is your contact there? (full name)",
        "contact_email": "Their work email",  # not "Your email, …": that is the partner's own address
        "deal_value": "Estimated deal size (USD)",
        "employees": "Number of employees",
        "country": "Country",
    }
    unplaced = {q.title: why for q, why in found.unplaced}
    assert unplaced["Your email, so we can confirm the registration"].startswith("contact_email is already read from")
    # The questions inside a question group count too.
    assert set(unplaced) >= {"Expected close date", "Anything else we should know?"}
    assert found.hidden == (("partner", "partner"), ("utm_source", ""))
    assert found.unfilled == ("linkedin_url", "duns", "currency", "region", "industry")
    assert found.names_partner


def _response_for(form: dict, answers: dict[str, object], hidden: dict[str, str]) -> dict:
    """A webhook payload for `form` as Typeform builds it: answers keyed by field id and ref."""
    fields = [f for f in form["fields"] if f["type"] != "group"]
    fields += [f for g in form["fields"] if g["type"] == "group" for f in g["properties"]["fields"]]
    by_title = {f["title"]: f for f in fields}
    out = []
    for title, value in answers.items():
        field = by_title[title]
        kind = {"short_text": "text", "long_text": "text", "website": "url", "email": "email", "number": "number",
                "dropdown": "text", "date": "date"}[field["type"]]
        out.append({"type": kind, kind: value, "field": {"id": field["id"], "type": field["type"], "ref": field["ref"]}})
    return {"event_id": "01HVEVENT0000000000000000", "event_type": "form_response",
            "form_response": {"form_id": form["id"], "token": "t0k3n", "submitted_at": "2026-12-01T10:00:00Z",
                              "hidden": hidden, "definition": {"id": form["id"], "title": form["title"], "fields": fields},
                              "answers": out}}


def test_the_suggested_mapping_reads_the_forms_responses():
    form = load_json(FORM)
    payload = _response_for(form, {
        "What's the *prospect's company* name?": "Acme Robotics GmbH",
        "Company website": "https://www.acme-robotics.de",
        "Who is your contact there? (full name)": "Jana Müller",
        "Your email, so we can confirm the registration": "sam@northwind.example",
        "Their work email": "j.mueller@acme-robotics.de",
        "Estimated deal size (USD)": 48000,
        "Number of employees": 120,
        "Country": "Germany",
        "Expected close date": "2027-01-31",
    }, {"partner": "Northwind Partners", "utm_source": "portal"})
    without = parse_typeform(payload)
    assert without.record.company_name == "" and "were not used" in without.problems[-1]

    submission = parse_typeform(payload, {**DEFAULT_MAPPING, **suggest(form).mapping})
    record = submission.record
    assert (record.company_name, record.company_domain) == ("Acme Robotics GmbH", "https://www.acme-robotics.de")
    assert (record.contact_name, record.contact_email) == ("Jana Müller", "j.mueller@acme-robotics.de")
    assert (record.deal_value, record.employees, record.country) == (48000, 120, "Germany")
    assert record.partner == "Northwind Partners"
    assert submission.problems == ()
    # What the owner chose not to read is switched off, so nothing shows up as unused.
    assert submission.unmapped_refs == ()


def test_a_response_and_the_form_definition_give_the_same_mapping():
    form = load_json(FORM)
    payload = _response_for(form, {"Company website": "acme.de"}, {"partner": "Northwind Partners", "utm_source": "x"})
    assert suggest(payload).mapping == suggest(form).mapping


def test_a_form_already_built_with_the_default_refs_needs_no_mapping_but_its_extras_switched_off():
    found = suggest(load_json("typeform_registration.json"))
    assert all(p.how == "default ref" for p in found.placed)
    assert found.mapping == {"contact_phone": "", "products": "", "expected_close": "", "utm_source": ""}


def test_typeforms_published_example_is_placed_as_far_as_its_titles_allow():
    found = suggest(load_json("typeform_published_example.json"))
    assert {p.field: p.question.ref for p in found.placed} == {"contact_email": "readable_ref_email",
                                                               "contact_name": "readable_ref_short_text"}
    assert not found.names_partner  # its only hidden field is user_id
    assert "company_name" in found.unfilled and "partner" in found.unfilled
    # Its answers carry only field ids; the definition's refs are what the mapping is keyed on.
    assert all(ref.startswith("readable_ref_") or ref == "user_id" for ref in found.mapping)


def test_a_hidden_field_named_for_the_partner_is_read_as_the_partner():
    form = load_json(FORM)
    form["hidden"] = ["partner_name_hidden", "utm_source"]
    found = suggest(form)
    assert found.mapping["partner_name_hidden"] == "partner"
    assert found.names_partner


@pytest.mark.parametrize("document", [[], {"event_id": "x"}, {"form_response": "no"}, {"title": "no fields"}])
def test_a_document_that_is_neither_a_payload_nor_a_form_is_refused(document):
    with pytest.raises(ValueError, match="neither a Typeform webhook payload|not a JSON object"):
        read_form(document)
