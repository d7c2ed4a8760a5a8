"""How alike two company names are: `name_similarity` (0-100) and the tests that tell a typo
or a dropped legal word from another company ("Starbucks Coffee" is not "Starbucks Bank"). The
record is `a` and the claim `b` throughout: a country may follow the claim's name in the record,
and the record may abbreviate the claim's words, never the other way round.

Pure; rapidfuzz does the string distances.
"""

from __future__ import annotations

from rapidfuzz import fuzz
from rapidfuzz.distance import OSA

from dealreg.keys import GENERIC, STOPWORDS, WORD_FORM, Keys, base_of, is_country_word, weak_word

FUZZY_HIGH = 92  # name similarity bands (0-100)
FUZZY_MID = 85
SLIP_COST = 4  # similarity points per slipped word when every word pairs up: one slip is 96, two 92
TYPO_CHECK_FROM = 60  # below this ratio two names are not one slip per word apart (four letters, one swap: 75)
CORE_SIMILARITY = 97  # the same name once generic trailing words are set aside ("Airbus Group" / "Airbus")
TYPO_MIN_LEN = 4  # tokens shorter than this must match exactly
ANY_EDIT_MIN_LEN = 6  # from this length any one edit is a typo; shorter words only slip (`typo_shaped`)
BRAND_TYPO_MIN_LEN = 4  # a name one slip from a domain counts as that brand from this length


def name_similarity(a: Keys, b: Keys) -> int:
    """0-100, for the record `a` against the claim `b`. The same key, or the same letters with
    other spacing ("Hub Spot"), is 100; the same core once generic words, a country after the
    claim's name or a legal form written first are set aside is 97. When every word pairs with an
    equal word, a slip, an abbreviation or initials (`slips_between`), each such word costs
    SLIP_COST. Otherwise the best of ratio / token_sort_ratio, capped below the fuzzy band: a
    different company (First National Bank of *Omaha* vs *Pennsylvania*) or a missing word
    ("Starbucks Coffee" vs "Starbucks"), never a typo."""
    if a.name == b.name or a.compact == b.compact:
        return 100
    if not a.name or not b.name:
        return 0
    if a.core == b.core or (a.base != a.core and a.base in (b.compact, b.core)) or (
            a.lead == b.lead and (a.lead != a.core or b.lead != b.core)):
        # the same core once generic words (or a legal form written first) are set aside, or the
        # record is the claim's name with a country after it ("Heineken UK" / Heineken N.V.):
        # never the other way round, since a country in the claim's own name tells it apart
        # (Telkom Indonesia is not Telkom SA)
        return CORE_SIMILARITY
    ratio = max(fuzz.ratio(a.compact, b.compact), fuzz.token_sort_ratio(a.name, b.name))
    if a.core != a.compact or b.core != b.compact:
        ratio = max(ratio, fuzz.ratio(a.core, b.core))
    score = int(ratio)
    if score < TYPO_CHECK_FROM:
        return score
    slips = slips_between(a.core_tokens, b.core_tokens)
    if slips is None and (a.core_tokens is not a.tokens or b.core_tokens is not b.tokens):
        # a generic word set aside on one side only, abbreviated on the other ("Techs", "Ind")
        slips = slips_between(a.tokens, b.tokens)
    if slips is None:
        return min(score, FUZZY_MID - 1)
    # Every word is the other's or one slip of it: ratio undersells short words ("Ikae" and
    # "Ikea" are 75, "Frod Motor" and "Ford Motor" 89), so each slipped word costs SLIP_COST.
    return max(score, min(CORE_SIMILARITY - 1, 100 - SLIP_COST * slips))


def words_pair_up(a: tuple[str, ...], b: tuple[str, ...], *, subset: bool = False) -> bool:
    """Whether every word of `a` has an equal or near-spelt word in `b` and (unless `subset`)
    the other way round. Single letters ("J Sainsbury", "F. Hoffmann") and stop words are not
    words here."""
    return slips_between(a, b, subset=subset) is not None


