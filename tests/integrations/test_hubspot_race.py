"""Ten partners register one account at the same moment from two processes (each with its own
store, as two Lambda containers have), against the local HubSpot API on loopback, whose search
index lags writes as HubSpot's does. HubSpot has no transactions: the account converges on one
company (its unique account key), each writer reads the company's deals back and the race is
settled in the one order every writer computes. At the end there is one owner, on every deal,
on the company, and in every answer (an answer given before an earlier claim landed is the one
that can go out of date, and its deal then says "Superseded by")."""

from __future__ import annotations

import json
import multiprocessing
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

from config.rules import load_rules
from config.settings import Settings
from dealreg.models import Record
from handlers.service import Service
from handlers.stores import open_store
from integrations.hubspot import mapping as m
from integrations.hubspot import note_text as nt
from tests.fakes.hubspot_api import FakeHubSpotAPI
from tests.handlers.support import write_rules
from tests.integrations.hubspot_support import new_account

PARTNERS = [f"Partner {n}" for n in range(10)]
PROCESSES = 2


def _register(base_url: str, token: str, rules: str, partners: list[str], barrier, results) -> None:
    """One process: its own store and warm engine on the account, one thread per partner."""
    settings = Settings(_env_file=None, store="hubspot", hubspot_token=token, hubspot_api_url=base_url,
                        hubspot_cache_seconds=0)
    service = Service(open_store(settings), load_rules(rules))
    service.warm_up()
    barrier.wait(timeout=60)
    record = lambda name: Record(company_name="Acme Robotics GmbH", company_domain="https://www.acme-robotics.de",  # noqa: E731
                                 partner=name, source="api")
    with ThreadPoolExecutor(len(partners)) as pool:
        decisions = list(pool.map(lambda name: service.register(record(name)).fields(), partners))
    service.store.close()
    results.put(json.dumps(decisions))


def test_ten_partners_registering_one_account_from_two_processes_end_with_one_owner(tmp_path):
    with FakeHubSpotAPI() as api:
        new_account(api)  # the search lag stays HubSpot's; the rate limits are out of the way
        context = multiprocessing.get_context("spawn")
        barrier, results = context.Barrier(PROCESSES), context.Queue()
        chunks = [PARTNERS[n::PROCESSES] for n in range(PROCESSES)]
        processes = [context.Process(target=_register, args=(api.base_url, api.token, str(write_rules(tmp_path)),
                                                             chunk, barrier, results)) for chunk in chunks]
        for process in processes:
            process.start()
        try:
            answers = [d for _ in processes for d in json.loads(results.get(timeout=120))]
        finally:
            for process in processes:
                process.join(timeout=30)
                if process.is_alive():
                    process.kill()
        assert [p.exitcode for p in processes] == [0] * PROCESSES
        assert api.errors == []

        deals = api.objects("deals")
        assert len(deals) == len(PARTNERS)  # none lost, none doubled
        [owner] = {d[m.DEAL["owner"]] for d in deals}  # one owner on every deal
        assert Counter(d[m.DEAL["status"]] for d in deals)["clear"] == 1
        assert owner == next(d[m.DEAL["partner"]] for d in deals if d[m.DEAL["status"]] == "clear")
        [company] = api.objects("companies")  # the second create of the account was refused: one company
        assert company[m.ACCOUNT_KEY] == "domain:acme-robotics.de" and company[m.COMPANY_OWNER] == owner
        assert len(api.associations("companies", company["hs_object_id"], "deals")) == len(PARTNERS)
        reasons = {d[m.DEAL["registration_id"]]: d[m.DEAL["reason"]] for d in deals}
        stale = [a for a in answers if a["owner"] != owner]
        assert all(reasons[a["registration_id"]].startswith("Superseded by") for a in stale), stale
        assert {a["status"] for a in answers} <= {"clear", "conflict"}
        registered = {e["registration_id"] for n in api.objects("notes") for e in nt.note_rows(n["hs_note_body"])}
        assert registered == set(reasons)  # every decision is a note
