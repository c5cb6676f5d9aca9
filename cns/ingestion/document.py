"""The unit of ingestion: a document's readable text, where it came from, and what we know about it.

The id is the SHA-256 of the *normalised* text (never Python's salted ``hash()``), so
the same text loaded from a ``.txt`` file, pasted through the API or re-run in another worker
gets the same id, and re-ingesting it is detectable as a duplicate. ``text`` itself is kept
exactly as loaded: every evidence span is a character offset into it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cns.core.ids import normalize_text, sha256_hex
from cns.core.storable import json_problem, text_problem
from cns.errors import IngestionError

#: Metadata keys a loader may fill from the document itself (HTML meta, PDF info, front matter).
DESCRIPTIVE_KEYS = ("title", "author", "date", "url", "source")


def document_id_for(text: str) -> str:
    """The document id: SHA-256 hex of the normalised text (NFC, collapsed whitespace)."""
    return sha256_hex(normalize_text(text))


@dataclass(frozen=True)
class Document:
    """Readable text plus provenance; ``document_id`` is derived, never supplied."""

    text: str
    source: str
    metadata: dict[str, Any] = field(default_factory=dict)
    document_id: str = field(init=False)
    char_count: int = field(init=False)

    def __post_init__(self) -> None:
        if not isinstance(self.text, str) or not self.text.strip():
            raise IngestionError(f"document from {self.source!r} has no readable text", source=self.source)
        # a document the store cannot keep fails here, where a loader skips just it, not its batch
        problem = _storable_problem(self)
        if problem:
            raise IngestionError(
                f"document from {self.source!r} cannot be stored: {problem}", source=self.source
            )
        object.__setattr__(self, "document_id", document_id_for(self.text))
        object.__setattr__(self, "char_count", len(self.text))

    @property
    def title(self) -> str | None:
        value = self.metadata.get("title")
        return str(value) if value else None


def _storable_problem(document: Document) -> str | None:
    """NUL, unpaired surrogates or NaN anywhere the store will put them (see cns.core.storable)."""
    for name, value in (("text", document.text), ("source", document.source)):
        problem = text_problem(value) if isinstance(value, str) else None
        if problem:
            return f"its {name} {problem}"
    return json_problem(document.metadata, "metadata")


def make_document(text: str, source: str, metadata: dict[str, Any] | None = None) -> Document:
    """Build a :class:`Document`, dropping empty metadata values so "not found" stays absent."""
    clean = {k: v for k, v in (metadata or {}).items() if v not in (None, "", [], {})}
    return Document(text=text, source=source, metadata=clean)
