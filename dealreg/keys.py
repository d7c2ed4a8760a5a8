"""The keys of one record or claim (`Keys`): its domains, LinkedIn page, DUNS and name, in the
forms the index posts and the scorer compares ("Airbus Group" -> core "airbus", initials "ag" …,
"Heineken UK" -> base "heineken"), and the word lists they read: country and region names
(dealreg/data/country_words.txt), a name's words in other languages (word_forms.txt).

Pure; built by `keys_of` from the fields as received.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from dealreg import data
from dealreg.domains import account_domains, registered_domain
from dealreg.ids import duns_key, linkedin_key
from dealreg.names import INITIALS_FORMS, ONE_WORD_FORMS, name_words

STOPWORDS = frozenset({"of", "the", "and", "for", "de", "la", "le", "du", "des", "der", "die", "van", "von", "y", "e",
                       "do", "da", "dos", "das", "del", "di", "della"})
# Words that describe a company's shape rather than name it, set aside at the end of a name
# for the "core" comparison (never alone: "Group" stays "group"). Not "bank", "energy",
# "partners" …: those tell real companies apart (Apple Bank, Siemens Energy, Stripe Partners).
GENERIC = frozenset({
    "group", "groupe", "gruppe", "grupo", "holding", "holdings", "international", "global", "worldwide",
    "technologies", "technology", "labs", "industries", "industry", "enterprises", "platforms", "com", "io",
    "operations", "companies", "gesellschaft",  # "Microsoft Ireland Operations Limited", "… Companies Inc."
})
LEADING_GENERIC = frozenset({"groupe", "grupo", "gruppo"})  # "Groupe Danone"
COMMON_WORDS = frozenset(data.lines("common_words.txt"))
"""Common English words (dealreg/data/common_words.txt): a company named by one of them alone
("Discovery", "Phoenix Group", "Compass") shares its name with unrelated firms; a coined name
("Heineken", "Supercell") does not (`weak_word`)."""


def weak_word(word: str) -> bool:
    """Whether a name made of this word alone is a weak mark: a common word, which unrelated
    companies share ("Discovery" in South Africa, "Discovery, Inc." in the US), so that its
    spelling a claim's domain (discovery.co.za) says nothing of which of them a record is."""
    return word in COMMON_WORDS


def _country_words() -> tuple[dict[str, tuple[tuple[str, ...], ...]], frozenset[str], dict[str, str]]:
    """Country and region names by their last word (each as a tuple of words, longest first), the
    country codes, and for each one-word name the code it names, from dealreg/data/country_words.txt
    (the Unicode CLDR)."""
    phrases: dict[str, list[tuple[str, ...]]] = {}
    codes = set()
    named: dict[str, str] = {}
    for entry in data.lines("country_words.txt"):
        if entry.startswith("="):
            codes.add(entry[1:])
            continue
        name, _, code = entry.partition(" = ")
        words = tuple(name.split())
        phrases.setdefault(words[-1], []).append(words)
        if len(words) == 1:
            named[name] = code
    return {w: tuple(sorted(ps, key=len, reverse=True)) for w, ps in phrases.items()}, frozenset(codes), named


COUNTRY_PHRASES, COUNTRY_CODES, _COUNTRY_OF_WORD = _country_words()
# Each word of dealreg/data/word_forms.txt, and each one-word country name, to one form for all its
# languages ("banco" -> "bank", "brasil" -> "br").
WORD_FORM = {word: line.split()[0] for line in data.lines("word_forms.txt") for word in line.split()} \
    | {word: "=" + code for word, code in _COUNTRY_OF_WORD.items()}
_COUNTRY_ENDS = frozenset(COUNTRY_PHRASES) | COUNTRY_CODES  # the last words of a core that `base_of` may take off


def is_country_word(word: str) -> bool:
    """Whether a word names a country or region on its own ("indonesia", "deutschland"); codes
    ("sa", "it") are too often something else inside a name to count here."""
    return (word,) in COUNTRY_PHRASES.get(word, ())


