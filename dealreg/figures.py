"""What a report page is made of: figures (a chart's series and the table under it), headlines,
and the report that holds them. Plain data, built by dealreg/report.py and drawn by
handlers/report_page.py."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Series:
    name: str
    values: tuple[float | None, ...]  # None: nothing to plot there (a rate of a month without data)
    kind: str = "bar"  # "bar" or "line"
    stack: str = ""  # series with the same stack are stacked
    axis: str = "y"  # "y", or "y2" for a rate drawn over counts


Row = tuple[str | int | float, ...]
"""One row of a figure's table: text, counts and amounts."""


@dataclass(frozen=True, slots=True)
class Table:
    columns: tuple[str, ...]
    rows: tuple[Row, ...]


@dataclass(frozen=True)
class Figure:
    """One chart and the table under it."""

    key: str  # a stable id for the page and the tests
    title: str
    caption: str  # what is counted, in one or two sentences
    labels: tuple[str, ...]
    series: tuple[Series, ...]
    table: Table
    horizontal: bool = False
    unit: str = ""  # the value axis: "registrations", "days", "%", a currency …
    unit2: str = ""  # the second value axis, when a series uses "y2"
    target: float | None = None  # a line across the chart (the 90-day activation target)
    empty: str = ""  # when there is nothing to draw: why, in one sentence
    extra: Table | None = None  # a second table (the claims expiring soon, the review queue)


@dataclass(frozen=True)
class Headline:
    label: str
    value: str
    detail: str = ""


@dataclass(frozen=True)
class Report:
    as_of: datetime
    rules_hash: str
    protection_days: int
    headlines: tuple[Headline, ...]
    figures: tuple[Figure, ...]  # in page order; small multiples share a key prefix
    notes: tuple[str, ...] = ()
    counts: dict[str, int] = field(default_factory=dict)
