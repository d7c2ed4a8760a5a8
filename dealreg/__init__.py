"""dealreg: deal registration and channel-conflict decisions.

The package is the pure core: models, the account keys (names, domains, ids), matching
(keys, similarity, index, score), the rules and the decision (engine, settle, attribution).
It does no I/O, reads no clock and no environment; the ways in (`handlers/`) and the
outside systems (`integrations/`) pass in everything it needs.
"""

__version__ = "0.1.0"
