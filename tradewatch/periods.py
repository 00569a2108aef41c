"""Months: the `Month` value type, parsing, formatting and the reference month of a scheduled run.

A month is a `Month` everywhere inside the package: a `datetime.date` on the first day of the month (so it is stored
as DATE by DuckDB, compares and hashes like that date, and works wherever a date does), made only by `Month(year,
month)`, `Month.of(...)` or the functions here. Its text form is `YYYY-MM` (`month.text`, `format_month`), used only
at the edges: Airflow's XCom, the landing zone's JSON manifests, the command line and what is printed.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import date, datetime

_MONTH_RE = re.compile(r"^(\d{4})-(\d{2})$")


class Month(date):
    """A calendar month: the date of its first day. Arithmetic that lands on another day gives a plain date."""

    __slots__ = ()

    def __new__(cls, year: int, month: int, day: int = 1) -> Month:
        if day != 1:  # e.g. month + timedelta(days=9): a day, not a month
            return date(year, month, day)  # type: ignore[return-value]
        return super().__new__(cls, year, month, 1)

    def __reduce__(self) -> tuple:
        return (Month, (self.year, self.month))

    @classmethod
    def of(cls, value: str | date) -> Month:
        """The month of a date, or of its text 'YYYY-MM'."""
        if isinstance(value, Month):
            return value
        if isinstance(value, date):
            return cls(value.year, value.month)
        return parse_month(value)

    @property
    def text(self) -> str:
        """'YYYY-MM'."""
        return format_month(self)


def parse_month(text: str) -> Month:
    """'2025-05' -> Month(2025, 5). Rejects anything else with a clear message."""
    match = _MONTH_RE.match(text.strip()) if isinstance(text, str) else None
    if not match or not 1 <= int(match.group(2)) <= 12:
        raise ValueError(f"period {text!r} is not a month in the form YYYY-MM (for example 2025-05)")
    return Month(int(match.group(1)), int(match.group(2)))


def format_month(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def add_months(month: date, n: int) -> Month:
    index = month.year * 12 + month.month - 1 + n
    return Month(index // 12, index % 12 + 1)


def month_range(start: date, end: date) -> Iterator[Month]:
    """Every month from start to end, both included."""
    current = Month(start.year, start.month)
    while current <= end:
        yield current
        current = add_months(current, 1)


def reference_month(logical_date: datetime | date, lag_months: int) -> Month:
    """The month a run for `logical_date` should fetch.

    Airflow 3 cron runs have a zero-length data interval, so the month is derived from the logical date: a run on
    2025-07-10 with the Census lag of 2 months fetches 2025-05 (released about 35 days after the month ends).
    """
    return add_months(Month(logical_date.year, logical_date.month), -lag_months)
