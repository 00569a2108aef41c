"""Suites for the monthly Census raw tables (raw.census_imports_hs, raw.census_exports_hs); the annual HS10 table
has its own (expectations.census_hs10_annual)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import raw_columns, relative_bounds
from tradewatch.sources import census

if TYPE_CHECKING:
    import great_expectations as gx

DATASET_NAMES = (census.IMPORTS.name, census.EXPORTS.name)

#: Tolerances against the previous accepted release of the same dataset (suite parameters, not code).
ROW_COUNT_RATIO = (0.8, 1.25)
TOTAL_VALUE_RATIO = (0.6, 1.6)
#: Every HS chapter must be present at HS2 (77 is reserved in the Harmonized System).
HS2_CHAPTERS = [f"{c:02d}" for c in range(1, 98) if c != 77]
CTY_CODE_PATTERN = r"^(?:\d{4}|-)$"  # DET rows only: 4-digit Schedule C codes and the all-countries total


def build_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    ds = census.DATASETS[dataset]
    columns = raw_columns(ds)
    keys = ["period", "cty_code", "commodity", "comm_lvl"]
    expectations = [
        gxe.ExpectTableColumnsToMatchSet(column_set=columns, exact_match=True),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in [*keys, *ds.value_columns, "release_id"]),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=keys),
        *(gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in ds.value_columns),
        gxe.ExpectColumnValuesToMatchRegex(column="cty_code", regex=CTY_CODE_PATTERN),
        gxe.ExpectColumnValuesToBeInSet(column="comm_lvl", value_set=["HS2", "HS4", "HS6", "HS10"]),
        gxe.ExpectColumnValuesToMatchRegex(column="commodity", regex=r"^\d{2}(?:\d{2}){0,4}$"),
        gxe.ExpectColumnValuesToBeInSet(column="period", value_set={"$PARAMETER": "periods"}),
        gxe.ExpectColumnDistinctValuesToContainSet(column="cty_code", value_set=list(census.PARTNERS)),
        gxe.ExpectColumnDistinctValuesToContainSet(column="comm_lvl", value_set=list(census.LEVELS)),
        gxe.ExpectColumnDistinctValuesToContainSet(column="commodity", value_set=HS2_CHAPTERS),
        gxe.ExpectTableRowCountToBeBetween(min_value={"$PARAMETER": "min_rows"},
                                           max_value={"$PARAMETER": "max_rows"}),
        gxe.ExpectColumnSumToBeBetween(column=ds.headline_var, min_value={"$PARAMETER": "min_total"},
                                       max_value={"$PARAMETER": "max_total"}),
    ]
    if ds is census.IMPORTS:
        # Calculated duty cannot exceed the dutiable value, which cannot exceed the consumption value.
        expectations += [
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="dut_val_mo", column_B="cal_dut_mo", or_equal=True),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="con_val_mo", column_B="dut_val_mo", or_equal=True),
        ]
    return gx.ExpectationSuite(name=dataset, expectations=expectations)


def parameters(period: str, previous: dict | None) -> dict:
    """Suite parameters for the release of `period` (YYYY-MM), relative to the previous accepted release."""
    params: dict = {"periods": [f"{period}-01"], "min_rows": 1, "max_rows": 10_000_000,
                    "min_total": 1, "max_total": 10**15}
    if previous:
        params["min_rows"], params["max_rows"] = relative_bounds(previous["row_count"], ROW_COUNT_RATIO, whole=True)
        params["min_total"], params["max_total"] = relative_bounds(previous["headline_total"], TOTAL_VALUE_RATIO,
                                                                   whole=True)
    return params
