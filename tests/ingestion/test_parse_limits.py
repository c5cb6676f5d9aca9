"""Loader limits: pages, characters, parse time and memory per file, and the parser pool.

Before: pypdf, BeautifulSoup and the Markdown renderer ran in the calling process with no bound
but the file size, so a 9 KB PDF kept ``cns run`` (and the API) busy for minutes and 5 MB of
unclosed HTML tags took 108 s and 1.2 GB. These tests build the hostile files themselves.
"""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from cns.ingestion.loaders import load_file, load_path
from cns.ingestion.loaders.base import LoaderLimits, SkippedFileError
from cns.ingestion.loaders.parser_memory import MemoryWatch
from cns.ingestion.loaders.pdf import load_pdf
from cns.ingestion.loaders.sandbox import ParserPool, ParsersBusy, memory_reason
from cns.ingestion.loaders.text import load_txt
from cns.services.uploads import load_upload
from tests.ingestion.ingest_helpers import make_pdf_bomb, make_text_pdf
from tests.ingestion.parser_lifetime_helpers import allocate_loader

pytestmark = pytest.mark.timeout(300)
FAST = LoaderLimits(parse_timeout_seconds=2.0)


def test_pdf_whose_pages_expand_to_millions_of_characters_is_skipped_at_max_chars(tmp_path: Path) -> None:
    bomb = make_pdf_bomb(pages=20, repeats=2_000)  # 134,000 characters per page, 2.7 M in all
    assert len(bomb) < 10_000
    path = tmp_path / "bomb.pdf"
    path.write_bytes(bomb)
    start = time.monotonic()
    # a generous time limit: this test is about the character limit, and a loaded machine may
    # need more than FAST's 2 s to reach page 8
    result = load_file(path, limits=LoaderLimits(parse_timeout_seconds=60.0))
    assert result.documents == []
    assert "(loaders.max_chars)" in result.skipped[0].reason
    assert "by page 8 of 20" in result.skipped[0].reason  # stopped as soon as the limit was crossed
    assert time.monotonic() - start < 60
    # the same limit without a child process (the loader checks page by page itself)
    with pytest.raises(Exception, match=r"loaders\.max_chars"):
        load_pdf(bomb, "bomb.pdf", limits=LoaderLimits(max_chars=500_000))


def test_pdf_that_parses_for_minutes_is_killed_at_the_time_limit(tmp_path: Path) -> None:
    slow = make_pdf_bomb(pages=20, repeats=200_000, draw_text=False)  # ~4 s per page, no text
    path = tmp_path / "slow.pdf"
    path.write_bytes(slow)
    load_file(tmp_path / "warm.pdf", limits=FAST)  # a parser process may have to start first
    start = time.monotonic()
    result = load_file(path, limits=FAST)
    elapsed = time.monotonic() - start
    assert result.skipped[0].reason.startswith("parsing took longer than 2 s (loaders.parse_timeout_seconds)")
    assert elapsed < 10, elapsed  # not the ~90 s the parse would take
    # the killed parser is replaced: the next file parses normally
    good = tmp_path / "good.pdf"
    good.write_bytes(make_text_pdf(["Coffee improves focus because caffeine blocks adenosine receptors."]))
    assert len(load_file(good, limits=FAST).documents) == 1


def test_pdf_with_too_many_pages_is_skipped_before_extraction() -> None:
    many = make_pdf_bomb(pages=40, repeats=1)
    loaded = load_upload("many.pdf", many, limits=LoaderLimits(max_pdf_pages=30))
    assert loaded.documents == []
    assert loaded.skipped[0].reason == "PDF has 40 pages > limit 30 (loaders.max_pdf_pages)"
    assert len(load_upload("many.pdf", many, limits=LoaderLimits(max_pdf_pages=40)).documents) == 1


def test_html_that_needs_more_memory_than_allowed_is_skipped() -> None:
    """BeautifulSoup would need about 500 MB for this page, built in many small steps.

    Before: the parser process ran into its kernel address-space cap, where Python could not
    unwind the error (every allocation on the way out failed again) and spun until the time limit
    killed it, half a minute and more on a loaded machine. Now the caller stops it at the limit.
    """
    unclosed = b"<html><body>" + b"<b>a " * 300_000  # ~1.5 MB; BeautifulSoup builds 300,000 nested tags
    limits = LoaderLimits(parser_memory_mb=64, parse_timeout_seconds=120)
    start = time.monotonic()
    loaded = load_upload("deep.html", unclosed, limits=limits)
    assert loaded.documents == []
    assert loaded.skipped[0].reason == memory_reason(limits)  # the memory limit, never the time limit
    assert time.monotonic() - start < 120
    ok = load_upload("ok.html", b"<p>Coffee improves focus because caffeine blocks adenosine receptors.</p>")
    assert len(ok.documents) == 1


