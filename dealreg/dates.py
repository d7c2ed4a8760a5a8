"""Dates as a spreadsheet holds them: serial numbers, and text written the way a locale writes
dates. Pure: no I/O, no clock, no time zone database (the caller attaches the zone).

A spreadsheet stores a date as a number, and shows it in its locale's order: `12/1/2026` in
en_US and `01/12/2026` in en_GB are the same cell. Google documents the number (Sheets API v4,
DateTimeRenderOption SERIAL_NUMBER and "About date & time values",
https://developers.google.com/sheets/api/reference/rest/v4/DateTimeRenderOption,
https://developers.google.com/sheets/api/guides/formats#about_date_time_values): the whole
part counts days since 1899-12-30, the fraction is the time of day, and no zone is stored:
the moment is a wall-clock time in the spreadsheet's `timeZone`.

Text in a cell that is formatted as plain text (or typed with a leading `'`) stays text; it is
read in the spreadsheet's `locale` (SpreadsheetProperties.locale, e.g. `en_US`, `de_DE`), by
the day/month/year order of that locale's short date format (Unicode CLDR). ISO dates
(`2026-12-01`) read the same in every locale. What is truly ambiguous (`01/02/2026` in a
locale whose order is not known here, a two-digit year) or impossible (`31/02/2026`) is
refused with the reason.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, timedelta

SERIAL_EPOCH = datetime(1899, 12, 30)
"""Day 0 of a spreadsheet serial number (Google and Excel alike, 1900 not a leap year)."""
MAX_SERIAL = 2_958_466  # 10000-01-01: past the last day a datetime holds

MDY, DMY, YMD = "month/day/year", "day/month/year", "year/month/day"

# The order of day, month and year in each locale's short date format (Unicode CLDR, which
# Google Sheets follows). Only orders we are sure of: a locale missing here reads ISO dates
# and numeric dates that only one order can read, and refuses the rest as ambiguous.
_LOCALE_ORDER = {
    **dict.fromkeys(("en", "en_US", "en_PH", "en_PR", "es_US", "fil", "fil_PH"), MDY),
    **dict.fromkeys(("en_GB", "en_AU", "en_NZ", "en_IE", "en_IN", "en_SG", "es_MX", "es_AR", "es_CO",
                     "es_CL", "es_PE", "fr_BE", "fr_CH", "de_AT", "de_CH", "nl_BE", "pt_PT", "it_CH"), DMY),
    **dict.fromkeys(("en_CA", "en_ZA", "fr_CA"), YMD),
}
# A language whose countries all write dates in one order (the exceptions are listed above).
_LANGUAGE_ORDER = {
    **dict.fromkeys(("de", "fr", "es", "it", "nl", "pt", "pl", "ru", "uk", "tr", "da", "nb", "no", "fi", "cs",
                     "sk", "el", "ro", "hr", "sl", "bg", "id", "vi", "he", "et", "lv", "ca"), DMY),
    **dict.fromkeys(("ja", "zh", "ko", "hu", "sv", "lt"), YMD),
}

_NUMERIC = re.compile(
    r"(?P<a>\d{1,4})(?P<sep>[./-])\s?(?P<b>\d{1,2})(?P=sep)\s?(?P<c>\d{1,4})\.?"
    r"(?:(?:\s+|T)(?P<h>\d{1,2}):(?P<m>\d{2})(?::(?P<s>\d{2}))?\s*(?P<ampm>[AaPp]\.?[Mm]\.?)?)?"
)


def date_order(locale: str) -> str | None:
    """The day/month/year order of a spreadsheet locale (`en_US`, `de-DE`, `de`), or None
    when it is not known here."""
    key = locale.strip().replace("-", "_")
    if key in _LOCALE_ORDER:
        return _LOCALE_ORDER[key]
    language = key.split("_", 1)[0].casefold()
    if language == "en":  # English countries differ (US, GB, CA …): only the listed ones are known
        return _LOCALE_ORDER["en"] if key.casefold() == "en" else None
    return _LANGUAGE_ORDER.get(language)


def from_serial(serial: float) -> datetime:
    """A serial number as the wall-clock time it names (naive: the zone is the spreadsheet's).
    Rounded to the millisecond, the finest a spreadsheet time shows."""
    if not math.isfinite(serial) or not 0 <= serial < MAX_SERIAL:
        raise ValueError(f"{serial!r} is not a date serial number (days since 1899-12-30)")
    return SERIAL_EPOCH + timedelta(milliseconds=round(serial * 86_400_000))


def read_date(text: str, locale: str) -> datetime:
    """A date or date-time written as text, read in `locale`: ISO 8601 in any locale (aware
    when it carries an offset), else day, month and year in the locale's order, with an
    optional time (`14:30`, `2:30 PM`). Naive results are wall-clock times of the
    spreadsheet. Raises ValueError with the reason and the fix."""
    value = text.strip()
    if not value:
        raise ValueError("is empty")
    iso = _iso(value)
    if iso is not None:
        return iso
    found = _NUMERIC.fullmatch(value)
    if found is None:
        raise ValueError(f"{value!r} is not a date (write it as YYYY-MM-DD)")
    a, b, c = found["a"], found["b"], found["c"]
    if len(a) == 4:  # 2026/12/01, 2026.12.01: year first reads the same everywhere
        readings = [(int(a), int(b), int(c), YMD)]
    elif len(c) == 4:
        order = date_order(locale)
        if order == MDY:
            readings = [(int(c), int(a), int(b), MDY)]
        elif order == DMY:
            readings = [(int(c), int(b), int(a), DMY)]
        else:  # the locale's order is unknown here (or year first): only what one order can read
            readings = [(int(c), int(a), int(b), MDY), (int(c), int(b), int(a), DMY)]
    else:
        raise ValueError(f"{value!r} has no four-digit year (write it as YYYY-MM-DD)")
    dates = {}
    problems = []
    for year, month, day, order in readings:
        try:
            dates[(year, month, day)] = _moment(year, month, day, found)
        except ValueError as exc:
            problems.append(f"read as {order}, {exc}")
    if len(dates) == 1:
        return next(iter(dates.values()))
    where = f"the spreadsheet's locale {locale}" if locale else "a spreadsheet with no locale"
    if dates:
        could_be = " or ".join(sorted(f"{y:04d}-{m:02d}-{d:02d}" for y, m, d in dates))
        raise ValueError(f"{value!r} is ambiguous in {where}: it could be {could_be} (write it as YYYY-MM-DD)")
    raise ValueError(f"{value!r} is not a date ({'; '.join(problems)}; {where}); write it as YYYY-MM-DD")


def _iso(value: str) -> datetime | None:
    if not re.match(r"\d{4}-?\d{2}", value):
        return None
    try:
        return datetime.fromisoformat(value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value)
    except ValueError:
        return None


def _moment(year: int, month: int, day: int, found: re.Match[str]) -> datetime:
    if not 1 <= month <= 12:
        raise ValueError(f"there is no month {month}")
    try:
        moment = datetime(year, month, day)
    except ValueError:
        raise ValueError(f"month {month} of {year} has no day {day}") from None
    if found["h"] is None:
        return moment
    hour, minute, second = int(found["h"]), int(found["m"]), int(found["s"] or 0)
    if found["ampm"]:
        if not 1 <= hour <= 12:
            raise ValueError(f"{hour} is not an hour of a 12-hour clock")
        hour = hour % 12 + (12 if found["ampm"][0] in "Pp" else 0)
    if hour > 23 or minute > 59 or second > 59:
        raise ValueError(f"{found['h']}:{found['m']} is not a time of day")
    return moment.replace(hour=hour, minute=minute, second=second)
