"""Suites for raw.bls_series: every series, every month from January of the previous year to the release month.

Row level: keys and values present, one row per series, month and release, index levels in range, known series.
Release level: every series present, the release month present, exactly the rows the window holds, and the mean
level against the previous accepted release."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import (
    against_previous,
    first_release,
    missing,
    none_missing,
    row_columns,
    rows_in_release_month,
)
from tradewatch.lineage import RELEASE_ID
from tradewatch.sources import bls

if TYPE_CHECKING:
    import great_expectations as gx

DATASET_NAMES = tuple(bls.DATASETS)

#: The mean index level may move this much against the previous accepted release.
MEAN_VALUE_RATIO = (0.8, 1.25)
MAX_INDEX = 10_000


def columns(dataset: str) -> list[str]:
    return row_columns(bls.DATASETS[dataset])


def row_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    ds = bls.DATASETS[dataset]
    return gx.ExpectationSuite(name=f"{dataset}.rows", expectations=[
        gxe.ExpectTableColumnsToMatchSet(column_set=columns(dataset), exact_match=True),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in (RELEASE_ID, "period", "series_id", "value")),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=[RELEASE_ID, "series_id", "period"]),
        gxe.ExpectColumnValuesToBeBetween(column="value", min_value=0, max_value=MAX_INDEX, strict_min=True),
        gxe.ExpectColumnValuesToBeInSet(column="series_id", value_set=list(ds.series)),
    ])


def summary(dataset: str) -> dict[str, str]:
    series = bls.DATASETS[dataset].series
    # every series for every month from January of the previous year to the release month
    return {"missing_series": missing("c.series_id", series),
            "release_month_rows": rows_in_release_month(),
            "expected_rows": f"any_value({len(series)} * (12 + month(CAST(r.period AS DATE))))",
            "mean": "avg(c.value)"}


def release_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name=f"{dataset}.release", expectations=[
        *none_missing("missing_series"),
        gxe.ExpectColumnValuesToBeBetween(column="release_month_rows", min_value=1),
        gxe.ExpectColumnPairValuesToBeEqual(column_A="row_count", column_B="expected_rows"),
        against_previous("mean_vs_previous", MEAN_VALUE_RATIO),
        first_release("mean", 0.001, MAX_INDEX),
    ])
