"""Suites for the monthly Census raw tables (raw.census_imports_hs, raw.census_exports_hs); the annual HS10 table
has its own (expectations.census_hs10_annual).

Row level: keys and values present, one row per key and release, whole non-negative values, DET country codes,
HS codes and levels, and for imports duty within the dutiable value within the consumption value. Release level:
every partner, level and chapter present, the month asked for, and size and total against the previous accepted
release."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import missing, none_missing, row_columns, same_period, size_against_previous
from tradewatch.lineage import RELEASE_ID
from tradewatch.sources import census

if TYPE_CHECKING:
    import great_expectations as gx

DATASET_NAMES = (census.IMPORTS.name, census.EXPORTS.name)
#: Columns no expectation reads (country and commodity names, the quantity's unit): not read for validation.
UNCHECKED = ("cty_name", "commodity_desc", "unit_qy1")

#: Tolerances against the previous accepted release of the same dataset.
ROW_COUNT_RATIO = (0.8, 1.25)
TOTAL_VALUE_RATIO = (0.6, 1.6)
#: Sanity bounds for a first release (nothing to compare with).
FIRST_ROWS = (1, 10_000_000)
FIRST_TOTAL = (1, 10**15)
#: Every HS chapter must be present at HS2 (77 is reserved in the Harmonized System).
HS2_CHAPTERS = [f"{c:02d}" for c in range(1, 98) if c != 77]
CTY_CODE_PATTERN = r"^(?:\d{4}|-)$"  # DET rows only: 4-digit Schedule C codes and the all-countries total
KEYS = ["period", "cty_code", "commodity", "comm_lvl"]


def columns(dataset: str) -> list[str]:
    return row_columns(census.DATASETS[dataset], UNCHECKED)


def row_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    ds = census.DATASETS[dataset]
    expectations = [
        gxe.ExpectTableColumnsToMatchSet(column_set=columns(dataset), exact_match=True),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in [*KEYS, *ds.value_columns, RELEASE_ID]),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=[RELEASE_ID, *KEYS]),
        *(gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in ds.value_columns),
        gxe.ExpectColumnValuesToMatchRegex(column="cty_code", regex=CTY_CODE_PATTERN),
        gxe.ExpectColumnValuesToBeInSet(column="comm_lvl", value_set=["HS2", "HS4", "HS6", "HS10"]),
        gxe.ExpectColumnValuesToMatchRegex(column="commodity", regex=r"^\d{2}(?:\d{2}){0,4}$"),
    ]
    if ds is census.IMPORTS:
        # Calculated duty cannot exceed the dutiable value, which cannot exceed the consumption value.
        expectations += [
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="dut_val_mo", column_B="cal_dut_mo", or_equal=True),
            gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="con_val_mo", column_B="dut_val_mo", or_equal=True),
        ]
    return gx.ExpectationSuite(name=f"{dataset}.rows", expectations=expectations)


def summary(dataset: str) -> dict[str, str]:
    return {"missing_partners": missing("c.cty_code", census.PARTNERS),
            "missing_levels": missing("c.comm_lvl", census.LEVELS),
            "missing_chapters": missing("c.commodity", HS2_CHAPTERS, among="length(c.commodity) = 2")}


def release_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx

    return gx.ExpectationSuite(name=f"{dataset}.release", expectations=[
        *none_missing("missing_partners", "missing_levels", "missing_chapters"),
        same_period(),
        *size_against_previous(ROW_COUNT_RATIO, FIRST_ROWS, TOTAL_VALUE_RATIO, FIRST_TOTAL),
    ])
