"""Sample histories for the report, the replay, their tests and the screenshot: the example data
(examples/), then registrations and checks sent through the real service, each at a fixed time,
so that the store holds decision events exactly as a running dealreg writes them.

`example_history` is small and every outcome in it is known (tests/handlers/test_report.py and
test_replay.py name them); `synthetic_history` makes a large one for bench/bench_report.py.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from config.rules import load_rules
from dealreg.models import Record
from dealreg.rules import RuleSet
from handlers.cli.serve import load_examples
from handlers.service import Service
from integrations.store import Store

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
EXAMPLE_RULES = EXAMPLES / "rules.yaml"
AS_OF = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
"""The report's time for the example history (the `make run` batch uses the same day)."""


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@dataclass(frozen=True)
class Arrival:
    at: datetime
    action: str  # "register" or "check"
    record: Record
    registration_id: str = ""  # the id the service gives it (registrations only)


def _reg(at: str, rid: str, partner: str, company: str, domain: str, email: str, value: float | None,
         currency: str, country: str) -> Arrival:
    record = Record(company_name=company, company_domain=domain, contact_email=email, contact_name="Sam Doe",
                    partner=partner, deal_value=value, currency=currency, country=country, source="typeform"
                    if partner else "api", external_id=f"demo-{rid}")
    return Arrival(_at(at), "register", record, rid)


def _check(at: str, company: str, domain: str, country: str) -> Arrival:
    return Arrival(_at(at), "check", Record(company_name=company, company_domain=domain, country=country,
                                            source="clay"))


EXAMPLE_ARRIVALS: tuple[Arrival, ...] = (
    # direct's Celonis deal (90,000) meets Contoso's R-0002 (120,000): at or above the 100,000 threshold, so
    # direct_above_deal_size gives it to direct and R-0002 is rewritten (displaced)
    _reg("2026-10-20T10:00:00", "R-1001", "", "Celonis", "celonis.com", "jan.meyer@celonis.com", 90000, "EUR", "DE"),
    # Fabrikam's territory is AU: it wins Canva from direct's R-0005 (partner_territory), R-0005 displaced
    _reg("2026-10-22T10:00:00", "R-1002", "Fabrikam Solutions", "Canva", "canva.com", "ops@canva.com", 40000,
         "USD", "AU"),
    # Northwind registered Mollie first (R-0004): first_to_register
    _reg("2026-10-25T10:00:00", "R-1003", "Fabrikam Solutions", "Mollie", "mollie.com", "anna@mollie.com", 15000,
         "EUR", "NL"),
    # Northwind again on its own Personio: duplicate
    _reg("2026-10-28T10:00:00", "R-1004", "Northwind Partners", "Personio", "personio.de", "lena.vogel@personio.de",
         52000, "EUR", "DE"),
    # Siemens is a named account of direct: conflict, named_accounts
    _reg("2026-11-02T10:00:00", "R-1005", "Contoso Consulting", "Siemens AG", "siemens.com", "k.braun@siemens.com",
         200000, "EUR", "DE"),
    # the same name as Personio GmbH on another domain: a possible match, sent to review
    _reg("2026-11-05T10:00:00", "R-1006", "Contoso Consulting", "Personio SE", "personio.com", "info@personio.com",
         30000, "EUR", "DE"),
    _reg("2026-11-10T10:00:00", "R-1007", "Northwind Partners", "Acme Robotics GmbH", "acme-robotics.de",
         "j.mueller@acme-robotics.de", 48000, "EUR", "DE"),
    # a free-mail contact and no website: rejected by qualification
    _reg("2026-11-12T10:00:00", "R-1008", "Contoso Consulting", "", "", "jane@gmail.com", 10000, "USD", ""),
    # Contoso's Zalando claim (R-0006) is lost: nothing blocks direct
    _reg("2026-11-15T10:00:00", "R-1009", "", "Zalando", "zalando.com", "buyer@zalando.de", 80000, "EUR", "DE"),
    _reg("2026-11-18T10:00:00", "R-1010", "Fabrikam Solutions", "Miro", "miro.com", "ana.ruiz@miro.com", 30000,
         "USD", "US"),
    _reg("2026-11-19T10:00:00", "R-1011", "Northwind Partners", "Figma", "figma.com", "dylan@figma.com", 70000,
         "USD", "US"),
    # an SDR's Clay checks (suppression): decision events that register nothing
    _check("2026-11-03T09:00:00", "PERSONIO", "https://app.personio.de/login", "DE"),
    _check("2026-11-04T09:00:00", "Personio SE", "personio.com", "DE"),
    _check("2026-11-16T09:00:00", "Stripe", "stripe.com", "US"),
)


