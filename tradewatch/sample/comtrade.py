"""Synthetic UN Comtrade v1 answers for China's monthly trade (SYNTHETIC values in the exact record shape).

Totals are the GACC sample's calendar-month figures (in dollars), so the two China-reported sources agree; HS2
chapters split them with the chapter profiles of the Census sample; the basket HS6 lines are shares of their
chapter, in HS 2022 in every month (the sample does not model HS vintages); and China's exports of a line rerouted
to Vietnam or Mexico (sample/census.py REROUTED) rise by most of what the US now imports of it from there.
Exports are FOB, imports CIF, as Comtrade reports them.
"""

from __future__ import annotations

import json
from datetime import date

from tradewatch.http import ReleaseArchive
from tradewatch.periods import format_month, month_range
from tradewatch.sample import census
from tradewatch.sample.census import CHAPTER_WEIGHTS, CHAPTERS, SMALL_CHAPTER_WEIGHT, _allocate
from tradewatch.sample.gacc import _month_figures
from tradewatch.sources import comtrade as src

REGION_OF = {842: "United States (US)", 0: "Total", 704: "Vietnam", 484: "Mexico", 344: "Hong Kong, China"}
# China's exports to the US look like US imports from China, and the other way round; other partners like the world.
PROFILE = {(842, "X"): "cn_imports", (842, "M"): "cn_exports"}
#: Each basket line's share of its chapter (every partner and flow): plausible sizes, not real ones.
BASKET_SHARE = {"280530": 0.05, "284690": 0.08, "850511": 0.01, "854231": 0.03, "854232": 0.01, "848620": 0.01,
                "851713": 0.15, "870380": 0.04, "890190": 0.30, "841810": 0.02, "845011": 0.01, "120190": 0.6,
                "880240": 0.5, "847130": 0.25, "842211": 0.005, "950300": 0.40,
                "854110": 0.002, "854121": 0.001, "854129": 0.003, "854130": 0.0005, "854160": 0.0005, "854190": 0.001,
                "854141": 0.003, "854149": 0.001, "854151": 0.001, "854159": 0.002, "854142": 0.001, "854143": 0.006}
#: The sample does not model HS vintages: it is in HS 2022 in every month (as the Census sample, which carries
#: smartphones as 851713 from 2017), so the client's HS 2017 lines answer nothing, as at Comtrade for months since
#: 2022.
HS2017_ONLY = ("851712", "854140", "854150")
#: China's exports of a rerouted line to the partner grow by this part of what the partner gained in US imports
#: (parts and kits assembled there, or the goods themselves; FOB against the US's customs value, so not all of it).
REROUTED_EXPORT_SHARE = 0.7
COMTRADE_PARTNER = {"5520": 704, "2010": 484}  # Census partner code -> Comtrade's


def _rerouted_exports(month: date) -> dict[tuple[str, int], int]:
    """(HS6 line, Comtrade partner) -> the rise of China's exports of the line to that partner in `month`."""
    figures = census._figures(census.src.IMPORTS, month, census.DEFAULT_SCALE)
    return {(code, COMTRADE_PARTNER[partner]): int(gained * REROUTED_EXPORT_SHARE)
            for chapter in sorted({code[:2] for code, _ in census.REROUTED})
            for code, partner, _, gained in census.rerouted(figures, chapter)}


def _record(month: date, partner: int, flow: str, cmd: str, value: int) -> dict:
    return {"typeCode": "C", "freqCode": "M", "refPeriodId": int(f"{month:%Y%m}01"), "refYear": month.year,
            "refMonth": month.month, "period": f"{month:%Y%m}", "reporterCode": src.CHINA, "reporterISO": "CHN",
            "flowCode": flow, "partnerCode": partner, "partnerISO": src.PARTNERS[partner], "partner2Code": 0,
            "classificationCode": "H6", "classificationSearchCode": "HS", "isOriginalClassification": True,
            "cmdCode": cmd, "aggrLevel": 0 if cmd == "TOTAL" else len(cmd), "isLeaf": len(cmd) == 6,
            "customsCode": "C00", "mosCode": "0", "motCode": 0, "qtyUnitCode": -1, "qtyUnitAbbr": "N/A",
            "qty": None, "netWgt": None, "cifvalue": float(value) if flow == "M" else None,
            "fobvalue": float(value) if flow == "X" else None, "primaryValue": float(value),
            "legacyEstimationFlag": 0, "isReported": True, "isAggregate": False}


def _chapters(month: date, partner: int, flow: str, total: int) -> dict[str, int]:
    profile = PROFILE.get((partner, flow), "world_imports" if flow == "X" else "world_exports")
    weights = [CHAPTER_WEIGHTS[profile].get(ch, SMALL_CHAPTER_WEIGHT) for ch in CHAPTERS]
    return dict(zip(CHAPTERS, _allocate(total, weights), strict=True))


def render(month: date, part: str, partners: tuple[int, ...], commodities: str) -> bytes:
    figures = _month_figures(month)
    rerouted = _rerouted_exports(month) if part == "baskets" else {}
    records = []
    for partner in partners:
        exports, imports = figures[REGION_OF[partner]]
        for flow, total in (("X", exports * 1000), ("M", imports * 1000)):
            chapters = _chapters(month, partner, flow, total)
            if part == "baskets":
                records += [_record(month, partner, flow, code, int(chapters[code[:2]] * BASKET_SHARE[code])
                                    + (rerouted.get((code, partner), 0) if flow == "X" else 0))
                            for code in src.BASKET_HS6 if code not in HS2017_ONLY]
                continue
            if "TOTAL" in commodities.split(","):
                records.append(_record(month, partner, flow, "TOTAL", total))
            if "AG2" in commodities.split(","):
                records += [_record(month, partner, flow, ch, value) for ch, value in chapters.items()]
    return json.dumps({"elapsedTime": "0.12 secs", "count": len(records), "data": records, "error": ""},
                      separators=(",", ":")).encode()


def write(archive: ReleaseArchive, start: date, end: date, *, base_url: str | None = None) -> int:
    base = (base_url or src.BASE_URL).rstrip("/")
    parts = {name: (partners, commodities) for name, partners, commodities in src.PARTS}
    written = 0
    for month in month_range(start, end):
        for name, request in src.release_requests(base, src.CN_MONTHLY, month):
            archive.put(request, f"comtrade/{format_month(month)}_{name}.json", render(month, name, *parts[name]),
                        synthetic=True)
            written += 1
    return written
