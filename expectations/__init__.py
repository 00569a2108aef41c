"""Great Expectations suites, as code: two per raw dataset, plus the one runner (`expectations.runner`).

- The row-level suite (`<dataset>.rows`) checks the rows of a chunk of pending releases at once: columns, values
  present, types, ranges, codes, pair comparisons, and uniqueness of each key within its release (the key includes
  `release_id`). A failing row is traced back to its release by its `release_id`.
- The release-level suite (`<dataset>.release`) checks a summary with one row per release: completeness of partners,
  chapters and series, the period asked for, row count and totals against the previous accepted release.

Suites check the release contract. Model invariants belong to dbt tests; neither repeats the other.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # GX takes seconds to import: only the runner imports it, when a validation runs
    import great_expectations as gx


def _modules() -> tuple[ModuleType, ...]:
    from expectations import (
        bls,
        census,
        census_hs10_annual,
        comtrade,
        gacc,
        gacc_commodities,
        gacc_preliminary,
        nbs,
        usitc,
    )

    return (census, census_hs10_annual, bls, nbs, gacc, gacc_preliminary, gacc_commodities, comtrade, usitc)


@dataclass(frozen=True)
class DatasetSuites:
    """What validates one raw dataset."""

    dataset: str
    columns: list[str]  # the raw columns the row-level suite reads (release_id first)
    summary: dict[str, str]  # release-level summary columns: name -> SQL aggregate over a release's rows `c`
    row_suite: Callable[[], gx.ExpectationSuite]
    release_suite: Callable[[], gx.ExpectationSuite]

    def months_in(self, period: str) -> int:
        """Months a period ('YYYY-MM...') covers: GACC publishes January and February together, as January."""
        from expectations.gacc import months_in
        from tradewatch import sources

        return months_in(period) if sources.dataset(self.dataset).source == "gacc" else 1


def suites_for(dataset: str) -> DatasetSuites:
    for module in _modules():
        if dataset in module.DATASET_NAMES:
            return DatasetSuites(dataset, module.columns(dataset), module.summary(dataset),
                                 lambda m=module: m.row_suite(dataset), lambda m=module: m.release_suite(dataset))
    raise KeyError(f"no suite for dataset {dataset!r}")


def datasets() -> list[str]:
    """Every raw dataset that has its suites."""
    return [name for module in _modules() for name in module.DATASET_NAMES]
