"""The keys that identify an account: company name, registered domain, LinkedIn page, DUNS.

Pure functions: no I/O at call time and never any network. Public suffixes come from
tldextract's bundled snapshot; the tables in ``dealreg/data`` are read once (legal forms
at import, the free-mail lists on first use). The rules follow ../shared/SPEC.md
("Account matching").
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache, lru_cache
from typing import Final, NamedTuple
from importlib.resources import files
from urllib.parse import unquote, urlsplit

import tldextract

_DATA = files("dealreg") / "data"


def _data_lines(name: str) -> list[str]:
    """The entries of a data file: one per line, '#' starts a comment."""
    text = (_DATA / name).read_text(encoding="utf-8")
    return [entry for line in text.splitlines() if (entry := line.split("#", 1)[0].strip())]


# --- text --------------------------------------------------------------------------------

# Invisible characters that survive NFKC; pasted into a name they split or disguise words.
_INVISIBLE: Final = (
    "\u00ad\u180e\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e"
    "\u2060\u2061\u2062\u2063\u2064\u2066\u2067\u2068\u2069\ufeff"
)
# Apostrophe look-alikes become "'". The acute accent must go before NFKC, which would
# turn it into a space and a combining accent ("McDonald´s" -> "mcdonald s").
_APOSTROPHES: Final = "\u2018\u2019\u201b\u02bb\u02bc\u2032\u00b4\uff07`"
_BEFORE_NFKC: Final = str.maketrans(dict.fromkeys(_INVISIBLE) | dict.fromkeys(_APOSTROPHES, "'"))

# Applied to casefolded NFKD text. Only the generic combining diacritics are dropped;
# script-specific marks (kana voicing, Devanagari vowel signs) carry meaning and stay.
_COMBINING: Final = [
    *range(0x0300, 0x0370), *range(0x1AB0, 0x1B00), *range(0x1DC0, 0x1E00),
    *range(0x20D0, 0x2100), *range(0xFE20, 0xFE30),
]
# A skeleton, not a transliteration: each Cyrillic/Greek letter that looks like a Latin
# one in either case maps to it, so a spoofed or mistyped name meets the real one.
# Both cases map alike because the table is applied after casefolding.
_LOOK_ALIKES: Final = {
    "а": "a", "в": "b", "е": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p",
    "с": "c", "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ј": "j", "һ": "h",
    "ԁ": "d", "ԛ": "q", "ԝ": "w", "ү": "y", "ӏ": "l",
    "α": "a", "β": "b", "ε": "e", "ζ": "z", "η": "h", "ι": "i", "κ": "k", "μ": "m",
    "ν": "n", "ο": "o", "ρ": "p", "τ": "t", "υ": "y", "χ": "x",
    "ɑ": "a", "ɡ": "g", "ı": "i",
}
# Latin letters that have no decomposition (ß is already "ss" after casefold).
_LATIN_EXTRA: Final = {"ø": "o", "æ": "ae", "œ": "oe", "ł": "l", "đ": "d", "ð": "d", "þ": "th", "ħ": "h", "ŧ": "t"}
_AFTER_NFKD: Final = str.maketrans(
    dict.fromkeys(map(chr, _COMBINING)) | _LOOK_ALIKES | _LATIN_EXTRA | dict.fromkeys(_APOSTROPHES, "'")
)


def clean_text(s: str) -> str:
    """Case-, accent-, width- and look-alike-insensitive text with single spaces. Idempotent."""
    if s.isascii():  # the common case; NFKC and the tables change nothing here
        return " ".join(s.replace("`", "'").lower().split())
    s = unicodedata.normalize("NFKC", s.translate(_BEFORE_NFKC)).casefold()
    s = unicodedata.normalize("NFKD", s).translate(_AFTER_NFKD)
    return " ".join(unicodedata.normalize("NFC", s).split())


# --- company names -----------------------------------------------------------------------


class NameKey(NamedTuple):
    """A company name as it is compared (a NamedTuple: built for every row of a registry)."""

    key: str  # normalised name, tokens joined by single spaces ("" without letters or digits)
    tokens: tuple[str, ...]
    legal_form: str  # the legal forms stripped from the name, space-joined ("" if none)


_WORD: Final = re.compile(r"[^\W_]+|&")
# ASCII fast path of _WORD: punctuation (but "&") to spaces, apostrophes deleted, in one
# bytes.translate, several times faster than the regex.
_ASCII_PUNCTUATION: Final = bytes([c for c in range(128) if not chr(c).isalnum() and chr(c) not in "&'`"])
_ASCII_WORDS: Final = bytes.maketrans(_ASCII_PUNCTUATION, b" " * len(_ASCII_PUNCTUATION))
# Deleted before splitting: the dot after a lone letter followed by another lone letter
# ("i.b.m." -> "ibm.", "s.p.a" -> "spa"; "e.on" and "2.0" keep theirs), and a web suffix
# styled into a name ("Salesforce.com, Inc." -> "salesforce"). The pattern starts with the
# dot, the lookbehinds after it, so the engine jumps from dot to dot instead of trying every
# position (2.5 times faster; a test checks it against the plain form on random text).
_DELETE_DOTS: Final = re.compile(
    r"\.(?:(?<=(?<![^\W_])[^\W\d_]\.)(?=[^\W\d_](?![^\W_]))"
    r"|(?<=[^\W_]\.)(?:com|net|org|io|ai|app)(?![\w.]))"
)
_AND: Final = frozenset({"&", "and", "und", "et", "y"})  # "and" only between two words
_SYNONYMS: Final = {
    "intl": "international", "mfg": "manufacturing", "natl": "national", "svcs": "services",
    "svc": "service", "hldgs": "holdings", "hldg": "holding", "grp": "group", "mgmt": "management",
    "bros": "brothers", "assn": "association", "assoc": "associates",
}
_SYNONYM_WORDS: Final = frozenset(_SYNONYMS)


def _words(text: str) -> list[str]:
    """Tokens of a name before any stripping: cleaned, initials joined, '&'/'and' unified."""
    # For ASCII text clean_text only lower-cases and joins spaces; the split below does the rest.
    s = text.lower() if text.isascii() else clean_text(text)
    if "+" in s:
        s = s.replace("+", "&")
    if "&" in s:
        s = s.replace("&", " & ")
    if "." in s and "." in s.replace(". ", " ").rstrip("."):  # not only "Inc." and the like
        s = _DELETE_DOTS.sub("", s)
    if s.isascii():
        words = s.encode().translate(_ASCII_WORDS, b"'`").decode().split()
    else:
        words = _WORD.findall(s.replace("'", ""))  # McDonald's -> mcdonalds
    if not _AND.isdisjoint(words):
        last = len(words) - 1
        words = [
            "and" if 0 < i < last and w in _AND else w
            for i, w in enumerate(words)
            if w != "&" or 0 < i < last
        ]
    return words


def _by_word(forms: frozenset[tuple[str, ...]], at: int) -> dict[str, tuple[int, ...]]:
    """For each first (at=0) or last (at=-1) word, the lengths of the forms it starts or ends, longest first."""
    lengths: dict[str, set[int]] = {}
    for form in forms:
        lengths.setdefault(form[at], set()).add(len(form))
    return {word: tuple(sorted(ns, reverse=True)) for word, ns in lengths.items()}


def _load_legal_forms() -> tuple[frozenset[tuple[str, ...]], frozenset[tuple[str, ...]]]:
    """Forms stripped from the end of a name, and those ("^pt") stripped from its start."""
    trailing, leading = set(), set()
    for entry in _data_lines("legal_forms.txt"):
        if entry.startswith("^"):
            leading.add(tuple(entry[1:].split()))
        else:
            trailing.add(tuple(entry.split()))
    return frozenset(trailing), frozenset(leading)


_LEGAL_FORMS: Final = _load_legal_forms()
_TRAILING_FORMS: Final = _LEGAL_FORMS[0]
_LEADING_FORMS: Final = _LEGAL_FORMS[1]
_TRAILING_LENGTHS: Final = _by_word(_TRAILING_FORMS, -1)
_LEADING_LENGTHS: Final = _by_word(_LEADING_FORMS, 0)


def _trailing_form(tokens: list[str], end: int) -> int:
    """Length of the longest legal form ending `tokens[:end]` that leaves at least one token."""
    for n in _TRAILING_LENGTHS[tokens[end - 1]]:
        # A length of 1 listed for the last word means that word alone is a form.
        if n < end and (n == 1 or tuple(tokens[end - n:end]) in _TRAILING_FORMS):
            return n
    return 0


def _leading_form(tokens: list[str]) -> int:
    """Length of the longest legal form starting the name that leaves at least one token."""
    for n in _LEADING_LENGTHS[tokens[0]]:
        if n < len(tokens) and (n == 1 or tuple(tokens[:n]) in _LEADING_FORMS):
            return n
    return 0


_STARTS_STRIPPED: Final = frozenset(_LEADING_LENGTHS) | {"the"}


def _strip_both_ends(tokens: list[str]) -> tuple[list[str], str]:
    """A leading "the" and legal forms at both ends, taken off in turn; the forms, space-joined."""
    leading: list[str] = []
    trailing: list[str] = []
    while len(tokens) > 1:
        if tokens[0] == "the":
            del tokens[0]
        elif tokens[0] in _LEADING_LENGTHS and (n := _leading_form(tokens)):
            leading += tokens[:n]
            del tokens[:n]
        elif tokens[-1] in _TRAILING_LENGTHS and (n := _trailing_form(tokens, len(tokens))):
            trailing[:0] = tokens[-n:]
            del tokens[-n:]
        else:
            break
    return tokens, " ".join(leading + trailing)


def name_key(name: str) -> NameKey:
    """The comparable form of a company name, and the legal forms taken off it.

    Drops a leading "the", legal forms at the end ("pty ltd", "gmbh and co kg", repeatedly)
    and a few unambiguous ones at the start ("pt", "ooo", "kabushiki kaisha"), but never
    the last token.
    """
    tokens = _words(name)
    legal_form = ""
    if len(tokens) > 1:
        if tokens[0] not in _STARTS_STRIPPED:  # most names: nothing to strip from the start
            end = len(tokens)
            while tokens[end - 1] in _TRAILING_LENGTHS and (n := _trailing_form(tokens, end)):
                end -= n
            if end < len(tokens):
                legal_form = " ".join(tokens[end:])
                del tokens[end:]
        else:
            tokens, legal_form = _strip_both_ends(tokens)
    if not _SYNONYM_WORDS.isdisjoint(tokens):
        tokens = [_SYNONYMS.get(t, t) for t in tokens]
    # tuple.__new__ with the fields in order: NameKey(…) costs three times as much, and
    # this runs for every row of a registry.
    return tuple.__new__(NameKey, (" ".join(tokens), tuple(tokens), legal_form))


# --- domains -----------------------------------------------------------------------------

# Offline: no suffix-list download, no disk cache; the snapshot in the wheel is used.
# Private suffixes keep foo.github.io and bar.github.io apart.
_EXTRACT: Final = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, include_psl_private_domains=True)
_HOST: Final = re.compile(r"[\w-]+(?:\.[\w-]+)*")
_STRIP_AROUND: Final = " \t\r\n<>\"'"
_REMOVE_INVISIBLE: Final = str.maketrans(dict.fromkeys(_INVISIBLE))


_URL_END: Final = re.compile(r"[/?#\\]")
_SCHEME: Final = re.compile(r"[a-z][a-z0-9+.\-]*")


def _split_url(value: str) -> tuple[str, str] | None:
    """Host (lower case, no trailing dot) and path of a URL, a bare host[/path] or user@host."""
    rest = _after_scheme(value)
    netloc, slash, path = rest.partition("/")
    if "?" in netloc or "#" in netloc or "\\" in netloc:  # the host ends before the first slash
        end = _URL_END.search(rest)
        netloc, path = rest[: end.start()], rest[end.start():]  # type: ignore[union-attr]
        if path[0] != "/":
            path = ""  # a query or fragment right after the host: no path
    elif slash:
        path = "/" + path
    if "[" in netloc or "]" in netloc:
        return _split_url_slow(value)  # IPv6 literals: rare, let urllib judge them
    host = _host_of(netloc.lower())
    if "?" in path or "#" in path:
        path = path.split("?", 1)[0].split("#", 1)[0]
    return (host, path) if host else None


def _after_scheme(v: str) -> str:
    """`v` without its scheme ("https://", "//"); a "://" later on is not one."""
    if "://" in v:
        scheme, _, rest = v.partition("://")
        if scheme in ("https", "http", "HTTPS", "HTTP") or _SCHEME.fullmatch(scheme.lower()):
            return rest
    elif v.startswith("//"):
        return v[2:]
    return v


def _host_of(netloc: str) -> str:
    """The host in a (lower-case) network location: no user information, port or trailing dot."""
    if "@" in netloc:
        netloc = netloc.rpartition("@")[2]
    if ":" in netloc:
        netloc = netloc.partition(":")[0]
    return netloc.rstrip(".") if netloc.endswith(".") else netloc


def _split_url_slow(value: str) -> tuple[str, str] | None:
    if "://" not in value and not value.startswith("//"):
        value = "//" + value  # so urlsplit reads a bare host as the network location
    try:
        parts = urlsplit(value)
        host = parts.hostname
    except ValueError:  # e.g. an unbalanced "[" taken for an IPv6 address
        return None
    return (host.rstrip("."), parts.path) if host else None


def _host_and_path(value: str) -> tuple[str, str] | None:
    """Host and path of a URL, bare host or email address, as typed into a form."""
    return _split_url(_typed(value))


def _typed(value: str) -> str:
    """A URL, host or address as typed into a form, trimmed, lower-cased and (for non-ASCII
    text) NFKC-folded, invisible characters removed, without a "mailto:"."""
    v = value.strip(_STRIP_AROUND).lower()
    if not v.isascii():
        v = unicodedata.normalize("NFKC", v.translate(_REMOVE_INVISIBLE))
    return v.removeprefix("mailto:")


# The public suffix rules of tldextract's bundled snapshot (public and private), and every
# right-hand part of a rule, so the walk below stops as soon as no longer rule can match.
# The same answer as tldextract for ASCII hosts (a test compares them), several times faster;
# punycode and non-ASCII hosts go to tldextract itself.
_SUFFIXES: Final = frozenset(_EXTRACT.tlds)
_SUFFIX_PARTS: Final = frozenset({
    ".".join(parts[k:]) for parts in [rule.split(".") for rule in _SUFFIXES] for k in range(len(parts))
})


# Public suffixes that a wildcard rule extends ("*.ck": every "x.ck" is a suffix too).
_WILDCARD_PARENTS: Final = frozenset(rule[2:] for rule in _SUFFIXES if rule.startswith("*."))


def _registered(host: str) -> str | None:
    """The registered domain of a host (lower case, no trailing dot); None if it has none."""
    if not host.isascii() or "xn--" in host:
        if not _HOST.fullmatch(host):
            return None
        return _EXTRACT(host).top_domain_under_public_suffix or None
    labels = host.split(".")
    # As _HOST says: letters, digits, "-" and "_" in labels that are not empty.
    if "" in labels or not host.replace(".", "").replace("-", "").replace("_", "").isalnum():
        return None
    if len(labels) < 2:
        return None  # one label is a public suffix itself, or has none
    # The common shapes first, each settled by a few set lookups: "acme.com", "acme.co.uk".
    tld = labels[-1]
    two = f"{labels[-2]}.{tld}"
    if two not in _SUFFIX_PARTS:
        if tld in _SUFFIXES and tld not in _WILDCARD_PARENTS:
            return two
    elif len(labels) > 2 and two in _SUFFIXES and two not in _WILDCARD_PARENTS:
        three = f"{labels[-3]}.{two}"
        if three not in _SUFFIX_PARTS:
            return three
    # Anything else (wildcard and exception rules, deeper suffixes) walks the rules.
    start = len(labels)  # where the public suffix begins
    suffix = ""
    for i in range(len(labels) - 1, -1, -1):
        parent = suffix
        suffix = f"{labels[i]}.{suffix}" if suffix else labels[i]
        if suffix in _SUFFIX_PARTS:  # a label some rule names: follow it, as tldextract's trie does
            if suffix in _SUFFIXES:
                start = i
            continue
        if parent and "*." + parent in _SUFFIXES:  # a wildcard rule, unless an exception
            start = i + 1 if "!" + suffix in _SUFFIXES else i
        break
    if start == len(labels) or start == 0:
        return None  # no public suffix, or the host is a suffix itself
    return ".".join(labels[start - 1:])


def _registered_domain(value: str) -> str | None:
    """`registered_domain` without its cache (a registry's values are each seen once)."""
    parts = _host_and_path(value)
    return _registered(parts[0]) if parts else None


@lru_cache(maxsize=4096)  # a decision asks for the same website's domain several times
def registered_domain(value: str) -> str | None:
    """The registered domain in a URL, bare host or email address ("https://www.acme.co.uk/x"
    -> "acme.co.uk"); None when there is none (empty, "n/a", localhost, an IP address)."""
    return _registered_domain(value)


@cache
def _free_mail() -> frozenset[str]:
    allowed = frozenset(_data_lines("free_mail_allow.txt"))
    return frozenset(_data_lines("free_mail_domains.txt")) - allowed


def is_free_mail(domain: str) -> bool:
    """Whether a registered domain belongs to a free-mail or ISP mailbox provider."""
    return domain.lower() in _free_mail()


def email_domain(email: str) -> str | None:
    """The registered domain of an email address's host; None if it is not an email."""
    return _email_domain(email, True)


def _email_domain(email: str, cached: bool) -> str | None:
    local, at, host = email.strip(_STRIP_AROUND).rpartition("@")
    if not at or not local.strip():
        return None
    return registered_domain(host) if cached else _registered_domain(host)


# Sites whose pages stand for other companies: "facebook.com/acme" in a website field is
# Acme's page, not Meta's. Only the bare domain means the platform itself.
_PROFILE_SITES: Final = frozenset({
    "linkedin.com", "facebook.com", "fb.com", "instagram.com", "twitter.com", "x.com",
    "youtube.com", "tiktok.com", "pinterest.com", "linktr.ee", "crunchbase.com", "angel.co",
    "wellfound.com", "medium.com", "github.com", "gitlab.com", "google.com", "goo.gl",
    "bit.ly", "yelp.com", "glassdoor.com", "zoominfo.com", "notion.so", "calendly.com",
})


def account_domain(website: str = "", email: str = "", *, cached: bool = True) -> str | None:
    """The account's domain key: the website's registered domain or, when the website gives
    none, the email's. Free-mail domains and profile pages (linkedin.com/company/…) are never keys.

    `cached`: keep the website's domain for the next question about it (a decision asks
    several); a registry's websites, each asked about once, are better read uncached."""
    if website:
        domain = registered_domain(website) if cached else _registered_domain(website)
        if domain and domain not in _free_mail() and not (domain in _PROFILE_SITES and _is_page(website)):
            return domain
    if email:
        domain = _email_domain(email, cached)
        if domain and domain not in _free_mail():
            return domain
    return None


def _is_page(url: str) -> bool:
    """Whether a URL has a path: "linkedin.com/company/acme" is Acme's page, "linkedin.com" LinkedIn."""
    parts = _host_and_path(url)
    return bool(parts and parts[1].strip("/"))


# --- LinkedIn, DUNS ----------------------------------------------------------------------


def linkedin_key(url: str) -> str | None:
    """"li:<slug>", "li_id:<digits>", "li_showcase:<slug>" or "li_school:<slug>" for a
    LinkedIn company, showcase or school page in any URL form; None for anything else."""
    parts = _split_url(url.strip(_STRIP_AROUND))
    if not parts:
        return None
    host, path = parts
    if host != "linkedin.com" and not host.endswith(".linkedin.com"):
        return None
    if path.isascii() and "%" not in path:  # the common case: nothing to decode or fold but case
        segments = [s.strip() for s in path.lower().split("/")]
    else:
        # Decode each segment after splitting, so an encoded "/" or "?" cannot move the boundaries.
        segments = [
            unicodedata.normalize("NFC", unquote(s).translate(_REMOVE_INVISIBLE)).strip().casefold()
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


_DUNS_SEPARATORS: Final = str.maketrans(dict.fromkeys(" \t\u00a0-\u2010\u2011\u2012\u2013\u2014."))


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


# --- output ------------------------------------------------------------------------------

# OWASP "CSV Injection": a cell starting with one of these is read as a formula.
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r", "\0")


def defang(value: str) -> str:
    """Text safe to put in a spreadsheet cell: "'" before a leading formula character."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def undefang(text: str) -> str:
    """Undo `defang`: "'=x" reads back as "=x"; any other text is as written."""
    return text[1:] if text.startswith("'") and defang(text[1:]) == text else text
