"""Process faults: SIGKILL during a load, during dbt and during publishing; two refreshes at once; the disk filling up
during landing. Afterwards the warehouse is consistent, what is served is the previous good state, and a rerun
ends where a clean run ends."""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import textwrap
import time

import duckdb
import pytest

from tests.conftest import REPO_ROOT, make_settings
from tests.reliability.conftest import fingerprint, scenario
from tradewatch import landing, pipeline
from tradewatch.errors import TradewatchError
from tradewatch.serving import publication
from tradewatch.serving.snapshot import SNAPSHOT_NAME

pytestmark = pytest.mark.slow  # the fault-injection suite: minutes, run by `make test` and CI

DATASETS = ("census_imports_hs", "bls_series")
PERIODS = [f"2024-{m:02d}" for m in range(1, 13)]


def settings_for(tmp_path, archive, name="data"):
    return make_settings(tmp_path / name, TRADEWATCH_ARCHIVE_DIR=str(archive), TRADEWATCH_START_MONTH="2024-01")


def fetch_all(settings) -> None:
    for dataset in DATASETS:
        pipeline.fetch(settings, dataset, PERIODS, as_of="2025-02-15")


def refresh(settings) -> None:
    for dataset in DATASETS:
        pipeline.load(settings, dataset)
        pipeline.validate(settings, dataset)


def published(tmp_path, archive):
    """A warehouse refreshed, built and published once: the previous good state a fault must leave served."""
    settings = settings_for(tmp_path, archive)
    fetch_all(settings)
    refresh(settings)
    pipeline.build(settings)
    return settings, publication.publish(settings)


def child(settings, body: str) -> subprocess.Popen:
    """A Python process running `body` with these settings (the environment carries them)."""
    env = {**os.environ, "TRADEWATCH_DATA_DIR": str(settings.data_dir),
           "TRADEWATCH_ARCHIVE_DIR": str(settings.archive_dir), "TRADEWATCH_START_MONTH": "2024-01",
           "GX_ANALYTICS_ENABLED": "false", "PYTHONUNBUFFERED": "1"}
    code = "from tradewatch import pipeline, warehouse\nfrom tradewatch.serving import publication, snapshot\n" \
           "from tradewatch.settings import get_settings\n" \
           "settings = get_settings()\n" + textwrap.dedent(body)
    return subprocess.Popen([sys.executable, "-c", code], env=env, cwd=REPO_ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)


def kill_when(process: subprocess.Popen, marker: str, timeout: float = 300, after: float = 0.0) -> str:
    """SIGKILL the process and everything it started (a worker dying whole) `after` seconds after it prints
    `marker`; returns what it printed."""
    seen = []
    deadline = time.monotonic() + timeout
    for line in process.stdout:
        seen.append(line)
        if marker in line:
            time.sleep(after)
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=30)
            return "".join(seen)
        assert time.monotonic() < deadline, "".join(seen)
    raise AssertionError(f"never reached {marker!r}:\n{''.join(seen)}")


@pytest.fixture(scope="module")
def clean(tmp_path_factory, small_archive):
    """The warehouse a clean run ends with, and its published snapshot."""
    settings = settings_for(tmp_path_factory.mktemp("clean"), small_archive)
    fetch_all(settings)
    refresh(settings)
    return settings, fingerprint(settings.duckdb_path, ("raw",))


def consistent(settings) -> None:
    """Every release's rows are all there or none are; nothing pending is left behind after a rerun."""
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        for dataset in DATASETS:
            mismatched = con.execute(
                f"SELECT r.release_id, r.row_count, count(t.release_id) FROM audit.releases r "
                f"LEFT JOIN raw.{dataset} t USING (release_id) WHERE r.dataset = ? GROUP BY ALL "
                "HAVING r.row_count <> count(t.release_id)",
                [dataset]).fetchall()
            assert mismatched == []
        assert con.execute("SELECT count(*) FROM audit.releases WHERE status = 'pending'").fetchall() == [(0,)]


@scenario("Process", "SIGKILL during a load",
          "the load in flight rolls back whole (a release's rows are all there or none), and the rerun ends with "
          "exactly the clean run's raw tables: nothing lost, nothing twice")
def test_sigkill_during_a_load(tmp_path, small_archive, clean):
    settings = settings_for(tmp_path, small_archive)
    fetch_all(settings)
    process = child(settings, """
        original = warehouse.load_batch
        def noisy(con, zone, batch):
            results = original(con, zone, batch)
            print("LOADED", *(release.release_id for release in batch), flush=True)
            return results
        warehouse.load_batch = noisy  # load_pending looks it up in its module
        warehouse.BATCH_BYTES = 1  # a batch (one transaction) per release, so the kill lands between or inside them
        pipeline.load(settings, "census_imports_hs")
    """)
    output = kill_when(process, "LOADED", after=0.05)
    assert "LOADED census_imports_hs" in output
    refresh(settings)
    consistent(settings)
    assert fingerprint(settings.duckdb_path, ("raw",)) == clean[1]


