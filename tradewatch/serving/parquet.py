"""The marts as Parquet (`serving/parquet/current/<mart>.parquet`; `trade_monthly` as one file per month in
`current/trade_monthly/<YYYY-MM-DD>.parquet`).

Each publication is written into a folder of its own, `releases/<publication id>`, and `current` is a symlink
swapped by rename; the last few publications are kept. A file whose rows did not change is a hard link to the
previous publication's file, not a new one (the fingerprints are in each folder's `_manifest.json`).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import unquote

import duckdb

from tradewatch.serving.marts import PARTITIONED, Fingerprints, Mart, fingerprint, fsync
from tradewatch.sql import identifier, literal

MANIFEST_FILE = "_manifest.json"


def _link(source: Path, target: Path) -> None:
    """The same file under a second name (a hard link: no bytes written); a copy where links are not possible."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _current_parquet(root: Path) -> tuple[Path, Fingerprints] | None:
    """The current publication's folder and fingerprints (None: nothing published, or no manifest)."""
    current = root / "current"
    if not current.is_symlink():
        return None
    folder = current.resolve()
    manifest = folder / MANIFEST_FILE
    prints = Fingerprints.from_json(manifest.read_text()) if manifest.exists() else None
    return (folder, prints) if prints else None


def _write_parts(con: duckdb.DuckDBPyConnection, mart: Mart, folder: Path, previous: tuple[Path, Fingerprints] | None,
                 prints: Fingerprints) -> tuple[int, int]:
    """A partitioned mart as `<mart>/<part>.parquet`, one file per part: unchanged parts linked from the previous
    publication, the others written in one pass. Returns (written, linked)."""
    out = folder / mart.name
    out.mkdir()
    now, linked = prints.parts[mart.name], 0
    if previous and previous[1].schemas.get(mart.name) == prints.schemas[mart.name]:
        before = previous[1].parts.get(mart.name, {})
        for part, value in now.items():
            files = sorted((previous[0] / mart.name).glob(f"{part}*.parquet"))
            if before.get(part) == value and files:
                for file in files:
                    _link(file, out / file.name)
                linked += 1
    todo = sorted(set(now) - {p.name.split(".")[0] for p in out.iterdir()})
    if todo:
        column, scratch = identifier(PARTITIONED[mart.name]), folder / f".{mart.name}.parts"
        con.execute(f"COPY (SELECT * FROM marts.{identifier(mart.name)} WHERE CAST({column} AS VARCHAR) IN "
                    f"(SELECT unnest($parts))) TO {literal(str(scratch))} (FORMAT parquet, COMPRESSION zstd, "
                    f"PARTITION_BY ({column}), WRITE_PARTITION_COLUMNS true)", {"parts": todo})
        for directory in scratch.iterdir():  # <column>=<value>/data_<n>.parquet: the value names the file
            part = unquote(directory.name.split("=", 1)[1])
            for index, file in enumerate(sorted(directory.glob("*.parquet"))):
                file.rename(out / (f"{part}.parquet" if index == 0 else f"{part}.{index}.parquet"))
        shutil.rmtree(scratch)
    return len(todo), linked


def write_parquet(con: duckdb.DuckDBPyConnection, tables: list[Mart], root: Path, publication_id: str,
                  prints: Fingerprints | None = None) -> tuple[Path, dict[str, int]]:
    """Every mart as Parquet in a folder of its own, `releases/<publication id>`, a partitioned mart as a folder of
    one file per part; what did not change since the current publication is linked to its file, not written again.
    Returns the folder and how many files were written and linked. `link_parquet` makes it current."""
    prints = prints or fingerprint(con, tables)
    previous = _current_parquet(root)
    folder = root / "releases" / publication_id
    folder.mkdir(parents=True, exist_ok=False)
    counts = {"written": 0, "linked": 0}
    for mart in tables:
        if mart.name in PARTITIONED:
            written, linked = _write_parts(con, mart, folder, previous, prints)
            counts["written"] += written
            counts["linked"] += linked
            continue
        target, unchanged = folder / f"{mart.name}.parquet", None
        if previous and previous[1].marts.get(mart.name) == prints.marts[mart.name]:
            unchanged = previous[0] / f"{mart.name}.parquet"
        if unchanged is not None and unchanged.exists():
            _link(unchanged, target)
            counts["linked"] += 1
        else:
            con.execute(f"COPY marts.{identifier(mart.name)} TO {literal(str(target))} "
                        "(FORMAT parquet, COMPRESSION zstd)")
            counts["written"] += 1
    (folder / MANIFEST_FILE).write_text(prints.to_json())
    (folder / "_PUBLICATION").write_text(publication_id + "\n")
    return folder, counts


def link_parquet(root: Path, publication_id: str, keep: int = 3) -> Path:
    """`current` becomes a symlink to this publication's folder, swapped by rename; the last `keep` are kept."""
    link, tmp_link = root / "current", root / f".current.{publication_id}"
    for stale in root.glob(".current.*"):
        stale.unlink(missing_ok=True)
    os.symlink(Path("releases") / publication_id, tmp_link)
    os.replace(tmp_link, link)
    fsync(root)
    releases = sorted(p for p in (root / "releases").iterdir() if p.is_dir())
    for old in releases[:-max(keep, 2)]:
        shutil.rmtree(old, ignore_errors=True)
    return link


def remove_unfinished(root: Path) -> None:
    """Parquet folders newer than `current` were written by a publish that did not finish (publishes are
    serialised, and `current` moves last)."""
    if not (root / "releases").is_dir():
        return
    current = (root / "current").resolve().name if (root / "current").is_symlink() else ""
    for folder in (root / "releases").iterdir():
        if folder.is_dir() and folder.name > current:
            shutil.rmtree(folder, ignore_errors=True)