def test_one_allocation_past_the_memory_limit_fails_in_the_parser_and_is_skipped() -> None:
    """A single allocation far beyond the limit never reaches the caller's watch: the kernel cap
    above the limit refuses it, the parser answers MemoryError, and the next file parses normally."""
    pool = ParserPool(1)
    limits = LoaderLimits(parser_memory_mb=64, parse_timeout_seconds=120)
    try:
        with pytest.raises(SkippedFileError) as skipped:
            pool.parse(allocate_loader, str(1024 * 1024 * 1024).encode(), Path("huge.txt"), None, limits)
        assert skipped.value.reason == memory_reason(limits)
        text = b"Coffee improves focus because caffeine blocks adenosine receptors."
        assert len(pool.parse(load_txt, text, Path("ok.txt"), None, limits)) == 1
    finally:
        pool.close()


def test_the_memory_watch_reports_a_process_that_grew_past_its_limit() -> None:
    grow = "print('ready', flush=True); input(); block = bytearray(48 << 20); print('grown', flush=True); input()"
    argv = [sys.executable, "-c", grow]
    with subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) as child:
        assert child.stdin is not None and child.stdout is not None
        try:
            assert child.stdout.readline().strip() == "ready"  # measured from here, as a parser is
            small, large = MemoryWatch(child.pid, 32), MemoryWatch(child.pid, 64)
            assert small.baseline is not None and not small.exceeded()
            child.stdin.write("grow\n")
            child.stdin.flush()
            assert child.stdout.readline().strip() == "grown"
            assert small.exceeded() and not large.exceeded()
        finally:
            child.kill()
            child.wait(10)
    assert not MemoryWatch(child.pid, 32).exceeded()  # a process that is gone cannot be measured


def test_every_loader_skips_text_over_max_chars(tmp_path: Path) -> None:
    limits = LoaderLimits(max_chars=1_000)
    sentence = "Coffee improves focus because caffeine blocks adenosine receptors. "
    (tmp_path / "long.txt").write_text(sentence * 20, encoding="utf-8")
    (tmp_path / "long.md").write_text(sentence * 20, encoding="utf-8")
    (tmp_path / "short.txt").write_text(sentence, encoding="utf-8")
    lines = [json.dumps({"text": sentence * 20}), json.dumps({"text": sentence})]
    (tmp_path / "lines.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    loaded = load_path(tmp_path, limits=limits)
    assert sorted(Path(d.source).name.split(":")[0] for d in loaded.documents) == ["lines.jsonl", "short.txt"]
    reasons = {Path(s.path).name: s.reason for s in loaded.skipped}
    assert set(reasons) == {"long.md", "long.txt", "lines.jsonl:1"}
    assert all("> limit 1,000 (loaders.max_chars)" in r for r in reasons.values()), reasons


def test_a_full_pool_answers_busy_at_once_when_the_caller_cannot_wait() -> None:
    pool = ParserPool(1)
    slow = make_pdf_bomb(pages=20, repeats=200_000, draw_text=False)
    limits = LoaderLimits(parse_timeout_seconds=3.0)
    outcome: list[str] = []

    def hold() -> None:
        try:
            pool.parse(load_pdf, slow, Path("slow.pdf"), None, limits)
        except Exception as exc:
            outcome.append(str(exc))

    holder = threading.Thread(target=hold)
    holder.start()
    time.sleep(0.5)
    start = time.monotonic()
    with pytest.raises(ParsersBusy, match=r"all 1 file parsers are busy \(loaders.parsers\)"):
        pool.parse(load_pdf, slow, Path("other.pdf"), None, LoaderLimits(wait_for_parser=0.0))
    assert time.monotonic() - start < 0.5
    holder.join(60)
    assert outcome and "loaders.parse_timeout_seconds" in outcome[0]
    pool.close()


def test_cns_run_ingestion_reads_files_under_the_configured_loader_limits(tmp_path: Path) -> None:
    """``cns run``'s ingestion (the manager) takes its limits from the ``loaders`` config section.

    Before: an 8 KB PDF became a 26.8 M-character document in ``cns run`` (33 s of parsing), which
    then sat in sentence segmentation for as long as anyone waited.
    """
    from cns import CNSConfig, CNSWorkflowManager

    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "bomb.pdf").write_bytes(make_pdf_bomb(pages=20, repeats=2_000))  # 1 M characters by page 8
    (folder / "slow.pdf").write_bytes(make_pdf_bomb(pages=20, repeats=200_000, draw_text=False))
    (folder / "ok.txt").write_text("We argue that coffee improves focus because caffeine blocks receptors.")
    config = CNSConfig(
        models={"embedding_backend": "fake", "nli_backend": "fake"},
        data_dir=tmp_path / "data",
        # the bomb crosses max_chars in ~1 s on a quiet machine, 5+ s under load: the timeout must
        # leave it room, or it would be skipped for time instead of for size
        loaders={"parse_timeout_seconds": 10.0},
    )
    start = time.monotonic()
    report = CNSWorkflowManager(config).ingest_path(folder)
    assert time.monotonic() - start < 60
    assert [Path(d.source).name for d in report.ingested] == ["ok.txt"]
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert "(loaders.max_chars)" in reasons["bomb.pdf"]
    assert "(loaders.parse_timeout_seconds)" in reasons["slow.pdf"]
