"""Suites for raw.gacc_preliminary: China's flash totals for one period, the USD edition (US$ 100 million).

Row level: keys present, one row per item and release, known items, the edition and unit, non-negative values but
the balance. Release level: every item, the period asked for, exactly one row per item, exports in range."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import missing, none_missing, row_columns, same_period
from expectations.gacc import MONTHS_SQL
from tradewatch.lineage import RELEASE_ID
from tradewatch.sources import gacc

if TYPE_CHECKING:
    import great_expectations as gx

DATASET_NAMES = (gacc.PRELIMINARY.name,)
ITEMS = ["total", "exports", "imports", "balance"]
#: China's monthly exports in US$ 100 million: outside this range is a unit or parsing error.
EXPORTS_RANGE = (500, 15_000)


def columns(dataset: str) -> list[str]:
    return row_columns(gacc.PRELIMINARY)


def row_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name=f"{dataset}.rows", expectations=[
        gxe.ExpectTableColumnsToMatchSet(column_set=columns(dataset), exact_match=True),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ("period", "months_in_period", "item", "value_month",
                                                                "value_ytd", "unit")),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=[RELEASE_ID, "item"]),
        gxe.ExpectColumnValuesToBeInSet(column="item", value_set=ITEMS),
        gxe.ExpectColumnValuesToBeInSet(column="edition", value_set=[gacc.PRELIMINARY.edition]),
        gxe.ExpectColumnValuesToBeInSet(column="value_multiplier", value_set=[1e8]),  # "Unit: USD 100 Million"
        gxe.ExpectColumnValuesToBeInSet(column="months_in_period", value_set=[1, 2]),
        gxe.ExpectColumnValuesToBeBetween(column="value_month", min_value=0,
                                          row_condition='item != "balance"', condition_parser="pandas"),
    ])


def summary(dataset: str) -> dict[str, str]:
    return {"missing_items": missing("c.item", ITEMS),
            "largest_per_month": f"max(c.value_month) / any_value({MONTHS_SQL})",
            "largest": "max(c.value_month)"}


def release_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name=f"{dataset}.release", expectations=[
        *none_missing("missing_items"),
        same_period(),
        gxe.ExpectColumnValuesToBeBetween(column="row_count", min_value=len(ITEMS), max_value=len(ITEMS)),
        gxe.ExpectColumnValuesToBeBetween(column="largest_per_month", min_value=EXPORTS_RANGE[0]),
        gxe.ExpectColumnValuesToBeBetween(column="largest", max_value=3 * EXPORTS_RANGE[1]),
    ])
