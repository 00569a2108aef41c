"""Alerts a person must see. This release logs them; notifier channels (webhook, Slack, email) plug in here."""

from __future__ import annotations

import logging

from tradewatch.redact import redact
from tradewatch.settings import get_settings

log = logging.getLogger("tradewatch.alerts")


def task_failed(dag_id: str, task_id: str, run_id: str, map_index: int | None, error: BaseException | str | None,
                try_number: int | None = None) -> str:
    """Report a failed pipeline task: what failed, in which run, and why (secrets removed)."""
    where = f"{task_id}[{map_index}]" if map_index not in (None, -1) else task_id
    text = redact(str(error) if error is not None else "unknown error", get_settings().secrets)
    message = f"tradewatch: task {where} of {dag_id} failed (run {run_id}, try {try_number}): {text}"
    log.error(message)
    return message