def slips_between(a: tuple[str, ...], b: tuple[str, ...], *, subset: bool = False) -> int | None:
    """How many words of `a` (the record's) are a slip, an abbreviation or the initials of words
    of `b` (the claim's) when every other word is equal (see `words_pair_up`); None when some word
    has no counterpart. Abbreviations and initials count only beside a word that is equal and
    names something (not "group": "NN Group" is not Nedbank Group)."""
    rest = [t for t in b if len(t) > 1 and t not in STOPWORDS]
    unpaired = []
    letters = []  # single letters of `a`: initials ("F&P" for Fisher & Paykel)
    anchored = False
    for token in a:
        if len(token) > 1 and token not in STOPWORDS:
            if token in rest:
                rest.remove(token)
                anchored = anchored or (len(token) > 2 and token not in GENERIC)  # "Group" anchors nothing
            else:
                unpaired.append(token)
        elif len(token) == 1 and token not in STOPWORDS:
            letters.append(token)
    left = []
    for token in unpaired:
        form = WORD_FORM.get(token)  # the same word in another language: "banco" / "bank", "brasil" / "brazil"
        near = next((other for other in rest if (form is not None and WORD_FORM.get(other) == form)
                     or near_spelling(token, other)), None)
        if near is None:
            left.append(token)
        else:
            rest.remove(near)
    if left or (letters and rest):
        if not anchored:
            return None
        for token in left:
            full = next((other for other in rest if abbreviates(token, other)), None)
            if full is not None:
                rest.remove(full)
            elif not _initials_of(token, rest) and not _initials_of(token, [t for t in b if t not in STOPWORDS]):
                return None  # neither abbreviated nor the initials of the claim's words ("PKO" beside them)
        if letters and rest and not _initials_of("".join(letters), rest):
            return None
    if rest and anchored:
        # a claim word that is the initials of the record's words, in any order: "LVMH" of Louis
        # Vuitton Moët Hennessy, or of Moët Hennessy Louis Vuitton
        initials = "".join(t[0] for t in a if t not in STOPWORDS)
        rest = [t for t in rest if not (len(t) >= 3 and all(initials.count(ch) >= t.count(ch) for ch in set(t)))]
    return len(unpaired) + bool(letters) if subset or not rest else None


_ABBREVIATION_MIN_SAVING = 2  # an abbreviation is at least two letters shorter than the word


def abbreviates(short: str, word: str) -> bool:
    """Whether `short` abbreviates `word` as company names are shortened: the same first letter,
    then some of the word's letters in order ("Bk" Bank, "Finl" Financial, "Ntwks" Networks,
    "Gen" Generali, "Cie" Compagnie)."""
    if len(short) < 2 or len(short) > len(word) - _ABBREVIATION_MIN_SAVING or short[0] != word[0]:
        return False
    letters = iter(word)
    return all(ch in letters for ch in short)


def _initials_of(initials: str, words: list[str]) -> bool:
    """Remove from `words` the run of consecutive words whose first letters spell `initials`
    ("hk" Hong Kong), if there is one."""
    n = len(initials)
    for i in range(len(words) - n + 1):
        if "".join(w[0] for w in words[i:i + n]) == initials:
            del words[i:i + n]
            return True
    return False


def division_of(q: Keys, c: Keys) -> bool:
    """Whether the record is the claim's whole name with words of its own: "Canon Medical Systems"
    for Canon Inc., "QuickBooks by Intuit" for Intuit. The claim's name must be more than a
    common word of its own registry ("bank", "group"), which is not a name. For a record without
    a website, the claim's brand (the name its domain spells) with words of its own counts too:
    "Philips Healthcare" for Koninklijke Philips N.V. at philips.com, "Maersk Line" for A.P. Møller
    - Mærsk A/S at maersk.com, "BMW Motorrad" for Bayerische Motoren Werke AG at bmwgroup.com."""
    if not q.domain and brand_division(q, c):
        return True
    if len(q.tokens) <= len(c.core_tokens) or not c.core_tokens or max(map(len, c.core_tokens)) < 3:
        return False
    return slips_between(c.core_tokens, q.tokens, subset=True) == 0


