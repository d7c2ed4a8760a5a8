"""The normalised parts of an account's keys, in one import: company names (`dealreg.names`),
domains (`dealreg.domains`), LinkedIn and DUNS (`dealreg.ids`) and text (`dealreg.text`).

Each lives in its own module; this one only gathers the names callers use. The rules follow
SPEC ("Account matching").
"""

from __future__ import annotations

from dealreg.domains import account_domain, email_domain, is_free_mail, registered_domain
from dealreg.ids import duns_key, linkedin_key
from dealreg.names import NameKey, name_key
from dealreg.text import clean_text, defang, repair_mojibake, undefang

__all__ = [
    "NameKey", "account_domain", "clean_text", "defang", "duns_key", "email_domain", "is_free_mail",
    "linkedin_key", "name_key", "registered_domain", "repair_mojibake", "undefang",
]
