"""Stable identifiers.

Python's ``hash()`` of a string is salted per process, so ids derived from it differ between
runs and between workers. Every id in CNS is therefore derived from SHA-256
(docs/design-notes.md#deterministic-ids).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from typing import Any

_WHITESPACE = re.compile(r"\s+")


def sha256_hex(data: str | bytes) -> str:
    """Hex SHA-256 of ``data`` (strings are encoded as UTF-8)."""
    raw = data.encode("utf-8") if isinstance(data, str) else data
    return hashlib.sha256(raw).hexdigest()


def normalize_text(text: str) -> str:
    """Unicode NFC, collapsed whitespace, stripped: the form that content hashes are taken over."""
    return _WHITESPACE.sub(" ", unicodedata.normalize("NFC", text)).strip()


def stable_id(*parts: str, length: int = 32) -> str:
    """A deterministic id from ``parts`` (joined unambiguously), truncated to ``length`` hex chars."""
    joined = "\x1f".join(parts)
    return sha256_hex(joined)[:length]


def pair_id_for(sno_a: str, sno_b: str) -> str:
    """The stable id of the unordered pair {a, b}: the same whichever order it is found in."""
    low, high = sorted((sno_a, sno_b))
    return stable_id("pair", low, high)


def canonical_json(value: Any) -> str:
    """JSON with sorted keys and no insignificant whitespace, for hashing structured data."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
