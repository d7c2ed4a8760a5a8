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
from collections.abc import Iterable, Sequence
from functools import lru_cache
from typing import Final, NamedTuple

from rapidfuzz import fuzz, process
from rapidfuzz.distance import OSA

from dealreg.models import MatchLevel
from dealreg.normalise import NameKey, account_domain, duns_key, linkedin_key, name_key

# Evidence weights (log-odds points). Calibrated on tests/data/matching (see bench/RESULTS.md).
W_DUNS: Final = 10.0
W_DUNS_DIFF: Final = -8.0
W_DOMAIN: Final = 9.0
W_DOMAIN_DIFF: Final = -6.0
W_DOMAIN_LABEL: Final = 1.0  # acme.de vs acme.com: often, not always, one company
W_LINKEDIN: Final = 9.0
W_LINKEDIN_DIFF: Final = -4.0
W_NAME_EXACT_MULTI: Final = 9.0
W_NAME_EXACT_ONE: Final = 5.0
W_NAME_FUZZY_HIGH: Final = 8.0
W_NAME_FUZZY_MID: Final = 5.0
W_NAME_FUZZY_ONE: Final = 4.0
W_ACRONYM: Final = 4.0
W_BRAND: Final = 4.0  # a name-only record whose name is the candidate's own domain: "Zalando" vs zalando.com
W_NAME_PART: Final = 4.0  # every word of the record's name is in the candidate's ("Bosch" / "Robert Bosch")
W_COUNTRY: Final = 1.0
MATCH_AT: Final = 8.0
POSSIBLE_AT: Final = 3.0

FUZZY_HIGH: Final = 92  # name similarity bands (0-100)
FUZZY_MID: Final = 85
CORE_SIMILARITY: Final = 97  # the same name once generic trailing words are set aside ("Airbus Group" / "Airbus")
TYPO_MIN_LEN: Final = 5  # tokens shorter than this must match exactly
NAME_PREFILTER_FROM: Final = 20  # many word-sharing candidates: drop far-off names first
NAME_PREFILTER_CUTOFF: Final = 55
BRAND_TYPO_MIN_LEN: Final = 6  # a name one edit from a domain counts as that brand only from this length
STOPWORDS: Final = frozenset({"of", "the", "and", "for", "de", "la", "le", "du", "des", "der", "die", "van", "von", "y", "e"})
# Words that describe a company's shape rather than name it, set aside at the end of a name
# for the "core" comparison (never alone: "Group" stays "group"). Not "bank", "energy",
# "partners" …: those tell real companies apart (Apple Bank, Siemens Energy, Stripe Partners).
GENERIC: Final = frozenset({
    "group", "groupe", "gruppe", "grupo", "holding", "holdings", "international", "global", "worldwide",
    "technologies", "technology", "labs", "industries", "industry", "enterprises", "platforms", "com", "io",
})
LEADING_GENERIC: Final = frozenset({"groupe", "grupo", "gruppo"})  # "Groupe Danone"

MATCH: Final = MatchLevel.MATCH  # looked up once: enum attribute access is slow
POSSIBLE: Final = MatchLevel.POSSIBLE

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
    return _keys(account_domain(company_domain, contact_email), name_key(company_name), linkedin_url, duns, country)


Row = tuple[str, str, str, str, str, str]  # keys_of's arguments, in order


def keys_many(rows: Sequence[Row]) -> list[Keys]:
    """`keys_of` for each row of a registry, a field at a time: every name, then every
    website, then the rest (a fifth faster interpreted than row by row, where each step
    pushes the others' code and tables out of the CPU's caches). A registry's websites are
    each seen once, so they skip the cache `keys_of` keeps for a decision's repeated questions."""
    names = [name_key(row[0]) for row in rows]
    domains = [account_domain(row[1], row[2], cached=False) for row in rows]
    return [_keys(domain, name, row[3], row[4], row[5]) for domain, name, row in zip(domains, names, rows)]


