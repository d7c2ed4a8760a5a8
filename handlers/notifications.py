"""Notifications, sent after the store write and never on the request's thread.

The service hands each stored event to `Notifier.submit`, which returns at once; a background
thread takes what is waiting (everything, in one batch: many notices for one recipient become one
digest, dealreg/notices.py), reads the partners' addresses (kept a few minutes), sends, and records
each delivery in the store's operations log under the notice's key: `sent`, `failed` (the sweep
sends it again) or `refused` (a person must fix something; the sweep names it). A Slack that hangs
costs that thread its timeout, never an answer.

On AWS Lambda the thread may be frozen with the container once the answer is out: the sweep
(handlers/sweep.py) is the safety net, sending whatever a recent event implies and the log does
not show as delivered.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

from dealreg.claims import party_key
from dealreg.errors import DeliveryFailed, StoreError
from dealreg.notices import EMAIL, SLACK, Notice, Where, batched, for_event
from integrations.store import LogEntry, Store, Tables

if TYPE_CHECKING:
    from config.settings import Settings

log = logging.getLogger("dealreg.notify")

KIND = "notification"
"""The operations log's kind for deliveries."""
CONTACTS_SECONDS = 300.0
"""How long the partners' addresses are kept before they are read again."""
WHERE: dict[str, Where] = {
    "sqlite": Where(),
    "sheets": Where(review="the `review` cell of {rid} in the Registrations tab (confirm, not_same or give:<party>), "
                           "or `dealreg review {rid} …`"),
    "hubspot": Where(review="the deal's property \"dealreg: Review\" on {rid} (confirm, not_same or give:<party>), "
                            "or `dealreg review {rid} …`"),
}


class Slack(Protocol):
    """What a Slack channel needs: `send(text)`, raising DeliveryFailed."""

    def send(self, text: str) -> None: ...


class Mail(Protocol):
    """What an e-mail channel needs: `send(to, subject, text)`, raising DeliveryFailed."""

    def send(self, to: str, subject: str, text: str) -> None: ...


@dataclass
class Channels:
    slack: Slack | None = None
    mail: Mail | None = None

    @property
    def enabled(self) -> frozenset[str]:
        return frozenset(name for name, channel in ((SLACK, self.slack), (EMAIL, self.mail)) if channel is not None)


@dataclass
class Delivered:
    """What one delivery pass did, by notice key."""

    sent: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (key, what went wrong)
    refused: list[tuple[str, str]] = field(default_factory=list)


