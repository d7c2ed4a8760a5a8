"""Validates the labelled matching sets and prints counts per kind: the first set (registry.csv,
queries.csv), the extended set of issue 12 (registry.csv + registry_ext.csv, queries_ext.csv,
aliases.csv) and the fresh set held out from it (registry_fresh.csv, queries_fresh.csv).

Run: .venv/bin/python tests/data/matching/check_set.py   (exit status 1 on any problem)
"""

from __future__ import annotations

import csv
import sys
import unicodedata
from collections import Counter
from datetime import date
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
    extended = check_extended(registry, problems)
    check_extended(extended, problems, label="fresh set", files=("registry_fresh.csv", "queries_fresh.csv"),
                   min_per_kind=0)
    for p in problems:
        print("PROBLEM:", p)
    print("OK" if not problems else f"{len(problems)} problem(s)")
    return 1 if problems else 0


# --- the extended set (issue 12) ---------------------------------------------------------------

EXT_REGISTRY_COLUMNS = REGISTRY_COLUMNS + ["contact_email", "submitted_at", "expires_at"]
EXT_QUERY_COLUMNS = ["query_id", "company_name", "company_domain", "contact_email", "linkedin_url",
                     "expected_registration_id", "kind", "guards", "note"]
EXT_POSITIVE_KINDS = ["typo_short", "one_word_exact", "expired_by_name", "other_country", "legal_form_front", "mojibake",
                      "product_division", "brand_former", "abbreviation_order", "careless_fields",
                      "contact_email_domain", "isp_mail_domain"]
EXT_NEGATIVE_KINDS = ["hard_negative", "negative"]
AS_OF = date(2026, 3, 1)  # the evaluation date (tests/core/gold.py AS_OF); registry.csv's claims run 2026-01-01 to 04-01
MIN_PER_KIND = 25
MIN_NAME_ONLY_SHARE = 0.40
# ISP and webmail domains of the isp_mail_domain rows (all in dealreg's free-mail list), besides FREE_MAIL.
ISP_MAIL = {"proton.me", "fastmail.com", "tuta.com", "sfr.fr", "telenet.be", "seznam.cz", "wp.pl", "sohu.com",
            "nifty.com", "biglobe.ne.jp", "uol.com.br", "rogers.com", "iinet.net.au", "sky.com"}


def host(value: str) -> str:
    """The host of a website or email as typed, lowercased, without "www." (no public-suffix logic)."""
    v = value.strip().lower().split("@")[-1].split("://")[-1].split("/")[0]
    return v[4:] if v.startswith("www.") else v


def name_only(x: dict[str, str]) -> bool:
    """No website, no LinkedIn page, no work email (a free-mail, ISP or malformed address is none)."""
    if x["company_domain"].strip() or x["linkedin_url"].strip():
        return False
    email = x["contact_email"].strip()
    return "@" not in email or host(email) in FREE_MAIL | ISP_MAIL