def _keys(domain: str | None, name: NameKey, linkedin_url: str, duns: str, country: str) -> Keys:
    tokens = name.tokens
    informative = tokens if STOPWORDS.isdisjoint(tokens) else tuple(t for t in tokens if t not in STOPWORDS)
    compact = "".join(tokens)  # the key without its spaces
    core, core_text = tokens, compact
    if len(tokens) > 1 and (tokens[-1] in GENERIC or tokens[0] in LEADING_GENERIC):
        trimmed = list(tokens)
        while len(trimmed) > 1 and trimmed[-1] in GENERIC:
            trimmed.pop()
        while len(trimmed) > 1 and trimmed[0] in LEADING_GENERIC:
            trimmed.pop(0)
        core, core_text = tuple(trimmed), "".join(trimmed)
    label = domain[: domain.find(".")] if domain else None  # a registered domain always has a dot
    # tuple.__new__ with the fields in order: a third of the cost of Keys(field=…) for
    # something built for every registration of a registry.
    return tuple.__new__(Keys, (
        domain,
        label,
        linkedin_key(linkedin_url) if linkedin_url else None,
        duns_key(duns) if duns else None,
        name,
        compact,
        core,
        core_text,
        _label_core(label) if label else "",
        len(informative),
        "".join([t[0] for t in informative]) if len(informative) >= 3 else "",
        country.strip().casefold() if country else "",
    ))


class Hit(NamedTuple):
    """One scored candidate."""

    claim_id: str
    level: MatchLevel
    score: float
    confidence: int
    evidence: tuple[str, ...]


_LABEL_PREFIXES: Final = ("the", "get", "try")
_LABEL_SUFFIXES: Final = ("group", "holdings", "holding", "company", "corp", "inc", "global", "international", "hq")


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


@lru_cache(maxsize=1024)  # scores are sums of a few weights: a few dozen values in all
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
    ratio = max(fuzz.ratio(a.compact, b.compact), fuzz.token_sort_ratio(a.name.key, b.name.key))
    if a.core != a.compact or b.core != b.compact:
        ratio = max(ratio, fuzz.ratio(a.core, b.core))
    score = int(ratio)
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


def _deletes(token: str) -> set[str]:
    return {token[:i] + token[i + 1:] for i in range(len(token))}


# The kinds of index key, one dict each. The keys are the strings of the claims' own Keys
# (no prefixed copies): a domain's label, a LinkedIn reference ("li:acme"), a DUNS, a compact
# name, a core name, the name a domain spells, an acronym, a name token. Two postings are
# spared per claim: the domain itself is not posted, since every claim with a record's domain
# shares its label ("acme" for acme.com, acme.de, acme.co.uk), which is looked up anyway;
# and the name a domain spells is its label for nearly every claim, so BRAND holds it only
# where it differs ("the-acme-group.com" -> "acme") and a brand lookup reads LABEL as well.
LABEL, LINKEDIN, DUNS, COMPACT, CORE, BRAND, ACRONYM, TOKEN = range(8)

Posting = tuple[int, str]
Ids = str | set[str]  # one claim id, or a set of them once a key is shared


