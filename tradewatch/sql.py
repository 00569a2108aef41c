"""Quoting for the SQL the package writes itself (DuckDB): values that cannot be bound as parameters, such as file
paths in a table function's list, comments, or names."""

from __future__ import annotations


def literal(text: str | None) -> str:
    """A string constant; None becomes the empty string."""
    return "'" + (text or "").replace("'", "''") + "'"


def identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def table_exists(con, schema: str, table: str) -> bool:
    """Whether the warehouse (or a database attached to it) has the table `schema.table`."""
    return bool(con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?",
                            [schema, table]).fetchall()[0][0])


def insert_rows(con, table: str, rows: list[tuple]) -> None:
    """Insert many rows in one statement: each column is bound as one list and unnested (a row-by-row executemany
    costs about two milliseconds a row in DuckDB)."""
    if not rows:
        return
    columns = list(zip(*rows, strict=True))
    con.execute(f"INSERT INTO {table} SELECT {', '.join(f'unnest(${i + 1})' for i in range(len(columns)))}",
                [list(column) for column in columns])
