"""Which claims a record may be the account of: `AccountIndex` posts every claim under its keys
and, for a record, gathers the claims that share one (then `score` weighs each).

Pure and in memory. A lookup gathers candidates from the strong keys (registered domain,
LinkedIn, DUNS), the exact and compact name keys, the name a domain spells and acronyms; only
when none of those finds anything does it fall back to the rarest words of the name
(typo-tolerant through a deletion index over the word vocabulary).
"""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz import fuzz, process

from dealreg.keys import STOPWORDS, Keys
from dealreg.score import Hit, score
from dealreg.similarity import TYPO_MIN_LEN, near_spelling

COMMON_SHARE = 0.002  # a word in more than 0.2% of a registry's names (200 of 100,000) names no company alone
NAME_PREFILTER_FROM = 20  # many word-sharing candidates: drop far-off names first
NAME_PREFILTER_CUTOFF = 55

# The kinds of index key, one table each: a domain's label; the label of a contact's email domain
# where it differs from the website's, or else a free-mail or ISP provider's domain that is the
# claim's own website (a claim has at most one of the two, and a label holds no dot where a domain
# does, so they share a table); a LinkedIn reference ("li:acme"); a DUNS; a compact name; the core
# name, or where it differs the core without a legal form written first (both find the same claims:
# a lookup asks for both); the name a domain spells; an acronym; a name word.
# The domain itself is not posted: every claim with a record's domain shares its label
# ("acme" for acme.com, acme.de, acme.co.uk), which is looked up anyway. The name a domain
# spells is its label for nearly every claim, so BRAND holds it only where it differs
# ("the-acme-group.com" -> "acme"), and a brand lookup reads LABEL as well.
LABEL, MAIL, LINKEDIN, DUNS, COMPACT, CORE, BRAND, ACRONYM, TOKEN = range(9)
PROVIDER = MAIL  # the provider's own claims share the contact domains' table (see above)

Ids = str | set[str]
"""The claims posted under one key: one claim id, or a set of them once the key is shared. Most
keys belong to one claim: for 100,000 registrations a set for every key would be 270,000 sets,
the index 88 MB instead of 39 MB (tracemalloc), and that many more objects for the garbage
collector to scan."""


def postings(k: Keys) -> tuple[tuple[str | None, ...], tuple[str, ...]]:
    """The keys a claim is posted under: one for each table from LABEL to ACRONYM (None or ""
    where it has none), then its words for TOKEN. Never an empty key: a lookup for an empty
    word would find every claim without a name."""
    singles = (
        k.domain_label,
        k.mail_domain.split(".", 1)[0] if k.mail_domain else k.provider,
        k.linkedin,
        k.duns,
        k.compact,
        k.lead if k.lead != k.core else k.core if k.core != k.compact else None,
        k.label_core if k.label_core != k.domain_label else None,  # see BRAND
        k.acronym,
    )
    return singles, k.tokens


def _share(table: dict[str, Ids], key: str, ids: Ids, claim_id: str) -> None:
    """Post `claim_id` under `key`, where `ids` are posted already."""
    if isinstance(ids, set):
        ids.add(claim_id)
    elif ids != claim_id:  # both claims now share the key
        table[key] = {ids, claim_id}


def _unpost(table: dict[str, Ids], key: str, claim_id: str) -> None:
    ids = table.get(key)
    if ids == claim_id:
        del table[key]
    elif isinstance(ids, set):
        ids.discard(claim_id)
        if len(ids) == 1:
            table[key] = ids.pop()  # one claim left: a bare id again, as if it had been posted alone


def _posted(table: dict[str, Ids], key: str) -> Iterable[str]:
    """The claims posted under `key` in `table`."""
    ids = table.get(key)
    if ids is None:
        return ()
    return (ids,) if isinstance(ids, str) else ids


