"""Whole tables in HubSpot as rows of strings (`dealreg import` / `dealreg export`): registrations
as deals, decisions as notes, the reference lists and the alias table as properties of companies.
Read with the list endpoint (what is stored, never the lagging search index); written in batches
of 100."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from dealreg.errors import InputError
from integrations.hubspot import mapping as m
from integrations.hubspot import note_text as nt
from integrations.hubspot.companies import Companies
from integrations.hubspot.reading import Reader
from integrations.hubspot.transport import HubSpotAPI
from integrations.store.rows import check_table, registration_from_row


class Tables:
    """The tables of the account behind `reader`'s index; companies found or created by `companies`.
    The store flushes its buffered notes before decisions are read, and reads everything again after
    a write."""

    def __init__(self, api: HubSpotAPI, reader: Reader, companies: Companies) -> None:
        self.api, self.reader, self.companies = api, reader, companies

    def read_rows(self, table: str) -> Iterator[dict[str, str]]:
        """The rows of one table as they are in HubSpot now."""
        check_table(table)
        api = self.api
        if table == "registrations":
            pipelines = (self.reader.index or self.reader.current()).pipelines
            deals = [d for d in api.list_all("deals", m.DEAL_READ, "the deals read", api.deadline)
                     if m.is_registration(d.get("properties") or {})]
            for deal in sorted(deals, key=lambda d: int(d["id"])):
                props = deal.get("properties") or {}
                yield m.registration_row(props, pipelines.closed_as(m.text(props, "dealstage")))
        elif table == "decisions":
            seen: set[str] = set()
            notes = sorted(api.list_all("notes", ("hs_note_body", "hs_timestamp"), "the decision notes", api.deadline),
                           key=lambda n: int(n["id"]))
            for note in notes:
                for row in nt.note_rows(m.text(note.get("properties") or {}, "hs_note_body")):
                    if row["event_id"] not in seen:
                        seen.add(row["event_id"])
                        yield row
        elif table == "aliases":
            for company in self._marked(table):
                yield from m.alias_rows(company.get("properties") or {})
        else:
            for company in self._marked(table):
                yield m.reference_row(table, company.get("properties") or {})

    def _marked(self, table: str) -> list[dict[str, Any]]:
        """The companies on a reference list (or with other names), oldest first."""
        marker = m.ALIASES if table == "aliases" else m.MARKER[table]
        companies = self.api.list_all("companies", m.COMPANY_READ, "the companies read", self.api.deadline)
        return sorted((c for c in companies if m.text(c.get("properties") or {}, marker).strip()),
                      key=lambda c: int(c["id"]))

    def write_rows(self, table: str, rows: Sequence[dict[str, str]]) -> None:
        """registrations and decisions: add rows (validated: `integrations.store.rows.validated_rows`),
        rewriting those whose id is in HubSpot; partners, territories, named-accounts, aliases: replace
        the list (on companies)."""
        if table == "registrations":
            self._import_registrations(rows)
        elif table == "decisions":
            self._import_decisions(rows)
        elif table == "aliases":
            self._import_aliases(rows)
        else:
            self._import_reference(table, rows)

    def _import_registrations(self, rows: Sequence[dict[str, str]]) -> None:
        api, index = self.api, self.reader.current()
        regs = [registration_from_row(row) for row in rows]
        ids = [r.registration_id for r in regs]
        existing = {m.text(d.get("properties") or {}, m.DEAL["registration_id"]): str(d["id"])
                    for d in api.batch_read("deals", ids, ("dealreg_registration_id",), "the registrations on file",
                                            api.deadline(), id_property=m.DEAL["registration_id"])}
        creates, updates = [], []
        for reg in regs:
            props = {**m.deal_properties(reg, clear_empty=reg.registration_id in existing),
                     "pipeline": index.pipelines.registration, "dealstage": index.pipelines.stage_for(reg.state)}
            if reg.registration_id in existing:
                updates.append({"id": existing[reg.registration_id], "properties": props})
                continue
            item: dict[str, Any] = {"properties": props}
            key = "" if reg.state == "rejected" else m.registration_account_key(reg)
            if key:
                domain = m.company_domain(reg.company_domain, reg.contact_email)
                owner = {m.COMPANY_OWNER: reg.owner} if reg.owner else {}
                company = self.companies.find_or_create(index, key, domain, reg.company_name, owner)
                item["associations"] = [m.association(company, m.DEAL_TO_COMPANY)]
            creates.append(item)
        if updates:
            api.batch_write("deals", "update", updates, "the registrations import", api.deadline())
        if creates:
            api.batch_write("deals", "create", creates, "the registrations import", api.deadline())

    def _import_decisions(self, rows: Sequence[dict[str, str]]) -> None:
        api, index = self.api, self.reader.current()
        inputs = []
        for row in rows:
            with self.reader.lock:
                deal = index.deal_of(row.get("registration_id", "")) if row.get("registration_id") else None
                company = index.company_of(deal) if deal is not None else ""
            associations = [*([m.association(deal.id, m.NOTE_TO_DEAL)] if deal is not None else []),
                            *([m.association(company, m.NOTE_TO_COMPANY)] if company else [])]
            for body in nt.note_bodies([row]):
                inputs.append({"properties": {"hs_timestamp": str(nt.timestamp_ms(row.get("decided_at", ""))),
                                              "hs_note_body": body}, "associations": associations})
        # An event id on file already is replaced: its note is rewritten without it.
        wanted = {row["event_id"] for row in rows}
        rewrites = []
        for note in api.list_all("notes", ("hs_note_body",), "the decision notes", api.deadline):
            body = m.text(note.get("properties") or {}, "hs_note_body")
            held = nt.note_rows(body)
            if any(r["event_id"] in wanted for r in held):
                kept = [r for r in held if r["event_id"] not in wanted]
                rewrites.append({"id": str(note["id"]), "properties": {
                    "hs_note_body": nt.note_bodies(kept)[0] if kept else "<p>dealreg: replaced by an import</p>"}})
        if rewrites:
            api.batch_write("notes", "update", rewrites, "the decisions import", api.deadline())
        if inputs:
            api.batch_write("notes", "create", inputs, "the decisions import", api.deadline())

    def _import_reference(self, table: str, rows: Sequence[dict[str, str]]) -> None:
        """Replace a reference list: the rows' companies get the list's properties (a company is
        found by its account key, or created), the companies no longer listed lose them."""
        api, index = self.api, self.reader.current()
        marked = self._marked(table)
        by_value = {m.text(c.get("properties") or {}, m.MARKER[table]).strip().casefold(): str(c["id"]) for c in marked}
        partners = {m.text(c.get("properties") or {}, m.PARTNER_NAME).strip().casefold(): str(c["id"])
                    for c in self._marked("partners")} if table == "territories" else {}
        targets: dict[str, int] = {}
        updates = []
        for n, row in enumerate(rows, start=2):
            if table == "named-accounts":
                key = m.account_key(row["company_name"], row["company_domain"], "", row["linkedin_url"], row["duns"])
                company = self.companies.find_or_create(index, key, m.company_domain(row["company_domain"]),
                                                        row["company_name"], {})
            else:
                name = row["partner"].strip()
                company = (by_value.get(name.casefold()) or partners.get(name.casefold())
                           or self.companies.find_or_create(index, m.account_key(name), "", name, {}))
            if company in targets:
                noun = {"partners": "partner", "territories": "territory", "named-accounts": "named account"}[table]
                raise InputError([(f"row {n} {next(iter(m.REFERENCE[table]))}",
                                   f"row {targets[company]} names the same HubSpot company {company}: HubSpot keeps "
                                   f"one {noun} per company; merge the two rows")])
            targets[company] = n
            updates.append({"id": company, "properties": m.reference_properties(table, row)})
        for listed in marked:
            if str(listed["id"]) not in targets:
                updates.append({"id": str(listed["id"]), "properties": m.cleared(table)})
        if updates:
            api.batch_write("companies", "update", updates, f"the {table} list", api.deadline())

    def _import_aliases(self, rows: Sequence[dict[str, str]]) -> None:
        """Replace the alias table: each account's company (found by its domain, else its name, or
        created) gets exactly the names its rows list, one a line; the companies with names no
        longer listed lose them. HubSpot keeps no note per name (`dealreg import` says so)."""
        api, index = self.api, self.reader.current()
        names: dict[str, list[str]] = {}
        for row in rows:
            domain = m.company_domain(row["account_domain"])
            key = m.account_key(row["account_name"], domain)
            company = self.companies.find_or_create(index, key, domain, row["account_name"], {})
            names.setdefault(company, []).append(row["alias"])
        updates = [{"id": company, "properties": {m.ALIASES: m.alias_value(listed)}}
                   for company, listed in names.items()]
        for listed_before in self._marked("aliases"):
            if str(listed_before["id"]) not in names:
                updates.append({"id": str(listed_before["id"]), "properties": {m.ALIASES: ""}})
        if updates:
            api.batch_write("companies", "update", updates, "the aliases list", api.deadline())
