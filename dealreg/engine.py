"""The decision: match a record against the claims on file, run the rules, attribute.

Pure: the clock (`as_of`), the claims, the rules and the partners are all passed in.
`Engine` keeps the claims indexed so that a server can keep one warm and `add` new
registrations as they arrive; `decide` is then a few dictionary lookups and a handful
of string comparisons.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from functools import lru_cache
from operator import attrgetter
from typing import Any, Final, NamedTuple
from datetime import datetime, timedelta

from dealreg.errors import InputError
from dealreg.match import (
    FUZZY_MID,
    POSSIBLE_AT,
    AccountIndex,
    Hit,
    Keys,
    confidence_of,
    keys_many,
    keys_of,
    name_similarity,
)
from dealreg.models import (
    CLOSED_STATES,
    DIRECT,
    Attribution,
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
from dealreg.normalise import email_domain, is_free_mail, registered_domain
from dealreg.rules import (
    SETTLING_KINDS,
    DirectAboveDealSize,
    Qualification,
    RuleSet,
)

CLAIM_CACHE = 50_000  # registrations whose Claim a warm engine keeps (a few MB)
CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of the server's clock a `submitted_at` may be (a sender's clock running fast);
a claim dated later is refused, since "not yet made" would let a second partner in beside it."""
QUARANTINE_PREFIX = "?"  # index ids of quarantined rows: never a registration id (those are R-…)

# Enum members looked up once: naming `Status.CLEAR` goes through the enum machinery
# (~0.2 µs on CPython 3.11) every time, and a decision names several.
CLEAR, DUPLICATE, CONFLICT, NEEDS_REVIEW, REJECTED = (
    Status.CLEAR, Status.DUPLICATE, Status.CONFLICT, Status.NEEDS_REVIEW, Status.REJECTED)
MATCH, POSSIBLE, NONE = MatchLevel.MATCH, MatchLevel.POSSIBLE, MatchLevel.NONE

@contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while building a large index, then move what was
    built out of its sight (`gc.freeze`). The index is millions of small acyclic objects:
    without this, the collector rescans them all during the build (twice as slow) and again
    in every full collection later (a 100+ ms pause in the middle of some decision).
    Frozen objects are still freed by reference counting when the index is dropped."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if was_enabled:
            gc.enable()


@lru_cache(maxsize=1024)  # a handful of parties, compared many times in every decision
def party_key(party: str) -> str:
    """Parties compare case- and space-insensitively ("Northwind  partners" = "Northwind Partners")."""
    return " ".join(party.casefold().split())


class Claim(NamedTuple):
    """A claim as the rules see it: a registration or a named-account entry."""

    claim_id: str
    party: str
    owner: str  # who owned the account after this claim's own decision ("" if unknown)
    submitted_at: datetime | None  # None: a named account, a standing claim older than any registration
    expires_at: datetime | None
    state: str
    named: bool
    name: str
    country: str = ""
    region: str = ""
    industry: str = ""
    employees: int | None = None
    deal_value: float | None = None
    currency: str = ""


