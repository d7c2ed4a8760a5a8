"""A partner asks for more time on a registration: the `extension` rule of the rules file decides
(how many times, how many days, whether a deal value is needed, in which states). Pure: the clock
and the rule come in; the caller stores the answer (an `extend` event) and the new row.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

from dealreg.claims import party_key
from dealreg.models import EXPIRED, Registration
from dealreg.rules import Extension
from dealreg.wording import day

RULE = "extension"


@dataclass(frozen=True, slots=True)
class Answer:
    """The answer to one request: granted or not, why, and the row to store when granted."""

    granted: bool
    reason: str
    row: Registration  # the registration as it stands after the answer
    expires_at: datetime | None  # the protection end after the answer


def protection_end(reg: Registration, window: timedelta) -> datetime:
    return reg.expires_at or reg.submitted_at + window


def decide(reg: Registration, rule: Extension | None, as_of: datetime, window: timedelta, *,
           deal_value: float | None = None) -> Answer:
    """Extend `reg` by the rule's days, or say why not. `deal_value`: sent with the request (it is
    stored on the registration when the extension is granted)."""
    ends = protection_end(reg, window)
    rid = reg.registration_id

    def no(reason: str) -> Answer:
        return Answer(False, f"The extension of {rid} is refused: {reason}.", reg, ends)

    if rule is None:
        return no("the rules file has no `extension` rule, so extensions are off (add `- extension: {times: 1, "
                  "days: 30}` to its rules)")
    if reg.state == EXPIRED or ends <= as_of:
        return no(f"its protection ended on {day(ends)}; register the deal again if it is live")
    if reg.state not in rule.states:
        return no(f"it is {reg.state}, and only {', '.join(rule.states)} registrations are extended")
    if reg.owner.strip() and party_key(reg.owner) != party_key(reg.party):
        return no(f"{reg.owner} owns the account, not {reg.party}")
    if reg.extensions >= rule.times:
        times = "once" if rule.times == 1 else f"{rule.times} times"
        return no(f"it was extended {reg.extensions} time(s) already, and the rules allow {times}"
                  if rule.times else "the rules allow no extension")
    value = deal_value if deal_value is not None else reg.deal_value
    if rule.require_deal_value and value is None:
        return no("the rules need a deal value; send the deal's value with the request")
    new_end = ends + timedelta(days=rule.days)
    row = replace(reg, expires_at=new_end, extensions=reg.extensions + 1, deal_value=value)
    return Answer(True, f"{reg.party}'s registration {rid} is extended by {rule.days} days: protected until "
                        f"{day(new_end)} (was {day(ends)}).", row, new_end)
