"""Settling an overlap: the rules of the rules file that decide who owns an account another
active claim is on, run in file order; the first that applies decides (SPEC "Rules").

One function per rule kind (`SETTLE`: kind -> function); each answers an `Outcome`, or None
when it does not apply and the next rule decides. Pure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import NamedTuple

from dealreg.claims import Claim, age, party_key
from dealreg.models import DIRECT, Quarantined, Record, Territory, is_direct
from dealreg.rules import DirectAboveDealSize, Rule
from dealreg.wording import day, possessive


class Outcome(NamedTuple):
    rule: str  # the rule kind that decided; "unsettled" or "quarantine" when a person must
    winner: str  # the party that owns the account ("" when nobody does yet)
    decider: Claim | None  # the claim that decided (None: the incoming record)
    reason: str


@dataclass(frozen=True)
class Overlap:
    """What the settling rules read: the incoming record and the active claims it overlaps."""

    record: Record
    party: str  # the record's party, spelt as the Partners list spells it
    submitted: datetime  # when the record claims the account
    registration_id: str  # "" for a check
    claims: tuple[Claim, ...]
    label: str  # the account, as reasons name it
    territories: tuple[Territory, ...] = ()
    unread_territories: tuple[Quarantined, ...] = ()  # territory rows that cannot be read


def same_party(rule: Rule, o: Overlap) -> Outcome | None:
    """The record's party already holds a claim: a duplicate, answered with that claim."""
    me = party_key(o.party)
    own = [c for c in o.claims if party_key(c.party) == me]
    if not own:
        return None
    c = min(own, key=age)
    since = "" if c.named else f", registered {day(c.submitted_at)}, protected until {day(c.expires_at)}"
    what = "holds the named account" if c.named else "already holds an active registration for"
    return Outcome("same_party", c.owner or c.party, c, f"{o.party} {what} {o.label} ({c.claim_id}{since}).")


def named_accounts(rule: Rule, o: Overlap) -> Outcome | None:
    """The account is on the named-account list: its owner has it."""
    named = [c for c in o.claims if c.named]
    if not named:
        return None
    c = min(named, key=lambda c: c.claim_id)
    return Outcome("named_accounts", c.owner, c, f"{o.label} is a named account of {c.owner}.")


def partner_territory(rule: Rule, o: Overlap) -> Outcome | None:
    """Exactly one party involved is designated for the account's territory: that party wins."""
    parties = {party_key(c.party): c.party for c in o.claims}
    parties[party_key(o.party)] = o.party
    unread = [t for t in o.unread_territories if not t.party or party_key(t.party) in parties]
    if unread:  # a territory of one of these parties cannot be read: it might have decided
        fixes = " ".join(f"{t.describe()}." for t in unread)
        return Outcome("quarantine", "", None, f"{o.label} overlaps with another claim, and a territory row of "
                                               f"a party involved cannot be read; a person should decide "
                                               f"once it is fixed. Fix: {fixes}")
    where = _where(o.record, o.claims)
    designated = {party_key(t.partner) for t in o.territories
                  if party_key(t.partner) in parties and _in_territory(t, *where)}
    if len(designated) != 1:
        return None  # nobody, or several designated partners: the next rule decides
    winner = parties[designated.pop()]
    decider = next((c for c in sorted(o.claims, key=age) if party_key(c.party) == party_key(winner)), None)
    country, region, industry, _ = where
    place = ", ".join(v for v in (country, region, industry) if v) or "its size band"
    return Outcome("partner_territory", winner, decider, f"{o.label} is in {possessive(winner)} territory ({place}).")


def direct_above_deal_size(rule: Rule, o: Overlap) -> Outcome | None:
    """The direct team is involved and the largest deal on the account is at or above the threshold."""
    assert isinstance(rule, DirectAboveDealSize)
    direct = [c for c in o.claims if is_direct(c.party)]
    if not (direct or is_direct(o.party)):
        return None
    want = rule.currency.strip().upper()
    value: float | None = None  # the largest deal on the account
    for amount, currency in [(o.record.deal_value, o.record.currency), *[(c.deal_value, c.currency) for c in o.claims]]:
        if amount is None:
            continue
        if want and currency and (other := currency.strip().upper()) and other != want:
            return Outcome("unsettled", "", None,
                           f"The deal for {o.label} is in {other}, which cannot be compared with the "
                           f"{rule.threshold:,.0f} {want} threshold; a person should decide.")
        if value is None or amount > value:
            value = amount
    if value is None or value < rule.threshold:
        return None
    unit = f" {want}" if want else ""
    return Outcome("direct_above_deal_size", DIRECT, min(direct, key=age) if direct else None,
                   f"The deal for {o.label} ({value:,.0f}{unit}) is at or above the {rule.threshold:,.0f}{unit} "
                   f"threshold, so the direct team owns it.")


def first_to_register(rule: Rule, o: Overlap) -> Outcome:
    """The earliest active claim wins (the record's own, if it came first); ties by id."""
    first = min(o.claims, key=age)
    if age(first) <= (o.submitted, o.registration_id or "~"):
        if first.named:
            return Outcome("first_to_register", first.owner, first, f"{o.label} is a named account of {first.party}.")
        return Outcome("first_to_register", first.party, first,
                       f"{first.party} registered {o.label} first ({first.claim_id}, {day(first.submitted_at)}, "
                       f"protected until {day(first.expires_at)}); {o.party} came later.")
    return Outcome("first_to_register", o.party, None,
                   f"{o.party} registered {o.label} first ({day(o.submitted)}); "
                   f"{', '.join(sorted({c.party for c in o.claims}))} registered later.")


SETTLE: dict[str, Callable[[Rule, Overlap], Outcome | None]] = {
    "same_party": same_party,
    "named_accounts": named_accounts,
    "partner_territory": partner_territory,
    "direct_above_deal_size": direct_above_deal_size,
    "first_to_register": first_to_register,
}
"""The rule kinds that settle an overlap. `qualification` and `expiry` act before there is one."""


def settle(rules: Iterable[Rule], o: Overlap) -> Outcome:
    """Run the settling rules in file order over the overlap; the first that applies decides."""
    for rule in rules:
        settle_by = SETTLE.get(rule.kind)
        outcome = settle_by(rule, o) if settle_by else None
        if outcome is not None:
            return outcome
    holders = ", ".join(sorted({f"{c.party} ({c.claim_id})" for c in o.claims}))
    return Outcome("unsettled", "", None,
                   f"{o.label} overlaps with {holders} and no rule in the rules file settles it; a person should decide.")


def _where(record: Record, claims: Iterable[Claim]) -> tuple[str, str, str, int | None]:
    """The account's territory attributes: the record's, else the earliest claim's that has them."""
    ordered = sorted((c for c in claims if not c.named), key=age)
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


