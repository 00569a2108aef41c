"""Tariffs line by line: the stacked rates of the mart checked against the legal cases, and recomputed in Python from
the seeds alone (an implementation independent of the dbt SQL), on a warehouse with no trade data at all: the
tariff models run on the seeded reference data."""

from __future__ import annotations

import csv
import random
from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import pytest

from tests.conftest import make_settings
from tradewatch import transform
from tradewatch.locations import shipped_dir
from tradewatch.warehouse import bootstrap, open_warehouse

pytestmark = pytest.mark.slow
SEEDS = shipped_dir("dbt_project") / "seeds"
OPEN = date(9999, 12, 31)


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    settings = make_settings(tmp_path_factory.mktemp("tariffs") / "data")
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    with open_warehouse(settings.duckdb_path) as con:
        bootstrap(con)
    transform.run_dbt(settings, "build", "--select", "+tariff_rates_daily", "+tariff_schedule", "+tariff_events",
                      "--indirect-selection", "cautious")
    return settings


def query(settings, sql: str, params=()) -> list[tuple]:
    with duckdb.connect(str(settings.duckdb_path), read_only=True) as con:
        return con.execute(sql, list(params)).fetchall()


def state(settings, side: str, line: str, day: date) -> dict:
    rows = query(settings, "SELECT mfn_rate_pct, additional_rate_pct, total_rate_pct FROM "
                           "intermediate.int_tariff_line_states WHERE imposing_side = ? AND tariff_line = ? "
                           "AND valid_from <= ? "
                           "AND coalesce(valid_until, DATE '9999-12-31') >= ?", [side, line, day, day])
    assert len(rows) == 1, (side, line, day, rows)
    return dict(zip(("mfn", "additional", "total"), rows[0], strict=True))


# --- the cases of the issue, as the law gives them ----------------------------------------------------------------

@pytest.mark.parametrize(("line", "day", "additional"), [
    ("8517130000", date(2025, 4, 20), 20),   # smartphones: List 4B never applied; fentanyl 20%; no reciprocal
    ("8517130000", date(2025, 5, 20), 20),
    ("9503000073", date(2025, 4, 20), 145),  # toys: 4B never applied; fentanyl 20% + reciprocal 125%
    ("9503000073", date(2025, 5, 20), 30),   # after Geneva: 20% + 10%
    ("8542310001", date(2024, 12, 15), 25),  # processors: List 2
    ("8542310001", date(2025, 1, 15), 50),   # the 2024 review's 50% replaces List 2's 25%
    ("8542310001", date(2025, 5, 20), 70),   # + fentanyl 20%, electronics excluded from the reciprocal tariff
    ("7208106000", date(2018, 3, 22), 0),    # steel: before Section 232
    ("7208106000", date(2018, 3, 23), 25),   # Section 232 steel 25%
    ("7208106000", date(2025, 4, 20), 70),   # 232 25% + List 3 25% + fentanyl 20%, no reciprocal on 232 goods
    ("7208106000", date(2025, 6, 10), 95),   # 232 at 50%
    ("8703230190", date(2025, 4, 2), 45),    # cars: List 1 25% + fentanyl 20%, reciprocal not yet
    ("8703230190", date(2025, 4, 20), 70),   # + 232 autos 25% (from 3 April), no reciprocal on 232 goods
    ("9403200050", date(2019, 5, 9), 10),    # a List 3 line the day before the increase
    ("9403200050", date(2019, 5, 10), 25),   # and on 10 May 2019
])
def test_us_lines_on_the_legal_dates(warehouse, line, day, additional):
    assert state(warehouse, "US", line, day)["additional"] == pytest.approx(additional)


@pytest.mark.parametrize(("line", "day", "additional"), [
    ("1201901000", date(2018, 7, 5), 0),     # soybeans before the US$34bn list
    ("1201901000", date(2018, 7, 6), 25),    # US$34bn list
    ("1201901000", date(2019, 9, 1), 30),    # + 5% from 1 September 2019 (approximation by heading)
    ("1201901000", date(2020, 2, 14), 27.5),  # halved
    ("1201901000", date(2025, 3, 10), 37.5),  # + 10% (4 March 2025 list, 2025 code mapped by HS6)
    ("8703236210", date(2018, 7, 6), 25),    # cars: US$34bn list
    ("8703236210", date(2019, 1, 1), 0),     # auto suspension
    ("8703236210", date(2019, 6, 1), 0),     # still suspended
])
def test_china_lines_through_2018_2019_and_2025(warehouse, line, day, additional):
    assert state(warehouse, "CN", line, day)["additional"] == pytest.approx(additional)


