"""Account matching: which registrations (and named accounts) is a record the same account as?

Pure and in memory. `AccountIndex` holds every claim's keys in dicts; a lookup gathers
candidates from the strong keys (registered domain, LinkedIn, DUNS), the exact and
compact name keys, the rarest name tokens (typo-tolerant through a deletion index over
the token vocabulary) and acronyms, then scores each candidate with additive evidence
(Fellegi-Sunter style log-odds, see ../shared/reference/matching.md section 5):

    strong keys that agree push towards a match, strong keys that disagree push away,
    a multi-token name can match on its own, a one-word name needs a second signal.

`match` >= MATCH_AT, `possible` >= POSSIBLE_AT, anything lower is not returned.
Every candidate carries its evidence (`domain`, `linkedin`, `duns`, `name:93`, `-domain` …).
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import NamedTuple

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from dealreg.models import MatchLevel
from dealreg.normalise import NameKey, account_domain, duns_key, linkedin_key, name_key

# Evidence weights (log-odds points). Calibrated on tests/data/matching (see bench/RESULTS.md).
W_DUNS, W_DUNS_DIFF = 10.0, -8.0
W_DOMAIN, W_DOMAIN_DIFF, W_DOMAIN_LABEL = 9.0, -6.0, 1.0  # acme.de vs acme.com: often, not always, one company
W_LINKEDIN, W_LINKEDIN_DIFF = 9.0, -4.0
W_NAME_EXACT_MULTI, W_NAME_EXACT_ONE = 9.0, 5.0
W_NAME_FUZZY_HIGH, W_NAME_FUZZY_MID, W_NAME_FUZZY_ONE = 8.0, 5.0, 4.0
W_ACRONYM = 4.0
W_BRAND = 4.0
W_NAME_PART = 4.0  # every word of the record's name is in the candidate's ("Bosch" / "Robert Bosch")  # a name-only record whose name is the candidate's own domain: "Zalando" vs zalando.com
W_COUNTRY = 1.0
MATCH_AT, POSSIBLE_AT = 8.0, 3.0

FUZZY_HIGH, FUZZY_MID = 92, 85  # name similarity bands (0-100)
CORE_SIMILARITY = 97  # the same name once generic trailing words are set aside ("Airbus Group" / "Airbus")
TYPO_MIN_LEN = 5  # tokens shorter than this must match exactly
NAME_PREFILTER_FROM, NAME_PREFILTER_CUTOFF = 20, 55  # many word-sharing candidates: drop far-off names first
BRAND_TYPO_MIN_LEN = 6  # a name one edit from a domain counts as that brand only from this length
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
    """The normalised keys of one record or claim."""

    domain: str | None
    domain_label: str | None  # the registered domain without its suffix: "siemens" for siemens.de
    linkedin: str | None
    duns: str | None
    name: NameKey
    compact: str  # the name key without spaces ("hub spot" -> "hubspot")
    core_tokens: tuple[str, ...]  # the tokens without generic trailing words ("airbus group" -> airbus)
    core: str  # the core tokens joined without spaces
    label_core: str  # the domain label without generic parts ("volkswagen-group" -> "volkswagen")
    informative: int  # tokens that are not stop words
    acronym: str  # initials of a 3+ token name ("ibm"), else ""
    country: str


def keys_of(
    company_name: str = "",
    company_domain: str = "",
    contact_email: str = "",
    linkedin_url: str = "",
    duns: str = "",
    country: str = "",
) -> Keys:
    """Normalise the identifying fields. Raises ValueError for a malformed DUNS."""
    domain = account_domain(company_domain, contact_email)
    name = name_key(company_name)
    informative = [t for t in name.tokens if t not in STOPWORDS]
    core = list(name.tokens)
    while len(core) > 1 and core[-1] in GENERIC:
        core.pop()
    while len(core) > 1 and core[0] in LEADING_GENERIC:
        core.pop(0)
    return Keys(
        domain=domain,
        domain_label=domain.split(".", 1)[0] if domain else None,
        linkedin=linkedin_key(linkedin_url) if linkedin_url else None,
        duns=duns_key(duns) if duns else None,
        name=name,
        compact=name.key.replace(" ", ""),
        core_tokens=tuple(core),
        core="".join(core),
        label_core=_label_core(domain.split(".", 1)[0]) if domain else "",
        informative=len(informative),
        acronym="".join(t[0] for t in informative) if len(informative) >= 3 else "",
        country=country.strip().casefold(),
    )


class Hit(NamedTuple):
    """One scored candidate."""

    claim_id: str
    level: MatchLevel
    score: float
    confidence: int
    evidence: tuple[str, ...]


_LABEL_PREFIXES = ("the", "get", "try")
_LABEL_SUFFIXES = ("group", "holdings", "holding", "company", "corp", "inc", "global", "international", "hq")


def _label_core(label: str) -> str:
    """The name a domain label spells: "volkswagen-group" -> "volkswagen",
    "theheinekencompany" -> "heineken", "datadoghq" -> "datadog"."""
    if "-" not in label and not label.startswith(_LABEL_PREFIXES) and not label.endswith(_LABEL_SUFFIXES):
        return label  # the common case, decided in C
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


def confidence_of(score: float) -> int:
    """Map log-odds points to 0-100 (logistic; MATCH_AT is about 88, POSSIBLE_AT about 12)."""
    return max(0, min(100, round(100 / (1 + math.exp(-0.8 * (score - 5.5))))))


def name_similarity(a: Keys, b: Keys) -> int:
    """0-100. The same key, or the same letters with other spacing ("Hub Spot"), is 100;
    the same core once generic trailing words are set aside is 97. Otherwise the best of
    ratio / token_sort_ratio, capped below the fuzzy band when a word on one side has no
    near-spelling on the other: a different company (First National Bank of *Omaha* vs
    *Pennsylvania*) or a missing word ("Starbucks Coffee" vs "Starbucks"), never a typo."""
    if a.name.key == b.name.key or a.compact == b.compact:
        return 100
    if not a.name.key or not b.name.key:
        return 0
    if a.core == b.core:
        return CORE_SIMILARITY
    score = max(fuzz.ratio(a.compact, b.compact), fuzz.token_sort_ratio(a.name.key, b.name.key))
    if a.core != a.compact or b.core != b.compact:
        score = max(score, fuzz.ratio(a.core, b.core))
    score = int(score)
    if score < FUZZY_MID:
        return score
    return score if _words_pair_up(a.core_tokens, b.core_tokens) else min(score, FUZZY_MID - 1)


def _words_pair_up(a: tuple[str, ...], b: tuple[str, ...], *, subset: bool = False) -> bool:
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
        near = next((other for other in rest if _near(token, other)), None)
        if near is None:
            return False
        rest.remove(near)
    return subset or not rest


def _near(x: str, y: str) -> bool:
    if len(x) < TYPO_MIN_LEN or len(y) < TYPO_MIN_LEN:
        return x == y
    return OSA.distance(x, y, score_cutoff=2) <= (2 if min(len(x), len(y)) >= 9 else 1)  # OSA: a swap is one edit


def _brand(core: str, label: str) -> bool:
    """Whether a name spells a domain label, allowing one slip of the fingers in longer
    names and the German ae/oe/ue spelling of a/o/u in domains ("Wurth" / wuerth.de)."""
    if core == label:
        return True
    if not core or not label or core[0] != label[0]:
        return False  # the cheap answer for nearly every candidate
    if abs(len(core) - len(label)) <= 1 and min(len(core), len(label)) >= BRAND_TYPO_MIN_LEN \
            and _typo_shaped(core, label):
        return True
    return ("e" in label and core == label.replace("ae", "a").replace("oe", "o").replace("ue", "u"))


def _typo_shaped(typed: str, real: str) -> bool:
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


def _name_part_and_brand(q: Keys, c: Keys) -> bool:
    """Every word of the record's name is a word of the candidate's name, or spells its
    domain, and the domain is spelt: "Bosch" / Robert Bosch (bosch.com), "LM Ericsson" /
    Telefonaktiebolaget LM Ericsson (ericsson.com), "Saudi Aramco" / Saudi Arabian Oil
    (aramco.com). "Siemens Energy" is not Siemens AG: "energy" is in neither."""
    label = c.label_core
    if q.core == label:
        return True  # the whole name spells the domain ("Zoom Info" / zoominfo.com)
    # Which word spells the domain? Only words that could (same first letter, about the same
    # length) are tried: for nearly every candidate none can, and the answer is cheap.
    spelling = [t for t in q.core_tokens
                if t[0] == label[0] and abs(len(t) - len(label)) <= 2 and _brand(t, label)]
    if not spelling:
        return False
    rest = tuple(t for t in q.core_tokens if t not in spelling)
    return _words_pair_up(rest, c.name.tokens, subset=True)


def _deletes(token: str) -> Iterable[str]:
    return {token[:i] + token[i + 1:] for i in range(len(token))}


class AccountIndex:
    """The keys of every claim, indexed for fast candidate lookup. Claims are added one
    at a time (`add`), so a server keeps one index warm and adds new registrations.

    One dict maps prefixed keys ("d:acme.com", "t:robotics" …) to a claim id, or to a set
    of ids once a key is shared: most keys belong to one claim, and a bare string costs
    no allocation."""

    def __init__(self) -> None:
        self.keys: dict[str, Keys] = {}
        self._post: dict[str, str | set[str]] = {}
        self._deletes: dict[str, set[str]] | None = None  # built on the first typo lookup

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, claim_id: str) -> bool:
        return claim_id in self.keys

    def add(self, claim_id: str, keys: Keys) -> None:
        if claim_id in self.keys:
            self.remove(claim_id)
        self.keys[claim_id] = keys
        post = self._post
        for key in _postings(keys):
            ids = post.get(key)
            if ids is None:
                post[key] = claim_id
                if self._deletes is not None and key[:2] == "t:":
                    self._add_deletes(key[2:])
            elif ids.__class__ is str:
                if ids != claim_id:
                    post[key] = {ids, claim_id}
            else:
                ids.add(claim_id)  # type: ignore[union-attr]

    def remove(self, claim_id: str) -> None:
        keys = self.keys.pop(claim_id)
        for key in _postings(keys):
            ids = self._post.get(key)
            if ids == claim_id:
                del self._post[key]
            elif isinstance(ids, set):
                ids.discard(claim_id)
        # The deletion index may keep stale vocabulary; lookups confirm through the postings.

    def _ids(self, key: str) -> set[str] | tuple[str, ...]:
        ids = self._post.get(key)
        if ids is None:
            return ()
        return (ids,) if ids.__class__ is str else ids  # type: ignore[return-value]

    def _add_deletes(self, token: str) -> None:
        if len(token) >= TYPO_MIN_LEN and self._deletes is not None:
            for deleted in _deletes(token):
                self._deletes.setdefault(deleted, set()).add(token)

    def _typo_neighbours(self, token: str) -> set[str]:
        """Vocabulary tokens one edit away (symmetric deletion: a substituted, missing,
        extra or swapped letter)."""
        if self._deletes is None:
            self._deletes = {}
            for key in self._post:
                if key[:2] == "t:":
                    self._add_deletes(key[2:])
        near: set[str] = set()
        for variant in _deletes(token) | {token}:
            if "t:" + variant in self._post:
                near.add(variant)
            near.update(self._deletes.get(variant, ()))
        return {v for v in near if "t:" + v in self._post and _near(token, v)}

    # -- lookup -----------------------------------------------------------------------

    def candidates(self, q: Keys) -> set[str]:
        """Claims sharing a key with the record, plus claims sharing one of its rarest name
        words whose name is not hopelessly far from the record's (checked in C)."""
        found: set[str] = set()
        for key in _postings(q, tokens=False):
            found.update(self._ids(key))
        if q.core and q.core != q.compact:
            found.update(self._ids("c:" + q.core))  # "Airbus Group" -> "Airbus"
        if q.core:
            found.update(self._ids("k:" + q.core))  # "Airbus" -> "Airbus Group"
        if q.compact and len(q.compact) <= 5:
            found.update(self._ids("a:" + q.compact))  # "IBM" -> International Business Machines
        if q.acronym:
            found.update(self._ids("c:" + q.acronym))  # International Business Machines -> "IBM"
        if not q.domain:
            for word in {q.core, *q.core_tokens}:  # "Bosch" -> Robert Bosch GmbH at bosch.com
                found.update(self._ids("b:" + word))
        if found:
            # A key already found the account. Claims that only share a word of its name could
            # add a misspelt name at most; exact names were looked up above.
            return found
        limit = max(100, len(self.keys) // 200)  # words in more than ~0.5% of names carry no signal
        postings: list[set[str] | tuple[str, ...]] = []
        for token in set(q.name.tokens) - STOPWORDS:
            ids = self._ids("t:" + token)
            if ids:
                postings.append(ids)
            elif len(token) >= TYPO_MIN_LEN and not (q.domain or q.linkedin or q.duns):
                # Only a record with no key of its own hunts for misspelt names: with a domain,
                # a claim found by a misspelt name alone could not reach `possible` anyway
                # unless it has no domain itself (rare, and the exact name still finds it).
                postings.extend(self._ids("t:" + v) for v in self._typo_neighbours(token))
        by_word: set[str] = set()
        for ids in sorted(postings, key=len)[:3]:
            if len(ids) <= limit:
                by_word.update(ids)
        if len(by_word) > NAME_PREFILTER_FROM and q.compact:
            ids = list(by_word)
            keys = self.keys
            near = process.extract(q.compact, [keys[i].compact for i in ids], scorer=fuzz.ratio,
                                   score_cutoff=NAME_PREFILTER_CUTOFF, limit=None)
            by_word = {ids[index] for _, _, index in near}
        return by_word

    def lookup(self, q: Keys) -> list[Hit]:
        """Every claim the record may be, best first; only `match` and `possible` levels."""
        hits = []
        keys = self.keys
        for claim_id in self.candidates(q):
            hit = score(q, claim_id, keys[claim_id])
            if hit is not None:
                hits.append(hit)
        hits.sort(key=lambda h: (-h.score, h.claim_id))
        return hits


def _postings(keys: Keys, *, tokens: bool = True) -> list[str]:
    """The index keys of a claim (`tokens=False`: the exact keys a record looks up)."""
    out = []
    if keys.domain:
        out += ("d:" + keys.domain, "l:" + (keys.domain_label or ""))
    if keys.linkedin:
        out.append(keys.linkedin)  # already prefixed: "li:acme", "li_id:123"
    if keys.duns:
        out.append("u:" + keys.duns)
    if keys.compact:
        out.append("c:" + keys.compact)  # equal names have equal compact forms
        if keys.core != keys.compact:
            out.append("k:" + keys.core)
    if tokens:
        if keys.label_core:
            out.append("b:" + keys.label_core)
        if keys.acronym:
            out.append("a:" + keys.acronym)
        out += ["t:" + t for t in set(keys.name.tokens)]
    return out


def score(q: Keys, claim_id: str, c: Keys) -> Hit | None:
    """Score one candidate; None below the possible band."""
    points = 0.0
    evidence: list[str] = []
    strong_agree = False

    if q.duns and c.duns:
        if q.duns == c.duns:
            points += W_DUNS; evidence.append("duns"); strong_agree = True
        else:
            points += W_DUNS_DIFF; evidence.append("-duns")
    if q.domain and c.domain:
        if q.domain == c.domain:
            points += W_DOMAIN; evidence.append("domain"); strong_agree = True
        elif q.domain_label == c.domain_label:
            points += W_DOMAIN_LABEL; evidence.append("domain_label")
        else:
            points += W_DOMAIN_DIFF; evidence.append("-domain")
    if q.linkedin and c.linkedin:
        if q.linkedin == c.linkedin:
            points += W_LINKEDIN; evidence.append("linkedin"); strong_agree = True
        else:
            points += W_LINKEDIN_DIFF; evidence.append("-linkedin")

    sim = name_similarity(q, c) if q.name.key and c.name.key else 0
    multi = min(q.informative, c.informative) >= 2
    if sim == 100:
        points += W_NAME_EXACT_MULTI if multi else W_NAME_EXACT_ONE
    elif sim >= FUZZY_HIGH:
        points += W_NAME_FUZZY_HIGH if multi else W_NAME_FUZZY_ONE
    elif sim >= FUZZY_MID:
        points += W_NAME_FUZZY_MID if multi else W_NAME_FUZZY_ONE
    elif q.compact and (q.compact == c.acronym or c.compact == q.acronym):
        points += W_ACRONYM; evidence.append("acronym")
    if sim >= FUZZY_MID:
        evidence.append(f"name:{sim}")
    # The second signal for a record without a domain: its name spells the candidate's own
    # domain, which no other company can hold ("Zalando" / zalando.com, "Bosch" / Robert
    # Bosch GmbH at bosch.com, "IBM" spelt out / ibm.com).
    if not q.domain and c.label_core:
        if sim >= FUZZY_MID and _brand(q.core, c.label_core):
            points += W_BRAND; evidence.append("name=domain")
        elif sim < FUZZY_MID and "acronym" in evidence and q.acronym == c.label_core:
            points += W_BRAND; evidence.append("name=domain")
        elif sim < FUZZY_MID and q.informative and _name_part_and_brand(q, c):
            points += W_NAME_PART + W_BRAND; evidence += ["name_part", "name=domain"]

    # Only agreement counts: "DE" and "Germany" are the same country written two ways.
    if q.country and q.country == c.country and (points > 0 or strong_agree):
        points += W_COUNTRY; evidence.append("country")

    if points >= MATCH_AT:
        level = MatchLevel.MATCH
    elif points >= POSSIBLE_AT:
        level = MatchLevel.POSSIBLE
    else:
        return None
    return Hit(claim_id, level, points, confidence_of(points), tuple(evidence))
