"""One module per publisher. Each builds requests, checks answers and parses releases; transports move bytes.

Each module ends with its `PUBLISHER` (tradewatch.sources.base.Publisher): everything it provides, typed.
"""

from __future__ import annotations

import calendar
from datetime import date

from tradewatch.periods import month_range
from tradewatch.sources import bls, census, comtrade, gacc, nbs, usitc
from tradewatch.sources.base import DatasetSpec, Publisher

#: Every publisher, by name. A new publisher is added here (and gets a suite in expectations/); the settings factory
#: reads each one's defaults (base URL, key variable, pages, calendar) from this registry.
PUBLISHERS: dict[str, Publisher] = {p.name: p for p in (census.PUBLISHER, bls.PUBLISHER, nbs.PUBLISHER,
                                                          gacc.PUBLISHER, comtrade.PUBLISHER, usitc.PUBLISHER)}


def all_datasets() -> dict[str, DatasetSpec]:
    return {name: ds for publisher in PUBLISHERS.values() for name, ds in publisher.datasets.items()}


def publisher_of(dataset: str) -> Publisher:
    for publisher in PUBLISHERS.values():
        if dataset in publisher.datasets:
            return publisher
    raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(all_datasets())}")


def dataset(name: str) -> DatasetSpec:
    return publisher_of(name).datasets[name]


def release_periods(name: str, start: date, end: date) -> list[date]:
    """The months from `start` to `end` (both included) that are a release of dataset `name`: one of its release
    months (December alone for an annual dataset) and not a month its publisher never releases on its own."""
    ds, publisher = dataset(name), publisher_of(name)
    return [m for m in month_range(start, end) if m.month in ds.release_months and not publisher.skips_month(m)]


def release_months_text(ds: DatasetSpec) -> str:
    """'every month', or the months named ('December')."""
    if len(ds.release_months) == 12:
        return "every month"
    return ", ".join(calendar.month_name[m] for m in ds.release_months)
