"""The channel report as one self-contained HTML page: `dealreg report -o report.html` and
`GET /report` both render it here.

The figures come from dealreg/report.py (and dealreg/replay.py for the optional replay
section); this module only lays them out. Chart.js (handlers/report_assets/, MIT) is inlined, the
figures go in as JSON, and a Content-Security-Policy forbids every fetch, so the file opens
offline and stored text (a company name from a form) can never run or load anything.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup

from dealreg.history import History, Partner
from dealreg.report import Figure, Report, Series, Table, build_report
from dealreg.replay import Replay, replay
from dealreg.rules import RuleSet
from handlers.history import load_history
from integrations.store import Store

ASSETS = Path(__file__).with_name("report_assets")

# One colour per name, so a status, a rule or a cause looks the same in every chart.
COLORS = {
    "clear": "#2f9e44", "duplicate": "#74c0fc", "conflict": "#e03131", "needs_review": "#f59f00",
    "rejected": "#868e96", "not recorded": "#ced4da",
    "named_accounts": "#7048e8", "partner_territory": "#1c7ed6", "direct_above_deal_size": "#f76707",
    "first_to_register": "#0ca678", "conflict rate": "#212529", "share of decisions": "#212529",
    "active": "#2f9e44", "expiring within 14 days": "#f59f00", "expired": "#adb5bd",
    "first registration within 90 days": "#2f9e44", "first registration after 90 days": "#f59f00",
    "no registration yet (days since joining)": "#adb5bd",
    "win rate": "#1c7ed6", "registrations": "#f59f00",
    "possible match": "#f59f00", "unreadable row": "#e03131", "no rule settles it": "#7048e8",
    "gained": "#2f9e44", "lost": "#e03131",
}
PALETTE = ("#1c7ed6", "#74c0fc", "#0ca678", "#96f2d7", "#7048e8", "#d0bfff", "#f76707", "#ffc078")
EXTRA_TITLES = {"expiry": "Claims expiring in the next 14 days", "review-queue": "Waiting for review, oldest first"}


@dataclass(frozen=True)
class Group:
    key: str
    title: str
    caption: str
    figures: list[dict[str, Any]]
    small: bool = False
    tables: list[dict[str, Any]] = field(default_factory=list)


def report_page(store: Store, rules: RuleSet, *, as_of: datetime, new_rules: RuleSet | None = None,
                since: datetime | None = None) -> str:
    """The page for what `store` holds, as of `as_of`; with `new_rules`, the replay section too."""
    history = with_rule_partners(load_history(store), rules)
    report = build_report(history, as_of=as_of, rules_hash=rules.rules_hash, protection_days=rules.protection_days)
    replayed = replay(history, rules, new_rules, since=since) if new_rules is not None else None
    return render(report, replayed, backend=store.backend)


def with_rule_partners(history: History, rules: RuleSet) -> History:
    """The rules file's partners (`partners:` / `partners_file:`) beside the store's Partners list."""
    from dataclasses import replace

    from dealreg.engine import party_key

    known = {party_key(p.name) for p in history.partners}
    more = tuple(Partner(name) for name in rules.partners if party_key(name) not in known)
    return replace(history, partners=history.partners + more) if more else history


def render(report: Report, replayed: Replay | None = None, *, backend: str = "", open_tables: bool = False) -> str:
    groups = _groups(report)
    if replayed is not None:
        groups.append(_replay_group(replayed))
    # the script needs what it draws; the tables are in the page already
    figures = [{k: v for k, v in f.items() if k not in ("table", "extra")} for g in groups for f in g.figures
               if f["series"]]
    return _template().render(  # type: ignore[no-any-return]  # jinja2 renders text
        as_of_text=report.as_of.strftime("%Y-%m-%d %H:%M UTC"), rules_hash=report.rules_hash,
        protection_days=report.protection_days, counts=report.counts, backend=backend,
        headlines=report.headlines, groups=groups, notes=report.notes, open_tables=open_tables,
        chart_js=Markup(_chart_js()), figures_json=Markup(_script_json(figures)))


def _groups(report: Report) -> list[Group]:
    small = [_view(f) for f in report.figures if f.key.startswith("registrations")]
    groups = [Group("registrations", "Registrations per partner over time, by status",
                    report.figures[0].caption, small, small=True)]
    for f in report.figures:
        if not f.key.startswith("registrations"):
            groups.append(Group(f.key, f.title, f.caption, [_view(f, titled=False)]))
    return groups


def _view(f: Figure, titled: bool = True) -> dict[str, Any]:
    """A figure as the template and the page's script read it."""
    return {
        "key": f.key, "title": f.title if titled else "", "labels": list(f.labels),
        "series": [_series(s, i) for i, s in enumerate(f.series)], "table": f.table, "extra": f.extra,
        "extra_title": EXTRA_TITLES.get(f.key, ""), "empty": f.empty, "horizontal": f.horizontal,
        "unit": f.unit, "unit2": f.unit2, "target": f.target,
        # a horizontal chart grows with its bars, so two bars are not drawn a hand wide
        "height": max(150, 46 * len(f.labels) + 90) if f.horizontal else None,
        "absolute": f.key == "replay",  # losses drawn below zero, labelled as counts
    }


