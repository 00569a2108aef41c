"""Synthetic Census intltrade releases (imports/hs and exports/hs, China and the all-countries total, HS2 and HS6),
and the annual HS10 imports from China (December's year-to-date values).

Deterministic: the same arguments always write the same bytes. Internally consistent: HS6 lines add up exactly to
their chapter, China plus the rest of the world is the `-` total row, duty <= dutiable value <= consumption value,
and each annual HS10 line is the sum of its twelve monthly values.
"""

from __future__ import annotations

import json
import random
import zlib
from dataclasses import dataclass
from datetime import date
from functools import cache

from tradewatch.http import ReleaseArchive
from tradewatch.periods import format_month, month_range
from tradewatch.sources import census as src

CHAPTERS = [f"{c:02d}" for c in range(1, 98) if c != 77]

# Annual anchors, US$ billions (shaped like the published series; values here are synthetic).
CN_IMPORTS = {2017: 505, 2018: 538, 2019: 452, 2020: 435, 2021: 505, 2022: 536, 2023: 427, 2024: 439,
              2025: 440, 2026: 440}
CN_EXPORTS = {2017: 130, 2018: 120, 2019: 106, 2020: 124, 2021: 151, 2022: 154, 2023: 148, 2024: 143,
              2025: 143, 2026: 143}
WORLD_IMPORTS = {2017: 2340, 2018: 2540, 2019: 2497, 2020: 2336, 2021: 2833, 2022: 3242, 2023: 3083,
                 2024: 3267, 2025: 3300, 2026: 3280}
WORLD_EXPORTS = {2017: 1546, 2018: 1665, 2019: 1643, 2020: 1424, 2021: 1754, 2022: 2065, 2023: 2019,
                 2024: 2065, 2025: 2120, 2026: 2150}

SEASON_CN_IMPORTS = [1.02, 0.80, 0.82, 0.93, 0.98, 0.98, 1.04, 1.08, 1.09, 1.12, 1.07, 1.07]
SEASON_CN_EXPORTS = [0.98, 0.88, 0.98, 0.93, 0.94, 0.93, 0.88, 0.94, 1.00, 1.15, 1.22, 1.17]
SEASON_WORLD = [0.97, 0.92, 1.03, 0.98, 1.02, 1.00, 0.99, 1.02, 0.99, 1.04, 1.01, 1.03]

# Trade-war shock multipliers on China flows, by month (the spring-2025 collapse, then a partial recovery).
SHOCK_CN_IMPORTS = {"2025-01": 1.06, "2025-02": 1.02, "2025-03": 0.90, "2025-04": 0.80, "2025-05": 0.64,
                    "2025-06": 0.60, "2025-07": 0.66, "2025-08": 0.68, "2025-09": 0.70, "2025-10": 0.70,
                    "2025-11": 0.72, "2025-12": 0.72}
SHOCK_CN_EXPORTS = {"2025-03": 0.95, "2025-04": 0.85, "2025-05": 0.72, "2025-06": 0.74, "2025-07": 0.74,
                    "2025-08": 0.72, "2025-09": 0.74, "2025-10": 0.75, "2025-11": 0.78, "2025-12": 0.80}
SHOCK_2026_CN_IMPORTS, SHOCK_2026_CN_EXPORTS = 0.74, 0.82

# Effective US tariff rate on imports from China (calculated duty / consumption value), stepping with events.
CN_DUTY_STEPS = [("2017-01", 0.030), ("2018-07", 0.045), ("2018-09", 0.085), ("2019-06", 0.120),
                 ("2019-09", 0.150), ("2020-02", 0.130), ("2024-10", 0.135), ("2025-02", 0.190),
                 ("2025-03", 0.250), ("2025-04", 0.380), ("2025-05", 0.410), ("2025-06", 0.360),
                 ("2025-11", 0.310), ("2026-03", 0.220)]
WORLD_DUTY_STEPS = [("2017-01", 0.014), ("2018-07", 0.016), ("2019-06", 0.018), ("2025-03", 0.040),
                    ("2025-05", 0.080), ("2025-06", 0.095), ("2026-03", 0.075)]

