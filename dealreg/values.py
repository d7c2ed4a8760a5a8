"""One reading of numbers, for every way in: money (a deal value) and counts (employees).

Pure: no I/O, no locale, no clock. `dealreg.records.parse_record` (Clay and JSON API bodies,
CLI input rows, Typeform answers) and the store's cell converter (Sheet cells, registry and
territory CSV rows) both call it, so `48,000` means the same everywhere.

What is read (docs/numbers.md has the table a user sees):

- Thousands separators: `,` `.` a space (also no-break and narrow no-break, as French and
  Swiss spreadsheets write them), an apostrophe (`1'000`, Swiss) or `_`. Groups after the
  first must have three digits (`1,00,000`, the Indian lakh grouping with `,`, also reads).
- The decimal mark is `.` or `,`. With both in a number, the last one is the decimal mark
  (`48,000.50`, `48.000,50`). With one of them once: followed by exactly three digits and
  after one to three digits (not `0`), it separates thousands (`48,000` and `48.000` are
  48000: a deal value of 48 with three decimals is not a thing, and a count has no
  decimals); otherwise it is the decimal mark (`48000,50`, `1.5`, `0.500`).
- A currency, before or after, with or without a space: a symbol (`$` `€` `£` …, `A$`,
  `CHF` …) or an ISO 4217 code (`USD 48000`, `48.000 EUR`). A plain `$` is the US dollar,
  and agrees with any other dollar given as the currency.
- `k` (thousand) and `m` (million) after the number (`48k`, `1.2m`, `€1,5m`). With a
  suffix, `,` and `.` can only be a decimal mark, so `1,250k` (1,250 thousand or 1.25
  thousand?) is refused as ambiguous.
- Scientific notation as programs write it (`1e5`, `1.5e-05`).

Anything else (words, ranges such as `51-200`, several currencies) is refused with a
message that says how to write the value. Counts must be whole and carry no currency.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

# ISO 4217 list one (current currencies), https://www.six-group.com/en/products-services/
# financial-information/data-standards.html; funds and precious metals left out.
ISO_CURRENCIES = frozenset("""
AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP BYN BZD
CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP GEL GHS GIP GMD
GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR KMF KPW KRW KWD KYD KZT
LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK MXN MYR MZN NAD NGN NIO NOK NPR
NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR SBD SCR SDG SEK SGD SHP SLE SLL SOS SRD
SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS UAH UGX USD UYU UZS VES VND VUV WST XAF XCD
XCG XOF XPF YER ZAR ZMW ZWG ZWL
""".split())

DOLLARS = frozenset("""
USD AUD BBD BMD BND BSD BZD CAD FJD GYD HKD JMD KYD LRD NAD NZD SBD SGD SRD TTD TWD XCD
ARS CLP COP CUP DOP MXN UYU
""".split())
"""What a plain `$` may stand for when the currency is given: the dollars, and the pesos
that are written with `$` too."""

# symbol -> (the currency it means, the currencies it also agrees with when one is given)
SYMBOLS: dict[str, tuple[str, frozenset[str]]] = {
    "$": ("USD", DOLLARS),
    "US$": ("USD", frozenset()),
    "A$": ("AUD", frozenset()), "AU$": ("AUD", frozenset()),
    "C$": ("CAD", frozenset()), "CA$": ("CAD", frozenset()),
    "NZ$": ("NZD", frozenset()), "S$": ("SGD", frozenset()), "SG$": ("SGD", frozenset()),
    "HK$": ("HKD", frozenset()), "MX$": ("MXN", frozenset()), "R$": ("BRL", frozenset()),
    "€": ("EUR", frozenset()), "£": ("GBP", frozenset()),
    "¥": ("JPY", frozenset({"CNY"})), "JP¥": ("JPY", frozenset()), "CN¥": ("CNY", frozenset()),
    "₹": ("INR", frozenset()), "₩": ("KRW", frozenset()), "₪": ("ILS", frozenset()),
    "₺": ("TRY", frozenset()), "₽": ("RUB", frozenset()), "zł": ("PLN", frozenset()),
    "Fr.": ("CHF", frozenset()),
    # `kr` is the Swedish, Norwegian, Danish and Icelandic krona/krone alike: no default.
    "kr": ("", frozenset({"SEK", "NOK", "DKK", "ISK"})),
}
_SYMBOL_KEYS = {symbol.casefold(): symbol for symbol in SYMBOLS}

MAX_CHARS = 64  # a longer text is not a number anyone typed
HOW = "write it like 48000, 48,000.50, 48.000,50, $48k or 48000 EUR"

_SPACES = str.maketrans({c: " " for c in "\u00a0\u202f\u2009\u2007"})  # no-break, narrow, thin, figure
_APOSTROPHES = str.maketrans({c: "'" for c in "\u2019\u02bc"})
_MINUS = str.maketrans({"\u2212": "-"})
# a currency token: a symbol (longest first, so `US$` wins over `$`) or three letters
_CURRENCY = "|".join(re.escape(s) for s in sorted(SYMBOLS, key=len, reverse=True)) + r"|[A-Za-z]{3}"
_LEADING = re.compile(rf"(?P<cur>{_CURRENCY})\s*(?=[-+.,0-9])", re.IGNORECASE)
_TRAILING = re.compile(rf"(?:(?<=[0-9])|(?<=[0-9][kKmM]))\s*(?P<cur>{_CURRENCY})$", re.IGNORECASE)
_SUFFIX = re.compile(r"(?<=[0-9.,])\s*(?P<suffix>[kKmM])$")
_SCIENTIFIC = re.compile(r"(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)[eE][+-]?[0-9]+")
_SHAPE = re.compile(r"[0-9][0-9.,' _]*[0-9]|[0-9]|[.,][0-9]+")
_RANGE = re.compile(r"[0-9][0-9.,' ]*\s*(?:-|–|—|to)\s*[0-9][0-9.,' ]*\+?", re.IGNORECASE)
_MULTIPLIERS = {"k": Decimal(1_000), "m": Decimal(1_000_000)}  # not `b`/`bn`: no deal is that large


@dataclass(frozen=True, slots=True)
class Amount:
    """A sum of money as read: the number, and the currency written with it ("" when none)."""

    value: float
    currency: str = ""


def parse_amount(value: object) -> Amount:
    """A deal value: a number, or text as described in the module docstring.
    Raises ValueError with a message that says how to write it (no field name)."""
    if isinstance(value, bool):
        raise ValueError("must be a number, got a boolean")
    if isinstance(value, (int, float)):
        return Amount(_checked(Decimal(value) if isinstance(value, int) else value))
    if not isinstance(value, str):
        raise ValueError(f"must be a number, got {type(value).__name__}")
    if (plain := plain_number(value)) is not None:
        return Amount(plain)
    number, currency = _read(value)
    return Amount(_checked(number), currency)


def parse_count(value: object) -> int:
    """A whole number of things (employees): a number, or text with the same separators and
    `k`/`m` as an amount, but no currency. Raises ValueError."""
    if isinstance(value, bool):
        raise ValueError("must be a number, got a boolean")
    if isinstance(value, (int, float)):
        number: Decimal | float = Decimal(value) if isinstance(value, int) else value
    elif isinstance(value, str):
        if (plain := plain_number(value)) is not None and plain.is_integer():
            return int(plain)
        number, currency = _read(value)
        if currency:
            raise ValueError(f"{value.strip()!r} is a count, not an amount of money; write a whole number like 250")
    else:
        raise ValueError(f"must be a number, got {type(value).__name__}")
    checked = _checked(number)
    if not checked.is_integer():
        raise ValueError(f"{_shown(value)} must be a whole number")
    return int(checked)


def currency_of(text: str) -> tuple[str, frozenset[str]]:
    """What a currency as written means: (the ISO code, the codes it also agrees with).
    ("", {}) when the text is not a symbol or code we know."""
    key = text.strip()
    if key.upper() in ISO_CURRENCIES:
        return key.upper(), frozenset()
    symbol = _SYMBOL_KEYS.get(key.casefold())
    return SYMBOLS[symbol] if symbol else ("", frozenset())


def agreed_currency(found: str, given: str) -> str:
    """The currency of a value written with `found` (a symbol or code taken from the value) in a
    record whose currency field says `given` (may be empty). Raises ValueError naming both when
    they disagree, or when `found` alone does not say which currency it is (`kr`)."""
    code, also = currency_of(found)
    if not given.strip():
        if not code:
            raise ValueError(f"{found!r} can mean {', '.join(sorted(also))}: write the code (e.g. 48000 "
                             f"{min(also)}) or fill currency")
        return code
    given_code, _ = currency_of(given)
    if given_code and (given_code == code or given_code in also):
        return given.strip()
    hint = "" if given_code else f" (not a currency code we know: write {code or 'the ISO code'})"
    raise ValueError(f"the value is in {code or found} but currency is {given.strip()!r}{hint}; make them agree, "
                     f"or leave currency empty")


def number_text(value: float | int) -> str:
    """A number as the text a store keeps, read back by `parse_amount` as the same number.

    `repr` is the shortest exact text of a float, but `123.456` reads as 123456 under the
    thousands rule above; a trailing zero (`123.4560`) keeps it a decimal."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e16:
        return str(int(value))
    text = repr(value) if isinstance(value, float) else str(value)
    return text + "0" if re.fullmatch(r"-?[1-9][0-9]{0,2}\.[0-9]{3}", text) else text


