"""Whether a record can be decided at all: a party the Partners list knows, what the
`qualification` rule requires, a `submitted_at` that is neither in the future nor past its
window; and the `rejected` decision that lists every problem. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta

from dealreg.claims import party_key
from dealreg.domains import email_domain, is_free_mail, registered_domain
from dealreg.models import DIRECT, Decision, MatchLevel, Record, Status, is_direct
from dealreg.rules import Qualification
from dealreg.wording import day

CLOCK_SKEW = timedelta(minutes=5)
"""How far ahead of the server's clock a `submitted_at` may be (a sender's clock running fast);
a claim dated later is refused, since "not yet made" would let a second partner in beside it."""


def party_of(record: Record, partners: Mapping[str, str]) -> tuple[str, list[str]]:
    """The claiming party, spelt as the Partners list (party_key -> name) spells it, and the
    problem when the list is not empty and does not name it."""
    party = " ".join(record.party.split())
    if is_direct(party):
        return DIRECT, []
    if not partners:
        return party, []
    known = partners.get(party_key(party))
    if known is None:
        names = ", ".join(sorted(partners.values(), key=str.casefold))
        return party, [f"unknown partner {party!r}; the known partners are: {names}"]
    return known, []


def qualification_problems(record: Record, rule: Qualification | None, registering: bool) -> list[str]:
    """What makes the record unusable: nothing identifies the account, an unusable website or
    email, and (for a registration, or a check under `apply_to_checks`) what `rule` requires."""
    problems: list[str] = []
    if not (record.company_name.strip() or record.company_domain.strip() or record.linkedin_url.strip()
            or record.duns.strip() or record.contact_email.strip()):
        return ["no company name, website, email, LinkedIn page or DUNS to identify the account"]
    website = registered_domain(record.company_domain) if record.company_domain.strip() else None
    if record.company_domain.strip() and website is None:
        problems.append(f"the website {record.company_domain.strip()!r} is not a usable domain")
    if rule is None:
        return problems
    mail = email_domain(record.contact_email) if record.contact_email.strip() else None
    if record.contact_email.strip() and mail is None and registering \
            and registered_domain(record.contact_email) is None:
        # A registration's contact must be reachable. A website typed into the email column is read
        # as the website, and a check (a Clay row) is decided on its other keys: neither is refused
        # for a careless field (issue 12).
        problems.append(f"the contact email {record.contact_email.strip()!r} is not an email address")
    if registering or rule.apply_to_checks:
        if rule.reject_free_mail_without_website and mail and is_free_mail(mail) and website is None:
            problems.append(f"the contact email is on a free-mail domain ({mail}) and no company website was given")
        for field in rule.require:
            value = getattr(record, field)
            if value is None or (isinstance(value, str) and not value.strip()):
                problems.append(f"{field} is required")
        if rule.min_deal_value is not None and record.deal_value is not None and record.deal_value < rule.min_deal_value:
            problems.append(f"the deal value {record.deal_value:,.0f} is under the minimum of {rule.min_deal_value:,.0f}")
    return problems


def timing_problems(record: Record, as_of: datetime, window: timedelta) -> list[str]:
    """A registration dated in the future, or whose protection window ended before it arrived."""
    made = record.submitted_at
    if made is None:
        return []
    if made > as_of + CLOCK_SKEW:
        return [f"submitted_at {made.isoformat()} is in the future (more than {CLOCK_SKEW.seconds // 60} "
                f"minutes ahead of {as_of.isoformat(timespec='seconds')}); send the time the deal was "
                f"registered"]
    if made + window <= as_of:
        return [f"submitted_at {day(made)} is so long ago that its {window.days}-day protection window "
                f"ended on {day(made + window)}, before the registration arrived; register the deal "
                f"again with today's date if it is still open"]
    return []


def rejected(problems: Iterable[str], *, party: str = "", registration_id: str = "") -> Decision:
    """The decision for a record that cannot be used; `reason` lists every problem."""
    problems = tuple(p.rstrip(". ") for p in problems)
    reason = "Rejected: " + "; ".join(problems) + "."
    return Decision(Status.REJECTED, "", "", "", "", MatchLevel.NONE, 0, (), "qualification", reason,
                    registration_id=registration_id, reasons=problems, party=party)
