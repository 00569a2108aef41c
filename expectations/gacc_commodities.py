"""Suites for raw.gacc_major_commodities: China's major exports (table 5) and imports (table 6) by quantity and
value, one period (Jan-Feb together), the USD edition as published (values in US$ million).

Row level: keys present, one row per line and per commodity of each flow within a release, known flows, the edition
and unit, non-negative values, a quantity wherever a unit is stated, the month within the year to date. Release
level: both flows, the period asked for, the largest line in range, and size and value against the previous accepted
release (per month)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import missing, none_missing, row_columns, same_period, size_against_previous
from expectations.gacc import MONTHS_SQL, MULTIPLIERS, ROW_COUNT_RATIO
from tradewatch.lineage import RELEASE_ID
from tradewatch.sources import gacc

if TYPE_CHECKING:
    import great_expectations as gx

DATASET_NAMES = (gacc.COMMODITIES.name,)
#: The largest line (mechanical and electrical products, exports) in US$ million a month: outside this range is a
#: unit or parsing error.
LARGEST_LINE_RANGE = (20_000, 1_000_000)
VALUE_RATIO = (0.5, 2.0)  # the month's total of all lines against the previous accepted release, per month
FIRST_ROWS = (10, 400)
FIRST_TOTAL = (0, 10**12)


def columns(dataset: str) -> list[str]:
    return row_columns(gacc.COMMODITIES)


def row_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    ds = gacc.COMMODITIES
    return gx.ExpectationSuite(name=f"{dataset}.rows", expectations=[
        gxe.ExpectTableColumnsToMatchSet(column_set=columns(dataset), exact_match=True),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in (RELEASE_ID, "period", "months_in_period", "flow",
                                                                "line_number", "commodity", "edition", "unit",
                                                                "value_multiplier", "value_month", "value_ytd")),
        gxe.ExpectColumnValuesToBeInSet(column="flow", value_set=["export", "import"]),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=[RELEASE_ID, "flow", "line_number"]),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=[RELEASE_ID, "flow", "commodity"]),
        gxe.ExpectColumnValuesToBeInSet(column="months_in_period", value_set=[1, 2]),
        gxe.ExpectColumnValuesToBeInSet(column="edition", value_set=[ds.edition]),
        gxe.ExpectColumnValuesToBeInSet(column="value_multiplier", value_set=MULTIPLIERS),
        *(gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0)
          for c in ("quantity_month", "value_month", "quantity_ytd", "value_ytd")),
        # a line that counts in a unit states its quantity; the year to date holds the month
        gxe.ExpectColumnValuesToNotBeNull(column="quantity_month", row_condition="quantity_unit.notnull()",
                                          condition_parser="pandas"),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="value_ytd", column_B="value_month", or_equal=True),
    ])


def summary(dataset: str) -> dict[str, str]:
    return {"missing_flows": missing("c.flow", ["export", "import"]),
            "largest_line_per_month": f"max(c.value_month) / any_value({MONTHS_SQL})"}


def release_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name=f"{dataset}.release", expectations=[
        *none_missing("missing_flows"),
        same_period(),
        gxe.ExpectColumnValuesToBeBetween(column="largest_line_per_month", min_value=LARGEST_LINE_RANGE[0],
                                          max_value=LARGEST_LINE_RANGE[1]),
        *size_against_previous(ROW_COUNT_RATIO, FIRST_ROWS, VALUE_RATIO, FIRST_TOTAL),
    ])
