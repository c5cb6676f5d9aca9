"""Synthesis of chiral pairs into new narratives (docs/synthesis.md).

``SynthesisEngine(config, evaluator=..., llm=None).synthesize(pair, reference)`` returns a
:class:`SynthesisResult` (``accepted``, ``sno``, ``reasons``, ``attempts``, ``strategy``,
``metrics``). Without an LLM the offline dialectical synthesizer is used: template sentences around
quotes of the parents, never a fact of its own. Every claim of either path carries provenance
(parent claims and source spans, :mod:`cns.synthesis.provenance`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cns.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from cns.synthesis.attempts import AttemptLog, AttemptRecord, InMemoryAttemptLog, SynthesisLimiter
    from cns.synthesis.candidate import build_candidate, hypothesis_findings
    from cns.synthesis.dialectical import SECTION_ORDER, offline_candidate, section_text
    from cns.synthesis.engine import SynthesisEngine
    from cns.synthesis.prompt import SYNTHESIS_SCHEMA, EvidenceCatalog, build_messages
    from cns.synthesis.provenance import ProvenanceAudit, audit_provenance
    from cns.synthesis.readability import ReadabilityReport, check_readability
    from cns.synthesis.result import SynthesisResult, synthesis_metrics
    from cns.synthesis.strategy import SynthesisStrategy, select_strategy


__all__ = [
    "SECTION_ORDER",
    "SYNTHESIS_SCHEMA",
    "AttemptLog",
    "AttemptRecord",
    "EvidenceCatalog",
    "InMemoryAttemptLog",
    "ProvenanceAudit",
    "ReadabilityReport",
    "SynthesisEngine",
    "SynthesisLimiter",
    "SynthesisResult",
    "SynthesisStrategy",
    "audit_provenance",
    "build_candidate",
    "build_messages",
    "check_readability",
    "hypothesis_findings",
    "offline_candidate",
    "section_text",
    "select_strategy",
    "synthesis_metrics",
]

_EXPORTS = {
    "AttemptLog": "cns.synthesis.attempts",
    "AttemptRecord": "cns.synthesis.attempts",
    "InMemoryAttemptLog": "cns.synthesis.attempts",
    "SynthesisLimiter": "cns.synthesis.attempts",
    "build_candidate": "cns.synthesis.candidate",
    "hypothesis_findings": "cns.synthesis.candidate",
    "SECTION_ORDER": "cns.synthesis.dialectical",
    "offline_candidate": "cns.synthesis.dialectical",
    "section_text": "cns.synthesis.dialectical",
    "SynthesisEngine": "cns.synthesis.engine",
    "SYNTHESIS_SCHEMA": "cns.synthesis.prompt",
    "EvidenceCatalog": "cns.synthesis.prompt",
    "build_messages": "cns.synthesis.prompt",
    "ProvenanceAudit": "cns.synthesis.provenance",
    "audit_provenance": "cns.synthesis.provenance",
    "ReadabilityReport": "cns.synthesis.readability",
    "check_readability": "cns.synthesis.readability",
    "SynthesisResult": "cns.synthesis.result",
    "synthesis_metrics": "cns.synthesis.result",
    "SynthesisStrategy": "cns.synthesis.strategy",
    "select_strategy": "cns.synthesis.strategy",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
