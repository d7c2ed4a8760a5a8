"""Verifying a Typeform webhook: the `Typeform-Signature` header is the base64 HMAC-SHA256 of the raw
body under the webhook's secret, compared in constant time before anything is parsed; no secret
configured refuses everything. Pure: no I/O.

Vendor facts: https://www.typeform.com/developers/webhooks/secure-your-webhooks/
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Sequence

from dealreg.errors import DealregError

SIGNATURE_HEADER = "Typeform-Signature"
SIGNATURE_PREFIX = "sha256="


class SignatureError(DealregError):
    """The request is not signed by Typeform with a secret we hold. `reason` says why."""

    def __init__(self, reason: str):
        self.reason = reason
        super().__init__(reason)


def sign(raw: bytes, secret: str) -> str:
    """The `Typeform-Signature` header value Typeform sends for `raw` under `secret`."""
    digest = hmac.new(secret.encode("utf-8"), raw, hashlib.sha256).digest()
    return SIGNATURE_PREFIX + base64.b64encode(digest).decode("ascii")


def verify_signature(raw: bytes, header: str | None, secrets: Sequence[str]) -> None:
    """Raise SignatureError unless `header` is a valid signature of `raw` under one of `secrets`.

    Several secrets are accepted so the secret can be rotated without dropping calls.
    No secret configured refuses everything. Never raises anything but SignatureError.
    """
    if isinstance(secrets, (str, bytes)):
        # A bare string is a Sequence[str] of one-character secrets: accepting it would make
        # every single-character key valid. Treat it as one secret instead.
        secrets = [secrets.decode("utf-8") if isinstance(secrets, bytes) else secrets]
    keys = [s.encode("utf-8") for s in secrets if isinstance(s, str) and s]
    if not keys:
        raise SignatureError("no Typeform secret is configured (set DEALREG_TYPEFORM_SECRET)")
    if header is None or (isinstance(header, str) and not header.strip()):
        raise SignatureError(f"missing {SIGNATURE_HEADER} header")
    try:
        given = _decode_header(header)
    except (ValueError, TypeError, binascii.Error):
        raise SignatureError(
            f"malformed {SIGNATURE_HEADER} header (expected {SIGNATURE_PREFIX}<base64 of HMAC-SHA256>)"
        ) from None
    matched = False
    for key in keys:  # no early exit: the time taken does not depend on which secret matched
        expected = hmac.new(key, bytes(raw), hashlib.sha256).digest()
        matched |= hmac.compare_digest(expected, given)
    if not matched:
        raise SignatureError(f"{SIGNATURE_HEADER} does not match the body")


def _decode_header(header: str) -> bytes:
    """The 32 digest bytes of a `sha256=<base64>` header; ValueError when it is not one."""
    if not isinstance(header, str):
        raise TypeError("the header is not text")
    value = header.strip().encode("ascii")  # UnicodeEncodeError is a ValueError
    prefix = SIGNATURE_PREFIX.encode("ascii")
    if not value.startswith(prefix):
        raise ValueError("wrong prefix")
    encoded = value[len(prefix) :]
    digest = base64.b64decode(encoded, validate=True)
    # b64decode ignores the unused low bits of the last character, so two headers can
    # decode to the same digest; only the canonical spelling (what Typeform sends) counts.
    if len(digest) != hashlib.sha256().digest_size or base64.b64encode(digest) != encoded:
        raise ValueError("not a canonical base64 SHA-256 digest")
    return digest
