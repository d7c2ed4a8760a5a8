"""How likely a record and a claim are one account: additive evidence weights (Fellegi-Sunter style
log-odds, see ../shared/reference/matching.md section 5), the `match` / `possible` bands, and a
0-100 confidence.

    strong keys that agree push towards a match, strong keys that disagree push away,
    a multi-token name can match on its own, a one-word name needs a second signal.

Every hit carries its evidence (`domain`, `linkedin`, `duns`, `name:93`, `-domain` …). Pure.
"""

from __future__ import annotations

import math
from typing import NamedTuple

from dealreg.keys import Keys
from dealreg.models import MatchLevel
from dealreg.similarity import FUZZY_HIGH, FUZZY_MID, name_part_spells_brand, name_similarity, spells_brand

# Evidence weights (log-odds points). Calibrated on tests/data/matching (see bench/RESULTS.md).
W_DUNS = 10.0
W_DUNS_DIFF = -8.0
W_DOMAIN = 9.0
W_DOMAIN_DIFF = -6.0
W_DOMAIN_LABEL = 1.0  # acme.de vs acme.com: often, not always, one company
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


def confidence_of(score: float) -> int:
    """Map log-odds points to 0-100 (logistic; MATCH_AT is about 88, POSSIBLE_AT about 12)."""
    return max(0, min(100, round(100 / (1 + math.exp(-0.8 * (score - 5.5))))))


def score(q: Keys, claim_id: str, c: Keys) -> Hit | None:
    """Score one candidate; None below the possible band."""
    points = 0.0
    evidence: list[str] = []
    strong_agree = False

    if q.duns and c.duns:
        if q.duns == c.duns:
            points += W_DUNS
            evidence.append("duns")
            strong_agree = True
        else:
            points += W_DUNS_DIFF
            evidence.append("-duns")
    if q.domain and c.domain:
        if q.domain == c.domain:
            points += W_DOMAIN
            evidence.append("domain")
            strong_agree = True
        elif q.domain_label == c.domain_label:
            points += W_DOMAIN_LABEL
            evidence.append("domain_label")
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
    multi = min(q.informative, c.informative) >= 2
    if sim == 100:
        points += W_NAME_EXACT_MULTI if multi else W_NAME_EXACT_ONE
    elif sim >= FUZZY_HIGH:
        points += W_NAME_FUZZY_HIGH if multi else W_NAME_FUZZY_ONE
    elif sim >= FUZZY_MID:
        points += W_NAME_FUZZY_MID if multi else W_NAME_FUZZY_ONE
    elif q.compact and (q.compact == c.acronym or c.compact == q.acronym):
        points += W_ACRONYM
        evidence.append("acronym")
    if sim >= FUZZY_MID:
        evidence.append(f"name:{sim}")
    # The second signal for a record without a domain: its name spells the candidate's own
    # domain, which no other company can hold ("Zalando" / zalando.com, "Bosch" / Robert
    # Bosch GmbH at bosch.com, "IBM" spelt out / ibm.com).
    if not q.domain and c.label_core:
        if sim >= FUZZY_MID and spells_brand(q.core, c.label_core):
            points += W_BRAND
            evidence.append("name=domain")
        elif sim < FUZZY_MID and "acronym" in evidence and q.acronym == c.label_core:
            points += W_BRAND
            evidence.append("name=domain")
        elif sim < FUZZY_MID and q.informative and name_part_spells_brand(q, c):
            points += W_NAME_PART + W_BRAND
            evidence += ["name_part", "name=domain"]

    # Only agreement counts: "DE" and "Germany" are the same country written two ways.
    if q.country and q.country == c.country and (points > 0 or strong_agree):
        points += W_COUNTRY
        evidence.append("country")

    if points >= MATCH_AT:
        level = MatchLevel.MATCH
    elif points >= POSSIBLE_AT:
        level = MatchLevel.POSSIBLE
    else:
        return None
    return Hit(claim_id, level, points, confidence_of(points), tuple(evidence))
