"""Decisions and keys for a seeded corpus of messy input, one JSON line each: run once
compiled and once with DEALREG_PURE_PYTHON=1, the two outputs must be the same bytes
(tests/core/test_native.py). The corpus is the labelled set's companies and queries, each
typed worse in random ways, plus text that is hardly a company at all.

    python -m tests.core.native_diff [--seed 1] [--records 3000]
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from config.rules import load_rules
from dealreg.engine import Engine
from dealreg.errors import InputError
from dealreg.match import keys_of
from dealreg.models import Record, Registration
from tests.core import gold

AS_OF = datetime(2026, 11, 20, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
PARTNERS = ("Northwind Partners", "Contoso Consulting", "Fabrikam Solutions", "direct", "")
JUNK = ("", " ", ".", "..", "-", "&", "+", "'", "’", "\u200b", "ａ", "İ", "ß", "é", "Ⅻ", "ǅ", "🙂", "\t", "\n", "%2F",
        "www.", "http://", "https://", "//", "@", ":8080", "/about", "?x=https://other.com", "#top", "xn--",
        "S.A.", "Inc.", "GmbH & Co. KG", "the ", "i.b.m.", ".com", "co.uk", "[::1]", "linkedin.com/company/",
        "0", "123-456-789", "12345678", "1234567890")


def typed_worse(rng: random.Random, text: str) -> str:
    """`text` with a few random edits: junk inserted, a letter dropped or swapped, case changed."""
    for _ in range(rng.randint(0, 3)):
        i = rng.randint(0, len(text))
        match rng.randrange(5):
            case 0:
                text = text[:i] + rng.choice(JUNK) + text[i:]
            case 1 if text:
                text = text[:i] + text[i + 1:]
            case 2 if len(text) > i + 1:
                text = text[:i] + text[i + 1] + text[i] + text[i + 2:]
            case 3:
                text = text.upper() if rng.random() < 0.5 else text.lower()
            case _:
                text = text.strip()
    return text


def corpus(seed: int, n: int) -> tuple[list[Registration], list[Record]]:
    rng = random.Random(seed)
    registry, queries = gold.load()
    regs = [Registration(registration_id=r["registration_id"], partner=rng.choice(PARTNERS[:4]),
                         submitted_at=AS_OF - timedelta(days=rng.randint(0, 200)),
                         company_name=r["company_name"], company_domain=r["company_domain"],
                         linkedin_url=r["linkedin_url"], duns=r["duns"], country=r["country"],
                         deal_value=float(rng.randint(0, 400) * 1000))
            for r in registry]
    records = []
    for _ in range(n):
        q = rng.choice(queries)
        junk = rng.random() < 0.15  # hardly a company at all
        field = (lambda v: "".join(rng.choice(JUNK) for _ in range(rng.randint(0, 4)))) if junk \
            else (lambda v: typed_worse(rng, v))
        records.append(Record(
            company_name=field(q["company_name"]), company_domain=field(q["company_domain"]),
            contact_email=field(q["contact_email"] or rng.choice(("jane@buyer-co.com", "joe@gmail.com", ""))),
            linkedin_url=field(q["linkedin_url"]),
            duns=field(rng.choice(("123456789", "12-345-6789", "1234567890"))) if rng.random() < 0.3 else "",
            partner=rng.choice(PARTNERS), deal_value=rng.choice((None, 5_000.0, 50_000.0, 250_000.0)),
            country=rng.choice(("", "US", "DE", "de ", "GB")),
        ))
    return regs, records


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--records", type=int, default=3000)
    args = parser.parse_args()
    regs, records = corpus(args.seed, args.records)
    engine = Engine(load_rules(EXAMPLES / "rules.yaml"), registrations=regs)
    for record in records:
        fields = (record.company_name, record.company_domain, record.contact_email, record.linkedin_url,
                  record.duns, record.country)
        try:
            keys: object = keys_of(*fields)
        except ValueError as exc:
            keys = f"ValueError: {exc}"
        try:
            decision: object = dataclasses.asdict(engine.decide(record, AS_OF))
        except InputError as exc:
            decision = f"InputError: {exc}"
        print(json.dumps({"keys": keys, "decision": decision}, default=str, ensure_ascii=False, sort_keys=True))


if __name__ == "__main__":
    main()
