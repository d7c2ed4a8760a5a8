"""`python -m handlers.cli`: the `dealreg` command, for a process that has no console script
(tests start `dealreg serve` this way)."""

from handlers.cli import main

main()