class AccountIndex:
    """The keys of every claim, posted for fast candidate lookup. A registry is indexed at
    once (`add_many`), and a server that keeps one index warm adds new claims one at a time
    (`add`)."""

    def __init__(self, *, divisions: bool = True) -> None:
        """`divisions`: whether a record that is a claim's name or brand with words of its own is a
        possible match (`score`); the rules file's `divisions: review` (the default) or `ignore`."""
        self.divisions = divisions
        self.keys: dict[str, Keys] = {}
        self._post: tuple[dict[str, Ids], ...] = tuple({} for _ in range(TOKEN + 1))
        self._deletes: dict[str, set[str]] | None = None  # built on the first typo lookup
        self._aliases: dict[str, list[Keys]] = {}  # an alias's compact name -> the accounts it names

    def __len__(self) -> int:
        return len(self.keys)

    def __contains__(self, claim_id: str) -> bool:
        return claim_id in self.keys

    def add(self, claim_id: str, keys: Keys) -> None:
        """Post a claim under its keys (a claim with the same id is replaced)."""
        self.add_many([(claim_id, keys)])

    def add_many(self, claims: Iterable[tuple[str, Keys]]) -> None:
        """Post every claim under its keys (a registry at start-up); a claim replaces any
        earlier one with its id."""
        tables, words_table = self._post, self._post[TOKEN]
        for claim_id, keys in claims:
            if self.keys.setdefault(claim_id, keys) is not keys:  # an earlier claim with this id: replace it
                self.remove(claim_id)
                self.keys[claim_id] = keys
            singles, words = postings(keys)
            # `setdefault` posts a new key and hands back this very claim id in one dict operation;
            # anything else means the key is shared.
            for table, key in zip(tables, singles):
                if key and (ids := table.setdefault(key, claim_id)) is not claim_id:
                    _share(table, key, ids, claim_id)
            for word in words:
                if (ids := words_table.setdefault(word, claim_id)) is not claim_id:
                    # `_share` written out: nine words in ten are shared (industry words, common
                    # names), and the call costs 0.02 s of the 100,000-registration build
                    if isinstance(ids, set):
                        ids.add(claim_id)
                    elif ids != claim_id:
                        words_table[word] = {ids, claim_id}
            if self._deletes is not None:  # the deletion index is built: keep it up to date
                for word in words:
                    self._add_deletes(word)

    def remove(self, claim_id: str) -> None:
        singles, words = postings(self.keys.pop(claim_id))
        for table, key in zip(self._post, singles):
            if key:
                _unpost(table, key, claim_id)
        for word in words:
            _unpost(self._post[TOKEN], word, claim_id)
        # The deletion index may keep stale vocabulary; lookups confirm through the postings.

    def add_alias(self, alias: Keys, account: Keys) -> None:
        """Another name of an account (the alias table): a record named `alias` is looked up as
        the account, found by its domain or, when the alias names none, by its name. Claims made
        later are found too: the account is resolved at each lookup."""
        if alias.compact and (account.domain or account.compact):
            self._aliases.setdefault(alias.compact, []).append(account)

    def alias_targets(self, q: Keys) -> set[str]:
        """The claims on the accounts the record's name is an alias of."""
        accounts = self._aliases.get(q.compact) if q.compact and self._aliases else None
        if not accounts:
            return set()
        found: set[str] = set()
        for account in accounts:
            if account.domain:
                found.update(i for i in _posted(self._post[LABEL], account.domain_label or "")
                             if self.keys[i].domain == account.domain)
            else:
                found.update(_posted(self._post[COMPACT], account.compact))
        return found

    def _add_deletes(self, token: str) -> None:
        if len(token) >= TYPO_MIN_LEN and self._deletes is not None:
            for deleted in _deletes(token):
                self._deletes.setdefault(deleted, set()).add(token)

    def _typo_neighbours(self, token: str) -> set[str]:
        """Vocabulary words one edit away (symmetric deletion: a substituted, missing, extra
        or swapped letter)."""
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
        return {v for v in near if v in vocabulary and near_spelling(token, v)}

    # -- lookup -----------------------------------------------------------------------

    def candidates(self, q: Keys) -> set[str]:
        """Claims sharing a key with the record or, when none does, claims sharing one of its
        rarest name words whose name is not hopelessly far from the record's."""
        post = self._post
        lookups: list[tuple[int, str]] = []
        if q.domain_label:
            lookups.append((LABEL, q.domain_label))  # the domain's own claims among them
            lookups.append((MAIL, q.domain_label))  # claims whose contacts write from it
            lookups.append((BRAND, q.domain_label))  # a brand's own suffix: canon.de -> global.canon
        if q.mail_domain:
            label = q.mail_domain.split(".", 1)[0]
            lookups += [(LABEL, label), (MAIL, label)]
        for provider in (q.provider, q.mail_provider):
            if provider:
                lookups.append((PROVIDER, provider))  # the provider's own claims (Proton at proton.me)
        if q.linkedin:
            lookups.append((LINKEDIN, q.linkedin))
        if q.duns:
            lookups.append((DUNS, q.duns))
        if q.compact:
            lookups.append((COMPACT, q.compact))  # equal names have equal compact forms
            if len(q.compact) <= 5:
                lookups.append((ACRONYM, q.compact))  # "IBM" -> International Business Machines
        if q.core:
            if q.core != q.compact:
                lookups.append((COMPACT, q.core))  # "Airbus Group" -> "Airbus"
            lookups.append((CORE, q.core))  # "Airbus" -> "Airbus Group"
        if q.base != q.core:  # "Heineken UK" -> "Heineken"
            lookups += [(COMPACT, q.base), (CORE, q.base)]
        if q.lead != q.core:  # "AB Sagax" -> "Sagax AB" ("Sagax AB" -> "AB Sagax": CORE holds "sagax")
            lookups += [(COMPACT, q.lead), (CORE, q.lead)]
        if q.acronym:
            lookups.append((COMPACT, q.acronym))  # International Business Machines -> "IBM"
        found = self.alias_targets(q)
        if not q.domain:  # "Bosch" -> Robert Bosch GmbH at bosch.com
            for word in {q.core, *q.core_tokens}:
                lookups.append((BRAND, word))
                # the claims whose domain label is their brand (see BRAND)
                found.update(i for i in _posted(post[LABEL], word) if self.keys[i].label_core == word)
        for kind, key in lookups:
            found.update(_posted(post[kind], key))
        if found:
            # A key already found the account. Claims that only share a word of its name could
            # add a misspelt name at most; exact names were looked up above.
            return found
        return self._by_word(q)

    def _by_word(self, q: Keys) -> set[str]:
        """Claims sharing one of the record's three rarest words (or a misspelling of one)."""
        limit = max(100, len(self.keys) // 200)  # words in more than ~0.5% of names carry no signal
        vocabulary = self._post[TOKEN]
        shared: list[Ids] = []
        for token in dict.fromkeys(q.tokens):  # in the name's order: ties below break alike every run
            if token in STOPWORDS:
                continue
            ids = vocabulary.get(token)
            if ids is not None:
                shared.append(ids)
            elif len(token) >= TYPO_MIN_LEN and not (q.domain or q.linkedin or q.duns):
                # Only a record with no key of its own hunts for misspelt names: with a domain,
                # a claim found by a misspelt name alone could not reach `possible` anyway
                # unless it has no domain itself (rare, and the exact name still finds it).
                shared.extend(vocabulary[v] for v in sorted(self._typo_neighbours(token)))
        found: set[str] = set()
        for ids in sorted(shared, key=lambda ids: 1 if isinstance(ids, str) else len(ids))[:3]:
            if isinstance(ids, str):
                found.add(ids)
            elif len(ids) <= limit:
                found.update(ids)
        if len(found) > NAME_PREFILTER_FROM and q.compact:
            claim_ids = list(found)
            near = process.extract(q.compact, [self.keys[i].compact for i in claim_ids], scorer=fuzz.ratio,
                                   score_cutoff=NAME_PREFILTER_CUTOFF, limit=None)
            found = {claim_ids[index] for _, _, index in near}
        return found

    def lookup(self, q: Keys) -> list[Hit]:
        """Every claim the record may be, best first; only `match` and `possible` levels."""
        aliased = self.alias_targets(q)
        common = self.common_name(q)
        hits = [hit for claim_id in self.candidates(q)
                if (hit := score(q, claim_id, self.keys[claim_id], alias=claim_id in aliased, common_name=common,
                                 divisions=self.divisions))]
        return sorted(hits, key=lambda h: (-h.score, h.claim_id))

    def common_name(self, q: Keys) -> bool:
        """Whether every word of the record's name is common in this registry's own names: in more
        than COMMON_SHARE of them, and more than two ("Global Solutions", or "Phoenix" where many
        firms are called so). Such a name tells no company apart, whatever it spells."""
        words = [t for t in q.core_tokens if t not in STOPWORDS]
        if not words:
            return False
        limit = max(2, int(len(self.keys) * COMMON_SHARE))
        vocabulary = self._post[TOKEN]
        return all(not isinstance(ids := vocabulary.get(word, ""), str) and len(ids) > limit for word in words)


def _deletes(token: str) -> set[str]:
    return {token[:i] + token[i + 1:] for i in range(len(token))}
