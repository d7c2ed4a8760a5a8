"""The keys of one record or claim (`Keys`): its domain, LinkedIn page, DUNS and name, in the
forms the index posts and the scorer compares ("Airbus Group" -> core "airbus", initials "ag" …).

Pure; built by `keys_of` from the fields as received.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

from dealreg.domains import account_domain
from dealreg.ids import duns_key, linkedin_key
from dealreg.names import NameKey, name_key

STOPWORDS = frozenset({"of", "the", "and", "for", "de", "la", "le", "du", "des", "der", "die", "van", "von", "y", "e"})
# Words that describe a company's shape rather than name it, set aside at the end of a name
# for the "core" comparison (never alone: "Group" stays "group"). Not "bank", "energy",
# "partners" …: those tell real companies apart (Apple Bank, Siemens Energy, Stripe Partners).
GENERIC = frozenset({
    "group", "groupe", "gruppe", "grupo", "holding", "holdings", "international", "global", "worldwide",
    "technologies", "technology", "labs", "industries", "industry", "enterprises", "platforms", "com", "io",
})
LEADING_GENERIC = frozenset({"groupe", "grupo", "gruppo"})  # "Groupe Danone"


class Keys(NamedTuple):
    """The normalised keys of one record or claim. Every field is text, a number or a tuple of
    text, so a registry's keys give the garbage collector nothing to follow (bench/RESULTS.md)."""

    domain: str | None
    domain_label: str | None  # the registered domain without its suffix: "siemens" for siemens.de
    linkedin: str | None
    duns: str | None
    name: str  # the name key: normalised name, words joined by single spaces (`name_key`)
    tokens: tuple[str, ...]  # its words
    compact: str  # the name key without spaces ("hub spot" -> "hubspot")
    core_tokens: tuple[str, ...]  # the tokens without generic trailing words ("airbus group" -> airbus)
    core: str  # the core tokens joined without spaces
    label_core: str  # the domain label without generic parts ("volkswagen-group" -> "volkswagen")
    informative: int  # tokens that are not stop words
    acronym: str  # initials of a 3+ token name ("ibm"), else ""
    country: str


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
    return _keys(name_key(company_name), account_domain(company_domain, contact_email), linkedin_url, duns, country)


def keys_many(rows: Sequence[KeyFields]) -> list[Keys]:
    """`keys_of` for each row of a registry, a field at a time: every name, then every website,
    then the rest. Each step keeps its own code and tables hot in the CPU's caches, where row by
    row they push each other out: 0.06 s of the 100,000-registration index build (bench/RESULTS.md)."""
    if not rows:
        return []
    names, websites, emails, linkedin_urls, dunses, countries = zip(*rows)
    name_keys = list(map(name_key, names))
    domains = list(map(account_domain, websites, emails))
    return list(map(_keys, name_keys, domains, linkedin_urls, dunses, countries))


def _keys(name: NameKey, domain: str | None, linkedin_url: str, duns: str, country: str) -> Keys:
    tokens = name.tokens
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
    label = domain.split(".", 1)[0] if domain else None
    return Keys(
        domain,
        label,
        linkedin_key(linkedin_url) if linkedin_url else None,
        duns_key(duns) if duns else None,
        name.key,
        tokens,
        compact,
        core,
        compact if core is tokens else "".join(core),
        _label_core(label) if label else "",
        len(informative),
        "".join([t[0] for t in informative]) if len(informative) >= 3 else "",  # acronym
        country.strip().casefold() if country else "",
    )


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
