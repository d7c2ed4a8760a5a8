"""The channel report's figures: every number of `dealreg report`, computed from the history.

Pure: the history, the time of the report (`as_of`) and the protection window are passed in;
nothing here reads a store, a clock or a file. Each chart is a `Figure` with the table of the
numbers it draws (`handlers/report_page.py` renders both), so every figure on the page can be
traced to rows on file. What each figure counts is said in its `caption`.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta

from dealreg.claims import party_key
from dealreg.figures import Figure, Headline, Report, Row, Series, Table  # noqa: F401  (Row: re-exported)
from dealreg.history import History, Logged, Partner, parties_in
from dealreg.models import CLOSED_STATES, Registration, Status

STATUSES = tuple(s.value for s in Status)  # clear, duplicate, conflict, needs_review, rejected
NOT_RECORDED = "not recorded"  # a registration imported without a decision
SETTLING_RULES = ("named_accounts", "partner_territory", "direct_above_deal_size", "first_to_register")
ACTIVATION_DAYS = 90  # the activation window channel programs measure (issue 14)
EXPIRING_DAYS = 14
AGE_BUCKETS = ((1, "under 1 day"), (3, "1-3 days"), (7, "3-7 days"), (14, "1-2 weeks"), (28, "2-4 weeks"),
               (None, "over 4 weeks"))
REVIEW_CAUSES = ("possible match", "unreadable row", "no rule settles it")


def build_report(history: History, *, as_of: datetime, rules_hash: str, protection_days: int) -> Report:
    """Every figure of the report, as of `as_of`."""
    window = timedelta(days=protection_days)
    regs = [r for r in history.registrations if r.submitted_at <= as_of]  # not yet made: not yet on the page
    decisions = [d for d in history.decisions if d.decided_at <= as_of]
    arrivals = history.arrivals()
    parties = parties_in(regs, history.partners)
    figures: list[Figure] = []
    figures += registrations_over_time(regs, parties, as_of)
    figures.append(conflicts(regs, as_of))
    figures.append(pipeline(regs))
    figures.append(activation(regs, history.partners, as_of))
    figures.append(claims_by_expiry(regs, parties, as_of, window))
    figures.append(win_rate(regs, parties))
    figures.append(review_queue(regs, arrivals, as_of))
    figures.append(sent_to_review(decisions, as_of))
    notes = list(history.problems)
    notes += [f"Not counted, as it cannot be read: {row.describe()}" for row in history.quarantined]
    other_rules = Counter(d.rules_hash for d in decisions if d.rules_hash and d.rules_hash != rules_hash)
    if other_rules:
        n = sum(other_rules.values())
        notes.append(f"{n:,} of the {len(decisions):,} decisions were made under other rules files "
                     f"({', '.join(h[:12] for h in sorted(other_rules))}) than this report's {rules_hash[:12]}.")
    return Report(as_of, rules_hash, protection_days, headlines(regs, figures, history.partners, as_of),
                  tuple(figures), tuple(notes),
                  {"registrations": len(regs), "decisions": len(decisions), "partners": len(history.partners)})


# -- helpers -------------------------------------------------------------------------------

def month(moment: datetime) -> str:
    return f"{moment.year:04d}-{moment.month:02d}"


def months_between(first: datetime, last: datetime) -> list[str]:
    out: list[str] = []
    year, mon = first.year, first.month
    while (year, mon) <= (last.year, last.month):
        out.append(f"{year:04d}-{mon:02d}")
        year, mon = (year + 1, 1) if mon == 12 else (year, mon + 1)
    return out


def status_of(reg: Registration) -> str:
    return reg.status if reg.status in STATUSES else NOT_RECORDED


def is_open(reg: Registration) -> bool:
    return reg.state not in CLOSED_STATES and status_of(reg) != "rejected"


def expires(reg: Registration, window: timedelta) -> datetime:
    return reg.expires_at or reg.submitted_at + window


def percent(part: int, whole: int) -> float:
    return round(100 * part / whole, 1) if whole else 0.0


def same(a: str, b: str) -> bool:
    return party_key(a) == party_key(b)


# -- the figures ---------------------------------------------------------------------------

def registrations_over_time(regs: Sequence[Registration], parties: Sequence[str], as_of: datetime) -> list[Figure]:
    """One small chart per party: registrations per month (by `submitted_at`), stacked by status."""
    if not regs:
        return [Figure("registrations", "Registrations per month, by status", "", (), (), Table((), ()),
                       empty="No registrations on file yet.")]
    labels = months_between(min(r.submitted_at for r in regs), as_of)
    statuses = [s for s in (*STATUSES, NOT_RECORDED) if any(status_of(r) == s for r in regs)]
    counts: dict[str, Counter[tuple[str, str]]] = defaultdict(Counter)
    for reg in regs:
        counts[party_key(reg.party)][(month(reg.submitted_at), status_of(reg))] += 1
    figures = []
    for n, party in enumerate(parties, start=1):
        mine = counts[party_key(party)]
        series = tuple(Series(s, tuple(float(mine[(m, s)]) for m in labels), stack="status") for s in statuses)
        rows: tuple[Row, ...] = tuple((m, *(mine[(m, s)] for s in statuses), sum(mine[(m, s)] for s in statuses))
                     for m in labels if any(mine[(m, s)] for s in statuses))
        total = sum(mine.values())
        figures.append(Figure(
            f"registrations-{n}", f"{party}: {total:,} registration{'s' * (total != 1)}",
            "Registrations per month of submitted_at, stacked by the status each row records now.",
            tuple(labels), series, Table(("month", *statuses, "total"), rows), unit="registrations",
            empty="" if total else f"{party} has registered nothing yet."))
    return figures


def conflicts(regs: Sequence[Registration], as_of: datetime) -> Figure:
    """Conflicts per month by the rule that decided them, and the conflict rate."""
    decided = [r for r in regs if status_of(r) not in ("rejected", NOT_RECORDED)]
    caption = ("Registrations whose status is conflict, per month of submitted_at, by the rule that decided; "
               "the line is the conflict rate: conflicts out of every registration that was not rejected.")
    if not decided:
        return Figure("conflicts", "Conflicts, and the rule that decided each", caption, (), (), Table((), ()),
                      empty="No decided registrations yet.")
    labels = months_between(min(r.submitted_at for r in decided), as_of)
    rules = [r for r in SETTLING_RULES if any(x.rule == r for x in decided if x.status == "conflict")]
    rules += sorted({x.rule for x in decided if x.status == "conflict"} - set(rules))
    total: Counter[str] = Counter(month(r.submitted_at) for r in decided)
    by_rule: Counter[tuple[str, str]] = Counter((month(r.submitted_at), r.rule) for r in decided if r.status == "conflict")
    found: Counter[str] = Counter(month(r.submitted_at) for r in decided if r.status == "conflict")
    series = [Series(rule, tuple(float(by_rule[(m, rule)]) for m in labels), stack="rule") for rule in rules]
    series.append(Series("conflict rate", tuple(percent(found[m], total[m]) if total[m] else None for m in labels),
                         kind="line", axis="y2"))
    rows: tuple[Row, ...] = tuple((m, total[m], found[m], percent(found[m], total[m]), *(by_rule[(m, r)] for r in rules))
                 for m in labels if total[m])
    return Figure("conflicts", "Conflicts, and the rule that decided each", caption, tuple(labels), tuple(series),
                  Table(("month", "registrations", "conflicts", "conflict rate %", *rules), rows),
                  unit="conflicts", unit2="%")


ATTRIBUTIONS = ("partner-sourced", "partner-influenced", "direct")


def pipeline(regs: Sequence[Registration]) -> Figure:
    """Deal value by attribution, each account counted once, at the value of the claim that owns it."""
    caption = ("Each account counted once, at the deal value of the registration that owns it (its party is its "
               "owner; duplicates, claims in review, lost, withdrawn and rejected ones left out). Partner-influenced: "
               "the direct team owns it and a partner's claim lost to it. Currencies are never added together.")
    influenced = {r.matched_registration_id for r in regs
                  if r.attribution_secondary == "partner-influenced" and r.matched_registration_id}
    value: defaultdict[tuple[str, str, str], float] = defaultdict(float)  # (attribution, currency, open/won) -> value
    deals: Counter[tuple[str, str]] = Counter()
    no_value: Counter[str] = Counter()
    for reg in regs:
        if status_of(reg) not in ("clear", "conflict") or not same(reg.party, reg.owner):
            continue
        if reg.state in ("lost", "withdrawn", "rejected"):
            continue
        if reg.attribution_primary == "partner-sourced":
            kind = "partner-sourced"
        elif reg.attribution_secondary == "partner-influenced" or reg.registration_id in influenced:
            kind = "partner-influenced"
        else:
            kind = "direct"
        if reg.deal_value is None:
            no_value[kind] += 1
            continue
        currency = reg.currency.strip().upper() or "(no currency)"
        stage = "won" if reg.state == "won" else "open"
        value[(kind, currency, stage)] += reg.deal_value
        deals[(kind, currency)] += 1
    currencies = sorted({c for _, c, _ in value}, key=lambda c: (-sum(v for (_, cc, _), v in value.items() if cc == c), c))
    series = tuple(Series(f"{currency} {stage}", tuple(value[(k, currency, stage)] for k in ATTRIBUTIONS),
                          stack=currency)
                   for currency in currencies for stage in ("open", "won")
                   if any(value[(k, currency, stage)] for k in ATTRIBUTIONS))
    rows = tuple((k, c, deals[(k, c)], value[(k, c, "open")], value[(k, c, "won")])
                 for k in ATTRIBUTIONS for c in currencies if deals[(k, c)])
    rows += tuple((k, "(no deal value)", n, 0, 0) for k, n in no_value.items())
    return Figure("pipeline", "Pipeline by attribution", caption, ATTRIBUTIONS, series,
                  Table(("attribution", "currency", "deals", "open value", "won value"), rows),
                  unit=" / ".join(currencies) or "value",
                  empty="" if series else "No deal values on the registrations that own their accounts yet.")


def activation(regs: Sequence[Registration], partners: Sequence[Partner], as_of: datetime) -> Figure:
    """Days from joining to the first registration, per partner."""
    caption = (f"Days from the partner's joined_at (the Partners list) to its first registration that was not "
               f"rejected; a partner with none yet shows the days since it joined. The line is the "
               f"{ACTIVATION_DAYS}-day activation target.")
    first: dict[str, datetime] = {}
    for reg in regs:
        if status_of(reg) == "rejected":
            continue
        key = party_key(reg.party)
        if key not in first or reg.submitted_at < first[key]:
            first[key] = reg.submitted_at
    names = [p for p in partners if p.joined_at is not None]
    within, late, waiting = [], [], []
    rows: list[Row] = []
    for p in names:
        assert p.joined_at is not None
        start = first.get(party_key(p.name))
        if start is not None:
            days = max(0, (start - p.joined_at).days)  # a registration before the signing counts as day 0
            within.append(float(days) if days <= ACTIVATION_DAYS else 0.0)
            late.append(float(days) if days > ACTIVATION_DAYS else 0.0)
            waiting.append(0.0)
            verdict = "activated" if days <= ACTIVATION_DAYS else f"activated after {ACTIVATION_DAYS} days"
            rows.append((p.name, p.joined_at.date().isoformat(), start.date().isoformat(), days, verdict))
        else:
            days = max(0, (as_of - p.joined_at).days)
            within.append(0.0)
            late.append(0.0)
            waiting.append(float(days))
            verdict = "not yet, past the target" if days > ACTIVATION_DAYS else "not yet"
            rows.append((p.name, p.joined_at.date().isoformat(), "", days, verdict))
    rows += [(p.name, "", "", "", "no joined date: add joined_at to the Partners list")
             for p in partners if p.joined_at is None]
    series = (Series(f"first registration within {ACTIVATION_DAYS} days", tuple(within), stack="days"),
              Series(f"first registration after {ACTIVATION_DAYS} days", tuple(late), stack="days"),
              Series("no registration yet (days since joining)", tuple(waiting), stack="days"))
    empty = "" if names else "No partner has a joined date: add a joined_at column to the Partners list."
    return Figure("activation", f"Time to first registration ({ACTIVATION_DAYS}-day activation)", caption,
                  tuple(p.name for p in names), series if names else (),
                  Table(("partner", "joined", "first registration", "days", ""), tuple(rows)),
                  horizontal=True, unit="days", target=float(ACTIVATION_DAYS), empty=empty)


def claims_by_expiry(regs: Sequence[Registration], parties: Sequence[str], as_of: datetime,
                     window: timedelta) -> Figure:
    """Open claims per party: active, expiring within 14 days, expired."""
    caption = (f"Registrations still open (not won, lost, withdrawn or rejected), by their protection end "
               f"(expires_at, or submitted_at + the {window.days}-day window): active, expiring within the next "
               f"{EXPIRING_DAYS} days, or expired.")
    soon_end = as_of + timedelta(days=EXPIRING_DAYS)
    counts: Counter[tuple[str, str]] = Counter()
    soon: list[tuple[datetime, Registration]] = []
    for reg in regs:
        if not is_open(reg):
            continue
        end = expires(reg, window)
        kind = "expired" if end <= as_of else f"expiring within {EXPIRING_DAYS} days" if end <= soon_end else "active"
        counts[(party_key(reg.party), kind)] += 1
        if kind.startswith("expiring"):
            soon.append((end, reg))
    kinds = ("active", f"expiring within {EXPIRING_DAYS} days", "expired")
    shown = [p for p in parties if any(counts[(party_key(p), k)] for k in kinds)]
    series = tuple(Series(k, tuple(float(counts[(party_key(p), k)]) for p in shown), stack="claims") for k in kinds)
    rows: tuple[Row, ...] = tuple((p, *(counts[(party_key(p), k)] for k in kinds)) for p in shown)
    extra = Table(("expires", "registration", "party", "company"),
                  tuple((end.date().isoformat(), reg.registration_id, reg.party, reg.company_name or reg.company_domain)
                        for end, reg in sorted(soon, key=lambda er: (er[0], er[1].registration_id))))
    return Figure("expiry", f"Open claims: active, expiring in {EXPIRING_DAYS} days, expired", caption, tuple(shown),
                  series if shown else (), Table(("party", *kinds), rows), horizontal=True, unit="registrations",
                  empty="" if shown else "No open registrations.", extra=extra)


def win_rate(regs: Sequence[Registration], parties: Sequence[str]) -> Figure:
    """Won out of won + lost, per party, where outcomes are known."""
    caption = ("Registrations whose state is won, out of those won or lost (the outcomes on file); parties "
               "without a known outcome are listed in the table only.")
    won: Counter[str] = Counter(party_key(r.party) for r in regs if r.state == "won")
    lost: Counter[str] = Counter(party_key(r.party) for r in regs if r.state == "lost")
    still: Counter[str] = Counter(party_key(r.party) for r in regs if is_open(r))
    known = [p for p in parties if won[party_key(p)] + lost[party_key(p)]]
    series = (Series("win rate", tuple(percent(won[party_key(p)], won[party_key(p)] + lost[party_key(p)])
                                       for p in known)),)
    rows = tuple((p, won[party_key(p)], lost[party_key(p)], still[party_key(p)],
                  percent(won[party_key(p)], won[party_key(p)] + lost[party_key(p)])
                  if won[party_key(p)] + lost[party_key(p)] else "")
                 for p in parties)
    return Figure("win-rate", "Win rate, where outcomes are known", caption, tuple(known), series if known else (),
                  Table(("party", "won", "lost", "open", "win rate %"), rows), horizontal=True, unit="%",
                  empty="" if known else "No registration is marked won or lost yet (the state column).")


def age_bucket(days: float) -> str:
    for limit, label in AGE_BUCKETS:
        if limit is None or days < limit:
            return label
    raise AssertionError("the last bucket has no limit")


def review_queue(regs: Sequence[Registration], arrivals: dict[str, datetime], as_of: datetime) -> Figure:
    """How long the registrations waiting for a person have waited."""
    caption = ("Registrations whose status is needs_review and that are still open, by how long they have "
               "waited since they arrived.")
    queue = [((as_of - arrivals.get(r.registration_id, r.submitted_at)).total_seconds() / 86400, r)
             for r in regs if status_of(r) == "needs_review" and is_open(r)]
    queue.sort(key=lambda dr: (-dr[0], dr[1].registration_id))
    buckets = Counter(age_bucket(days) for days, _ in queue)
    labels = tuple(label for _, label in AGE_BUCKETS)
    rows = tuple((label, buckets[label]) for label in labels)
    extra = Table(("waiting (days)", "registration", "party", "company", "reason"),
                  tuple((round(days, 1), r.registration_id, r.party, r.company_name or r.company_domain, r.reason)
                        for days, r in queue))
    return Figure("review-queue", f"Review queue: {len(queue):,} waiting", caption, labels,
                  (Series("registrations", tuple(float(buckets[label]) for label in labels)),) if queue else (),
                  Table(("waited", "registrations"), rows), unit="registrations",
                  empty="" if queue else "Nothing is waiting for review.", extra=extra)


def review_cause(event: Logged) -> str:
    if event.rule == "quarantine":
        return "unreadable row"
    if event.match == "possible":
        return "possible match"
    return "no rule settles it"


def sent_to_review(decisions: Sequence[Logged], as_of: datetime) -> Figure:
    """Decisions (checks and registrations) sent to review per month, by cause."""
    caption = ("Every decision event (Clay and API checks as well as registrations) per month: those whose status "
               "was needs_review, by cause, and their share of all decisions (the line). A possible match is the "
               "matcher unsure whether two records are one account.")
    if not decisions:
        return Figure("sent-to-review", "What the matcher sent to review", caption, (), (), Table((), ()),
                      empty="No decision events on file yet.")
    labels = months_between(min(d.decided_at for d in decisions), as_of)
    total: Counter[str] = Counter(month(d.decided_at) for d in decisions)
    causes: Counter[tuple[str, str]] = Counter((month(d.decided_at), review_cause(d)) for d in decisions
                                                if d.status == "needs_review")
    review: Counter[str] = Counter(month(d.decided_at) for d in decisions if d.status == "needs_review")
    series = [Series(c, tuple(float(causes[(m, c)]) for m in labels), stack="cause") for c in REVIEW_CAUSES]
    series.append(Series("share of decisions", tuple(percent(review[m], total[m]) if total[m] else None
                                                     for m in labels), kind="line", axis="y2"))
    rows: tuple[Row, ...] = tuple((m, total[m], review[m], percent(review[m], total[m]), *(causes[(m, c)] for c in REVIEW_CAUSES))
                 for m in labels if total[m])
    return Figure("sent-to-review", "What the matcher sent to review", caption, tuple(labels), tuple(series),
                  Table(("month", "decisions", "needs_review", "share %", *REVIEW_CAUSES), rows),
                  unit="decisions", unit2="%")


def headlines(regs: Sequence[Registration], figures: Iterable[Figure], partners: Sequence[Partner],
              as_of: datetime) -> tuple[Headline, ...]:
    decided = [r for r in regs if status_of(r) not in ("rejected", NOT_RECORDED)]
    found = sum(1 for r in decided if r.status == "conflict")
    queue = next(f for f in figures if f.key == "review-queue")
    waiting = queue.extra.rows if queue.extra else ()
    joined = [p for p in partners if p.joined_at is not None]
    activation_rows = next(f for f in figures if f.key == "activation").table.rows
    activated = sum(1 for row in activation_rows if row[-1] == "activated")
    return (
        Headline("registrations", f"{len(regs):,}", f"{sum(1 for r in regs if is_open(r)):,} open"),
        Headline("conflict rate", f"{percent(found, len(decided))}%", f"{found:,} of {len(decided):,} decided"),
        Headline("review queue", f"{len(waiting):,}",
                 f"oldest {waiting[0][0]} days" if waiting else "nothing waiting"),
        Headline(f"activated in {ACTIVATION_DAYS} days", f"{activated} of {len(joined)}",
                 "partners with a joined date" if joined else "add joined_at to the Partners list"),
    )
