"""The landing zone: raw response bytes stored by content hash, and one manifest per fetched release.

Nothing here touches DuckDB, so fetches can run in parallel while the single warehouse writer is busy.
Files are written to a temporary name and renamed, so a crash never leaves a half-written object or manifest.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from tradewatch.periods import Month, parse_month

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

    from tradewatch.http import Request, Response


@dataclass(frozen=True)
class LandedPart:
    name: str  # which part of the release (e.g. the HS level)
    url: str  # request URL without any key
    sha256: str
    path: str  # relative to the landing root
    status: int
    bytes: int
    content_type: str | None = None
    request_body: str | None = None  # the JSON body of a POST, without secrets


@dataclass(frozen=True)
class LandedRelease:
    source: str
    dataset: str
    period: str  # YYYY-MM: the manifest's (JSON) form; `month` is the value
    fetched_at: str  # ISO 8601, UTC
    parts: tuple[LandedPart, ...] = field(default_factory=tuple)
    synthetic: bool = False  # replayed from a synthetic sample archive, not published data

    @property
    def month(self) -> Month:
        return parse_month(self.period)

    @property
    def release_id(self) -> str:
        """Same bytes for the same dataset and period -> same id; anything changed -> a new id (a new vintage)."""
        digest = hashlib.sha256(f"{self.dataset}|{self.period}|".encode())
        for part in sorted(self.parts, key=lambda p: p.name):
            digest.update(f"{part.name}={part.sha256};".encode())
        return f"{self.dataset}:{self.period}:{digest.hexdigest()[:16]}"

    def to_json(self) -> str:
        return json.dumps({**asdict(self), "release_id": self.release_id}, indent=1)

    @classmethod
    def from_json(cls, text: str) -> LandedRelease:
        data = json.loads(text)
        data.pop("release_id", None)
        data["parts"] = tuple(LandedPart(**p) for p in data["parts"])
        return cls(**data)


def _write_atomically(target: Path, data: bytes) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


class LandingZone:
    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def store(self, body: bytes) -> tuple[str, str]:
        """Store bytes under their SHA-256; return (sha256, path relative to the root). Idempotent."""
        sha = hashlib.sha256(body).hexdigest()
        rel = f"objects/{sha[:2]}/{sha}"
        target = self.root / rel
        if not target.exists():
            _write_atomically(target, body)
        return sha, rel

    def path(self, rel: str) -> Path:
        return self.root / rel

    def write_manifest(self, release: LandedRelease) -> Path:
        safe_id = release.release_id.replace(":", "_")
        target = self.root / "manifests" / release.dataset / release.period / f"{safe_id}.json"
        _write_atomically(target, release.to_json().encode())
        return target

    def read_manifest(self, path: Path | str) -> LandedRelease:
        return LandedRelease.from_json(Path(path).read_text())

    def land(self, source: str, dataset: str, period: str, responses: Sequence[tuple[str, Request, Response]],
             synthetic: bool = False) -> LandedRelease:
        """Store the bytes of every part of one fetched release, then its manifest (last, so a release is landed
        only once all its bytes are). Raises OSError when the disk or the folder refuses; what was landed before
        is intact."""
        parts = []
        for name, request, response in responses:
            sha, rel = self.store(response.body)
            parts.append(LandedPart(name, response.url, sha, rel, response.status, len(response.body),
                                    response.header("Content-Type"), request.body))
        release = LandedRelease(source, dataset, period, utc_now(), tuple(parts), synthetic)
        self.write_manifest(release)
        return release

    def releases(self, dataset: str) -> Iterator[LandedRelease]:
        """Every release of `dataset` landed, by period (the manifests' order)."""
        for path in sorted((self.root / "manifests" / dataset).glob("*/*.json")):
            yield self.read_manifest(path)


def utc_now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")
