"""Recorded payloads (Typeform, Clay, API Gateway), loaded by one helper.

Files are stored byte for byte as a sender would send them; no secrets in them
(tests sign Typeform bodies with their own test secret).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def load_payload(name: str) -> bytes:
    """The file's raw bytes, exactly as stored (what a signature is computed over)."""
    return (HERE / name).read_bytes()


def load_json(name: str) -> Any:
    """The file's decoded JSON (a fresh object each call, safe to modify)."""
    return json.loads(load_payload(name))


def delivered_now(name: str, now: datetime | None = None) -> bytes:
    """A recorded Typeform payload as Typeform would deliver it at `now` (default: the real
    clock): `landed_at` and `submitted_at` moved to that moment, every other byte as stored. For
    tests that run the app on the real clock, where a response submitted months ago would be
    refused (its protection window over before it arrived)."""
    stamp = (now or datetime.now(UTC)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ").encode("ascii")
    raw = load_payload(name)
    response = json.loads(raw)["form_response"]
    for key in ("landed_at", "submitted_at"):
        if isinstance(response.get(key), str):
            raw = raw.replace(f'"{key}": "{response[key]}"'.encode(), f'"{key}": "'.encode() + stamp + b'"', 1)
    return raw
