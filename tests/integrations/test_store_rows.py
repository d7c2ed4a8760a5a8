"""The one converter from a Registrations row to a Registration (integrations/store.py), used by
the CSV registry, SQLite and the Google Sheet: its speed tricks must give exactly what the plain
way gives (the remembered timestamps, the cells in column order, the unfrozen-twin build)."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta, timezone

import pytest

from dealreg.errors import InputError
from dealreg.models import REGISTRATION_COLUMNS, Registration
from dealreg.records import parse_datetime
from integrations.store import rows as store
from integrations.store.rows import registration_from_cells, registration_from_row, registration_to_row

TIMESTAMP_FORMS = [
    "2026-03-02T14:09:47Z",
    "2026-03-02T14:09:47z",
    "2026-03-02T14:09:47+00:00",
    "2026-03-02T14:09:47-00:00",
    "2026-03-02T19:39:47+05:30",
    "2026-03-02T09:09:47-05:00",
    "2026-03-02T14:09:47",  # naive: UTC
    "2026-03-02 14:09:47",  # a space instead of the T
    "2026-03-02 14:09:47+00:00",  # as str(datetime) writes it
    "2026-03-02T14:09:47.123456Z",
    "2026-03-02T14:09:47.5+01:00",
    "2026-03-02T14:09",
    "2026-03-02",  # a date: midnight UTC
    "20260302",
    "2026-03-02T14:09:47+0530",
    "2100-12-31T23:00:00-05:00",  # in range as written, out of range in UTC
    "1990-01-01T01:00:00+02:00",
    "2026-02-30",
    "2026-03-02T25:00",
    "02/03/2026",
    "yesterday",
    "2026-03-02T14:09:47Zulu",
    "1850-01-01",
    "Z",
]


def _parse(text: str) -> tuple[str, datetime | str]:
    try:
        return "ok", parse_datetime(text)
    except ValueError as exc:
        return "error", str(exc)


def _converted(text: str) -> tuple[str, datetime | str]:
    try:
        return "ok", store._time("submitted_at", text)
    except InputError as exc:
        assert [field for field, _ in exc.problems] == ["submitted_at"]
        return "error", exc.problems[0][1]


@pytest.mark.parametrize("text", TIMESTAMP_FORMS)
def test_remembered_timestamps_are_what_the_general_parser_gives(text):
    store._parsed_time.cache_clear()
    expected = _parse(text)
    first, again = _converted(text), _converted(text)  # parsed, then remembered
    assert first == expected and again == expected
    if expected[0] == "ok":
        assert first[1].tzinfo is UTC and first[1].utcoffset() == timedelta(0)


def test_the_table_covers_both_outcomes():
    outcomes = {_parse(text)[0] for text in TIMESTAMP_FORMS}
    assert outcomes == {"ok", "error"}
    assert _parse("2026-03-02T19:39:47+05:30") == ("ok", datetime(2026, 3, 2, 14, 9, 47, tzinfo=UTC))
    assert _parse("2026-03-02") == ("ok", datetime(2026, 3, 2, tzinfo=UTC))


def test_errors_are_never_remembered():
    store._parsed_time.cache_clear()
    for _ in range(2):
        with pytest.raises(InputError):
            store._time("expires_at", "never")
    assert store._parsed_time.cache_info().currsize == 0


def _full_row() -> dict[str, str]:
    """A distinct, valid value in every column, so a column read into the wrong field shows."""
    row = {name: f"{name}-value" for name in REGISTRATION_COLUMNS}
    row.update(submitted_at="2026-03-02T16:09:47+02:00", expires_at="2026-06-01", employees="12",
               deal_value="48000.5", state="Won", duns="15-048-3782", extensions="2")
    return row


def _expected_registration(row: dict[str, str]) -> Registration:
    """The same row built the plain way: keywords, through Registration's own __init__."""
    values: dict[str, object] = {name: value.strip() for name, value in row.items()}
    values.update(submitted_at=parse_datetime(row["submitted_at"]), expires_at=parse_datetime(row["expires_at"]),
                  employees=12, deal_value=48000.5, state="won", extensions=2)
    return Registration(**values)  # type: ignore[arg-type]


def test_every_column_lands_in_its_own_field():
    row = _full_row()
    expected = _expected_registration(row)
    cells = [row[name] for name in REGISTRATION_COLUMNS]
    for got in (registration_from_cells(cells), registration_from_cells(tuple(cells)), registration_from_row(row)):
        assert type(got) is Registration
        for f in dataclasses.fields(Registration):
            assert getattr(got, f.name) == getattr(expected, f.name), f.name
        assert got == expected and hash(got) == hash(expected) and repr(got) == repr(expected)
    assert registration_from_row(registration_to_row(expected)) == expected


def test_cells_are_stripped_and_empty_ones_take_the_defaults():
    row = {"registration_id": "  R-1 ", "submitted_at": " 2026-03-02 ", "company_name": "\tAcme\n", "partner": "  "}
    got = registration_from_row(row)
    assert got == Registration(registration_id="R-1", submitted_at=datetime(2026, 3, 2, tzinfo=UTC),
                               partner="direct", company_name="Acme")
    assert registration_from_row({**row, "state": None, "deal_value": None}) == got  # a NULL cell is empty


