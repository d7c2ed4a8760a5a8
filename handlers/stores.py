"""The store `DEALREG_STORE` names, built from the settings: the one place that knows every backend.
The backends themselves (integrations/) take plain arguments and never read the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dealreg.errors import StoreError
from integrations.store import Store

if TYPE_CHECKING:
    import gspread

    from config.settings import Settings
    from integrations.sheets import SheetsStore


def open_store(settings: Settings) -> Store:
    """The backend `DEALREG_STORE` names. Missing or unusable settings raise StoreError naming
    the fix; nothing is sent to an outside service until the store is first used."""
    if settings.store == "sqlite":
        from integrations.sqlite import SQLiteStore

        return SQLiteStore(settings.db, deadline_seconds=settings.store_deadline_seconds)
    if settings.store == "sheets":
        return open_sheets_store(settings)
    raise StoreError(f"DEALREG_STORE={settings.store} is not available; use sqlite or sheets")


def open_sheets_store(settings: Settings, *, client: gspread.Client | None = None, **options: Any) -> SheetsStore:
    """The Sheets store of DEALREG_SHEET_ID, signed in with DEALREG_GOOGLE_CREDENTIALS (or pointed
    at the emulator of DEALREG_SHEETS_API_URL, or through `client`, which tests pass)."""
    from integrations.sheets import SheetsStore, emulator_client, service_account_client, spreadsheet_id

    sheet = spreadsheet_id(settings.sheet_id)
    email = ""
    if client is None:
        if settings.sheets_api_url:
            client = emulator_client(settings.sheets_api_url)
        else:
            secret = settings.google_credentials.get_secret_value() if settings.google_credentials else ""
            client, email = service_account_client(secret)
    return SheetsStore(client, sheet, cache_seconds=settings.sheets_cache_seconds,
                       deadline_seconds=settings.store_deadline_seconds, client_email=email, **options)
