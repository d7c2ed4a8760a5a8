"""A second peer for issue 12: De Nederlandsche Bank's `name_matching` package (the one the issue
measured at 0.998 / 0.82 on its own set), behind the same domain, LinkedIn and alias lookup as
bench/peer_matcher.py, with its thresholds tuned on one half of the queries and applied to the other.

It needs pandas, scikit-learn and matplotlib, so it is no dependency of the project, not even a dev
one: install it beside the project's requirements in a virtualenv of its own, then run the bench
there (it is picked up when importable):

    python3.11 -m venv /tmp/dnb && /tmp/dnb/bin/pip install -r requirements-dev.txt name_matching==0.9.22
    PYTHONPATH=. /tmp/dnb/bin/python bench/bench_matching.py
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd
from name_matching.name_matcher import NameMatcher

from bench.peer_matcher import TOP, PeerMatcher

SCORER = "name_matching"
SETTINGS: dict[str, bool] = {}  # its defaults: the most precise of its documented options here (bench/RESULTS.md)


class DNBPeer(PeerMatcher):
    """`PeerMatcher` with the names scored by `name_matching` (its default settings; its legal-form
    and common-word options were tried too, RESULTS has them), every query's names in one batch."""

    scorers = (SCORER,)

    def __init__(self, registry: list[dict[str, str]], aliases: Iterable[dict[str, str]], as_of: datetime,
                 queries: list[dict[str, str]], **settings: bool) -> None:
        super().__init__(registry, aliases, as_of)
        matcher = NameMatcher(number_of_matches=TOP, verbose=False, **{**SETTINGS, **settings})
        matcher.load_and_process_master_data("name", pd.DataFrame({"name": [r["company_name"] for r in registry]}))
        names = sorted({q["company_name"].strip() for q in queries if q["company_name"].strip()})
        found = matcher.match_names(to_be_matched=pd.DataFrame({"name": names}), column_matching="name")
        self._scores: dict[str, list[tuple[str, float]]] = {}
        for i, name in enumerate(names):
            row = found.iloc[i]
            pairs = [(self.ids[int(row[f"match_index_{k}"])], float(row[f"score_{k}"])) for k in range(TOP)
                     if f"match_index_{k}" in row and pd.notna(row[f"match_index_{k}"])]
            self._scores[name] = [(rid, s) for rid, s in pairs if s >= 50]

    def name_scores(self, q: dict[str, str], scorer: str) -> list[tuple[str, float]]:
        return self._scores.get(q["company_name"].strip(), [])
