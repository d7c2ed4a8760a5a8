"""The store: the contract every backend implements (`contract`) and the rows they keep (`rows`).
Backends: integrations/sqlite.py, integrations/sheets/, integrations/hubspot/."""

from integrations.store.contract import (
    Changes,
    Cursor,
    Health,
    Racing,
    Session,
    Store,
    StoreError,
    StoreUnavailable,
    Tables,
    Write,
)

__all__ = ["Changes", "Cursor", "Health", "Racing", "Session", "Store", "StoreError", "StoreUnavailable", "Tables",
           "Write"]
