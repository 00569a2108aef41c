"""Build the tariff reference seeds from the shared reference folder (run by hand when the reference data change).

    .venv/bin/python scripts/make_tariff_seeds.py ../shared/reference

Reads `tariff_lines/` and `trade_weights/` (each file's `.source.txt` gives origin and licence; the seeds' own
SOURCES.md repeats what is used) and writes tidy, long CSVs into `dbt_project/seeds/tariffs/`: only the columns the
models use, codes as digit strings with their leading zeros, one row per list x line. Nothing at run or test time
reads the reference folder: the CSVs are committed. Standard library only.

What it corrects or checks on the way (each is also written down in SOURCES.md):
- CRLF line ends and stray quotes/spaces in the codes;
- China's 4 March 2025 lists dropped the leading zero of chapters 01-09 (7-digit codes): padded back to 8 digits;
- USITC's 1 Jan 2020 China-tariffs table had ~370 codes turned into Excel dates and restored by the compiler: every
  one is checked to exist in another compilation or in the HTS (the script stops if one does not);
- PIIE's China columns are increments (MFN cuts are negative, the 2019 auto suspension is -25/-5, the June 2019
  column raises 10% lines by 15 or 10 points): checked, and turned into levels per measure state;
- Annex II is taken from the legal text (Chapter 99 U.S. note 2(v)(iii)(a), 2026 rev. 6) and reconciled with the
  April and November 2025 compilations (which lines were added when).
"""

from __future__ import annotations

import csv
import re
import sys
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path

OUT = Path(__file__).resolve().parents[1] / "dbt_project" / "seeds" / "tariffs"
AG_CHAPTERS = {f"{c:02d}" for c in range(1, 25)}


def rows(path: Path) -> list[dict[str, str]]:
    """CSV rows with every key and value stripped of spaces, CR and quotes (several files have CRLF ends)."""
    with path.open(newline="", encoding="utf-8-sig") as handle:
        lines = [line for line in handle if not line.startswith("#")]
    # a few files have unquoted commas in a trailing description: those extra fields (key None) are dropped
    return [{k.strip().strip('"'): (v or "").strip().strip('"') for k, v in row.items() if k is not None}
            for row in csv.DictReader(lines)]


def codes(path: Path, column: str = "HTSUS") -> list[str]:
    out = [r[column].replace(".", "") for r in rows(path)]
    bad = [c for c in out if not c.isdigit()]
    if bad:
        raise SystemExit(f"{path.name}: codes that are not digits: {bad[:5]}")
    return out


class Lists:
    """Rows of tariff_line_lists: one per list x code, the compilations that carry it joined by ';'."""

    def __init__(self) -> None:
        self.rows: dict[tuple[str, str], dict[str, str]] = {}

    def add(self, list_id: str, side: str, code_list: Iterable[str], nomenclature: str, source: str,
            rate: str = "") -> None:
        for code in code_list:
            key = (list_id, code)
            if key in self.rows:
                row = self.rows[key]
                if source not in row["sources"].split(";"):
                    row["sources"] += ";" + source
                if rate and row["line_rate_pct"] and row["line_rate_pct"] != rate:
                    raise SystemExit(f"{list_id} {code}: rate {rate} from {source} differs from {row['line_rate_pct']}")
                row["line_rate_pct"] = row["line_rate_pct"] or rate
            else:
                self.rows[key] = {"list_id": list_id, "side": side, "code": code, "nomenclature": nomenclature,
                                  "line_rate_pct": rate, "sources": source}

    def codes(self, list_id: str) -> set[str]:
        return {code for (lid, code) in self.rows if lid == list_id}


def pct(value: float) -> str:
    return f"{value:g}"


# --- United States ------------------------------------------------------------------------------------------------

S301 = {"list1": "US-301-L1", "list2": "US-301-L2", "list3": "US-301-L3", "list4A": "US-301-L4A",
        "list4B": "US-301-L4B"}
S301_USITC = {"9903.88.01": "US-301-L1", "9903.88.02": "US-301-L2", "9903.88.03": "US-301-L3",
              "9903.88.04": "US-301-L3", "9903.88.15": "US-301-L4A", "9903.88.16": "US-301-L4B"}