class _Outcome(NamedTuple):
    rule: str
    winner: str
    decider: Claim | None  # the claim whose claim decided (None: the incoming record)
    reason: str


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
    ) -> None:
        self.rules = rules
        self._rule = {rule.kind: rule for rule in rules.rules}
        self.window = timedelta(days=rules.protection_days)
        self.index = AccountIndex()
        self._rows: dict[str, Registration] = {}
        self._claims: dict[str, Claim] = {}  # the claims of registrations lookups found (see `claim`)
        self._named: dict[str, Claim] = {}
        self._quarantined: dict[str, Quarantined] = {}  # index id -> the row (claims only)
        self._unread_territories: list[Quarantined] = []
        self.quarantined: list[Quarantined] = []  # every row that could not be read, for /healthz
        self.territories = tuple(rules.territories) + tuple(territories)
        names = list(rules.partners) + list(partners)
        self.partners = {party_key(p): p.strip() for p in names if p.strip() and not is_direct(p)}
        with paused_gc():
            for n, account in enumerate((*rules.named_accounts, *named_accounts), start=1):
                self._add_named(f"named-{n}", account)
            self._add_many(registrations)
            for row in quarantined:
                self.quarantine(row)
        # The rules that can settle an overlap, in file order; a territory or named-account
        # rule with no territory or named account to apply is left out of every decision.
        self._settling = tuple(rule for rule in rules.rules if self._can_settle(rule.kind))

    def _can_settle(self, kind: str) -> bool:
        if kind == "partner_territory":
            return bool(self.territories or self._unread_territories)
        if kind == "named_accounts":
            return bool(self._named)
        return kind == "same_party" or kind in SETTLING_KINDS

    @property
    def rules_hash(self) -> str:
        return self.rules.rules_hash

    def __len__(self) -> int:
        return len(self._rows)

    # -- building -------------------------------------------------------------------

    def add(self, reg: Registration) -> None:
        """Index a registration (a newer row with the same id replaces the old one). A rejected
        registration is a record for the partner manager, never a claim: it is not indexed."""
        self._claims.pop(reg.registration_id, None)
        if reg.state == "rejected":
            if reg.registration_id in self.index:
                self.index.remove(reg.registration_id)
            self._rows.pop(reg.registration_id, None)
            return
        self.index.add(reg.registration_id, _registration_keys(reg))
        self._rows[reg.registration_id] = reg  # turned into a Claim only when a lookup finds it

    def quarantine(self, row: Quarantined) -> None:
        """Keep a row that could not be read where a decision can see it: whatever keys can be
        read of it are indexed, and a record that shares any of them goes to review."""
        self.quarantined.append(row)
        if not row.claim:
            return  # a rejected or closed record: it claims nothing
        if row.table == "territories":
            self._unread_territories.append(row)
            self._settling = tuple(rule for rule in self.rules.rules if self._can_settle(rule.kind))
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

    def _add_many(self, registrations: Iterable[Registration]) -> None:
        """`add` each registration, indexing them all at once."""
        regs = [r for r in registrations if r.state != "rejected"]  # records, not claims (see `add`)
        ids = [r.registration_id for r in regs]
        try:
            # Every registration's keys, then their postings: two passes, each with its own
            # tables hot in the CPU's caches (one pass over both was 10-15% slower).
            self.index.add_many(zip(ids, keys_many(list(map(_KEYED_FIELDS, regs)))))
        except ValueError:
            for r in regs:
                _registration_keys(r)  # raises the InputError that names the registration
            raise
        self._rows.update(zip(ids, regs))
        self._claims.clear()

    def registration_ids(self) -> frozenset[str]:
        """The ids of the registrations indexed as claims."""
        return frozenset(self._rows)

    def registration(self, registration_id: str) -> Registration:
        """The indexed registration with this id (KeyError if there is none)."""
        return self._rows[registration_id]

    def claim(self, claim_id: str) -> Claim:
        """The claim behind an indexed id (a registration, or a named account)."""
        claim = self._claims.get(claim_id) or self._named.get(claim_id)
        if claim is not None:
            return claim
        reg = self._rows[claim_id]
        # Kept, as accounts that were looked up once tend to be looked up again (a name shared
        # by several registrations comes back with each); a bounded cache, cleared when full.
        if len(self._claims) >= CLAIM_CACHE:
            self._claims.clear()
        # Claim(…) with the fields in order, without keywords: several times faster.
        claim = self._claims[claim_id] = tuple.__new__(Claim, (
            reg.registration_id,
            reg.party,
            reg.owner.strip(),
            reg.submitted_at,
            reg.expires_at or reg.submitted_at + self.window,
            reg.state.strip().casefold() or "open",
            False,  # named
            reg.company_name or reg.company_domain,
            reg.country,
            reg.region,
            reg.industry,
            reg.employees,
            reg.deal_value,
            reg.currency,
        ))
        return claim

    def _add_named(self, claim_id: str, account: NamedAccount) -> None:
        try:
            keys = keys_of(account.company_name, account.company_domain, "", account.linkedin_url, account.duns)
        except ValueError as exc:
            raise InputError([(f"named account {account.company_name or account.company_domain}", str(exc))]) from None
        self.index.add(claim_id, keys)
        self._named[claim_id] = Claim(
            claim_id=claim_id, party=account.owner.strip() or DIRECT, owner=account.owner.strip() or DIRECT,
            submitted_at=None, expires_at=None, state="open", named=True,
            name=account.company_name or account.company_domain,
        )

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
        party, problems = self._party(record)
        if not problems:
            problems = self._qualification(record, registering)
        if not problems and registering:
            problems = self._timing(record, as_of)
        if problems:
            return rejected(problems, party=party, registration_id=registration_id)

        keys = self.keys(record)
        if not (keys.domain or keys.linkedin or keys.duns or keys.name.key):
            # e.g. only a gmail.com address: nothing to match on, and "clear" would be a guess
            return rejected(["nothing identifies the account (no company name, no company domain, LinkedIn page "
                             "or DUNS; a free-mail address is no company's)"], party=party,
                            registration_id=registration_id)
        hits = self.index.lookup(keys)
        # A claim is made no later than it arrives: a few minutes ahead (a fast clock) counts as now.
        submitted = min(record.submitted_at or as_of, as_of)
        if self._quarantined:
            unread = self._unread_hits(keys, hits)
            if unread:
                return self._unreadable(record, party, unread, registration_id, submitted)
        if not hits:  # most records: nobody holds the account
            return Decision(CLEAR, party, _primary(party), "", "", NONE, 0, (), "no_match",
                            f"No active registration matches {_label(record)}; {party} owns it.", party=party,
                            registration_id=registration_id,
                            expires_at=submitted + self.window if registering else None)
        active: list[tuple[Hit, Claim]] = []
        expired: list[tuple[Hit, Claim]] = []
        inactive: list[tuple[Hit, Claim]] = []
        for hit in hits:
            claim = self.claim(hit.claim_id)
            if claim.state in CLOSED_STATES or (claim.submitted_at is not None and claim.submitted_at > as_of):
                inactive.append((hit, claim))  # closed, or not yet made as of this date
            elif claim.expires_at is not None and claim.expires_at <= as_of:
                expired.append((hit, claim))
            else:
                active.append((hit, claim))
        candidates = tuple([_candidate(h, c) for h, c in (*active, *expired, *inactive)])
        expired_ids = tuple(c.claim_id for h, c in expired if h.level is MATCH)
        matches = [(h, c) for h, c in active if h.level is MATCH]
        possibles = [(h, c) for h, c in active if h.level is POSSIBLE]
        label = _label(record)

        common: dict[str, Any] = dict(candidates=candidates, expired=expired_ids, party=party)
        if registering:
            common.update(registration_id=registration_id, expires_at=submitted + self.window)

        if not matches and not possibles:
            best = max(hits, key=lambda h: h.score, default=None)
            expired_matches = [(h, c) for h, c in expired if h.level is MATCH]
            if expired_matches and self._rule.get("expiry") is not None:
                hit, claim = max(expired_matches, key=lambda hc: _age(hc[1]))  # the most recent one
                reason = (f"{_possessive(claim.party)} registration {claim.claim_id} for {label} expired on "
                          f"{_day(claim.expires_at)}; {party} owns it now.")
                return Decision(CLEAR, party, _primary(party), "", claim.claim_id, hit.level, hit.confidence,
                                hit.evidence, "expiry", reason, **common)
            reason = f"No active registration matches {label}; {party} owns it."
            if best is not None and expired_matches:
                reason = f"The only registrations matching {label} have expired; {party} owns it."
            # `match` is none, so the confidence is 0: the closed or expired claims it found
            # decided nothing (they are listed in the event's candidates).
            return Decision(CLEAR, party, _primary(party), "", "", NONE, 0, (), "no_match", reason, **common)

        considered = matches or possibles
        top_hit = considered[0][0]
        outcome = self._settle(record, party, submitted, registration_id, [c for _, c in considered], label)
        others = {party_key(c.party): c.party for _, c in considered}
        others[party_key(party)] = party
        primary, secondary = _attribution(outcome.winner, others.values())
        decider = outcome.decider
        decided_hit = next((h for h, c in considered if decider is not None and c.claim_id == decider.claim_id), top_hit)
        matched_id = decider.claim_id if decider is not None else considered[0][1].claim_id

        if not matches:
            status = NEEDS_REVIEW
            reason = (f"{label} may be the same account as {considered[0][1].name} ({considered[0][1].claim_id}, "
                      f"held by {considered[0][1].party}; evidence {';'.join(top_hit.evidence) or 'none'}); a person "
                      f"should confirm. If it is: {outcome.reason}")
        elif outcome.rule == "same_party":
            status = DUPLICATE
            reason = outcome.reason
        elif outcome.rule in ("unsettled", "quarantine"):
            status = NEEDS_REVIEW
            reason = outcome.reason
        else:
            status = CONFLICT
            reason = outcome.reason
        if registering and matches and outcome.winner:
            # Registrations on file that recorded another owner now record this one (a claim
            # submitted earlier but delivered late, a territory partner arriving second …).
            common["displaced"] = tuple(c.claim_id for _, c in matches if not c.named
                                        and party_key(c.owner or c.party) != party_key(outcome.winner))
        return Decision(status, outcome.winner, primary, secondary, matched_id, decided_hit.level,
                        decided_hit.confidence, decided_hit.evidence, outcome.rule, reason, **common)

    def _timing(self, record: Record, as_of: datetime) -> list[str]:
        """A registration dated in the future, or whose protection window ended before it arrived."""
        made = record.submitted_at
        if made is None:
            return []
        if made > as_of + CLOCK_SKEW:
            return [f"submitted_at {made.isoformat()} is in the future (more than {CLOCK_SKEW.seconds // 60} "
                    f"minutes ahead of {as_of.isoformat(timespec='seconds')}); send the time the deal was "
                    f"registered"]
        if made + self.window <= as_of:
            return [f"submitted_at {_day(made)} is so long ago that its {self.window.days}-day protection window "
                    f"ended on {_day(made + self.window)}, before the registration arrived; register the deal "
                    f"again with today's date if it is still open"]
        return []

    def _unread_hits(self, keys: Keys, hits: list[Hit]) -> list[Hit]:
        """The quarantined rows a record could be the account of: those the matcher scores, and
        any other that shares a readable key or name with it (a row we cannot read is given the
        benefit of the doubt: "Miro" could be its "Miro Software")."""
        unread = [h for h in hits if h.claim_id in self._quarantined]
        scored = {h.claim_id for h in unread}
        for claim_id in sorted(self.index.candidates(keys) & self._quarantined.keys() - scored):
            evidence = _shared(keys, self.index.keys[claim_id])
            if evidence:
                unread.append(Hit(claim_id, POSSIBLE, POSSIBLE_AT, confidence_of(POSSIBLE_AT), evidence))
        return unread

    def _unreadable(self, record: Record, party: str, unread: list[Hit], registration_id: str,
                    submitted: datetime) -> Decision:
        """The record may be the account of a stored row that cannot be read: a person decides,
        once the row is fixed. Never `clear`, since that row may be an earlier claim."""
        hit = max(unread, key=lambda h: h.score)
        rows = [self._quarantined[h.claim_id] for h in unread]
        label = _label(record)
        fixes = " ".join(f"{r.describe()}." for r in rows)
        held = ", ".join(sorted({f"{r.party or 'an unknown party'} ({r.where})" for r in rows}))
        reason = (f"{label} may be the same account as a row dealreg cannot read, held by {held}; a person "
                  f"should decide once the row is fixed. Fix: {fixes}")
        extra: dict[str, Any] = {}
        if registration_id:
            extra = dict(registration_id=registration_id, expires_at=submitted + self.window)
        return Decision(NEEDS_REVIEW, "", "", "", rows[0].registration_id, hit.level, hit.confidence,
                        hit.evidence, "quarantine", reason, reasons=tuple(r.describe() for r in rows), party=party,
                        **extra)

    def _party(self, record: Record) -> tuple[str, list[str]]:
        """The claiming party, spelt as the Partners list spells it; unknown partners are refused."""
        party = " ".join(record.party.split())
        if is_direct(party):
            return DIRECT, []
        if not self.partners:
            return party, []
        known = self.partners.get(party_key(party))
        if known is None:
            names = ", ".join(sorted(self.partners.values(), key=str.casefold))
            return party, [f"unknown partner {party!r}; the known partners are: {names}"]
        return known, []

    def _qualification(self, record: Record, registering: bool) -> list[str]:
        problems: list[str] = []
        if not (record.company_name.strip() or record.company_domain.strip() or record.linkedin_url.strip()
                or record.duns.strip() or record.contact_email.strip()):
            return ["no company name, website, email, LinkedIn page or DUNS to identify the account"]
        website = registered_domain(record.company_domain) if record.company_domain.strip() else None
        if record.company_domain.strip() and website is None:
            problems.append(f"the website {record.company_domain.strip()!r} is not a usable domain")
        rule = self._rule.get("qualification")
        if not isinstance(rule, Qualification):
            return problems
        mail = email_domain(record.contact_email) if record.contact_email.strip() else None
        if record.contact_email.strip() and mail is None:
            problems.append(f"the contact email {record.contact_email.strip()!r} is not an email address")
        if registering or rule.apply_to_checks:
            if rule.reject_free_mail_without_website and mail and is_free_mail(mail) and website is None:
                problems.append(f"the contact email is on a free-mail domain ({mail}) and no company website was given")
            for field in rule.require:
                value = getattr(record, field if field != "partner" else "partner")
                if value is None or (isinstance(value, str) and not value.strip()):
                    problems.append(f"{field} is required")
            if rule.min_deal_value is not None and record.deal_value is not None and record.deal_value < rule.min_deal_value:
                problems.append(f"the deal value {record.deal_value:,.0f} is under the minimum of {rule.min_deal_value:,.0f}")
        return problems


    def _settle(self, record: Record, party: str, submitted: datetime, registration_id: str,
                claims: list[Claim], label: str) -> _Outcome:
        """Run the rules in file order over the overlapping claims; the first that applies decides."""
        me = party_key(party)
        for rule in self._settling:
            kind = rule.kind
            if kind == "same_party":
                own = [c for c in claims if party_key(c.party) == me]
                if own:
                    c = min(own, key=_age)
                    owner = c.owner or c.party
                    since = "" if c.named else f", registered {_day(c.submitted_at)}, protected until {_day(c.expires_at)}"
                    what = "holds the named account" if c.named else "already holds an active registration for"
                    return _Outcome("same_party", owner, c, f"{party} {what} {label} ({c.claim_id}{since}).")
            # The rule kinds by name (each kind is one rule class): cheaper than isinstance
            # on pydantic models, and this runs for every overlap.
            elif kind == "named_accounts":
                named = [c for c in claims if c.named]
                if named:
                    c = min(named, key=lambda c: c.claim_id)
                    return _Outcome("named_accounts", c.owner, c, f"{label} is a named account of {c.owner}.")
            elif kind == "partner_territory":
                outcome = self._territory(record, party, claims, label)
                if outcome is not None:
                    return outcome
            elif kind == "direct_above_deal_size":
                outcome = _deal_size(rule, record, party, claims, label)  # type: ignore[arg-type]
                if outcome is not None:
                    return outcome
            elif kind == "first_to_register":
                mine = (submitted, registration_id or "~")
                first = min(claims, key=_age)
                if _age(first) <= mine:
                    return _Outcome("first_to_register", first.owner if first.named else first.party, first,
                                    f"{first.party} registered {label} first ({first.claim_id}, {_day(first.submitted_at)}, "
                                    f"protected until {_day(first.expires_at)}); {party} came later."
                                    if not first.named else f"{label} is a named account of {first.party}.")
                return _Outcome("first_to_register", party, None,
                                f"{party} registered {label} first ({_day(submitted)}); "
                                f"{', '.join(sorted({c.party for c in claims}))} registered later.")
        holders = ", ".join(sorted({f"{c.party} ({c.claim_id})" for c in claims}))
        return _Outcome("unsettled", "", None,
                        f"{label} overlaps with {holders} and no rule in the rules file settles it; a person should decide.")

    def _territory(self, record: Record, party: str, claims: list[Claim], label: str) -> _Outcome | None:
        parties = {party_key(c.party): c.party for c in claims}
        parties[party_key(party)] = party
        unread = [t for t in self._unread_territories if not t.party or party_key(t.party) in parties]
        if unread:  # a territory of one of these parties cannot be read: it might have decided
            fixes = " ".join(f"{t.describe()}." for t in unread)
            return _Outcome("quarantine", "", None, f"{label} overlaps with another claim, and a territory row of "
                                                    f"a party involved cannot be read; a person should decide "
                                                    f"once it is fixed. Fix: {fixes}")
        if not self.territories:
            return None
        where = _where(record, claims)
        designated = sorted({t.partner for t in self.territories
                             if party_key(t.partner) in parties and _in_territory(t, *where)}, key=party_key)
        winners = {party_key(p) for p in designated}
        if len(winners) != 1:
            return None  # nobody, or several designated partners: the next rule decides
        winner = parties[next(iter(winners))]
        decider = next((c for c in sorted(claims, key=_age) if party_key(c.party) == party_key(winner)), None)
        country, region, industry, _ = where
        place = ", ".join(v for v in (country, region, industry) if v) or "its size band"
        return _Outcome("partner_territory", winner, decider, f"{label} is in {_possessive(winner)} territory ({place}).")