def test_china_mfn_cut_on_cars(warehouse):
    assert state(warehouse, "CN", "8703236210", date(2018, 6, 30))["mfn"] == 25
    assert state(warehouse, "CN", "8703236210", date(2018, 7, 1))["mfn"] == 15


# --- an independent recomputation from the seeds -------------------------------------------------------------------


def seed(name: str) -> list[dict[str, str]]:
    path = next(SEEDS.rglob(f"{name}.csv"))
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


@dataclass(frozen=True)
class Row:
    authority: str
    measure: str
    effect: str
    exempts: frozenset[str]
    rate: float | None
    start: date
    end: date
    share: float  # of the line's value the rate applies to


METAL_CHAPTERS = {"steel": ("72", "73"), "aluminium": ("76",), "copper": ("74",)}


def metal_content_share() -> float:
    import yaml

    project = yaml.safe_load((shipped_dir("dbt_project") / "dbt_project.yml").read_text())
    return float(project["vars"]["tariff_232_metal_content_share"])


class Recompute:
    """The law as tariff_stacking_rules states it, applied in plain Python to the seeded lists."""

    def __init__(self) -> None:
        self.rules = {(r["side"], r["instrument"]): r for r in seed("tariff_stacking_rules")}
        self.codes: dict[tuple[str, str], list[tuple[str, str]]] = defaultdict(list)  # (side, code) -> (list, rate)
        nomenclature: dict[tuple[str, str], str] = {}
        for r in seed("tariff_line_lists") + seed("tariff_curated_lines"):
            self.codes[(r["side"], r["code"])].append((r["list_id"], r["line_rate_pct"]))
            nomenclature[(r["list_id"], r["code"])] = r["nomenclature"]
        self.measures = [m for m in seed("tariff_measures")
                         if m["is_alternative"] == "false" and m["applied"] == "true" and m["line_list"]]
        self.us_mfn = {r["hts8"]: float(r["mfn_ad_valorem_pct"]) for r in seed("us_mfn_rates")}
        self.cn_mfn: dict[str, list[tuple[date, float | None]]] = defaultdict(list)
        for r in seed("cn_mfn_rates"):
            self.cn_mfn[r["hs10"]].append((date.fromisoformat(r["valid_from"]),
                                           float(r["mfn_pct"]) if r["mfn_pct"] else None))
        # the lines a code of China's 2025 lists is looked for in: the 2018 rate table and the 2017 weights
        # without a line there; a code none of them starts with covers the lines of its HS6 subheading
        weights_hs8 = {r["hs8"] for r in seed("cn_imports_from_us_hs8_2017")}
        rate_hs8 = {line[:8] for line in self.cn_mfn}
        self.cn_base_lines = set(self.cn_mfn) | (weights_hs8 - rate_hs8)
        base_prefixes = {line[:n] for line in self.cn_base_lines for n in range(2, len(line) + 1)}
        self.renumbered: dict[str, list[tuple[str, str]]] = defaultdict(list)  # HS6 -> (list, rate)
        for (list_id, code), nom in nomenclature.items():
            if nom == "CN 2025 HS8" and code not in base_prefixes:
                rate = next(r for lid, r in self.codes[("CN", code)] if lid == list_id)
                self.renumbered[code[:6]].append((list_id, rate))
        self._rows: dict[tuple[str, str], list[Row]] = {}
        self.content_share = metal_content_share()

    def covering(self, side: str, line: str) -> dict[str, str]:
        """list_id -> the rate its most specific code covering the line gives ('' for the measure's rate)."""
        found: dict[str, tuple[int, str]] = {}
        for n in range(2, len(line) + 1):
            for list_id, rate in self.codes.get((side, line[:n]), []):
                found[list_id] = (n, rate)
        if side == "CN" and line in self.cn_base_lines:
            for list_id, rate in self.renumbered.get(line[:6], []):
                if list_id not in found or found[list_id][0] < 6:
                    found[list_id] = (6, rate)
        return {list_id: rate for list_id, (_, rate) in found.items()}

    def rows(self, side: str, line: str) -> list[Row]:
        if (side, line) in self._rows:
            return self._rows[(side, line)]
        covering = self.covering(side, line)
        out = []
        for m in (m for m in self.measures if m["side"] == side and m["line_list"] != "MFN"):
            if m["line_list"] != "ALL" and m["line_list"] not in covering:
                continue
            line_rate = covering.get(m["line_list"], "")
            metal = m["content_basis"]
            share = self.content_share if metal and not line.startswith(METAL_CHAPTERS[metal]) else 1.0
            out.append(Row(m["instrument"], m["measure_id"], m["effect"],
                           frozenset(m["exempts"].split(";")) if m["exempts"] else frozenset(),
                           float(line_rate or m["rate_after"]) if (line_rate or m["rate_after"]) else None,
                           date.fromisoformat(m["date_effective"]),
                           date.fromisoformat(m["date_end"]) if m["date_end"] else OPEN, share))
        self._rows[(side, line)] = out
        return out

    def mfn(self, side: str, line: str, day: date) -> float | None:
        if side == "US":
            return self.us_mfn.get(line[:8])
        rates = [rate for start, rate in sorted(self.cn_mfn.get(line, [])) if start <= day]
        return rates[-1] if rates else None

    def additional(self, side: str, line: str, day: date) -> float:
        active = [r for r in self.rows(side, line) if r.start <= day <= r.end]
        lifted = set().union(*[r.exempts for r in active if r.effect == "exemption"])
        by_authority: dict[str, list[Row]] = defaultdict(list)
        for r in active:
            if r.effect == "duty" and r.authority not in lifted and r.measure not in lifted:
                by_authority[r.authority].append(r)
        combined, covered = {}, {}
        for authority, rows in by_authority.items():
            rates = [(r.rate or 0.0) * r.share for r in rows]
            combined[authority] = sum(rates) if self.rules[(side, authority)]["combine"] == "sum" else max(rates)
            covered[authority] = max((r.share for r in rows if (r.rate or 0) > 0), default=0.0)
        total = 0.0
        for authority, rate in combined.items():
            if authority == "mfn":
                continue
            not_with = self.rules[(side, authority)]["not_with"]
            total += rate * (1 - (covered.get(not_with, 0.0) if not_with else 0.0))
        return total


