"""Suite for raw.gacc_trade_by_country: China-reported trade by country/region, one period (Jan-Feb together),
the USD edition as published (values in the unit of the page, US$ million)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import raw_columns, relative_bounds
from tradewatch.sources import gacc

if TYPE_CHECKING:
    import great_expectations as gx

DATASET_NAMES = (gacc.COUNTRY_TABLE.name,)
#: On every real page (Mexico is not: the January-February 2025 table lists only Brazil under Latin America).
REQUIRED_PARTNERS = ["WLD", "USA", "HKG", "VNM"]
#: The unit the USD edition is published in ("Unit: USD1 Million"). Another unit is parsed correctly, but it is a
#: change of the publisher's contract: the release is quarantined for a person to look at (and release).
MULTIPLIERS = [1e6]
#: China's monthly exports, US$ million: anything outside this is a unit or parsing error (suite parameters).
TOTAL_EXPORTS_RANGE = (50_000, 1_500_000)
EXPORTS_RATIO = (0.5, 2.0)  # against the previous accepted release (a Jan-Feb period is compared per month)
ROW_COUNT_RATIO = (0.8, 1.25)


def build_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    ds = gacc.COUNTRY_TABLE
    return gx.ExpectationSuite(name=dataset, expectations=[
        gxe.ExpectTableColumnsToMatchSet(column_set=raw_columns(ds), exact_match=True),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ("release_id", "period", "months_in_period",
                                                                "line_number", "region", "edition", "unit",
                                                                "value_multiplier")),
        gxe.ExpectColumnValuesToBeUnique(column="line_number"),
        gxe.ExpectColumnValuesToBeUnique(column="partner_iso3"),  # nulls (groups, unknown labels) aside
        gxe.ExpectColumnValuesToBeInSet(column="months_in_period", value_set=[1, 2]),
        gxe.ExpectColumnValuesToBeInSet(column="edition", value_set=[ds.edition]),
        gxe.ExpectColumnValuesToBeInSet(column="value_multiplier", value_set=MULTIPLIERS),
        gxe.ExpectColumnValuesToBeInSet(column="period", value_set={"$PARAMETER": "periods"}),
        gxe.ExpectColumnDistinctValuesToContainSet(column="partner_iso3", value_set=REQUIRED_PARTNERS),
        *(gxe.ExpectColumnValuesToBeBetween(column=c, min_value=0) for c in gacc.COUNTRY_VALUES),
        gxe.ExpectColumnPairValuesAToBeGreaterThanB(column_A="exports_ytd", column_B="exports_month",
                                                    or_equal=True),
        gxe.ExpectColumnValuesToNotBeNull(column="exports_month", row_condition='partner_iso3.notnull()',
                                          condition_parser="pandas"),
        gxe.ExpectColumnMaxToBeBetween(column="exports_month", min_value={"$PARAMETER": "min_total_exports"},
                                       max_value={"$PARAMETER": "max_total_exports"}),
        gxe.ExpectTableRowCountToBeBetween(min_value={"$PARAMETER": "min_rows"},
                                           max_value={"$PARAMETER": "max_rows"}),
        gxe.ExpectColumnSumToBeBetween(column="exports_month", min_value={"$PARAMETER": "min_sum"},
                                       max_value={"$PARAMETER": "max_sum"}),
    ])


def months_in(period: str) -> int:
    return 2 if period.endswith("-01") else 1  # GACC's January release covers January and February


def previous_bounds(period: str, previous: dict | None, ratio: tuple[float, float]) -> dict:
    """Row count and headline sum bounds against the previous accepted release, its sum compared per month (a
    January-February period holds two)."""
    if not previous:
        return {}
    per_month = float(previous["headline_total"]) / months_in(previous["period"].strftime("%Y-%m"))
    rows = relative_bounds(previous["row_count"], ROW_COUNT_RATIO, whole=True)
    total = relative_bounds(per_month * months_in(period), ratio)
    return {"min_rows": rows[0], "max_rows": rows[1], "min_sum": total[0], "max_sum": total[1]}


def parameters(period: str, previous: dict | None) -> dict:
    """Bounds for the release of `period` (YYYY-MM); sums are compared per month with the previous release."""
    months = months_in(period)
    low, high = TOTAL_EXPORTS_RANGE
    return {"periods": [f"{period}-01"], "min_total_exports": low * months, "max_total_exports": high * months,
            "min_rows": len(REQUIRED_PARTNERS), "max_rows": 500, "min_sum": 0, "max_sum": 10**12,
            **previous_bounds(period, previous, EXPORTS_RATIO)}
