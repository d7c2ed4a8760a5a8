"""The one number parser (dealreg/values.py): money and counts as people and spreadsheets write them.

Each row is one way a real value arrives: typed in a Sheet, exported by Excel in another locale,
pasted from a CRM, sent by Clay. docs/numbers.md states the same rules for users."""

from __future__ import annotations

import pytest

from dealreg.values import Amount, agreed_currency, number_text, parse_amount, parse_count

AMOUNTS = [
    # (as written, value, currency token as written)
    ("48000", 48000, ""),
    ("48000.5", 48000.5, ""),
    (" 48000 ", 48000, ""),
    ("+48000", 48000, ""),
    ("48,000", 48000, ""),  # en: thousands
    ("48.000", 48000, ""),  # de: thousands (a deal of 48 with three decimals is not a thing)
    ("1,234,567", 1234567, ""),
    ("1.234.567", 1234567, ""),
    ("48,000.50", 48000.5, ""),  # both marks: the last is the decimal mark
    ("48.000,50", 48000.5, ""),
    ("1.234.567,89", 1234567.89, ""),
    ("48000,50", 48000.5, ""),  # a decimal comma (Excel in a comma-decimal locale)
    ("48000.125", 48000.125, ""),  # more than three digits before: not a thousands group
    ("1,5", 1.5, ""),
    ("12,34", 12.34, ""),
    ("0.500", 0.5, ""),  # a leading zero is never a thousands group
    (".5", 0.5, ""),
    ("48 000", 48000, ""),  # fr: a space
    ("48\u00a0000", 48000, ""),  # a no-break space
    ("48\u202f000,50", 48000.5, ""),  # fr: a narrow no-break space and a decimal comma
    ("1'000", 1000, ""),  # ch: an apostrophe
    ("1\u2019000.50", 1000.5, ""),  # ch: a typographic apostrophe
    ("1_000", 1000, ""),
    ("1,00,000", 100000, ""),  # in: lakh grouping
    ("12,34,56,789", 123456789, ""),
    ("$150,000", 150000, "$"),
    ("$ 150,000", 150000, "$"),
    ("150,000$", 150000, "$"),
    ("US$48,000", 48000, "US$"),
    ("A$ 50,000", 50000, "A$"),
    ("€48,000", 48000, "€"),
    ("48.000 €", 48000, "€"),
    ("48 000,50 €", 48000.5, "€"),
    ("£1,200.00", 1200, "£"),
    ("¥5,000", 5000, "¥"),
    ("₹12,00,000", 1200000, "₹"),
    ("R$ 48.000,00", 48000, "R$"),
    ("CHF 1'000", 1000, "CHF"),
    ("USD 48000", 48000, "USD"),
    ("48000 EUR", 48000, "EUR"),
    ("48000eur", 48000, "eur"),
    ("kr 48 000", 48000, "kr"),
    ("48k", 48000, ""),
    ("48K", 48000, ""),
    ("1.2m", 1200000, ""),
    ("1,2m", 1200000, ""),  # with a suffix a single mark can only be a decimal mark
    ("1.5 k", 1500, ""),
    ("$48k", 48000, "$"),
    ("€1,5m", 1500000, "€"),
    ("48k USD", 48000, "USD"),
    ("1e5", 100000, ""),  # as programs write it
    ("1.5e-05", 0.000015, ""),
    ("123.4560", 123.456, ""),  # four decimals: a decimal, as number_text writes 123.456
    (48000, 48000, ""),
    (48000.5, 48000.5, ""),
    (0, 0, ""),
]


@pytest.mark.parametrize(("written", "value", "currency"), AMOUNTS, ids=[repr(a[0]) for a in AMOUNTS])
def test_amounts_as_people_write_them(written, value, currency):
    assert parse_amount(written) == Amount(value, currency)


BAD_AMOUNTS = [
    # (as written, words in the message)
    ("lots", "'lots' is not a number; write it like 48000"),
    ("TBD", "is not a number"),
    ("NaN", "is not a number"),
    ("inf", "is not a number"),
    ("48000.", "is not a number"),
    ("1,2.3", "grouped oddly"),
    ("48,00,0", "grouped oddly"),
    ("1 234.567,00", "mixes thousands separators"),
    ("1,234.567.8", "is not a number"),
    ("1,250k", "'1,250k' is ambiguous: 1250k or 1.25k? Write one of those"),
    ("1.000m", "ambiguous: 1000m or 1m?"),
    ("1,000,000k", "is not a number"),
    ("$48000 EUR", "names two currencies"),
    ("abc 100", "'abc 100' is not a number"),
    ("12abc", "'12abc' is not a number"),
    ("48000 euros", "is not a number"),
    ("51-200", "'51-200' is a range; write one number (e.g. 51)"),
    ("10 to 20", "is a range"),
    ("-1", "must not be negative"),
    ("\u2212500", "must not be negative"),
    ("-$500", "must not be negative"),
    ("1e400", "must be a finite number"),
    ("9" * 65, "is not a number"),
    ("", "is empty"),
    (float("nan"), "must be a finite number"),
    (float("inf"), "must be a finite number"),
    (-1, "must not be negative"),
    (True, "boolean"),
    ([1], "must be a number, got list"),
]


