"""The tradewatch command line: fetch and backfill with progress, clear refusals, quality commands."""

import pytest

from tradewatch import cli


def test_fetch_a_range_with_load_shows_progress_and_publishes(tmp_path, small_archive, monkeypatch, capsys):
    monkeypatch.setenv("TRADEWATCH_DATA_DIR", str(tmp_path / "data"))
    code = cli.main(["fetch", "--source", "bls", "--period", "2025-04", "--to", "2025-07", "--replay",
                     str(small_archive), "--load"])
    out = capsys.readouterr().out
    assert code == 0
    assert "[1/4] bls_series 2025-04: landed" in out and "[4/4] bls_series 2025-07: not published yet" in out
    assert "'published': 3" in out
    assert cli.main(["quality", "list"]) == 0
    assert "0 quarantined release(s)" in capsys.readouterr().out


def test_fetch_one_dataset_asks_only_for_its_releases(tmp_path, small_archive, monkeypatch, capsys):
    """The annual HS10 imports have one release a year, December's: a range of months fetches its Decembers."""
    monkeypatch.setenv("TRADEWATCH_DATA_DIR", str(tmp_path / "data"))
    code = cli.main(["fetch", "--source", "census", "--dataset", "census_imports_hs10_annual", "--period", "2023-01",
                     "--to", "2024-12", "--replay", str(small_archive), "--load"])
    out = capsys.readouterr().out
    assert code == 0
    assert "[1/2] census_imports_hs10_annual 2023-12: landed" in out
    assert "[2/2] census_imports_hs10_annual 2024-12: landed" in out
    assert "'published': 2" in out and "census_imports_hs " not in out  # only the dataset asked for
    assert cli.main(["fetch", "--source", "census", "--dataset", "census_imports_hs10_annual", "--period", "2025-01",
                     "--to", "2025-06", "--replay", str(small_archive)]) == 0
    assert "no release from 2025-01 to 2025-06 (it has releases for December only)" in capsys.readouterr().out
    assert cli.main(["fetch", "--source", "bls", "--dataset", "census_imports_hs10_annual", "--period", "2024-12"]) == 2
    assert "not a dataset of bls" in capsys.readouterr().err


def test_bad_arguments_are_refused_with_the_reason(capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["fetch", "--source", "census", "--period", "May 2025"])
    assert exc.value.code == 2 and "YYYY-MM" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        cli.main(["fetch", "--source", "nowhere", "--period", "2025-05"])


def test_live_without_a_required_key_says_what_to_do(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("TRADEWATCH_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("CENSUS_API_KEY", raising=False)
    assert cli.main(["fetch", "--source", "census", "--period", "2025-05", "--live"]) == 2
    assert "CENSUS_API_KEY is not set" in capsys.readouterr().err


def test_anomalies_and_alert_commands(tmp_path, monkeypatch, capsys, fake_publisher):
    from tests.conftest import Reply, free_port
    from tests.unit.test_alerts import ROWS, write_anomalies
    from tradewatch.settings import get_settings

    monkeypatch.setenv("TRADEWATCH_DATA_DIR", str(tmp_path / "data"))
    write_anomalies(get_settings(), ROWS)
    assert cli.main(["anomalies", "--since", "2025-01"]) == 0
    out = capsys.readouterr().out
    assert "May 2025" in out and "US imports from China (US-reported)" in out and "EO 14266" in out
    assert "Jan 2024" not in out and "1 anomaly shown" in out  # --since leaves January 2024 out ...
    assert "HS 85 carried 41% of the fall" in out  # what carried it
    assert cli.main(["anomalies", "--since", "2024-01"]) == 0
    out = capsys.readouterr().out  # ... which is there, newest first; the info row stays below the default severity
    assert out.index("May 2025") < out.index("Jan 2024") and "2 anomalies shown" in out
    assert cli.main(["anomalies", "--since", "2024-01", "--severity", "info", "--limit", "1"]) == 0
    assert "1 anomaly shown" in capsys.readouterr().out
    assert cli.main(["anomalies", "--since", "2024-01", "--severity", "info"]) == 0
    assert "3 anomalies shown" in capsys.readouterr().out

    receiver = fake_publisher(Reply(200, b"ok"))
    monkeypatch.setenv("TRADEWATCH_ALERT_WEBHOOK_URL", receiver.base_url)
    assert cli.main(["alerts", "test"]) == 0
    assert "webhook: delivered" in capsys.readouterr().out and len(receiver.bodies) == 1
    monkeypatch.setenv("TRADEWATCH_ALERT_WEBHOOK_URL", f"http://127.0.0.1:{free_port()}/down")
    assert cli.main(["alerts", "test"]) == 1
    assert "webhook: FAILED: could not reach the receiver" in capsys.readouterr().out
    assert cli.main(["alerts", "send"]) == 0  # the channel is down: the anomaly stays pending, no crash
    assert cli.main(["alerts", "list"]) == 0
    assert "webhook  pending  1" in capsys.readouterr().out
