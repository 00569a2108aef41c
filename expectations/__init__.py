"""Great Expectations suites, as code: one per raw dataset, plus the one runner (`expectations.runner`).

Suites check the release contract (schema, keys, ranges, codes, period, completeness, size against the previous
accepted release). Model invariants belong to dbt tests; neither repeats the other.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # GX takes seconds to import: only the runner imports it, when a validation runs
    import great_expectations as gx


def _modules() -> tuple:
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


def suite_builders() -> dict[str, Callable[[], gx.ExpectationSuite]]:
    """Registry: raw dataset name -> function returning its suite."""
    return {name: partial(module.build_suite, name) for module in _modules() for name in module.DATASET_NAMES}


def suite_parameters(dataset: str, period: str, previous: dict | None) -> dict:
    """Suite parameters for one release of `dataset`, relative to the previous accepted release."""
    for module in _modules():
        if dataset in module.DATASET_NAMES:
            return module.parameters(period, previous)
    raise KeyError(f"no suite for dataset {dataset!r}")