@pytest.mark.parametrize(("written", "words"), BAD_AMOUNTS, ids=[repr(a[0])[:20] for a in BAD_AMOUNTS])
def test_what_is_refused_says_how_to_write_it(written, words):
    with pytest.raises(ValueError) as err:
        parse_amount(written)
    assert words in str(err.value)


COUNTS = [("250", 250), ("1,200", 1200), ("1.200", 1200), ("1 200", 1200), ("10k", 10000), ("1.5k", 1500),
          ("250.0", 250), (250, 250), (250.0, 250), ("0", 0)]


@pytest.mark.parametrize(("written", "count"), COUNTS, ids=[repr(c[0]) for c in COUNTS])
def test_counts(written, count):
    got = parse_count(written)
    assert got == count and type(got) is int


BAD_COUNTS = [
    ("2.5", "'2.5' must be a whole number"),
    (2.5, "2.5 must be a whole number"),
    ("1.2345k", "must be a whole number"),
    ("$500", "'$500' is a count, not an amount of money"),
    ("500 USD", "is a count, not an amount"),
    ("51-200", "is a range"),
    ("10,001+", "is not a number"),
    ("-3", "must not be negative"),
    ("many", "is not a number"),
]


@pytest.mark.parametrize(("written", "words"), BAD_COUNTS, ids=[repr(c[0]) for c in BAD_COUNTS])
def test_bad_counts(written, words):
    with pytest.raises(ValueError) as err:
        parse_count(written)
    assert words in str(err.value)


CURRENCIES = [
    # (written with the value, the currency field, the currency the record ends with)
    ("$", "", "USD"),  # a plain $ is the US dollar
    ("$", "AUD", "AUD"),  # … and agrees with any dollar given
    ("$", "mxn", "mxn"),  # and the pesos written with $
    ("US$", "", "USD"),
    ("€", "", "EUR"),
    ("€", "EUR", "EUR"),
    ("eur", "", "EUR"),
    ("USD", "usd", "usd"),  # the field is kept as written
    ("¥", "CNY", "CNY"),
    ("kr", "SEK", "SEK"),
    ("€", "€", "€"),
]


@pytest.mark.parametrize(("found", "given", "currency"), CURRENCIES)
def test_a_currency_in_the_value_fills_or_agrees_with_the_field(found, given, currency):
    assert agreed_currency(found, given) == currency


@pytest.mark.parametrize(("found", "given", "words"), [
    ("€", "USD", "the value is in EUR but currency is 'USD'; make them agree, or leave currency empty"),
    ("$", "EUR", "the value is in USD but currency is 'EUR'"),
    ("US$", "AUD", "in USD but currency is 'AUD'"),
    ("€", "Euro", "not a currency code we know: write EUR"),
    ("kr", "", "'kr' can mean DKK, ISK, NOK, SEK: write the code"),
    ("kr", "EUR", "the value is in kr but currency is 'EUR'"),
])
def test_currencies_that_disagree_are_refused_naming_both(found, given, words):
    with pytest.raises(ValueError) as err:
        agreed_currency(found, given)
    assert words in str(err.value)


@pytest.mark.parametrize("value", [48000.0, 48000.5, 123.456, 1.234, 999.999, 0.001, 1e16, 1.5e-05, 12, 1234567.89])
def test_the_text_a_store_keeps_reads_back_as_the_same_number(value):
    text = number_text(value)
    assert parse_amount(text).value == value
    assert not text.endswith(".0")


@pytest.mark.parametrize("text", ["48000", " 48000 ", "0", "007", "48000.5", "48000.125", "0.500", "1.5", "12.34",
                                  "1234.567", "48.000", "123.456", "000.500", "9" * 64, "9" * 65, "١٢", "1_000", "",
                                  "1.", ".5", "1.2.3"])
def test_the_shortcut_for_plain_numbers_reads_what_the_full_reading_reads(text):
    from dealreg import values

    fast = values.plain_number(text)
    try:
        number, currency = values._read(text)
        full: float | None = float(number)
    except ValueError:
        full = None
    assert fast is None or fast == full
    if text.strip().isdigit() and text.isascii() and len(text.strip()) <= 64:
        assert fast is not None  # the common case takes the shortcut
