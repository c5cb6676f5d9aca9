"""``CNSWorkflowManager``: ingest → extract → evaluate → admit or archive, synchronously.

A thin orchestrator over ports: models come from :mod:`cns.models` (built lazily from config
unless injected), SNOs go to an :class:`~cns.ports.SNOStore` (in-memory by default, SQL later),
and the novelty reference is the set of active SNOs with ``T ≥ τ_ref``, kept in the one
:class:`~cns.index.reference.ReferenceIndex` that follows the store's change feed (saved under
``index_path`` when given). Nothing is kept in module globals, so several managers (tests,
workers) never share state by accident.

Decisions: an SNO with ``T > thresholds.ingest`` becomes ``active``;
otherwise it is ``archived`` with ``metadata["archive_reason"]`` — never silently dropped. The SNO
id is derived from the document id and the extractor, so re-ingesting the same text returns the
stored SNO (a logged no-op) in every process.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from cns.config.settings import CNSConfig
from cns.core.progress import ProgressCallback
from cns.core.sno import SNOStatus, StructuredNarrativeObject
from cns.critics.evaluator import Evaluator
from cns.critics.grounding import GroundingCritic
from cns.errors import CNSError, ConfigError, IngestionError, SNONotFoundError, is_transient
from cns.index.reference import ReferenceIndex
from cns.ingestion.builder import build_sno, sno_id_for
from cns.ingestion.document import Document, make_document
from cns.ingestion.heuristic import ExtractorSettings, HeuristicExtractor
from cns.ingestion.llm_extractor import LLMExtractor, LLMUnavailableExtractor
from cns.ingestion.loaders import LoadResult, load_path
from cns.ingestion.loaders.base import LoaderLimits
from cns.ingestion.loaders.headers import text_header_metadata
from cns.ingestion.model import Extractor
from cns.logging_setup import bound_context, get_logger, preview, text_preview_chars
from cns.models.session import ModelSession
from cns.ports import ChangeFeed, DocumentRepository, Embedder, LLMClient, NLIModel, SNOStore, VectorIndex
from cns.store.memory import InMemorySNOStore
from cns.workflow.report import FailedDocument, IngestedDocument, IngestReport

if TYPE_CHECKING:
    from cns.core.records import JobCompletion, JobRecord
    from cns.pairs import ChiralPair, PairSearchResult
    from cns.synthesis import AttemptLog, SynthesisEngine, SynthesisResult
    from cns.workflow.cycle import CycleReport

log = get_logger(__name__)

_UNSET = object()


@runtime_checkable
class DocumentStore(Protocol):
    """A store that also keeps documents (the SQL store); SNOs there must reference a stored document."""

    def put_document(
        self, text: str, *, source: str | None = None, metadata: dict[str, Any] | None = None
    ) -> Any:
        """Store the document whose content is ``text`` (idempotent by document id)."""
        ...

    def put_with_document(
        self,
        sno: StructuredNarrativeObject,
        text: str,
        *,
        source: str | None = None,
        metadata: dict[str, Any] | None = None,
        completes: JobCompletion | None = None,
    ) -> JobRecord | None:
        """Store the document, the SNO derived from it and a job's SUCCESS together (one transaction)."""
        ...


def ingest_result(
    sno: StructuredNarrativeObject, document_id: object, *, duplicate: bool = False
) -> dict[str, Any]:
    """What an ``ingest`` job records as its result (``GET /tasks/{id}`` shows it).

    ``duplicate`` is true when the document's SNO was already stored (the same text ingested
    before, from this or another source): nothing new was built.
    """
    return {
        "sno_id": sno.sno_id,
        "document_id": document_id,
        "status": sno.status.value,
        "trust_score": sno.trust_score,
        "duplicate": duplicate,
    }


