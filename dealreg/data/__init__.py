"""The core's word lists (legal forms, free-mail domains), read from the text files beside this module."""

from __future__ import annotations

from importlib.resources import files


def lines(name: str) -> list[str]:
    """The entries of a data file: one per line, '#' starts a comment."""
    text = (files(__name__) / name).read_text(encoding="utf-8")
    return [entry for line in text.splitlines() if (entry := line.split("#", 1)[0].strip())]
