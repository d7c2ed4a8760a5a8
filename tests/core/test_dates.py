"""dealreg.dates: spreadsheet serial numbers, and dates written as a spreadsheet's locale writes them."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from dealreg.dates import DMY, MDY, YMD, date_order, from_serial, read_date


@pytest.mark.parametrize(("serial", "wall"), [
    (0, datetime(1899, 12, 30)),
    (2.5, datetime(1900, 1, 1, 12)),  # Google's own examples (DateTimeRenderOption)
    (33.625, datetime(1900, 2, 1, 15)),
    (46357, datetime(2026, 12, 1)),
    (46357.604166666664, datetime(2026, 12, 1, 14, 30)),  # a float's noise rounds to the millisecond
])
def test_a_serial_number_is_days_since_1899_12_30(serial, wall):
    assert from_serial(serial) == wall


@pytest.mark.parametrize("serial", [-1, float("nan"), float("inf"), 3e6])
def test_a_number_that_names_no_day_is_refused(serial):
    with pytest.raises(ValueError, match="is not a date serial number"):
        from_serial(serial)


@pytest.mark.parametrize(("locale", "order"), [
    ("en_US", MDY), ("en", MDY), ("en_GB", DMY), ("en_AU", DMY), ("de_DE", DMY), ("de", DMY), ("de-AT", DMY),
    ("fr_FR", DMY), ("fr_CA", YMD), ("ja_JP", YMD), ("sv_SE", YMD),
    ("en_XX", None), ("xx_YY", None), ("", None),  # not known here: only unambiguous dates are read
])
def test_the_date_order_of_a_locale(locale, order):
    assert date_order(locale) == order


@pytest.mark.parametrize(("text", "locale", "moment"), [
    ("12/1/2026", "en_US", datetime(2026, 12, 1)),
    ("12/01/2026", "en_US", datetime(2026, 12, 1)),
    ("1.12.2026", "de_DE", datetime(2026, 12, 1)),
    ("01.12.2026.", "de_DE", datetime(2026, 12, 1)),
    ("01/12/2026", "en_GB", datetime(2026, 12, 1)),
    ("01-12-2026", "nl_NL", datetime(2026, 12, 1)),
    ("2026/12/01", "ja_JP", datetime(2026, 12, 1)),
    ("2026. 12. 01.", "hu_HU", datetime(2026, 12, 1)),
    ("2026-12-01", "de_DE", datetime(2026, 12, 1)),  # ISO reads the same in every locale
    ("2026-12-01T09:30:00", "en_US", datetime(2026, 12, 1, 9, 30)),
    ("2026-12-01T09:30:00+01:00", "en_US", datetime(2026, 12, 1, 9, 30, tzinfo=timezone(timedelta(hours=1)))),
    ("2026-12-01T09:30:00Z", "en_GB", datetime(2026, 12, 1, 9, 30, tzinfo=timezone.utc)),
    ("12/1/2026 14:30", "en_US", datetime(2026, 12, 1, 14, 30)),
    ("12/1/2026 2:30 PM", "en_US", datetime(2026, 12, 1, 14, 30)),
    ("12/1/2026 12:05 am", "en_US", datetime(2026, 12, 1, 0, 5)),
    ("1.12.2026 14:30:15", "de_DE", datetime(2026, 12, 1, 14, 30, 15)),
    ("13/01/2026", "xx_YY", datetime(2026, 1, 13)),  # an unknown order, but only one reading is a date
    ("5/5/2026", "xx_YY", datetime(2026, 5, 5)),  # both readings are the same day
    (" 12/1/2026 ", "en_US", datetime(2026, 12, 1)),
])
def test_a_date_written_in_the_spreadsheets_locale(text, locale, moment):
    assert read_date(text, locale) == moment


@pytest.mark.parametrize(("text", "locale", "reason"), [
    ("31/02/2026", "en_GB", "'31/02/2026' is not a date (read as day/month/year, month 2 of 2026 has no day 31; "
                            "the spreadsheet's locale en_GB); write it as YYYY-MM-DD"),
    ("13/01/2026", "en_US", "read as month/day/year, there is no month 13"),  # en_US never reads day first
    ("01/02/2026", "xx_YY", "'01/02/2026' is ambiguous in the spreadsheet's locale xx_YY: it could be 2026-01-02 "
                            "or 2026-02-01 (write it as YYYY-MM-DD)"),
    ("01/02/2026", "", "ambiguous in a spreadsheet with no locale"),
    ("1/12/26", "en_US", "'1/12/26' has no four-digit year (write it as YYYY-MM-DD)"),
    ("TBD", "en_US", "'TBD' is not a date (write it as YYYY-MM-DD)"),
    ("12/1/2026 25:00", "en_US", "25:00 is not a time of day"),
    ("12/1/2026 13:00 PM", "en_US", "13 is not an hour of a 12-hour clock"),
    ("2026-02-30", "en_US", "is not a date"),
])
def test_what_is_impossible_or_ambiguous_is_refused_with_the_reason(text, locale, reason):
    with pytest.raises(ValueError) as info:
        read_date(text, locale)
    assert reason in str(info.value)