CHAPTER_WEIGHTS = {
    "cn_imports": {"85": 26, "84": 21, "94": 5.5, "95": 5.5, "39": 3.8, "87": 3.2, "61": 2.8, "62": 2.5,
                   "64": 2.5, "73": 2.2, "90": 2.0, "42": 1.6, "29": 1.6, "63": 1.4, "40": 1.0, "83": 0.9,
                   "76": 0.8, "44": 0.7, "48": 0.6, "30": 0.6, "82": 0.6, "96": 0.5, "28": 0.3, "89": 0.1},
    "cn_exports": {"12": 10, "88": 8, "85": 9, "84": 8, "90": 7, "27": 8, "87": 5, "39": 4, "29": 3, "30": 3,
                   "38": 2, "47": 2, "02": 2, "10": 1.5, "44": 1.5, "74": 1, "76": 1, "52": 1, "03": 1},
    "world_imports": {"84": 14, "85": 13, "87": 10, "27": 8, "30": 7, "90": 4, "71": 3, "39": 2.5, "94": 2,
                      "29": 2, "95": 1.5, "61": 1.5, "62": 1.4, "73": 1.3, "40": 1.2, "88": 1.5},
    "world_exports": {"27": 14, "84": 12, "85": 10, "87": 6, "88": 6, "30": 5, "90": 5, "71": 4, "39": 4,
                      "29": 3, "12": 1.6, "38": 2, "10": 1, "02": 1},
}
SMALL_CHAPTER_WEIGHT = 0.12

# Real HS6 codes for the commodity baskets (rare earths, magnets, chips, chip tools, phones, cars, ships,
# appliances, soybeans, aircraft, laptops, toys); other chapters get three synthetic lines.
HS6_LINES = {
    "12": [("120190", "SOYBEANS, OTHER THAN SEED", "KG", 0.45, 90.0)],
    "28": [("280530", "RARE-EARTH METALS, SCANDIUM AND YTTRIUM", "KG", 45.0, 0.06),
           ("284690", "COMPOUNDS OF RARE-EARTH METALS, OTHER", "KG", 12.0, 0.08)],
    "84": [("847130", "PORTABLE DIGITAL COMPUTERS <10KG", "NO", 420.0, 0.24),
           ("841810", "REFRIGERATOR-FREEZERS, SEPARATE DOORS", "NO", 380.0, 0.02),
           ("845011", "HOUSEHOLD WASHING MACHINES, FULLY AUTOMATIC", "NO", 260.0, 0.015),
           ("841510", "AIR CONDITIONING MACHINES, WINDOW OR WALL", "NO", 190.0, 0.02),
           ("842211", "DISHWASHING MACHINES, HOUSEHOLD", "NO", 240.0, 0.008),
           ("848620", "MACHINES FOR SEMICONDUCTOR DEVICES OR ICS", "NO", 900000.0, 0.01)],
    "85": [("851713", "SMARTPHONES", "NO", 310.0, 0.16),
           ("850511", "PERMANENT MAGNETS OF METAL", "KG", 28.0, 0.006),
           ("854231", "PROCESSORS AND CONTROLLERS, ELECTRONIC ICS", "NO", 3.5, 0.03),
           ("854232", "MEMORIES, ELECTRONIC INTEGRATED CIRCUITS", "NO", 2.8, 0.01),
           ("851660", "OVENS, COOKERS, COOKING PLATES, GRILLERS", "NO", 55.0, 0.02)],
    "87": [("870380", "VEHICLES WITH ONLY ELECTRIC MOTOR", "NO", 32000.0, 0.05),
           ("870323", "CARS, SPARK-IGNITION, 1500-3000 CC", "NO", 28000.0, 0.08)],
    "88": [("880240", "AEROPLANES, UNLADEN WEIGHT > 15,000 KG", "NO", 95_000_000.0, 0.7)],
    "89": [("890190", "CARGO VESSELS, OTHER", "NO", 30_000_000.0, 0.5)],
    "95": [("950300", "TOYS, SCALE MODELS, PUZZLES", "KG", 9.0, 0.45)],
}
# Export controls and targeted tariffs, as multipliers on one line's weight within its chapter.
LINE_SHOCKS = {
    ("imports", "850511"): [("2025-04", 0.40), ("2025-07", 0.75)],
    ("imports", "280530"): [("2025-04", 0.35), ("2025-07", 0.70)],
    ("imports", "870380"): [("2024-10", 0.30)],
    ("exports", "848620"): [("2022-11", 0.70), ("2023-11", 0.55), ("2024-12", 0.45)],
    ("exports", "854231"): [("2022-11", 0.75), ("2023-11", 0.60)],
    ("exports", "120190"): [("2025-03", 0.40), ("2025-11", 0.70)],
}


