"""What the HubSpot store knows of the account between reads: every registration deal, the direct
team's deals, the companies (account keys, domains, the reference lists) and the deal pipelines,
with the log of what changed, so readers take the changes rather than everything.

A change that the engine can take as an append (a new deal, a deal whose claim changed) is
appended to the log; anything else (a deal deleted or moved out of the direct pipelines, a deal
that became unreadable or readable again, a reference list edited) starts a new epoch, and
readers rebuild from memory. An object is only replaced by a newer version of itself
(`hs_lastmodifieddate`): the search index may answer with the state before our own write.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from dealreg.errors import InputError, StoreError
from dealreg.models import Alias, NamedAccount, Quarantined, Registration, Territory
from integrations.hubspot import mapping as m
from integrations.store.contract import Changes, Cursor
from integrations.store.rows import (
    alias_from_row,
    cell_problem,
    named_account_from_row,
    quarantined_reference,
    quarantined_registration,
    registration_from_row,
    territory_from_row,
)

log = logging.getLogger("integrations.hubspot")

Item = Registration | Quarantined


# -- pipelines ---------------------------------------------------------------------------

@dataclass(frozen=True)
class Pipelines:
    """The deal pipelines as dealreg reads them: where a registration deal goes, which stages
    close a claim, and which deals are the direct team's claims."""

    registration: str  # the registrations pipeline's id
    open_stage: str  # where a new registration deal goes
    won_stage: str
    lost_stage: str  # rejected, lost and withdrawn registrations
    closed: Mapping[str, str]  # every closed stage id -> "won" / "lost"
    direct: Mapping[str, frozenset[str]]  # pipeline id -> the stage ids whose deals are direct claims

    def stage_for(self, state: str) -> str:
        if state == "won":
            return self.won_stage
        if state in ("lost", "withdrawn", "rejected", "expired"):
            return self.lost_stage
        return self.open_stage

    def closed_as(self, stage: str) -> str:
        return self.closed.get(stage, "")

    def direct_claim(self, pipeline: str, stage: str) -> bool:
        """A deal of the CRM counts as the direct team's claim (open or closed) in these stages."""
        stages = self.direct.get(pipeline)
        return stages is not None and (stage in stages or stage in self.closed)


def _pick(items: Sequence[Mapping[str, Any]], wanted: str) -> Mapping[str, Any] | None:
    """A pipeline or stage by id, else by label (case-insensitive)."""
    for item in items:
        if str(item.get("id")) == wanted:
            return item
    folded = wanted.casefold()
    return next((i for i in items if str(i.get("label", "")).casefold() == folded), None)


def _closed(stage: Mapping[str, Any]) -> bool:
    return str((stage.get("metadata") or {}).get("isClosed", "false")).lower() == "true"


def _probability(stage: Mapping[str, Any]) -> float:
    try:
        return float((stage.get("metadata") or {}).get("probability", 0))
    except (TypeError, ValueError):
        return 0.0


