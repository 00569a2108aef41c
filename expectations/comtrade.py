"""Suite for raw.comtrade_cn_monthly: China reporting, followed partners, both flows, one month."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import raw_columns, relative_bounds
from tradewatch.sources import comtrade

if TYPE_CHECKING:
    import great_expectations as gx

DATASET_NAMES = tuple(comtrade.DATASETS)
ROW_COUNT_RATIO = (0.8, 1.25)
TOTAL_VALUE_RATIO = (0.5, 2.0)


def build_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    ds = comtrade.DATASETS[dataset]
    columns = raw_columns(ds)
    return gx.ExpectationSuite(name=dataset, expectations=[
        gxe.ExpectTableColumnsToMatchSet(column_set=columns, exact_match=True),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ("release_id", "period", "partner_code",
                                                                "partner_iso3", "flow_code", "cmd_code",
                                                                "primary_value")),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=["partner_code", "flow_code", "cmd_code"]),
        gxe.ExpectColumnValuesToBeInSet(column="reporter_code", value_set=[comtrade.CHINA]),
        gxe.ExpectColumnValuesToBeInSet(column="flow_code", value_set=["X", "M"]),
        gxe.ExpectColumnDistinctValuesToContainSet(column="flow_code", value_set=["X", "M"]),
        gxe.ExpectColumnDistinctValuesToContainSet(column="partner_iso3", value_set=list(comtrade.PARTNERS.values())),
        gxe.ExpectColumnValuesToMatchRegex(column="cmd_code", regex=r"^(?:TOTAL|\d{2}|\d{4}|\d{6})$"),
        gxe.ExpectColumnValuesToBeBetween(column="primary_value", min_value=0),
        gxe.ExpectColumnValuesToBeInSet(column="period", value_set={"$PARAMETER": "periods"}),
        gxe.ExpectTableRowCountToBeBetween(min_value={"$PARAMETER": "min_rows"},
                                           max_value={"$PARAMETER": "max_rows"}),
        gxe.ExpectColumnSumToBeBetween(column="primary_value", min_value={"$PARAMETER": "min_total"},
                                       max_value={"$PARAMETER": "max_total"}),
    ])


def parameters(period: str, previous: dict | None) -> dict:
    params: dict = {"periods": [f"{period}-01"], "min_rows": 2 * len(comtrade.PARTNERS), "max_rows": 100_000,
                    "min_total": 1, "max_total": 10**16}
    if previous:
        params["min_rows"], params["max_rows"] = relative_bounds(previous["row_count"], ROW_COUNT_RATIO, whole=True)
        params["min_total"], params["max_total"] = relative_bounds(previous["headline_total"], TOTAL_VALUE_RATIO)
    return params
