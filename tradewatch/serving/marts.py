"""What is published: the warehouse's marts (with their comments) and their fingerprints.

A fingerprint is a hash of a mart's columns and rows (of each part, for a partitioned mart), kept with each
publication, so the snapshot and Parquet writers rewrite only what changed (see tradewatch.serving.publication).
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from tradewatch.sql import identifier

#: Marts published in parts, by this column: one Parquet file per value, and only changed parts written again.
PARTITIONED = {"trade_monthly": "period_month"}


@dataclass(frozen=True)
class Mart:
    name: str
    comment: str | None
    columns: tuple[tuple[str, str, str | None], ...]  # (name, DuckDB type, comment)


def new_publication_id() -> str:
    return datetime.now(UTC).strftime("%Y%m%dT%H%M%S%fZ")


def marts(con: duckdb.DuckDBPyConnection) -> list[Mart]:
    """Every table in the warehouse's marts schema, with its column types and comments (from the dbt docs)."""
    tables = con.execute("SELECT table_name, comment FROM duckdb_tables() WHERE schema_name = 'marts' AND "
                         "database_name = current_database() ORDER BY table_name").fetchall()
    out = []
    for name, comment in tables:
        columns = con.execute("SELECT column_name, data_type, comment FROM duckdb_columns() WHERE schema_name = "
                              "'marts' AND table_name = ? AND database_name = current_database() "
                              "ORDER BY column_index", [name]).fetchall()
        out.append(Mart(name, comment, tuple(columns)))
    return out


def _sha(*parts: object) -> str:
    return hashlib.sha256(json.dumps(parts, default=str).encode()).hexdigest()[:32]


@dataclass(frozen=True)
class Fingerprints:
    """What a publication holds, hashed: each mart's columns (with their types and comments), each mart's rows, and
    each part of a partitioned mart (its value as text -> the hash of its rows)."""

    schemas: dict[str, str]
    marts: dict[str, str]
    parts: dict[str, dict[str, str]] = field(default_factory=dict)

    def to_json(self) -> str:
        return json.dumps({"schemas": self.schemas, "marts": self.marts, "parts": self.parts}, sort_keys=True)

    @classmethod
    def from_json(cls, text: str | None) -> Fingerprints | None:
        try:
            found = json.loads(text or "")
            return cls(found["schemas"], found["marts"], found.get("parts", {}))
        except (ValueError, KeyError, TypeError):
            return None  # an earlier publication, or an unreadable manifest: everything is written again


def fingerprint(con: duckdb.DuckDBPyConnection, tables: list[Mart]) -> Fingerprints:
    """Hash every mart in the warehouse: one scan each (DuckDB's row hash, summed: the order of rows is not part of
    a mart); a partitioned mart by part."""
    schemas, hashed, parts = {}, {}, {}
    for mart in tables:
        table = f"marts.{identifier(mart.name)}"
        schemas[mart.name] = _sha(mart.comment, mart.columns)
        if column := PARTITIONED.get(mart.name):
            parts[mart.name] = {str(part): _sha(rows, total) for part, rows, total in con.execute(
                f"SELECT CAST({identifier(column)} AS VARCHAR), count(*), sum(hash(t)) FROM {table} t GROUP BY 1"
            ).fetchall()}
            hashed[mart.name] = _sha(schemas[mart.name], sorted(parts[mart.name].items()))
        else:
            rows, total = con.execute(f"SELECT count(*), sum(hash(t)) FROM {table} t").fetchall()[0]
            hashed[mart.name] = _sha(schemas[mart.name], rows, total)
    return Fingerprints(schemas, hashed, parts)


def fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
