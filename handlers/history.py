"""Load the stored history (dealreg/history.py) from a store, for the report and the replay.

Registrations and the reference lists come the way the service reads them (`Store.changes`:
rows that cannot be read are quarantined, naming the cell); the decision log and the Partners
list with its joined dates come from the store's whole tabs (`Tables.read_rows`)."""

from __future__ import annotations

from typing import Any

from dealreg.errors import StoreError
from dealreg.history import History, Logged, Partner
from dealreg.records import parse_datetime
from integrations.store import Store


def load_history(store: Store) -> History:
    """Everything the report and the replay read. Raises StoreError when the store cannot list its
    tabs (a store without `read_rows`), StoreUnavailable when it does not answer."""
    tables: Any = store
    if not hasattr(tables, "read_rows"):
        raise StoreError(f"the {store.backend} store cannot list its decisions and partners, which the report and "
                         f"the replay read")
    changes = store.changes(None)
    problems: list[str] = []
    decisions: list[Logged] = []
    for n, row in enumerate(tables.read_rows("decisions"), start=2):
        try:
            decided_at = parse_datetime(row.get("decided_at", ""))
        except ValueError as exc:
            problems.append(f"Decisions row {n} ({row.get('event_id', '')}): decided_at {exc}; left out")
            continue
        decisions.append(Logged(decided_at, row.get("action", ""), row.get("party", ""), row.get("status", ""),
                                row.get("match", ""), row.get("rule", ""), row.get("registration_id", ""),
                                row.get("rules_hash", "")))
    partners: list[Partner] = []
    for row in tables.read_rows("partners"):
        name = " ".join((row.get("partner") or "").split())
        if not name:
            continue
        joined = None
        if (text := (row.get("joined_at") or "").strip()):
            try:
                joined = parse_datetime(text)
            except ValueError as exc:
                problems.append(f"Partners: the joined_at of {name}: {exc}; left out of the activation chart")
        partners.append(Partner(name, joined))
    return History(changes.registrations, tuple(decisions), tuple(partners), changes.named_accounts,
                   changes.territories, changes.quarantined, tuple(problems))
