"""CNS 2.0 — Chiral Narrative Synthesis.

The public Python API. Everything listed in ``__all__`` is stable; modules not re-exported
here are implementation details.

The names are imported on first use (:mod:`cns.lazy_exports`): every process of CNS imports this
package on its way to ``cns.api``, ``cns.tasks`` or a parser sandbox, and none of them should pay
for the workflow, the critics and the data model just because the package is their parent.
"""

import typing

from cns.lazy_exports import lazy_exports as _lazy_exports
from cns.version import __version__

if typing.TYPE_CHECKING:
    from cns.config import CNSConfig, CriticWeights
    from cns.core.evidence import EvidenceItem, canonical_key
    from cns.core.graph import ClaimNode, ReasoningEdge, RelationType
    from cns.core.sno import SNOStatus, StructuredNarrativeObject
    from cns.critics import CriticPipeline, CriticResult, EvaluationContext
    from cns.errors import CNSError
    from cns.logging_setup import configure_logging
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

_EXPORTS = {
    "CNSConfig": "cns.config",
    "CriticWeights": "cns.config",
    "EvidenceItem": "cns.core.evidence",
    "canonical_key": "cns.core.evidence",
    "ClaimNode": "cns.core.graph",
    "ReasoningEdge": "cns.core.graph",
    "RelationType": "cns.core.graph",
    "SNOStatus": "cns.core.sno",
    "StructuredNarrativeObject": "cns.core.sno",
    "CriticPipeline": "cns.critics",
    "CriticResult": "cns.critics",
    "EvaluationContext": "cns.critics",
    "CNSError": "cns.errors",
    "configure_logging": "cns.logging_setup",
    "CNSWorkflowManager": "cns.workflow",
}

if not typing.TYPE_CHECKING:
    __getattr__, __dir__ = _lazy_exports(__name__, globals(), _EXPORTS)
