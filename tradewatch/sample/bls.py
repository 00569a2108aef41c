"""Synthetic BLS v2 answers (SYNTHETIC values in the exact API format), one per reference month.

Each answer holds every series from January of the previous year to the reference month, newest first. The last
months of PPI and import prices carry footnote P (preliminary) and differ slightly from the value later releases
give them, so revisions show up across vintages as they do at BLS.
"""

from __future__ import annotations

import json
import random
from datetime import date

from tradewatch.http import ReleaseArchive
from tradewatch.periods import format_month, month_range
from tradewatch.sources import bls as src

MONTH_NAMES = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
               "November", "December"]

# (value in January 2017, annual % change by year); shaped like the published series, values synthetic.
PATHS: dict[str, tuple[float, dict[int, float]]] = {
    "CUUR0000SA0": (242.8, {2017: 2.1, 2018: 1.9, 2019: 2.3, 2020: 1.4, 2021: 7.0, 2022: 6.5, 2023: 3.4, 2024: 2.9,
                            2025: 2.7, 2026: 2.8}),
    "WPUFD4": (113.6, {2017: 2.6, 2018: 2.6, 2019: 1.1, 2020: 0.8, 2021: 9.7, 2022: 6.4, 2023: 1.0, 2024: 3.3,
                       2025: 2.6, 2026: 2.4}),
    "EIUCOCHNTOT": (98.9, {2017: 0.2, 2018: 0.1, 2019: -1.5, 2020: 0.2, 2021: 3.1, 2022: 1.5, 2023: -3.0,
                           2024: -0.7, 2025: -1.4, 2026: -0.6}),
    "EIUIR": (124.3, {2017: 3.0, 2018: 3.5, 2019: -0.5, 2020: -1.4, 2021: 10.0, 2022: 3.5, 2023: -1.3, 2024: 0.8,
                      2025: 0.5, 2026: 0.4}),
}
DECIMALS = {"CUUR0000SA0": 3, "WPUFD4": 3, "EIUCOCHNTOT": 1, "EIUIR": 1}
PRELIMINARY_MONTHS = {"WPUFD4": 4, "EIUCOCHNTOT": 3, "EIUIR": 3}  # CPI NSA is never revised


def final_value(series: str, month: date) -> float:
    start, growth = PATHS[series]
    value = start
    for m in month_range(date(2017, 1, 1), month):
        if m > date(2017, 1, 1):
            value *= (1 + growth[m.year] / 100) ** (1 / 12)
    seasonal = 1 + (0.002 if series == "CUUR0000SA0" else 0.0) * (1 if month.month in (3, 4, 5, 6) else -0.5)
    return value * seasonal


def observed_value(series: str, month: date, release: date) -> float:
    """What the release for `release` says about `month`: preliminary months are off by a little."""
    value = final_value(series, month)
    age = (release.year - month.year) * 12 + release.month - month.month
    if age < PRELIMINARY_MONTHS.get(series, 0):
        noise = random.Random(f"bls-{series}-{format_month(month)}-{age}").uniform(-0.004, 0.004)
        value *= 1 + noise
    return value


def render(release: date) -> bytes:
    series = []
    months = list(month_range(date(release.year - 1, 1, 1), release))
    for sid in src.SERIES_DATASET.series:
        data = []
        for month in reversed(months):
            age = (release.year - month.year) * 12 + release.month - month.month
            item = {"year": str(month.year), "period": f"M{month.month:02d}",
                    "periodName": MONTH_NAMES[month.month - 1]}
            if month == release:
                item["latest"] = "true"
            item["value"] = f"{observed_value(sid, month, release):.{DECIMALS[sid]}f}"
            preliminary = age < PRELIMINARY_MONTHS.get(sid, 0)
            item["footnotes"] = [{"code": "P", "text": "Preliminary."}] if preliminary else [{}]
            data.append(item)
        series.append({"seriesID": sid, "data": data})
    document = {"status": "REQUEST_SUCCEEDED", "responseTime": 112, "message": [], "Results": {"series": series}}
    return json.dumps(document, separators=(",", ":")).encode()


def write(archive: ReleaseArchive, start: date, end: date, *, base_url: str | None = None) -> int:
    base = (base_url or src.BASE_URL).rstrip("/")
    written = 0
    for month in month_range(start, end):
        for part, request in src.release_requests(base, src.SERIES_DATASET, month):
            # the same request (same years) is answered anew every month: one snapshot per release
            archive.put(request, f"bls/series/{format_month(month)}_{part}.json", render(month), synthetic=True,
                        as_of=format_month(month))
            written += 1
    return written

