"""A cache that cannot write, read or open its file degrades to no cache; it never fails the work.

``PRAGMA max_page_count`` caps the SQLite file at its current size, so every write that grows it
fails with the very error a full disk gives (``database or disk is full``), without root.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import structlog

from cns.models import blob_cache
from cns.models.embedding_cache import CachedEmbedder
from cns.models.nli_cache import CachedNLI
from cns.testing.fakes import HashEmbedder, RuleNLI

PAIRS = [("Coffee improves memory.", "Coffee helps memory."), ("Tea calms.", "Tea excites.")]


def fill_up(cache: CachedNLI | CachedEmbedder) -> None:
    """Cap the cache file at its current number of pages: the next growth is 'disk full'."""
    conn = cache._cache._conn
    assert conn is not None
    pages = conn.execute("PRAGMA page_count").fetchone()[0]
    conn.execute(f"PRAGMA max_page_count = {pages}")


def events(logs: list[dict[str, object]], name: str) -> list[dict[str, object]]:
    return [e for e in logs if e["event"] == name]


def test_a_full_cache_file_costs_the_cache_not_the_answers(tmp_path: Path) -> None:
    nli = RuleNLI()
    cache = CachedNLI(lambda: nli, name=nli.name, version=nli.version, path=tmp_path / "nli.sqlite3")
    fill_up(cache)
    with structlog.testing.capture_logs() as logs:
        first = cache.predict(PAIRS)
        again = cache.predict([(f"Claim {n}.", "Another claim.") for n in range(50)])
    assert np.allclose(first, nli.predict(PAIRS)) and again.shape == (50, 3)
    warnings = events(logs, "cache.write_failed")
    assert len(warnings) == 1  # once, not once per write
    assert warnings[0]["reason"] == "database or disk is full" and warnings[0]["log_level"] == "warning"
    assert warnings[0]["path"] == str(tmp_path / "nli.sqlite3")
    assert cache._cache.degraded


def test_writes_resume_once_the_space_is_back(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(blob_cache, "RETRY_SECONDS", 0.0)
    embedder = HashEmbedder(16)
    cache = CachedEmbedder(embedder, tmp_path / "e.sqlite3")
    fill_up(cache)
    with structlog.testing.capture_logs() as logs:
        cache.encode([f"text {n}" for n in range(200)])  # more than the file's free room
        assert cache._cache._conn is not None
        cache._cache._conn.execute("PRAGMA max_page_count = 1073741823")  # space freed
        cache.encode(["gamma"])
        calls = embedder.calls
        cache.encode(["gamma"])
    assert embedder.calls == calls  # gamma was cached after the space came back
    assert [e["event"] for e in logs if str(e["event"]).startswith("cache.")] == [
        "cache.write_failed",
        "cache.restored",
    ]


def test_a_cache_file_that_cannot_be_opened_means_no_cache(tmp_path: Path) -> None:
    broken = tmp_path / "cache.sqlite3"
    broken.write_bytes(b"this is not a SQLite database, just bytes " * 100)
    with structlog.testing.capture_logs() as logs:
        cache = CachedEmbedder(HashEmbedder(16), broken)
        vectors = cache.encode(["alpha", "alpha", "beta"])
        cache.encode(["alpha"])
    assert vectors.shape == (3, 16) and np.allclose(vectors[0], vectors[1])
    assert cache.hits == 1 + 0 and cache.misses == 2 + 1  # nothing persisted: every call misses
    assert len(events(logs, "cache.open_failed")) == 1
    cache.close()


def test_a_data_dir_that_cannot_hold_a_folder_means_no_cache(tmp_path: Path) -> None:
    blocker = tmp_path / "cache"
    blocker.write_text("a file where the cache folder should be")
    with structlog.testing.capture_logs() as logs:
        cache = CachedNLI(RuleNLI, name="fake:rule-nli", version="1", path=blocker / "nli.sqlite3")
        probabilities = cache.predict(PAIRS)
    assert probabilities.shape == (2, 3)
    assert events(logs, "cache.open_failed")[0]["error"] in {"FileExistsError", "NotADirectoryError"}
