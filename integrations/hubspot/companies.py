"""The company of an account: found by its account key (`dealreg_account_key`, unique in HubSpot,
so two first registrations of one account meet on one company: the second is refused and reads the
first's), created when new, and given the account-level owner and attribution of its last decision."""

from __future__ import annotations

import threading
from collections.abc import Mapping

from dealreg.errors import StoreError
from dealreg.models import Decision, Registration
from integrations.hubspot import mapping as m
from integrations.hubspot.index import Index
from integrations.hubspot.transport import Ambiguous, HubSpotAPI, UniqueConflict


def owner_properties(decision: Decision) -> dict[str, str]:
    """The account-level outcome a company shows; nothing when no owner was decided (review)."""
    if not decision.owner:
        return {}
    return {m.COMPANY_OWNER: decision.owner, m.COMPANY_PRIMARY: decision.attribution_primary,
            m.COMPANY_SECONDARY: decision.attribution_secondary}


class Companies:
    """Companies found, created and updated through `api`; what HubSpot answers goes into the index
    the caller works on, under `lock` (the index's)."""

    def __init__(self, api: HubSpotAPI, lock: threading.RLock) -> None:
        self.api, self.lock = api, lock

    def find_or_create(self, index: Index, key: str, domain: str, name: str, extra: Mapping[str, str]) -> str:
        """The company of an account key: known, found by the key, or created with `extra` (an import)."""
        with self.lock:
            known = index.company_for(key, domain)
        if known:
            return known
        props = {"name": name or domain or key.split(":", 1)[-1], m.ACCOUNT_KEY: key, **extra}
        if domain:
            props["domain"] = domain
        try:
            created = self.api.call("POST", "/crm/v3/objects/companies", "a company", self.api.deadline(),
                                    body={"properties": props}, write=True)
        except (UniqueConflict, Ambiguous):
            created = self.api.get("companies", key, m.COMPANY_READ, "a company", self.api.deadline(),
                                   id_property=m.ACCOUNT_KEY)
            if created is None:
                raise StoreError(f"HubSpot did not create the company of {key}; try again") from None
        with self.lock:
            index.put_company(created)
        return str(created["id"])

    def create(self, index: Index, reg: Registration, decision: Decision, key: str, domain: str, deal_id: str,
               deadline: float) -> str:
        """A new account's company, associated with the registration's deal; the one another writer
        created first when the account key is taken."""
        props = {"name": reg.company_name or domain or reg.linkedin_url or reg.duns, m.ACCOUNT_KEY: key,
                 **owner_properties(decision)}
        if domain:
            props["domain"] = domain
        body = {"properties": props, "associations": [m.association(deal_id, m.COMPANY_TO_DEAL)]}
        attempt = 0
        while True:
            try:
                created = self.api.call("POST", "/crm/v3/objects/companies", "the account's company", deadline,
                                        body=body, write=True)
                with self.lock:
                    index.put_company(created)
                return str(created["id"])
            except (UniqueConflict, Ambiguous) as exc:
                existing = self.api.get("companies", key, m.COMPANY_READ, "the account's company", deadline,
                                        id_property=m.ACCOUNT_KEY)
                if existing is None:
                    if isinstance(exc, UniqueConflict):
                        raise
                    self.api.backoff(attempt, str(exc), "the account's company", deadline)
                    attempt += 1
                    continue
            cid = str(existing["id"])
            # created first by another writer (or by our own try, whose answer was lost): join it
            self.api.associate("deals", deal_id, "companies", cid, m.DEAL_TO_COMPANY, "the deal's company", deadline)
            with self.lock:
                index.put_company(existing)
            self.update(index, cid, key, decision, deadline)
            return cid

    def update(self, index: Index, company: str, key: str, decision: Decision, deadline: float) -> None:
        """Write the account-level outcome on the company when it changed (and its account key,
        when the company was found by its domain)."""
        with self.lock:
            known = index.companies.get(company)
            current = dict(known.props) if known is not None else {}
        want = owner_properties(decision)
        if key and not current.get(m.ACCOUNT_KEY):
            want[m.ACCOUNT_KEY] = key
        changed = {k: v for k, v in want.items() if current.get(k, "") != v}
        if not changed:
            return
        try:
            updated = self.api.call("PATCH", f"/crm/v3/objects/companies/{company}", "the account's company",
                                    deadline, body={"properties": changed}, write=True, retry_ambiguous=True)
        except UniqueConflict:  # another company holds the key: leave this one unkeyed
            changed.pop(m.ACCOUNT_KEY, None)
            if not changed:
                return
            updated = self.api.call("PATCH", f"/crm/v3/objects/companies/{company}", "the account's company",
                                    deadline, body={"properties": changed}, write=True, retry_ambiguous=True)
        with self.lock:
            index.put_company(updated)
