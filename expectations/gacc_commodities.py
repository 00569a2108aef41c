"""Suite for raw.gacc_major_commodities: China's major exports (table 5) and imports (table 6) by quantity and
value, one period (Jan-Feb together), the USD edition as published (values in US$ million)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import raw_columns
from expectations.gacc import MULTIPLIERS, months_in, previous_bounds
from tradewatch.sources import gacc

if TYPE_CHECKING:
    import great_expectations as gx

DATASET_NAMES = (gacc.COMMODITIES.name,)
#: The largest line (mechanical and electrical products, exports) in US$ million a month: outside this range is a
#: unit or parsing error.
LARGEST_LINE_RANGE = (20_000, 1_000_000)
VALUE_RATIO = (0.5, 2.0)  # the month's total of all lines against the previous accepted release, per month


def build_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    ds = gacc.COMMODITIES
    return gx.ExpectationSuite(name=dataset, expectations=[
        gxe.ExpectTableColumnsToMatchSet(column_set=raw_columns(ds), exact_match=True),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ("release_id", "period", "months_in_period", "flow",
                                                                "line_number", "commodity", "edition", "unit",
                                                                "value_multiplier", "value_month", "value_ytd")),
        gxe.ExpectColumnDistinctValuesToEqualSet(column="flow", value_set=["export", "import"]),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["flow", "line_number"]),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["flow", "commodity"]),
        gxe.ExpectColumnValuesToBeInSet(column="months_in_period", value_set=[1, 2]),
        gxe.ExpectColumnValuesToBeInSet(column="edition", value_set=[ds.edition]),
        gxe.ExpectColumnValuesToBeInSet(column="value_multiplier", value_set=MULTIPLIERS),
        gxe.ExpectColumnValuesToBeInSet(column="period", value_set={"$PARAMETER": "periods"}),
        *(gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0)
          for c in ("quantity_month", "value_month", "quantity_ytd", "value_ytd")),
        # a line that counts in a unit states its quantity; the year to date holds the month
        gxe.ExpectColumnValuesToNotBeNull(column="quantity_month", row_condition="quantity_unit.notnull()",
                                          condition_parser="pandas"),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="value_ytd", column_B="value_month", or_equal=True),
        gxe.ExpectColumnMaxToBeBetween(column="value_month", min_value={"$PARAMETER": "min_largest"},
                                       max_value={"$PARAMETER": "max_largest"}),
        gxe.ExpectTableRowCountToBeBetween(min_value={"$PARAMETER": "min_rows"},
                                           max_value={"$PARAMETER": "max_rows"}),
        gxe.ExpectColumnSumToBeBetween(column="value_month", min_value={"$PARAMETER": "min_sum"},
                                       max_value={"$PARAMETER": "max_sum"}),
    ])


def parameters(period: str, previous: dict | None) -> dict:
    months = months_in(period)
    low, high = LARGEST_LINE_RANGE
    return {"periods": [f"{period}-01"], "min_largest": low * months, "max_largest": high * months,
            "min_rows": 10, "max_rows": 400, "min_sum": 0, "max_sum": 10**12,
            **previous_bounds(period, previous, VALUE_RATIO)}