# The fields `keys_of` takes, in its order, read in C.
_KEYED_FIELDS: Final = attrgetter("company_name", "company_domain", "contact_email", "linkedin_url", "duns", "country")


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


def _registration_keys(reg: Registration) -> Keys:
    try:
        return keys_of(reg.company_name, reg.company_domain, reg.contact_email, reg.linkedin_url, reg.duns, reg.country)
    except ValueError as exc:
        raise InputError([(f"registration {reg.registration_id}", str(exc))]) from None


def rejected(problems: Iterable[str], *, party: str = "", registration_id: str = "") -> Decision:
    """The decision for a record that cannot be used; `reason` lists every problem."""
    problems = tuple(p.rstrip(". ") for p in problems)
    reason = "Rejected: " + "; ".join(problems) + "."
    return Decision(REJECTED, "", "", "", "", NONE, 0, (), "qualification", reason,
                    registration_id=registration_id, reasons=problems, party=party)


def _deal_size(rule: DirectAboveDealSize, record: Record, party: str, claims: list[Claim], label: str) -> _Outcome | None:
    direct = [c for c in claims if is_direct(c.party)]
    if not (direct or is_direct(party)):
        return None
    want = rule.currency.strip().upper()
    value: float | None = None  # the largest deal on the account
    for amount, currency in [(record.deal_value, record.currency), *[(c.deal_value, c.currency) for c in claims]]:
        if amount is None:
            continue
        if want and currency and (other := currency.strip().upper()) and other != want:
            return _Outcome("unsettled", "", None,
                            f"The deal for {label} is in {other}, which cannot be compared with the "
                            f"{rule.threshold:,.0f} {want} threshold; a person should decide.")
        if value is None or amount > value:
            value = amount
    if value is None or value < rule.threshold:
        return None
    unit = f" {want}" if want else ""
    return _Outcome("direct_above_deal_size", DIRECT, min(direct, key=_age) if direct else None,
                    f"The deal for {label} ({value:,.0f}{unit}) is at or above the {rule.threshold:,.0f}{unit} "
                    f"threshold, so the direct team owns it.")


