"""The messages a stored event implies: one short Slack message for the partner manager (a
conflict, a needs_review, a rejected registration, a resolution, a registration about to expire)
and one e-mail for the partner (received, conflict, expiring, extended). Pure: an event comes in as
its Decisions row (`integrations.store.rows.event_to_row`), so the message is the same whether it
is sent just after the write or by the sweep that retries it.

Each notice has a `key` (the event's id and the channel, or the reminder's registration and
protection end): a delivery is recorded under it, and nothing is sent twice for one key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from dealreg.claims import party_key
from dealreg.models import Registration, Status, is_direct
from dealreg.wording import day

SLACK, EMAIL = "slack", "email"
EXTENSION_GRANTED, EXTENSION_REFUSED = "extension", "extension_refused"
"""The `rule` of an `extend` event: the answer to the request."""


@dataclass(frozen=True, slots=True)
class Notice:
    key: str  # what its delivery is recorded under: sent at most once
    channel: str  # SLACK or EMAIL
    to: str  # EMAIL: the partner's address; "" for Slack
    subject: str
    text: str


@dataclass(frozen=True, slots=True)
class Where:
    """Where a person resolves a review and asks for an extension, as this installation offers it:
    `{rid}` stands for the registration id."""

    review: str = "`dealreg review {rid} confirm|not_same|give:<party>`"
    extension: str = "`dealreg extend {rid}`"


def account(company_name: str, company_domain: str) -> str:
    name, domain = company_name.strip(), company_domain.strip()
    return f"{name} ({domain})" if name and domain and domain.casefold() != name.casefold() else name or domain or "an account"


def _ends(text: str) -> str:
    try:
        return day(datetime.fromisoformat(text)) if text else ""
    except ValueError:
        return text


def for_event(row: Mapping[str, str], contacts: Mapping[str, str], where: Where = Where()) -> list[Notice]:
    """The notices of one stored event (a Decisions row). `contacts`: each partner's e-mail address,
    by `party_key`."""
    def get(name: str) -> str:
        return (row.get(name) or "").strip()

    action, status, event_id = get("action"), get("status"), get("event_id")
    party, owner, rid, rule = get("party") or "direct", get("owner"), get("registration_id"), get("rule")
    what = account(get("company_name"), get("company_domain"))
    reason = get("reason")
    review = where.review.format(rid=rid)
    notices: list[Notice] = []

    def slack(text: str) -> None:
        notices.append(Notice(f"{event_id}:{SLACK}", SLACK, "", "", text))

    def email(subject: str, text: str) -> None:
        to = contacts.get(party_key(party), "") if not is_direct(party) else ""
        if to:
            notices.append(Notice(f"{event_id}:{EMAIL}", EMAIL, to, subject,
                                  f"Hello {party},\n\n{text}\n\n-- dealreg, for the partner program"))

    if action == "register":
        ends = _ends(get("expires_at"))
        if status == Status.CONFLICT.value:
            slack(f":warning: Conflict on {what}: {party} registered {rid}; {owner or 'nobody'} owns the account "
                  f"({rule}). {reason} Resolve: {review}")
            email(f"Registration conflict: {what} ({rid})",
                  f"your registration {rid} of {what} meets an earlier claim: {owner} owns the account. {reason}")
        elif status == Status.NEEDS_REVIEW.value:
            slack(f":mag: Needs review: {what}, registered by {party} as {rid}. {reason} Resolve: {review}")
        elif status == Status.REJECTED.value:
            slack(f":no_entry: Rejected: {party}'s registration{f' {rid}' if rid else ''} of {what}. {reason}")
        if status != Status.CONFLICT.value:
            protected = f" It is protected until {ends}." if ends and status == Status.CLEAR.value else ""
            email(f"Registration received: {what} ({rid or status})",
                  f"your registration of {what} was received{f' as {rid}' if rid else ''}: {status}. {reason}"
                  f"{protected}")
    elif action == "review":
        slack(f":white_check_mark: Resolved: {what} ({rid}): {owner or 'nobody'} owns it. {reason}")
    elif action == "extend":
        granted = rule == EXTENSION_GRANTED
        email(f"Extension {'granted' if granted else 'refused'}: {what} ({rid})", reason)
    return notices


def reminders(reg: Registration, ends: datetime, contacts: Mapping[str, str], where: Where = Where()) -> list[Notice]:
    """The reminders that `reg` ends on `ends`: Slack, and the partner's e-mail. Keyed on the
    protection end, so an extension brings a new reminder."""
    rid, what = reg.registration_id, account(reg.company_name, reg.company_domain)
    key = f"remind:{rid}:{ends.isoformat()}"
    extension = where.extension.format(rid=rid)
    out = [Notice(f"{key}:{SLACK}", SLACK, "", "",
                  f":hourglass: Expiring on {day(ends)}: {reg.party}'s registration {rid} for {what}. The partner "
                  f"can ask for an extension: {extension}.")]
    to = contacts.get(party_key(reg.party), "") if not is_direct(reg.party) else ""
    if to:
        out.append(Notice(f"{key}:{EMAIL}", EMAIL, to, f"Your registration of {what} expires on {day(ends)}",
                          f"Hello {reg.party},\n\nyour registration {rid} of {what} is protected until {day(ends)}. "
                          f"If the deal is still live, ask your partner manager for an extension ({extension}).\n\n"
                          f"-- dealreg, for the partner program"))
    return out


DIGEST_AT = 4
"""From this many notices for one recipient in one batch, they go as one digest."""


def batched(notices: Sequence[Notice]) -> list[tuple[Notice, tuple[str, ...]]]:
    """The messages to send for a batch: each notice alone, or, from DIGEST_AT notices for one
    recipient, one digest; each with the keys it delivers."""
    groups: dict[tuple[str, str], list[Notice]] = {}
    for notice in notices:
        groups.setdefault((notice.channel, notice.to), []).append(notice)
    out: list[tuple[Notice, tuple[str, ...]]] = []
    for (channel, to), group in groups.items():
        if len(group) < DIGEST_AT:
            out.extend((n, (n.key,)) for n in group)
            continue
        keys = tuple(n.key for n in group)
        if channel == SLACK:
            text = f"dealreg: {len(group)} updates\n" + "\n".join(f"• {n.text}" for n in group)
            out.append((Notice(f"digest:{keys[0]}", channel, to, "", text), keys))
        else:
            body = "\n\n---\n\n".join(f"{n.subject}\n\n{_body(n.text)}" for n in group)
            out.append((Notice(f"digest:{keys[0]}", channel, to, f"dealreg: {len(group)} updates on your registrations",
                               body), keys))
    return out


def _body(text: str) -> str:
    """An e-mail's text without its greeting and signature, for a digest."""
    lines = text.split("\n\n")
    return "\n\n".join(lines[1:-1]) if len(lines) > 2 else text
