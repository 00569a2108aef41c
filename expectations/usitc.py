"""Suites for raw.usitc_hts_lines: the HTS revision in force for the basket chapters and Chapter 99.

Row level: keys present, one row per line number and release, HTS numbers and Chapter 99 references well formed,
indents in range. Release level: the headings every revision has, the month asked for, and the line count against
the previous accepted release."""

from __future__ import annotations

from typing import TYPE_CHECKING

from expectations.common import missing, none_missing, row_columns, same_period, size_against_previous
from tradewatch.lineage import RELEASE_ID
from tradewatch.sources import usitc

if TYPE_CHECKING:
    import great_expectations as gx

DATASET_NAMES = tuple(usitc.DATASETS)
ROW_COUNT_RATIO = (0.8, 1.25)
FIRST_ROWS = (10, 200_000)
HTSNO = r"^(?:\d{4}(?:\.\d{2}){0,3})?$"
CHAPTER99_REFS = r"^99\d{2}\.\d{2}\.\d{2}(?:,99\d{2}\.\d{2}\.\d{2})*$"
#: Headings every revision has: one per basket chapter, and the Section 301 List 3 heading in Chapter 99.
REQUIRED_LINES = ["1201", "2805", "8418", "8505", "8703", "8802", "8901", "9903.88.03"]


def columns(dataset: str) -> list[str]:
    return row_columns(usitc.DATASETS[dataset])


def row_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx
    import great_expectations.expectations as gxe

    return gx.ExpectationSuite(name=f"{dataset}.rows", expectations=[
        gxe.ExpectTableColumnsToMatchSet(column_set=columns(dataset), exact_match=True),
        *(gxe.ExpectColumnValuesToNotBeNull(column=c) for c in (RELEASE_ID, "period", "hts_revision",
                                                                "line_number", "htsno", "indent")),
        gxe.ExpectCompoundColumnsToBeUnique(column_list=[RELEASE_ID, "line_number"]),
        gxe.ExpectColumnValuesToMatchRegex(column="htsno", regex=HTSNO),
        gxe.ExpectColumnValuesToBeBetween(column="indent", min_value=0, max_value=12),
        gxe.ExpectColumnValuesToMatchRegex(column="chapter99_refs", regex=CHAPTER99_REFS),
    ])


def summary(dataset: str) -> dict[str, str]:
    return {"missing_lines": missing("c.htsno", REQUIRED_LINES)}


def release_suite(dataset: str) -> gx.ExpectationSuite:
    import great_expectations as gx

    return gx.ExpectationSuite(name=f"{dataset}.release", expectations=[
        *none_missing("missing_lines"),
        same_period(),
        *size_against_previous(ROW_COUNT_RATIO, FIRST_ROWS),
    ])
