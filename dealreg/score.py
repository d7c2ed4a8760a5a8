"""How likely a record and a claim are one account: additive evidence weights (Fellegi-Sunter style
log-odds, see ../shared/reference/matching.md section 5), the `match` / `possible` bands, and a
0-100 confidence.

    strong keys that agree push towards a match, strong keys that disagree push away,
    a multi-token name can match on its own, a one-word name needs a second signal,
    a name of one common word ("Discovery") needs legal forms that agree for that signal.

Every hit carries its evidence (`domain`, `linkedin`, `duns`, `name:93`, `-domain` …). Pure.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from dealreg.keys import GENERIC, NAMELESS_LABELS, Keys, weak_word
from dealreg.names import forms_disagree, last_form
from dealreg.models import MatchLevel
from dealreg.similarity import FUZZY_HIGH, FUZZY_MID, division_of, name_part_spells_brand, name_similarity, spells_brand

# Evidence weights (log-odds points). Calibrated on tests/data/matching (see bench/RESULTS.md).
W_DUNS = 10.0
W_DUNS_DIFF = -8.0
W_DOMAIN = 9.0
W_DOMAIN_DIFF = -6.0
W_DOMAIN_LABEL = 1.0  # acme.net vs acme.com: often, not always, one company
W_DOMAIN_NATIONAL = 3.0  # acme.de vs acme.com: a brand's national site, alone a possible match (issue 12)
W_NATIONAL_NAME = 3.0  # … and the names agree: the brand's company in that country
W_LINKEDIN = 9.0
W_LINKEDIN_DIFF = -4.0
W_NAME_EXACT_MULTI = 9.0
W_NAME_EXACT_ONE = 5.0
W_NAME_FUZZY_HIGH = 8.0
W_NAME_FUZZY_MID = 5.0
W_NAME_FUZZY_ONE = 4.0
W_ACRONYM = 4.0
W_BRAND = 4.0  # a name-only record whose name is the candidate's own domain: "Zalando" vs zalando.com
W_NAME_PART = 4.0  # every word of the record's name is in the candidate's ("Bosch" / "Robert Bosch")
W_PROVIDER = 4.0  # a mail provider's own claim (Proton at proton.me) and a record at that provider, names agreeing
W_DIVISION = 3.0  # the claim's name or brand and more words: a division, or another company: a possible match
W_DIVISION_ENTITY = 2.0  # … of a common word, the record a legal entity of its own ("Delta Faucet Company"), or
# with the rules file's `divisions: ignore`: alone nothing, beside another signal a match
W_ALIAS = 9.0  # the record's name is one the alias table gives the account: the user's own word
W_COUNTRY = 1.0
MATCH_AT = 8.0
POSSIBLE_AT = 3.0


class Hit(NamedTuple):
    """One scored candidate."""

    claim_id: str
    level: MatchLevel
    score: float
    confidence: int
    evidence: tuple[str, ...]


# Suffixes that are country codes but sold as generic ones (.io for tech, .co for "company").
_GENERIC_USE = frozenset({"io", "co", "ai", "me", "tv", "cc", "ly", "fm", "gg", "so", "to", "sh", "ws", "app"})


def _country_suffix(domain: str) -> bool:
    """Whether a registered domain is on a country's suffix (amazon.de, amazon.co.uk), not a
    generic one (.com, .net, .app, or a ccTLD sold as generic: .io, .co)."""
    tld = domain.rsplit(".", 1)[-1]
    return len(tld) == 2 and tld not in _GENERIC_USE


def national_site(record_domain: str, claim_domain: str) -> bool:
    """Whether the record's site is the claim's brand on a country's own suffix while the claim's
    is on a generic one: a global brand's national site (asos.de for asos.com). Two generic
    suffixes (pandora.com / pandora.net, ramp.com / ramp.network) are as often two companies, and
    so is a global .com beside a national registration (prudential.com / prudential.co.uk)."""
    return _country_suffix(record_domain) and not _country_suffix(claim_domain)


def _weak_claim(c: Keys) -> bool:
    """Whether the claim is named by one common word, generic words aside (`weak_word`)."""
    return len(c.core_tokens) == 1 and weak_word(c.core_tokens[0])


def forms_agree(q: Keys, c: Keys) -> bool:
    """Whether both names carry a legal form and the forms come from one company law."""
    a, b = last_form(q.name_text), last_form(c.name_text)
    return bool(a and b) and not forms_disagree(a, b)


def confidence_of(score: float) -> int:
    """Map log-odds points to 0-100 (logistic; MATCH_AT is about 88, POSSIBLE_AT about 12)."""
    return max(0, min(100, round(100 / (1 + math.exp(-0.8 * (score - 5.5))))))


def score(q: Keys, claim_id: str, c: Keys, *, alias: bool = False, common_name: bool = False,
          divisions: bool = True) -> Hit | None:
    """Score one candidate; None below the possible band. `alias`: the record's name is an alias
    of the claim's account (the alias table). `common_name`: every word of the record's name is
    common in the registry's names (`AccountIndex.common_name`), so the name alone is never enough
    for a match. `divisions`: whether the claim's name or brand with words of its own is a
    possible match on its own (else only beside another signal)."""
    points = 0.0
    evidence: list[str] = []
    strong_agree = False
    national = False  # the record's site is the claim's brand on a country's domain (amazon.de / amazon.com)
    if alias:
        points += W_ALIAS
        evidence.append("alias")
        strong_agree = True

    if q.duns and c.duns:
        if q.duns == c.duns:
            points += W_DUNS
            evidence.append("duns")
            strong_agree = True
        else:
            points += W_DUNS_DIFF
            evidence.append("-duns")
    if q.domain and c.domain:
        # A contact's email domain is a domain of the account too (staff of Bloomberg at bloomberg.com
        # write from bloomberg.net): either of a side's domains may be the other's.
        if q.domain in (c.domain, c.mail_domain) or (q.mail_domain and q.mail_domain in (c.domain, c.mail_domain)):
            points += W_DOMAIN
            evidence.append("domain")
            strong_agree = True
        elif q.domain_label == c.domain_label or (c.domain_label in NAMELESS_LABELS and q.domain_label == c.label_core):
            # the same label on another suffix (zalando.de, zalando.com), or the brand of a brand's own
            # suffix (canon.de, global.canon); a national site only under the very same brand
            national = (q.domain_label == c.domain_label or c.domain_label in NAMELESS_LABELS) \
                and national_site(q.domain, c.domain)
            if national or not _weak_claim(c):
                points += W_DOMAIN_NATIONAL if national else W_DOMAIN_LABEL
                evidence.append("domain_label")
            else:  # a common word on two generic suffixes: two companies (linear.com, linear.app)
                points += W_DOMAIN_DIFF
                evidence.append("-domain")
        else:
            points += W_DOMAIN_DIFF
            evidence.append("-domain")
    if q.linkedin and c.linkedin:
        if q.linkedin == c.linkedin:
            points += W_LINKEDIN
            evidence.append("linkedin")
            strong_agree = True
        else:
            points += W_LINKEDIN_DIFF
            evidence.append("-linkedin")

    sim = name_similarity(q, c) if q.name and c.name else 0
    # A claim named by one common word ("Discovery Limited", "Phoenix Group Holdings", "Clay") is a
    # weak mark (`weak_word`): unrelated firms share it. A record adding generic words of its own is
    # another firm as often as not ("Clay Global" is not Clay), and its national site is no more
    # than a domain label.
    weak = _weak_claim(c)
    generic_of_its_own = weak and FUZZY_MID <= sim < 100 and bool(GENERIC.intersection(q.tokens).difference(c.tokens)) \
        and not forms_agree(q, c)  # "Proton Technologies AG" for Proton AG is Proton's
    if generic_of_its_own:
        sim = FUZZY_MID - 1  # scored as what it is: the claim's name and words of its own (`division_of`)
    multi = min(q.informative, c.informative) >= 2
    # ... and where two legal forms disagree ("Discovery, Inc." / Discovery Limited, "SEB SA" /
    # Skandinaviska Enskilda Banken AB), a weak or three-letter name spelling the claim's domain is
    # no second signal; a national company's name ("Oracle Nederland B.V.") has its own form.
    weak_brand = (weak or len(q.compact) <= 3 or weak_word(q.core)) and q.base == q.core \
        and forms_disagree(last_form(q.name_text), last_form(c.name_text))
    if sim == 100:
        points += W_NAME_EXACT_MULTI if multi else W_NAME_EXACT_ONE
    elif sim >= FUZZY_HIGH:
        points += W_NAME_FUZZY_HIGH if multi else W_NAME_FUZZY_ONE
    elif sim >= FUZZY_MID:
        points += W_NAME_FUZZY_MID if multi else W_NAME_FUZZY_ONE
    elif q.compact and (q.compact == c.acronym or c.compact == q.acronym):
        points += W_ACRONYM
        evidence.append("acronym")
    elif division_of(q, c):
        # the claim's name or brand and more: a product or division of the company ("Canon Medical
        # Systems", "Uber Eats") as often as another company under a shared word ("Siemens Energy",
        # "Hilton Grand Vacations"): a person decides, unless another signal agrees. Under a common
        # word, a record naming a legal entity with words of its own is another company ("Visa
        # Lighting Corporation"); with generic words only, a person looks ("Brother International
        # Corporation" is Brother's US company, "Clay Global" a design agency)
        entity = weak and not generic_of_its_own and last_form(q.name_text)
        points += W_DIVISION if divisions and not entity else W_DIVISION_ENTITY
        evidence.append("division")
    if sim >= FUZZY_MID:
        evidence.append(f"name:{sim}")
    if national and sim >= FUZZY_HIGH and not weak:
        # the brand's national site, under the brand's name: "Amazon UK" at amazon.co.uk
        points += W_NATIONAL_NAME
    # The second signal for a record without a domain (or with the brand's national site): its
    # name spells the candidate's own domain, which no other company can hold ("Zalando" /
    # zalando.com, "Bosch" / Robert Bosch GmbH at bosch.com, "IBM" spelt out / ibm.com).
    if (not q.domain or national) and c.label_core and not weak_brand and not (weak and national):
        if sim >= FUZZY_MID and any(spells_brand(name, c.label_core) for name in {q.core, q.base, q.lead}):
            points += W_BRAND
            evidence.append("name=domain")
        elif sim < FUZZY_MID and "acronym" in evidence and q.acronym == c.label_core:
            points += W_BRAND
            evidence.append("name=domain")
        elif sim < FUZZY_MID and q.informative and name_part_spells_brand(q, c):
            points += W_NAME_PART + W_BRAND
            evidence += ["name_part", "name=domain"]

    # The claim's website is a mail provider's (Proton at proton.me) and the record is at that
    # provider: every customer of the provider is too, so it counts only beside an agreeing name.
    if c.provider and c.provider in (q.provider, q.mail_provider) and (sim >= FUZZY_MID or "name=domain" in evidence):
        points += W_PROVIDER
        evidence.append("provider")

    # Only agreement counts: "DE" and "Germany" are the same country written two ways.
    if q.country and q.country == c.country and (points > 0 or strong_agree):
        points += W_COUNTRY
        evidence.append("country")

    if points >= MATCH_AT and (strong_agree or not common_name):
        level = MatchLevel.MATCH
    elif points >= POSSIBLE_AT:
        level = MatchLevel.POSSIBLE
    else:
        return None
    return Hit(claim_id, level, points, confidence_of(points), tuple(evidence))