def _shock(flow: str, month: date) -> float:
    """The trade-war multiplier on a China flow in a month (1 before 2025)."""
    if flow == "imports":
        return SHOCK_CN_IMPORTS.get(format_month(month), SHOCK_2026_CN_IMPORTS if month.year >= 2026 else 1.0)
    return SHOCK_CN_EXPORTS.get(format_month(month), SHOCK_2026_CN_EXPORTS if month.year >= 2026 else 1.0)


def _step(steps: list[tuple[str, float]], month: str) -> float:
    value = steps[0][1]
    for start, rate in steps:
        if month >= start:
            value = rate
    return value


def _allocate(total: int, weights: list[float]) -> list[int]:
    """Split a whole number by weights so that the parts add up to it exactly (largest remainder)."""
    weight_sum = sum(weights)
    if total == 0 or weight_sum == 0:
        return [0] * len(weights)
    raw = [total * w / weight_sum for w in weights]
    parts = [int(x) for x in raw]
    order = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in order[: total - sum(parts)]:
        parts[i] += 1
    return parts


@dataclass(frozen=True)
class Scale:
    """How much the archive holds. The default is the embedded sample (about 300 HS6 lines a month); the benchmarks
    also write the realistic size (`lines_per_chapter=52`: about 5,000 HS6 lines a month, as the real Census) and
    the 10x size (plus `extra_partners`: every other Census partner, each trading a share of the lines)."""

    lines_per_chapter: int = 3  # synthetic HS6 lines per chapter, besides the real basket lines
    extra_partners: int = 0  # partners beyond the followed ones (codes 9000.., not in the country seed, so they
    # reach raw and staging but not the marts; their lines do not add up to their chapters)
    extra_partner_density: float = 0.15  # the share of lines each extra partner trades


DEFAULT_SCALE = Scale()


@cache
def _lines(chapter: str, per_chapter: int = 3) -> list[tuple[str, str, str, float, float]]:
    real = HS6_LINES.get(chapter, [])
    rest = max(0.05, 1.0 - sum(line[4] for line in real))
    shares = [("0100", 0.5), ("0200", 0.3), ("9000", 0.2)]
    if per_chapter != 3:  # more lines: distinct codes (never a real basket line), shares falling off like 1/rank
        taken = {line[0] for line in real}
        suffixes = [f"{h:02d}{s:02d}" for h in range(1, 100) for s in (10, 20, 30, 40, 50, 60, 90)
                    if f"{chapter}{h:02d}{s:02d}" not in taken][:per_chapter]
        weights = [1 / (rank + 1) for rank in range(len(suffixes))]
        shares = [(suffix, w / sum(weights)) for suffix, w in zip(suffixes, weights, strict=True)]
    fillers = [(f"{chapter}{suffix}", f"SYNTHETIC LINE {chapter}{suffix}", "KG", 6.0, rest * share)
               for suffix, share in shares]
    return real + fillers


class _Month:
    """All figures of one flow and month: chapter and HS6 values for China and the total row."""

    def __init__(self, flow: str, month: date, rng: random.Random, scale: Scale = DEFAULT_SCALE) -> None:
        self.scale = scale
        key = format_month(month)
        index = month.month - 1
        if flow == "imports":
            cn_year, world_year, season = CN_IMPORTS, WORLD_IMPORTS, SEASON_CN_IMPORTS
        else:
            cn_year, world_year, season = CN_EXPORTS, WORLD_EXPORTS, SEASON_CN_EXPORTS
        self.shock = shock = _shock(flow, month)
        noise = 1 + rng.uniform(-0.03, 0.03)
        cn_total = int(cn_year[month.year] * 1e9 / 12 * season[index] * shock * noise)
        world_total = int(world_year[month.year] * 1e9 / 12 * SEASON_WORLD[index] * (1 + rng.uniform(-0.02, 0.02)))
        rest_total = max(world_total - cn_total, 0)
        self.flow, self.key = flow, key
        self.cn = self._chapters(f"cn_{flow}", cn_total, month, rng)
        self.rest = self._chapters(f"world_{flow}", rest_total, month, rng)

    @staticmethod
    def _chapters(profile: str, total: int, month: date, rng: random.Random) -> dict[str, int]:
        weights = []
        for ch in CHAPTERS:
            w = CHAPTER_WEIGHTS[profile].get(ch, SMALL_CHAPTER_WEIGHT)
            if ch == "12" and profile.endswith("exports"):  # soybean harvest season
                w *= [1.8, 1.2, 0.6, 0.4, 0.3, 0.3, 0.3, 0.5, 1.2, 2.6, 3.0, 2.4][month.month - 1]
            weights.append(w * (1 + rng.uniform(-0.05, 0.05)))
        return dict(zip(CHAPTERS, _allocate(total, weights), strict=True))

    def line_weights(self, chapter: str) -> list[float]:
        """HS6 weights within a chapter, with export controls and targeted tariffs applied by date."""
        return [w * _step([("0000-00", 1.0), *LINE_SHOCKS.get((self.flow, code), [])], self.key)
                for code, _desc, _unit, _price, w in _lines(chapter, self.scale.lines_per_chapter)]