class AccountIndex:
    """The keys of every claim, indexed for fast candidate lookup. A registry is indexed
    at once (`add_many`), and a server that keeps one index warm adds new claims one at a
    time (`add`).

    One dict per kind of key maps it to a claim id, or to a set of ids once the key is
    shared: most keys belong to one claim, and a bare string costs no allocation."""

    def __init__(self) -> None:
        self.keys: dict[str, Keys] = {}
        self._post: tuple[dict[str, Ids], ...] = tuple({} for _ in range(TOKEN + 1))
        self._deletes: dict[str, set[str]] | None = None  # built on the first typo lookup

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, claim_id: str) -> bool:
        return claim_id in self.keys

    def add(self, claim_id: str, keys: Keys) -> None:
        if claim_id in self.keys:
            self.remove(claim_id)
        self.keys[claim_id] = keys
        self._post_claim(claim_id, keys)
        if self._deletes is not None:  # the deletion index is built: keep it up to date
            for token in keys.name.tokens:
                self._add_deletes(token)

    def add_many(self, claims: Iterable[tuple[str, Keys]]) -> None:
        """`add` each claim in turn (a registry at start-up)."""
        keys = self.keys
        post_claim = self._post_claim
        for claim_id, claim_keys in claims:
            if claim_id in keys:
                self.remove(claim_id)
            keys[claim_id] = claim_keys
            post_claim(claim_id, claim_keys)
        self._deletes = None  # new vocabulary: rebuilt on the next typo lookup

    def _post_claim(self, c: str, k: Keys) -> None:
        """Post claim `c` under each of its keys (`_postings`, written out: this runs for every
        registration of a registry). `setdefault` posts a new key and returns the claim itself
        in one dict operation; anything else means the key is shared."""
        labels, linkedins, duns, compacts, cores, brands, acronyms, tokens = self._post
        if k.domain_label and labels.setdefault(k.domain_label, c) is not c:
            _share(labels, k.domain_label, c)
        if k.linkedin and linkedins.setdefault(k.linkedin, c) is not c:
            _share(linkedins, k.linkedin, c)
        if k.duns and duns.setdefault(k.duns, c) is not c:
            _share(duns, k.duns, c)
        if k.compact:
            if compacts.setdefault(k.compact, c) is not c:
                _share(compacts, k.compact, c)
            if k.core != k.compact and cores.setdefault(k.core, c) is not c:
                _share(cores, k.core, c)
        if k.label_core and k.label_core != k.domain_label and brands.setdefault(k.label_core, c) is not c:  # see BRAND
            _share(brands, k.label_core, c)
        if k.acronym and acronyms.setdefault(k.acronym, c) is not c:
            _share(acronyms, k.acronym, c)
        for token in k.name.tokens:  # words are shared often ("systems"): one lookup for those too
            ids = tokens.setdefault(token, c)
            if ids is not c:
                if isinstance(ids, set):
                    ids.add(c)
                elif ids != c:
                    tokens[token] = {ids, c}

    def remove(self, claim_id: str) -> None:
        keys = self.keys.pop(claim_id)
        post = self._post
        for kind, key in _postings(keys):
            ids = post[kind].get(key)
            if ids == claim_id:
                del post[kind][key]
            elif isinstance(ids, set):
                ids.discard(claim_id)
                if not ids:
                    del post[kind][key]
        # The deletion index may keep stale vocabulary; lookups confirm through the postings.

    def _add_deletes(self, token: str) -> None:
        if len(token) >= TYPO_MIN_LEN and self._deletes is not None:
            for deleted in _deletes(token):
                self._deletes.setdefault(deleted, set()).add(token)

    def _typo_neighbours(self, token: str) -> set[str]:
        """Vocabulary tokens one edit away (symmetric deletion: a substituted, missing,
        extra or swapped letter)."""
        vocabulary = self._post[TOKEN]
        if self._deletes is None:
            self._deletes = {}
            for word in vocabulary:
                self._add_deletes(word)
        near: set[str] = set()
        for variant in _deletes(token) | {token}:
            if variant in vocabulary:
                near.add(variant)
            near.update(self._deletes.get(variant, ()))
        return {v for v in near if v in vocabulary and _near(token, v)}

    # -- lookup -----------------------------------------------------------------------

    def candidates(self, q: Keys) -> set[str]:
        """Claims sharing a key with the record, plus claims sharing one of its rarest name
        words whose name is not hopelessly far from the record's (checked in C)."""
        post = self._post
        lookups: list[tuple[dict[str, Ids], str]] = []
        if q.domain:
            lookups.append((post[LABEL], q.domain_label))  # type: ignore[arg-type]  # the domain's own claims among them
        if q.linkedin:
            lookups.append((post[LINKEDIN], q.linkedin))
        if q.duns:
            lookups.append((post[DUNS], q.duns))
        if q.compact:
            lookups.append((post[COMPACT], q.compact))  # equal names have equal compact forms
            if len(q.compact) <= 5:
                lookups.append((post[ACRONYM], q.compact))  # "IBM" -> International Business Machines
        if q.core:
            if q.core != q.compact:
                lookups.append((post[COMPACT], q.core))  # "Airbus Group" -> "Airbus"
            lookups.append((post[CORE], q.core))  # "Airbus" -> "Airbus Group"
        if q.acronym:
            lookups.append((post[COMPACT], q.acronym))  # International Business Machines -> "IBM"
        found: set[str] = set()
        if not q.domain:  # "Bosch" -> Robert Bosch GmbH at bosch.com
            labels, brands, keys = post[LABEL], post[BRAND], self.keys
            for word in {q.core, *q.core_tokens}:
                lookups.append((brands, word))
                ids = labels.get(word)  # the claims whose domain label is their brand (see BRAND)
                if ids is not None:
                    found.update(i for i in ((ids,) if ids.__class__ is str else ids)  # type: ignore[misc]
                                 if keys[i].label_core == word)
        for table, key in lookups:
            ids = table.get(key)
            if ids is not None:
                if ids.__class__ is str:
                    found.add(ids)  # type: ignore[arg-type]
                else:
                    found.update(ids)
        if found:
            # A key already found the account. Claims that only share a word of its name could
            # add a misspelt name at most; exact names were looked up above.
            return found
        limit = max(100, len(self.keys) // 200)  # words in more than ~0.5% of names carry no signal
        vocabulary = post[TOKEN]
        postings: list[Ids] = []
        for token in dict.fromkeys(q.name.tokens):  # in the name's order: ties below break alike every run
            if token in STOPWORDS:
                continue
            ids = vocabulary.get(token)
            if ids is not None:
                postings.append(ids)
            elif len(token) >= TYPO_MIN_LEN and not (q.domain or q.linkedin or q.duns):
                # Only a record with no key of its own hunts for misspelt names: with a domain,
                # a claim found by a misspelt name alone could not reach `possible` anyway
                # unless it has no domain itself (rare, and the exact name still finds it).
                postings.extend(vocabulary[v] for v in sorted(self._typo_neighbours(token)))
        by_word: set[str] = set()
        for ids in sorted(postings, key=lambda ids: 1 if ids.__class__ is str else len(ids))[:3]:
            if ids.__class__ is str:
                by_word.add(ids)  # type: ignore[arg-type]
            elif len(ids) <= limit:
                by_word.update(ids)
        if len(by_word) > NAME_PREFILTER_FROM and q.compact:
            claim_ids = list(by_word)
            keys = self.keys
            near = process.extract(q.compact, [keys[i].compact for i in claim_ids], scorer=fuzz.ratio,
                                   score_cutoff=NAME_PREFILTER_CUTOFF, limit=None)
            by_word = {claim_ids[index] for _, _, index in near}
        return by_word

    def lookup(self, q: Keys) -> list[Hit]:
        """Every claim the record may be, best first; only `match` and `possible` levels."""
        hits = []
        keys = self.keys
        for claim_id in self.candidates(q):
            hit = score(q, claim_id, keys[claim_id])
            if hit is not None:
                hits.append(hit)
        if len(hits) > 1:
            hits.sort(key=lambda h: (-h.score, h.claim_id))
        return hits


def _postings(keys: Keys) -> list[Posting]:
    """The index keys of a claim, by kind."""
    out: list[Posting] = []
    if keys.domain_label:
        out.append((LABEL, keys.domain_label))
    if keys.linkedin:
        out.append((LINKEDIN, keys.linkedin))
    if keys.duns:
        out.append((DUNS, keys.duns))
    if keys.compact:
        out.append((COMPACT, keys.compact))
        if keys.core != keys.compact:
            out.append((CORE, keys.core))
    if keys.label_core and keys.label_core != keys.domain_label:
        out.append((BRAND, keys.label_core))
    if keys.acronym:
        out.append((ACRONYM, keys.acronym))
    out += [(TOKEN, t) for t in set(keys.name.tokens)]
    return out


def _share(post: dict[str, Ids], key: str, claim_id: str) -> None:
    """Add `claim_id` to the ids posted under `key`, which has some already."""
    ids = post[key]
    if ids.__class__ is str:
        if ids != claim_id:
            post[key] = {ids, claim_id}  # type: ignore[arg-type]
    else:
        ids.add(claim_id)  # type: ignore[union-attr]


_NAME_EVIDENCE: Final = tuple(f"name:{n}" for n in range(101))  # "name:93", made once


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
        evidence.append(_NAME_EVIDENCE[sim])
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
        level = MATCH
    elif points >= POSSIBLE_AT:
        level = POSSIBLE
    else:
        return None
    return tuple.__new__(Hit, (claim_id, level, points, confidence_of(points), tuple(evidence)))  # Hit(…), faster
