"""Recorded payloads (Typeform, Clay, API Gateway), loaded by one helper.

Files are stored byte for byte as a sender would send them; no secrets in them
(tests sign Typeform bodies with their own test secret).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def load_payload(name: str) -> bytes:
    """The file's raw bytes, exactly as stored (what a signature is computed over)."""
    return (HERE / name).read_bytes()


def load_json(name: str) -> Any:
    """The file's decoded JSON (a fresh object each call, safe to modify)."""
    return json.loads(load_payload(name))
