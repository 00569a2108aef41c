"""The sample release archive: SYNTHETIC releases in the publishers' exact formats, for the embedded default.

Values are invented (labelled synthetic wherever shown) but shaped like the real series: magnitudes, seasonality,
the 2018-2019 tariff rounds and the spring-2025 shock. The archive is replayed through the real clients.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

from tradewatch.http import ReleaseArchive
from tradewatch.sample import bls, census, comtrade, gacc, nbs, usitc

#: The archive's layout: raised when a publisher's recorded format or the archive's content changes (3: GACC in the
#: real site's layout; 4: a deliberate rerouting pattern in Census and Comtrade; 5: Comtrade's basket lines cover
#: every six-digit line of the basket seed), so a demo does not replay an archive an earlier version wrote.
FORMAT_VERSION = 5
#: Last month in the default archive (fixed, so the archive does not depend on the day it is generated).
DEFAULT_START = date(2017, 1, 1)
DEFAULT_END = date(2026, 9, 1)


def write_sample_archive(root: Path, start: date = DEFAULT_START, end: date = DEFAULT_END,
                         scale: census.Scale = census.DEFAULT_SCALE) -> dict[str, int]:
    """Write every source's sample releases under `root`; return the number of files per source. `scale` sizes the
    Census releases (the benchmarks' realistic and 10x archives)."""
    archive = ReleaseArchive(root)
    archive.index.clear()
    counts = {"census": census.write(archive, start, end, scale=scale), "bls": bls.write(archive, start, end),
              "nbs": nbs.write(archive, start, end), "gacc": gacc.write(archive, start, end),
              "comtrade": comtrade.write(archive, start, end), "usitc": usitc.write(archive, start, end)}
    archive.save()
    (Path(root) / "FORMAT_VERSION").write_text(f"{FORMAT_VERSION}\n")
    (Path(root) / "README.txt").write_text(
        "SYNTHETIC sample release archive written by `tradewatch sample`.\n"
        "The files are in the publishers' exact response formats; the values are invented.\n"
        f"Months: {start:%Y-%m} to {end:%Y-%m}.\n"
    )
    return counts