@pytest.mark.parametrize(
    ("change", "field", "message"),
    [
        ({"registration_id": " "}, "registration_id", "is required"),
        ({"submitted_at": ""}, "submitted_at", "is required"),
        ({"submitted_at": "someday"}, "submitted_at", "is not a date"),
        ({"expires_at": "2026-13-01"}, "expires_at", "is not a date"),
        ({"deal_value": "12abc"}, "deal_value", "is not a number"),
        ({"employees": "2.5"}, "employees", "must be a whole number"),
        ({"state": "Maybe"}, "state", "'Maybe' is not a state"),
        ({"duns": "123"}, "duns", "DUNS must have 9 digits"),
        ({name: "" for name in ("company_name", "company_domain", "linkedin_url", "duns", "contact_email")},
         "company_name", "names no company"),
    ],
)
def test_bad_cells_name_their_field(change, field, message):
    row = {**_full_row(), **change}
    for convert, value in ((registration_from_row, row), (registration_from_cells, [row[n] for n in REGISTRATION_COLUMNS])):
        with pytest.raises(InputError) as err:
            convert(value)
        assert err.value.problems[0][0] == field and message in err.value.problems[0][1]


def test_a_registration_keeps_its_time_zone_as_utc():
    got = registration_from_row({**_full_row(), "submitted_at": "2026-03-02T16:09:47+02:00"})
    assert got.submitted_at == datetime(2026, 3, 2, 14, 9, 47, tzinfo=timezone.utc)
    assert got.submitted_at.tzinfo is UTC


# -- numbers in cells: the one parser (dealreg.values), as a Sheet or a registry CSV holds them ------

CELL_NUMBERS = [
    # (deal_value cell, currency cell, employees cell) -> (deal_value, currency, employees)
    (("48,000", "", "1,200"), (48000.0, "", 1200)),
    (("$150,000", "", ""), (150000.0, "USD", None)),
    (("$150,000", "AUD", ""), (150000.0, "AUD", None)),
    (("48.000,50 €", "", "1.200"), (48000.5, "EUR", 1200)),
    (("48000,50", "EUR", ""), (48000.5, "EUR", None)),
    (("USD 48k", "", "2k"), (48000.0, "USD", 2000)),
    (("48 000", "", "250"), (48000.0, "", 250)),
    (("123.4560", "", ""), (123.456, "", None)),  # what text_of writes for 123.456
]


@pytest.mark.parametrize(("cells", "expected"), CELL_NUMBERS, ids=[c[0][0] for c in CELL_NUMBERS])
def test_number_cells_read_as_every_way_in_reads_them(cells, expected):
    deal_value, currency, employees = cells
    row = {**_full_row(), "deal_value": deal_value, "currency": currency, "employees": employees}
    for got in (registration_from_row(row), registration_from_cells([row[n] for n in REGISTRATION_COLUMNS])):
        assert (got.deal_value, got.currency, got.employees) == expected
    assert registration_from_row(registration_to_row(got)) == got  # what a store writes reads back the same


@pytest.mark.parametrize(("change", "field", "message"), [
    ({"deal_value": "€48,000", "currency": "USD"}, "deal_value", "in EUR but currency is 'USD'"),
    ({"deal_value": "1,250k"}, "deal_value", "ambiguous"),
    ({"deal_value": "TBD"}, "deal_value", "'TBD' is not a number; write it like 48000"),
    ({"deal_value": "-5"}, "deal_value", "must not be negative"),
    ({"employees": "51-200"}, "employees", "is a range"),
    ({"employees": "$500"}, "employees", "not an amount of money"),
])
def test_bad_number_cells_say_how_to_write_them(change, field, message):
    with pytest.raises(InputError) as err:
        registration_from_row({**_full_row(), **change})
    assert err.value.problems[0][0] == field and message in err.value.problems[0][1]


def test_a_deal_value_with_three_decimals_reads_back_as_written():
    reg = dataclasses.replace(_expected_registration(_full_row()), deal_value=123.456)
    assert registration_to_row(reg)["deal_value"] == "123.4560"
    assert registration_from_row(registration_to_row(reg)).deal_value == 123.456


@pytest.mark.parametrize(("cells", "expected"), [(("1,000", "5.000"), (1000, 5000)), (("10k", ""), (10000, None))])
def test_territory_employee_bounds_read_like_every_count(cells, expected):
    territory = store.territory_from_row({"partner": "Northwind", "min_employees": cells[0], "max_employees": cells[1]})
    assert (territory.min_employees, territory.max_employees) == expected


@pytest.mark.parametrize("number", [48000, 48000.0, 48000.5, 123.456, 1.234, 1e16])
def test_a_number_google_sends_for_a_cell_reads_as_that_number(number):
    from integrations.sheets.cells import cell_text  # UNFORMATTED_VALUE: a cell typed as a number comes as one

    row = {**_full_row(), "deal_value": cell_text(number)}
    assert registration_from_row(row).deal_value == number
