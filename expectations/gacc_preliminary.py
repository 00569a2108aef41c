"""Suite for raw.gacc_preliminary: China's flash totals for one period, the USD edition (US$ 100 million)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import raw_columns
from tradewatch.sources import gacc

if TYPE_CHECKING:
    import great_expectations as gx

DATASET_NAMES = (gacc.PRELIMINARY.name,)
ITEMS = ["total", "exports", "imports", "balance"]
#: China's monthly exports in US$ 100 million: outside this range is a unit or parsing error (suite parameter).
EXPORTS_RANGE = (500, 15_000)


def build_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name=dataset, expectations=[
        gxe.ExpectTableColumnsToMatchSet(column_set=raw_columns(gacc.PRELIMINARY), exact_match=True),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ("period", "months_in_period", "item", "value_month",
                                                                "value_ytd", "unit")),
        gxe.ExpectColumnValuesToBeUnique(column="item"),
        gxe.ExpectColumnDistinctValuesToEqualSet(column="item", value_set=ITEMS),
        gxe.ExpectColumnValuesToBeInSet(column="edition", value_set=[gacc.PRELIMINARY.edition]),
        gxe.ExpectColumnValuesToBeInSet(column="value_multiplier", value_set=[1e8]),  # "Unit: USD 100 Million"
        gxe.ExpectColumnValuesToBeInSet(column="months_in_period", value_set=[1, 2]),
        gxe.ExpectColumnValuesToBeInSet(column="period", value_set={"$PARAMETER": "periods"}),
        gxe.ExpectColumnValuesToBeBetween(column="value_month", min_value=0,
                                          row_condition='item != "balance"', condition_parser="pandas"),
        gxe.ExpectColumnMaxToBeBetween(column="value_month", min_value={"$PARAMETER": "min_max"},
                                       max_value={"$PARAMETER": "max_max"}),
        gxe.ExpectTableRowCountToBeBetween(min_value={"$PARAMETER": "min_rows"},
                                           max_value={"$PARAMETER": "max_rows"}),
    ])


def parameters(period: str, previous: dict | None) -> dict:
    months = 2 if period.endswith("-01") else 1  # the January release covers January and February
    return {"periods": [f"{period}-01"], "min_max": EXPORTS_RANGE[0] * months, "max_max": 3 * EXPORTS_RANGE[1],
            "min_rows": len(ITEMS), "max_rows": len(ITEMS)}  # exactly one row per item