EXAMPLE_OUTCOMES = {"R-1007": "won", "R-1011": "won", "R-1009": "won", "R-1002": "lost"}
"""Deals closed since, as a partner manager marks them in the state column. None of them is an
account a later arrival claims, so the history replays exactly as it was decided."""


def example_history(store: Store, rules: RuleSet | None = None) -> Service:
    """The example data of examples/ into `store`, then EXAMPLE_ARRIVALS through the service in the
    order of their times, then EXAMPLE_OUTCOMES. Returns the service."""
    load_examples(store, EXAMPLES)
    service = send(store, rules or load_rules(EXAMPLE_RULES), EXAMPLE_ARRIVALS)
    mark_outcomes(store, EXAMPLE_OUTCOMES)
    return service


def mark_outcomes(store: Store, states: dict[str, str]) -> None:
    """Set the state of registrations by id, as a hand edit of the state column does."""
    tables = getattr(store, "read_rows"), getattr(store, "write_rows")
    rows = [dict(row, state=states[row["registration_id"]]) for row in tables[0]("registrations")
            if row["registration_id"] in states]
    tables[1]("registrations", rows)


def send(store: Store, rules: RuleSet, arrivals: tuple[Arrival, ...] | list[Arrival]) -> Service:
    now = [AS_OF]
    ids: Iterator[str] = iter(())
    service = Service(store, rules, clock=lambda: now[0], new_id=lambda: next(ids))
    for arrival in sorted(arrivals, key=lambda a: a.at):
        now[0] = arrival.at
        if arrival.action == "check":
            service.check(arrival.record)
        else:
            ids = iter([arrival.registration_id])
            service.register(arrival.record)
    return service


PARTNERS = ("Northwind Partners", "Contoso Consulting", "Fabrikam Solutions", "Adatum Group", "Litware Inc",
            "Tailspin Toys", "Wingtip Partners", "Proseware")
WORDS = ("Acme", "Globex", "Initech", "Umbrella", "Stark", "Wayne", "Wonka", "Tyrell", "Cyberdyne", "Soylent",
         "Hooli", "Vandelay", "Pied", "Piper", "Massive", "Dynamic", "Aperture", "Gringotts", "Oscorp", "Monarch",
         "Nakatomi", "Virtucon", "Zorg", "Duff", "Krusty", "Ollivander", "Sterling", "Cooper", "Bluth", "Dunder")


def synthetic_history(store: Store, rules: RuleSet, registrations: int, *, seed: int = 7,
                      end: datetime = AS_OF) -> int:
    """About `registrations` registrations (and one check per five) over the 18 months before `end`,
    by eight partners and the direct team, a third of them on accounts someone already holds; sent
    through the service. Returns the number registered. Deterministic for a seed."""
    rng = random.Random(seed)
    load_examples(store, EXAMPLES)
    joined = [end - timedelta(days=rng.randint(60, 600)) for _ in PARTNERS]
    store_rows = getattr(store, "write_rows")
    store_rows("partners", [{"partner": p, "joined_at": d.date().isoformat()} for p, d in zip(PARTNERS, joined)])
    names = [f"{a} {b}" for a, b in itertools.product(WORDS, WORDS) if a != b]
    rng.shuffle(names)
    accounts = names[: max(10, registrations * 2 // 3)]
    start = end - timedelta(days=540)
    arrivals: list[Arrival] = []
    for n in range(registrations):
        name = rng.choice(accounts)
        domain = name.lower().replace(" ", "") + ".com"
        partner = rng.choice((*PARTNERS, "", ""))
        at = start + timedelta(seconds=rng.randint(0, 540 * 86400))
        arrivals.append(Arrival(at, "register", Record(
            company_name=name, company_domain=domain, contact_email=f"buyer@{domain}", contact_name="Sam Doe",
            partner=partner, deal_value=float(rng.choice((8, 15, 25, 40, 60, 90, 120, 250)) * 1000),
            currency="EUR", country=rng.choice(("DE", "FR", "NL", "US", "GB", "AU")), source="api",
            external_id=f"synthetic-{n}"), f"R-{n:08d}"))
        if n % 5 == 0:
            arrivals.append(Arrival(at + timedelta(minutes=5), "check", Record(company_name=rng.choice(accounts),
                                                                                source="clay")))
    send(store, rules, arrivals)
    outcomes = {f"R-{n:08d}": rng.choice(("won", "lost", "lost")) for n in range(registrations) if rng.random() < 0.2}
    mark_outcomes(store, outcomes)
    return registrations
