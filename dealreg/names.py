"""Company names as they are compared: `name_key` folds spelling, initials, "&"/"and", a leading
"The" and the legal forms of many countries, so "The ACME Holdings Pty. Ltd." is "acme holdings".

Pure; the legal forms are read once, at import, from dealreg/data/legal_forms.txt.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import NamedTuple

from dealreg import data
from dealreg.text import clean_text, repair_mojibake


class NameKey(NamedTuple):
    """A company name as it is compared."""

    key: str  # normalised name, tokens joined by single spaces ("" without letters or digits)
    tokens: tuple[str, ...]
    legal_form: str  # the legal forms stripped from the name, space-joined ("" if none)


_WORD = re.compile(r"[^\W_]+|&")
# Deleted before splitting: the dot after a lone letter followed by another lone letter
# ("i.b.m." -> "ibm.", "s.p.a" -> "spa"; "e.on" and "2.0" keep theirs), and a web suffix
# styled into a name ("Salesforce.com, Inc." -> "salesforce", "Seznam.cz, a.s." -> "seznam"),
# a two-letter one only after a word of three letters or more.
_DELETE_DOTS = re.compile(r"(?<=(?<![^\W_])[^\W\d_])\.(?=[^\W\d_](?![^\W_]))"
                          r"|(?<=[^\W_])\.(?:com|net|org|io|ai|app|(?<=[^\W\d_]{3}\.)[a-z]{2})(?![\w.])")
# Punctuation (anything but letters, digits, "&" and apostrophes) to spaces; apostrophes are deleted.
_ASCII_PUNCTUATION = bytes(c for c in range(128) if not chr(c).isalnum() and chr(c) not in "&'`")
_ASCII_WORDS = bytes.maketrans(_ASCII_PUNCTUATION, b" " * len(_ASCII_PUNCTUATION))
_AND = frozenset({"&", "and", "und", "et", "y", "og", "och", "ja"})  # "and" only between two words (og, och, ja: Nordic)
_SYNONYMS = {
    "intl": "international", "mfg": "manufacturing", "natl": "national", "svcs": "services",
    "svc": "service", "hldgs": "holdings", "hldg": "holding", "grp": "group", "mgmt": "management",
    "bros": "brothers", "assn": "association", "assoc": "associates",
}
# Abbreviations that stand for a word only at the end of a name ("Estée Lauder Cos", "Philip Morris
# Cos"), where COS the fashion brand never stands.
_LAST_WORD_SYNONYMS = {"cos": "companies"}


def _words(text: str) -> list[str]:
    """Tokens of a name before any stripping: cleaned, initials joined, '&'/'and' unified."""
    # clean_text only lower-cases ASCII text and joins its spaces, which the split below does too;
    # mojibake ("KÃ¤rcher" from a UTF-8 CSV opened in Excel) is repaired before anything else.
    plain = text.isascii()
    s = (text.lower() if plain else clean_text(repair_mojibake(text))).replace("+", "&")
    if "." in s and "." in s.replace(". ", " ").rstrip("."):  # a dot ending a word ("inc.") changes nothing
        s = _DELETE_DOTS.sub("", s)
    if plain or s.isascii():
        # What _WORD finds, for the ASCII names that are nearly all of a registry, in one
        # translate: 0.04 s of the 100,000-registration index build (bench/RESULTS.md).
        words = s.replace("&", " & ").encode().translate(_ASCII_WORDS, b"'`").decode().split()
    else:
        words = _WORD.findall(s.replace("'", ""))  # McDonald's -> mcdonalds
    if _AND.isdisjoint(words):
        return words
    last = len(words) - 1
    return ["and" if 0 < i < last and w in _AND else w for i, w in enumerate(words) if w != "&" or 0 < i < last]


def _load_legal_forms() -> tuple[frozenset[tuple[str, ...]], frozenset[tuple[str, ...]]]:
    """Forms stripped from the end of a name, and those ("^pt") stripped from its start."""
    trailing, leading = set(), set()
    for entry in data.lines("legal_forms.txt"):
        if entry.startswith("^"):
            leading.add(tuple(entry[1:].split()))
        else:
            trailing.add(tuple(entry.split()))
    return frozenset(trailing), frozenset(leading)


def _lengths_by_word(forms: frozenset[tuple[str, ...]], at: int) -> dict[str, tuple[int, ...]]:
    """For each first (at=0) or last (at=-1) word of a form, the lengths of the forms it starts
    or ends, longest first: a name's own first or last word then says which forms to try."""
    lengths: dict[str, set[int]] = {}
    for form in forms:
        lengths.setdefault(form[at], set()).add(len(form))
    return {word: tuple(sorted(ns, reverse=True)) for word, ns in lengths.items()}