S301_YALE = {"1": "US-301-L1", "2": "US-301-L2", "3": "US-301-L3", "3_addl": "US-301-L3", "4A": "US-301-L4A",
             "4B": "US-301-L4B"}


def us_section301(ref: Path, lists: Lists, known_hts8: set[str]) -> None:
    folder = ref / "tariff_lines" / "us_section301"
    for row in rows(folder / "ustr_annex_lists_2018-2019_hts8_mitsuoxv.csv"):
        lists.add(S301[row["list"].split("_")[0]], "US", [row["hts8"]], "HTS 2018-19", "ustr_annex")
    usitc = rows(folder / "usitc_china_tariffs_2020-01-01_hts8.csv")
    unknown = [r["hts_code"] for r in usitc if r["hts_code"][:8] not in known_hts8]
    if unknown:  # the Excel-date restoration would show up here
        raise SystemExit(f"USITC 2020 table: codes found nowhere else: {unknown[:10]}")
    for row in usitc:
        lists.add(S301_USITC[row["ch99_heading"]], "US", [row["hts_code"]], "HTS 2020", "usitc_2020")
    review_rates: dict[str, str] = {}
    for row in rows(folder / "yale_s301_product_lists.csv"):
        if row["list"] in S301_YALE:
            lists.add(S301_YALE[row["list"]], "US", [row["hts8"]], "HTS 2025", "yale_current")
    for row in rows(folder / "s301_2024_four_year_review_lines.csv"):
        heading = row["ch99_heading"]
        rate = pct(100 * float(row["additional_rate"]))
        if review_rates.setdefault(heading, rate) != rate:
            raise SystemExit(f"2024 review heading {heading} with two rates")
        nomenclature = "HTS 2026" if len(row["hts_code"]) == 10 else "HTS 2025"
        lists.add(f"US-301-R-{heading}", "US", [row["hts_code"]], nomenclature, "s301_review")


# Section 232 autos (Proclamation 10908): vehicles from 3 April 2025, parts from 3 May 2025
VEHICLE_HEADINGS = ("8703", "8704", "8706")


def us_section232(ref: Path, lists: Lists) -> None:
    folder = ref / "tariff_lines" / "us_2025_measures"
    lists.add("US-232-STEEL-DERIV", "US", codes(folder / "tw_steel-tariffs.csv"), "HTS 2025", "tw_steel")
    lists.add("US-232-ALU-DERIV", "US", codes(folder / "tw_alu-tariffs.csv"), "HTS 2025", "tw_alu")
    for row in rows(folder / "yale_s232_derivative_products.csv"):
        metal = "STEEL" if row["derivative_type"] == "steel" else "ALU"
        if row["effective_date"] == "2025-08-18":
            lists.add(f"US-232-{metal}-DERIV-2025-08", "US", [row["hts_prefix"]], "HTS 2025", "yale_s232_deriv")
        else:
            lists.add(f"US-232-{metal}-DERIV", "US", [row["hts_prefix"]], "HTS 2025", "yale_s232_deriv")
    for code in codes(folder / "tw_auto-tariffs.csv"):
        list_id = "US-232-AUTOS" if code.startswith(VEHICLE_HEADINGS) else "US-232-AUTO-PARTS"
        lists.add(list_id, "US", [code], "HTS 2025", "tw_autos")
    lists.add("US-232-COPPER", "US", codes(folder / "tw_copper-list.csv"), "HTS 2025", "tw_copper")
    lists.add("US-232-COPPER", "US", codes(folder / "yale_s232_copper_products.csv", "hts10"), "HTS 2025",
              "yale_s232_copper")
    annex = {"1a": "US-232-METALS-2026-IA", "1b": "US-232-METALS-2026-IB", "2": "US-232-METALS-2026-II",
             "3": "US-232-METALS-2026-III"}
    for row in rows(folder / "yale_s232_annex_products.csv"):
        lists.add(annex[row["annex"]], "US", [row["hts_prefix"]], "HTS 2026", "yale_s232_annex")
    for name, list_id in (("IA", "IA"), ("IB", "IB"), ("II-removed", "II"), ("III-temporary", "III")):
        lists.add(f"US-232-METALS-2026-{list_id}", "US", codes(folder / f"tw_metals-annex-{name}.csv"),
                  "HTS 2026", "tw_metals_annex")