def base_of(tokens: tuple[str, ...]) -> tuple[str, ...]:
    """The name without the country or region that qualifies it at the end, and the generic words
    around that ("Heineken UK" -> heineken, "Microsoft Ireland Operations" -> microsoft, "Canon
    Europa" -> canon, "Nissan Motor GB" -> nissan motor). A country after "of" names the company
    ("Bank of America") and stays, and so does the first word. A code counts only as the last word."""
    end = len(tokens)
    while end > 1:
        last = tokens[end - 1]
        if last in GENERIC:  # what may follow a country: "Microsoft Ireland Operations Limited"
            end -= 1
            continue
        n = 1 if last in COUNTRY_CODES and end == len(tokens) else 0
        for phrase in COUNTRY_PHRASES.get(last, ()):
            if len(phrase) < end and tokens[end - len(phrase):end] == phrase:
                n = len(phrase)
                break
        if not n or tokens[end - n - 1] in STOPWORDS:
            break
        end -= n
    return tokens[:end]


class Keys(NamedTuple):
    """The normalised keys of one record or claim. Every field is text, a number or a tuple of
    text, so a registry's keys give the garbage collector nothing to follow (bench/RESULTS.md)."""

    domain: str | None
    domain_label: str | None  # the registered domain without its suffix: "siemens" for siemens.de
    mail_domain: str | None  # the email's domain where it is another company domain than the website's
    provider: str | None  # the website's domain when it is a free-mail or ISP provider's (`account_domains`)
    mail_provider: str | None  # the email's domain when it is a free-mail or ISP provider's
    linkedin: str | None
    duns: str | None
    name: str  # the name key: normalised name, words joined by single spaces (`name_key`)
    tokens: tuple[str, ...]  # its words
    compact: str  # the name key without spaces ("hub spot" -> "hubspot")
    core_tokens: tuple[str, ...]  # the tokens without generic trailing words ("airbus group" -> airbus)
    core: str  # the core tokens joined without spaces
    base: str  # the core without a country that qualifies it ("heinekenuk" -> "heineken"), else the core
    lead: str  # the core without a legal form written first ("ab sagax" -> "sagax", "a s genmab" -> "genmab"), else the core
    label_core: str  # the domain label without generic parts ("volkswagen-group" -> "volkswagen")
    informative: int  # tokens that are not stop words
    acronym: str  # initials of a 3+ token name ("ibm"), else ""
    country: str
    name_text: str  # the name as received (a careless field repaired): its legal form is read from it where
    # a weak name is compared (`dealreg.names.last_form`), never for a whole registry


KeyFields = tuple[str, str, str, str, str, str]
"""`keys_of`'s arguments, in order: company name, website, contact email, LinkedIn URL, DUNS, country."""


def keys_of(
    company_name: str = "",
    company_domain: str = "",
    contact_email: str = "",
    linkedin_url: str = "",
    duns: str = "",
    country: str = "",
) -> Keys:
    """Normalise the identifying fields. Raises ValueError for a malformed DUNS."""
    name, website, email, linkedin = repaired(company_name, company_domain, contact_email, linkedin_url)
    return _keys(name_words(name), name, account_domains(website, email), linkedin, duns, country)


def keys_many(rows: Sequence[KeyFields]) -> list[Keys]:
    """`keys_of` for each row of a registry, a field at a time: every name, then every website,
    then the rest. Each step keeps its own code and tables hot in the CPU's caches, where row by
    row they push each other out: 0.06 s of the 100,000-registration index build (bench/RESULTS.md)."""
    if not rows:
        return []
    rows = [repaired_row(row) for row in rows]
    names, websites, emails, linkedin_urls, dunses, countries = zip(*rows)
    name_keys = list(map(name_words, names))
    domains = list(map(account_domains, websites, emails))
    return list(map(_keys, name_keys, names, domains, linkedin_urls, dunses, countries))


def repaired(name: str, website: str, email: str, linkedin_url: str) -> tuple[str, str, str, str]:
    """The identifying fields with what was typed into the wrong one moved where it belongs: a
    website in the email column or as the company name ("stripe.com") is the website, a LinkedIn
    page in the website column is the LinkedIn page (an email in the website column needs no
    move: its domain is read after the "@"). A field already filled is never overwritten; what
    cannot be used (a malformed email) is left for the other keys to carry."""
    if email and "@" not in email and not website and _is_host(email):
        website, email = email, ""
    if website and not linkedin_url and "linkedin." in website.lower():
        website, linkedin_url = "", website
    if name and "." in name and not website and _is_host(name):
        website = name
        name = (registered_domain(name) or "").split(".", 1)[0]  # "www.heineken.com" is Heineken
    return name, website, email, linkedin_url


