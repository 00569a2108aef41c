"""Suite for raw.bls_series: every series, every month from January of the previous year to the release month."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import raw_columns, relative_bounds
from tradewatch.sources import bls

if TYPE_CHECKING:
    import great_expectations as gx

DATASET_NAMES = tuple(bls.DATASETS)

#: The mean index level may move this much against the previous accepted release (suite parameter).
MEAN_VALUE_RATIO = (0.8, 1.25)
MAX_INDEX = 10_000


def build_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    ds = bls.DATASETS[dataset]
    columns = raw_columns(ds)
    return gx.ExpectationSuite(name=dataset, expectations=[
        gxe.ExpectTableColumnsToMatchSet(column_set=columns, exact_match=True),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ("release_id", "period", "series_id", "value")),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["series_id", "period"]),
        gxe.ExpectColumnValuesToBeBetween(column="value", min_value=0, max_value=MAX_INDEX, strict_min=True),
        gxe.ExpectColumnValuesToBeInSet(column="series_id", value_set=list(ds.series)),
        gxe.ExpectColumnDistinctValuesToContainSet(column="series_id", value_set=list(ds.series)),
        gxe.ExpectColumnDistinctValuesToContainSet(column="period", value_set={"$PARAMETER": "periods"}),
        gxe.ExpectTableRowCountToBeBetween(min_value={"$PARAMETER": "min_rows"},
                                           max_value={"$PARAMETER": "max_rows"}),
        gxe.ExpectColumnMeanToBeBetween(column="value", min_value={"$PARAMETER": "min_mean"},
                                        max_value={"$PARAMETER": "max_mean"}),
    ])


def parameters(period: str, previous: dict | None) -> dict:
    """Exactly every series for every month from January of the previous year to `period` (YYYY-MM)."""
    month = int(period[5:7])
    rows = len(bls.SERIES_DATASET.series) * (12 + month)
    params: dict = {"periods": [f"{period}-01"], "min_rows": rows, "max_rows": rows, "min_mean": 0.001,
                    "max_mean": MAX_INDEX}
    if previous and previous["row_count"]:
        mean = previous["headline_total"] / previous["row_count"]
        params["min_mean"], params["max_mean"] = relative_bounds(mean, MEAN_VALUE_RATIO)
    return params
