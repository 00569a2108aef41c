"""A synthetic HTS revision (SYNTHETIC rates and footnotes, in the exact exportList record shape).

A few real headings per basket chapter, their eight-digit lines with a general rate, ten-digit statistical lines
with empty rates (they inherit), label rows, footnotes that point to Chapter 99, and the 9903 headings of the
additional duties on products of China.
"""

from __future__ import annotations

import json
from datetime import date

from tradewatch.http import ReleaseArchive, Request
from tradewatch.sources import usitc as src

REVISION = "2026HTSRev20"  # the name as the USITC writes it; the replay marks the answer synthetic

# part -> [(htsno, indent, description, general, footnote refs)]
LINES: dict[str, list[tuple[str, int, str, str, list[str]]]] = {
    "ch12": [("1201", 0, "Soybeans, whether or not broken:", "", []),
             ("1201.90.00", 1, "Other", "Free", []), ("1201.90.00.10", 2, "Yellow soybeans", "", [])],
    "ch28": [("2805", 0, "Alkali or alkaline-earth metals; rare-earth metals:", "", []),
             ("2805.30.00", 1, "Rare-earth metals, scandium and yttrium", "5%", ["9903.88.03"]),
             ("2846", 0, "Compounds of rare-earth metals:", "", []),
             ("2846.90", 1, "Other:", "", []), ("2846.90.80", 2, "Other", "3.7%", ["9903.88.03"])],
    "ch84": [("8418", 0, "Refrigerators, freezers:", "", []),
             ("8418.10.00", 1, "Combined refrigerator-freezers", "Free", ["9903.88.03"]),
             ("8418.10.00.10", 2, "Household type", "", []),
             ("8471", 0, "Automatic data processing machines:", "", []),
             ("8471.30.01", 1, "Portable, weighing not more than 10 kg", "Free", []),
             ("8486", 0, "Machines for the manufacture of semiconductor devices:", "", []),
             ("8486.20.00", 1, "For the manufacture of semiconductor devices or ICs", "Free",
              ["9903.88.02", "9903.91.05"])],
    "ch85": [("8505", 0, "Electromagnets; permanent magnets:", "", []),
             ("", 1, "Permanent magnets and articles intended to become permanent magnets:", "", []),
             ("8505.11.00", 2, "Of metal", "2.1%", ["9903.88.03", "9903.91.07"]),
             ("8505.11.00.70", 3, "Other", "", []),
             ("8517", 0, "Telephone sets, including smartphones:", "", []),
             ("8517.13.00", 1, "Smartphones", "Free", []),
             ("8542", 0, "Electronic integrated circuits:", "", []),
             ("8542.31.00", 1, "Processors and controllers", "Free", ["9903.88.02", "9903.91.01"])],
    "ch87": [("8703", 0, "Motor cars and other motor vehicles for the transport of persons:", "", []),
             ("8703.80.00", 1, "Other vehicles, with only electric motor for propulsion", "2.5%",
              ["9903.88.01", "9903.91.20"])],
    "ch88": [("8802", 0, "Other aircraft:", "", []),
             ("8802.40.00", 1, "Aeroplanes, of an unladen weight exceeding 15,000 kg", "Free", [])],
    "ch89": [("8901", 0, "Cruise ships, cargo ships:", "", []),
             ("8901.90.00", 1, "Other vessels for the transport of goods", "Free", [])],
    "ch99_9903": [
        ("9903.88.01", 1, "Articles the product of China, as provided for in U.S. note 20(a) (List 1)",
         "The duty provided in the applicable subheading + 25%", []),
        ("9903.88.02", 1, "Articles the product of China, as provided for in U.S. note 20(c) (List 2)",
         "The duty provided in the applicable subheading + 25%", []),
        ("9903.88.03", 1, "Articles the product of China, as provided for in U.S. note 20(e) (List 3)",
         "The duty provided in the applicable subheading + 25%", []),
        ("9903.88.15", 1, "Articles the product of China, as provided for in U.S. note 20(r) (List 4A)",
         "The duty provided in the applicable subheading + 7.5%", []),
        ("9903.91.01", 1, "Semiconductors of China (four-year review)",
         "The duty provided in the applicable subheading + 50%", []),
        ("9903.91.05", 1, "Semiconductor manufacturing equipment of China (four-year review)",
         "The duty provided in the applicable subheading + 50%", []),
        ("9903.91.07", 1, "Permanent magnets of China (four-year review, from 2026-01-01)",
         "The duty provided in the applicable subheading + 25%", []),
        ("9903.91.20", 1, "Electric vehicles of China (four-year review)",
         "The duty provided in the applicable subheading + 100%", []),
    ],
}


def _record(htsno: str, indent: int, description: str, general: str, refs: list[str]) -> dict:
    label = htsno == ""
    return {"htsno": htsno, "indent": str(indent), "description": description, "superior": "true" if label else None,
            "units": [] if label or len(htsno) < 10 else ["kg"], "general": general,
            "special": "Free (A,AU,BH,CL,CO,D,E,IL,JO,KR,MA,OM,P,PA,PE,S,SG)" if general and "%" in general else "",
            "other": "", "footnotes": None if label else [
                {"columns": ["general"], "value": f"See {ref}. ", "type": "endnote"} for ref in refs],
            "quotaQuantity": "", "additionalDuties": "", "addiitionalDuties": None}


def render(part: str) -> bytes:
    return json.dumps([_record(*line) for line in LINES[part]], indent=1).encode()


def write(archive: ReleaseArchive, start: date, end: date, *, base_url: str | None = None) -> int:
    """The revision in force (the API has no history: one answer serves every month)."""
    base = (base_url or src.BASE_URL).rstrip("/")
    written = 0
    for part, request in src.release_requests(base, src.HTS_LINES, end):
        body = REVISION.encode() if part == "current_release" else render(part)
        archive.put(Request(request.url, request.params), f"usitc/{part}.json", body,
                    content_type="application/json", synthetic=True)
        written += 1
    return written
