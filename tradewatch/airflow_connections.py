"""Airflow connections, read for the settings factory inside a task: `get_settings(connections=airflow_connection)`.

The DAG's tasks that reach the serving database or the alert channels pass this lookup once, to the settings; the
rest of the package sees only the resolved settings (tradewatch.settings: which connection sets what).
"""

from __future__ import annotations

from typing import Any


def airflow_connection(conn_id: str) -> dict[str, Any] | None:
    """An Airflow connection as a dict, or None when it does not exist (or Airflow is not installed)."""
    try:
        from airflow.sdk import BaseHook
        from airflow.sdk.exceptions import AirflowNotFoundException
    except ImportError:
        return None
    try:
        conn = BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None
    return {"host": conn.host, "port": conn.port, "login": conn.login, "password": conn.password,
            "schema": conn.schema, "extra": conn.extra_dejson}