@pytest.fixture(scope="module")
def recompute() -> Recompute:
    return Recompute()


DAYS = [date(2018, 3, 23), date(2018, 7, 6), date(2018, 9, 24), date(2019, 1, 1), date(2019, 5, 10),
        date(2019, 6, 1), date(2019, 9, 1), date(2020, 2, 14), date(2024, 9, 27), date(2025, 1, 1),
        date(2025, 2, 10), date(2025, 3, 10), date(2025, 4, 5), date(2025, 4, 9), date(2025, 4, 10),
        date(2025, 4, 12), date(2025, 5, 3), date(2025, 5, 14), date(2025, 6, 4), date(2025, 8, 18),
        date(2025, 11, 10), date(2025, 11, 13), date(2026, 1, 1), date(2026, 2, 24), date(2026, 4, 6)]


@pytest.mark.parametrize("side", ["US", "CN"])
def test_stacked_rates_recomputed_in_python_for_sampled_lines(warehouse, recompute, side):
    lines = [line for (line,) in query(warehouse, "SELECT tariff_line FROM intermediate.int_tariff_lines WHERE "
                                                  "imposing_side = ? ORDER BY tariff_line", [side])]
    sample = random.Random(15).sample(lines, 60) + (
        ["8517130000", "9503000073", "8542310001", "7208106000", "8703230190", "8471300100"]
        if side == "US" else ["1201901000", "8703236210", "2709000000", "8802402000"])
    states = defaultdict(list)
    placeholders = ",".join("?" * len(sample))
    for line, start, until, mfn, additional in query(
            warehouse, "SELECT tariff_line, valid_from, valid_until, mfn_rate_pct, additional_rate_pct FROM "
                       "intermediate.int_tariff_line_states WHERE imposing_side = ? "
                       f"AND tariff_line IN ({placeholders})",
            [side, *sample]):
        states[line].append((start, until or OPEN, mfn, additional))
    checked = 0
    for line in sample:
        for day in DAYS:
            got = [s for s in states[line] if s[0] <= day <= s[1]]
            expected = recompute.additional(side, line, day)
            if not got:  # no state: the line carries no measure (no MFN either) on that day
                assert expected == 0 and recompute.mfn(side, line, day) is None, (line, day)
                continue
            assert got[0][3] == pytest.approx(expected), (side, line, day)
            assert got[0][2] == pytest.approx(recompute.mfn(side, line, day)), (side, line, day)
            checked += 1
    assert checked > 500


@pytest.mark.parametrize(("side", "day"), [("US", date(2019, 9, 2)), ("US", date(2025, 4, 20)),
                                           ("CN", date(2019, 6, 15)), ("CN", date(2025, 4, 20))])
