"""Rule replay: what another rules file would have decided for the stored history.

Pure: the history, both rule sets and the window start (`since`) are passed in; nothing is
written anywhere. The history is re-decided in the order it arrived (each registration at the
time it arrived, as the service decided it), once with the rules in use and once with the new
ones, on the same claims: so every difference comes from the rules alone. A claim's state
(won, lost, withdrawn) has no date on file, so both runs see today's states; where the run
with the rules in use does not give what a row records (a claim closed since, a decision made
under other rules, a hand edit), the row is listed as `drift`, never silently compared.

Registrations that arrived before `since` are kept as they are on file; those from `since` on
are re-decided. Rejected registrations are records, not claims: they are not re-decided (a
rejection can come from the form itself, which no rules file changes), and are counted.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta

from dealreg.claims import party_key
from dealreg.engine import Engine
from dealreg.registrations import displaced_row, registration_from
from dealreg.history import History
from dealreg.models import DIRECT, Record, Registration, Status
from dealreg.rules import RuleSet

COMPARED = ("status", "owner", "attribution_primary", "attribution_secondary")


@dataclass(frozen=True, slots=True)
class Outcome:
    status: str
    owner: str
    attribution_primary: str
    attribution_secondary: str
    rule: str
    reason: str = ""

    @classmethod
    def of(cls, reg: Registration) -> Outcome:
        return cls(reg.status, reg.owner, reg.attribution_primary, reg.attribution_secondary, reg.rule, reg.reason)

    def key(self) -> tuple[str, str, str, str]:
        return self.status, party_key(self.owner), self.attribution_primary, self.attribution_secondary

    @property
    def attribution(self) -> str:
        return self.attribution_primary + (f" / {self.attribution_secondary}" if self.attribution_secondary else "")


@dataclass(frozen=True, slots=True)
class Change:
    """One registration the new rules decide otherwise."""

    registration_id: str
    arrived_at: datetime
    party: str
    company: str
    old: Outcome  # with the rules in use
    new: Outcome  # with the new rules


@dataclass(frozen=True)
class Replay:
    rules_hash: str  # the rules in use
    new_rules_hash: str
    since: datetime | None
    replayed: int  # registrations re-decided
    kept: int  # arrived before `since`: kept as on file
    rejected: int  # rejected records, not re-decided
    changes: tuple[Change, ...]
    drift: tuple[str, ...] = ()  # ids the rules in use decide otherwise than the row records
    statuses: dict[str, tuple[int, int]] = field(default_factory=dict)  # status -> (now, with the new rules)
    parties: dict[str, tuple[int, int]] = field(default_factory=dict)  # party -> (accounts gained, lost)

    @property
    def conflicts(self) -> tuple[int, int]:
        return self.statuses.get(Status.CONFLICT.value, (0, 0))


def replay(history: History, rules: RuleSet, new_rules: RuleSet, *, since: datetime | None = None) -> Replay:
    """Re-decide the history with `rules` (those in use) and with `new_rules`, and compare."""
    order = history.in_arrival_order()
    kept = [reg for at, reg in order if since is not None and at < since]
    todo = [(at, reg) for at, reg in order if (since is None or at >= since) and reg.state != "rejected"]
    rejected = sum(1 for at, reg in order if (since is None or at >= since) and reg.state == "rejected")
    now = _run(history, rules, rules, kept, todo)
    new = _run(history, rules, new_rules, kept, todo)
    drift = tuple(reg.registration_id for _, reg in todo
                  if Outcome.of(reg).key() != Outcome.of(now[reg.registration_id]).key())
    changes = []
    for at, reg in todo:
        before, after = Outcome.of(now[reg.registration_id]), Outcome.of(new[reg.registration_id])
        if before.key() != after.key():
            changes.append(Change(reg.registration_id, at, reg.party, reg.company_name or reg.company_domain,
                                  before, after))
    ids = [reg.registration_id for _, reg in todo]
    statuses = {s.value: (sum(1 for i in ids if now[i].status == s.value), sum(1 for i in ids if new[i].status == s.value))
                for s in Status}
    return Replay(rules.rules_hash, new_rules.rules_hash, since, len(todo), len(kept), rejected, tuple(changes),
                  drift, statuses, _gains(changes))


def _run(history: History, rules: RuleSet, decide_with: RuleSet, kept: Sequence[Registration],
         todo: Sequence[tuple[datetime, Registration]]) -> dict[str, Registration]:
    """Every registration of `todo` decided again with `decide_with`, in order, each at its arrival,
    on an engine that starts from `kept`; returns the rows as they stand at the end (a later claim
    may rewrite an earlier one's owner, as the service does)."""
    engine = Engine(decide_with, kept, history.named_accounts, history.territories,
                    [p.name for p in history.partners], history.quarantined)
    rows: dict[str, Registration] = {reg.registration_id: reg for reg in kept}
    window_in_use = timedelta(days=rules.protection_days)
    for arrived, reg in todo:
        decision = engine.decide(_record(reg), arrived, registration_id=reg.registration_id)
        row = registration_from(_record(reg), decision, submitted_at=arrived)
        # The outcome of the deal stays what it is (the state column), and a protection end set by
        # hand (an extension) stays too; one that is just the window of the rules in use follows the new window.
        extended = reg.expires_at is not None and reg.expires_at != reg.submitted_at + window_in_use
        row = replace(row, state=reg.state if row.state != "rejected" else row.state,
                      expires_at=reg.expires_at if extended and row.state != "rejected" else row.expires_at)
        for rid in decision.displaced:
            rows[rid] = displaced_row(rows[rid], decision)
            engine.add(rows[rid])
        rows[reg.registration_id] = row
        engine.add(row)
    return rows


def _record(reg: Registration) -> Record:
    """The record a registration was made from (what its row keeps of it)."""
    return Record(company_name=reg.company_name, company_domain=reg.company_domain, contact_email=reg.contact_email,
                  contact_name=reg.contact_name, linkedin_url=reg.linkedin_url, duns=reg.duns,
                  partner="" if party_key(reg.party) == DIRECT else reg.partner, deal_value=reg.deal_value,
                  currency=reg.currency, country=reg.country, region=reg.region, industry=reg.industry,
                  employees=reg.employees, submitted_at=reg.submitted_at, source=reg.source,
                  external_id=reg.external_id)


def _gains(changes: Iterable[Change]) -> dict[str, tuple[int, int]]:
    """Per party: registrations whose account it would own with the new rules and not now (gained),
    and the reverse (lost)."""
    gained: Counter[str] = Counter()
    lost: Counter[str] = Counter()
    names: dict[str, str] = {}
    for change in changes:
        old, new = change.old.owner, change.new.owner
        if party_key(old) == party_key(new):
            continue
        if new:
            names.setdefault(party_key(new), new)
            gained[party_key(new)] += 1
        if old:
            names.setdefault(party_key(old), old)
            lost[party_key(old)] += 1
    return {names[k]: (gained[k], lost[k]) for k in sorted(names, key=lambda k: (-(gained[k] - lost[k]), k))}
