"""`make screenshot`: the report page of the example history (tools/demo_history.py), with its
replay section (the deal-size threshold raised to 150,000), as a PNG for people who review a
change: build/report.png (the whole page). Needs Chromium (Debian: apt-get install chromium).

    python -m tools.screenshot [OUT.png]
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

from config.rules import load_rules
from handlers.report_page import report_page
from integrations.sqlite import SQLiteStore
from tools.chromium import Chromium
from tools.demo_history import AS_OF, EXAMPLE_RULES, EXAMPLES, example_history


def main(argv: list[str]) -> int:
    out = Path(argv[0] if argv else "build/report.png")
    out.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        store = SQLiteStore(work / "dealreg.db")
        example_history(store)
        for name in ("partners.csv", "named_accounts.csv", "territories.csv"):
            shutil.copy(EXAMPLES / name, work / name)
        new = work / "rules-150k.yaml"
        new.write_text(EXAMPLE_RULES.read_text().replace("threshold: 100000", "threshold: 150000"))
        page = work / "report.html"
        page.write_text(report_page(store, load_rules(EXAMPLE_RULES), as_of=AS_OF, new_rules=load_rules(new)),
                        encoding="utf-8")
        store.close()
        shutil.copy(page, out.with_suffix(".html"))
        with Chromium() as browser:
            tab = browser.open(page.as_uri(), width=1280, height=900)
            errors = tab.console_errors()
            tab.screenshot(out)
    print(f"wrote {out} and {out.with_suffix('.html')}" + (f"; console errors: {errors}" if errors else ""))
    return 1 if errors else 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
