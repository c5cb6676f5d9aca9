"""The summary of a batch ingestion: what became an SNO, what was a duplicate, skipped or failed."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cns.ingestion.loaders import SkippedFile


@dataclass(frozen=True)
class IngestedDocument:
    """One document that produced (or matched) an SNO."""

    source: str
    sno_id: str
    document_id: str
    status: str
    trust_score: float | None
    #: why an archived document is not in the active population (None when active)
    reason: str | None = None


@dataclass(frozen=True)
class FailedDocument:
    source: str
    reason: str


@dataclass
class IngestReport:
    """Every input accounted for: ingested + duplicates + skipped + failed."""

    ingested: list[IngestedDocument] = field(default_factory=list)
    duplicates: list[IngestedDocument] = field(default_factory=list)
    skipped: list[SkippedFile] = field(default_factory=list)
    failed: list[FailedDocument] = field(default_factory=list)

    @property
    def admitted(self) -> list[IngestedDocument]:
        return [d for d in self.ingested if d.status == "active"]

    @property
    def archived(self) -> list[IngestedDocument]:
        return [d for d in self.ingested if d.status == "archived"]

    def summary(self) -> dict[str, Any]:
        """Counts plus the reasons, ready for JSON output or a log line."""
        return {
            "ingested": len(self.ingested),
            "admitted": len(self.admitted),
            "archived": len(self.archived),
            "duplicates": len(self.duplicates),
            "archived_documents": [
                {"source": d.source, "sno_id": d.sno_id, "reason": d.reason} for d in self.archived
            ],
            "skipped": [{"path": s.path, "reason": s.reason} for s in self.skipped],
            "failed": [{"source": f.source, "reason": f.reason} for f in self.failed],
        }