# -- the reading --------------------------------------------------------------------------

def plain_number(text: str) -> float | None:
    """The number in a text of ASCII digits with at most one `.`, read directly; None for anything
    else, and for `48.000` (the thousands rule applies). Stores write every number this way: for
    100,000 deal value cells of a registry this takes 28 ms, the full reading 90 ms (bare float(): 14)."""
    text = text.strip()
    if text.isdigit() and text.isascii():
        return float(text) if len(text) <= MAX_CHARS else None
    whole, dot, fraction = text.partition(".")
    if not (dot and whole.isdigit() and fraction.isdigit() and text.isascii()) or len(text) > MAX_CHARS:
        return None
    if len(fraction) == 3 and len(whole) <= 3 and whole.strip("0"):
        return None  # 48.000: thousands, read in full
    return float(text)


def _read(raw: str) -> tuple[Decimal, str]:
    """The number and the currency token (as written, "" for none) of a text."""
    text = raw.translate(_SPACES).translate(_APOSTROPHES).translate(_MINUS).strip()
    shown = raw.strip()
    if not text:
        raise ValueError("is empty")
    if len(text) > MAX_CHARS:
        raise ValueError(f"{shown[:20]!r}… is not a number")
    if _RANGE.fullmatch(text):
        raise ValueError(f"{shown!r} is a range; write one number (e.g. {re.split(r'[^0-9]', text)[0]})")
    sign, text = _sign(text)
    currency = ""
    if (match := _LEADING.match(text)) and _known(match["cur"]):
        currency, text = match["cur"], text[match.end():]
        if not sign:
            sign, text = _sign(text)
    if (match := _TRAILING.search(text)) and _known(match["cur"]):
        if currency and currency_of(currency)[0] != currency_of(match["cur"])[0]:
            raise ValueError(f"{shown!r} names two currencies; {HOW}")
        currency, text = currency or match["cur"], text[:match.start()]
    suffix = ""
    if match := _SUFFIX.search(text):
        suffix, text = match["suffix"], text[:match.start()]
    text = text.strip()
    if not suffix and _SCIENTIFIC.fullmatch(text):
        return Decimal(sign + text), currency
    if not _SHAPE.fullmatch(text):
        raise ValueError(f"{shown!r} is not a number; {HOW}")
    digits = _digits(text, shown, suffix)
    return Decimal(sign + digits) * _MULTIPLIERS.get(suffix.lower(), Decimal(1)), currency


