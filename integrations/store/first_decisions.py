"""The first decision of a registration, as a backend finds it to answer a redelivery: remembered
while the process lives (`Remembered`), else read back from what the store holds (a register event,
else the row's own decision columns: `row_decision`). A registration that cannot be read back is
answered needs_review, naming it (`unreadable`): never clear, never an error the sender retries
for ever."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Mapping

from dealreg.errors import StoreError
from dealreg.models import Decision, MatchLevel, Quarantined, Status
from integrations.store.rows import decision_from_fields


class Remembered:
    """The first decisions this process registered or read back, by registration id and by
    (source, external id), so that a redelivery costs no read. Bounded: past `size` entries the
    oldest are forgotten (and read back again if they are ever asked for)."""

    def __init__(self, size: int = 20_000) -> None:
        self.size = size
        self._decisions: OrderedDict[tuple[str, ...], Decision] = OrderedDict()
        self._lock = threading.Lock()

    def remember(self, decision: Decision, registration_id: str, source: str, external_id: str) -> None:
        with self._lock:
            self._decisions[("id", registration_id)] = decision
            if external_id:
                self._decisions[("ext", source, external_id)] = decision
            while len(self._decisions) > self.size:
                self._decisions.popitem(last=False)

    def of_registration(self, registration_id: str) -> Decision | None:
        return self._decisions.get(("id", registration_id))

    def of_external(self, source: str, external_id: str) -> Decision | None:
        return self._decisions.get(("ext", source, external_id)) if external_id else None


def row_decision(row: Mapping[str, str], unread: Quarantined | None = None) -> Decision:
    """The decision a Registrations row's own columns record: what a registration imported (or
    added by hand) without its register event was answered with; an empty status was taken as a
    claim, so it reads as clear. Columns edited into something that cannot be answered with are
    `unreadable` (`unread`: the row's quarantine, when the row itself cannot be read either)."""
    try:
        return decision_from_fields({**row, "status": row.get("status") or Status.CLEAR.value},
                                    party=row.get("partner", ""))
    except (ValueError, StoreError):
        return unreadable(row.get("registration_id", ""), unread=unread)


def unreadable(registration_id: str, where: str = "", unread: Quarantined | None = None) -> Decision:
    """The answer to a redelivery whose first registration cannot be read back: needs review,
    naming the registration (`where`: how the store shows it, after the id) and, from `unread`,
    the cells to fix."""
    fix = f" Fix: {unread.describe()}." if unread is not None else ""
    return Decision(Status.NEEDS_REVIEW, "", "", "", registration_id, MatchLevel.NONE, 0, (), "quarantine",
                    f"This submission was registered before as {registration_id}{where}, which cannot be read; "
                    f"a person should check it.{fix}")
