"""Suites for raw.comtrade_cn_monthly: China reporting, followed partners, both flows, one month.

Row level: keys and values present, one row per partner, flow, code and release, China as reporter, known flows
and codes, non-negative values. Release level: both flows and every partner present, the month asked for, and size
and total against the previous accepted release."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import missing, none_missing, row_columns, same_period, size_against_previous
from tradewatch.lineage import RELEASE_ID
from tradewatch.sources import comtrade

if TYPE_CHECKING:
    import great_expectations as gx

DATASET_NAMES = tuple(comtrade.DATASETS)
ROW_COUNT_RATIO = (0.8, 1.25)
TOTAL_VALUE_RATIO = (0.5, 2.0)
FIRST_ROWS = (2 * len(comtrade.PARTNERS), 100_000)
FIRST_TOTAL = (1, 10**16)


def columns(dataset: str) -> list[str]:
    return row_columns(comtrade.DATASETS[dataset])


def row_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name=f"{dataset}.rows", expectations=[
        gxe.ExpectTableColumnsToMatchSet(column_set=columns(dataset), exact_match=True),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in (RELEASE_ID, "period", "partner_code",
                                                                "partner_iso3", "flow_code", "cmd_code",
                                                                "primary_value")),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=[RELEASE_ID, "partner_code", "flow_code", "cmd_code"]),
        gxe.ExpectColumnValuesToBeInSet(column="reporter_code", value_set=[comtrade.CHINA]),
        gxe.ExpectColumnValuesToBeInSet(column="flow_code", value_set=["X", "M"]),
        gxe.ExpectColumnValuesToMatchRegex(column="cmd_code", regex=r"^(?:TOTAL|\d{2}|\d{4}|\d{6})$"),
        gxe.ExpectColumnValuesToBeBetween(column="primary_value", min_value=0),
    ])


def summary(dataset: str) -> dict[str, str]:
    return {"missing_flows": missing("c.flow_code", ["X", "M"]),
            "missing_partners": missing("c.partner_iso3", list(comtrade.PARTNERS.values()))}


def release_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx

    return gx.ExpectationSuite(name=f"{dataset}.release", expectations=[
        *none_missing("missing_flows", "missing_partners"),
        same_period(),
        *size_against_previous(ROW_COUNT_RATIO, FIRST_ROWS, TOTAL_VALUE_RATIO, FIRST_TOTAL),
    ])