def _series(s: Series, i: int) -> dict[str, Any]:
    return {"name": s.name, "values": list(s.values), "kind": s.kind, "stack": s.stack, "axis": s.axis,
            "color": COLORS.get(s.name, PALETTE[i % len(PALETTE)])}


def _replay_group(r: Replay) -> Group:
    parties = list(r.parties)
    chart = Figure("replay", "", "", tuple(parties), (
        Series("gained", tuple(float(r.parties[p][0]) for p in parties), stack="owner"),
        Series("lost", tuple(-float(r.parties[p][1]) for p in parties), stack="owner"),
    ) if parties else (), Table(("party", "registrations it would own (gained)", "no longer own (lost)", "net"),
                                tuple((p, g, l, g - l) for p, (g, l) in r.parties.items())),
        horizontal=True, unit="registrations", empty="The new rules change no owner.")
    changes = Table(("registration", "arrived", "party", "company", "status now", "with the new rules",
                     "owner now", "with the new rules", "attribution now", "with the new rules", "rule", "reason"),
                    tuple((c.registration_id, c.arrived_at.date().isoformat(), c.party, c.company, c.old.status,
                           c.new.status, c.old.owner, c.new.owner, c.old.attribution, c.new.attribution, c.new.rule,
                           c.new.reason) for c in r.changes))
    totals = Table(("status", "now", "with the new rules"),
                   tuple((status, now, new) for status, (now, new) in r.statuses.items()))
    since = f" from {r.since.date().isoformat()} on" if r.since else ""
    caption = (f"The {counted(r.replayed, 'registration')}{since} re-decided in the order they arrived, with the "
               f"rules in use ({r.rules_hash[:12]}) and with the new rules ({r.new_rules_hash[:12]}): "
               f"{len(r.changes):,} would change. Nothing was written. "
               f"{counted(r.rejected, 'rejected submission')} not re-decided"
               + (f"; {counted(r.kept, 'earlier registration')} kept as on file" if r.kept else "") + ".")
    if r.drift:
        caption += (f" {len(r.drift):,} rows record another outcome than the rules in use give today (a claim "
                    f"closed since, other rules then, or a hand edit): {', '.join(r.drift[:10])}"
                    + (" …" if len(r.drift) > 10 else "") + ".")
    return Group("replay", "Replay: what the new rules would have changed", caption, [_view(chart, titled=False)],
                 tables=[{"title": "Totals", "table": totals}, {"title": "Every registration that would change",
                                                                "table": changes}])


def counted(n: int, noun: str) -> str:
    """"1 registration", "2 registrations"."""
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _script_json(data: object) -> str:
    """JSON that is safe inside a <script> element: no `</script>` or `<!--` can close it early."""
    return (json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=_plain)
            .replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def _plain(value: object) -> object:
    if isinstance(value, Table):
        return {"columns": list(value.columns), "rows": [list(r) for r in value.rows]}
    raise TypeError(f"{type(value).__name__} is not JSON")


def cell(value: object) -> str:
    """A table cell: whole numbers with thousands separators, others to one decimal."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, float) and not value.is_integer():
        return f"{value:,.1f}"
    return f"{int(value):,}"


@lru_cache(maxsize=1)
def _chart_js() -> str:
    return (ASSETS / "chart.umd.min.js").read_text(encoding="utf-8")


@lru_cache(maxsize=1)
def _template() -> Any:
    env = Environment(loader=FileSystemLoader(ASSETS), autoescape=select_autoescape(["html"]),
                      trim_blocks=False, lstrip_blocks=False)
    env.filters["cell"] = cell
    return env.get_template("report.html")
