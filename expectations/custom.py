"""Expectations GX does not ship, built on its own metrics. Imported by the suites that use them (this module imports
GX, which takes seconds: only when a suite is built)."""

from __future__ import annotations

from great_expectations.expectations.expectation import ColumnAggregateExpectation


class ExpectColumnValuePrefixesToHaveCountBetween(ColumnAggregateExpectation):
    """The column's values have between `min_value` and `max_value` distinct leading `prefix_length` characters
    (HS codes: how many chapters a release covers)."""

    prefix_length: int
    min_value: int
    max_value: int | None = None

    metric_dependencies = ("column.distinct_values",)
    success_keys = ("prefix_length", "min_value", "max_value")
    args_keys = ("column", "prefix_length", "min_value", "max_value")

    def _validate(self, metrics: dict, runtime_configuration: dict | None = None, execution_engine=None) -> dict:
        prefixes = {str(value)[: self.prefix_length] for value in metrics["column.distinct_values"]}
        success = len(prefixes) >= self.min_value and (self.max_value is None or len(prefixes) <= self.max_value)
        return {"success": success, "result": {"observed_value": len(prefixes)}}
