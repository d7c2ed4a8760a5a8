"""One parser for CSV rows, Clay bodies and JSON API bodies: aliases, and every bad value named."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from dealreg.errors import InputError
from dealreg.records import parse_record


@pytest.mark.parametrize(
    ("data", "field", "value"),
    [
        ({"Company Name": "Acme"}, "company_name", "Acme"),
        ({"COMPANY": "Acme"}, "company_name", "Acme"),
        ({"company-name": " Acme "}, "company_name", "Acme"),
        ({"Website": "acme.com"}, "company_domain", "acme.com"),
        ({"domain": "acme.com"}, "company_domain", "acme.com"),
        ({"company_domain": "acme.com"}, "company_domain", "acme.com"),
        ({"email": "a@acme.com"}, "contact_email", "a@acme.com"),
        ({"Work Email": "a@acme.com"}, "contact_email", "a@acme.com"),
        ({"linkedin": "linkedin.com/company/acme"}, "linkedin_url", "linkedin.com/company/acme"),
        ({"LinkedIn URL": "linkedin.com/company/acme"}, "linkedin_url", "linkedin.com/company/acme"),
        ({"company": "Acme", "deal_value": "48000"}, "deal_value", 48000.0),
        ({"company": "Acme", "deal_value": 48000.5}, "deal_value", 48000.5),
        ({"company": "Acme", "Deal Value": "1e5"}, "deal_value", 100000.0),
        ({"company": "Acme", "employees": "250"}, "employees", 250),
        ({"company": "Acme", "employees": "1,200"}, "employees", 1200),
        ({"company": "Acme", "deal_value": "48,000"}, "deal_value", 48000.0),
        ({"company": "Acme", "deal_value": "$150,000"}, "deal_value", 150000.0),
        ({"company": "Acme", "deal_value": "48.000,50 €"}, "deal_value", 48000.5),
        ({"company": "Acme", "deal_value": "48k"}, "deal_value", 48000.0),
        ({"company": "Acme", "deal_value": "$150,000"}, "currency", "USD"),
        ({"company": "Acme", "deal_value": "USD 48000"}, "currency", "USD"),
        ({"company": "Acme", "deal_value": "$150,000", "currency": "AUD"}, "currency", "AUD"),
        ({"company": "Acme", "deal_value": "48 000 kr", "currency": "SEK"}, "currency", "SEK"),
        ({"company": "Acme", "deal_value": "48000", "currency": "EUR"}, "currency", "EUR"),
        ({"company": "Acme", "submitted_at": "2026-03-02"}, "submitted_at", datetime(2026, 3, 2, tzinfo=UTC)),
        ({"company": "Acme", "submitted_at": "2026-03-02T14:09:47Z"}, "submitted_at", datetime(2026, 3, 2, 14, 9, 47, tzinfo=UTC)),
        ({"company": "Acme", "submitted_at": "2026-03-02T16:09:47+02:00"}, "submitted_at", datetime(2026, 3, 2, 14, 9, 47, tzinfo=UTC)),
        ({"company": "Acme", "partner": "Northwind"}, "partner", "Northwind"),
        ({"company": "Acme", "duns": "15-048-3782"}, "duns", "15-048-3782"),
        ({"company": "Acme", "unrelated column": "kept out"}, "company_name", "Acme"),
        ({"company_name": "First", "company": "Second"}, "company_name", "First"),
        ({"company": "Acme", "deal_value": None}, "deal_value", None),
        ({"company": "Acme", "deal_value": ""}, "deal_value", None),
    ],
)
def test_aliases_and_values(data, field, value):
    assert getattr(parse_record(data, source="test"), field) == value


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        ({"company": "Acme", "deal_value": "lots"}, "deal_value", "'lots' is not a number; write it like 48000"),
        ({"company": "Acme", "deal_value": "1,250k"}, "deal_value", "is ambiguous"),
        ({"company": "Acme", "deal_value": "€500", "currency": "USD"}, "deal_value", "in EUR but currency is 'USD'"),
        ({"company": "Acme", "deal_value": "48 000 kr"}, "deal_value", "'kr' can mean"),
        ({"company": "Acme", "deal_value": float("nan")}, "deal_value", "finite"),
        ({"company": "Acme", "deal_value": float("inf")}, "deal_value", "finite"),
        ({"company": "Acme", "deal_value": "NaN"}, "deal_value", "is not a number"),
        ({"company": "Acme", "deal_value": "2e12"}, "deal_value", "implausibly large"),
        ({"company": "Acme", "employees": "51-200"}, "employees", "is a range"),
        ({"company": "Acme", "employees": "$500"}, "employees", "not an amount of money"),
        ({"company": "Acme", "deal_value": -1}, "deal_value", "must not be negative"),
        ({"company": "Acme", "deal_value": 1e308}, "deal_value", "implausibly large"),
        ({"company": "Acme", "deal_value": True}, "deal_value", "boolean"),
        ({"company": "Acme", "deal_value": [1]}, "deal_value", "must be a number"),
        ({"company": "Acme", "employees": 2.5}, "employees", "whole number"),
        ({"company": "Acme", "submitted_at": "2026-02-30"}, "submitted_at", "is not a date"),
        ({"company": "Acme", "submitted_at": "yesterday"}, "submitted_at", "is not a date"),
        ({"company": "Acme", "submitted_at": "1850-01-01"}, "submitted_at", "out of range"),
        ({"company": "Acme", "submitted_at": 20260101}, "submitted_at", "must be a date"),
        ({"company": {"name": "Acme"}}, "company_name", "must be text"),
        ({"company": "Acme", "partner": ["a"]}, "partner", "must be text"),
        ({"company": "A" * 2001}, "company_name", "longer than 2000"),
        ({"company": "Acme", "duns": "12345678"}, "duns", "9 digits"),
        ({}, "company_name", "is required"),
        ({"partner": "Northwind", "deal_value": 5}, "company_name", "is required"),
    ],
)
def test_bad_values_are_named(data, field, message):
    with pytest.raises(InputError) as err:
        parse_record(data, source="test")
    fields = dict(err.value.problems)
    assert field in fields and message in fields[field]
    assert str(err.value).startswith(f"{field}: ") or f"; {field}: " in str(err.value)


def test_every_problem_is_reported_at_once():
    with pytest.raises(InputError) as err:
        parse_record({"company": "Acme", "deal_value": "x", "employees": -3, "submitted_at": "never"}, source="t")
    assert [f for f, _ in err.value.problems] == ["deal_value", "employees", "submitted_at"]


def test_source_and_external_id_are_set_by_the_caller():
    record = parse_record({"company": "Acme", "external_id": "from-body"}, source="typeform", external_id="tok-1")
    assert (record.source, record.external_id, record.party) == ("typeform", "tok-1", "direct")