class CNSWorkflowManager:
    """Ingestion and evaluation over a store; the population is the store's active SNOs."""

    def __init__(
        self,
        config: CNSConfig | None = None,
        *,
        embedder: Embedder | None = None,
        nli: NLIModel | None = None,
        llm: LLMClient | None = None,
        store: SNOStore | None = None,
        extractor_settings: ExtractorSettings | None = None,
        index_path: Path | None = None,
    ) -> None:
        self.config = config or CNSConfig()
        self.store: SNOStore = store if store is not None else InMemorySNOStore()
        self.extractor_settings = extractor_settings or self.config.extraction
        self._embedder = embedder
        self._nli = nli
        self._llm: LLMClient | object | None = llm if llm is not None else _UNSET
        self._owns_llm = False  # built here from config (so closed here), not injected
        self._extractor: Extractor | None = None
        self._evaluator: Evaluator | None = None
        self._session: ModelSession | None = None
        #: where the reference index is saved (None = kept in memory, rebuilt from the store)
        self.index_path = index_path
        self._reference: ReferenceIndex | None = None
        self._reference_lock = threading.Lock()
        self._engine: SynthesisEngine | None = None
        self._attempt_log: AttemptLog | None = None
        #: population mark of the last re-score, for stores that keep no markers (in-memory)
        self.rescored_mark: int | None = None
        #: markers of the NLI models that re-scored, for stores that keep no markers
        self.rescored_models: set[str] = set()
        #: why the configured LLM is not used (set by :meth:`disable_llm`); None = used if configured
        self.llm_unavailable: str | None = None

    # ------------------------------------------------------------------ lazily built components
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            from cns.models import load_embedder

            self._embedder = load_embedder(self.config)
        return self._embedder

    @property
    def nli(self) -> NLIModel:
        if self._nli is None:
            from cns.models import load_nli

            self._nli = load_nli(config=self.config)
        return self._nli

    @property
    def llm(self) -> LLMClient | None:
        if self._llm is _UNSET:
            from cns.models import load_llm

            self._llm = load_llm(self.config)
            self._owns_llm = True
        return self._llm  # type: ignore[return-value]

    def disable_llm(self, reason: str) -> None:
        """Run without the LLM from now on, because a check found it unusable: the heuristic
        extractor and the offline synthesizer take over, and every SNO made afterwards says why."""
        self.close_llm()
        self._llm = None
        self.llm_unavailable = reason
        self._extractor = None
        self._engine = None

    def close_llm(self) -> None:
        """Close the pooled connections of an LLM client this manager built (injected ones are the caller's)."""
        close = getattr(self._llm, "close", None)
        if self._owns_llm and callable(close):
            close()
        self._owns_llm = False

    @property
    def model_session(self) -> ModelSession:
        """The embedder and NLI model as ingestion uses them: memoised per document (one encode, one
        NLI forward pass per document), pass-through outside :meth:`_build_and_evaluate`."""
        if self._session is None:
            self._session = ModelSession(self.embedder, self.nli)
        return self._session

    def _plan_grounding(
        self, hypothesis: str, claims: list[str], evidence: list[Any]
    ) -> list[tuple[str, str]]:
        """The NLI pairs the grounding critic will judge, so extraction can judge them with its own."""
        critic = next((c for c in self.evaluator.pipeline.critics if isinstance(c, GroundingCritic)), None)
        return critic.plan_pairs(hypothesis, claims, evidence) if critic is not None else []

    @property
    def extractor(self) -> Extractor:
        """The LLM extractor when an LLM is configured (heuristic fallback inside), else the heuristic."""
        if self._extractor is None:
            models = self.model_session
            heuristic = HeuristicExtractor(
                models.embedder, models.nli, self.extractor_settings, pair_planner=self._plan_grounding
            )
            llm = self.llm
            if llm is None and self.llm_unavailable is not None:
                self._extractor = LLMUnavailableExtractor(heuristic, self.llm_unavailable)
                return self._extractor
            self._extractor = (
                LLMExtractor(
                    llm,
                    heuristic,
                    max_claims=self.extractor_settings.max_claims,
                    temperature=self.config.llm.temperature,
                    max_tokens=self.config.llm.max_tokens,
                )
                if llm is not None
                else heuristic
            )
        return self._extractor

    @property
    def evaluator(self) -> Evaluator:
        if self._evaluator is None:
            models = self.model_session
            self._evaluator = Evaluator(self.config, embedder=models.embedder, nli=models.nli)
            self._evaluator.reference_lookup = self._reference_sno
        return self._evaluator

    def _reference_sno(self, sno_id: str) -> StructuredNarrativeObject | None:
        """A reference SNO for the novelty critic; None if it has left the store meanwhile."""
        try:
            return self.store.get(sno_id)
        except SNONotFoundError:
            return None

    @property
    def attempt_log(self) -> AttemptLog:
        """Synthesis attempts and cooldowns: the store's table when it keeps pairs (SQL), so they
        hold across runs and workers; else a log in this process."""
        if self._attempt_log is None:
            from cns.workflow.lifecycle import attempt_log_for

            self._attempt_log = attempt_log_for(self.store, self.config)
        return self._attempt_log

    @property
    def synthesis_engine(self) -> SynthesisEngine:
        if self._engine is None:
            from cns.synthesis import SynthesisEngine

            self._engine = SynthesisEngine(
                self.config,
                evaluator=self.evaluator,
                llm=self.llm,
                nli=self.nli,
                attempt_log=self.attempt_log,
            )
        return self._engine

    @property
    def extractor_tag(self) -> str:
        return f"{self.extractor.name}@{self.extractor.version}"

    def backends(self) -> dict[str, str]:
        found = {
            "embedder": f"{self.embedder.name}@{self.embedder.version}",
            "nli": f"{self.nli.name}@{self.nli.version}",
        }
        if self.llm is not None:
            found["llm"] = self.llm.name
        return found

    # ------------------------------------------------------------------ population
    @property
    def reference(self) -> ReferenceIndex:
        """The novelty reference set (active SNOs with ``T ≥ τ_ref``), opened on first use.

        Opening a saved index checks it was built by this embedder, so only then is the embedder
        loaded; commands that never score anything (``cns show``) load no model for it.
        """
        with self._reference_lock:
            if self._reference is None:
                feed = self.store
                if not isinstance(feed, ChangeFeed):
                    raise ConfigError(
                        f"the store {type(feed).__name__} has no change feed (changes_since), so the "
                        "novelty reference index cannot follow it; use InMemorySNOStore or SQLStore"
                    )
                model = None if self.index_path is None else f"{self.embedder.name}@{self.embedder.version}"
                self._reference = ReferenceIndex.novelty_reference(
                    feed, self.config, path=self.index_path, model_name=model
                )
            return self._reference

    def reference_index(self) -> VectorIndex:
        """The novelty reference set, brought up to date with the store's change feed.

        Incremental: what this or another process stored since the last call is applied (one
        primary-key read when nothing changed), so every admission, archival and deletion counts.
        """
        reference = self.reference
        reference.sync()
        return reference

    def close(self) -> None:
        """Close the LLM client this manager built and save the reference index if it has a file."""
        self.close_llm()
        with self._reference_lock:
            if self._reference is not None and self._reference.persisted:
                self._reference.save()

    def population(self) -> list[StructuredNarrativeObject]:
        """The active SNOs (admitted, not archived)."""
        return self.store.list(status=SNOStatus.ACTIVE.value)

    def _keep_document_text(self, document: Document) -> None:
        """Give a document stored before the store kept texts its text back when it is ingested again.

        Its narrative page can then show the evidence spans inside the whole document; without this,
        only a resubmission through the API would fill the gap, because every other path skips a
        document whose SNO is already stored.
        """
        documents = getattr(self.store, "documents", None)
        if not isinstance(documents, DocumentRepository):
            return
        if (
            documents.document_exists(document.document_id)
            and documents.document_text(document.document_id) is None
        ):
            documents.put_document(document.text, source=document.source, metadata=document.metadata)
            log.info("sno_ingestion.text_restored", source=document.source)

    def _existing(self, sno_id: str) -> StructuredNarrativeObject | None:
        try:
            return self.store.get(sno_id)
        except SNONotFoundError:
            return None

    # ------------------------------------------------------------------ ingestion
    def ingest_and_evaluate(
        self, document_text: str, source: str, metadata: dict[str, object] | None = None
    ) -> StructuredNarrativeObject:
        """Extract, evaluate and admit or archive one document; return its (stored) SNO.

        Title, author ("By …") and date are read from the top of the text unless ``metadata``
        gives them. Raises :class:`IngestionError` (after logging ``ingestion.failed``), except
        when the database or broker failed under it: that error (:func:`cns.errors.is_transient`)
        is raised as it is, so a worker retries the document instead of failing it for good.
        """
        return self.ingest_document(self._document(document_text, source, metadata))

    def _document(self, text: str, source: str, metadata: dict[str, Any] | None) -> Document:
        """The document of ``text``, with header metadata unless ``metadata`` gives it."""
        try:
            found = text_header_metadata(text) if isinstance(text, str) else {}
            return make_document(text, source, {**found, **(metadata or {})})
        except IngestionError as exc:
            log.warning("ingestion.failed", source=source, reason=exc.message)
            raise

    def ingest_document(self, document: Document) -> StructuredNarrativeObject:
        return self._ingest(document)[0]

    def ingest_job(self, job: JobRecord) -> dict[str, Any] | JobRecord:
        """The ``ingest`` job handler: the SNO id is derived from the document, so reruns are no-ops.

        With a SQL store the document, the SNO and the job's SUCCESS are written in one
        transaction (one commit, and never a stored SNO behind an unfinished job); the completed
        job is then returned. Otherwise — the SNO was already stored, or another store — the
        job's result is returned for the caller to record (:func:`cns.services.jobs.run_job`).
        """
        from cns.core.records import JobCompletion

        payload = job.payload

        def completion(sno: StructuredNarrativeObject) -> JobCompletion:
            # fenced with the claim's token: a worker that lost its lease stores nothing
            return JobCompletion(
                job.job_id, ingest_result(sno, payload.get("document_id")), lease_token=job.lease_token
            )

        text, source = str(payload["text"]), str(payload["source"])
        sno, existed, done = self._ingest(self._document(text, source, payload.get("metadata")), completion)
        return done if done is not None else ingest_result(sno, payload.get("document_id"), duplicate=existed)

    def _ingest(
        self,
        document: Document,
        completion: Callable[[StructuredNarrativeObject], JobCompletion] | None = None,
    ) -> tuple[StructuredNarrativeObject, bool, JobRecord | None]:
        """Ingest ``document``: (its SNO, whether it was already stored, the job ``completion`` recorded)."""
        with bound_context(document_id=document.document_id[:16]):
            log.info("sno_ingestion.started", source=document.source, chars=document.char_count)
            if text_preview_chars() > 0:  # document text only at DEBUG, and only as much as configured
                log.debug("sno_ingestion.text", source=document.source, preview=preview(document.text))
            try:
                sno_id = sno_id_for(document.document_id, self.extractor_tag)
                existing = self._existing(sno_id)
                if existing is not None:
                    log.info(
                        "sno_ingestion.duplicate",
                        sno_id=sno_id,
                        source=document.source,
                        status=existing.status.value,
                    )
                    self._keep_document_text(document)
                    return existing, True, None
                sno, done = self._build_and_evaluate(document, sno_id, completion)
            except IngestionError as exc:
                log.warning("ingestion.failed", source=document.source, reason=exc.message)
                raise
            except (CNSError, ValueError, RuntimeError, OSError) as exc:
                if is_transient(exc):  # the database or broker is away: not this document's fault
                    log.warning("ingestion.interrupted", source=document.source, reason=str(exc)[:300])
                    raise
                reason = f"{type(exc).__name__}: {exc}"
                log.warning("ingestion.failed", source=document.source, reason=reason[:500])
                raise IngestionError(
                    f"could not ingest {document.source!r}: {reason}", source=document.source
                ) from exc
            log.info(
                "sno_evaluation.complete",
                sno_id=sno.sno_id,
                trust_score=sno.trust_score,
                source=document.source,
                status=sno.status.value,
            )
            return sno, False, done

    def _build_and_evaluate(
        self,
        document: Document,
        sno_id: str,
        completion: Callable[[StructuredNarrativeObject], JobCompletion] | None = None,
    ) -> tuple[StructuredNarrativeObject, JobRecord | None]:
        start = time.perf_counter()
        with self.model_session.document():  # extraction and critics share embeddings and NLI judgements
            extraction = self.extractor.extract(document)
            sno = build_sno(
                document,
                extraction,
                sno_id=sno_id,
                embedder=self.model_session.embedder,
                embedding_dim=self.config.embedding_dim,
                backends=self.backends(),
            )
            built = time.perf_counter()
            self.evaluator.evaluate(sno, reference_index=self.reference_index())
            evaluated = time.perf_counter()
        from cns.workflow.lifecycle.admission import admit

        admit(sno, self.config)
        timings = sno.metadata["timings_ms"]
        timings["extract_total"] = round((built - start) * 1000.0, 3)
        timings["evaluate"] = round((evaluated - built) * 1000.0, 3)
        done = None
        if isinstance(self.store, DocumentStore):
            # SQL stores keep the document row that SNOs reference (and that `cns delete` cascades
            # from); it, the SNO and the job's SUCCESS go in one transaction: one commit per document
            done = self.store.put_with_document(
                sno,
                document.text,
                source=document.source,
                metadata=document.metadata,
                completes=None if completion is None else completion(sno),
            )
        else:
            self.store.put(sno)
        # the reference index reads the new SNO from the change feed on its next sync
        timings["total"] = round((time.perf_counter() - start) * 1000.0, 3)
        return sno, done

    def ingest_path(self, path: str | Path, *, max_bytes: int | None = None) -> IngestReport:
        """Ingest a file or a folder (recursively); every input ends up in exactly one report list."""
        return self.ingest_paths([path], max_bytes=max_bytes)

    def loader_limits(self, *, follow_symlinks: bool | None = None) -> LoaderLimits:
        """The ``loaders`` limits of this manager's config (``follow_symlinks`` overrides the config's)."""
        section = self.config.loaders
        follow = section.follow_symlinks if follow_symlinks is None else follow_symlinks
        return LoaderLimits.from_settings(section, follow_symlinks=follow)

    def ingest_paths(
        self,
        paths: Sequence[str | Path],
        *,
        max_bytes: int | None = None,
        follow_symlinks: bool | None = None,
        on_loaded: Callable[[int], None] | None = None,
        on_document: Callable[[IngestedDocument | FailedDocument, bool], None] | None = None,
    ) -> IngestReport:
        """Ingest files and folders; ``on_loaded(n)`` and ``on_document(entry, duplicate)`` report progress.

        Files are read under the ``loaders`` limits of the config (``max_bytes`` overrides
        ``loaders.max_file_bytes``, ``follow_symlinks`` ``loaders.follow_symlinks``). Each document is
        stored in its own transaction as soon as it is evaluated, so an interrupted batch keeps
        everything already reported and a re-run skips it as a duplicate.
        """
        limits = self.loader_limits(follow_symlinks=follow_symlinks)
        loaded = LoadResult()
        for path in paths:
            loaded.extend(load_path(path, max_bytes=max_bytes, limits=limits))
        if on_loaded is not None:
            on_loaded(len(loaded.documents))
        report = IngestReport(skipped=list(loaded.skipped))
        for document in loaded.documents:
            entry: IngestedDocument | FailedDocument
            duplicate = False
            try:
                sno, duplicate, _ = self._ingest(document)
            except IngestionError as exc:
                entry = FailedDocument(document.source, exc.message)
                report.failed.append(entry)
            else:
                reason = sno.metadata.get("archive_reason") if sno.status.value == "archived" else None
                entry = IngestedDocument(
                    document.source,
                    sno.sno_id,
                    document.document_id,
                    sno.status.value,
                    sno.trust_score,
                    reason if isinstance(reason, str) else None,
                )
                (report.duplicates if duplicate else report.ingested).append(entry)
            if on_document is not None:
                on_document(entry, duplicate)
        log.info(
            "ingestion.batch_complete",
            paths=[str(p) for p in paths],
            **{k: v if isinstance(v, int) else len(v) for k, v in report.summary().items()},
        )
        return report

    # ------------------------------------------------------------------ evaluation, pairs, synthesis
    # thin delegations to the population lifecycle (cns.workflow.lifecycle), which every edge shares
    def evaluate(self, sno_id: str) -> StructuredNarrativeObject:
        """Re-run the critics on a stored SNO against the current reference set and store it."""
        from cns.workflow.lifecycle import rescore_one

        return rescore_one(self, sno_id)

    def rescore_population(self) -> int:
        """Re-evaluate all active SNOs (novelty changes as the population grows); returns how many changed."""
        from cns.workflow.lifecycle import rescore_population

        return rescore_population(self).changed

    def find_pairs(self, *, progress: ProgressCallback | None = None) -> PairSearchResult:
        """Chiral pairs of the pairing population, best synthesis potential first (recorded if SQL)."""
        from cns.workflow.lifecycle import find_and_record_pairs

        return find_and_record_pairs(self, progress=progress)

    def synthesize_pair(self, pair: ChiralPair, *, force: bool = False) -> SynthesisResult:
        """Synthesize one pair; the candidate is stored as active if accepted, else archived."""
        from cns.workflow.lifecycle import synthesize_and_store

        return synthesize_and_store(self, pair, force=force)

    def run_cycle(
        self,
        *,
        rescore: bool = True,
        max_syntheses: int | None = None,
        progress: ProgressCallback | None = None,
    ) -> CycleReport:
        """Re-score if the population grew, find pairs and synthesize those not in cooldown."""
        from cns.workflow.cycle import run_cycle

        return run_cycle(self, rescore=rescore, max_syntheses=max_syntheses, progress=progress)