def test_whole_trade_average_recomputed_from_line_rates_and_weights(warehouse, recompute, side, day):
    weights = query(warehouse, "SELECT tariff_line, value_usd FROM intermediate.int_tariff_weights WHERE "
                               "imposing_side = ? AND weighting = 'fixed_base_year' AND valid_from <= ? AND "
                               "coalesce(valid_until, DATE '9999-12-31') >= ?", [side, day, day])
    value = rated = 0.0
    for line, weight in weights:
        if recompute.mfn(side, line, day) is None:
            continue
        value += weight
        rated += weight * recompute.additional(side, line, day)
    (published,) = query(warehouse, "SELECT additional_rate_pct FROM marts.tariff_rates_daily WHERE imposing_side = ? "
                                    "AND weighting = 'fixed_base_year' AND hs_level = 'TOTAL' AND change_date <= ? "
                                    "AND coalesce(state_until, DATE '9999-12-31') >= ?", [side, day, day])[0:1]
    assert published[0] == pytest.approx(rated / value, abs=1e-3)


def test_every_list_line_has_a_stacked_state(warehouse):
    missing = query(warehouse, "SELECT s.imposing_side, s.tariff_line FROM marts.tariff_schedule AS s "
                               "WHERE s.tariff_line <> 'ALL' AND s.applied AND NOT EXISTS (SELECT 1 FROM "
                               "intermediate.int_tariff_line_states AS t WHERE t.imposing_side = s.imposing_side "
                               "AND starts_with(t.tariff_line, s.tariff_line)) LIMIT 5")
    assert missing == []


def test_the_published_coverage_checks(warehouse):
    """Lists 1-3 cover about half of 2017 US imports from China (US$250bn of US$504bn); List 4A, not anchored, lands
    near the US$112-120bn announced (on 2018 trade); US$335bn (66.4%) was covered after February 2020 (PIIE);
    China's retaliation covered 58.3% of its 2017 imports from the US (PIIE; China's weights are line data)."""
    def covered(side: str, day: date) -> tuple[float, float]:
        return query(warehouse, "SELECT covered_share_pct, weighted_value_usd / 1e9 FROM marts.tariff_rates_daily "
                                "WHERE imposing_side = ? AND weighting = 'fixed_base_year' AND hs_level = 'TOTAL' "
                                "AND change_date <= ? AND coalesce(state_until, DATE '9999-12-31') >= ?",
                     [side, day, day])[0]
    share_2018, total = covered("US", date(2018, 10, 1))
    assert 45 < share_2018 < 55 and 495 < total < 510
    share_2020, _ = covered("US", date(2020, 3, 1))
    list_4a = (share_2020 - share_2018) / 100 * total
    assert 75 < list_4a < 125
    assert abs(share_2020 - 66.4) < 3
    cn_share, _ = covered("CN", date(2020, 3, 1))
    assert abs(cn_share - 58.3) < 4


def test_daily_series_changes_on_the_legal_dates(warehouse):
    rows = query(warehouse, "SELECT imposing_side, change_date, additional_rate_pct FROM marts.tariff_rates_daily "
                            "WHERE weighting = 'fixed_base_year' AND hs_level = 'TOTAL' ORDER BY 1, 2")
    changes = defaultdict(set)
    previous: dict[str, float] = {}
    for side, day, rate in rows:
        if side in previous and abs(rate - previous[side]) > 1e-6:
            changes[side].add(day)
        previous[side] = rate
    for day in (date(2018, 9, 24), date(2019, 5, 10), date(2019, 9, 1), date(2020, 2, 14), date(2024, 9, 27),
                date(2025, 2, 4), date(2025, 3, 4), date(2025, 4, 5), date(2025, 4, 9), date(2025, 4, 10),
                date(2025, 5, 14)):
        assert day in changes["US"], day
    for day in (date(2018, 4, 2), date(2018, 7, 6), date(2018, 8, 23), date(2018, 9, 24), date(2019, 6, 1),
                date(2019, 9, 1), date(2020, 2, 14), date(2025, 4, 10), date(2025, 4, 12), date(2025, 5, 14)):
        assert day in changes["CN"], day
    january = {d for side in changes for d in changes[side] if (d.month, d.day) == (1, 1)}
    assert january <= {date(2019, 1, 1), date(2025, 1, 1), date(2026, 1, 1)}  # each with a measure
    assert date(2019, 5, 10) - timedelta(days=1) not in changes["US"]