_TRAILING_FORMS, _LEADING_FORMS = _load_legal_forms()
ONE_WORD_FORMS = frozenset(form[0] for form in _TRAILING_FORMS if len(form) == 1)
INITIALS_FORMS = frozenset(form for form in _TRAILING_FORMS if len(form) == 2 and len(form[0]) == len(form[1]) == 1)
"""The legal forms of two letters written apart ("a s" of the Danish and Norwegian A/S), which are
written first too ("A/S Norske Shell") and never start another name: `Keys.lead` sets them aside."""
"""The legal forms of one word ("ab", "oy", "nv", "sa"): some countries write them first ("AB Sagax",
"Oy Alko Ab", "N.V. Nederlandse Spoorwegen"), where they are also the start of other names (AB InBev,
NV Energy), so the keys compare a name without its first word as well (`Keys.lead`) rather than
strip it."""
_TRAILING_BY_LAST_WORD = _lengths_by_word(_TRAILING_FORMS, -1)
_LEADING_BY_FIRST_WORD = _lengths_by_word(_LEADING_FORMS, 0)


def _trailing_form(tokens: list[str], start: int, end: int) -> int:
    """Length of the longest legal form ending `tokens[start:end]` that leaves at least one
    token (its last word ends some form)."""
    for n in _TRAILING_BY_LAST_WORD[tokens[end - 1]]:
        if n < end - start and tuple(tokens[end - n:end]) in _TRAILING_FORMS:
            return n
    return 0


def _leading_form(tokens: list[str], start: int, end: int) -> int:
    """Length of the longest legal form starting `tokens[start:end]` that leaves at least one
    token (its first word starts some form)."""
    for n in _LEADING_BY_FIRST_WORD[tokens[start]]:
        if n < end - start and tuple(tokens[start:start + n]) in _LEADING_FORMS:
            return n
    return 0


def name_key(name: str) -> NameKey:
    """The comparable form of a company name, and the legal forms taken off it.

    Drops a leading "the", legal forms at the end ("pty ltd", "gmbh and co kg", repeatedly)
    and a few unambiguous ones at the start ("pt", "ooo", "kabushiki kaisha"), but never
    the last token.
    """
    tokens = _words(name)
    start, end, leading = _name_span(tokens)
    words = _standard(tokens[start:end])
    return NameKey(" ".join(words), words, " ".join(leading + tokens[end:]))


def name_words(name: str) -> tuple[str, ...]:
    """The words of `name_key` alone, for the keys of a whole registry, which never read the legal
    form: 0.04 s of the 100,000-registration index build (bench/RESULTS.md)."""
    tokens = _words(name)
    start, end, _ = _name_span(tokens)
    return _standard(tokens[start:end])


@lru_cache(maxsize=4096)
def last_form(name: str) -> str:
    """The last word of a name's legal form ("inc" of "Visa Inc.", "ltd" of "Sony (UK) Co. Ltd",
    "ab" of "AB Electrolux", written first), "" without one: what `forms_disagree` compares. Read
    only where a weak name is compared (dealreg.score), never for a whole registry."""
    tokens = _words(name)
    start, end, _ = _name_span(tokens)
    if end < len(tokens):
        return tokens[-1]
    return tokens[start] if end - start > 1 and tokens[start] in ONE_WORD_FORMS else ""


# Legal forms by the kind of company law they come from, for telling whether two names' forms
# disagree: "Inc" and "Corporation" are both American, "Ltd" and "plc" both British law's.
_FORM_FAMILIES = (
    "inc incorporated corp corporation co company llc lp llp",
    "ltd limited plc pty pte bhd berhad",
    "ag aktiengesellschaft gmbh mbh kg kgaa se ug",
    "ab aktiebolag abp publ",
    "oy oyj",
    "as asa",
    "sa sas sasu sarl sca",
    "spa srl",
    "nv bv",
    "sl slu sau",
)
FORM_FAMILY = {form: i for i, line in enumerate(_FORM_FAMILIES) for form in line.split()}


def forms_disagree(a: str, b: str) -> bool:
    """Whether two legal forms (last words, as `last_form` gives them) come from different company
    laws: "Inc" and "Limited", "SA" and "AB". Unknown or missing forms never disagree."""
    return a in FORM_FAMILY and b in FORM_FAMILY and FORM_FAMILY[a] != FORM_FAMILY[b]


def _name_span(tokens: list[str]) -> tuple[int, int, list[str]]:
    """Where the name is in its tokens once a leading "the" and the legal forms are taken off
    (`tokens[start:end]`), and the legal forms taken off the start."""
    leading: list[str] = []  # legal forms taken off the start (rare: "PT", "OOO")
    start, end = 0, len(tokens)  # the name is tokens[start:end]
    while end - start > 1:
        if tokens[start] == "the":
            start += 1
        elif tokens[start] in _LEADING_BY_FIRST_WORD and (n := _leading_form(tokens, start, end)):
            leading += tokens[start:start + n]
            start += n
        elif tokens[end - 1] in _TRAILING_BY_LAST_WORD and (n := _trailing_form(tokens, start, end)):
            end -= n
        else:
            break
    return start, end, leading


def _standard(words: list[str]) -> tuple[str, ...]:
    """The name's words with their abbreviations spelt out ("intl" -> "international")."""
    if not _SYNONYMS.keys().isdisjoint(words):
        words = [_SYNONYMS.get(t, t) for t in words]
    if len(words) > 1 and words[-1] in _LAST_WORD_SYNONYMS:
        words[-1] = _LAST_WORD_SYNONYMS[words[-1]]
    return tuple(words)