def annex_ii_legal_text(ref: Path) -> list[str]:
    """The subheadings of U.S. note 2(v)(iii)(a) to chapter 99 (2026 rev. 6): Annex II of EO 14257 as amended."""
    text = (ref / "tariff_lines" / "hts" / "usitc_chapter99_2026_rev6_text.txt").read_text(errors="replace")
    start = text.index("(a) As provided for in heading 9903.01.32")
    end = text.index("(b) As provided in heading 9903.02.78", start)
    found = re.findall(r"\b(\d{4}\.\d{2}\.\d{2}(?:\d{2})?)\b", text[start:end])
    return [c.replace(".", "") for c in found if not c.startswith("9903")]


def us_reciprocal_exemptions(ref: Path, lists: Lists) -> dict[str, int]:
    folder = ref / "tariff_lines" / "us_2025_measures"
    legal = set(annex_ii_legal_text(ref))
    april = {c[:8] if c.endswith("00") else c for c in codes(folder / "tw_annex-II-exemptions.csv")}
    november = set(codes(folder / "tw_annex-II-exemptions-nov14.csv"))
    # EO 14360 (agricultural products, from 13 Nov 2025): lines of chapters 01-24 in the later lists, not in April's
    ag_added = {c for c in (legal | november) - april if c[:2] in AG_CHAPTERS}
    base = (legal | april) - ag_added
    dropped = april - legal - november  # in April's list, gone from the 14 Nov 2025 list and the 2026 text
    lists.add("US-ANNEX-II", "US", sorted(base - dropped), "HTS 2025", "chapter99_note2_v_iii_a")
    lists.add("US-ANNEX-II-DROPPED", "US", sorted(dropped), "HTS 2025", "tw_annex_ii_april")
    lists.add("US-ANNEX-II-AG-2025-11", "US", sorted(ag_added), "HTS 2025", "chapter99_note2_v_iii_a")
    for code in april:
        for list_id in ("US-ANNEX-II", "US-ANNEX-II-DROPPED"):
            if (list_id, code) in lists.rows:
                lists.add(list_id, "US", [code], "HTS 2025", "tw_annex_ii_april")
    for code in november:
        for list_id in ("US-ANNEX-II", "US-ANNEX-II-AG-2025-11"):
            if (list_id, code) in lists.rows:
                lists.add(list_id, "US", [code], "HTS 2025", "tw_annex_ii_nov14")
    lists.add("US-RECIP-ELECTRONICS", "US", codes(folder / "tw_consumer_electronics_EO14257_apr11.csv"),
              "HTS 2025", "tw_electronics_apr11")
    exempt_122 = codes(folder / "yale_s122_exempt_products.csv", "hts8")
    lists.add("US-S122-EXEMPT", "US", exempt_122, "HTS 2026", "yale_s122_exempt")
    lists.add("US-S122-EXEMPT", "US", codes(folder / "tw_section122-product-exemptions.csv", "hts_code"),
              "HTS 2026", "tw_s122_exempt")
    lists.add("US-201-SOLAR", "US", codes(folder / "yale_s201_solar_products.csv", "hts10"), "HTS 2025",
              "yale_s201_solar")
    return {"legal_text": len(legal), "april_compilation": len(april), "november_compilation": len(november),
            "ag_added_2025_11": len(ag_added), "dropped_before_2025_11": len(dropped),
            "in_legal_text_not_in_april": len(legal - april - ag_added)}


def us_mfn(ref: Path) -> list[dict[str, str]]:
    """MFN (column 1 general) by HTS8: the 2025 basic edition's parsed ad valorem rates, and for the HTS8 lines of
    late 2024 that the 2025 edition no longer has, the rate parsed from that edition's text."""
    folder = ref / "tariff_lines" / "hts"
    out = {r["hs8"]: {"hts8": r["hs8"], "mfn_ad_valorem_pct": pct(round(100 * float(r["mfn_rate"] or 0), 4)),
                      "rate_type": r["rate_type"], "edition": "2025 basic"}
           for r in rows(folder / "yale_mfn_rates_2025_hs8.csv")}
    for row in rows(folder / "usitc_hts_late2024_flat_with_footnotes.csv"):
        code = row["htsno"].replace(".", "")
        if len(code) != 8 or code in out or not row["general"]:
            continue
        general = row["general"]
        if general == "Free":
            rate, kind = 0.0, "free"
        elif match := re.fullmatch(r"(\d+(?:\.\d+)?)%", general):
            rate, kind = float(match.group(1)), "ad_valorem"
        else:
            ad_valorem = re.search(r"\+\s*(\d+(?:\.\d+)?)%", general)
            rate, kind = (float(ad_valorem.group(1)), "compound") if ad_valorem else (0.0, "specific")
        out[code] = {"hts8": code, "mfn_ad_valorem_pct": pct(rate), "rate_type": kind, "edition": "late 2024"}
    return sorted(out.values(), key=lambda r: r["hts8"])


