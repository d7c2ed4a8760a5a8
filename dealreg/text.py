"""Text as people type it and as spreadsheets read it: `clean_text` folds case, accents, width
and look-alike letters; `repair_mojibake` undoes UTF-8 read as Windows-1252; `defang` keeps a
cell from being read as a formula.

Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata

# Invisible characters that survive NFKC; pasted into a name they split or disguise words.
INVISIBLE = (
    "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
REMOVE_INVISIBLE = str.maketrans(dict.fromkeys(INVISIBLE))
# Apostrophe look-alikes become "'". The acute accent must go before NFKC, which would
# turn it into a space and a combining accent ("McDonald´s" -> "mcdonald s").
_APOSTROPHES = "\u2018\u2019\u201b\u02bb\u02bc\u2032\u00b4\uff07`"
_BEFORE_NFKC = str.maketrans(dict.fromkeys(INVISIBLE) | dict.fromkeys(_APOSTROPHES, "'"))

# Applied to casefolded NFKD text. Only the generic combining diacritics are dropped;
# script-specific marks (kana voicing, Devanagari vowel signs) carry meaning and stay.
_COMBINING = [
    *range(0x0300, 0x0370), *range(0x1AB0, 0x1B00), *range(0x1DC0, 0x1E00),
    *range(0x20D0, 0x2100), *range(0xFE20, 0xFE30),
]
# A skeleton, not a transliteration: each Cyrillic/Greek letter that looks like a Latin
# one in either case maps to it, so a spoofed or mistyped name meets the real one.
# Both cases map alike because the table is applied after casefolding.
_LOOK_ALIKES = {
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j", "һ": "h",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "ү": "y", "ӏ": "l",
    "α": "a", "β": "b", "ε": "e", "ζ": "z", "η": "h", "ι": "i", "κ": "k", "μ": "m",
    "ν": "n", "ο": "o", "ρ": "p", "τ": "t", "υ": "y", "χ": "x",
    "ɑ": "a", "ɡ": "g", "ı": "i",
}
# Latin letters that have no decomposition (ß is already "ss" after casefold).
_LATIN_EXTRA = {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ħ": "h", "ŧ": "t"}
_AFTER_NFKD = str.maketrans(
    dict.fromkeys(map(chr, _COMBINING)) | _LOOK_ALIKES | _LATIN_EXTRA | dict.fromkeys(_APOSTROPHES, "'")
)


def clean_text(s: str) -> str:
    """Case-, accent-, width- and look-alike-insensitive text with single spaces. Idempotent."""
    if s.isascii():  # the common case; NFKC and the tables change nothing here
        return " ".join(s.replace("`", "'").lower().split())
    s = unicodedata.normalize("NFKC", s.translate(_BEFORE_NFKC)).casefold()
    s = unicodedata.normalize("NFKD", s).translate(_AFTER_NFKD)
    return " ".join(unicodedata.normalize("NFC", s).split())


# UTF-8 read as Windows-1252 or Latin-1 (Excel opening a UTF-8 CSV): the first byte of a UTF-8 sequence
# (Ã, Å, Ä, â …) shows as a Latin-1 letter, each continuation byte (0x80-0xBF) as a Windows-1252
# symbol or a Latin-1 one. Text without such a pair ("SÃO", "Kärcher") is left as it is, and ftfy,
# whose import costs about 50 ms, is loaded only when one is found.
_MOJIBAKE_PAIR = re.compile("[\u00c2-\u00f4][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e"
                            "\u0192\u02c6\u02dc\u2013-\u203a\u20ac\u2122]")


def repair_mojibake(s: str) -> str:
    """Text whose UTF-8 was read as Windows-1252 (once or twice) as it was written: "KÃ¤rcher"
    -> "Kärcher". ftfy decides, from how unlikely the characters are in real text, whether to
    re-decode; text that only looks alike ("SÃO MARTINHO") is returned unchanged."""
    if s.isascii() or not _MOJIBAKE_PAIR.search(s):
        return s
    from ftfy import fix_encoding  # only here: see _MOJIBAKE_PAIR

    return fix_encoding(s)


# OWASP "CSV Injection": a cell starting with one of these is read as a formula.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")


def defang(value: str) -> str:
    """Text safe to put in a spreadsheet cell: "'" before a leading formula character."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def undefang(text: str) -> str:
    """Undo `defang`: "'=x" reads back as "=x"; any other text is as written."""
    return text[1:] if text.startswith("'") and defang(text[1:]) == text else text