def _duty_fields(gen: int, rate: float) -> tuple[int, int, int]:
    con = int(gen * 0.985)
    dut = int(con * 0.78)
    cal = min(int(con * rate), dut)
    return con, dut, cal


#: Other followed partners: (name, share of the rest of the world's imports, of exports, multiplier on imports
#: from April 2025, when trade from China was diverted through Vietnam and Mexico).
OTHER_PARTNERS = {"5820": ("HONG KONG", 0.002, 0.013, 1.0), "5520": ("VIETNAM", 0.045, 0.006, 1.45),
                  "2010": ("MEXICO", 0.16, 0.16, 1.1)}
FOLLOWED = ("-", src.CHINA, *OTHER_PARTNERS)  # the order of the rows in every response

#: A deliberate rerouting pattern (the rerouting monitor's demo, marts.trade_diversion_monthly): US imports of a few
#: lines move from China to a third country after a tariff step, by the share of China's line given from each
#: month on, and China's exports of the line to that country rise (sample/comtrade.py). What China's line loses
#: goes to the chapter's synthetic lines, so China's chapters (and every total, pinned headline and basket but the
#: line's own) are unchanged. The partner gains what moved before the spring-2025 shock hit China's line (the
#: production that left is not under China's tariffs): the rest of the world's synthetic lines give it up, so the
#: world's chapters are unchanged too, and before 2025 the world's lines as well.
REROUTED = {  # (HS6 line, Census partner): [(from month, share of China's line moved)]
    ("845011", "5520"): [("2018-09", 0.35), ("2019-01", 0.55), ("2019-06", 0.65)],  # washing machines to Vietnam
    ("841810", "2010"): [("2018-09", 0.30), ("2019-01", 0.50), ("2019-06", 0.60)],  # refrigerator-freezers to Mexico
    ("851713", "5520"): [("2025-04", 0.40), ("2025-06", 0.55)],  # smartphones to Vietnam
    ("847130", "2010"): [("2025-04", 0.35), ("2025-06", 0.50)],  # laptops to Mexico
}


def rerouted(figures: _Month, chapter: str) -> list[tuple[str, str, int, int]]:
    """(line, partner, US$ China's line lost, US$ the partner gained) for the rerouted lines of `chapter` in a month:
    the partner gains the lost share of what China's line would be without the spring-2025 shock."""
    if figures.flow != "imports":
        return []
    codes = [line[0] for line in _lines(chapter, figures.scale.lines_per_chapter)]
    china = None
    out = []
    for (code, partner), steps in REROUTED.items():
        share = _step([("0000-00", 0.0), *steps], figures.key)
        if code in codes and share:
            china = china or _allocate(figures.cn[chapter], figures.line_weights(chapter))
            lost = int(china[codes.index(code)] * share)
            out.append((code, partner, lost, int(lost / figures.shock)))
    return out


def _move(values: list[int], line: int, fillers: list[int], shares: list[float], amount: int) -> None:
    """Move `amount` (negative: the other way) from the synthetic lines `fillers` to `line`, split by `shares`."""
    for index, part in zip(fillers, _allocate(abs(amount), shares), strict=True):
        values[index] -= part if amount > 0 else -part
    values[line] += amount


def _extra(scale: Scale, code: str, rest: int) -> dict[str, int]:
    """The extra partners' values of one line (or chapter): each trades a fixed share of the lines, 30% of the rest
    of the world's value split among them."""
    if not scale.extra_partners:
        return {}
    each = int(rest * 0.3 / scale.extra_partners)
    return {c: each for c in _extra_codes(scale.extra_partners)
            if zlib.crc32(f"{c}{code}".encode()) % 1000 < scale.extra_partner_density * 1000}


