"""Simultaneous registrations for one account end with exactly one owner, whether they
race through the real server's threads or through separate processes on one SQLite file."""

from __future__ import annotations

import json
import multiprocessing
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from config.rules import load_rules
from dealreg.models import Record
from handlers.app import create_app
from handlers.service import Service
from integrations.sqlite import SQLiteStore
from tests.handlers.support import AUTH, live_server, signed
from tests.payloads import load_payload

N = 20
ACCOUNT = {"company_name": "Acme Robotics GmbH", "website": "https://www.acme-robotics.de"}
PARTNERS = [f"Partner {i % 12}" for i in range(N)]  # some partners register twice: duplicates


def assert_one_owner(decisions: list[dict], store: SQLiteStore) -> None:
    statuses = Counter(d["status"] for d in decisions)
    assert statuses["clear"] == 1, statuses
    assert set(statuses) <= {"clear", "conflict", "duplicate"}, statuses
    [winner] = [d for d in decisions if d["status"] == "clear"]
    assert {d["owner"] for d in decisions} == {winner["owner"]}
    rows = list(store.read_rows("registrations"))
    assert len(rows) == len(decisions)
    assert {r["owner"] for r in rows} == {winner["owner"]}  # the stored records say so too
    assert Counter(r["status"] for r in rows) == statuses


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
    raw = load_payload("typeform_registration.json")
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


def _register_in_a_process(db: str, rules: str, partners: list[str], barrier, results) -> None:
    """One process: its own store object and warm engine on the shared file, several threads."""
    service = Service(SQLiteStore(db), load_rules(rules))
    service.warm_up()
    barrier.wait(timeout=60)
    record = lambda partner: Record(company_name=ACCOUNT["company_name"], company_domain=ACCOUNT["website"],  # noqa: E731
                                    partner=partner, source="api")
    with ThreadPoolExecutor(len(partners)) as pool:
        decisions = list(pool.map(lambda p: service.register(record(p)).fields(), partners))
    results.put(json.dumps(decisions))


def test_twenty_simultaneous_registrations_across_processes_end_with_one_owner(settings, store):
    store.health()  # create the file first, as a deployed store would be
    context = multiprocessing.get_context("spawn")
    processes_n = 4
    barrier, results = context.Barrier(processes_n), context.Queue()
    chunks = [PARTNERS[i::processes_n] for i in range(processes_n)]
    processes = [context.Process(target=_register_in_a_process,
                                 args=(str(settings.db), str(settings.rules), chunk, barrier, results))
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
    assert Path(settings.db).exists()
