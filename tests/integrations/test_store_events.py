"""The check-event buffer the Sheets and HubSpot stores share (integrations/store/events.py): due at
50 or when as old as the cache, a failed batch kept in order, the oldest dropped past the cap with an
error log, and what `close()` cannot write logged once. The stores' own tests show it in place
(tests/integrations/test_sheets.py, test_hubspot_store.py)."""

from __future__ import annotations

import logging
import threading

import pytest

from dealreg.errors import StoreError, StoreUnavailable
from integrations.store.events import EventBuffer


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


class Target:
    """Where the batches go: each write is kept, or refused while `down`."""

    def __init__(self) -> None:
        self.batches: list[list[str]] = []
        self.down: Exception | None = None

    def __call__(self, items: list[str]) -> None:
        if self.down is not None:
            raise self.down
        self.batches.append(list(items))


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def target() -> Target:
    return Target()


def buffer_for(target: Target, clock: Clock, **options: int) -> EventBuffer[str]:
    return EventBuffer(target, name="sheets", clock=clock, max_age=30.0, **{"flush_at": 3, **options})


def test_items_wait_until_as_many_as_flush_at_then_go_in_one_batch_in_order(target, clock):
    events = buffer_for(target, clock)
    events.record("a")
    events.record("b")
    assert target.batches == [] and len(events) == 2
    events.record("c")
    assert target.batches == [["a", "b", "c"]] and len(events) == 0


def test_items_as_old_as_max_age_are_due_with_the_next_one(target, clock):
    events = buffer_for(target, clock)
    events.record("a")
    clock.now += 29.9
    events.record("b")
    assert target.batches == []
    clock.now += 0.1  # the oldest is now 30 s old
    events.record("c2")
    assert target.batches == [["a", "b", "c2"]]


def test_age_counts_from_the_oldest_waiting_item_not_from_the_last_flush(target, clock):
    events = buffer_for(target, clock, flush_at=100)
    events.record("a")
    events.flush()
    clock.now += 60  # nothing waited meanwhile
    events.record("b")
    assert target.batches == [["a"]] and len(events) == 1


def test_a_failed_batch_is_kept_logged_and_not_raised_to_the_check(target, clock, caplog):
    events = buffer_for(target, clock)
    target.down = StoreUnavailable("the spreadsheet did not answer")
    with caplog.at_level(logging.WARNING, logger="integrations.sheets"):
        for item in "abc":
            events.record(item)  # the check was answered: its event waits
    assert len(events) == 3 and target.batches == []
    assert [r.getMessage() for r in caplog.records] == [
        "sheets: could not write 3 decision events yet: the spreadsheet did not answer"]
    target.down = None
    assert events.flush() == 3
    assert target.batches == [["a", "b", "c"]]


def test_an_error_that_is_not_the_stores_reaches_the_caller_and_the_items_stay(target, clock):
    events = buffer_for(target, clock, flush_at=1)
    target.down = KeyError("a bug")
    with pytest.raises(KeyError):
        events.record("a")
    assert len(events) == 1


def test_flush_raises_and_puts_the_batch_back_before_what_came_meanwhile(target, clock):
    events = buffer_for(target, clock, flush_at=100)
    events.record("a")
    events.record("b")
    target.down = StoreError("refused")
    with pytest.raises(StoreError):
        events.flush()
    events.record("c")
    target.down = None
    assert events.flush() == 3
    assert target.batches == [["a", "b", "c"]]


def test_also_goes_after_the_buffered_items_and_back_with_them_when_refused(target, clock):
    events = buffer_for(target, clock, flush_at=100)
    events.record("check")
    target.down = StoreUnavailable("down")
    with pytest.raises(StoreUnavailable):
        events.flush("register")
    assert len(events) == 2  # the registration's own event waits with the check's
    target.down = None
    assert events.flush("register 2") == 3
    assert target.batches == [["check", "register", "register 2"]]


def test_a_batch_can_go_through_its_own_writer_bound_to_a_registrations_deadline(target, clock):
    events = buffer_for(target, clock, flush_at=100)
    events.record("check")
    own = Target()
    assert events.flush("register", write=own) == 2
    assert (own.batches, target.batches) == ([["check", "register"]], [])
    own.down = StoreUnavailable("past the deadline")
    with pytest.raises(StoreUnavailable):
        events.flush("register 2", write=own)
    assert events.flush() == 1 and target.batches == [["register 2"]]  # back in the buffer, for the next write


def test_flush_with_nothing_waiting_writes_nothing(target, clock):
    events = buffer_for(target, clock)
    assert events.flush() == 0
    assert target.batches == []


def test_take_and_put_back_let_a_store_send_the_items_with_its_own_write(target, clock):
    events = buffer_for(target, clock, flush_at=100)
    events.record("a")
    taken = events.take()
    assert taken == ["a"] and len(events) == 0
    events.record("b")
    events.put_back(taken)  # the write they went with failed
    assert events.take() == ["a", "b"]
    events.put_back([])
    assert len(events) == 0


def test_past_the_cap_the_oldest_are_dropped_with_an_error_log(target, clock, caplog):
    events = buffer_for(target, clock, flush_at=100, cap=4)
    for item in "abc":
        events.record(item)
    batch = events.take()
    events.record("d")
    events.record("e")
    with caplog.at_level(logging.ERROR, logger="integrations.sheets"):
        events.put_back(batch)
    assert events.take() == ["b", "c", "d", "e"]  # a, the oldest, is gone
    [record] = caplog.records
    assert record.levelno == logging.ERROR and "dropped the 1 oldest unwritten decision events" in record.getMessage()


def test_close_writes_what_waits(target, clock):
    events = buffer_for(target, clock, flush_at=100)
    events.record("a")
    events.close()
    assert target.batches == [["a"]]


def test_close_logs_what_it_could_not_write_once_as_an_error(target, clock, caplog):
    events = buffer_for(target, clock, flush_at=100)
    events.record("a")
    target.down = StoreUnavailable("gone")
    with caplog.at_level(logging.WARNING, logger="integrations.sheets"):
        events.close()  # never raises: the process is going away
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.ERROR, "sheets: 1 decision events were not written: gone")]


def test_items_recorded_from_many_threads_are_each_written_once(target, clock):
    events = buffer_for(target, clock, flush_at=7)
    threads = [threading.Thread(target=lambda n=n: [events.record(f"{n}-{i}") for i in range(100)])
               for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    events.flush()
    written = [item for batch in target.batches for item in batch]
    assert sorted(written) == sorted(f"{n}-{i}" for n in range(8) for i in range(100))
    for n in range(8):  # each thread's items in the order it recorded them
        mine = [item for item in written if item.startswith(f"{n}-")]
        assert mine == [f"{n}-{i}" for i in range(100)]
