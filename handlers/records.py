"""Moved to `dealreg.records` (it is pure); this alias goes once every caller imports from there."""
from dealreg.records import InputError, canonical_key, field_for, parse_datetime, parse_record  # noqa: F401
