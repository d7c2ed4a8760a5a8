"""The SQLite store, the embedded default: schema (its tables and their migrations) and store (the
store contract on one local file)."""

from integrations.sqlite.schema import MIGRATIONS
from integrations.sqlite.store import SQLiteStore

__all__ = ["MIGRATIONS", "SQLiteStore"]
