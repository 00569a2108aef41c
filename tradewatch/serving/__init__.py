"""Serving: the marts published for readers, only after a fully successful refresh.

- `publication`: `publish(settings)`, the one entry point: PostgreSQL (if configured), then the snapshot and Parquet;
- `marts`: what is published, and the fingerprints that let each writer rewrite only what changed;
- `snapshot`: the read-only DuckDB file; `parquet`: the Parquet folders;
- `connection`: the PostgreSQL serving database as the settings name it; `postgres`: publishing to it (stage, swap);
  `roles`: its read-only roles (`tradewatch serving init`, `add-reader`, `remove-reader`);
- `report`: the offline HTML report, written from the published snapshot.

Imports go one way: publication -> snapshot, parquet, postgres -> marts, roles -> connection -> settings.
"""
