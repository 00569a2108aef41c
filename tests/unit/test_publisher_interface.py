"""The publisher interface: every publisher states all it provides in its PUBLISHER, nothing more is looked up.

Fails when a publisher lacks a required field or states one of the wrong shape, when a module of
tradewatch/sources is not in the registry, and when a publisher module grows a public function its PUBLISHER does
not reference (a hook the interface does not declare) without being named below as a helper.
"""

import dataclasses
import importlib
import inspect
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pytest

import tradewatch.sources
from tests.conftest import REPO_ROOT
from tradewatch.sources import PUBLISHERS, bls, census, gacc
from tradewatch.sources.base import (
    ApiKey,
    Navigation,
    PlainRequests,
    Publisher,
    ReleaseCalendar,
)

#: Fields every publisher must state (the others have a default: no batch staging, no keyed URL, no pages, every
#: month a release, backfills).
REQUIRED = {"name", "title", "datasets", "key", "base_url", "calendar", "revision_months", "fetch", "check_response",
            "stage_part"}
#: Public functions of a publisher module that are not hooks: the request builders and parsers its own hooks use,
#: which its tests and the sample archive also call by name. A new public function is either a field of the
#: module's PUBLISHER or named here.
HELPERS = {
    "census": {"build_request", "release_requests", "parse_census_file", "conform"},
    "bls": set(),
    "nbs": {"parse_legacy"},
    "gacc": {"clean", "read_page", "parse_index", "follow", "value_unit", "page_header", "number",
             "parse_country_table", "parse_commodities", "parse_preliminary", "parse_page", "region_labels"},
    "comtrade": {"read_records"},
    "usitc": {"revision_name"},
}
#: What the pipeline passes each hook (placeholders: only the number and order of arguments are checked here).
CALLS = {
    "revision_months": ("reference",),
    "skips_month": ("month",),
    "check_response": ("response", "what", "period"),
    "stage_part": ("con", "path", "ds", "part", "what", "period"),
    "stage_files": ("con", "paths", "ds", "what"),
    "fetch.requests": ("base_url", "ds", "period"),
    "fetch.check_release": ("parts", "what", "period"),
    "fetch.fetch_parts": ("transport", "endpoint", "ds", "period", "what"),
}


def publisher_modules() -> dict[str, object]:
    """Every module of tradewatch/sources but the shared base, by name."""
    return {info.name: importlib.import_module(f"tradewatch.sources.{info.name}")
            for info in pkgutil.iter_modules(tradewatch.sources.__path__) if info.name != "base"}


def hooks(publisher: Publisher) -> dict[str, object]:
    """Every function a publisher states, by field (the fetch's own fields as fetch.<field>)."""
    stated = {f.name: getattr(publisher, f.name) for f in dataclasses.fields(publisher)}
    stated.update({f"fetch.{f.name}": getattr(publisher.fetch, f.name) for f in dataclasses.fields(publisher.fetch)})
    return {name: value for name, value in stated.items() if callable(value) and name in CALLS}


def test_every_publisher_module_is_registered_with_its_publisher():
    modules = publisher_modules()
    assert set(modules) == set(PUBLISHERS) == set(HELPERS)
    for name, module in modules.items():
        publisher = PUBLISHERS[name]
        assert module.PUBLISHER is publisher and isinstance(publisher, Publisher) and publisher.name == name
        assert module.DATASETS is publisher.datasets  # the expectations read the same datasets
    names = [ds for p in PUBLISHERS.values() for ds in p.datasets]
    assert len(names) == len(set(names))


def test_the_required_fields_are_exactly_these():
    required = {f.name for f in dataclasses.fields(Publisher)
                if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING}
    assert required == REQUIRED
    stated = {f: getattr(census.PUBLISHER, f) for f in REQUIRED}
    for field in REQUIRED:
        with pytest.raises(TypeError, match=field):
            Publisher(**{k: v for k, v in stated.items() if k != field})


@pytest.mark.parametrize(("field", "value", "message"), [
    ("name", "US Census", "lower-case letters"),
    ("title", "", "title is empty"),
    ("datasets", {}, "datasets is empty"),
    ("datasets", {"other_name": census.IMPORTS}, "both must match"),
    ("datasets", bls.DATASETS, "source 'bls'"),
    ("datasets", {census.IMPORTS.name: dataclasses.replace(census.IMPORTS, release_months=(13,))}, "release months"),
    ("key", ApiKey("census key", "https://x", "key", "params", True), "upper-case variable"),
    ("key", ApiKey("CENSUS_API_KEY", "https://x", "key", "cookie", True), "location"),
    ("base_url", "api.census.gov", "base_url must be an http"),
    ("calendar", ReleaseCalendar(months_after=2, day=31), "day from 1 to 28"),
    ("calendar", (2, 8), "ReleaseCalendar"),
    ("revision_months", None, "revision_months must be a function"),
    ("check_response", "check_response", "check_response must be a function"),
    ("stage_part", None, "stage_part must be a function"),
    ("stage_files", 1, "stage_files must be a function"),
    ("skips_month", None, "skips_month must be a function"),
    ("fetch", census.fetch_parts, "PlainRequests"),
    ("fetch", Navigation(None), "fetch.fetch_parts must be a function"),
    ("fetch", PlainRequests(census.release_requests, check_release="nbs"), "fetch.check_release"),
    ("pages", {"index": "statics/report/preliminary.html"}, "starts with '/'"),
    ("backfills", "no", "backfills must be True or False"),
])
def test_a_field_stated_wrongly_fails_at_import_naming_it(field, value, message):
    with pytest.raises(ValueError, match=f"publisher '(census|US Census)': .*{message}"):
        dataclasses.replace(census.PUBLISHER, **{field: value})


