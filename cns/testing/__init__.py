"""Test helpers shipped with the package: deterministic fakes of every model-backed port.

They are selectable from configuration (``models.embedding_backend: fake``,
``models.nli_backend: fake``, ``llm.backend: fake``), so the CLI, the workers and CI run without
model weights or network access.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cns.lazy_exports import lazy_exports

if TYPE_CHECKING:
    from cns.testing.fakes import HashEmbedder, RuleNLI, ScriptedLLM


__all__ = ["HashEmbedder", "RuleNLI", "ScriptedLLM"]

_EXPORTS = {
    "HashEmbedder": "cns.testing.fakes",
    "RuleNLI": "cns.testing.fakes",
    "ScriptedLLM": "cns.testing.fakes",
}

if not TYPE_CHECKING:
    __getattr__, __dir__ = lazy_exports(__name__, globals(), _EXPORTS)
