"""`dealreg sweep`: what a schedule runs (serverless.yml's `schedule`, a cron line on a server).

1. Resolutions typed where people work (the Sheet's `review` cell, HubSpot's `dealreg_review`
   property) are applied, as `dealreg review` would apply them; one that cannot be is named.
2. Claims whose protection window ended are marked `expired`, each with an `expire` event.
3. Claims that own their account and end within DEALREG_REMIND_DAYS get a reminder (Slack, and
   the partner's e-mail), once per protection end: an extension brings a new one.
4. Every notice a recent event implies (the last LOOKBACK, older than GRACE so as not to race the
   webhook's own thread) that the operations log does not show as delivered is sent: a send that
   failed, or one a Lambda container froze before it ran.

Idempotent: a second run finds nothing due (rows are expired or resolved, deliveries are logged).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from dealreg import expiry, reviews
from dealreg.errors import Refusal, StoreError
from dealreg.models import Decision, DecisionEvent, MatchLevel, Registration, Status
from dealreg.notices import Notice, reminders
from dealreg.records import parse_datetime
from handlers.events import new_event
from handlers.notifications import KIND, Delivered, Notifier, delivered
from handlers.reviews import record_of, resolution_in
from handlers.service import Service
from integrations.store import Tables
from integrations.store.rows import event_to_row

log = logging.getLogger("dealreg.sweep")

LOOKBACK = timedelta(days=3)
"""How far back the sweep looks for events whose notices were never delivered. Events older than
that are left alone: a first sweep after an upgrade does not notify the whole history."""
GRACE = timedelta(minutes=2)
"""Events younger than this are the webhook's own thread's to notify."""


@dataclass
class Swept:
    """What one sweep did."""

    resolved: list[str] = field(default_factory=list)
    expired: list[str] = field(default_factory=list)
    reminded: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # resolutions in the rows that cannot be applied
    delivered: Delivered = field(default_factory=Delivered)
    undeliverable: list[str] = field(default_factory=list)  # notices refused for good, with their fix

    def lines(self) -> list[str]:
        out = [f"resolved from the rows: {', '.join(self.resolved) or 'none'}",
               f"expired: {', '.join(self.expired) or 'none'}",
               f"reminded: {', '.join(self.reminded) or 'none'}",
               f"notifications sent: {len(self.delivered.sent)}, failed (retried by the next sweep): "
               f"{len(self.delivered.failed)}, refused: {len(self.delivered.refused)}"]
        out += [f"failed: {key}: {why}" for key, why in self.delivered.failed]
        out += [f"needs a person: {line}" for line in (*self.problems, *self.undeliverable)]
        return out


def sweep(service: Service, notifier: Notifier, *, remind_days: int) -> Swept:
    """One sweep as of `service.clock()`."""
    done = Swept()
    now = service.clock()
    window = timedelta(days=service.rules.protection_days)
    events: list[DecisionEvent] = []
    with service.amending() as (session, claims, engine):
        current = {r.registration_id: r for r in claims}
        for reg in sorted((r for r in claims if reviews.pending(r)), key=lambda r: r.submitted_at):
            reg = current[reg.registration_id]  # as an earlier resolution of this sweep left it
            try:
                resolution = reviews.parse_resolution(reg.review, reg.review_note, f"{notifier.store.backend} review")
                event, rows = resolution_in(service, list(current.values()), engine.partners, reg, resolution)
            except (ValueError, Refusal) as exc:
                done.problems.append(f"{reg.registration_id}: review {reg.review!r}: {exc}")
                continue
            session.amend(rows, [event])
            current.update({r.registration_id: r for r in rows})
            events.append(event)
            done.resolved.append(reg.registration_id)
        ended = expiry.expired_rows(current.values(), now, window)
        if ended:
            expire_events = [_expire_event(service, reg, now) for reg in ended]
            session.amend(ended, expire_events)
            events += expire_events
            done.expired = [r.registration_id for r in ended]
        due = expiry.reminders_due(current.values(), now, remind_days, window)
    if not notifier.enabled:
        return done
    log_now = delivered(notifier.store.logged(KIND))
    settled = {key for key, entry in log_now.items() if entry.status in ("sent", "refused")}
    contacts = notifier.contacts()
    notices: list[Notice] = []
    for reg in due:
        mine = [n for n in reminders(reg, expiry.ends(reg, window), contacts, notifier.where)
                if n.channel in notifier.channels.enabled and n.key not in settled]
        if mine:
            done.reminded.append(reg.registration_id)
            notices += mine
    notices += [n for n in notifier.notices([event_to_row(e) for e in events]) if n.key not in settled]
    notices += [n for n in notifier.notices(_recent_events(service, now)) if n.key not in settled]
    unique = list({n.key: n for n in notices}.values())
    done.delivered = notifier.deliver(unique)
    done.undeliverable = [f"{key}: {entry.detail}" for key, entry in log_now.items() if entry.status == "refused"
                          and now - entry.at <= LOOKBACK]
    return done


def _expire_event(service: Service, reg: Registration, now: datetime) -> DecisionEvent:
    decision = Decision(Status(reg.status or Status.CLEAR.value), reg.owner, reg.attribution_primary,
                        reg.attribution_secondary, reg.matched_registration_id, MatchLevel.NONE, 0, (), expiry.RULE,
                        expiry.expiry_reason(reg), registration_id=reg.registration_id, expires_at=reg.expires_at,
                        party=reg.party)
    return new_event("expire", record_of(reg), decision, service.rules.rules_hash, now)


def _recent_events(service: Service, now: datetime) -> list[dict[str, str]]:
    """The Decisions rows of the last LOOKBACK, but the last GRACE."""
    store = service.store
    if not isinstance(store, Tables):
        return []
    rows = []
    try:
        for row in store.read_rows("decisions"):
            if row.get("action") in ("check", ""):
                continue
            try:
                at = parse_datetime(row.get("decided_at", ""))
            except ValueError:
                continue
            if now - LOOKBACK <= at <= now - GRACE:
                rows.append(row)
    except StoreError as exc:
        log.warning("sweep: the decisions cannot be read (%s); their notices wait for the next sweep", exc)
    return rows
