"""How alike two company names are: `name_similarity` (0-100) and the tests that tell a typo
or a dropped legal word from another company ("Starbucks Coffee" is not "Starbucks Bank").

Pure; rapidfuzz does the string distances.
"""

from __future__ import annotations

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from dealreg.keys import STOPWORDS, Keys

FUZZY_HIGH = 92  # name similarity bands (0-100)
FUZZY_MID = 85
CORE_SIMILARITY = 97  # the same name once generic trailing words are set aside ("Airbus Group" / "Airbus")
TYPO_MIN_LEN = 5  # tokens shorter than this must match exactly
BRAND_TYPO_MIN_LEN = 6  # a name one edit from a domain counts as that brand only from this length


def name_similarity(a: Keys, b: Keys) -> int:
    """0-100. The same key, or the same letters with other spacing ("Hub Spot"), is 100;
    the same core once generic trailing words are set aside is 97. Otherwise the best of
    ratio / token_sort_ratio, capped below the fuzzy band when a word on one side has no
    near-spelling on the other: a different company (First National Bank of *Omaha* vs
    *Pennsylvania*) or a missing word ("Starbucks Coffee" vs "Starbucks"), never a typo."""
    if a.name == b.name or a.compact == b.compact:
        return 100
    if not a.name or not b.name:
        return 0
    if a.core == b.core:
        return CORE_SIMILARITY
    ratio = max(fuzz.ratio(a.compact, b.compact), fuzz.token_sort_ratio(a.name, b.name))
    if a.core != a.compact or b.core != b.compact:
        ratio = max(ratio, fuzz.ratio(a.core, b.core))
    score = int(ratio)
    if score < FUZZY_MID:
        return score
    return score if words_pair_up(a.core_tokens, b.core_tokens) else min(score, FUZZY_MID - 1)


def words_pair_up(a: tuple[str, ...], b: tuple[str, ...], *, subset: bool = False) -> bool:
    """Whether every word of `a` has an equal or near-spelt word in `b` and (unless `subset`)
    the other way round. Single letters ("J Sainsbury", "F. Hoffmann") and stop words are not
    words here."""
    rest = [t for t in b if len(t) > 1 and t not in STOPWORDS]
    unpaired = []
    for token in a:
        if len(token) > 1 and token not in STOPWORDS:
            if token in rest:
                rest.remove(token)
            else:
                unpaired.append(token)
    for token in unpaired:
        near = next((other for other in rest if near_spelling(token, other)), None)
        if near is None:
            return False
        rest.remove(near)
    return subset or not rest


def near_spelling(x: str, y: str) -> bool:
    """Whether two words are one typo apart (two in words of 9 letters or more); short words
    must be equal."""
    if len(x) < TYPO_MIN_LEN or len(y) < TYPO_MIN_LEN:
        return x == y
    return OSA.distance(x, y, score_cutoff=2) <= (2 if min(len(x), len(y)) >= 9 else 1)  # OSA: a swap is one edit


def spells_brand(core: str, label: str) -> bool:
    """Whether a name spells a domain label, allowing one slip of the fingers in longer
    names and the German ae/oe/ue spelling of a/o/u in domains ("Wurth" / wuerth.de)."""
    if core == label:
        return True
    if not core or not label or core[0] != label[0]:
        return False
    if abs(len(core) - len(label)) <= 1 and min(len(core), len(label)) >= BRAND_TYPO_MIN_LEN \
            and typo_shaped(core, label):
        return True
    return core == label.replace("ae", "a").replace("oe", "o").replace("ue", "u")


def typo_shaped(typed: str, real: str) -> bool:
    """Whether `typed` differs from `real` the way fingers slip: two letters swapped, a letter
    dropped, or a letter doubled ("Salesfroce", "Spotfy", "Klarrna"). An added or changed
    letter more often makes another name ("Embracer" is not Embraer), so it does not count."""
    if len(typed) == len(real):
        diff = [i for i, (a, b) in enumerate(zip(typed, real)) if a != b]
        return len(diff) == 2 and diff[1] == diff[0] + 1 and typed[diff[0]] == real[diff[1]] and typed[diff[1]] == real[diff[0]]
    if len(typed) == len(real) - 1:
        return any(real[:i] + real[i + 1:] == typed for i in range(len(real)))
    if len(typed) == len(real) + 1:
        return any(typed[:i] + typed[i + 1:] == real and i > 0 and typed[i] == typed[i - 1] for i in range(len(typed)))
    return False


def name_part_spells_brand(q: Keys, c: Keys) -> bool:
    """Every word of the record's name is a word of the candidate's name, or spells its
    domain, and the domain is spelt: "Bosch" / Robert Bosch (bosch.com), "LM Ericsson" /
    Telefonaktiebolaget LM Ericsson (ericsson.com), "Saudi Aramco" / Saudi Arabian Oil
    (aramco.com). "Siemens Energy" is not Siemens AG: "energy" is in neither."""
    label = c.label_core
    if q.core == label:
        return True  # the whole name spells the domain ("Zoom Info" / zoominfo.com)
    # A word that spells the domain is at most two letters longer or shorter ("wuerth" / "wurth").
    spelling = [t for t in q.core_tokens if abs(len(t) - len(label)) <= 2 and spells_brand(t, label)]
    if not spelling:
        return False
    rest = tuple(t for t in q.core_tokens if t not in spelling)
    return words_pair_up(rest, c.tokens, subset=True)
