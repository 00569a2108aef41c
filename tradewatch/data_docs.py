"""Great Expectations Data Docs that keep every validation of every dataset and work offline.

The gate validates chunks of releases (tradewatch.quality): each chunk has two GX results, the row-level suite's and
the release-level suite's, and each is rendered by GX's own renderer as one page, kept under
`validations/<suite>/<chunk id>/<run time>/result.html` (the layout of GX's site builder). Around those pages:
- GX's site builder and its index are not used: its index builder deletes every page its context does not know;
- each page is pointed at the CSS, JavaScript, fonts and images it needs under `static/` in the docs folder (copied
  from `tradewatch/data_docs_vendor`, files taken unmodified from npm, see its NOTICE.md) instead of nine CDNs;
  Vega's scripts are dropped from pages that draw no chart;
- `index.html` is ours, written from `audit.validations` (one row per release validated) joined with
  `audit.releases` and `audit.validation_chunks`: every release by dataset, with its verdict and what failed in it,
  failures first, linked to its chunk's two pages and its JSON result. Validations recorded before the chunked gate
  (one GX run per release) keep their own page. One static file, no script, nothing fetched.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote

import duckdb

from tradewatch import audit

VENDOR = Path(__file__).resolve().parent / "data_docs_vendor"

#: GX 1.x's CDN URLs (templates page.j2, js_script_imports.j2, index_page.j2) -> the file in VENDOR
CDN = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": "bootstrap-4.3.1/bootstrap.min.css",
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": "bootstrap-4.3.1/bootstrap.min.js",
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery-3.7.1/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": "popper.js-1.12.9/popper.min.js",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css":
        "bootstrap-table-1.19.1/bootstrap-table.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js":
        "bootstrap-table-1.19.1/bootstrap-table.min.js",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css":
        "bootstrap-table-1.19.1/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css":
        "bootstrap-table-1.19.1/extensions/filter-control/bootstrap-table-filter-control.min.css",
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js":
        "bootstrap-table-1.19.1/extensions/filter-control/bootstrap-table-filter-control.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css":
        "bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js":
        "bootstrap-datepicker-1.9.0/bootstrap-datepicker.min.js",
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css":
        "bootstrap-dark-1.1.0/bootstrap-prefers-dark.min.css",
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css":
        "fontawesome-free-6.6.0/css/all.min.css",
}
#: GX's own images on S3 -> the copies GX puts in static/images (the dark logo has no local copy: the light one)
GX_IMAGES = re.compile(r"https://great-expectations-web-assets\.s3\.us-east-2\.amazonaws\.com/([\w.-]+?)(\?[^\"')]*)?"
                       r"(?=[\"')])")
_LOCAL_IMAGE = {"full_logo_dark.png": "logo-long.png"}
_VEGA = re.compile(r'<script src="https://cdn\.jsdelivr\.net/npm/vega(?:-lite|-embed)?@\d+"></script>\n?')
_INTEGRITY = re.compile(r'\s+(?:integrity="[^"]*"|crossorigin="[^"]*")')
_TAG = re.compile(r"<(?:script|link)\b[^>]*>")
_STATIC = re.compile(r'(href|src)="(?:\.\./)*static/')


def install_assets(docs_dir: Path) -> Path:
    """Copy the vendored files (and their licences) to `docs_dir/static/vendor`, where the pages find them."""
    target = docs_dir / "static" / "vendor"
    for source in VENDOR.rglob("*"):
        if source.is_file():
            copy = target / source.relative_to(VENDOR)
            if not copy.exists() or copy.stat().st_size != source.stat().st_size:
                copy.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(source, copy)
    return target


def offline_html(text: str, static: str) -> str:
    """A GX page's HTML with every CDN file it loads served from `static` (the docs folder's static/, relative to
    the page) instead."""

    def local(tag: re.Match) -> str:
        out = tag.group(0)
        for url, file in CDN.items():
            if f'"{url}"' in out:
                return _INTEGRITY.sub("", out.replace(url, f"{static}/vendor/{file}"))
        return _STATIC.sub(f'\\1="{static}/', out)  # GX's favicon link climbs one folder too few

    if "vegaEmbed(" not in text:
        text = _VEGA.sub("", text)
    text = _TAG.sub(local, text)
    return GX_IMAGES.sub(lambda m: f"{static}/images/{_LOCAL_IMAGE.get(m.group(1), m.group(1))}", text)


def make_offline(docs_dir: Path, since: float = 0.0) -> int:
    """Rewrite the GX pages under `docs_dir` changed since `since` (a timestamp; 0: all) to load nothing from the
    network. Idempotent. Returns how many pages were rewritten."""
    install_assets(docs_dir)
    rewritten = 0
    for page in docs_dir.rglob("*.html"):
        if page.parent == docs_dir or page.stat().st_mtime < since:
            continue  # our own index, or a page already done
        static = Path(os.path.relpath(docs_dir / "static", page.parent)).as_posix()
        text = page.read_text(encoding="utf-8")
        if (offline := offline_html(text, static)) != text:
            page.write_text(offline, encoding="utf-8")
            rewritten += 1
    return rewritten


# --- pages -------------------------------------------------------------------------------------------------------


def _run_time_key(run_time: str | None) -> str:
    """GX's directory name for a run time (RunIdentifier: %Y%m%dT%H%M%S.%fZ, UTC)."""
    if not run_time:
        return ""
    return datetime.fromisoformat(run_time).astimezone(UTC).strftime("%Y%m%dT%H%M%S.%fZ")