def check_extended(first_registry: list[dict[str, str]], problems: list[str], *, label: str = "extended set",
                   files: tuple[str, str] = ("registry_ext.csv", "queries_ext.csv"),
                   min_per_kind: int = MIN_PER_KIND) -> list[dict[str, str]]:
    """Checks a set's registrations (new ones, beside `first_registry`) and its queries, prints its
    counts, and returns every registration so far. The extended set needs MIN_PER_KIND positives of
    each kind and a hard negative guarding each; the fresh set, a held-out sample, does not."""
    registry_file, queries_file = files
    ext = read(registry_file, EXT_REGISTRY_COLUMNS, problems)
    queries = read(queries_file, EXT_QUERY_COLUMNS, problems)
    aliases = read("aliases.csv", ["alias", "account_name", "account_domain", "note"], problems)
    registry = {r["registration_id"]: r for r in first_registry}
    names = {r["company_name"].strip().casefold() for r in first_registry}
    expired: set[str] = set()
    for r in ext:
        rid = r["registration_id"]
        if rid in registry:
            problems.append(f"{registry_file}: registration_id {rid} is already used")
        registry[rid] = r
        if r["company_name"].strip().casefold() in names:
            problems.append(f"{registry_file} {rid}: company name {r['company_name']!r} is already on file")
        names.add(r["company_name"].strip().casefold())
        if not r["company_name"].strip() or not r["company_domain"].strip() or not r["country"].strip():
            problems.append(f"{registry_file} {rid}: empty name, domain or country")
        try:
            submitted, expires = date.fromisoformat(r["submitted_at"]), date.fromisoformat(r["expires_at"])
        except ValueError:
            problems.append(f"{registry_file} {rid}: submitted_at/expires_at are not dates")
            continue
        if not submitted < expires or submitted > AS_OF:
            problems.append(f"{registry_file} {rid}: dates out of order or after {AS_OF}")
        if expires <= AS_OF:
            expired.add(rid)
        if r["contact_email"].strip() and host(r["contact_email"]) == host(r["company_domain"]):
            problems.append(f"{registry_file} {rid}: the contact email is on the website's domain (nothing to test)")

    by_site: dict[str, set[str]] = {}
    for rid, r in registry.items():
        by_site.setdefault(host(r["company_domain"]), set()).add(rid)
    for a in aliases:
        if not a["alias"].strip() or len(by_site.get(a["account_domain"].strip().lower(), ())) != 1:
            problems.append(f"aliases: {a['alias']!r} -> {a['account_domain']!r} is not exactly one registration")
    for alias, n in Counter(a["alias"].strip().casefold() for a in aliases).items():
        if n > 1:
            problems.append(f"aliases: {alias!r} appears {n} times")

    for qid, n in Counter(x["query_id"] for x in queries).items():
        if n > 1:
            problems.append(f"{queries_file}: duplicate query_id {qid}")
    content = Counter((x["company_name"], x["company_domain"], x["contact_email"], x["linkedin_url"]) for x in queries)
    for key, n in content.items():
        if n > 1:
            problems.append(f"{queries_file}: the same row appears {n} times: {key}")
    for x in queries:
        qid, kind, expected, guards = x["query_id"], x["kind"], x["expected_registration_id"].strip(), x["guards"].strip()
        if kind not in EXT_POSITIVE_KINDS + EXT_NEGATIVE_KINDS:
            problems.append(f"{qid}: unknown kind {kind!r}")
            continue
        if (kind in EXT_POSITIVE_KINDS) != bool(expected):
            problems.append(f"{qid}: kind {kind} but expected_registration_id is {expected or 'empty'}")
        if expected and expected not in registry:
            problems.append(f"{qid}: expected_registration_id {expected} is not in the registry (dangling)")
            continue
        if (kind == "hard_negative") != (guards in EXT_POSITIVE_KINDS) or (guards and kind != "hard_negative"):
            problems.append(f"{qid}: a hard negative names the kind it guards in `guards`, and only it")
        if not any(x[c].strip() for c in ("company_name", "company_domain", "contact_email", "linkedin_url")):
            problems.append(f"{qid}: no field at all")
        if expected and (expected in expired) != (kind == "expired_by_name"):
            problems.append(f"{qid}: expired_by_name rows, and only they, point at a claim expired by {AS_OF}")
        if kind == "isp_mail_domain":
            site = host(registry[expected]["company_domain"])
            if host(x["contact_email"]) != site or site not in FREE_MAIL | ISP_MAIL:
                problems.append(f"{qid}: isp_mail_domain needs an email at the registration's own ISP domain")
        if kind == "contact_email_domain":
            staff = host(registry[expected]["contact_email"]) if "@" in registry[expected]["contact_email"] else ""
            used = {host(x["contact_email"]), host(x["company_domain"])} - {""}
            if not staff or not used & {staff, host(registry[expected]["company_domain"])}:
                problems.append(f"{qid}: contact_email_domain needs the registration's contact domain (or website)")

    kinds = Counter(x["kind"] for x in queries)
    pos = [x for x in queries if x["expected_registration_id"].strip()]
    only = sum(1 for x in pos if name_only(x))
    print()
    print(f"{label}: {registry_file} rows: {len(ext)} ({len(expired)} expired by {AS_OF}, "
          f"{sum(1 for r in ext if r['contact_email'].strip())} with a contact email); aliases: {len(aliases)}")
    print(f"{queries_file}: {len(queries)} (positives {len(pos)}, negatives {len(queries) - len(pos)}; "
          f"{len({x['expected_registration_id'] for x in pos})} distinct registrations hit)")
    guarded = Counter(x["guards"] for x in queries if x["kind"] == "hard_negative")
    width = max(map(len, EXT_POSITIVE_KINDS))
    print(f"  {'kind':<{width}}  positives  name-only  hard negatives guarding it")
    for kind in EXT_POSITIVE_KINDS:
        n_only = sum(1 for x in pos if x["kind"] == kind and name_only(x))
        print(f"  {kind:<{width}}  {kinds[kind]:>9}  {n_only:>9}  {guarded[kind]:>26}")
        if min_per_kind and kinds[kind] < min_per_kind:
            problems.append(f"{kind}: {kinds[kind]} positives, at least {min_per_kind}")
        if min_per_kind and not guarded[kind]:
            problems.append(f"{kind}: no hard negative guards it")
    print(f"  {'negative':<{width}}  {kinds['negative']:>9}")
    share = only / len(pos) if pos else 0.0
    print(f"name-only positives (no website, LinkedIn or work email): {only} of {len(pos)} ({100 * share:.1f}%)")
    if share < MIN_NAME_ONLY_SHARE:
        problems.append(f"{label}: name-only share {share:.1%} is under {MIN_NAME_ONLY_SHARE:.0%}")
    return list(registry.values())


if __name__ == "__main__":
    sys.exit(main())
