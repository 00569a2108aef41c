"""What the suites share: the columns a row-level suite reads, the release-level summary's building blocks, and the
expectations every release-level suite writes the same way.

Every dataset has two suites (see expectations/__init__.py): a row-level suite over the rows of a chunk of pending
releases, and a release-level suite over a summary with one row per release. The summary's columns are SQL
aggregates over each release's rows (`summary()` in each suite module) plus the columns the runner adds to every
summary:

- `release_id`, `period` (the month the release was asked for, 'YYYY-MM-01'), `periods` (the distinct periods its
  rows carry), `row_count`, `total` (the sum of the dataset's headline value);
- `previous_release_id`: the previous accepted release (published or released, or passing in the same run);
- `rows_vs_previous`, `total_vs_previous` (per month, so that China's January-February, two months, compares with
  one month), `mean_vs_previous`: against that release; null for a first release.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from tradewatch.lineage import RELEASE_ID
from tradewatch.sources.base import DatasetSpec

if TYPE_CHECKING:
    import great_expectations.expectations as gxe

#: The row condition selecting a first release (no previous accepted release to compare with).
FIRST_RELEASE = "previous_release_id.isnull()"


def row_columns(ds: DatasetSpec, unchecked: Iterable[str] = ()) -> list[str]:
    """The raw columns the row-level suite reads: the release id and every data column but those no expectation
    reads (`unchecked`: names and descriptions are the most expensive to read). The raw table's full layout, lineage
    included (tradewatch.lineage), is checked before anything is loaded, by the loader."""
    skip = set(unchecked)
    return [RELEASE_ID, *(c for c, _ in ds.data_columns if c not in skip)]


def missing(column: str, required: Sequence[str | int], among: str | None = None) -> str:
    """SQL: the `required` values a release's `column` never takes (only its rows `among` looked at), comma-separated;
    null when none is missing."""
    found = f"list(DISTINCT {column})" + (f" FILTER (WHERE {among})" if among else "")
    values = ", ".join(repr(v) for v in required)
    return f"nullif(array_to_string(list_filter([{values}], lambda x: NOT list_contains({found}, x)), ', '), '')"


def rows_in_release_month() -> str:
    """SQL: how many rows carry the release's own month (for releases that also carry earlier months)."""
    return "count(*) FILTER (WHERE c.period = r.period)"


def none_missing(*columns: str) -> list[gxe.ExpectColumnValuesToBeNull]:
    """Each `missing(...)` summary column is null: nothing required is missing."""
    import great_expectations.expectations as gxe

    return [gxe.ExpectColumnValuesToBeNull(column=c) for c in columns]


def same_period() -> gxe.ExpectColumnPairValuesToBeEqual:
    """Every row of the release carries the month it was asked for, and no other."""
    import great_expectations.expectations as gxe

    return gxe.ExpectColumnPairValuesToBeEqual(column_A="periods", column_B="period")


def against_previous(column: str, ratio: tuple[float, float]) -> gxe.ExpectColumnValuesToBeBetween:
    """`column` (a *_vs_previous ratio) within `ratio` of the previous accepted release; a first release has none."""
    import great_expectations.expectations as gxe

    return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=ratio[0], max_value=ratio[1])


def first_release(column: str, low: float | None, high: float | None) -> gxe.ExpectColumnValuesToBeBetween:
    """Sanity bounds on `column` for a release with no previous accepted release to be compared with."""
    import great_expectations.expectations as gxe

    return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high,
                                             row_condition=FIRST_RELEASE, condition_parser="pandas")


def size_against_previous(rows: tuple[float, float], first_rows: tuple[float, float],
                          total: tuple[float, float] | None = None,
                          first_total: tuple[float, float] | None = None) -> list[gxe.ExpectColumnValuesToBeBetween]:
    """Row count (and the headline total, per month) within `rows` (`total`) times the previous accepted release's;
    a first release within the sanity bounds `first_rows` (`first_total`) instead."""
    out = [against_previous("rows_vs_previous", rows), first_release("row_count", *first_rows)]
    if total is not None and first_total is not None:
        out += [against_previous("total_vs_previous", total), first_release("total", *first_total)]
    return out