def repaired_row(row: KeyFields) -> KeyFields:
    """`repaired` for a row of `keys_of`'s arguments; the row itself when nothing is misplaced."""
    name, website, email, linkedin_url, duns, country = row
    if (email and "@" not in email) or (website and "linkedin." in website) or (name and "." in name and not website):
        return (*repaired(name, website, email, linkedin_url), duns, country)
    return row


def _is_host(text: str) -> bool:
    """Whether a field holds nothing but a web address: one word with a registered domain."""
    text = text.strip()
    return bool(text) and " " not in text and registered_domain(text) is not None


def _keys(tokens: tuple[str, ...], name: str, domains: tuple[str | None, str | None, str | None, str | None],
          linkedin_url: str, duns: str, country: str) -> Keys:
    informative = tokens if STOPWORDS.isdisjoint(tokens) else tuple(t for t in tokens if t not in STOPWORDS)
    core = tokens
    if len(tokens) > 1 and (tokens[-1] in GENERIC or tokens[0] in LEADING_GENERIC):
        trimmed = list(tokens)
        while len(trimmed) > 1 and trimmed[-1] in GENERIC:
            trimmed.pop()
        while len(trimmed) > 1 and trimmed[0] in LEADING_GENERIC:
            trimmed.pop(0)
        core = tuple(trimmed)
    compact = "".join(tokens)
    core_compact = compact if core is tokens else "".join(core)
    domain, mail_domain, provider, mail_provider = domains
    label = domain.split(".", 1)[0] if domain else None
    return Keys(
        domain,
        label,
        mail_domain,
        provider,
        mail_provider,
        linkedin_key(linkedin_url) if linkedin_url else None,
        duns_key(duns) if duns else None,
        " ".join(tokens),
        tokens,
        compact,
        core,
        core_compact,
        "".join(base_of(core)) if core and core[-1] in _COUNTRY_ENDS else core_compact,
        "".join(core[1:]) if len(core) > 1 and core[0] in ONE_WORD_FORMS
        else "".join(core[2:]) if len(core) > 2 and len(core[0]) == 1 and core[:2] in INITIALS_FORMS else core_compact,
        # the name the site spells; a provider's own site is its brand too ("Tuta" at tuta.com)
        _label_core(label) if label and label not in NAMELESS_LABELS else _brand_of(domain) if domain
        else _label_core(provider.split(".", 1)[0]) if provider else "",
        len(informative),
        "".join([t[0] for t in informative]) if len(informative) >= 3 else "",  # acronym
        country.strip().casefold() if country else "",
        name,
    )


# Labels that name no one, used under a brand's own top-level domain (global.canon, home.sandvik,
# group.bnpparibas), where the brand is the suffix.
NAMELESS_LABELS = frozenset({"global", "group", "home", "corporate", "www", "about"})


def _brand_of(domain: str) -> str:
    """The brand a nameless label's domain spells: its suffix when that is a brand's own ("canon"
    of global.canon), else the label itself ("group" of group.com)."""
    label, _, suffix = domain.partition(".")
    return suffix if "." not in suffix and len(suffix) >= 4 and suffix.isalpha() and suffix not in _GENERIC_TLDS \
        else label


_GENERIC_TLDS = frozenset({"com", "net", "org", "info", "biz", "app", "tech", "online", "site", "shop", "store",
                           "global", "group", "company", "agency", "digital", "media", "world"})
_LABEL_PREFIXES = ("the", "get", "try")
_LABEL_SUFFIXES = ("group", "holdings", "holding", "company", "corp", "inc", "global", "international", "hq")


def _label_core(label: str) -> str:
    """The name a domain label spells: "volkswagen-group" -> "volkswagen",
    "theheinekencompany" -> "heineken", "datadoghq" -> "datadog"."""
    if "-" not in label and not label.startswith(_LABEL_PREFIXES) and not label.endswith(_LABEL_SUFFIXES):
        return label  # most labels: nothing to take off
    core = label.replace("-", "")
    for prefix in _LABEL_PREFIXES:
        if core.startswith(prefix) and len(core) - len(prefix) >= 3:
            core = core[len(prefix):]
    changed = True
    while changed:
        changed = False
        for suffix in _LABEL_SUFFIXES:
            if core.endswith(suffix) and len(core) - len(suffix) >= 3:
                core, changed = core[: -len(suffix)], True
    return core