def test_a_keyed_url_needs_a_key():
    with pytest.raises(ValueError, match="keyed_base_url needs a key"):
        dataclasses.replace(gacc.PUBLISHER, keyed_base_url="https://keyed.example")


@pytest.mark.parametrize("name", sorted(PUBLISHERS))
def test_every_hook_takes_what_the_pipeline_passes(name):
    stated = hooks(PUBLISHERS[name])
    assert {"revision_months", "skips_month", "check_response", "stage_part"} <= set(stated)
    assert {"fetch.requests", "fetch.fetch_parts"} & set(stated)
    for field, hook in stated.items():
        try:
            inspect.signature(hook).bind(*CALLS[field])
        except TypeError as exc:
            pytest.fail(f"{name}: {field} ({hook.__name__}) cannot be called with {CALLS[field]}: {exc}")


@pytest.mark.parametrize("name", sorted(PUBLISHERS))
def test_no_module_grows_a_hook_the_interface_does_not_declare(name):
    module, publisher = importlib.import_module(f"tradewatch.sources.{name}"), PUBLISHERS[name]
    stated = hooks(publisher)
    functions = {attr: value for attr, value in vars(module).items()
                 if not attr.startswith("_") and callable(value) and not inspect.isclass(value)
                 and getattr(inspect.unwrap(value), "__module__", None) == module.__name__}
    unstated = {attr for attr, value in functions.items() if all(value is not hook for hook in stated.values())}
    assert unstated == HELPERS[name], (
        f"{name}: public functions its PUBLISHER does not reference: {sorted(unstated - HELPERS[name])}. Wire a hook "
        "into a field of Publisher (tradewatch/sources/base.py), or name a helper in HELPERS; "
        f"helpers named here that are gone or now stated: {sorted(HELPERS[name] - unstated)}")
    interface = {f.name for cls in (Publisher, PlainRequests, Navigation) for f in dataclasses.fields(cls)}
    for attr in set(vars(module)) & (interface | {"BACKFILL"}):  # a module value named like a field is that field
        assert any(vars(module)[attr] is hook for hook in stated.values()), f"{name}.{attr} is not its field"


def test_nothing_looks_a_publisher_hook_up_by_name():
    """The pipeline and the publishers use the declared fields; no hasattr/getattr probes for optional hooks."""
    files = [*sorted((REPO_ROOT / "tradewatch" / "sources").glob("*.py")), REPO_ROOT / "tradewatch" / "pipeline.py",
             REPO_ROOT / "tradewatch" / "warehouse.py", REPO_ROOT / "tradewatch" / "settings.py"]
    probes = [f"{Path(f).name}:{n}" for f in files for n, line in enumerate(Path(f).read_text().splitlines(), 1)
              if re.search(r"\b(hasattr|getattr)\(", line)]
    assert probes == []


def test_the_settings_read_each_publishers_defaults_from_the_registry():
    from tradewatch.settings import get_settings

    settings = get_settings({"COMTRADE_API_KEY": "k", "GACC_API_KEY": "ignored", "TRADEWATCH_NBS_RELEASE_DAY": "20"})
    for name, publisher in PUBLISHERS.items():
        source = settings.sources[name]
        assert source.base_url == (publisher.keyed_base_url if name == "comtrade" else publisher.base_url)
        assert source.release_day == (20 if name == "nbs" else publisher.calendar.day)
        assert dict(source.pages) == publisher.page_urls(source.base_url)
        assert bool(source.api_key) == (name == "comtrade")  # a publisher without a key reads no variable
    assert settings.secrets == ["k"]


def test_importing_the_settings_loads_no_publisher():
    """The DAG file imports the settings when Airflow parses it: the registry (and DuckDB) load only when the settings
    are built."""
    heavy = ("duckdb", "requests", "tradewatch.sources", "tradewatch.http")
    code = f"import sys, tradewatch.settings; print(sorted(m for m in {heavy!r} if m in sys.modules))"
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert loaded == "[]"
