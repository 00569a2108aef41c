"""Quoting for the SQL the package writes itself (DuckDB): values that cannot be bound as parameters, such as file
paths in a table function's list, comments, or names."""

from __future__ import annotations


def literal(text: str | None) -> str:
    """A string constant; None becomes the empty string."""
    return "'" + (text or "").replace("'", "''") + "'"


def identifier(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'
