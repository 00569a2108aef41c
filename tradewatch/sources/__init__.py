"""One module per publisher. Each builds requests, checks answers and parses releases; transports move bytes.

See tradewatch.sources.base for what a publisher module provides.
"""

from __future__ import annotations

import calendar
from datetime import date
from types import ModuleType

from tradewatch.periods import month_range
from tradewatch.sources import bls, census, comtrade, gacc, nbs, usitc
from tradewatch.sources.base import DatasetSpec

#: Every publisher module, by name. A new publisher is added here (and gets a suite in expectations/).
PUBLISHERS: dict[str, ModuleType] = {m.PUBLISHER.name: m for m in (census, bls, nbs, gacc, comtrade, usitc)}


def all_datasets() -> dict[str, DatasetSpec]:
    return {name: ds for module in PUBLISHERS.values() for name, ds in module.DATASETS.items()}


def publisher_of(dataset: str) -> ModuleType:
    for module in PUBLISHERS.values():
        if dataset in module.DATASETS:
            return module
    raise ValueError(f"unknown dataset {dataset!r}; known: {', '.join(all_datasets())}")


def dataset(name: str) -> DatasetSpec:
    return publisher_of(name).DATASETS[name]


def skips_month(publisher: ModuleType, month: date) -> bool:
    """True for a month the publisher never releases on its own (GACC's February comes with January)."""
    hook = getattr(publisher, "skips_month", None)
    return bool(hook and hook(month))


def release_periods(name: str, start: date, end: date) -> list[date]:
    """The months from `start` to `end` (both included) that are a release of dataset `name`: one of its release
    months (December alone for an annual dataset) and not a month its publisher never releases on its own."""
    ds, publisher = dataset(name), publisher_of(name)
    return [m for m in month_range(start, end) if m.month in ds.release_months and not skips_month(publisher, m)]


def release_months_text(ds: DatasetSpec) -> str:
    """'every month', or the months named ('December')."""
    if len(ds.release_months) == 12:
        return "every month"
    return ", ".join(calendar.month_name[m] for m in ds.release_months)
