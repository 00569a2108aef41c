"""Months: parsing, formatting and the reference month of a scheduled run."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


def parse_month(text: str) -> date:
    """'2025-05' -> date(2025, 5, 1). Rejects anything else with a clear message."""
    match = _MONTH_RE.match(text.strip()) if isinstance(text, str) else None
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"period {text!r} is not a month in the form YYYY-MM (for example 2025-05)")
    return date(int(match.group(1)), int(match.group(2)), 1)


def format_month(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def month_range(start: date, end: date) -> Iterator[date]:
    """Every month from start to end, both included."""
    current = date(start.year, start.month, 1)
    while current <= end:
        yield current
        current = add_months(current, 1)


def reference_month(logical_date: datetime | date, lag_months: int) -> date:
    """The month a run for `logical_date` should fetch.

    Airflow 3 cron runs have a zero-length data interval, so the month is derived from the logical date: a run on
    2025-07-10 with the Census lag of 2 months fetches 2025-05 (released about 35 days after the month ends).
    """
    return add_months(date(logical_date.year, logical_date.month, 1), -lag_months)
