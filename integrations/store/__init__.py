"""The store: the contract every backend implements (`contract`), the rows they keep (`rows`), and
what more than one backend needs: the check-event buffer of the stores that pay per API call
(`events`) and the first decisions a redelivery is answered with (`first_decisions`).
Backends: integrations/sqlite/, integrations/sheets/, integrations/hubspot/."""

from integrations.store.contract import (
    Changes,
    Cursor,
    Health,
    LogEntry,
    Racing,
    Session,
    Store,
    StoreError,
    StoreUnavailable,
    Tables,
    Write,
)

__all__ = ["Changes", "Cursor", "Health", "LogEntry", "Racing", "Session", "Store", "StoreError", "StoreUnavailable",
           "Tables", "Write"]