def _extra_codes(count: int) -> list[str]:
    """Four-digit codes for the extra partners, from 9000 up: never a real Census country code (those end at 8220),
    so never a followed partner's or one in the country seed."""
    return [str(9000 + i) for i in range(count)]


def _cells(figures: _Month, chapter: str, level: str, month: date) -> list[tuple[str, str, str, float, dict]]:
    """(code, description, unit, unit price, values by Census country code) of one chapter at one HS level."""
    cn, rest = figures.cn[chapter], figures.rest[chapter]
    partners = {}
    for code, (_, import_share, export_share, diversion) in OTHER_PARTNERS.items():
        share = import_share * (diversion if month >= date(2025, 4, 1) else 1.0) if figures.flow == "imports" \
            else export_share
        partners[code] = int(rest * share)
    moves = rerouted(figures, chapter)
    if level == "HS2":
        gained = {code: partners[code] + sum(x for _, p, _, x in moves if p == code) for code in partners}
        return [(chapter, f"CHAPTER {chapter} (SYNTHETIC)", "X", 0.0,
                 {src.CHINA: cn, "-": cn + rest, **gained, **_extra(figures.scale, chapter, rest)})]
    lines = _lines(chapter, figures.scale.lines_per_chapter)
    line_shares = [line[4] for line in lines]
    split = {src.CHINA: _allocate(cn, figures.line_weights(chapter)), "rest": _allocate(rest, line_shares),
             **{code: _allocate(value, line_shares) for code, value in partners.items()}}
    codes = [line[0] for line in lines]
    real = {line[0] for line in HS6_LINES.get(chapter, [])}
    fillers = [i for i, line in enumerate(lines) if line[0] not in real]
    for code, partner, lost, gained in moves:  # China's line to its synthetic lines; the rest's to the line
        line = codes.index(code)
        _move(split[src.CHINA], line, fillers, [line_shares[i] for i in fillers], -lost)
        _move(split["rest"], line, fillers, [line_shares[i] for i in fillers], gained)
        split[partner][line] += gained
    cells = []
    for i, (code, desc, unit, price, _) in enumerate(lines):
        values = {country: parts[i] for country, parts in split.items() if country != "rest"}
        values["-"] = split[src.CHINA][i] + split["rest"][i]
        values.update(_extra(figures.scale, code, split["rest"][i]))
        cells.append((code, desc, unit, price, values))
    if level == "HS10":  # each HS6 line has two statistical suffixes, 60% and 40% of it
        statistical = []
        for code, desc, unit, price, values in cells:
            first = {country: value * 6 // 10 for country, value in values.items()}
            statistical.append((code + "0010", desc + ", STATISTICAL 10", unit, price, first))
            statistical.append((code + "0090", desc + ", STATISTICAL 90", unit, price,
                                {country: value - first[country] for country, value in values.items()}))
        return statistical
    if level == "HS4":  # headings add up their lines; quantities of mixed units are not summed
        headings: dict[str, dict] = {}
        for code, _, _, _, values in cells:
            heading = headings.setdefault(code[:4], {})
            for country, value in values.items():
                heading[country] = heading.get(country, 0) + value
        return [(code, f"HEADING {code} (SYNTHETIC)", "X", 0.0, values) for code, values in headings.items()]
    return cells


def _chapter_factor(chapter: str) -> float:
    """Duty varies by chapter: the partner's rate times this."""
    return 0.6 + (int(chapter) % 9) / 10


def _numbers(imports: bool, value: int, rate: float, price: float) -> list[int]:
    """The whole-number cells of one row: value (and for imports consumption value, dutiable value, duty), quantity."""
    qty = int(value / price) if price else 0
    if imports:
        con, dut, cal = _duty_fields(value, rate)
        return [value, con, dut, cal, qty]
    return [value, qty]


def _rows(ds: src.CensusDataset, figures: _Month, level: str, month: date,
          only_chapters: tuple[str, ...] = ()) -> list[list[str]]:
    period = format_month(month)
    cn_rate = _step(CN_DUTY_STEPS, period)
    world_rate = _step(WORLD_DUTY_STEPS, period)
    names = {src.CHINA: "CHINA", "-": "TOTAL FOR ALL COUNTRIES", **{c: v[0] for c, v in OTHER_PARTNERS.items()}}
    rows: list[list[str]] = []
    for chapter in CHAPTERS:
        if level == "HS10" and chapter not in only_chapters:
            continue
        chapter_factor = _chapter_factor(chapter)
        for code, desc, unit, price, values in _cells(figures, chapter, level, month):
            cn = values[src.CHINA]
            for country in (*FOLLOWED, *(c for c in values if c not in FOLLOWED)):
                value = values[country]
                if country == "-":
                    rate = (cn * cn_rate + (value - cn) * world_rate) / max(value, 1) * chapter_factor
                else:
                    rate = (cn_rate if country == src.CHINA else world_rate) * chapter_factor
                cells = _numbers(ds is src.IMPORTS, value, rate, price)
                name = names.get(country, f"SYNTHETIC PARTNER {country}")
                rows.append([country, name, code, desc, *map(str, cells), unit if price else "X", "DET", level,
                             *([f"{chapter}*"] if level == "HS10" else []), period])
    return rows


def _figures(ds: src.CensusDataset, month: date, scale: Scale) -> _Month:
    """One generator per dataset and month: a month's figures do not depend on the range asked for."""
    flow = "imports" if ds is src.IMPORTS else "exports"
    return _Month(flow, month, random.Random(f"tradewatch-sample-{ds.name}-{format_month(month)}"), scale)


def _annual_rows(year: int, scale: Scale) -> list[list[str]]:
    """China's rows of the annual HS10 release for `year`: every chapter's HS6 lines split into statistical suffixes
    as the monthly HS10 parts split them, each line's value the sum of its twelve monthly values (year to date
    through December), so a chapter's year is the sum of its twelve monthly China values."""
    china_only = Scale(lines_per_chapter=scale.lines_per_chapter)  # extra partners do not change China's figures
    years: dict[str, tuple[str, str, list[int]]] = {}
    for month in month_range(date(year, 1, 1), date(year, 12, 1)):
        figures = _figures(src.IMPORTS, month, china_only)
        rate = _step(CN_DUTY_STEPS, format_month(month))
        for chapter in CHAPTERS:
            for code, desc, unit, price, values in _cells(figures, chapter, "HS10", month):
                numbers = _numbers(True, values[src.CHINA], rate * _chapter_factor(chapter), price)
                _, _, sums = years.setdefault(code, (desc, unit if price else "X", [0] * len(numbers)))
                sums[:] = [a + b for a, b in zip(sums, numbers, strict=True)]
    return [[src.CHINA, "CHINA", code, desc, *map(str, sums), unit, "DET", "HS10", f"{year}-12"]
            for code, (desc, unit, sums) in years.items()]


def render(ds: src.CensusDataset, rows: list[list[str]], extra_predicates: tuple[str, ...] = ()) -> bytes:
    """Serialize like the API: header in get= order, predicates not in get= appended, every cell a string.

    A predicate that repeats a variable of get= (I_COMMODITY for a chapter loop) comes back as a second column of
    the same name: the parser keeps the first.
    """
    header = [*ds.get_vars, "COMM_LVL", *extra_predicates, "time"]
    return ("[" + ",\n".join(json.dumps(r, separators=(",", ":")) for r in [header, *rows]) + "]").encode()


def write(archive: ReleaseArchive, start: date, end: date, *, base_url: str | None = None,
          scale: Scale = DEFAULT_SCALE) -> int:
    """Every monthly release from `start` to `end`, and the annual HS10 release of every year whose December is in
    that range (one request each, as the refresh asks); returns the number of files written."""
    base = (base_url or src.BASE_URL).rstrip("/")
    written = 0
    for ds in (src.IMPORTS, src.EXPORTS):
        for month in month_range(start, end):
            figures = _figures(ds, month, scale)
            for part, request in src.release_requests(base, ds, month):
                level, _, chapter = part.partition("_")
                body = render(ds, _rows(ds, figures, level, month, (chapter,) if chapter else ()),
                              extra_predicates=(ds.commodity_var,) if chapter else ())
                archive.put(request, f"census/{ds.endpoint.replace('/', '_')}/{format_month(month)}_{part}.json",
                            body, synthetic=True)
                written += 1
    annual = src.IMPORTS_HS10_ANNUAL
    for december in (date(year, 12, 1) for year in range(start.year, end.year + 1)):
        if start <= december <= end:
            [(part, request)] = src.release_requests(base, annual, december)
            archive.put(request, f"census/{annual.name.removeprefix('census_')}/{format_month(december)}_{part}.json",
                        render(annual, _annual_rows(december.year, scale)), synthetic=True)
            written += 1
    return written