# --- China ---------------------------------------------------------------------------------------------------------

PIIE_MFN = ("mfn_2018-01-01", "mfn_pharma_2018-05-01", "mfn_consumer_2018-07-01", "mfn_industrial_2018-11-01",
            "mfn_temp_2019-01-01")


def number(value: str) -> float:
    return round(float(value), 4) if value else 0.0


def china_piie(ref: Path, lists: Lists) -> tuple[list[dict[str, str]], dict[str, int]]:
    """PIIE's China columns (increments, verified) -> MFN states per line and the retaliation lists with levels."""
    piie = rows(ref / "tariff_lines" / "china_retaliation" / "piie_bjz_china_tariff_rates_hs10_2018-2019.csv")
    # verification that the columns are increments: the June 2019 column only touches the US$60bn list and takes a
    # 10% line to 25 or 20 (+15, +10) and a 5% line to 10 or leaves it (+5, 0); the auto suspension removes exactly
    # what a line got in 2018 (-25 on the US$34bn/16bn lists, -5 on the 5% tier of the US$60bn list)
    pairs = Counter((number(r["retal301_60bn_2018-09-24"]), number(r["retal301_60bn_increase_2019-06-01"]))
                    for r in piie)
    if set(pairs) != {(0, 0), (10, 15), (10, 10), (5, 5), (5, 0)}:
        raise SystemExit(f"PIIE June 2019 column is not an increment on the US$60bn list: {pairs}")
    for r in piie:
        suspended = -number(r["suspend_auto_2019-01-01"])
        if suspended and suspended not in (number(r["retal301_34bn_2018-07-06"]),
                                           number(r["retal301_16bn_2018-08-23"]),
                                           number(r["retal301_60bn_2018-09-24"])):
            raise SystemExit(f"PIIE auto suspension of {r['hs10']} does not undo a 2018 rate")
    mfn_rows = []
    specific = 0
    for r in piie:
        line = r["hs10"]
        if r["mfn_2018-01-01"] == "":
            specific += 1  # specific duties (film, some paper): no ad valorem rate in the data
        level = None
        for column in PIIE_MFN:
            new = round((level or 0.0) + number(r[column]), 4) if r["mfn_2018-01-01"] != "" else None
            if column == PIIE_MFN[0] or new != level:
                mfn_rows.append({"hs10": line, "valid_from": column.rsplit("_", 1)[1],
                                 "mfn_pct": "" if new is None else pct(max(new, 0.0))})
            level = new
        for column, list_id in (("retal232_2018-04-02", "CN-RET-232"), ("retal301_34bn_2018-07-06", "CN-RET-34B"),
                                ("retal301_16bn_2018-08-23", "CN-RET-16B"),
                                ("retal301_60bn_2018-09-24", "CN-RET-60B-2018")):
            if number(r[column]):
                lists.add(list_id, "CN", [line], "CN 2018 HS10", "piie_bjz", pct(number(r[column])))
        level_2019 = number(r["retal301_60bn_2018-09-24"]) + number(r["retal301_60bn_increase_2019-06-01"])
        if level_2019:
            lists.add("CN-RET-60B-2019", "CN", [line], "CN 2018 HS10", "piie_bjz", pct(level_2019))
        if number(r["suspend_auto_2019-01-01"]):
            lists.add("CN-AUTO-SUSPENSION-2019", "CN", [line], "CN 2018 HS10", "piie_bjz",
                      pct(-number(r["suspend_auto_2019-01-01"])))
    return mfn_rows, {"piie_lines": len(piie), "specific_duty_lines": specific}


