"""Suite for raw.nbs_price_indexes: China's CPI and PPI, twelve months ending with the release month."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import raw_columns
from tradewatch.sources import nbs

if TYPE_CHECKING:
    import great_expectations as gx

DATASET_NAMES = tuple(nbs.DATASETS)
#: A same-month-last-year = 100 index outside this range is a parsing error, not deflation (suite parameter).
INDEX_RANGE = (70, 140)


def build_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    ds = nbs.DATASETS[dataset]
    columns = raw_columns(ds)
    return gx.ExpectationSuite(name=dataset, expectations=[
        gxe.ExpectTableColumnsToMatchSet(column_set=columns, exact_match=True),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ("release_id", "period", "series_code",
                                                                "indicator_id", "value")),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["series_code", "period"]),
        gxe.ExpectColumnValuesToBeBetween(column="value", min_value={"$PARAMETER": "min_index"},
                                          max_value={"$PARAMETER": "max_index"}),
        gxe.ExpectColumnValuesToBeInSet(column="series_code", value_set=list(nbs.SERIES_CODES)),
        gxe.ExpectColumnValuesToBeInSet(column="indicator_id", value_set=[s.indicator_id for s in nbs.SEGMENTS]),
        gxe.ExpectColumnDistinctValuesToContainSet(column="series_code", value_set=list(nbs.SERIES_CODES)),
        gxe.ExpectColumnDistinctValuesToContainSet(column="period", value_set={"$PARAMETER": "periods"}),
        gxe.ExpectTableRowCountToBeBetween(min_value={"$PARAMETER": "min_rows"},
                                           max_value={"$PARAMETER": "max_rows"}),
    ])


def parameters(period: str, previous: dict | None) -> dict:
    """Every series for each of the twelve months ending with `period` (YYYY-MM)."""
    rows = len(nbs.SERIES_CODES) * nbs.WINDOW_MONTHS
    return {"periods": [f"{period}-01"], "min_rows": rows, "max_rows": rows, "min_index": INDEX_RANGE[0],
            "max_index": INDEX_RANGE[1]}
