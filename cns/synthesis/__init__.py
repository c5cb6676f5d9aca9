"""Synthesis of chiral pairs into new narratives (spec §6, §13 G8, G10, G12).

``SynthesisEngine(config, evaluator=..., llm=None).synthesize(pair, population=...)`` returns a
:class:`SynthesisResult` (``accepted``, ``sno``, ``reasons``, ``attempts``, ``strategy``,
``metrics``). Without an LLM the extractive synthesizer is used; it writes no text of its own.
"""

from cns.synthesis.attempts import AttemptLog, AttemptRecord, InMemoryAttemptLog, SynthesisLimiter
from cns.synthesis.candidate import build_candidate, hypothesis_findings
from cns.synthesis.engine import SynthesisEngine
from cns.synthesis.extractive import GLUE_WORDS, extractive_candidate
from cns.synthesis.prompt import SYNTHESIS_SCHEMA, EvidenceCatalog, build_messages
from cns.synthesis.result import SynthesisResult, synthesis_metrics
from cns.synthesis.strategy import SynthesisStrategy, select_strategy

__all__ = [
    "GLUE_WORDS",
    "SYNTHESIS_SCHEMA",
    "AttemptLog",
    "AttemptRecord",
    "EvidenceCatalog",
    "InMemoryAttemptLog",
    "SynthesisEngine",
    "SynthesisLimiter",
    "SynthesisResult",
    "SynthesisStrategy",
    "build_candidate",
    "build_messages",
    "extractive_candidate",
    "hypothesis_findings",
    "select_strategy",
    "synthesis_metrics",
]
