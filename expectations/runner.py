"""The one runner: validate a DataFrame of one release against its suite, with an ephemeral GX context."""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass

import pandas as pd


@dataclass(frozen=True)
class SuiteOutcome:
    suite: str
    success: bool
    evaluated: int
    failed: list[str]  # one line per failed expectation: what it checked and what it saw
    results: dict  # GX's JSON result
    duration_s: float


def _describe_failure(result) -> str:
    config = result.expectation_config
    kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
    seen = {k: result.result.get(k) for k in ("observed_value", "unexpected_count", "partial_unexpected_list",
                                               "missing_count", "partial_missing_list") if result.result.get(k)}
    if result.exception_info and result.exception_info.get("raised_exception"):
        seen["error"] = result.exception_info.get("exception_message")
    return f"{config.type}({json.dumps(kwargs, default=str)[:200]}) saw {json.dumps(seen, default=str)[:300]}"


class SuiteRunner:
    """Validates releases of one dataset against its suite; one ephemeral GX context serves every release."""

    def __init__(self, dataset: str) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        logging.getLogger("great_expectations").setLevel(logging.WARNING)
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        from expectations import suite_builders

        self.dataset = dataset
        context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        suite = context.suites.add(suite_builders()[dataset]())
        batch = (context.data_sources.add_pandas(f"{dataset}_source")
                 .add_dataframe_asset(f"{dataset}_release")
                 .add_batch_definition_whole_dataframe("candidate"))
        self._definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{dataset}_validation", data=batch, suite=suite))

    def run(self, frame: pd.DataFrame, parameters: dict) -> SuiteOutcome:
        started = time.monotonic()
        result = self._definition.run(batch_parameters={"dataframe": frame}, expectation_parameters=parameters,
                                      result_format="SUMMARY")
        failed = [_describe_failure(r) for r in result.results if not r.success]
        return SuiteOutcome(self.dataset, bool(result.success), len(result.results), failed,
                            result.to_json_dict(), time.monotonic() - started)


def run_suite(dataset: str, frame: pd.DataFrame, parameters: dict) -> SuiteOutcome:
    """Validate one release (a convenience over SuiteRunner for a single frame)."""
    return SuiteRunner(dataset).run(frame, parameters)
