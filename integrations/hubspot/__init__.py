"""The HubSpot store, one module per concern: transport (calling the API with bounded retries and
HubSpot's quota policies), setup (`dealreg init-hubspot`: the property group, the properties, the
pipeline), mapping (deals, companies and notes as registrations, accounts and decision events),
index (what the store knows between reads), reading (filling the index and keeping it fresh),
deals (a registration's deal, created once), companies (an account's company, found or created),
notes (decision events on the timelines), tables (whole tables for import and export), store (the
store contract). The whole story, with the API calls each action costs: docs/hubspot.md."""

from integrations.hubspot.setup import InitReport
from integrations.hubspot.store import HubSpotStore
from integrations.hubspot.transport import HUBSPOT_URL, HubSpotAPI

__all__ = ["HUBSPOT_URL", "HubSpotAPI", "HubSpotStore", "InitReport"]