def _write(docs_dir: Path, page: Path, text: str) -> Path:
    page.parent.mkdir(parents=True, exist_ok=True)
    static = Path(os.path.relpath(docs_dir / "static", page.parent)).as_posix()
    tmp = page.with_name(f".{page.name}.tmp")
    tmp.write_text(offline_html(text, static), encoding="utf-8")
    os.replace(tmp, page)
    return page


def write_page(docs_dir: Path, suite: str, run_name: str, run_time: str, text: str) -> Path:
    """Keep GX's page of one validation result (`text`), rewritten to load nothing from the network."""
    install_assets(docs_dir)
    return _write(docs_dir, docs_dir / "validations" / suite / run_name / _run_time_key(run_time) / "result.html",
                  text)


def write_suite_page(docs_dir: Path, suite: str, fingerprint: str, render: Callable[[], str]) -> Path:
    """Keep GX's page of a suite (what it expects), offline; rendered again only when the suite changed (its
    `fingerprint`, kept in the page's first line)."""
    page = docs_dir / "expectations" / f"{suite}.html"
    marker = f"<!-- tradewatch suite {fingerprint} -->\n"
    if page.exists():
        with page.open(encoding="utf-8") as handle:
            if handle.readline() == marker:
                return page
    install_assets(docs_dir)
    return _write(docs_dir, page, marker + render())


# --- the index ---------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Validation:
    release_id: str
    suite: str
    success: bool
    evaluated: int | None
    failed: int | None
    failed_expectations: str | None
    result_path: str | None
    validated_at: datetime
    run_name: str | None
    run_time: str | None
    dataset: str | None
    period: object
    vintage: int | None
    status: str | None
    chunk_id: str | None = None


@dataclass(frozen=True)
class ChunkRun:
    """One GX run over a chunk of releases: the row-level or the release-level suite."""

    chunk_id: str
    suite: str
    kind: str  # rows | release
    run_time: str
    success: bool


def validations(con: duckdb.DuckDBPyConnection) -> list[Validation]:
    """Every validation recorded, newest period first, with its release (when the validation names one)."""
    return [Validation(*row) for row in audit.validation_rows(con)]


def chunk_runs(con: duckdb.DuckDBPyConnection) -> dict[str, list[ChunkRun]]:
    """chunk id -> its GX runs, the row-level suite's first."""
    runs: dict[str, list[ChunkRun]] = defaultdict(list)
    for row in audit.chunk_rows(con):
        runs[row[0]].append(ChunkRun(*row))
    return runs


