"""The store `DEALREG_STORE` names, built from the settings: the one place that knows every backend.
The backends themselves (integrations/) take plain arguments and never read the settings."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from dealreg.errors import StoreError
from integrations.store import Store

if TYPE_CHECKING:
    import gspread

    from config.settings import Settings
    from integrations.hubspot import HubSpotStore
    from integrations.sheets import SheetsStore


def open_store(settings: Settings) -> Store:
    """The backend `DEALREG_STORE` names. Missing or unusable settings raise StoreError naming
    the fix; nothing is sent to an outside service until the store is first used."""
    if settings.store == "sqlite":
        from integrations.sqlite import SQLiteStore

        return SQLiteStore(settings.db, deadline_seconds=settings.store_deadline_seconds)
    if settings.store == "sheets":
        return open_sheets_store(settings)
    if settings.store == "hubspot":
        return open_hubspot_store(settings)
    raise StoreError(f"DEALREG_STORE={settings.store} is not available; use sqlite, sheets or hubspot")


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


def open_hubspot_store(settings: Settings, **options: Any) -> HubSpotStore:
    """The HubSpot store signed in with DEALREG_HUBSPOT_TOKEN (at DEALREG_HUBSPOT_API_URL when set:
    the tests' local HubSpot API). `options` go to the store (tests pass clocks)."""
    from integrations.hubspot import HUBSPOT_URL, HubSpotAPI, HubSpotStore

    token = settings.hubspot_token.get_secret_value() if settings.hubspot_token else ""
    transport = {k: options.pop(k) for k in ("clock", "sleep", "rand") if k in options}
    api = HubSpotAPI(token, base_url=settings.hubspot_api_url or HUBSPOT_URL,
                     deadline_seconds=settings.store_deadline_seconds, **transport)
    return HubSpotStore(api, pipeline=settings.hubspot_pipeline, direct_pipelines=settings.hubspot_direct_pipelines,
                        direct_stages=settings.hubspot_direct_stages, cache_seconds=settings.hubspot_cache_seconds,
                        **options)
