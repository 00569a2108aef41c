"""The columns every raw table carries besides the publisher's data columns: which release a row belongs to, and
where its bytes came from. One place for the names: the loader (tradewatch.warehouse) writes them, the quality suites
(expectations/) read them. This module imports nothing, so the suites never import warehouse code.
"""

from __future__ import annotations

#: The release a raw row belongs to (audit.releases.release_id): the first column of every raw table.
RELEASE_ID = "release_id"
#: (column, DuckDB type) after the data columns: the landed file's URL, its SHA-256 and when it was fetched.
LINEAGE_COLUMNS: tuple[tuple[str, str], ...] = (("source_url", "VARCHAR"), ("sha256", "VARCHAR"),
                                                 ("fetched_at", "TIMESTAMP"))