_EPOCH = datetime.fromisoformat("0001-01-01T00:00:00+00:00")


def _age(claim: Claim) -> tuple[datetime, str]:
    """Sort key for first-to-register: named accounts (standing claims) first, then the
    earliest `submitted_at`, then the registration id, so every writer orders alike."""
    return (claim.submitted_at or _EPOCH, claim.claim_id)


def _where(record: Record, claims: list[Claim]) -> tuple[str, str, str, int | None]:
    """The account's territory attributes: the record's, else the earliest claim's that has them."""
    ordered = sorted((c for c in claims if not c.named), key=_age)
    country = record.country or next((c.country for c in ordered if c.country), "")
    region = record.region or next((c.region for c in ordered if c.region), "")
    industry = record.industry or next((c.industry for c in ordered if c.industry), "")
    employees = record.employees if record.employees is not None else next(
        (c.employees for c in ordered if c.employees is not None), None)
    return country, region, industry, employees


def _in_territory(t: Territory, country: str, region: str, industry: str, employees: int | None) -> bool:
    def one_of(value: str, allowed: frozenset[str]) -> bool:
        return not allowed or value.strip().casefold() in {a.casefold() for a in allowed}

    if not (t.countries or t.regions or t.industries or t.min_employees is not None or t.max_employees is not None):
        return False  # a territory with no criteria designates nothing
    if not (one_of(country, t.countries) and one_of(region, t.regions) and one_of(industry, t.industries)):
        return False
    if t.min_employees is not None or t.max_employees is not None:
        if employees is None:
            return False
        if t.min_employees is not None and employees < t.min_employees:
            return False
        if t.max_employees is not None and employees > t.max_employees:
            return False
    return True


