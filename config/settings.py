"""Typed settings from the environment (and a local `.env` file), all prefixed `DEALREG_`.

Build one `Settings` at the edge (`dealreg serve`, the Lambda entry point) and pass it
in; nothing else reads the environment. Tests build their own:
`Settings(_env_file=None, db=tmp_path / "t.db", api_key="k")`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

CONFIG_DIR = Path(__file__).resolve().parent
DEFAULT_RULES = CONFIG_DIR / "rules.example.yaml"
"""The example rules shipped with the package (`DEALREG_RULES` overrides it)."""

Secrets = Annotated[tuple[SecretStr, ...], NoDecode]
Names = Annotated[tuple[str, ...], NoDecode]


def _split(value: object) -> object:
    """`"a, b"` → ("a", "b"): several secrets may be live at once while one is rotated."""
    if value is None:
        return ()
    if isinstance(value, str):
        return tuple(part.strip() for part in value.split(",") if part.strip())
    if isinstance(value, SecretStr):
        return _split(value.get_secret_value())
    if isinstance(value, (list, tuple)):
        out: list[object] = []
        for item in value:
            parts = _split(item)
            out.extend(parts if isinstance(parts, tuple) else (item,))
        return tuple(out)
    return value


class Settings(BaseSettings):
    """Every setting of dealreg. The README's configuration table lists the same names."""

    model_config = SettingsConfigDict(
        env_prefix="DEALREG_", env_file=".env", env_file_encoding="utf-8", extra="ignore", frozen=True,
    )

    store: Literal["sqlite", "sheets", "hubspot"] = "sqlite"
    """Where registrations live: the embedded SQLite file, a Google Sheet, or HubSpot."""
    db: Path = Path("dealreg.db")
    """The SQLite file of the embedded store (created on first use)."""
    rules: Path = DEFAULT_RULES
    """The rules file (YAML)."""
    typeform_secret: Secrets = ()
    """Typeform webhook secret(s), comma-separated during a rotation; none: every Typeform call is refused."""
    api_key: Secrets = ()
    """Shared secret(s) for Clay and the JSON API, comma-separated; none: every call is refused."""
    typeform_mapping: dict[str, str] | None = None
    """JSON object {ref: field} merged over the default mapping, e.g. {"company": "company_name"}."""
    sheet_id: str = ""
    """The spreadsheet of the Sheets store: its id (the part of the URL between /d/ and /edit)."""
    google_credentials: SecretStr | None = None
    """The service account: a JSON file path, or the JSON itself."""
    sheets_api_url: str = ""
    """Send the Sheets store's API calls to this base URL instead of https://sheets.googleapis.com:
    a local emulator or the tests' fake (http://127.0.0.1:PORT). Credentials are not used then.
    Leave unset in production."""
    hubspot_token: SecretStr | None = None
    """The HubSpot store's access token: a private app's or a Service Key's (docs/hubspot.md)."""
    hubspot_api_url: str = ""
    """Send the HubSpot store's API calls to this base URL instead of https://api.hubapi.com: the
    tests' local HubSpot API (http://127.0.0.1:PORT). Leave unset in production."""
    hubspot_pipeline: str = "default"
    """The deal pipeline registrations are created in, by id or label ("default" is the pipeline
    every HubSpot account starts with; `dealreg init-hubspot --pipeline LABEL` creates one)."""
    hubspot_direct_pipelines: Names = ()
    """The deal pipelines whose open deals are the direct team's claims, by id or label,
    comma-separated; none: every pipeline but the registrations one."""
    hubspot_direct_stages: Names = ()
    """The stages of those pipelines that count, by id or label, comma-separated; none: every
    open stage (closed-won and closed-lost close a claim)."""
    hubspot_cache_seconds: float = Field(default=30.0, ge=0)
    """How long the HubSpot store may answer checks from memory before reading what changed."""
    max_body_bytes: int = Field(default=256 * 1024, gt=0)
    """Larger request bodies are refused with 413 before they are parsed."""
    sheets_cache_seconds: float = Field(default=30.0, ge=0)
    """How long the Sheets store may serve claims from memory before re-reading the tabs."""
    store_deadline_seconds: float = Field(default=10.0, gt=0)
    """How long one request may wait for the store (locks, retries) before answering 503."""
    slack_webhook_url: SecretStr | None = None
    """A Slack incoming webhook: conflicts, reviews, rejections, expiring claims and resolutions are
    posted there. Unset: no Slack messages."""
    slack_timeout_seconds: float = Field(default=5.0, gt=0)
    """How long one Slack call may take (on a background thread, never a request's)."""
    smtp_host: str = ""
    """The SMTP server partners' e-mails go through. Unset: no e-mail."""
    smtp_port: int = Field(default=587, gt=0, lt=65536)
    smtp_username: str = ""
    smtp_password: SecretStr | None = None
    smtp_sender: str = ""
    """The From address of partners' e-mails (required with DEALREG_SMTP_HOST)."""
    smtp_starttls: bool = True
    """Upgrade the SMTP connection with STARTTLS (false only for a server on a trusted network)."""
    remind_days: int = Field(default=14, ge=0, le=365)
    """How many days before a registration expires `dealreg sweep` reminds (0: no reminders)."""

    @field_validator("typeform_secret", "api_key", "hubspot_direct_pipelines", "hubspot_direct_stages",
                     mode="before")
    @classmethod
    def _several(cls, value: object) -> object:
        return _split(value)

    def typeform_secrets(self) -> tuple[str, ...]:
        return tuple(s.get_secret_value() for s in self.typeform_secret)

    def api_keys(self) -> tuple[str, ...]:
        return tuple(s.get_secret_value() for s in self.api_key)
