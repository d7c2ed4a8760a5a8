"""The check-event buffer of a store that pays for each API call (Sheets, HubSpot): the decision
events of checks wait in memory and are written in batches, so a stream of Clay checks costs one
write per 50 rather than one each. A process that dies loses at most what is waiting, never a
registration (a registration's own write is never left to the buffer).

Due when `flush_at` are waiting or the oldest is `max_age` seconds old (the stores pass their cache
time), and on `close()`. A batch that could not be written goes back in front of what arrived
meanwhile, in order; past `cap` the oldest are dropped, with an error log, so that a store down for
hours cannot grow the process without bound."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from dealreg.errors import StoreError

T = TypeVar("T")

FLUSH_EVENTS = 50
MAX_BUFFERED_EVENTS = 5_000


class EventBuffer(Generic[T]):
    """Items waiting to be written: a decision event, or what a backend keeps with one (HubSpot:
    the deal and company its note goes on). `write` sends one batch and raises when it could not.

    `name` is the backend's ("sheets", "hubspot"): its logger (`integrations.<name>`) gets the
    warnings, and the messages start with it."""

    def __init__(self, write: Callable[[list[T]], None], *, name: str, clock: Callable[[], float],
                 max_age: float, flush_at: int = FLUSH_EVENTS, cap: int = MAX_BUFFERED_EVENTS) -> None:
        self._write = write
        self.name, self.max_age, self.flush_at, self.cap = name, max_age, flush_at, cap
        self._clock = clock
        self._log = logging.getLogger(f"integrations.{name}")
        self._items: list[T] = []
        self._since = 0.0  # when the oldest waiting item came (or came back)
        self._lock = threading.Lock()  # the items
        self._flushing = threading.Lock()  # one batch at a time, so a batch put back keeps its place

    def __len__(self) -> int:
        return len(self._items)

    def record(self, item: T) -> None:
        """Buffer `item`; write the buffer when it is due. A write that fails keeps everything
        buffered and is logged: the decision was made and answered, only its record waits."""
        with self._lock:
            if not self._items:
                self._since = self._clock()
            self._items.append(item)
            due = len(self._items) >= self.flush_at or self._clock() - self._since >= self.max_age
        if due:
            try:
                self.flush()
            except StoreError as exc:
                self._log.warning("%s: could not write %d decision events yet: %s", self.name, len(self), exc)

    def flush(self, *also: T, write: Callable[[list[T]], None] | None = None) -> int:
        """Write what is buffered, then `also` (a registration's own event, sent with the checks
        before it), in one batch now; returns how many. On failure all of it goes back in the
        buffer and the error is raised. `write`: this batch's writer instead of the buffer's own
        (one bound to a registration's deadline)."""
        with self._flushing:
            items = [*self.take(), *also]
            if not items:
                return 0
            try:
                (write or self._write)(items)
            except BaseException:
                self.put_back(items)
                raise
            return len(items)

    def take(self) -> list[T]:
        """Everything buffered, now the caller's to write (with `put_back` when that fails)."""
        with self._lock:
            items, self._items = self._items, []
            return items

    def put_back(self, items: Sequence[T]) -> None:
        """`items` were not written: in front of what arrived meanwhile, the oldest dropped past the cap."""
        if not items:
            return
        with self._lock:
            if not self._items:
                self._since = self._clock()
            self._items[:0] = items
            dropped = len(self._items) - self.cap
            if dropped > 0:
                del self._items[:dropped]
        if dropped > 0:
            self._log.error("%s: dropped the %d oldest unwritten decision events (the store could not be written "
                            "for too long)", self.name, dropped)

    def close(self) -> None:
        """Write what is buffered; what cannot be written is logged once, as lost."""
        try:
            self.flush()
        except StoreError as exc:
            self._log.error("%s: %d decision events were not written: %s", self.name, len(self), exc)
