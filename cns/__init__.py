"""CNS 2.0 — Chiral Narrative Synthesis.

The public Python API. Everything listed in ``__all__`` is stable; modules not re-exported
here are implementation details.
"""

from cns.config import CNSConfig, CriticWeights
from cns.core.evidence import EvidenceItem, canonical_key
from cns.core.graph import ClaimNode, ReasoningEdge, RelationType
from cns.core.sno import SNOStatus, StructuredNarrativeObject
from cns.critics import CriticPipeline, CriticResult, EvaluationContext
from cns.errors import CNSError
from cns.logging_setup import configure_logging
from cns.version import __version__
from cns.workflow import CNSWorkflowManager

__all__ = [
    "CNSConfig",
    "CNSError",
    "CNSWorkflowManager",
    "ClaimNode",
    "CriticPipeline",
    "CriticResult",
    "CriticWeights",
    "EvaluationContext",
    "EvidenceItem",
    "ReasoningEdge",
    "RelationType",
    "SNOStatus",
    "StructuredNarrativeObject",
    "__version__",
    "canonical_key",
    "configure_logging",
]
