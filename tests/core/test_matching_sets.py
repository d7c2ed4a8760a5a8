"""The extended labelled set of issue 12 (its shape, not the matcher's figures: those floors come
with the matcher work), its scoring, and the peer baseline that bench/bench_matching.py runs."""

from __future__ import annotations

import importlib.util
import shutil
from collections import Counter
from datetime import UTC, datetime

import pytest

from dealreg.models import MatchLevel
from tests.core import gold

CHECK_SET = gold.GOLD / "check_set.py"


@pytest.fixture(scope="module")
def extended() -> gold.ExtendedSet:
    return gold.load_extended()


def _check_set_module():
    spec = importlib.util.spec_from_file_location("check_set", CHECK_SET)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_kind_has_25_positives_and_hard_negatives_guarding_it(extended):
    positives = Counter(q["kind"] for q in extended.queries if q["expected_registration_id"])
    guarded = Counter(q["guards"] for q in extended.queries if q["kind"] == "hard_negative")
    assert set(positives) == set(gold.POSITIVE_KINDS)
    assert min(positives.values()) >= 25, positives
    assert all(guarded[kind] >= 5 for kind in gold.POSITIVE_KINDS), guarded


def test_at_least_40_percent_of_positives_are_name_only(extended):
    positives = [q for q in extended.queries if q["expected_registration_id"]]
    share = sum(map(gold.name_only, positives)) / len(positives)
    assert 0.40 <= share < 0.80, share  # name-only heavy, yet with keyed records as users send them


def test_labels_point_at_registrations_active_or_expired_as_the_kind_says(extended):
    rows = {r["registration_id"]: r for r in extended.registry}
    regs = {r.registration_id: r for r in gold.registrations(extended.registry)}
    for q in extended.queries:
        expected = q["expected_registration_id"]
        if not expected:
            assert q["kind"] in ("hard_negative", "negative"), q
            continue
        assert expected in rows, q  # no dangling label
        expired = regs[expected].expires_at <= gold.AS_OF
        assert expired == (q["kind"] == "expired_by_name"), q


def test_aliases_name_one_account_each(extended):
    sites = Counter(r["company_domain"].lower().split("://")[-1].split("/")[0].removeprefix("www.")
                    for r in extended.registry)
    assert len(extended.aliases) >= 25
    assert all(sites[a["account_domain"]] == 1 for a in extended.aliases), extended.aliases


def test_the_first_set_is_scored_as_before():
    registry, queries = gold.load()
    assert (len(registry), len(queries)) == (703, 1478)
    assert not any("contact_email" in r for r in registry)  # load_extended adds columns to its own copy only


def test_check_set_passes_and_catches_a_dangling_label(tmp_path, monkeypatch, capsys):
    check_set = _check_set_module()
    assert check_set.main() == 0
    for name in ("registry.csv", "queries.csv", "registry_ext.csv", "queries_ext.csv", "aliases.csv",
                 "registry_fresh.csv", "queries_fresh.csv"):
        shutil.copy(gold.GOLD / name, tmp_path / name)
    text = (tmp_path / "queries_ext.csv").read_text(encoding="utf-8")
    (tmp_path / "queries_ext.csv").write_text(text.replace(",G0704,", ",G9999,", 1), encoding="utf-8")
    monkeypatch.setattr(check_set, "HERE", tmp_path)
    capsys.readouterr()
    assert check_set.main() == 1
    assert "G9999 is not in the registry (dangling)" in capsys.readouterr().out


def test_the_fresh_set_is_new_companies_labelled_against_its_own_registrations():
    fresh = gold.load_fresh()
    extended = gold.load_extended()
    known = {r["registration_id"] for r in extended.registry}
    new = [r for r in fresh.registry if r["registration_id"] not in known]
    assert len(new) == 80 and len(fresh.queries) >= 250
    assert not {r["company_name"].casefold() for r in new} & {r["company_name"].casefold() for r in extended.registry}
    labels = {q["expected_registration_id"] for q in fresh.queries} - {""}
    assert labels <= {r["registration_id"] for r in new}  # the extended registrations are its distractors


# --- scoring at the decision level ---------------------------------------------------------------

def _query(qid: str, expected: str = "", kind: str = "typo_short", name: str = "Acme", **fields: str) -> dict[str, str]:
    q = dict(query_id=qid, company_name=name, company_domain="", contact_email="", linkedin_url="",
             expected_registration_id=expected, kind=kind if expected else "hard_negative",
             guards="" if expected else kind, note="")
    q.update(fields)
    return q