def gx_pages(docs_dir: Path) -> dict[tuple[str, str, str], str]:
    """(suite, run name, run time) -> the GX page of that validation, relative to docs_dir
    (validations/<suite>/<run name>/<run time>/<page>.html, as GX's site builder lays them out)."""
    pages = {}
    for page in (docs_dir / "validations").glob("*/*/*/*.html"):
        run_time, run_name, suite = page.parent.name, page.parent.parent.name, page.parent.parent.parent.name
        pages[(suite, run_name, run_time)] = page.relative_to(docs_dir).as_posix()
    return pages


def _link(href: str | None, text: str) -> str:
    return f'<a href="{html.escape(quote(href))}">{html.escape(text)}</a>' if href else ""


def _row(v: Validation, pages: list[tuple[str, str | None]], docs_dir: Path, anchor: bool = False) -> str:
    verdict = "passed" if v.success else "FAILED"
    result = (os.path.relpath(v.result_path, docs_dir) if v.result_path and Path(v.result_path).exists() else None)
    links = " · ".join(filter(None, (*(_link(href, label) for label, href in pages), _link(result, "JSON")))) or "—"
    why = "<br>".join(html.escape(line[:300]) for line in (v.failed_expectations or "").split("\n")[:5] if line)
    period = f"{v.period:%Y-%m}" if v.period else ""
    anchor_id = f' id="{html.escape(v.release_id)}"' if anchor else ""
    chunk = f'<br><span class="meta">chunk {html.escape(v.chunk_id)}</span>' if v.chunk_id else ""
    return (f'<tr class="{verdict.lower()}"{anchor_id}><td>{period}</td>'
            f"<td><code>{html.escape(v.release_id)}</code>{chunk}</td><td>{v.vintage or ''}</td><td>{verdict}</td>"
            f"<td>{html.escape(v.status or '')}</td><td>{v.failed or 0} / {v.evaluated or 0}</td>"
            f"<td>{v.validated_at:%Y-%m-%d %H:%M}</td><td>{links}</td>"
            f'<td class="why">{why}</td></tr>')


_HEAD = ("<tr><th>period</th><th>release</th><th>vintage</th><th>verdict</th><th>status now</th><th>failed / "
         "expectations</th><th>validated (UTC)</th><th>GX pages and result</th><th>what failed in this release</th>"
         "</tr>")
CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#222}
h1{font-size:1.4em} h2{font-size:1.15em;margin-top:28px;border-bottom:1px solid #ddd} .meta{color:#555}
table{border-collapse:collapse;font-size:.85em} td,th{border-bottom:1px solid #eee;padding:3px 6px;text-align:left;
vertical-align:top} tr.failed td{color:#a00} .why{max-width:560px} nav a{margin-right:12px} code{font-size:.95em}
"""


def render_index(found: list[Validation], pages: dict[tuple[str, str, str], str], docs_dir: Path,
                 generated: datetime | None = None, chunks: dict[str, list[ChunkRun]] | None = None) -> str:
    generated = generated or datetime.now(UTC)
    chunks = chunks or {}
    by_dataset: dict[str, list[Validation]] = defaultdict(list)
    for v in found:
        by_dataset[v.dataset or v.suite].append(v)

    def pages_of(v: Validation) -> list[tuple[str, str | None]]:
        if v.chunk_id:  # the chunk's pages: the row-level suite's and the release-level suite's
            return [(run.kind, pages.get((run.suite, run.chunk_id, _run_time_key(run.run_time))))
                    for run in chunks.get(v.chunk_id, [])]
        return [("page", pages.get((v.suite, v.run_name or v.release_id, _run_time_key(v.run_time))))]

    failed = [v for v in found if not v.success]
    passed = len(found) - len(failed)
    missing = sum(any(href is None for _, href in pages_of(v)) for v in found)
    chunk_count = len({v.chunk_id for v in found if v.chunk_id})
    nav = " ".join(f'<a href="#{html.escape(d)}">{html.escape(d)} ({len(vs)})</a>' for d, vs in by_dataset.items())
    parts = [f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>tradewatch: Data Docs</title>'
             f"<style>{CSS}</style></head><body><h1>Data quality: every release validated</h1>"
             f'<p class="meta">{len(found)} validations of {len(by_dataset)} datasets: {passed} passed, '
             f"{len(failed)} failed · from audit.validations, generated {generated:%Y-%m-%d %H:%M} UTC · releases "
             f"are validated in chunks ({chunk_count} here): each chunk has two pages, Great Expectations' own "
             "rendering of its row-level suite (every row of the chunk) and of its release-level suite (one row "
             "per release); each release below has its own verdict and the failures traced to its rows"
             + (f" · {missing} without a page: `tradewatch quality docs` renders them from their stored results"
                if missing else "")
             + f"</p><nav>{nav}</nav>"]
    if failed:
        parts.append(f'<h2 id="failed">Failed validations ({len(failed)})</h2><table>{_HEAD}'
                     + "".join(_row(v, pages_of(v), docs_dir) for v in failed) + "</table>")
    anchored: set[str] = set()  # the newest validation of each release can be linked to: index.html#<release id>

    def row(v: Validation) -> str:
        first = v.release_id not in anchored
        anchored.add(v.release_id)
        return _row(v, pages_of(v), docs_dir, anchor=first)

    for dataset, rows in by_dataset.items():
        suites = [docs_dir / "expectations" / f"{name}.html" for name in
                  (f"{dataset}.rows", f"{dataset}.release", rows[0].suite)]
        suite_links = " · ".join(_link(p.relative_to(docs_dir).as_posix(), f"suite {p.stem}") for p in
                                 dict.fromkeys(suites) if p.exists())
        parts.append(f'<h2 id="{html.escape(dataset)}">{html.escape(dataset)}</h2><p class="meta">{len(rows)} '
                     f"validations, {sum(not v.success for v in rows)} failed"
                     + (f" · {suite_links}" if suite_links else "") + f"</p><table>{_HEAD}"
                     + "".join(row(v) for v in rows) + "</table>")
    if not found:
        parts.append("<p>No release validated yet: run the refresh.</p>")
    return "".join(parts) + "</body></html>\n"


def restore_missing(con: duckdb.DuckDBPyConnection, docs_dir: Path, render: Callable[[dict], str]) -> int:
    """Render, from the result stored in audit.validation_chunks (or, for validations before the chunked gate, in
    audit.validations), the page of every validation that has none. Returns how many were written."""
    pages, written = gx_pages(docs_dir), 0
    for chunk, suite, run_time, stored in audit.chunk_results(con):
        if (suite, chunk, _run_time_key(run_time)) not in pages:
            write_page(docs_dir, suite, chunk, run_time, render(json.loads(stored)))
            written += 1
    for v in validations(con):
        if v.chunk_id or not v.run_name or not v.run_time or \
                (v.suite, v.run_name, _run_time_key(v.run_time)) in pages:
            continue
        stored = audit.validation_result(con, v.release_id, v.suite, v.validated_at)
        write_page(docs_dir, v.suite, v.run_name, v.run_time, render(json.loads(stored)))
        written += 1
    return written


def write_index(con: duckdb.DuckDBPyConnection, docs_dir: Path) -> Path:
    """Write docs_dir/index.html (atomically) from audit.validations, audit.validation_chunks and the pages on
    disk."""
    docs_dir.mkdir(parents=True, exist_ok=True)
    page = render_index(validations(con), gx_pages(docs_dir), docs_dir, chunks=chunk_runs(con))
    index, tmp = docs_dir / "index.html", docs_dir / ".index.html.tmp"
    tmp.write_text(page, encoding="utf-8")
    os.replace(tmp, index)
    return index
