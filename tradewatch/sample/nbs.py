"""Synthetic NBS esData answers (SYNTHETIC values in the exact format of the new platform).

China's CPI and PPI as indexes with the same month of the previous year = 100, shaped like the published series
(the 2019-2020 pork-driven CPI peak, the 2021 PPI surge, the 2023-2025 deflation) and pinned to the published
May 2025 figures (CPI 99.9, PPI 96.7). One answer per catalogue segment, as the live platform gives them.
"""

from __future__ import annotations

import json
import math
from datetime import date

from tradewatch.http import ReleaseArchive
from tradewatch.periods import format_month, month_range
from tradewatch.sources import nbs as src

# Annual average of the index (same month last year = 100) and a swing within the year.
LEVELS = {
    "CPI": {2016: 102.0, 2017: 101.6, 2018: 102.1, 2019: 102.9, 2020: 102.5, 2021: 100.9, 2022: 102.0, 2023: 100.2,
            2024: 100.2, 2025: 99.9, 2026: 100.6},
    "PPI": {2016: 98.6, 2017: 106.3, 2018: 103.5, 2019: 99.7, 2020: 98.2, 2021: 108.1, 2022: 104.1, 2023: 97.0,
            2024: 97.8, 2025: 97.2, 2026: 98.6},
}
PINNED = {("CPI", date(2025, 5, 1)): 99.9, ("PPI", date(2025, 5, 1)): 96.7}  # published NBS figures


def value(series: str, month: date) -> float:
    if (series, month) in PINNED:
        return PINNED[(series, month)]
    swing = 0.8 if series == "CPI" else 1.5
    return round(LEVELS[series][month.year] + swing * math.sin((month.month + month.year) / 1.9), 1)


def render(body: dict, release: date) -> bytes:
    start, end = body["dts"][0].split("-")
    first = date(int(start[:4]), int(start[4:6]), 1)
    last = date(int(end[:4]), int(end[4:6]), 1)
    segment = next(s for s in src.SEGMENTS if s.indicator_id == body["indicatorIds"][0])
    rows = [{"code": f"{m.year:04d}{m.month:02d}MM",
             "values": [{"_id": segment.indicator_id, "value": f"{value(segment.series_code, m):.1f}",
                         "i_showname": f"{segment.series_code} (SYNTHETIC)"}]}
            for m in month_range(first, last)]
    return json.dumps({"data": rows, "success": True}, ensure_ascii=False, separators=(",", ":")).encode()


def write(archive: ReleaseArchive, start: date, end: date, *, base_url: str | None = None) -> int:
    base = (base_url or src.BASE_URL).rstrip("/")
    written = 0
    for month in month_range(start, end):
        for part, request in src.release_requests(base, src.PRICE_INDEXES, month):
            path = f"nbs/price_indexes/{format_month(month)}_{part.replace(':', '_')}.json"
            archive.put(request, path, render(json.loads(request.body), month), synthetic=True)
            written += 1
    return written
