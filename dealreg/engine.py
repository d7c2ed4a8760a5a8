"""The decision for one record: look up the claims on file that may be its account, run the
rules over those still active, and attribute the outcome (`Engine.decide`).

Pure: the clock (`as_of`), the claims, the rules and the partners are all passed in.
`Engine` keeps the claims indexed so that a server can keep one warm and `add` new
registrations as they arrive.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

from dealreg.attribution import attribution, primary
from dealreg.claims import Claim, age, named_claim, party_key, registration_claim
from dealreg.errors import InputError
from dealreg.index import AccountIndex
from dealreg.keys import Keys, keys_many, keys_of
from dealreg.models import (
    CLOSED_STATES,
    EXPIRED,
    Alias,
    Candidate,
    Decision,
    MatchLevel,
    NamedAccount,
    Quarantined,
    Record,
    Registration,
    Status,
    Territory,
    is_direct,
)
from dealreg.pairs import Pairs
from dealreg.qualify import CLOCK_SKEW, party_of, qualification_problems, rejected, timing_problems
from dealreg.registrations import displaced_row, registration_from
from dealreg.rules import Qualification, RuleSet
from dealreg.score import POSSIBLE_AT, Hit, confidence_of
from dealreg.settle import Overlap, settle
from dealreg.similarity import FUZZY_MID, name_similarity
from dealreg.wording import day, label, possessive

# Callers import these from here: the decision's helpers, wherever they live.
__all__ = ["CLOCK_SKEW", "Engine", "displaced_row", "party_key", "registration_from", "rejected"]

QUARANTINE_PREFIX = "?"  # index ids of quarantined rows: never a registration id (those are R-…)


class Engine:
    """Everything one decision reads: the rules, the indexed claims, the territories and
    the known partners."""

    def __init__(
        self,
        rules: RuleSet,
        registrations: Iterable[Registration] = (),
        named_accounts: Iterable[NamedAccount] = (),
        territories: Iterable[Territory] = (),
        partners: Iterable[str] = (),
        quarantined: Iterable[Quarantined] = (),
        aliases: Iterable[Alias] = (),
    ) -> None:
        self.rules = rules
        self.window = timedelta(days=rules.protection_days)
        self.index = AccountIndex(divisions=rules.divisions == "review")
        self.pairs = Pairs()  # what reviews taught: read from the resolved registrations themselves
        self._rows: dict[str, Registration] = {}
        self._named: dict[str, Claim] = {}
        self._quarantined: dict[str, Quarantined] = {}  # index id -> the row (claims only)
        self._unread_territories: list[Quarantined] = []
        self.quarantined: list[Quarantined] = []  # every row that could not be read, for /healthz
        self.territories = tuple(rules.territories) + tuple(territories)
        names = list(rules.partners) + list(partners)
        self.partners = {party_key(p): p.strip() for p in names if p.strip() and not is_direct(p)}
        for n, account in enumerate((*rules.named_accounts, *named_accounts), start=1):
            self._add_named(f"named-{n}", account)
        for alias in (*rules.aliases, *aliases):
            self.add_alias(alias)
        self._add_many(registrations)
        for row in quarantined:
            self.quarantine(row)

    @property
    def rules_hash(self) -> str:
        return self.rules.rules_hash

    def __len__(self) -> int:
        return len(self._rows)

    # -- building -------------------------------------------------------------------

    def add(self, reg: Registration) -> None:
        """Index a registration (a newer row with the same id replaces the old one). A rejected
        registration is a record for the partner manager, never a claim: it is not indexed."""
        if reg.state == "rejected":
            if reg.registration_id in self.index:
                self.index.remove(reg.registration_id)
            self._rows.pop(reg.registration_id, None)
            return
        self.index.add(reg.registration_id, _registration_keys(reg))
        self.pairs.learn(reg)
        self._rows[reg.registration_id] = reg  # turned into a Claim only when a lookup finds it

    def _add_many(self, registrations: Iterable[Registration]) -> None:
        """`add` each registration, indexing them all at once."""
        regs = [r for r in registrations if r.state != "rejected"]  # records, not claims (see `add`)
        try:
            keys = keys_many([_key_fields(r) for r in regs])
        except ValueError:
            for r in regs:
                _registration_keys(r)  # raises the InputError that names the registration
            raise
        ids = [r.registration_id for r in regs]
        self.index.add_many(zip(ids, keys))
        self._rows.update(zip(ids, regs))
        for r in regs:
            if r.reviewed_at:
                self.pairs.learn(r)

    def quarantine(self, row: Quarantined) -> None:
        """Keep a row that could not be read where a decision can see it: whatever keys can be
        read of it are indexed, and a record that shares any of them goes to review."""
        self.quarantined.append(row)
        if not row.claim:
            return  # a rejected or closed record: it claims nothing
        if row.table == "territories":
            self._unread_territories.append(row)
            return
        try:
            keys = keys_of(row.company_name, row.company_domain, row.contact_email, row.linkedin_url, row.duns,
                           row.country)
        except ValueError:  # the DUNS is what could not be read: match on the rest
            keys = keys_of(row.company_name, row.company_domain, row.contact_email, row.linkedin_url, "",
                           row.country)
        claim_id = f"{QUARANTINE_PREFIX}{len(self.quarantined)}"
        self._quarantined[claim_id] = row
        self.index.add(claim_id, keys)

    def add_alias(self, alias: Alias) -> None:
        """Another name of an account, from the alias table (the rules file's, or the store's)."""
        try:
            self.index.add_alias(keys_of(alias.alias), keys_of(alias.account_name, alias.account_domain))
        except ValueError as exc:  # not reachable today: an alias carries no DUNS
            raise InputError([(f"alias {alias.alias}", str(exc))]) from None

    def _add_named(self, claim_id: str, account: NamedAccount) -> None:
        try:
            keys = keys_of(account.company_name, account.company_domain, "", account.linkedin_url, account.duns)
        except ValueError as exc:
            raise InputError([(f"named account {account.company_name or account.company_domain}", str(exc))]) from None
        self.index.add(claim_id, keys)
        self._named[claim_id] = named_claim(claim_id, account)

    def registration_ids(self) -> frozenset[str]:
        """The ids of the registrations indexed as claims."""
        return frozenset(self._rows)

    def registration(self, registration_id: str) -> Registration:
        """The indexed registration with this id (KeyError if there is none)."""
        return self._rows[registration_id]

    def registrations(self) -> list[Registration]:
        """Every indexed registration (the claims: rejected ones are records, not indexed)."""
        return list(self._rows.values())

    def claim(self, claim_id: str) -> Claim:
        """The claim behind an indexed id (a registration, or a named account)."""
        if claim_id in self._named:
            return self._named[claim_id]
        return registration_claim(self._rows[claim_id], self.window)

    # -- deciding -------------------------------------------------------------------

    def keys(self, record: Record) -> Keys:
        try:
            return keys_of(record.company_name, record.company_domain, record.contact_email,
                           record.linkedin_url, record.duns, record.country)
        except ValueError as exc:
            raise InputError([("duns", str(exc))]) from None

    def decide(self, record: Record, as_of: datetime, *, registration_id: str = "") -> Decision:
        """Decide one record as of `as_of`. With `registration_id` the record is being
        registered: the decision carries that id and the new claim's protection end."""
        registering = bool(registration_id)
        party, problems = party_of(record, self.partners)
        if not problems:
            qualification = self.rules.first("qualification")
            problems = qualification_problems(
                record, qualification if isinstance(qualification, Qualification) else None, registering)
        if not problems and registering:
            problems = timing_problems(record, as_of, self.window)
        if problems:
            return rejected(problems, party=party, registration_id=registration_id)

        keys = self.keys(record)
        if not (keys.domain or keys.linkedin or keys.duns or keys.name):
            # e.g. only a gmail.com address: nothing to match on, and "clear" would be a guess
            return rejected(["nothing identifies the account (no company name, no company domain, LinkedIn page "
                             "or DUNS; a free-mail address is no company's)"], party=party,
                            registration_id=registration_id)
        hits = self.index.lookup(keys)
        if self.pairs:  # a pair a person confirmed matches; one they denied is never suggested again
            hits = self.pairs.apply(keys, hits, self.index.keys)
        # A claim is made no later than it arrives: a few minutes ahead (a fast clock) counts as now.
        submitted = min(record.submitted_at or as_of, as_of)
        unread = self._unread_hits(keys, hits)
        if unread:
            return self._unreadable(record, party, unread, registration_id, submitted)
        # What every decision below carries: for a registration, its id and protection end.
        common: dict[str, Any] = dict(party=party, registration_id=registration_id)
        if registering:
            common["expires_at"] = submitted + self.window
        if not hits:  # most records: nobody holds the account
            return Decision(Status.CLEAR, party, primary(party), "", "", MatchLevel.NONE, 0, (), "no_match",
                            f"No active registration matches {label(record)}; {party} owns it.", **common)

        active: list[tuple[Hit, Claim]] = []
        expired: list[tuple[Hit, Claim]] = []
        inactive: list[tuple[Hit, Claim]] = []
        for hit in hits:
            claim = self.claim(hit.claim_id)
            if claim.state in CLOSED_STATES or (claim.submitted_at is not None and claim.submitted_at > as_of):
                inactive.append((hit, claim))  # closed, or not yet made as of this date
            elif claim.state == EXPIRED or (claim.expires_at is not None and claim.expires_at <= as_of):
                expired.append((hit, claim))  # a claim the sweep marked expired, or one whose window ended
            else:
                active.append((hit, claim))
        # The expired claims that say whose the account was: the matches, else the possible ones
        # (SPEC: when every matching claim has expired, the most recent of them is named).
        expired_matches = ([(h, c) for h, c in expired if h.level is MatchLevel.MATCH]
                           or [(h, c) for h, c in expired if h.level is MatchLevel.POSSIBLE])
        common["candidates"] = tuple(_candidate(h, c) for h, c in (*active, *expired, *inactive))
        common["expired"] = tuple(c.claim_id for _, c in expired_matches)
        matches = [(h, c) for h, c in active if h.level is MatchLevel.MATCH]
        considered = matches or [(h, c) for h, c in active if h.level is MatchLevel.POSSIBLE]
        if not matches and considered and expired_matches and expired_matches[0][0].level is MatchLevel.MATCH \
                and expired_matches[0][0].score > considered[0][0].score:
            # An expired claim matched on stronger evidence (its domain: Nokian Tyres at nokiantyres.com)
            # than any active claim (Nokia, by a name alone): the record is the expired claim's account.
            considered = []
        if not considered:
            return self._expired_or_clear(record, party, expired_matches, common)

        overlap = Overlap(record, party, submitted, registration_id, tuple(c for _, c in considered), label(record),
                          self.territories, tuple(self._unread_territories))
        outcome = settle(self.rules.rules, overlap)
        parties = {party_key(c.party): c.party for _, c in considered}
        parties[party_key(party)] = party
        attributed_primary, attributed_secondary = attribution(outcome.winner, parties.values())
        decider = outcome.decider
        top_hit, top_claim = considered[0]
        decided_hit = next((h for h, c in considered if decider is not None and c.claim_id == decider.claim_id), top_hit)
        if not matches:
            status = Status.NEEDS_REVIEW
            shape = ("a product or division of" if "division" in top_hit.evidence  # or a company of that shape
                     else "the same account as")
            reason = (f"{overlap.label} may be {shape} {top_claim.name} ({top_claim.claim_id}, "
                      f"held by {top_claim.party}; evidence {';'.join(top_hit.evidence) or 'none'}); a person "
                      f"should confirm. If it is: {outcome.reason}")
        elif outcome.rule == "same_party":
            status, reason = Status.DUPLICATE, outcome.reason
        elif outcome.rule in ("unsettled", "quarantine"):
            status, reason = Status.NEEDS_REVIEW, outcome.reason
        else:
            status, reason = Status.CONFLICT, outcome.reason
        if registering and matches and outcome.winner:
            # Registrations on file that recorded another owner now record this one (a claim
            # submitted earlier but delivered late, a territory partner arriving second …).
            common["displaced"] = tuple(c.claim_id for _, c in matches if not c.named
                                        and party_key(c.owner or c.party) != party_key(outcome.winner))
        return Decision(status, outcome.winner, attributed_primary, attributed_secondary,
                        decider.claim_id if decider is not None else top_claim.claim_id, decided_hit.level,
                        decided_hit.confidence, decided_hit.evidence, outcome.rule, reason, **common)

    def _expired_or_clear(self, record: Record, party: str, expired_matches: list[tuple[Hit, Claim]],
                          common: dict[str, Any]) -> Decision:
        """No active claim is on the account: the incoming party owns it, by the `expiry` rule
        when a matching claim has expired (the most recent one is named)."""
        if expired_matches and self.rules.first("expiry") is not None:
            hit, claim = max(expired_matches, key=lambda hc: age(hc[1]))
            if hit.level is MatchLevel.MATCH:
                reason = (f"{possessive(claim.party)} registration {claim.claim_id} for {label(record)} expired on "
                          f"{day(claim.expires_at)}; {party} owns it now.")
            else:
                reason = (f"{label(record)} may be the account of {possessive(claim.party)} registration "
                          f"{claim.claim_id} ({claim.name}), which expired on {day(claim.expires_at)}; {party} owns "
                          f"it now.")
            return Decision(Status.CLEAR, party, primary(party), "", claim.claim_id, hit.level, hit.confidence,
                            hit.evidence, "expiry", reason, **common)
        if expired_matches:
            reason = f"The only registrations matching {label(record)} have expired; {party} owns it."
        else:
            reason = f"No active registration matches {label(record)}; {party} owns it."
        # `match` is none, so the confidence is 0: the closed or expired claims it found
        # decided nothing (they are listed in the event's candidates).
        return Decision(Status.CLEAR, party, primary(party), "", "", MatchLevel.NONE, 0, (), "no_match", reason,
                        **common)

    def _unread_hits(self, keys: Keys, hits: list[Hit]) -> list[Hit]:
        """The quarantined rows a record could be the account of: those the matcher scores, and
        any other that shares a readable key or name with it (a row we cannot read is given the
        benefit of the doubt: "Miro" could be its "Miro Software")."""
        if not self._quarantined:
            return []
        unread = [h for h in hits if h.claim_id in self._quarantined]
        scored = {h.claim_id for h in unread}
        for claim_id in sorted(self.index.candidates(keys) & self._quarantined.keys() - scored):
            evidence = _shared(keys, self.index.keys[claim_id])
            if evidence:
                unread.append(Hit(claim_id, MatchLevel.POSSIBLE, POSSIBLE_AT, confidence_of(POSSIBLE_AT), evidence))
        return unread

    def _unreadable(self, record: Record, party: str, unread: list[Hit], registration_id: str,
                    submitted: datetime) -> Decision:
        """The record may be the account of a stored row that cannot be read: a person decides,
        once the row is fixed. Never `clear`, since that row may be an earlier claim."""
        hit = max(unread, key=lambda h: h.score)
        rows = [self._quarantined[h.claim_id] for h in unread]
        fixes = " ".join(f"{r.describe()}." for r in rows)
        held = ", ".join(sorted({f"{r.party or 'an unknown party'} ({r.where})" for r in rows}))
        reason = (f"{label(record)} may be the same account as a row dealreg cannot read, held by {held}; a person "
                  f"should decide once the row is fixed. Fix: {fixes}")
        extra: dict[str, Any] = {}
        if registration_id:
            extra = dict(registration_id=registration_id, expires_at=submitted + self.window)
        return Decision(Status.NEEDS_REVIEW, "", "", "", rows[0].registration_id, hit.level, hit.confidence,
                        hit.evidence, "quarantine", reason, reasons=tuple(r.describe() for r in rows), party=party,
                        **extra)


