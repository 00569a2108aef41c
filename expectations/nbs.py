"""Suites for raw.nbs_price_indexes: China's CPI and PPI, twelve months ending with the release month.

Row level: keys and values present, one row per series, month and release, index levels in range, known series
and indicators. Release level: both series and the release month present, and exactly twelve months of each."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import missing, none_missing, row_columns, rows_in_release_month
from tradewatch.lineage import RELEASE_ID
from tradewatch.sources import nbs

if TYPE_CHECKING:
    import great_expectations as gx

DATASET_NAMES = tuple(nbs.DATASETS)
#: A same-month-last-year = 100 index outside this range is a parsing error, not deflation.
INDEX_RANGE = (70, 140)
ROWS = len(nbs.SERIES_CODES) * nbs.WINDOW_MONTHS


def columns(dataset: str) -> list[str]:
    return row_columns(nbs.DATASETS[dataset])


def row_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name=f"{dataset}.rows", expectations=[
        gxe.ExpectTableColumnsToMatchSet(column_set=columns(dataset), exact_match=True),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in (RELEASE_ID, "period", "series_code",
                                                                "indicator_id", "value")),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=[RELEASE_ID, "series_code", "period"]),
        gxe.ExpectColumnValuesToBeBetween(column="value", min_value=INDEX_RANGE[0], max_value=INDEX_RANGE[1]),
        gxe.ExpectColumnValuesToBeInSet(column="series_code", value_set=list(nbs.SERIES_CODES)),
        gxe.ExpectColumnValuesToBeInSet(column="indicator_id", value_set=[s.indicator_id for s in nbs.SEGMENTS]),
    ])


def summary(dataset: str) -> dict[str, str]:
    return {"missing_series": missing("c.series_code", nbs.SERIES_CODES),
            "release_month_rows": rows_in_release_month()}


def release_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name=f"{dataset}.release", expectations=[
        *none_missing("missing_series"),
        gxe.ExpectColumnValuesToBeBetween(column="release_month_rows", min_value=1),
        # every series, twelve months each
        gxe.ExpectColumnValuesToBeBetween(column="row_count", min_value=ROWS, max_value=ROWS),
    ])
