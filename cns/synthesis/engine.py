"""The synthesis engine: pair → candidate SNO → critics → accept or reject
(docs/design-notes.md#synthesis-is-judged-like-any-narrative).

With an LLM: the dialectical prompt, JSON answer, validation (:mod:`cns.synthesis.candidate`),
critic evaluation, and up to ``population.max_refinements`` refinement rounds fed by the
validator's findings or the critics' verdict. Without one: the offline dialectical synthesizer
(:mod:`cns.synthesis.dialectical`), once.

Both paths then go through the provenance audit (:mod:`cns.synthesis.provenance`): every claim is
traced to the parent spans it rests on, unsupported claims are dropped or flagged, and a
hypothesis no span supports rejects the synthesis with that reason.

The candidate is scored against the **population's** novelty reference index (not only its
parents) — the one :class:`~cns.index.reference.ReferenceIndex` that follows the store, passed in
by the lifecycle, so no attempt rebuilds an index from the whole population — excluding nothing
but itself, and accepted iff ``T ≥ thresholds.synthesis``. Every attempt's raw
text, prompt hash and findings go into ``metadata`` so a synthesis can be audited and replayed.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from cns.config.settings import CNSConfig
from cns.core.ids import stable_id
from cns.core.sno import StructuredNarrativeObject
from cns.critics.evaluator import Evaluator, build_reference_index
from cns.errors import CNSError, LLMResponseError, ModelError, ModelUnavailableError
from cns.logging_setup import get_logger
from cns.models.json_output import extract_json_object
from cns.pairs.types import ChiralPair
from cns.ports import LLMClient, NLIModel, VectorIndex
from cns.synthesis.attempts import AttemptLog, InMemoryAttemptLog, Outcome, SynthesisLimiter
from cns.synthesis.candidate import build_candidate, hypothesis_findings
from cns.synthesis.dialectical import offline_candidate
from cns.synthesis.prompt import EvidenceCatalog, build_messages, prompt_hash, refinement_messages
from cns.synthesis.provenance import audit_provenance
from cns.synthesis.result import SynthesisResult, synthesis_metrics
from cns.synthesis.strategy import SynthesisStrategy, select_strategy

log = get_logger(__name__)


@dataclass
class _Trace:
    """What happened in each attempt (goes into the candidate's provenance metadata)."""

    raw: list[str] = field(default_factory=list)
    prompt_hashes: list[str] = field(default_factory=list)
    findings: list[list[str]] = field(default_factory=list)


class SynthesisEngine:
    """Synthesizes chiral pairs; safe to share between threads (state lives in the attempt log)."""

    def __init__(
        self,
        config: CNSConfig,
        *,
        evaluator: Evaluator,
        llm: LLMClient | None = None,
        nli: NLIModel | None = None,
        attempt_log: AttemptLog | None = None,
        limiter: SynthesisLimiter | None = None,
    ) -> None:
        self.config = config
        self.evaluator = evaluator
        self.llm = llm
        self.nli = nli or evaluator.nli
        self.attempt_log: AttemptLog = attempt_log or InMemoryAttemptLog(
            config.population.synthesis_cooldown_seconds
        )
        self.limiter = limiter or SynthesisLimiter(config.population.max_concurrent_syntheses)
        self._in_flight: set[tuple[str, str]] = set()
        self._in_flight_lock = threading.Lock()

    # ------------------------------------------------------------------ public
    def pending(self, pairs: Sequence[ChiralPair]) -> list[ChiralPair]:
        """The pairs not in cooldown, in the given order (what a synthesis loop should queue)."""
        return [p for p in pairs if self.attempt_log.ready(*p.key)]

    def synthesize(
        self,
        pair: ChiralPair,
        reference: VectorIndex | None = None,
        *,
        force: bool = False,
        slot_timeout: float | None = None,
        attempt_log: AttemptLog | None = None,
    ) -> SynthesisResult:
        """Synthesize ``pair`` unless it is in cooldown (``force`` ignores the cooldown).

        ``reference`` is the novelty reference set the candidate is scored against: in production
        the population's index that follows the store (the lifecycle passes
        ``manager.reference_index()``); None = the two parents only, for a pair judged on its own.
        Model failures become a rejected result with the reason, and
        are recorded as ``error`` attempts; the cooldown applies to every outcome.
        ``attempt_log`` replaces the engine's log for this call: the population lifecycle passes
        one that holds the record back until the synthesized SNO is stored. The engine only
        judges: the status, lineage and source of a stored synthesis are the lifecycle's
        (:func:`cns.workflow.lifecycle.synthesize_and_store`).
        """
        attempts = attempt_log if attempt_log is not None else self.attempt_log
        a_id, b_id = pair.key
        if not force and not attempts.ready(a_id, b_id):
            reason = self._cooldown_reason(attempts, a_id, b_id)
            return SynthesisResult(False, None, [reason], 0, None, skipped=True)
        with self._in_flight_lock:
            busy = pair.key in self._in_flight
            self._in_flight.add(pair.key)
        if busy:  # two loop iterations picked the same pair: one synthesis is enough
            reason = f"pair ({a_id}, {b_id}) is already being synthesized"
            return SynthesisResult(False, None, [reason], 0, None, skipped=True)
        try:
            with self.limiter.slot(slot_timeout):
                started = time.perf_counter()
                try:
                    result = self._run(pair, reference if reference is not None else self._parents(pair))
                except CNSError as exc:
                    attempts.record(a_id, b_id, "error", reason=exc.message)
                    log.warning("synthesis.failed", sno_a=a_id, sno_b=b_id, error=type(exc).__name__)
                    return SynthesisResult(False, None, [exc.message], 0, None)
        finally:
            with self._in_flight_lock:
                self._in_flight.discard(pair.key)
        outcome: Outcome = "accepted" if result.accepted else "rejected"
        attempts.record(
            a_id,
            b_id,
            outcome,
            reason="; ".join(result.reasons[:3]),
            result_sno_id=None if result.sno is None else result.sno.sno_id,
        )
        result.metrics["seconds"] = time.perf_counter() - started
        log.info(
            "synthesis.complete",
            sno_a=a_id,
            sno_b=b_id,
            outcome=outcome,
            strategy=None if result.strategy is None else result.strategy.value,
            attempts=result.attempts,
            trust=result.metrics.get("trust"),
        )
        return result

    # ------------------------------------------------------------------ internals
    def _cooldown_reason(self, attempts: AttemptLog, a_id: str, b_id: str) -> str:
        record = attempts.get(a_id, b_id)
        if record is None:
            return f"pair ({a_id}, {b_id}) is in cooldown"
        when = datetime.fromtimestamp(record.last_attempt_at, UTC).isoformat()
        return (
            f"pair ({a_id}, {b_id}) was attempted at {when} ({record.outcome}); "
            f"cooldown {attempts.cooldown_seconds:.0f} s not elapsed"
        )

    def _parents(self, pair: ChiralPair) -> VectorIndex:
        """The reference set of a pair judged on its own: its trusted parents (two vectors)."""
        return build_reference_index(
            [pair.sno_a, pair.sno_b],
            dimension=self.config.embedding_dim,
            min_trust=self.config.thresholds.novelty_reference_trust,
        )

    def _run(self, pair: ChiralPair, reference: VectorIndex) -> SynthesisResult:
        strategy = select_strategy(pair.chirality, pair.entanglement)
        catalog = EvidenceCatalog.for_pair(pair)
        if self.llm is None:
            return self._offline(pair, catalog, strategy, reference)
        return self._with_llm(self.llm, pair, catalog, strategy, reference)

    def _evaluate(
        self, sno: StructuredNarrativeObject, reference: VectorIndex
    ) -> tuple[bool, list[str], Any]:
        evaluation = self.evaluator.evaluate(sno, reference_index=reference, exclude_ids=[sno.sno_id])
        threshold = self.config.thresholds.synthesis
        if evaluation.trust_score >= threshold:
            return True, [], evaluation
        verdicts = "; ".join(
            f"{n} {r.score:.2f}: {r.explanation}" for n, r in evaluation.critic_results.items()
        )
        return (
            False,
            [f"trust {evaluation.trust_score:.3f} is below thresholds.synthesis {threshold} ({verdicts})"],
            evaluation,
        )

    def _provenance(
        self,
        sno: StructuredNarrativeObject,
        pair: ChiralPair,
        strategy: SynthesisStrategy,
        trace: _Trace,
        model: str,
    ) -> None:
        sno.metadata.update(
            {
                "synthesizer": "llm" if self.llm is not None else "offline",
                "parents": [pair.sno_a.sno_id, pair.sno_b.sno_id],
                "pair_scores": pair.scores(),
                "shared_evidence": sorted(pair.shared_evidence),
                "conflict_points": [c.to_dict() for c in pair.conflict_points],
                "strategy": strategy.value,
                "prompt_sha256": trace.prompt_hashes[0] if trace.prompt_hashes else None,
                "prompt_hashes": list(trace.prompt_hashes),
                "model": model,
                "attempts": len(trace.findings),
                "raw_responses": list(trace.raw),
                "validator_findings": [list(f) for f in trace.findings],
                "synthesized_at": datetime.now(UTC).isoformat(),
            }
        )

    def _finish(
        self,
        sno: StructuredNarrativeObject,
        pair: ChiralPair,
        strategy: SynthesisStrategy,
        trace: _Trace,
        evaluation: Any,
        reasons: list[str],
    ) -> SynthesisResult:
        accepted = not reasons
        sno.metadata["accepted"] = accepted
        if not accepted:
            sno.metadata["rejection"] = reasons
        metrics = synthesis_metrics(pair, sno, evaluation)
        return SynthesisResult(accepted, sno, reasons, len(trace.findings), strategy, metrics)

    def _audit(self, sno: StructuredNarrativeObject, pair: ChiralPair) -> list[str]:
        """Trace every claim to its parent spans; the reason to reject when the hypothesis has none."""
        audit = audit_provenance(
            sno,
            pair,
            self.nli,
            threshold=self.config.thresholds.provenance,
            policy=self.config.population.synthesis_unsupported_claims,
        )
        return [] if audit.rejection is None else [audit.rejection]

    def _offline(
        self,
        pair: ChiralPair,
        catalog: EvidenceCatalog,
        strategy: SynthesisStrategy,
        reference: VectorIndex,
    ) -> SynthesisResult:
        sno_id = stable_id("synthesis", "offline", *pair.key)
        sno = offline_candidate(
            pair, catalog, self.nli, sno_id=sno_id, threshold=self.config.thresholds.provenance
        )
        findings = hypothesis_findings(sno.central_hypothesis, pair, self.evaluator.embedder)
        trace = _Trace(findings=[findings])
        self._provenance(sno, pair, strategy, trace, "offline")
        if findings:
            return SynthesisResult(False, None, findings, 1, strategy)
        unsupported = self._audit(sno, pair)
        _, reasons, evaluation = self._evaluate(sno, reference)
        return self._finish(sno, pair, strategy, trace, evaluation, unsupported + reasons)

    def _with_llm(
        self,
        llm: LLMClient,
        pair: ChiralPair,
        catalog: EvidenceCatalog,
        strategy: SynthesisStrategy,
        reference: VectorIndex,
    ) -> SynthesisResult:
        messages = build_messages(pair, strategy, catalog)
        trace = _Trace()
        rounds = 1 + self.config.population.max_refinements
        best: tuple[StructuredNarrativeObject, Any, list[str]] | None = None
        for attempt in range(rounds):
            trace.prompt_hashes.append(prompt_hash(messages))
            try:
                raw = llm.complete(
                    messages,
                    temperature=min(1.0, self.config.llm.temperature + 0.1 * attempt),
                    max_tokens=self.config.llm.max_tokens,
                )
            except ModelUnavailableError as exc:  # refinement rounds cannot help when the server is down
                if self.config.llm.on_unavailable == "fail":
                    raise
                return self._offline_fallback(pair, catalog, strategy, reference, exc.message)
            except ModelError as exc:
                trace.raw.append("")
                trace.findings.append([f"the model call failed: {exc.message}"])
                continue
            trace.raw.append(raw)
            sno, findings = self._candidate(raw, pair, catalog, strategy)
            if sno is not None:
                unsupported = self._audit(sno, pair)
                ok, findings, evaluation = self._evaluate(sno, reference)
                findings = unsupported + findings
                best = (sno, evaluation, findings)
                if ok and not unsupported:
                    trace.findings.append([])
                    break
            trace.findings.append(findings)
            messages = messages + refinement_messages(raw, findings)
        if best is None:
            last = trace.findings[-1] if trace.findings else ["no attempt was made"]
            reasons = [f"no valid candidate after {len(trace.findings)} attempt(s)", *last]
            return SynthesisResult(
                False, None, reasons, len(trace.findings), strategy, {"findings": trace.findings}
            )
        sno, evaluation, reasons = best
        self._provenance(sno, pair, strategy, trace, llm.name)
        return self._finish(sno, pair, strategy, trace, evaluation, reasons)

    def _offline_fallback(
        self,
        pair: ChiralPair,
        catalog: EvidenceCatalog,
        strategy: SynthesisStrategy,
        reference: VectorIndex,
        reason: str,
    ) -> SynthesisResult:
        """The LLM became unreachable mid-run: synthesize offline and say so on the SNO."""
        log.warning("synthesis.llm_unavailable_fallback", sno_a=pair.sno_a.sno_id, sno_b=pair.sno_b.sno_id)
        result = self._offline(pair, catalog, strategy, reference)
        if result.sno is not None:
            result.sno.metadata["synthesizer"] = "offline"
            result.sno.metadata["synthesizer_fallback"] = f"offline (llm unavailable: {reason})"[:1000]
        return result

    def _candidate(
        self, raw: str, pair: ChiralPair, catalog: EvidenceCatalog, strategy: SynthesisStrategy
    ) -> tuple[StructuredNarrativeObject | None, list[str]]:
        try:
            data = extract_json_object(raw)
        except LLMResponseError as exc:
            return None, [f"invalid JSON: {exc.message}"]
        sno_id = stable_id("synthesis", strategy.value, *pair.key, raw)
        check = build_candidate(data, pair, catalog, sno_id=sno_id, embedder=self.evaluator.embedder)
        return check.sno, check.findings