def resolve_pipelines(data: Sequence[Mapping[str, Any]], registration: str, direct_pipelines: Sequence[str],
                      direct_stages: Sequence[str]) -> Pipelines:
    """The settings (`DEALREG_HUBSPOT_PIPELINE`, `…_DIRECT_PIPELINES`, `…_DIRECT_STAGES`) read
    against the account's pipelines; StoreError naming what exists when one is not there."""
    labels = ", ".join(f"{p.get('label')} ({p.get('id')})" for p in data)
    pipeline = _pick(data, registration)
    if pipeline is None:
        raise StoreError(f"HubSpot has no deal pipeline {registration!r} (DEALREG_HUBSPOT_PIPELINE); the account has: "
                         f"{labels}. Set one of them, or create one with `dealreg init-hubspot --pipeline LABEL`")
    stages = sorted(pipeline.get("stages") or [], key=lambda s: s.get("displayOrder", 0))
    open_stages = [s for s in stages if not _closed(s)]
    closed_stages = [s for s in stages if _closed(s)]
    if not open_stages or not closed_stages:
        raise StoreError(f"the deal pipeline {pipeline.get('label')!r} needs an open stage and a closed one "
                         f"(for rejected registrations); add them in HubSpot, or use another pipeline")
    won = max(closed_stages, key=_probability)
    lost = min(closed_stages, key=_probability)
    closed = {str(s["id"]): ("won" if _probability(s) >= 1.0 else "lost")
              for p in data for s in p.get("stages") or [] if _closed(s)}
    chosen = []
    for name in direct_pipelines:
        found = _pick(data, name)
        if found is None:
            raise StoreError(f"HubSpot has no deal pipeline {name!r} (DEALREG_HUBSPOT_DIRECT_PIPELINES); the "
                             f"account has: {labels}")
        chosen.append(found)
    if not direct_pipelines:
        # Every pipeline but a dedicated registrations one: the default pipeline is where sales
        # works, so it counts even when registrations go into it too (HubSpot's free CRM has no other).
        chosen = [p for p in data if p is not pipeline or str(p.get("id")) == "default"]
    direct: dict[str, frozenset[str]] = {}
    found: set[str] = set()  # type: ignore[no-redef]  # the stage names found, after the pipelines above
    for p in chosen:
        stages_of = p.get("stages") or []
        if direct_stages:
            picked = [(name, s) for name in direct_stages if (s := _pick(stages_of, name)) is not None]
            closed_picked = [str(s.get("label")) for _, s in picked if _closed(s)]
            if closed_picked:
                raise StoreError(f"DEALREG_HUBSPOT_DIRECT_STAGES names closed stages ({', '.join(closed_picked)}): a "
                                 f"closed-won or closed-lost deal is no open claim; list open stages only")
            found.update(name for name, _ in picked)  # type: ignore[union-attr]  # the set above
            ids = frozenset(str(s["id"]) for _, s in picked)
        else:
            ids = frozenset(str(s["id"]) for s in stages_of if not _closed(s))
        direct[str(p["id"])] = ids
    unknown = [name for name in direct_stages if name not in found]  # type: ignore[operator]  # the set above
    if unknown:  # a typo would silently let that stage's deals through
        raise StoreError(f"DEALREG_HUBSPOT_DIRECT_STAGES names {', '.join(map(repr, unknown))}, which is no stage of the "
                         f"direct pipelines; their stages are: " + "; ".join(
                             f"{p.get('label')}: " + ", ".join(f"{s.get('label')} ({s.get('id')})"
                                                              for s in p.get("stages") or []) for p in chosen))
    return Pipelines(str(pipeline["id"]), str(open_stages[0]["id"]), str(won["id"]), str(lost["id"]), closed,
                     direct)


# -- the index ---------------------------------------------------------------------------

@dataclass
class Deal:
    id: str
    props: dict[str, str]
    modified: int
    item: Item | None = None  # its claim, or why it cannot be read; None: not a claim at all
    company: str = ""  # a direct deal's company (the association); a registration's is found by key


@dataclass
class Company:
    id: str
    props: dict[str, str]
    modified: int


@dataclass(frozen=True)
class Reference:
    partners: tuple[str, ...] = ()
    territories: tuple[Territory, ...] = ()
    named_accounts: tuple[NamedAccount, ...] = ()
    quarantined: tuple[Quarantined, ...] = ()
    key: tuple[Any, ...] = ()  # what the lists were built from: a change rebuilds readers
    aliases: tuple[Alias, ...] = ()


def _props(obj: Mapping[str, Any]) -> dict[str, str]:
    raw = obj.get("properties") or {}
    return {k: m.text(raw, k) for k in raw}