def china_lists(ref: Path, lists: Lists) -> dict[str, object]:
    folder = ref / "tariff_lines" / "china_retaliation"
    for row in rows(folder / "china_mof_2018-04-02_retaliation232_hs8.csv"):
        lists.add("CN-RET-232", "CN", [row["hs8"]], "CN 2018 HS8", "mof_2018_232", row["additional_rate_pct"])
    found = {}
    for rate, name in (("15", "tw_china-15-percent-030425.csv"), ("10", "tw_china-10-percent-030425.csv")):
        with (folder / name).open(newline="") as handle:
            table = list(csv.reader(handle))
        table = [r for r in table if r and r[0].strip().isdigit()]  # no header row in these files
        lines = [r[1].strip().zfill(8) for r in table]  # the leading zero of chapters 01-09 was dropped
        lists.add(f"CN-RET-2025-03-{rate}", "CN", lines, "CN 2025 HS8", name.rsplit(".", 1)[0])
        seqs = {int(r[0]) for r in table}
        found[rate] = {"rows": len(table), "missing_seq": sorted(set(range(1, max(seqs) + 1)) - seqs)}
    return found


# --- weights -------------------------------------------------------------------------------------------------------


def weights(ref: Path) -> dict[str, list[dict[str, str]]]:
    folder = ref / "trade_weights"
    us_hs10 = [{"hs10": r["hs10"], "consumption_imports_usd": r["con_val_2024_usd"],
                "calculated_duty_usd": r["cal_dut_2024_usd"]}
               for r in rows(folder / "census_us_imports_cons_from_china_2024_hs10.csv")]
    us_hs2 = [{"year": r["year"], "hs2": r["hs2"].zfill(2), "months": r["n_months"],
               "consumption_imports_usd": str(round(float(r["con_val_usd"]))),
               "calculated_duty_usd": str(round(float(r["cal_dut_usd"])))}
              for r in rows(folder / "census_us_imports_cons_from_china_hs2_annual_2013_2021h1.csv")]
    cn_hs8 = [{"hs8": r["hs8"], "imports_usd": str(round(1000 * float(r["china_imports_from_us_2017_kusd"] or 0)))}
              for r in rows(folder / "piie_bjz_china_imports_from_us_2017_hs8.csv")]
    return {"us_imports_from_china_hs10_2024": us_hs10, "us_imports_from_china_hs2_annual": us_hs2,
            "cn_imports_from_us_hs8_2017": cn_hs8}


def write(name: str, data: list[dict[str, str]]) -> None:
    path = OUT / f"{name}.csv"
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(data[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(data)
    print(f"  {path.relative_to(OUT.parents[2])}: {len(data)} rows")


def main(argv: list[str]) -> int:
    if len(argv) != 1 or not (Path(argv[0]) / "tariff_lines").is_dir():
        print(__doc__)
        return 2
    ref = Path(argv[0])
    OUT.mkdir(parents=True, exist_ok=True)
    lists = Lists()
    mfn = us_mfn(ref)
    known = {r["hts8"] for r in mfn} | {r["hts8"] for r in rows(
        ref / "tariff_lines" / "us_section301" / "ustr_annex_lists_2018-2019_hts8_mitsuoxv.csv")} | {
        r["hts8"] for r in rows(ref / "tariff_lines" / "us_section301" / "yale_s301_product_lists.csv")}
    us_section301(ref, lists, known)
    us_section232(ref, lists)
    annex = us_reciprocal_exemptions(ref, lists)
    cn_mfn, piie = china_piie(ref, lists)
    cn_2025 = china_lists(ref, lists)
    ordered = sorted(lists.rows.values(), key=lambda r: (r["side"], r["list_id"], r["code"]))
    write("tariff_line_lists", ordered)
    write("us_mfn_rates", mfn)
    write("cn_mfn_rates", cn_mfn)
    for name, data in weights(ref).items():
        write(name, data)
    per_list = defaultdict(int)
    for row in ordered:
        per_list[row["list_id"]] += 1
    print("  lines per list:", dict(per_list))
    print("  Annex II reconciliation:", annex)
    print("  PIIE:", piie)
    print("  China 4 March 2025 lists:", cn_2025)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