_SOURCED: Final = Attribution.PARTNER_SOURCED.value
_INFLUENCED: Final = Attribution.PARTNER_INFLUENCED.value
_DIRECT: Final = Attribution.DIRECT.value


def _primary(owner: str) -> str:
    return _DIRECT if is_direct(owner) else _SOURCED


def _attribution(owner: str, parties: Iterable[str]) -> tuple[str, str]:
    """Primary to whoever's claim won; secondary records the other party's influence."""
    if not owner:
        return "", ""
    me = party_key(owner)
    others = [p for p in parties if party_key(p) != me]
    if is_direct(owner):
        return _DIRECT, _INFLUENCED if others else ""
    if any(is_direct(p) for p in others):
        return _SOURCED, _DIRECT
    return _SOURCED, _INFLUENCED if others else ""


def _candidate(hit: Hit, claim: Claim) -> Candidate:
    # Positional, in Candidate's field order (keywords cost more, for every candidate)
    return Candidate(claim.claim_id, claim.party, hit.level, hit.confidence, hit.evidence, claim.submitted_at,
                     claim.expires_at, claim.state not in CLOSED_STATES, claim.state, claim.named)


def _label(record: Record) -> str:
    name = record.company_name.strip()
    domain = registered_domain(record.company_domain) if record.company_domain.strip() else None
    if name and domain:
        return f"{name} ({domain})"
    return name or domain or record.company_domain.strip() or record.linkedin_url.strip() or record.duns.strip() or "this account"


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") else f"{name}'s"