@scenario("Process", "SIGKILL during dbt",
          "what is served stays the previous publication, and rebuilding gives the marts a clean build gives")
def test_sigkill_during_dbt(tmp_path, small_archive, clean):
    settings, first = published(tmp_path, small_archive)
    marts = fingerprint(settings.duckdb_path, ("marts",))
    process = child(settings, """
        import tradewatch.transform as transform
        print("BUILDING", flush=True)
        transform.build(settings, full=True)
    """)
    kill_when(process, "BUILDING", after=6.0)  # dbt is running its models by then
    with duckdb.connect(str(settings.serving.directory / SNAPSHOT_NAME), read_only=True) as con:
        assert con.execute("SELECT publication_id FROM marts.publication").fetchall() == [(first["publication_id"],)]
    assert pipeline.build(settings)["built"] == "full"  # the killed build did not finish: everything again
    assert fingerprint(settings.duckdb_path, ("marts",)) == marts


@scenario("Process", "SIGKILL during publishing",
          "readers keep the previous snapshot (a killed publish leaves only a hidden temporary file, removed by the "
          "next publish) and the rerun publishes")
def test_sigkill_during_publishing(tmp_path, small_archive, clean):
    settings, first = published(tmp_path, small_archive)
    process = child(settings, """
        import time
        original = snapshot.fsync
        def slow(path):
            print("SNAPSHOT WRITTEN, NOT YET SWAPPED", flush=True)
            time.sleep(60)
        snapshot.fsync = slow
        publication.publish(settings)
    """)
    kill_when(process, "NOT YET SWAPPED")
    snapshot = settings.serving.directory / SNAPSHOT_NAME
    assert list(snapshot.parent.glob(".tradewatch.duckdb.*.tmp"))  # the half-done copy, hidden
    with duckdb.connect(str(snapshot), read_only=True) as con:
        assert con.execute("SELECT publication_id FROM marts.publication").fetchall() == [(first["publication_id"],)]
    second = publication.publish(settings)
    assert not list(snapshot.parent.glob(".tradewatch.duckdb.*.tmp"))
    with duckdb.connect(str(snapshot), read_only=True) as con:
        assert con.execute("SELECT publication_id FROM marts.publication").fetchall() == [(second["publication_id"],)]


@scenario("Process", "two refreshes started at once",
          "they are serialised by the warehouse lock (the second waits); both succeed and no lock error reaches "
          "anyone")
def test_two_refreshes_at_once_are_serialised(tmp_path, small_archive, clean):
    settings = settings_for(tmp_path, small_archive)
    fetch_all(settings)
    body = """
        for dataset in ("census_imports_hs", "bls_series"):
            pipeline.load(settings, dataset)
            pipeline.validate(settings, dataset)
        print("DONE", flush=True)
    """
    first, second = child(settings, body), child(settings, body)
    outputs = [p.communicate(timeout=600)[0] for p in (first, second)]
    assert [p.returncode for p in (first, second)] == [0, 0], outputs
    assert all("DONE" in o and "lock" not in o.lower() for o in outputs), outputs
    consistent(settings)
    assert fingerprint(settings.duckdb_path, ("raw",)) == clean[1]


@scenario("Process", "the disk fills up during landing",
          "a clear error naming the release and what to do; no half-written object or manifest is visible; the "
          "releases landed before are kept, and after space is freed the run completes")
def test_disk_full_during_landing(tmp_path, small_archive, clean, monkeypatch):
    settings = settings_for(tmp_path, small_archive)
    real_fsync, calls = os.fsync, [0]

    def full(fd):
        calls[0] += 1
        if calls[0] > 25:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(landing.os, "fsync", full)
    with pytest.raises(TradewatchError, match=r"cannot land census_imports_hs 2024-\d\d .*No space left on device.*"
                                              r"free space"):
        pipeline.fetch(settings, "census_imports_hs", PERIODS, as_of="2025-02-15")
    assert not [p for p in settings.landing_dir.rglob("*") if p.name.endswith(".tmp")]
    kept = sorted((settings.landing_dir / "manifests").rglob("*.json"))
    assert 0 < len(kept) < len(PERIODS)
    monkeypatch.setattr(landing.os, "fsync", real_fsync)
    fetch_all(settings)
    refresh(settings)
    assert fingerprint(settings.duckdb_path, ("raw",)) == clean[1]
