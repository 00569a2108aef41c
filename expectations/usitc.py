"""Suite for raw.usitc_hts_lines: the HTS revision in force for the basket chapters and Chapter 99."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import raw_columns, relative_bounds
from tradewatch.sources import usitc

if TYPE_CHECKING:
    import great_expectations as gx

DATASET_NAMES = tuple(usitc.DATASETS)
ROW_COUNT_RATIO = (0.8, 1.25)
HTSNO = r"^(?:\d{4}(?:\.\d{2}){0,3})?$"
CHAPTER99_REFS = r"^99\d{2}\.\d{2}\.\d{2}(?:,99\d{2}\.\d{2}\.\d{2})*$"


def build_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    ds = usitc.DATASETS[dataset]
    columns = raw_columns(ds)
    return gx.ExpectationSuite(name=dataset, expectations=[
        gxe.ExpectTableColumnsToMatchSet(column_set=columns, exact_match=True),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in ("release_id", "period", "hts_revision",
                                                                "line_number", "htsno", "indent")),
        gxe.ExpectColumnValuesToBeUnique(column="line_number"),
        gxe.ExpectColumnValuesToMatchRegex(column="htsno", regex=HTSNO),
        gxe.ExpectColumnValuesToBeBetween(column="indent", min_value=0, max_value=12),
        gxe.ExpectColumnValuesToMatchRegex(column="chapter99_refs", regex=CHAPTER99_REFS),
        gxe.ExpectColumnDistinctValuesToContainSet(column="htsno", value_set={"$PARAMETER": "required_lines"}),
        gxe.ExpectColumnValuesToBeInSet(column="period", value_set={"$PARAMETER": "periods"}),
        gxe.ExpectTableRowCountToBeBetween(min_value={"$PARAMETER": "min_rows"},
                                           max_value={"$PARAMETER": "max_rows"}),
    ])


def parameters(period: str, previous: dict | None) -> dict:
    # Headings every revision has: one per basket chapter, and the Section 301 List 3 heading in Chapter 99.
    params: dict = {"periods": [f"{period}-01"], "min_rows": 10, "max_rows": 200_000,
                    "required_lines": ["1201", "2805", "8418", "8505", "8703", "8802", "8901", "9903.88.03"]}
    if previous:
        params["min_rows"], params["max_rows"] = relative_bounds(previous["row_count"], ROW_COUNT_RATIO, whole=True)
    return params
