"""A person's resolution of a registration the product would not settle alone (a `needs_review`) or
settled against someone (a `conflict`): what it says (`Resolution`), which registrations wait for one
(`is_open`, `version`), and what it rewrites (`resolve`). Pure: the time and the person come in.

Three answers, as SPEC's "Operations" names them:

- `confirm`: the match is right. A possible match becomes the account the rules settled ("If it
  is: …" in its reason); a conflict stands as decided.
- `not_same`: another account. The registration owns its own account (`clear`); a registration it
  had displaced gets its owner back. The pair is remembered and never suggested again (dealreg/pairs.py).
- `give:<party>`: the account goes to that party, on every registration the resolution touches.

`confirm` and `give` say the two are one account: the pair then matches without review.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from datetime import datetime

from dealreg.attribution import attribution, primary
from dealreg.claims import party_key
from dealreg.models import (
    OPEN_STATES,
    REGISTRATION_COLUMNS,
    Decision,
    MatchLevel,
    Registration,
    Status,
    is_direct,
)
from dealreg.wording import day

CONFIRM, NOT_SAME, GIVE = "confirm", "not_same", "give"
REVIEWABLE = frozenset({Status.NEEDS_REVIEW.value, Status.CONFLICT.value})
RULE = "review"
"""The `rule` of a registration a person resolved."""
FORMS = "confirm, not_same or give:<party>"


@dataclass(frozen=True, slots=True)
class Resolution:
    action: str  # CONFIRM, NOT_SAME or GIVE
    party: str = ""  # GIVE: who gets the account
    note: str = ""
    by: str = ""

    @property
    def text(self) -> str:
        """As a `review` cell holds it: `confirm`, `not_same`, `give:Fabrikam Solutions`."""
        return f"{GIVE}:{self.party}" if self.action == GIVE else self.action

    @property
    def same_account(self) -> bool:
        """Whether it says the registration and the one it matched are one account."""
        return self.action in (CONFIRM, GIVE)


def parse_resolution(text: str, note: str = "", by: str = "") -> Resolution:
    """A resolution as a person writes it (a Sheet cell, a CLI argument, an API field): `confirm`
    (or `same`), `not_same` (or `not same`, `different`), `give:<party>` (or `give <party>`).
    ValueError says what is accepted."""
    raw = " ".join(text.split())
    word, _, rest = raw.replace(":", " ", 1).partition(" ")
    key = word.casefold().replace("-", "_")
    if key in ("confirm", "same", "confirmed") and not rest:
        return Resolution(CONFIRM, "", note.strip(), by.strip())
    if (key in ("not_same", "different") and not rest) or (key == "not" and rest.casefold() == "same"):
        return Resolution(NOT_SAME, "", note.strip(), by.strip())
    if key == "give":
        if not rest.strip():
            raise ValueError("give needs the party that gets the account: give:<partner name> or give:direct")
        return Resolution(GIVE, rest.strip(), note.strip(), by.strip())
    raise ValueError(f"{text.strip()!r} is not a resolution; write {FORMS}")


def version(reg: Registration) -> str:
    """A short fingerprint of the row as it is now: a resolution sent with the version it was
    listed with is refused if the row changed since."""
    text = "\x1f".join(str(getattr(reg, name)) for name in REGISTRATION_COLUMNS)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:12]


def is_open(reg: Registration) -> bool:
    """Waits for a person: `needs_review` or `conflict`, not resolved yet, still an open claim."""
    return reg.status in REVIEWABLE and not reg.reviewed_at and (reg.state or "open") in OPEN_STATES


def pending(reg: Registration) -> bool:
    """A person wrote a resolution in the row (a Sheet cell, a HubSpot property) that is not applied yet."""
    return bool(reg.review.strip()) and not reg.reviewed_at


def refusal(reg: Registration, listed_version: str = "") -> str:
    """Why `reg` cannot be resolved now ("" when it can): resolved already, nothing to resolve, or
    changed since it was listed."""
    if reg.reviewed_at:
        return (f"{reg.registration_id} was resolved already ({reg.review or 'resolved'} by "
                f"{reg.reviewed_by or 'someone'} at {reg.reviewed_at}); a resolution is never applied twice")
    if reg.status not in REVIEWABLE:
        return (f"{reg.registration_id} is {reg.status or 'clear'}, not needs_review or conflict: there is nothing "
                f"to resolve")
    if (reg.state or "open") not in OPEN_STATES:
        return f"{reg.registration_id} is {reg.state}: only an open registration can be resolved"
    if listed_version and listed_version != version(reg):
        return (f"{reg.registration_id} changed since it was listed (version {listed_version}, now {version(reg)}); "
                f"list the reviews again and resolve what you see")
    return ""


@dataclass(frozen=True, slots=True)
class Resolved:
    """What a resolution writes: every row it touches (the resolved one first), and the decision
    its event records."""

    rows: tuple[Registration, ...]
    decision: Decision


def resolve(reg: Registration, matched: Registration | None, resolution: Resolution, at: datetime) -> Resolved:
    """The rows after `resolution` of `reg` (`matched`: the registration it matched, None when it
    matched a named account or nothing on file). ValueError when this resolution cannot apply
    (call `refusal` first for the row's own state)."""
    party = reg.party
    other = matched.party if matched is not None else ""
    if resolution.action == CONFIRM:
        owner = reg.owner.strip()
        if not owner:
            raise ValueError(f"{reg.registration_id} has no owner to confirm (no rule settled it); give the account "
                             f"to a party instead: give:<party>")
        what = f"confirmed the match with {reg.matched_registration_id or 'the account on file'}; {owner} owns it"
    elif resolution.action == NOT_SAME:
        owner = party
        what = f"not the same account as {reg.matched_registration_id or 'the one matched'}; {party} owns its own"
    elif resolution.action == GIVE:
        owner = resolution.party.strip()
        what = f"gave the account to {owner}"
    else:
        raise ValueError(f"unknown resolution {resolution.action!r}; write {FORMS}")
    by = resolution.by or "a person"
    reason = f"{by} resolved the review on {day(at)}: {what}." + (f" Note: {resolution.note}" if resolution.note else "")
    parties = [party] if resolution.action == NOT_SAME else [party, *([other] if other else [])]
    first, second = attribution(owner, parties) if resolution.action != NOT_SAME else (primary(party), "")
    mine = party_key(owner) == party_key(party)
    status = Status.CLEAR if mine else Status.CONFLICT
    if resolution.action == CONFIRM and reg.status == Status.CONFLICT.value:
        status = Status(reg.status)  # the conflict stands as decided
    ours = replace(reg, owner=owner, status=status.value, attribution_primary=first, attribution_secondary=second,
                   rule=RULE, reason=reason, review=resolution.text, review_note=resolution.note, reviewed_by=by,
                   reviewed_at=at.isoformat())
    rows = [ours]
    if matched is not None:
        theirs = _other_row(matched, reg, resolution, owner, first, second, what, at)
        if theirs is not None:
            rows.append(theirs)
    decision = Decision(status, owner, first, second, reg.matched_registration_id,
                        MatchLevel.MATCH if resolution.same_account else MatchLevel.NONE,
                        100 if resolution.same_account else 0, (RULE,), RULE, reason,
                        registration_id=reg.registration_id, expires_at=reg.expires_at, party=party)
    return Resolved(tuple(rows), decision)


def _other_row(matched: Registration, reg: Registration, resolution: Resolution, owner: str, first: str,
               second: str, what: str, at: datetime) -> Registration | None:
    """The matched registration after the resolution, or None when it records the same as before."""
    note = f"Review of {reg.registration_id} on {day(at)}: {what}."
    # A person decided this row too: it leaves the review queue (its own `review` cell stays empty,
    # so it teaches no second pair).
    if resolution.action == NOT_SAME:
        if party_key(matched.owner or matched.party) != party_key(reg.party):
            return None  # it kept its own account: nothing to give back
        owner, status, first, second = matched.party, Status.CLEAR.value, primary(matched.party), ""
    elif party_key(matched.owner or matched.party) == party_key(owner):
        return None  # it records this owner already
    else:
        status = Status.CLEAR.value if party_key(matched.party) == party_key(owner) else Status.CONFLICT.value
    return replace(matched, owner=owner, status=status, attribution_primary=first, attribution_secondary=second,
                   rule=RULE, reason=note, review_note=f"resolved with {reg.registration_id}",
                   reviewed_by=resolution.by or "a person", reviewed_at=at.isoformat())


def known_party(name: str, partners: dict[str, str]) -> str:
    """`name` as the Partners list spells it, `direct`, or "" when it is neither (`partners`: by party_key)."""
    if is_direct(name):
        return "direct"
    return partners.get(party_key(name), "")
