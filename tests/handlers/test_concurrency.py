"""Simultaneous registrations for one account end with exactly one owner, whether they
race through the real server's threads or through separate processes on one store (one
SQLite file, or one spreadsheet on the fake Sheets API)."""

from __future__ import annotations

import json
import multiprocessing
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from config.rules import load_rules
from config.settings import Settings
from dealreg.models import Record
from handlers.app import create_app
from handlers.service import Service
from handlers.stores import open_store
from integrations.store import Store
from tests.handlers.support import AUTH, live_server, signed
from tests.integrations.sheets_support import SID
from tests.payloads import delivered_now

N = 20
ACCOUNT = {"company_name": "Acme Robotics GmbH", "website": "https://www.acme-robotics.de"}
PARTNERS = [f"Partner {i % 12}" for i in range(N)]  # some partners register twice: duplicates


def assert_one_owner(decisions: list[dict], store: Store) -> None:
    statuses = Counter(d["status"] for d in decisions)
    assert set(statuses) <= {"clear", "conflict", "duplicate"}, statuses
    rows = list(store.read_rows("registrations"))
    assert len(rows) == len(decisions)
    [owner] = {r["owner"] for r in rows}  # the stored records say so
    assert Counter(r["status"] for r in rows)["clear"] == 1
    if store.backend == "sqlite":  # one lock: every answer was final when it was given
        assert statuses["clear"] == 1, statuses
        assert {d["owner"] for d in decisions} == {owner}
        assert Counter(r["status"] for r in rows) == statuses
    else:
        # No compare-and-set in the Sheets API: a claim stamped earlier but written after another
        # writer had answered takes the account, and rewrites that writer's row ("Superseded by").
        # So an answer may be out of date, but only for a row that records why.
        reasons = {r["registration_id"]: r["reason"] for r in rows}
        stale = [d for d in decisions if d["owner"] != owner]
        assert all(reasons[d["registration_id"]].startswith("Superseded by") for d in stale), stale


def test_twenty_simultaneous_registrations_through_the_real_server_end_with_one_owner(settings, store):
    app = create_app(settings, store)  # the real clock and ids
    start = threading.Barrier(N, timeout=30)

    with live_server(app, threads=8) as base, requests.Session() as warm:
        assert warm.get(f"{base}/healthz", timeout=10).status_code == 200

        def register(partner: str) -> dict:
            with requests.Session() as session:
                start.wait()
                response = session.post(f"{base}/api/registrations", json={**ACCOUNT, "partner": partner},
                                        headers=AUTH, timeout=30)
                assert response.status_code == 200, response.text
                return response.json()

        with ThreadPoolExecutor(N) as pool:
            decisions = list(pool.map(register, PARTNERS))
    assert_one_owner(decisions, store)


def test_twenty_simultaneous_typeform_redeliveries_register_once(settings, store):
    app = create_app(settings, store)
    raw = delivered_now("typeform_registration.json")  # the app runs on the real clock
    start = threading.Barrier(N, timeout=30)

    with live_server(app, threads=8) as base:
        def deliver(_: int) -> dict:
            with requests.Session() as session:
                start.wait()
                response = session.post(f"{base}/webhooks/typeform", data=raw, headers=signed(raw), timeout=30)
                assert response.status_code == 200, response.text
                return response.json()

        with ThreadPoolExecutor(N) as pool:
            answers = list(pool.map(deliver, range(N)))
    assert all(a == answers[0] for a in answers)
    assert answers[0]["status"] == "clear"
    assert (store.count("registrations"), store.count("decisions")) == (1, 1)


def _register_in_a_process(store_settings: dict, rules: str, partners: list[str], barrier, results) -> None:
    """One process: its own store object and warm engine on the shared store, several threads."""
    service = Service(open_store(Settings(_env_file=None, **store_settings)), load_rules(rules))
    service.warm_up()
    barrier.wait(timeout=60)
    record = lambda partner: Record(company_name=ACCOUNT["company_name"], company_domain=ACCOUNT["website"],  # noqa: E731
                                    partner=partner, source="api")
    with ThreadPoolExecutor(len(partners)) as pool:
        decisions = list(pool.map(lambda p: service.register(record(p)).fields(), partners))
    results.put(json.dumps(decisions))


def test_twenty_simultaneous_registrations_across_processes_end_with_one_owner(settings, store, backend, request):
    store.health()  # create the file first, as a deployed store would be
    if backend == "sqlite":
        store_settings = {"store": "sqlite", "db": str(settings.db)}
    elif backend == "hubspot":
        api = request.getfixturevalue("hubspot_api")
        store_settings = {"store": "hubspot", "hubspot_token": api.token, "hubspot_api_url": api.base_url,
                          "hubspot_cache_seconds": 0}
    else:
        api = request.getfixturevalue("sheets_api")
        store_settings = {"store": "sheets", "sheet_id": SID, "sheets_api_url": api.base_url, "sheets_cache_seconds": 0}
    context = multiprocessing.get_context("spawn")
    processes_n = 4
    barrier, results = context.Barrier(processes_n), context.Queue()
    chunks = [PARTNERS[i::processes_n] for i in range(processes_n)]
    processes = [context.Process(target=_register_in_a_process,
                                 args=(store_settings, str(settings.rules), chunk, barrier, results))
                 for chunk in chunks]
    for process in processes:
        process.start()
    try:
        decisions = [d for _ in processes for d in json.loads(results.get(timeout=120))]
    finally:
        for process in processes:
            process.join(timeout=30)
            if process.is_alive():
                process.kill()
    assert [p.exitcode for p in processes] == [0] * processes_n
    assert_one_owner(decisions, store)
    assert Path(settings.db).exists() == (backend == "sqlite")
