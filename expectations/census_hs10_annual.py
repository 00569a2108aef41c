"""Suite for raw.census_imports_hs10_annual: US imports from China at HS10, every chapter, for one calendar year
(December's year-to-date values).

Row level: ten-digit codes, one row per line, China only, whole non-negative values, dutiable value within the
consumption value. Release level: a December, at least MIN_CHAPTERS chapters, and its size and consumption total
against the previous accepted year. Duty above the dutiable value is allowed on a few lines: the real 2024 file has
lines whose calculated duty exceeds even their consumption value (over-quota peanuts at 131.8%, compound duties on
cheap apparel), so that check tolerates DUTY_ABOVE_DUTIABLE_SHARE of the lines.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import raw_columns, relative_bounds
from tradewatch.sources import census

if TYPE_CHECKING:
    import great_expectations as gx

DATASET_NAMES = (census.IMPORTS_HS10_ANNUAL.name,)

#: Chapters that must hold lines: the real 2024 release has 98 (all but the reserved 77, with 98 and 99); a year
#: without some minor chapters from China is possible, a release missing a tenth of them is cut short.
MIN_CHAPTERS = 90
#: The share of lines whose calculated duty may exceed their dutiable value (specific and compound duties, tariff-rate
#: quotas); the real 2024 file has 4 lines of 14,422 above even their consumption value.
DUTY_ABOVE_DUTIABLE_SHARE = 0.01
#: Against the previous accepted year (suite parameters, not code): lines come and go with HTS revisions; imports
#: from China moved between -30% (2025) and +16% (2021) a year.
ROW_COUNT_RATIO = (0.8, 1.25)
TOTAL_VALUE_RATIO = (0.5, 1.5)
#: Without a previous year: US consumption imports from China were US$0.30-0.54 trillion a year in 2013-2025; a total
#: outside US$0.1-1 trillion is a unit or parsing error.
FIRST_YEAR_TOTAL = (100_000_000_000, 1_000_000_000_000)


def build_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    from expectations.custom import ExpectColumnValuePrefixesToHaveCountBetween

    ds = census.IMPORTS_HS10_ANNUAL
    keys = ["period", "cty_code", "commodity"]
    return gx.ExpectationSuite(name=dataset, expectations=[
        gxe.ExpectTableColumnsToMatchSet(column_set=raw_columns(ds), exact_match=True),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in [*keys, "comm_lvl", *ds.value_columns, "release_id"]),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=keys),
        gxe.ExpectColumnValuesToBeInSet(column="cty_code", value_set=list(ds.partners)),
        gxe.ExpectColumnValuesToBeInSet(column="comm_lvl", value_set=["HS10"]),
        gxe.ExpectColumnValuesToMatchRegex(column="commodity", regex=r"^\d{10}$"),
        *(gxe.ExpectColumnValuesToBeInTypeList(column=c, type_list=["int64", "Int64"]) for c in ds.value_columns),
        *(gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in ds.value_columns),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="con_val_yr", column_B="dut_val_yr", or_equal=True),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="dut_val_yr", column_B="cal_dut_yr", or_equal=True,
                                                    mostly=1 - DUTY_ABOVE_DUTIABLE_SHARE),
        gxe.ExpectColumnValuesToMatchRegex(column="period", regex=r"^\d{4}-12-01$"),  # December: the whole year
        gxe.ExpectColumnValuesToBeInSet(column="period", value_set={"$PARAMETER": "periods"}),
        ExpectColumnValuePrefixesToHaveCountBetween(column="commodity", prefix_length=2, min_value=MIN_CHAPTERS),
        gxe.ExpectTableRowCountToBeBetween(min_value={"$PARAMETER": "min_rows"},
                                           max_value={"$PARAMETER": "max_rows"}),
        gxe.ExpectColumnSumToBeBetween(column=ds.headline_var, min_value={"$PARAMETER": "min_total"},
                                       max_value={"$PARAMETER": "max_total"}),
    ])


def parameters(period: str, previous: dict | None) -> dict:
    """Suite parameters for the release of `period` (YYYY-12), relative to the previous accepted year."""
    params: dict = {"periods": [f"{period}-01"], "min_rows": MIN_CHAPTERS, "max_rows": 100_000,
                    "min_total": FIRST_YEAR_TOTAL[0], "max_total": FIRST_YEAR_TOTAL[1]}
    if previous:
        params["min_rows"], params["max_rows"] = relative_bounds(previous["row_count"], ROW_COUNT_RATIO, whole=True)
        params["min_total"], params["max_total"] = relative_bounds(previous["headline_total"], TOTAL_VALUE_RATIO,
                                                                   whole=True)
    return params