def _known(token: str) -> bool:
    """Three letters count as a currency only when they are an ISO code (`12abc` is no amount)."""
    code, also = currency_of(token)
    return bool(code or also)


def _sign(text: str) -> tuple[str, str]:
    if text[:1] in ("-", "+"):
        return ("-" if text[0] == "-" else ""), text[1:].lstrip()
    return "", text


def _digits(text: str, shown: str, suffix: str) -> str:
    """Plain digits with an optional `.` decimal mark, from a text of digits and separators."""
    decimal = _decimal_mark(text, shown, suffix)
    whole, _, fraction = text.partition(decimal) if decimal else (text, "", "")
    if fraction and not fraction.isdigit():
        raise ValueError(f"{shown!r} is not a number; {HOW}")
    marks = {c for c in whole if not c.isdigit()}
    if len(marks) > 1:
        raise ValueError(f"{shown!r} mixes thousands separators; {HOW}")
    if marks:
        (mark,) = marks
        groups = whole.split(mark)
        western = 1 <= len(groups[0]) <= 3 and all(len(g) == 3 for g in groups[1:])
        lakh = mark == "," and len(groups) > 2 and 1 <= len(groups[0]) <= 2 and len(groups[-1]) == 3 \
            and all(len(g) == 2 for g in groups[1:-1])
        if not (western or lakh) or not all(g.isdigit() for g in groups):
            raise ValueError(f"{shown!r} has its digits grouped oddly (thousands come in threes); {HOW}")
        whole = "".join(groups)
    return (whole or "0") + ("." + fraction if fraction else "")


def _decimal_mark(text: str, shown: str, suffix: str) -> str:
    """Which of `.` and `,` is the decimal mark in `text`, or "" when it has none."""
    dots, commas = text.count("."), text.count(",")
    if dots and commas:
        mark = "." if text.rfind(".") > text.rfind(",") else ","
        if text.count(mark) > 1:
            raise ValueError(f"{shown!r} is not a number; {HOW}")
        return mark
    if not (dots or commas):
        return ""
    mark = "." if dots else ","
    if text.count(mark) > 1:
        if suffix:
            raise ValueError(f"{shown!r} is not a number; {HOW}")
        return ""  # 1,234,567 / 1.234.567: only thousands separators
    before, _, after = text.partition(mark)
    thousands = (len(after) == 3 and 1 <= len(before) <= 3 and before.isdigit() and before.strip("0") != "")
    if thousands and suffix:
        # 1,250k: 1,250 thousand (a thousands separator) or 1.25 thousand (a decimal comma)?
        as_decimal = format(Decimal(f"{before}.{after}").normalize(), "f")
        raise ValueError(f"{shown!r} is ambiguous: {before}{after}{suffix} or {as_decimal}{suffix}? Write one of those")
    return "" if thousands else mark


def _checked(number: Decimal | float) -> float:
    """The number as a float, refused when it is not finite or negative."""
    try:
        value = float(number)
    except (OverflowError, InvalidOperation):
        value = float("inf")
    if value != value or value in (float("inf"), float("-inf")):
        raise ValueError("must be a finite number")
    if value < 0:
        raise ValueError("must not be negative")
    return value


def _shown(value: object) -> str:
    return repr(value.strip()) if isinstance(value, str) else str(value)