def test_scores_count_what_the_decision_answers():
    M, P, N = MatchLevel.MATCH, MatchLevel.POSSIBLE, MatchLevel.NONE
    queries = [_query("a", "G1"), _query("b", "G1", company_domain="acme.com"), _query("c", "G2"),
               _query("d", "G3"), _query("e"), _query("f"), _query("g")]
    outcomes = [gold.Outcome(M, "G1", frozenset({"G1"}), frozenset({"G1"}), False),  # right, name-only
                gold.Outcome(M, "G9", frozenset({"G9", "G1"}), frozenset({"G9", "G1"}), False),  # first-to-register picked G9
                gold.Outcome(P, "G2", frozenset(), frozenset({"G2"}), True),  # sent to review, with the right one shown
                gold.Outcome(N, "", frozenset(), frozenset({"G3"}), False),  # found but not reported (an expired possible)
                gold.Outcome(M, "G4", frozenset({"G4"}), frozenset({"G4"}), False),  # a hard negative matched
                gold.Outcome(N, "", frozenset(), frozenset(), False),
                gold.Outcome(P, "G5", frozenset(), frozenset({"G5"}), False)]  # a possible on an expired claim: clear
    s = gold.score_extended(queries, outcomes)
    assert (s["all"].positives, s["all"].name_only) == (4, 3)
    assert s["all"].auto_correct == 1 and s["all"].recall == 0.25 and s["all"].recall_name_only == 1 / 3
    assert s["all"].found_with_review == 2
    assert (s["all"].auto_pairs, s["all"].wrong_pairs) == (4, 2)
    assert s["all"].review_rate == 2 / 7  # answered `possible`
    assert s["all"].queue_rate == 1 / 7  # … of which one went to the review queue
    assert s["hard_negative:typo_short"].wrong_pairs == 1
    assert [w for _, _, w in s["all"].examples] == ["wrong automatic match ['G9']", "sent to review",
                                                      "none, G3 not reported", "wrong automatic match ['G4']"]


def test_dealreg_is_scored_on_its_decisions(extended):
    decide = gold.decide_dealreg(extended.registry)
    exact = _query("x", "G0002", name="Stripe, Inc.", company_domain="stripe.com")
    outcome = decide(exact)
    assert (outcome.level, outcome.matched) == (MatchLevel.MATCH, "G0002")
    nothing = decide(_query("y", name="", contact_email="someone@gmail.com"))  # rejected: nothing identifies it
    assert (nothing.level, nothing.matched, nothing.auto) == (MatchLevel.NONE, "", frozenset())


# --- the peer baseline (bench/peer_matcher.py; dev-only: cleanco) ---------------------------------

def _peer():
    pytest.importorskip("cleanco")
    from bench.peer_matcher import PeerMatcher, Thresholds

    as_of = datetime(2026, 3, 1, tzinfo=UTC)
    rows = [("R1", "Heineken N.V.", "theheinekencompany.com", "", "2026-01-01", "2026-04-01"),
            ("R2", "Stripe, Inc.", "https://stripe.com", "https://www.linkedin.com/company/stripe/", "2026-01-02", "2026-04-02"),
            ("R3", "Sodexo S.A.", "sodexo.com", "", "2025-03-01", "2025-05-30"),  # expired by as_of
            ("R4", "Altria Group, Inc.", "altria.com", "", "2026-01-03", "2026-04-03")]
    registry = [dict(registration_id=r, company_name=n, company_domain=d, linkedin_url=li, duns="", country="",
                     contact_email="", submitted_at=s, expires_at=e) for r, n, d, li, s, e in rows]
    aliases = [dict(alias="Philip Morris Companies", account_name="Altria Group, Inc.", account_domain="altria.com", note="")]
    return PeerMatcher(registry, aliases, as_of), Thresholds("token_sort_ratio", 90, 80)


@pytest.mark.parametrize("fields, level, matched", [
    (dict(company_name="Totally Different", company_domain="www.theheinekencompany.com/about"), MatchLevel.MATCH, "R1"),
    (dict(company_name="", linkedin_url="https://uk.linkedin.com/company/stripe?trk=x"), MatchLevel.MATCH, "R2"),
    (dict(company_name="Heineken NV"), MatchLevel.MATCH, "R1"),  # cleanco strips the legal form: 100
    (dict(company_name="Heinekan"), MatchLevel.POSSIBLE, "R1"),  # 88: in the review band
    (dict(company_name="Philip Morris Companies Inc."), MatchLevel.MATCH, "R4"),  # the alias table
    (dict(company_name="Sodexo"), MatchLevel.MATCH, "R3"),  # only an expired claim: reported, as SPEC says
    (dict(company_name="Canonical Ltd"), MatchLevel.NONE, ""),
    (dict(company_name="Acme", contact_email="someone@gmail.com"), MatchLevel.NONE, ""),  # free mail is no key
])
def test_peer_decides_a_few_rows(fields, level, matched):
    peer, thresholds = _peer()
    outcome = peer.decide(_query("p", **fields), thresholds)
    assert (outcome.level, outcome.matched) == (level, matched)


def test_peer_thresholds_are_tuned_on_the_other_half():
    pytest.importorskip("cleanco")
    from bench.peer_matcher import cross_validated, half

    peer, _ = _peer()
    queries = [_query(f"q{i}", "R1", name=name) for i, name in enumerate(
        ["Heineken", "Heineken NV", "Heinekan", "Heineken Brewery", "HEINEKEN", "Heineken N.V."])]
    queries += [_query(f"n{i}", name=name) for i, name in enumerate(["Heinemann", "Canonical", "Stripe Partners"])]
    outcomes, chosen = cross_validated(peer, queries)
    assert len(outcomes) == len(queries) and len(chosen) == 2
    assert {half(q["query_id"]) for q in queries} == {0, 1}
    assert outcomes[0].matched == "R1"  # an exact name decides under any tuned threshold