class Notifier:
    """Turns stored events into notices and delivers them, off the request's thread."""

    def __init__(self, store: Store, channels: Channels, *, clock: Callable[[], datetime],
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.store, self.channels, self.clock = store, channels, clock
        self._monotonic = monotonic
        self.where = WHERE.get(store.backend, Where())
        self._queue: queue.Queue[Mapping[str, str]] = queue.Queue()
        self._contacts: tuple[float, dict[str, str]] | None = None
        self._thread: threading.Thread | None = None
        self._started = threading.Lock()

    @property
    def enabled(self) -> bool:
        return bool(self.channels.enabled)

    # -- the way in: returns at once -----------------------------------------------------

    def submit(self, rows: Iterable[Mapping[str, str]]) -> None:
        """Stored events (their Decisions rows), to be notified on the background thread."""
        if not self.enabled:
            return
        for row in rows:
            self._queue.put(row)
        self._start()

    def _start(self) -> None:
        with self._started:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="dealreg-notify", daemon=True)
                self._thread.start()

    def _run(self) -> None:
        while True:
            rows = [self._queue.get()]
            while True:  # everything waiting goes in one batch (and so into digests)
                try:
                    rows.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                self.deliver(self.notices(rows))
            except Exception:  # noqa: BLE001 - a bug here must not kill the thread; the sweep sends it
                log.exception("notifications: a batch of %d events was not delivered; the sweep will retry", len(rows))
            finally:
                for _ in rows:
                    self._queue.task_done()

    def flush(self) -> None:
        """Wait until everything submitted so far has been handled (tests, a command before it exits)."""
        self._queue.join()

    # -- notices and deliveries ----------------------------------------------------------

    def notices(self, rows: Iterable[Mapping[str, str]]) -> list[Notice]:
        """The notices of stored events, for the channels that are set up."""
        rows = list(rows)
        if not rows or not self.enabled:
            return []
        contacts = self.contacts() if EMAIL in self.channels.enabled else {}
        return [n for row in rows for n in for_event(row, contacts, self.where) if n.channel in self.channels.enabled]

    def contacts(self) -> dict[str, str]:
        """Each partner's contact_email, by party_key (the Partners list; kept CONTACTS_SECONDS). A list
        that cannot be read leaves the e-mails for the sweep rather than failing the Slack messages."""
        now = self._monotonic()
        if self._contacts is not None and now - self._contacts[0] < CONTACTS_SECONDS:
            return self._contacts[1]
        if not isinstance(self.store, Tables):
            return {}
        try:
            found = {party_key(r.get("partner", "")): r.get("contact_email", "").strip()
                     for r in self.store.read_rows("partners") if r.get("contact_email", "").strip()}
        except StoreError as exc:
            log.warning("notifications: the partners' addresses cannot be read (%s); e-mails wait for the sweep", exc)
            return {}
        self._contacts = (now, found)
        return found

    def deliver(self, notices: Sequence[Notice]) -> Delivered:
        """Send `notices` (digests where many go to one recipient) and record each delivery."""
        done = Delivered()
        entries: list[LogEntry] = []
        for message, keys in batched(notices):
            try:
                self._send(message)
            except DeliveryFailed as exc:
                status = "refused" if exc.permanent else "failed"
                log.warning("notifications: %s %s %s: %s", message.channel, message.to or "", status, exc)
                (done.refused if exc.permanent else done.failed).extend((k, str(exc)) for k in keys)
                entries += [LogEntry(KIND, k, status, self.clock(), str(exc)) for k in keys]
                continue
            done.sent.extend(keys)
            entries += [LogEntry(KIND, k, "sent", self.clock(), message.to or message.channel) for k in keys]
        if entries:
            try:
                self.store.log(entries)
            except StoreError as exc:  # sent, but not recorded: the sweep may send these once more
                log.error("notifications: %d deliveries not recorded (%s)", len(entries), exc)
        return done

    def _send(self, notice: Notice) -> None:
        if notice.channel == SLACK and self.channels.slack is not None:
            self.channels.slack.send(notice.text)
        elif notice.channel == EMAIL and self.channels.mail is not None:
            self.channels.mail.send(notice.to, notice.subject, notice.text)
        else:
            raise DeliveryFailed(f"no {notice.channel} channel is set up", permanent=True)


def delivered(entries: Iterable[LogEntry]) -> dict[str, LogEntry]:
    """The last entry of each key: what the log says of it now."""
    last: dict[str, LogEntry] = {}
    for entry in entries:
        last[entry.key] = entry
    return last


def channels_from(settings: Settings) -> Channels:
    """The channels the settings set up: Slack with DEALREG_SLACK_WEBHOOK_URL, e-mail with DEALREG_SMTP_HOST
    (and DEALREG_SMTP_SENDER, which it needs: ValueError naming it)."""
    slack = mail = None
    if settings.slack_webhook_url is not None and settings.slack_webhook_url.get_secret_value().strip():
        from integrations.slack import SlackWebhook

        slack = SlackWebhook(settings.slack_webhook_url.get_secret_value().strip(),
                             timeout=settings.slack_timeout_seconds)
    if settings.smtp_host.strip():
        if not settings.smtp_sender.strip():
            raise ValueError("DEALREG_SMTP_SENDER: set the From address of partners' e-mails (DEALREG_SMTP_HOST is set)")
        from integrations.mail import Mailer

        password = settings.smtp_password.get_secret_value() if settings.smtp_password is not None else ""
        mail = Mailer(settings.smtp_host.strip(), port=settings.smtp_port, username=settings.smtp_username,
                      password=password, sender=settings.smtp_sender.strip(), starttls=settings.smtp_starttls)
    return Channels(slack, mail)
