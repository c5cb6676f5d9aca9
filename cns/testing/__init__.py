"""Test helpers shipped with the package: deterministic fakes of every model-backed port.

They are selectable from configuration (``models.embedding_backend: fake``,
``models.nli_backend: fake``, ``llm.backend: fake``), so the CLI, the workers and CI run without
model weights or network access.
"""

from cns.testing.fakes import HashEmbedder, RuleNLI, ScriptedLLM

__all__ = ["HashEmbedder", "RuleNLI", "ScriptedLLM"]
