"""Signing in to Google Sheets: the service account's key, a spreadsheet id from a URL, and a
client pointed at a local emulator (DEALREG_SHEETS_API_URL) for tests and try-outs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import google.auth.credentials
import gspread
import requests
from gspread.utils import extract_id_from_url
from requests.adapters import HTTPAdapter

from dealreg.errors import StoreError

SHEETS_ORIGIN = "https://sheets.googleapis.com"
SCOPES = ("https://www.googleapis.com/auth/spreadsheets",)
SHEET_ID_HELP = "Set DEALREG_SHEET_ID to the spreadsheet id (the part of the URL between /d/ and /edit)"
CREDENTIALS_HELP = ("Set DEALREG_GOOGLE_CREDENTIALS to the service account's JSON key: the path of the key "
                    "file, or the JSON itself")


class _StaticToken(google.auth.credentials.Credentials):
    """A fixed bearer token for an emulator, which accepts any; refresh() never calls out."""

    def __init__(self, token: str = "emulator") -> None:
        super().__init__()
        self.token = token

    def refresh(self, request: Any) -> None:
        self.token = self.token or "emulator"


class _Redirect(HTTPAdapter):
    """Sends https://sheets.googleapis.com/… to another base URL, path and query unchanged."""

    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")

    def send(self, request: requests.PreparedRequest, **kwargs: Any) -> requests.Response:  # type: ignore[override]  # requests' options pass through as they are
        if request.url and request.url.startswith(SHEETS_ORIGIN + "/"):
            request.url = self.base_url + request.url[len(SHEETS_ORIGIN):]
        return super().send(request, **kwargs)


def emulator_client(base_url: str) -> gspread.Client:
    """A gspread client whose Sheets calls go to `base_url` (DEALREG_SHEETS_API_URL): a local
    emulator or the tests' fake. Only the transport changes; gspread itself is untouched."""
    if not base_url.startswith(("http://", "https://")):
        raise StoreError(f"DEALREG_SHEETS_API_URL must be an http:// or https:// URL, got {base_url!r}")
    client = gspread.Client(auth=_StaticToken())
    client.http_client.session.mount(SHEETS_ORIGIN + "/", _Redirect(base_url))
    return client


def service_account_info(value: str) -> dict[str, Any]:
    """The service-account key from DEALREG_GOOGLE_CREDENTIALS: the JSON itself (it starts
    with `{`) or the path of the key file. Messages never quote the key."""
    text = value.strip()
    if not text:
        raise StoreError(CREDENTIALS_HELP + ".")
    if text.startswith("{"):
        where, raw = "DEALREG_GOOGLE_CREDENTIALS", text
    else:
        path = Path(text).expanduser()
        where = f"DEALREG_GOOGLE_CREDENTIALS ({path})"
        try:
            raw = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise StoreError(f"{where}: no such file. {CREDENTIALS_HELP}.") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise StoreError(f"{where}: cannot read the file ({exc.__class__.__name__}). {CREDENTIALS_HELP}.") from None
    try:
        info = json.loads(raw)
    except ValueError:
        raise StoreError(f"{where} is not JSON. {CREDENTIALS_HELP} (IAM → Service accounts → Keys → "
                         f"Add key → JSON).") from None
    if not isinstance(info, dict) or info.get("type") != "service_account":
        kind = info.get("type") if isinstance(info, dict) else type(info).__name__
        raise StoreError(f"{where} is not a service-account key (type {kind!r}); create a JSON key for a "
                         f"service account, not an OAuth client.")
    missing = [k for k in ("client_email", "private_key", "token_uri") if not info.get(k)]
    if missing:
        raise StoreError(f"{where} lacks {', '.join(missing)}; download a new JSON key for the service account.")
    return info


def service_account_client(value: str) -> tuple[gspread.Client, str]:
    """A gspread client signed in as the service account (no network call yet), and its email."""
    from google.oauth2 import service_account

    info = service_account_info(value)
    try:
        credentials = service_account.Credentials.from_service_account_info(info, scopes=list(SCOPES))
    except (ValueError, TypeError) as exc:
        raise StoreError(f"DEALREG_GOOGLE_CREDENTIALS: the key cannot be used ({exc.__class__.__name__}); "
                         f"download a new JSON key for the service account.") from None
    return gspread.Client(auth=credentials), str(info["client_email"])


def spreadsheet_id(value: str) -> str:
    """The spreadsheet id from DEALREG_SHEET_ID (a pasted URL works too)."""
    text = value.strip()
    if not text:
        raise StoreError(SHEET_ID_HELP + ".")
    if "/" in text:
        try:
            return extract_id_from_url(text)
        except gspread.exceptions.NoValidUrlKeyFound:
            raise StoreError(f"DEALREG_SHEET_ID {text!r} is not a spreadsheet URL. {SHEET_ID_HELP}.") from None
    return text
