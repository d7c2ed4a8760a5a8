"""How long the channel report takes for a large store: a SQLite store of N registrations (default
10,000) sent through the service (tools/demo_history.synthetic_history, about one check per five),
then `dealreg report`'s work timed: reading the store, the figures, the HTML; and the page loaded in
headless Chromium until every chart is drawn. The target (issue 14): under 5 s.

    python bench/bench_report.py [--registrations 10000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config.rules import load_rules  # noqa: E402
from handlers.report_page import report_page  # noqa: E402
from integrations.sqlite import SQLiteStore  # noqa: E402
from tools.chromium import Chromium  # noqa: E402
from tools.demo_history import AS_OF, EXAMPLE_RULES, synthetic_history  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--registrations", type=int, default=10_000)
    args = parser.parse_args()
    rules = load_rules(EXAMPLE_RULES)
    with tempfile.TemporaryDirectory() as folder:
        store = SQLiteStore(Path(folder) / "dealreg.db")
        started = time.perf_counter()
        synthetic_history(store, rules, args.registrations)
        built = time.perf_counter() - started
        rows, events = store.count("registrations"), store.count("decisions")
        store.close()
        timings = []
        for _ in range(3):
            store = SQLiteStore(Path(folder) / "dealreg.db")
            started = time.perf_counter()
            page = report_page(store, rules, as_of=AS_OF)
            timings.append(time.perf_counter() - started)
            store.close()
        out = Path(folder) / "report.html"
        out.write_text(page, encoding="utf-8")
        with Chromium() as browser:
            started = time.perf_counter()
            tab = browser.open(out.as_uri())
            drawn = tab.evaluate("Object.keys(Chart.instances).length")
            loaded = time.perf_counter() - started
            errors = tab.console_errors()
    print(f"store: {rows:,} registrations, {events:,} decision events (sent through the service in {built:.1f} s)")
    print(f"dealreg report (read the store, figures, HTML): best {min(timings):.2f} s of 3 "
          f"({', '.join(f'{t:.2f}' for t in timings)}); page {len(page.encode()) / 1024:,.0f} KB")
    print(f"headless Chromium: loaded and drew {drawn} charts in {loaded:.2f} s; console errors: {errors or 'none'}")
    print(f"total (report + browser): {min(timings) + loaded:.2f} s")
    return 0 if not errors else 1


if __name__ == "__main__":
    raise SystemExit(main())
