"""The one registry of model backend names: what ``models.embedding_backend``, ``models.nli_backend``
and ``llm.backend`` may be set to.

The settings are validated against it (an unknown name fails at start-up, naming the key and the
known names), the model factory builds exactly these names (a test checks that every registered
backend has a builder and every builder is registered), and the LLM presets are the registry's
HTTP backends. Adding a backend is one row here plus its builder.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator

BackendKind = Literal["embedding", "nli", "llm"]


@dataclass(frozen=True)
class Backend:
    """One selectable backend."""

    name: str
    summary: str
    #: a deterministic test double (no weights, no network)
    fake: bool = False
    #: an OpenAI-compatible server reached over HTTP (LLM backends only)
    http: bool = False


BACKENDS: dict[BackendKind, tuple[Backend, ...]] = {
    "embedding": (
        Backend("sentence-transformers", "a sentence-transformers model (`models.embedding`)"),
        Backend("fake", "deterministic word-hash vectors", fake=True),
    ),
    "nli": (
        Backend("auto", "`transformers` if its weights are local, else the shipped `embedded` NLI"),
        Backend("embedded", "the small NLI model shipped in the package"),
        Backend("transformers", "an MNLI-style Hugging Face classifier (`models.nli`)"),
        Backend("llm", "NLI judged by the configured LLM (`llm.*`)"),
        Backend("fake", "deterministic rule-based NLI", fake=True),
        Backend("fake-slow", "the rule-based NLI made slow on purpose (time-limit tests)", fake=True),
    ),
    "llm": (
        Backend("none", "no LLM: the offline extractor and synthesizer"),
        Backend("openai", "OpenAI or any OpenAI-compatible endpoint (`llm.base_url`)", http=True),
        Backend("ollama", "an Ollama server", http=True),
        Backend("llamacpp", "a llama.cpp server", http=True),
        Backend("vllm", "a vLLM server", http=True),
        Backend("fake", "scripted replies (tests)", fake=True),
    ),
}

#: The setting each kind is chosen by (for error messages).
SETTING: dict[BackendKind, str] = {
    "embedding": "models.embedding_backend",
    "nli": "models.nli_backend",
    "llm": "llm.backend",
}


def backend_names(kind: BackendKind) -> tuple[str, ...]:
    """The registered names of ``kind``, in registry order."""
    return tuple(b.name for b in BACKENDS[kind])


def http_llm_backends() -> tuple[str, ...]:
    """LLM backends that are a real server reached over HTTP (``none`` and ``fake`` are not)."""
    return tuple(b.name for b in BACKENDS["llm"] if b.http)


def unknown_backend_message(kind: BackendKind, name: str) -> str:
    return f"unknown {kind} backend {name!r}; expected one of: {', '.join(backend_names(kind))}"


def check_backend(kind: BackendKind, name: str) -> str:
    """``name`` normalised (stripped, lower case) if registered; ``ValueError`` naming the known ones."""
    normalised = name.strip().lower()
    if normalised not in backend_names(kind):
        raise ValueError(unknown_backend_message(kind, name))
    return normalised


def _validator(kind: BackendKind) -> AfterValidator:
    return AfterValidator(lambda value: check_backend(kind, value))


#: Setting types: a backend name checked against the registry.
EmbeddingBackendName = Annotated[str, _validator("embedding")]
NLIBackendName = Annotated[str, _validator("nli")]
LLMBackendName = Annotated[str, _validator("llm")]