def _day(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment else "?"


def registration_from(record: Record, decision: Decision, *, submitted_at: datetime) -> Registration:
    """The row to store for a record that was registered (rejected ones included, as `rejected`)."""
    if not decision.registration_id:
        raise ValueError("the decision did not register the record (no registration_id)")
    rejected = decision.status is REJECTED
    made = record.submitted_at
    return Registration(
        registration_id=decision.registration_id,
        # no later than it arrived (see CLOCK_SKEW): a claim dated ahead must block the next one now
        submitted_at=made if made is not None and made <= submitted_at else submitted_at,
        partner=decision.party or record.party,
        source=record.source,
        company_name=record.company_name,
        company_domain=record.company_domain,
        linkedin_url=record.linkedin_url,
        duns=record.duns,
        country=record.country,
        region=record.region,
        industry=record.industry,
        employees=record.employees,
        contact_name=record.contact_name,
        contact_email=record.contact_email,
        deal_value=record.deal_value,
        currency=record.currency,
        state="rejected" if rejected else "open",
        expires_at=None if rejected else decision.expires_at,
        owner=decision.owner,
        status=decision.status.value,
        attribution_primary=decision.attribution_primary,
        attribution_secondary=decision.attribution_secondary,
        matched_registration_id=decision.matched_registration_id,
        rule=decision.rule,
        reason=decision.reason,
        external_id=record.external_id,
    )


def displaced_row(reg: Registration, decision: Decision) -> Registration:
    """A registration on file, rewritten after `decision` (which registered a claim that now
    owns the account) displaced the owner it had recorded. See `Decision.displaced`."""
    from dataclasses import replace

    owner = decision.owner
    mine = party_key(reg.party) == party_key(owner)
    primary, secondary = _attribution(owner, [reg.party, decision.party])
    return replace(
        reg,
        owner=owner,
        status=CLEAR.value if mine else CONFLICT.value,
        attribution_primary=primary,
        attribution_secondary=secondary,
        matched_registration_id=decision.registration_id,
        rule=decision.rule,
        reason=f"Superseded by {decision.registration_id}: {decision.reason}",
    )