def brand_division(q: Keys, c: Keys) -> bool:
    """Whether one word of the record's name is the claim's brand, a name of three letters or more
    and no common word (`weak_word`: "Delta Faucet" is no division of Delta Air Lines), and the
    record has words of its own besides."""
    brand = c.label_core
    return len(brand) >= 3 and brand in q.tokens and len(q.core_tokens) >= 2 and not weak_word(brand) \
        and not set(q.tokens) <= set(c.tokens)


def near_spelling(typed: str, real: str) -> bool:
    """Whether a typed word is the real one or one typo from it (two in words of 9 letters or
    more). Words of four or five letters only slip (`typo_shaped`: "Ikae", "Lidll", "Shel"),
    since one changed or added letter makes another short name (Rolec, Signa, Metro, Noom);
    shorter words must be equal."""
    if typed == real:
        return True
    shorter = min(len(typed), len(real))
    if shorter < TYPO_MIN_LEN:
        return False
    if shorter < ANY_EDIT_MIN_LEN:
        return typo_shaped(typed, real, short=shorter < 5)
    return OSA.distance(typed, real, score_cutoff=2) <= (2 if shorter >= 9 else 1)  # OSA: a swap is one edit


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


_VOWELS = frozenset("aeiouy")


def typo_shaped(typed: str, real: str, *, short: bool = False) -> bool:
    """Whether `typed` differs from `real` the way fingers slip: two letters swapped, a letter
    dropped, or a letter doubled ("Salesfroce", "Spotfy", "Klarrna"). An added or changed
    letter more often makes another name ("Embracer" is not Embraer), so it does not count; in
    a `short` word (four letters) neither does a dropped consonant unless it was doubled
    ("CAVA" is not Canva; "Shel" is Shell, "Rolx" Rolex)."""
    if len(typed) == len(real):
        diff = [i for i, (a, b) in enumerate(zip(typed, real)) if a != b]
        return len(diff) == 2 and diff[1] == diff[0] + 1 and typed[diff[0]] == real[diff[1]] and typed[diff[1]] == real[diff[0]]
    if len(typed) == len(real) - 1:
        return any(real[:i] + real[i + 1:] == typed
                   and (not short or real[i] in _VOWELS or (i > 0 and real[i - 1] == real[i]))
                   for i in range(len(real)))
    if len(typed) == len(real) + 1:
        return any(typed[:i] + typed[i + 1:] == real and i > 0 and typed[i] == typed[i - 1] for i in range(len(typed)))
    return False


def name_part_spells_brand(q: Keys, c: Keys) -> bool:
    """Every word of the record's name is a word of the candidate's name, or spells its
    domain, and the domain is spelt: "Bosch" / Robert Bosch (bosch.com), "LM Ericsson" /
    Telefonaktiebolaget LM Ericsson (ericsson.com), "Saudi Aramco" / Saudi Arabian Oil
    (aramco.com). "Siemens Energy" is not Siemens AG: "energy" is in neither, and "Fidelity
    International" is not Fidelity Investments. A country in the candidate's name that the record
    lacks tells them apart (Telkom SA is not Telkom Indonesia at telkom.co.id)."""
    label = c.label_core
    missing = [t for t in c.tokens if t not in q.tokens]
    for token in q.tokens:  # initials stand for their words ("WP" for Wirtualna Polska)
        if 2 <= len(token) <= 4 and token not in c.tokens:
            _initials_of(token, missing)
    if any(is_country_word(t) for t in missing):
        return False
    if q.compact == label or (q.core == label and set(q.tokens) - set(q.core_tokens) <= set(c.tokens)):
        return True  # the whole name spells the domain ("Zoom Info" / zoominfo.com, "WP Holding" / wp.pl)
    # A word that spells the domain is at most two letters longer or shorter ("wuerth" / "wurth"),
    # and three letters at least ("E.ON" is no "On").
    words = base_of(q.core_tokens) if q.base != q.core else q.tokens  # "Lidl Deutschland" -> lidl
    spelling = [t for t in words if len(t) >= 3 and abs(len(t) - len(label)) <= 2 and spells_brand(t, label)]
    if not spelling:
        return False
    rest = tuple(t for t in words if t not in spelling)
    return words_pair_up(rest, c.tokens, subset=True)
