"""What the suites share: the raw table's full column list and bounds relative to the previous release."""

from __future__ import annotations

from tradewatch.sources.base import DatasetSpec
from tradewatch.warehouse import LINEAGE_COLUMNS


def raw_columns(ds: DatasetSpec) -> list[str]:
    """Every column of the dataset's raw table, in order: release id, data columns, lineage."""
    return ["release_id", *(c for c, _ in ds.data_columns), *(c for c, _ in LINEAGE_COLUMNS)]


def relative_bounds(value: float, ratio: tuple[float, float], *, whole: bool = False) -> tuple[float, float]:
    """(low, high) = value x ratio; rounded outward to whole numbers for counts."""
    low, high = value * ratio[0], value * ratio[1]
    return (int(low), int(high) + 1) if whole else (low, high)
