"""Cutting a list into consecutive batches of bounded size (bytes of landed files, rows of candidate releases)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def consecutive_batches(items: Sequence[T], size: Callable[[T], int], limit: int) -> list[list[T]]:
    """Consecutive runs of `items` whose sizes add up to at most `limit`; an item larger than `limit` is a batch of
    its own. Order is kept."""
    batches: list[list[T]] = []
    total = 0
    for item in items:
        weight = size(item)
        if not batches or total + weight > limit:
            batches.append([])
            total = 0
        batches[-1].append(item)
        total += weight
    return batches
