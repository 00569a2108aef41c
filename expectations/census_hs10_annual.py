"""Suites for raw.census_imports_hs10_annual: US imports from China at HS10, every chapter, for one calendar year
(December's year-to-date values).

Row level: ten-digit codes, one row per line, China only, whole non-negative values, dutiable value within the
consumption value, a December. Release level: the year asked for, at least MIN_CHAPTERS chapters, and its size and
consumption total against the previous accepted year. Duty above the dutiable value is allowed on a few lines of a
year: the real 2024 file has lines whose calculated duty exceeds even their consumption value (over-quota peanuts at
131.8%, compound duties on cheap apparel), so the share of such lines is a release-level check, at most
DUTY_ABOVE_DUTIABLE_SHARE of each year's lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import row_columns, same_period, size_against_previous
from tradewatch.lineage import RELEASE_ID
from tradewatch.sources import census

if TYPE_CHECKING:
    import great_expectations as gx

DATASET_NAMES = (census.IMPORTS_HS10_ANNUAL.name,)
UNCHECKED = ("cty_name", "commodity_desc", "unit_qy1")

#: Chapters that must hold lines: the real 2024 release has 98 (all but the reserved 77, with 98 and 99); a year
#: without some minor chapters from China is possible, a release missing a tenth of them is cut short.
MIN_CHAPTERS = 90
#: The share of lines whose calculated duty may exceed their dutiable value (specific and compound duties, tariff-rate
#: quotas); the real 2024 file has 4 lines of 14,422 above even their consumption value.
DUTY_ABOVE_DUTIABLE_SHARE = 0.01
#: Against the previous accepted year: lines come and go with HTS revisions; imports from China moved between -30%
#: (2025) and +16% (2021) a year.
ROW_COUNT_RATIO = (0.8, 1.25)
TOTAL_VALUE_RATIO = (0.5, 1.5)
#: Without a previous year: at least MIN_CHAPTERS lines, and US consumption imports from China were US$0.30-0.54
#: trillion a year in 2013-2025; a total outside US$0.1-1 trillion is a unit or parsing error.
FIRST_YEAR_ROWS = (MIN_CHAPTERS, 100_000)
FIRST_YEAR_TOTAL = (100_000_000_000, 1_000_000_000_000)


def columns(dataset: str) -> list[str]:
    return row_columns(census.IMPORTS_HS10_ANNUAL, UNCHECKED)


def row_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    ds = census.IMPORTS_HS10_ANNUAL
    keys = ["period", "cty_code", "commodity"]
    return gx.ExpectationSuite(name=f"{dataset}.rows", expectations=[
        gxe.ExpectTableColumnsToMatchSet(column_set=columns(dataset), exact_match=True),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in [*keys, "comm_lvl", *ds.value_columns, RELEASE_ID]),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=[RELEASE_ID, *keys]),
        gxe.ExpectColumnValuesToBeInSet(column="cty_code", value_set=list(ds.partners)),
        gxe.ExpectColumnValuesToBeInSet(column="comm_lvl", value_set=["HS10"]),
        gxe.ExpectColumnValuesToMatchRegex(column="commodity", regex=r"^\d{10}$"),
        *(gxe.ExpectColumnValuesToBeInTypeList(column=c, type_list=["int64", "Int64"]) for c in ds.value_columns),
        *(gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in ds.value_columns),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="con_val_yr", column_B="dut_val_yr", or_equal=True),
        gxe.ExpectColumnValuesToMatchRegex(column="period", regex=r"^\d{4}-12-01$"),  # December: the whole year
    ])


def summary(dataset: str) -> dict[str, str]:
    return {"chapters": "count(DISTINCT left(c.commodity, 2))",
            "duty_above_dutiable_share": "avg(CASE WHEN c.cal_dut_yr > c.dut_val_yr THEN 1.0 ELSE 0.0 END)"}


def release_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name=f"{dataset}.release", expectations=[
        same_period(),
        gxe.ExpectColumnValuesToBeBetween(column="chapters", min_value=MIN_CHAPTERS),
        gxe.ExpectColumnValuesToBeBetween(column="duty_above_dutiable_share", min_value=0,
                                          max_value=DUTY_ABOVE_DUTIABLE_SHARE),
        *size_against_previous(ROW_COUNT_RATIO, FIRST_YEAR_ROWS, TOTAL_VALUE_RATIO, FIRST_YEAR_TOTAL),
    ])