def _shared(q: Keys, c: Keys) -> tuple[str, ...]:
    """What a record shares with a row: a strong key, the same name, or a name whose words are all
    in the other's."""
    evidence = [name for name, a, b in (("domain", q.domain, c.domain), ("linkedin", q.linkedin, c.linkedin),
                                        ("duns", q.duns, c.duns)) if a and a == b]
    if q.core_tokens and c.core_tokens:
        mine, theirs = set(q.core_tokens), set(c.core_tokens)
        similarity = name_similarity(q, c)
        if similarity >= FUZZY_MID or mine <= theirs or theirs <= mine:
            evidence.append(f"name:{similarity}")
    return tuple(evidence)


_key_fields = attrgetter("company_name", "company_domain", "contact_email", "linkedin_url", "duns", "country")
"""A registration's fields that `keys_of` reads, in its order."""


def _registration_keys(reg: Registration) -> Keys:
    try:
        return keys_of(*_key_fields(reg))
    except ValueError as exc:
        raise InputError([(f"registration {reg.registration_id}", str(exc))]) from None


def _candidate(hit: Hit, claim: Claim) -> Candidate:
    return Candidate(registration_id=claim.claim_id, party=claim.party, level=hit.level, confidence=hit.confidence,
                     evidence=hit.evidence, submitted_at=claim.submitted_at, expires_at=claim.expires_at,
                     active=claim.state not in CLOSED_STATES, state=claim.state, named=claim.named)
