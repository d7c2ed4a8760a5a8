"""Account matching in one import: which claims a record may be the same account as.

Each part lives in its own module: the keys of a record (`dealreg.keys`), how alike two
names are (`dealreg.similarity`), the index of every claim's keys (`dealreg.index`) and the
evidence weights and bands (`dealreg.score`). This one only gathers the names callers use.
"""

from __future__ import annotations

from dealreg.index import AccountIndex
from dealreg.keys import Keys, keys_many, keys_of
from dealreg.score import MATCH_AT, POSSIBLE_AT, Hit, confidence_of, score
from dealreg.similarity import FUZZY_HIGH, FUZZY_MID, name_similarity

__all__ = [
    "FUZZY_HIGH", "FUZZY_MID", "MATCH_AT", "POSSIBLE_AT", "AccountIndex", "Hit", "Keys", "confidence_of",
    "keys_many", "keys_of", "name_similarity", "score",
]
