"""Great Expectations suites, as code: one per raw dataset, plus the one runner (`expectations.runner`).

Suites check the release contract (schema, keys, ranges, codes, period, completeness, size against the previous
accepted release). Model invariants belong to dbt tests; neither repeats the other.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # GX takes seconds to import: only the runner imports it, when a validation runs
    import great_expectations as gx


def suite_builders() -> dict[str, Callable[[], gx.ExpectationSuite]]:
    """Registry: raw dataset name -> function returning its suite."""
    from expectations import census

    return {name: (lambda n=name: census.build_suite(n)) for name in census.DATASET_NAMES}


def suite_parameters(dataset: str, period: str, previous: dict | None) -> dict:
    from expectations import census

    if dataset in census.DATASET_NAMES:
        return census.parameters(period, previous)
    raise KeyError(f"no suite for dataset {dataset!r}")
