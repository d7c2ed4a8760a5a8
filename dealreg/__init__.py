"""dealreg: deal registration and channel-conflict decisions.

The package is the pure core: models, normalise, match, rules, engine. It does no
I/O, reads no clock and no environment; the ways in (`handlers/`) and the outside
systems (`integrations/`) pass in everything it needs. (One thing is read at import:
whether a compiled build of the same modules is there to use; see `_native.py`.)
"""

from dealreg._native import native_path as _native_path

__version__ = "0.1.0"

if (_compiled := _native_path()) is not None:
    __path__.insert(0, _compiled)  # normalise, match and engine load from the compiled build
