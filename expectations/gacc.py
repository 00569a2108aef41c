"""Suites for raw.gacc_trade_by_country: China-reported trade by country/region, one period (Jan-Feb together),
the USD edition as published (values in the unit of the page, US$ million).

Row level: keys present, one row per line and per partner within a release, the edition and unit, non-negative
values, the month within the year to date, exports stated for every mapped partner. Release level: the partners
on every real page, the period asked for, China's total exports in range, and size and exports against the previous
accepted release (per month: a January-February period holds two)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import missing, none_missing, row_columns, same_period, size_against_previous
from tradewatch.lineage import RELEASE_ID
from tradewatch.sources import gacc

if TYPE_CHECKING:
    import great_expectations as gx

DATASET_NAMES = (gacc.COUNTRY_TABLE.name,)
#: On every real page (Mexico is not: the January-February 2025 table lists only Brazil under Latin America).
REQUIRED_PARTNERS = ["WLD", "USA", "HKG", "VNM"]
#: The unit the USD edition is published in ("Unit: USD1 Million"). Another unit is parsed correctly, but it is a
#: change of the publisher's contract: the release is quarantined for a person to look at (and release).
MULTIPLIERS = [1e6]
#: China's monthly exports, US$ million: anything outside this is a unit or parsing error.
TOTAL_EXPORTS_RANGE = (50_000, 1_500_000)
EXPORTS_RATIO = (0.5, 2.0)  # against the previous accepted release, per month
ROW_COUNT_RATIO = (0.8, 1.25)
FIRST_ROWS = (len(REQUIRED_PARTNERS), 500)
FIRST_TOTAL = (0, 10**12)


def months_in(period: str) -> int:
    return 2 if period[5:7] == "01" else 1  # GACC's January release covers January and February


def columns(dataset: str) -> list[str]:
    return row_columns(gacc.COUNTRY_TABLE)


def row_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    ds = gacc.COUNTRY_TABLE
    return gx.ExpectationSuite(name=f"{dataset}.rows", expectations=[
        gxe.ExpectTableColumnsToMatchSet(column_set=columns(dataset), exact_match=True),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in (RELEASE_ID, "period", "months_in_period",
                                                                "line_number", "region", "edition", "unit",
                                                                "value_multiplier")),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=[RELEASE_ID, "line_number"]),
        # nulls (groups, unknown labels) aside
        gxe.ExpectCompoundColumnsToBeUnique(column_list=[RELEASE_ID, "partner_iso3"],
                                            ignore_row_if="any_value_is_missing"),
        gxe.ExpectColumnValuesToBeInSet(column="months_in_period", value_set=[1, 2]),
        gxe.ExpectColumnValuesToBeInSet(column="edition", value_set=[ds.edition]),
        gxe.ExpectColumnValuesToBeInSet(column="value_multiplier", value_set=MULTIPLIERS),
        *(gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in gacc.COUNTRY_VALUES),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="exports_ytd", column_B="exports_month",
                                                    or_equal=True),
        gxe.ExpectColumnValuesToNotBeNull(column="exports_month", row_condition='partner_iso3.notnull()',
                                          condition_parser="pandas"),
    ])


def summary(dataset: str) -> dict[str, str]:
    return {"missing_partners": missing("c.partner_iso3", REQUIRED_PARTNERS),
            "largest_exports_per_month": f"max(c.exports_month) / any_value({MONTHS_SQL})"}


#: SQL: the months the release's period covers (the summary joins each release as `r`).
MONTHS_SQL = "CASE WHEN month(CAST(r.period AS DATE)) = 1 THEN 2 ELSE 1 END"


def release_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name=f"{dataset}.release", expectations=[
        *none_missing("missing_partners"),
        same_period(),
        gxe.ExpectColumnValuesToBeBetween(column="largest_exports_per_month", min_value=TOTAL_EXPORTS_RANGE[0],
                                          max_value=TOTAL_EXPORTS_RANGE[1]),
        *size_against_previous(ROW_COUNT_RATIO, FIRST_ROWS, EXPORTS_RATIO, FIRST_TOTAL),
    ])
