"""The registry identifiers of a company: its LinkedIn page (`linkedin_key`) and its DUNS number
(`duns_key`), each in one canonical form whatever way it was typed.

Pure functions, no I/O.
"""

from __future__ import annotations

import unicodedata
from urllib.parse import unquote

from dealreg.domains import STRIP_AROUND, split_url
from dealreg.text import REMOVE_INVISIBLE


def linkedin_key(url: str) -> str | None:
    """"li:<slug>", "li_id:<digits>", "li_showcase:<slug>" or "li_school:<slug>" for a
    LinkedIn company, showcase or school page in any URL form; None for anything else."""
    parts = split_url(url.strip(STRIP_AROUND))
    if not parts:
        return None
    host, path = parts
    if host != "linkedin.com" and not host.endswith(".linkedin.com"):
        return None
    if path.isascii() and "%" not in path:  # nearly every URL: nothing to decode or fold but case
        segments = [s.strip() for s in path.lower().split("/")]
    else:
        # Decode each segment after splitting, so an encoded "/" or "?" cannot move the boundaries.
        segments = [
            unicodedata.normalize("NFC", unquote(s).translate(REMOVE_INVISIBLE)).strip().casefold()
            for s in path.split("/")
        ]
    match [s for s in segments if s]:
        case ["company" | "company-beta", ref, *_]:
            return f"li_id:{ref}" if ref.isascii() and ref.isdigit() else f"li:{ref}"
        case ["sales", "company", ref, *_] if ref.isascii() and ref.isdigit():
            return f"li_id:{ref}"
        case ["showcase", ref, *_]:
            return f"li_showcase:{ref}"
        case ["school", ref, *_]:
            return f"li_school:{ref}"
    return None


_DUNS_SEPARATORS = str.maketrans(dict.fromkeys(" \t\u00a0-\u2010\u2011\u2012\u2013\u2014."))


def duns_key(value: str) -> str | None:
    """The 9 digits of a DUNS number (spaces, dashes and dots ignored); None when empty.

    Raises ValueError for anything that is not exactly 9 digits.
    """
    v = value.strip()
    if not v:
        return None
    if v.endswith(".0") and v[:-2].isdigit():
        v = v[:-2]  # a spreadsheet number (150483782.0); dropping only the dot would add a digit
    digits = v.translate(_DUNS_SEPARATORS)
    if not (digits.isascii() and digits.isdigit()):
        raise ValueError(f"DUNS must have 9 digits (spaces, dashes and dots are ignored), got {v!r}")
    if len(digits) != 9:
        raise ValueError(f"DUNS must have 9 digits, got {len(digits)}")
    return digits
