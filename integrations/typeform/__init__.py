"""Typeform, one module per concern: signature (verifying a webhook on its raw bytes), mapping
(which Record field each question fills), payload (a `form_response` as a Record), suggest (a
mapping for a form whose refs Typeform generated: `dealreg typeform-mapping`), api (the Create and
Webhooks APIs: `dealreg init-typeform`). What a form owner does: docs/typeform.md.

The webhook's names are importable from here; `suggest` and `api` are imported from their modules
(only the CLI needs them, and `api` brings in an HTTP client)."""

from integrations.typeform.mapping import DEFAULT_MAPPING, MAPPABLE_FIELDS, validate_mapping
from integrations.typeform.payload import FORM_LINK, SOURCE, PayloadError, TypeformSubmission, parse_typeform
from integrations.typeform.signature import SIGNATURE_HEADER, SIGNATURE_PREFIX, SignatureError, sign, verify_signature

__all__ = ["DEFAULT_MAPPING", "FORM_LINK", "MAPPABLE_FIELDS", "SIGNATURE_HEADER", "SIGNATURE_PREFIX", "SOURCE",
           "PayloadError", "SignatureError", "TypeformSubmission", "parse_typeform", "sign", "validate_mapping",
           "verify_signature"]
