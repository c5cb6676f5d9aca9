"""Evidence items and their canonical keys.

Evidential entanglement is a Jaccard index over evidence *identities*. Keyed by a content hash,
two papers citing the same DOI with different snippets would not "share evidence"; keyed by the
raw source id, two spellings of one DOI would not either. So the identity of an evidence item is
its **canonical key** (docs/design-notes.md#evidence-identity):

* a DOI, in any of its spellings (``doi:10.1000/X``, ``https://doi.org/10.1000/x``,
  ``http://dx.doi.org/10.1000/X.``) → ``doi:10.1000/x`` (DOIs are case-insensitive);
* an arXiv id → ``arxiv:2101.00001`` (version suffix dropped);
* a URL → ``url:host/path?query`` with the scheme, ``www.``, fragment, default port, trailing
  slash and trailing punctuation removed and the host lower-cased (paths are case-sensitive);
* anything else → ``sha256:<hash of the normalised, lower-cased content>``.

Items compare equal and hash by that key, so a ``set`` of items is a set of sources.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from cns.core.ids import normalize_text, sha256_hex
from cns.errors import ValidationError

_TRAILING = ".,;:)]}>\"'”’»"
_DOI_IN_TEXT = re.compile(r"\b(10\.\d{4,9}/[^\s\"]+)", re.IGNORECASE)
_DOI_AFTER_PREFIX = re.compile(r"(10\.\d+(?:\.\d+)*/[^\s\"]+)", re.IGNORECASE)
_DOI_PREFIX = re.compile(r"^(?:doi:\s*|https?://(?:dx\.)?doi\.org/)", re.IGNORECASE)
_ARXIV = re.compile(
    r"^(?:arxiv:\s*|https?://(?:www\.)?arxiv\.org/(?:abs|pdf)/)(\d{4}\.\d{4,5})(?:v\d+)?", re.I
)
_URL = re.compile(r"^(?:https?://|www\.)", re.IGNORECASE)


def _strip_trailing(value: str) -> str:
    value = value.strip()
    while value and value[-1] in _TRAILING:
        # keep a closing bracket that belongs to the identifier, e.g. 10.1002/(sici)...(x)
        if value[-1] in ")]}" and value.count(value[-1]) <= value.count(
            {")": "(", "]": "[", "}": "{"}[value[-1]]
        ):
            break
        value = value[:-1]
    return value


def normalize_doi(value: str) -> str | None:
    """Return ``doi:<lower-case doi>`` if ``value`` is a DOI in any common spelling, else ``None``."""
    text, prefixed = _DOI_PREFIX.subn("", value.strip())
    # an explicit doi: / doi.org prefix is trusted with any registrant; a bare 10.x/... needs 4+ digits
    match = (_DOI_AFTER_PREFIX if prefixed else _DOI_IN_TEXT).match(text)
    if match is None:
        return None
    return "doi:" + _strip_trailing(match.group(1)).lower()


def normalize_url(value: str) -> str | None:
    """Return ``url:<host/path?query>`` for an http(s) or www URL, else ``None``."""
    raw = _strip_trailing(value.strip())
    if not _URL.match(raw):
        return None
    if raw.lower().startswith("www."):
        raw = "http://" + raw
    parts = urlsplit(raw)
    host = (parts.hostname or "").lower()
    if not host:
        return None
    host = host.removeprefix("www.")
    if parts.port and parts.port not in (80, 443):
        host = f"{host}:{parts.port}"
    path = parts.path.rstrip("/")
    query = f"?{parts.query}" if parts.query else ""
    return f"url:{host}{path}{query}"


def canonical_key(source_id: str | None, content: str) -> str:
    """The canonical identity of a piece of evidence (see the module docstring)."""
    for is_source, raw in ((True, source_id or ""), (False, content)):
        candidate = raw.strip()
        if not candidate:
            continue
        arxiv = _ARXIV.match(candidate)
        if arxiv:
            return f"arxiv:{arxiv.group(1)}"
        # content is only treated as an identifier when it *is* one (a bare DOI or URL)
        doi = normalize_doi(candidate)
        if doi and (is_source or " " not in candidate):
            return doi
        url = normalize_url(candidate)
        if url and (is_source or " " not in candidate):
            return url
        if is_source:
            # a non-DOI, non-URL source id (document id, dataset hash) is itself an identity
            return "src:" + normalize_text(candidate).lower()
    return "sha256:" + sha256_hex(normalize_text(content).lower())[:32]


@dataclass(frozen=True, eq=False)
class EvidenceItem:
    """A pointer to something that grounds a claim.

    ``content`` is the text used as the NLI premise. ``span`` is an optional ``(start, end)``
    character range of ``content`` inside the source document ``document_id``. ``quality``
    weights the item in the quality-weighted Jaccard index (:func:`cns.metrics.entanglement`).
    """

    content: str
    source_id: str = ""
    span: tuple[int, int] | None = None
    document_id: str | None = None
    confidence: float = 1.0
    quality: float = 1.0
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)
    key: str = field(default="", compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.content, str) or not self.content.strip():
            raise ValidationError("evidence content must be a non-empty string", field="content")
        for name in ("confidence", "quality"):
            value = getattr(self, name)
            if not 0.0 <= float(value) <= 1.0:
                raise ValidationError(f"evidence {name} must be in [0, 1], got {value!r}", field=name)
        if self.span is not None:
            start, end = self.span
            if not (0 <= start <= end):
                raise ValidationError(f"evidence span must satisfy 0 <= start <= end, got {self.span!r}")
            object.__setattr__(self, "span", (int(start), int(end)))
        if not self.key:
            object.__setattr__(self, "key", canonical_key(self.source_id, self.content))

    @property
    def is_source(self) -> bool:
        """False for items that only quote the SNO's own document (``metadata["kind"] == "source_sentence"``).

        Such items ground claims (the NLI premise of the grounding critic) but are not shared
        sources, so entanglement ignores them: otherwise every document's own sentences would
        dilute the Jaccard index of two documents citing the same paper.
        """
        return self.metadata.get("kind") != "source_sentence"

    @property
    def doc_hash(self) -> str:
        """A short content fingerprint: the first 16 hex characters of SHA-256 over ``content``."""
        return sha256_hex(self.content)[:16]

    def __eq__(self, other: object) -> bool:
        return isinstance(other, EvidenceItem) and other.key == self.key

    def __hash__(self) -> int:
        return hash(self.key)

    def to_dict(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "content": self.content,
            "source_id": self.source_id,
            "span": list(self.span) if self.span is not None else None,
            "document_id": self.document_id,
            "confidence": self.confidence,
            "quality": self.quality,
            "doc_hash": self.doc_hash,
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvidenceItem:
        span = data.get("span")
        return cls(
            content=data["content"],
            source_id=data.get("source_id") or "",
            span=(int(span[0]), int(span[1])) if span else None,
            document_id=data.get("document_id"),
            confidence=float(data.get("confidence", 1.0)),
            quality=float(data.get("quality", 1.0)),
            metadata=dict(data.get("metadata") or {}),
            key=data.get("key") or "",
        )
