"""Validates the labelled matching set (registry.csv, queries.csv) and prints counts per kind.

Run: /work/main/.venv/bin/python tests/data/matching/check_set.py   (exit status 1 on any problem)
"""

from __future__ import annotations

import csv
import sys
import unicodedata
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
REGISTRY_COLUMNS = ["registration_id", "company_name", "company_domain", "linkedin_url", "duns", "country"]
QUERY_COLUMNS = ["query_id", "company_name", "company_domain", "contact_email", "linkedin_url",
                 "expected_registration_id", "kind", "note"]
KINDS = ["domain_variant", "email_only", "name_only_variant", "name_typo", "homoglyph", "linkedin",
         "acronym_or_rename", "alias_domain", "hard_negative", "same_name_other_domain", "negative"]
POSITIVE_KINDS = set(KINDS[:8])
LIMITS = {"acronym_or_rename": 12, "alias_domain": 15}
NAME_ONLY_KINDS = {"name_only_variant", "name_typo", "homoglyph"}
# Free-mail and ISP mail: never evidence for a label, so an email on one of these is not a work email.
FREE_MAIL = {"gmail.com", "googlemail.com", "outlook.com", "hotmail.com", "live.com", "yahoo.com", "yahoo.co.jp",
             "icloud.com", "aol.com", "proton.me", "protonmail.com", "gmx.de", "gmx.net", "web.de", "t-online.de",
             "orange.fr", "free.fr", "libero.it", "bigpond.com", "naver.com", "qq.com", "163.com", "126.com",
             "rediffmail.com", "mail.ru", "yandex.ru"}


def work_email(email: str) -> bool:
    email = email.strip()
    return bool(email) and email.rsplit("@", 1)[-1].lower() not in FREE_MAIL


def strong_key(x: dict[str, str]) -> bool:
    """The record carries a website, a work email or a LinkedIn URL."""
    return bool(x["company_domain"].strip() or x["linkedin_url"].strip() or work_email(x["contact_email"]))


def read(name: str, columns: list[str], problems: list[str]) -> list[dict[str, str]]:
    with (HERE / name).open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if reader.fieldnames != columns:
            problems.append(f"{name}: columns {reader.fieldnames} != {columns}")
        rows = list(reader)
    for i, row in enumerate(rows, 2):
        if None in row or any(v is None for v in row.values()):
            problems.append(f"{name}:{i}: wrong number of fields")
    return rows


def main() -> int:
    problems: list[str] = []
    registry = read("registry.csv", REGISTRY_COLUMNS, problems)
    queries = read("queries.csv", QUERY_COLUMNS, problems)

    reg_ids = [r["registration_id"] for r in registry]
    for rid, n in Counter(reg_ids).items():
        if n > 1:
            problems.append(f"registry: duplicate registration_id {rid}")
    for r in registry:
        if not r["company_name"].strip() or not r["company_domain"].strip() or not r["country"].strip():
            problems.append(f"registry {r['registration_id']}: empty name, domain or country")
        if r["duns"].strip():
            digits = "".join(c for c in r["duns"] if c.isdigit())
            if len(digits) != 9:
                problems.append(f"registry {r['registration_id']}: DUNS is not 9 digits")
    for name, n in Counter(r["company_name"].strip().casefold() for r in registry).items():
        if n > 1:
            problems.append(f"registry: company name {name!r} appears {n} times")

    known = set(reg_ids)
    qids = [x["query_id"] for x in queries]
    for qid, n in Counter(qids).items():
        if n > 1:
            problems.append(f"queries: duplicate query_id {qid}")
    content = Counter((x["company_name"], x["company_domain"], x["contact_email"], x["linkedin_url"]) for x in queries)
    for key, n in content.items():
        if n > 1:
            problems.append(f"queries: the same row appears {n} times: {key}")
    li_registry = {r["registration_id"] for r in registry if r["linkedin_url"].strip()}
    for x in queries:
        qid, kind, expected = x["query_id"], x["kind"], x["expected_registration_id"].strip()
        if kind not in KINDS:
            problems.append(f"{qid}: unknown kind {kind!r}")
            continue
        if expected and expected not in known:
            problems.append(f"{qid}: expected_registration_id {expected} is not in the registry")
        if (kind in POSITIVE_KINDS) != bool(expected):
            problems.append(f"{qid}: kind {kind} but expected_registration_id is {expected or 'empty'}")
        if not any(x[c].strip() for c in ("company_name", "company_domain", "contact_email", "linkedin_url")):
            problems.append(f"{qid}: no field at all")
        if kind == "linkedin" and (not x["linkedin_url"].strip() or expected not in li_registry):
            problems.append(f"{qid}: linkedin query without a LinkedIn URL on both sides")
        if kind == "email_only" and (x["company_domain"].strip() or not x["contact_email"].strip()):
            problems.append(f"{qid}: email_only must carry an email and no website")
        if kind in NAME_ONLY_KINDS and (x["company_domain"].strip() or x["linkedin_url"].strip()):
            problems.append(f"{qid}: {kind} must not carry a website or LinkedIn URL")
        if kind in NAME_ONLY_KINDS and work_email(x["contact_email"]):
            problems.append(f"{qid}: {kind} must not carry a work email (free-mail or ISP mail only)")
        if kind == "domain_variant" and not x["company_domain"].strip():
            problems.append(f"{qid}: domain_variant without a website")
        if kind == "homoglyph" and all(ord(c) < 128 or unicodedata.category(c).startswith("L") and
                                       unicodedata.name(c, "").startswith("LATIN") for c in x["company_name"]):
            problems.append(f"{qid}: homoglyph query has no look-alike character")

    kinds = Counter(x["kind"] for x in queries)
    for kind, limit in LIMITS.items():
        if kinds[kind] > limit:
            problems.append(f"{kind}: {kinds[kind]} queries, at most {limit}")

    positives = sum(1 for x in queries if x["expected_registration_id"].strip())
    print(f"registry rows: {len(registry)} ({len(li_registry)} with a LinkedIn URL, "
          f"{sum(1 for r in registry if r['duns'].strip())} with a DUNS, "
          f"{len({r['country'] for r in registry})} countries)")
    print(f"queries: {len(queries)} (positives {positives}, negatives {len(queries) - positives}; "
          f"{len({x['expected_registration_id'] for x in queries if x['expected_registration_id']})} distinct registrations hit)")
    width = max(map(len, KINDS))
    for kind in KINDS:
        print(f"  {kind:<{width}}  {kinds[kind]:>4}")
    pos = [x for x in queries if x["expected_registration_id"].strip()]
    strong = sum(1 for x in pos if strong_key(x))
    if pos:
        print(f"positives with a website, a work email or a LinkedIn URL: {strong} ({100 * strong / len(pos):.1f}%); "
              f"name-only: {len(pos) - strong} ({100 * (len(pos) - strong) / len(pos):.1f}%)")
    for p in problems:
        print("PROBLEM:", p)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
