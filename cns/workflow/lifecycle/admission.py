"""Admission: whether an evaluated SNO joins the active population, and why not.

One rule for a freshly ingested SNO and for a re-scored one: active while its trust is above
``thresholds.ingest``, archived with the reason otherwise (never silently dropped). Syntheses
have their own threshold and are admitted by :func:`~cns.workflow.lifecycle.synthesis.finish_synthesis`.
"""

from __future__ import annotations

from cns.config.settings import CNSConfig
from cns.core.sno import SNOStatus, StructuredNarrativeObject


def admit(sno: StructuredNarrativeObject, config: CNSConfig, *, rescored: bool = False) -> str | None:
    """Set ``sno``'s status from its trust; return the archive reason (also in metadata) or None."""
    trust = sno.trust_score if sno.trust_score is not None else 0.0
    threshold = config.thresholds.ingest
    if trust > threshold:
        sno.status = SNOStatus.ACTIVE
        return None
    what = "re-scored trust" if rescored else "trust score"
    reason = f"{what} {trust:.4f} is not above the ingest threshold {threshold} (thresholds.ingest)"
    sno.status = SNOStatus.ARCHIVED
    sno.metadata["archive_reason"] = reason
    return reason
