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
