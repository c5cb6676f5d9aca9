"""CNSWorkflowManager: admit, archive, duplicate, failure paths, logs, folders and shared evidence."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from cns import CNSConfig, SNOStatus, configure_logging
from cns.errors import IngestionError
from cns.metrics import entanglement_score
from cns.ports import FloatArray
from cns.store.memory import InMemorySNOStore
from cns.testing.fakes import HashEmbedder, RuleNLI, ScriptedLLM
from cns.workflow import CNSWorkflowManager
from tests.ingestion.ingest_helpers import DRIFT_TEXT, OTHER_TEXT, make_text_pdf


@pytest.fixture
def logs() -> io.StringIO:
    stream = io.StringIO()
    configure_logging(fmt="json", stream=stream)
    return stream


def _events(stream: io.StringIO) -> list[dict[str, Any]]:
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]


def _config(fake_config: CNSConfig, ingest: float) -> CNSConfig:
    return fake_config.model_copy(
        update={"thresholds": fake_config.thresholds.model_copy(update={"ingest": ingest})}
    )


def test_accepted_document_is_active_with_full_metadata(fake_config: CNSConfig, logs: io.StringIO) -> None:
    manager = CNSWorkflowManager(_config(fake_config, 0.0))
    sno = manager.ingest_and_evaluate(DRIFT_TEXT, "drift.txt", {"title": "Drift", "date": "2024-01-01"})
    assert sno.status is SNOStatus.ACTIVE and sno.trust_score is not None and sno.trust_score > 0
    meta = sno.metadata
    assert meta["source"] == "drift.txt" and meta["title"] == "Drift" and meta["date"] == "2024-01-01"
    assert meta["author"] == "Jane Doe"  # from the "By Jane Doe" line
    assert meta["extractor"] == {"name": "heuristic", "version": "1.0"}
    assert meta["model_backends"] == {"embedder": "fake:hash-embedder@1", "nli": "fake:rule-nli@1"}
    assert {"segment", "embed", "edges", "evidence", "evaluate", "total"} <= set(meta["timings_ms"])
    assert [s.sno_id for s in manager.population()] == [sno.sno_id]
    assert manager.store.get(sno.sno_id).content_hash() == sno.content_hash()
    events = _events(logs)
    names = [e["event"] for e in events]
    assert names.index("sno_ingestion.started") < names.index("sno_evaluation.complete")
    done = next(e for e in events if e["event"] == "sno_evaluation.complete")
    assert done["sno_id"] == sno.sno_id and done["source"] == "drift.txt"
    assert done["trust_score"] == pytest.approx(sno.trust_score)
    assert "Mesosaurus" not in logs.getvalue()  # document text never goes to the logs


def test_low_trust_document_is_archived_with_reason(fake_config: CNSConfig) -> None:
    manager = CNSWorkflowManager(_config(fake_config, 0.99))
    sno = manager.ingest_and_evaluate(DRIFT_TEXT, "drift.txt")
    assert sno.status is SNOStatus.ARCHIVED
    assert "not above the ingest threshold 0.99" in sno.metadata["archive_reason"]
    assert manager.population() == []
    assert manager.store.get(sno.sno_id).status is SNOStatus.ARCHIVED  # kept, never dropped


def test_reingesting_same_text_returns_existing_sno(fake_config: CNSConfig, logs: io.StringIO) -> None:
    store = InMemorySNOStore()
    first = CNSWorkflowManager(fake_config, store=store).ingest_and_evaluate(DRIFT_TEXT, "a.txt")
    # another manager (another worker) on the same store sees the duplicate too
    again = CNSWorkflowManager(fake_config, store=store).ingest_and_evaluate(
        DRIFT_TEXT.replace("\n\n", "\n\n\n"), "b.txt"
    )
    assert again.sno_id == first.sno_id and len(store) == 1
    assert again.metadata["source"] == "a.txt"
    duplicate = [e for e in _events(logs) if e["event"] == "sno_ingestion.duplicate"]
    assert (
        len(duplicate) == 1 and duplicate[0]["sno_id"] == first.sno_id and duplicate[0]["source"] == "b.txt"
    )


def test_same_doi_in_two_spellings_entangles(fake_config: CNSConfig) -> None:
    manager = CNSWorkflowManager(fake_config)
    a = manager.ingest_and_evaluate(DRIFT_TEXT, "drift.txt")
    b = manager.ingest_and_evaluate(OTHER_TEXT, "plates.txt")
    assert "doi:10.1000/XYZ.1" in DRIFT_TEXT and "https://doi.org/10.1000/xyz.1" in OTHER_TEXT
    assert a.evidence_keys & b.evidence_keys == {"doi:10.1000/xyz.1"}
    assert entanglement_score(a, b) > 0


def test_second_similar_document_is_less_novel(fake_config: CNSConfig) -> None:
    manager = CNSWorkflowManager(_config(fake_config, 0.0))
    first = manager.ingest_and_evaluate(DRIFT_TEXT, "a.txt")
    near_copy = manager.ingest_and_evaluate(DRIFT_TEXT.replace("Jane Doe", "John Roe"), "b.txt")
    assert first.evaluation is not None and near_copy.evaluation is not None
    novelty = [s.evaluation["critic_results"]["novelty"]["score"] for s in (first, near_copy)]  # type: ignore[index]
    assert novelty[1] < novelty[0]


def test_empty_text_fails_with_ingestion_error_and_log(fake_config: CNSConfig, logs: io.StringIO) -> None:
    with pytest.raises(IngestionError, match="no readable text"):
        CNSWorkflowManager(fake_config).ingest_and_evaluate("   ", "blank")
    assert any(e["event"] == "ingestion.failed" and e["source"] == "blank" for e in _events(logs))


def test_model_failure_is_wrapped_and_logged(fake_config: CNSConfig, logs: io.StringIO) -> None:
    class BrokenEmbedder:
        name, version, dimension = "broken", "0", 384

        def encode(self, texts: Any) -> Any:
            raise RuntimeError("CUDA out of memory")

    manager = CNSWorkflowManager(fake_config, embedder=BrokenEmbedder())
    with pytest.raises(IngestionError, match="CUDA out of memory") as info:
        manager.ingest_and_evaluate(DRIFT_TEXT, "drift.txt")
    assert info.value.details["source"] == "drift.txt"
    failed = [e for e in _events(logs) if e["event"] == "ingestion.failed"]
    assert failed and "CUDA out of memory" in failed[0]["reason"]
    assert len(manager.store) == 0


def test_llm_configured_but_broken_falls_back(fake_config: CNSConfig) -> None:
    manager = CNSWorkflowManager(fake_config, llm=ScriptedLLM(["not json at all"]))
    sno = manager.ingest_and_evaluate(DRIFT_TEXT, "drift.txt")
    assert manager.extractor_tag == "llm@1.0"
    assert "no parseable JSON" in sno.metadata["extractor_fallback"]
    assert sno.metadata["model_backends"]["llm"] == "fake:scripted-llm"


def test_folder_with_pdf_html_md_empty_and_binary(fake_config: CNSConfig, tmp_path: Path) -> None:
    (tmp_path / "paper.pdf").write_bytes(
        make_text_pdf(
            [
                "We argue that the ocean floor spreads from the ridges.",
                "Because magnetic stripes are symmetric, the crust must be young.",
                "Therefore the continents move apart.",
            ],
            title="Sea Floor Spreading",
        )
    )
    (tmp_path / "page.html").write_text(
        "<html><head><title>Drift</title><script>x=1</script></head><body><p>We show that continents "
        "drift. Fossils match across the Atlantic ocean, which suggests a former connection.</p></body></html>"
    )
    (tmp_path / "notes.md").write_text(
        "# Plates\n\nWe propose that mantle convection moves the plates. "
        "However, slab pull is also important.\n"
    )
    (tmp_path / "empty.txt").write_text("")
    (tmp_path / "image.bin").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR\x00\x01")
    manager = CNSWorkflowManager(fake_config)
    report = manager.ingest_path(tmp_path)
    assert sorted(Path(d.source).name for d in report.ingested) == ["notes.md", "page.html", "paper.pdf"]
    assert len(manager.store) == 3 and report.failed == [] and report.duplicates == []
    reasons = {Path(s.path).name: s.reason for s in report.skipped}
    assert reasons["empty.txt"] == "empty file (no content)"
    assert reasons["image.bin"].startswith("not a document (extension '.bin')")  # never opened as prose
    assert set(reasons) == {"empty.txt", "image.bin"}
    named = manager.ingest_path(tmp_path / "image.bin")  # named on the command line: sniffed, still refused
    assert [s.reason for s in named.skipped] == ["binary content (NUL bytes); unsupported file type '.bin'"]
    pdf = next(d for d in report.ingested if d.source.endswith("paper.pdf"))
    assert manager.store.get(pdf.sno_id).metadata["title"] == "Sea Floor Spreading"
    again = manager.ingest_path(tmp_path)
    assert len(again.duplicates) == 3 and again.ingested == []
    summary = again.summary()
    assert summary["duplicates"] == 3 and len(summary["skipped"]) == 2


@pytest.mark.integration
def test_real_minilm_embedder_path(fake_config: CNSConfig) -> None:
    config = fake_config.model_copy(
        update={
            "models": fake_config.models.model_copy(update={"embedding_backend": "sentence-transformers"})
        }
    )
    manager = CNSWorkflowManager(config)
    sno = manager.ingest_and_evaluate(DRIFT_TEXT, "drift.txt")
    assert sno.metadata["model_backends"]["embedder"].startswith("sentence-transformers/all-MiniLM-L6-v2@")
    assert sno.hypothesis_embedding is not None and sno.hypothesis_embedding.shape == (384,)
    assert sno.central_hypothesis.startswith(("In conclusion", "We argue"))
    assert 3 <= len(list(sno.claims())) - 1 <= 12


def test_jsonl_batch_with_failures_is_fully_accounted_for(fake_config: CNSConfig, tmp_path: Path) -> None:
    lines = [
        json.dumps(
            {"text": DRIFT_TEXT, "title": "Drift", "author": "J. Doe", "url": "https://example.org/d"}
        ),
        json.dumps({"text": OTHER_TEXT, "source": "corpus:plates"}),
        json.dumps({"text": "!!! ???\n\n🙂 🙂"}),
        json.dumps({"text": DRIFT_TEXT}),
        "{broken",
    ]
    (tmp_path / "corpus.jsonl").write_text("\n".join(lines))
    manager = CNSWorkflowManager(fake_config)
    report = manager.ingest_path(tmp_path / "corpus.jsonl")
    assert len(report.ingested) == 2 and len(report.duplicates) == 1
    assert [f.reason for f in report.failed] == ["document has no words (only punctuation, symbols or emoji)"]
    assert report.skipped[0].reason.startswith("invalid JSON on line 5")
    drift = manager.store.get(report.ingested[0].sno_id)
    assert (drift.metadata["title"], drift.metadata["author"], drift.metadata["url"]) == (
        "Drift",
        "J. Doe",
        "https://example.org/d",
    )
    assert report.ingested[1].source == "corpus:plates"


def test_archived_snos_are_not_in_the_novelty_reference(fake_config: CNSConfig) -> None:
    manager = CNSWorkflowManager(_config(fake_config, 0.99))
    first = manager.ingest_and_evaluate(DRIFT_TEXT, "a.txt")
    near_copy = manager.ingest_and_evaluate(DRIFT_TEXT.replace("Jane Doe", "John Roe"), "b.txt")
    assert first.status is near_copy.status is SNOStatus.ARCHIVED
    assert len(manager.reference_index()) == 0
    scores = [s.evaluation["critic_results"]["novelty"]["score"] for s in (first, near_copy)]  # type: ignore[index]
    assert scores[0] == pytest.approx(scores[1])


def test_sql_store_gets_the_document_row_too(fake_config: CNSConfig, tmp_path: Path) -> None:
    sql = pytest.importorskip("cns.store.sql")
    store = sql.SQLStore.open(tmp_path / "cns.sqlite3")
    manager = CNSWorkflowManager(fake_config, store=store)
    sno = manager.ingest_and_evaluate(DRIFT_TEXT, "drift.txt")
    document_id = sno.metadata["document_id"]
    assert store.document_exists(document_id)
    assert store.snos_of_document(document_id) == [sno.sno_id]
    assert (
        CNSWorkflowManager(fake_config, store=store).ingest_and_evaluate(DRIFT_TEXT, "b").sno_id == sno.sno_id
    )


class _CountingNLI(RuleNLI):
    def __init__(self) -> None:
        super().__init__()
        self.batches: list[int] = []

    def predict(self, pairs: Sequence[tuple[str, str]]) -> FloatArray:
        self.batches.append(len(pairs))
        return super().predict(pairs)


class _CountingEmbedder(HashEmbedder):
    def __init__(self) -> None:
        super().__init__(384)
        self.batches: list[int] = []

    def encode(self, texts: Sequence[str]) -> FloatArray:
        self.batches.append(len(texts))
        return super().encode(texts)


def test_one_encode_and_one_nli_forward_pass_per_document(fake_config: CNSConfig) -> None:
    """Extraction and the critics share the document's embeddings and NLI judgements."""
    nli, embedder = _CountingNLI(), _CountingEmbedder()
    manager = CNSWorkflowManager(_config(fake_config, 0.0), embedder=embedder, nli=nli)
    first = manager.ingest_and_evaluate(DRIFT_TEXT, "drift.txt")
    grounding = first.evaluation["critic_results"]["grounding"]["evidence"]  # type: ignore[index]
    assert grounding["nli_pairs"] > 0  # the critic did ask for pairs: the memo answered them
    assert len(nli.batches) == 1 and len(embedder.batches) == 1
    manager.ingest_and_evaluate(OTHER_TEXT, "other.txt")
    assert len(nli.batches) == 2 and len(embedder.batches) == 2  # nothing carried across documents
    stats = manager.model_session.stats
    assert stats.pairs_reused > 0 and stats.texts_reused > 0
    # re-evaluating outside ingestion recomputes the grounding pairs and agrees exactly
    # (novelty differs: the population has grown since)
    before = first.evaluation["critic_results"]  # type: ignore[index]
    after = manager.evaluate(first.sno_id).evaluation["critic_results"]  # type: ignore[index]
    assert len(nli.batches) == 3 and nli.batches[-1] == grounding["nli_pairs"]
    for critic in ("grounding", "logic"):
        assert after[critic] == before[critic]


def test_reingesting_restores_the_text_of_a_document_stored_before_texts_were_kept(
    fake_config: CNSConfig, tmp_path: Path, logs: io.StringIO
) -> None:
    from sqlalchemy import update

    from cns.store.sql import SQLStore
    from cns.store.sql.schema import Document

    config = fake_config.model_copy(update={"data_dir": tmp_path / "data"})
    with SQLStore.open(config=config) as store:
        first = CNSWorkflowManager(config, store=store).ingest_and_evaluate(DRIFT_TEXT, "a.txt")
        document_id = str(first.metadata["document_id"])
        with store.engine.begin() as conn:  # what a row written before migration 0007 looks like
            conn.execute(update(Document).where(Document.document_id == document_id).values(text=None))
        assert store.documents.document_text(document_id) is None
        again = CNSWorkflowManager(config, store=store).ingest_and_evaluate(DRIFT_TEXT, "a.txt")
        assert again.sno_id == first.sno_id and len(store.list()) == 1
        assert store.documents.document_text(document_id) == DRIFT_TEXT
    assert [e["event"] for e in _events(logs)].count("sno_ingestion.text_restored") == 1