@dataclass
class Index:
    pipelines: Pipelines
    epoch: str = field(default_factory=lambda: secrets.token_hex(8))
    log: list[Item] = field(default_factory=list)
    deals: dict[str, Deal] = field(default_factory=dict)
    companies: dict[str, Company] = field(default_factory=dict)
    by_key: dict[str, str] = field(default_factory=dict)  # account key -> company id
    by_domain: dict[str, str] = field(default_factory=dict)  # registered domain -> company id (the oldest)
    by_rid: dict[str, str] = field(default_factory=dict)  # registration id -> deal id
    by_external: dict[tuple[str, str], str] = field(default_factory=dict)  # (source, external id) -> deal id
    reference: Reference = field(default_factory=Reference)
    cursor_ms: int = 0  # the newest hs_lastmodifieddate seen
    loaded_at: float = 0.0
    refreshed_at: float = 0.0
    refreshed_wall_ms: int = 0

    # -- reading objects in ------------------------------------------------------------

    def put_company(self, obj: Mapping[str, Any]) -> bool:
        """A company as read; True when it is newer than what was known."""
        cid, modified = str(obj["id"]), m.modified_ms(obj)
        old = self.companies.get(cid)
        if old is not None and modified <= old.modified:
            return False
        props = _props(obj)
        if old is not None:  # what it brought in, and what it said before
            props = {**old.props, **props}
        self.companies[cid] = Company(cid, props, modified)
        self.cursor_ms = max(self.cursor_ms, modified)
        key = props.get(m.ACCOUNT_KEY, "").strip()
        if key:
            self.by_key.setdefault(key, cid)
        domain = m.company_domain(props.get("domain", ""))
        if domain:
            current = self.by_domain.get(domain)
            if current is None or int(cid) < int(current):
                self.by_domain[domain] = cid
        return True

    def company_for(self, key: str, domain: str) -> str:
        """The company of an account: by its account key, else by its domain ("" if none is known)."""
        return self.by_key.get(key, "") or (self.by_domain.get(domain, "") if domain else "")

    def deal_item(self, deal_id: str, props: Mapping[str, str], company: str) -> Item | None:
        """A deal as a claim: a registration (or quarantined, naming the cells to fix), the direct
        team's deal, or None when it is no claim."""
        closed_as = self.pipelines.closed_as(props.get("dealstage", ""))
        if m.is_registration(props):
            row = m.registration_row(props, closed_as)
            rid = row["registration_id"].strip()
            where = f"HubSpot deal {deal_id} ({rid})"
            try:
                return registration_from_row(row)
            except InputError as exc:
                problems = [cell_problem(m.cell(name), row.get(name, ""), message) for name, message in exc.problems]
                return quarantined_registration(row, where, problems)
        if not self.pipelines.direct_claim(props.get("pipeline", ""), props.get("dealstage", "")):
            return None
        if not company or company not in self.companies:
            return None  # a deal without a company names no account: it cannot be matched
        return m.direct_registration(deal_id, props, self.companies[company].props, closed_as)

    def put_deal(self, obj: Mapping[str, Any], company: str = "", *, loading: bool = False) -> bool:
        """A deal as read (`company`: its company, for a direct deal); returns whether readers must
        rebuild (a change that is not an append). `loading`: part of a full load (no log)."""
        did, modified = str(obj["id"]), m.modified_ms(obj)
        old = self.deals.get(did)
        if old is not None and modified < old.modified:
            return False  # the search index answered with the state before a write we know of
        props = _props(obj)
        if old is not None:
            props = {**old.props, **props}
            company = company or old.company
        item = self.deal_item(did, props, company)
        self.deals[did] = Deal(did, props, modified, item, company)
        self.cursor_ms = max(self.cursor_ms, modified)
        self._key(did, props)
        return False if loading else self._logged(old.item if old is not None else None, item)

    def _logged(self, before: Item | None, item: Item | None) -> bool:
        """Log a deal's new claim; True when readers must rebuild instead (not an append)."""
        if item == before:
            return False
        if isinstance(item, Registration) and not isinstance(before, Quarantined):
            self.log.append(item)  # new, or a claim that changed: Engine.add replaces it by id
            return False
        if isinstance(item, Quarantined) and before is None:
            self.log.append(item)
            return False
        return True  # gone, moved out of scope, or became (un)readable: readers rebuild

    def _key(self, did: str, props: Mapping[str, str]) -> None:
        rid = props.get(m.DEAL["registration_id"], "").strip()
        if rid:
            self.by_rid.setdefault(rid, did)
            source = props.get(m.DEAL["source"], "").strip()
            external = m.external_id_of(source, props.get(m.DEAL["external_id"], "").strip())
            if external:
                self.by_external.setdefault((source, external), did)

    def recompute_company(self, cid: str) -> bool:
        """The direct deals of a company whose keys changed; returns whether readers must rebuild."""
        rebuild = False
        for deal in self.deals.values():
            if deal.company == cid and not m.is_registration(deal.props):
                before, deal.item = deal.item, self.deal_item(deal.id, deal.props, cid)
                rebuild = self._logged(before, deal.item) or rebuild
        return rebuild

    def new_epoch(self) -> None:
        self.epoch = secrets.token_hex(8)
        self.log = []

    def build_reference(self) -> bool:
        """The reference lists and the alias table from the companies; True when they changed
        (readers rebuild)."""
        partners: list[str] = []
        territories: list[Territory] = []
        named: list[NamedAccount] = []
        aliases: list[Alias] = []
        bad: list[Quarantined] = []
        seen: list[tuple[str, ...]] = []
        for company in sorted(self.companies.values(), key=lambda c: int(c.id)):
            props = company.props
            if props.get(m.PARTNER_NAME, "").strip():
                partners.append(props[m.PARTNER_NAME].strip())
            for table, convert, into in (("territories", territory_from_row, territories),
                                         ("named-accounts", named_account_from_row, named)):
                if not props.get(m.MARKER[table], "").strip():
                    continue
                row = m.reference_row(table, props)
                seen.append((table, *row.values()))
                try:
                    into.append(convert(row))  # type: ignore[arg-type]
                except InputError as exc:
                    where = f"HubSpot company {company.id} ({props.get('name', '')}) on the {table} list"
                    namer = m.reference_cell(table)
                    bad.append(quarantined_reference(table, row, where, [
                        cell_problem(namer(n), row.get(n, ""), message) for n, message in exc.problems]))  # type: ignore[operator]
            for row in m.alias_rows(props):
                seen.append(("aliases", *row.values()))
                try:
                    aliases.append(alias_from_row(row))
                except InputError as exc:
                    bad.append(_unusable_alias(company, row, exc))
        key = (tuple(partners), tuple(seen))
        changed = key != self.reference.key
        self.reference = Reference(tuple(partners), tuple(territories), tuple(named), tuple(bad), key,
                                   tuple(aliases))
        return changed

    # -- what readers get ------------------------------------------------------------------

    def items(self) -> list[Item]:
        return [d.item for d in sorted(self.deals.values(), key=lambda d: int(d.id)) if d.item is not None]

    def changes(self, since: Cursor | None) -> Changes:
        if since is not None and since.epoch == self.epoch and since.position <= len(self.log):
            new = self.log[since.position:]
            return Changes(Cursor(self.epoch, len(self.log)),
                           tuple(i for i in new if isinstance(i, Registration)),
                           quarantined=tuple(i for i in new if isinstance(i, Quarantined)))
        items = self.items()
        ref = self.reference
        return Changes(Cursor(self.epoch, len(self.log)), tuple(i for i in items if isinstance(i, Registration)),
                       reset=True, named_accounts=ref.named_accounts, territories=ref.territories,
                       partners=ref.partners,
                       quarantined=(*(i for i in items if isinstance(i, Quarantined)), *ref.quarantined),
                       aliases=ref.aliases)

    def registrations(self) -> list[Deal]:
        """The registration deals, oldest first."""
        return [d for d in sorted(self.deals.values(), key=lambda d: int(d.id)) if m.is_registration(d.props)]

    def deal_of(self, registration_id: str) -> Deal | None:
        """The deal of a registration id: a registration deal's, else a direct deal's `deal-<id>`
        (an imported registration may be called that too: it comes first)."""
        did = self.by_rid.get(registration_id)
        if did is None and registration_id.startswith(m.DIRECT_PREFIX):
            did = registration_id[len(m.DIRECT_PREFIX):]
        return self.deals.get(did) if did else None

    def company_of(self, deal: Deal) -> str:
        """The company a deal's claim is on: a direct deal's association, a registration's account key."""
        if deal.company:
            return deal.company
        item = deal.item
        if isinstance(item, Registration):
            return self.company_for(m.registration_account_key(item), m.company_domain(item.company_domain,
                                                                                        item.contact_email))
        return ""

    def facts(self) -> dict[str, object]:
        regs = sum(1 for d in self.deals.values() if isinstance(d.item, Registration) and m.is_registration(d.props))
        direct = sum(1 for d in self.deals.values() if isinstance(d.item, Registration) and not m.is_registration(d.props)
                     and d.item.state == "open")
        return {"registrations": regs, "direct_deals": direct}


def _unusable_alias(company: Company, row: Mapping[str, str], exc: InputError) -> Quarantined:
    """Another name on a company that names no account (neither a domain nor a name), or a name of
    punctuation only: reported (`/healthz`, naming the company and the property), never a claim."""
    props = company.props
    problems = []
    for name, message in exc.problems:
        if name == "account_domain":
            domain = props.get("domain", "").strip()
            told = f"domain {domain!r} is no company's domain" if domain else "domain is empty"
            problems.append(f"properties domain and name: {told} and name is empty; the names in {m.ALIASES} "
                            f"need the account's domain or name: fill one in")
        else:
            problems.append(f"property {m.ALIASES}, line {row.get(name, '')!r}: {message}")
    where = f"HubSpot company {company.id} ({props.get('name', '') or props.get('domain', '') or 'no name'})"
    return Quarantined("aliases", f"{where}, its other names", tuple(problems), claim=False)


def primary_company(links: Iterable[tuple[str, set[int]]]) -> str:
    """A deal's company: the primary association (type 5), else the first one."""
    links = list(links)
    for to, types in links:
        if m.DEAL_TO_COMPANY in types:
            return to
    return links[0][0] if links else ""
