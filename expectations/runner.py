"""The one runner: validate a DataFrame of one release against its suite, with an ephemeral GX context."""

from __future__ import annotations

import json
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path

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


#: BASIC keeps what a reader of a failure needs (observed values, unexpected counts, up to 20 unexpected values) and
#: costs about 30% less per release than SUMMARY, which also counts the unexpected values (measured in bench/).
RESULT_FORMAT = "BASIC"


class SuiteRunner:
    """Validates releases of one dataset against its suite; one ephemeral GX context serves every release.

    With `docs_dir`, `build_docs()` renders the suite and every result of this runner as GX Data Docs pages there.
    GX's index is not built: its builder deletes every page this runner's context does not know (the other
    datasets', earlier runs'); tradewatch.data_docs writes the index from audit.validations instead.
    """

    def __init__(self, dataset: str, docs_dir: Path | None = None) -> None:
        os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
        import great_expectations as gx
        from great_expectations.data_context.types.base import ProgressBarsConfig

        from expectations import suite_builders

        for name in list(logging.root.manager.loggerDict):  # GX logs at INFO on import and context creation
            if name.startswith("great_expectations"):
                logging.getLogger(name).setLevel(logging.WARNING)
        self.dataset = dataset
        self._context = context = gx.get_context(mode="ephemeral")
        context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
        self._docs_site = None
        if docs_dir is not None:
            self._docs_site = "tradewatch"
            context.add_data_docs_site(site_name=self._docs_site, site_config={
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(docs_dir)},
            })
        suite = context.suites.add(suite_builders()[dataset]())
        batch = (context.data_sources.add_pandas(f"{dataset}_source")
                 .add_dataframe_asset(f"{dataset}_release")
                 .add_batch_definition_whole_dataframe("candidate"))
        definition = context.validation_definitions.add(
            gx.ValidationDefinition(name=f"{dataset}_validation", data=batch, suite=suite))
        self._checkpoint = context.checkpoints.add(
            gx.Checkpoint(name=f"{dataset}_checkpoint", validation_definitions=[definition], actions=[],
                          result_format=RESULT_FORMAT))

    def run(self, frame: pd.DataFrame, parameters: dict, run_name: str = "candidate") -> SuiteOutcome:
        started = time.monotonic()
        from great_expectations.core.run_identifier import RunIdentifier

        checkpoint_result = self._checkpoint.run(batch_parameters={"dataframe": frame},
                                                 expectation_parameters=parameters,
                                                 run_id=RunIdentifier(run_name=run_name))
        result = next(iter(checkpoint_result.run_results.values()))
        failed = [_describe_failure(r) for r in result.results if not r.success]
        return SuiteOutcome(self.dataset, bool(result.success), len(result.results), failed,
                            result.to_json_dict(), time.monotonic() - started)

    def build_docs(self) -> None:
        """Render the Data Docs pages of this runner's suite and results (nothing without docs_dir)."""
        if self._docs_site is not None:
            self._context.build_data_docs(site_names=[self._docs_site], build_index=False)


def render_page(result: dict) -> str:
    """GX's Data Docs page of one stored validation result (its JSON, as in audit.validations): the renderer and
    view GX's site builder uses, for validations whose page was never kept."""
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResultSchema
    from great_expectations.render.renderer import ValidationResultsPageRenderer
    from great_expectations.render.view import DefaultJinjaPageView

    validation = ExpectationSuiteValidationResultSchema().load(result)
    return DefaultJinjaPageView().render(ValidationResultsPageRenderer().render(validation))
