"""Presets of the one OpenAI-compatible client for the servers people actually run.

``llm.backend`` names a server (``openai``, ``ollama``, ``llamacpp``, ``vllm``); the preset fills
in what a new user should not have to know: the server's default address, whether it needs an
API key, how it is asked for structured (JSON) output, and what a model name looks like there.
Every value can still be overridden in ``llm.*``; the client itself is the same for all of them.

How each server constrains output to JSON through its OpenAI-compatible endpoint:

* OpenAI: ``response_format: {"type": "json_object"}`` (its strict ``json_schema`` mode requires
  schemas written for it — every property required, no extra keys — which ours are not);
* Ollama (0.5 and later) and llama.cpp's ``llama-server``: ``response_format`` of type
  ``json_schema`` — both turn the schema into a grammar, so even a small model writes valid JSON;
* vLLM: ``response_format`` of type ``json_schema`` (guided decoding on the server).

The schema is always also written into the prompt, and the reply is always validated, so a server
that ignores ``response_format`` still works, it only needs the repair round more often.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from cns.errors import ConfigError

if TYPE_CHECKING:
    from cns.config.settings import LLMConfig

StructuredOutput = Literal["json_schema", "json_object", "none"]


@dataclass(frozen=True)
class LLMPreset:
    """What cns assumes about one kind of OpenAI-compatible server."""

    backend: str
    label: str
    default_base_url: str | None
    api_key_required: bool
    structured_output: StructuredOutput
    model_hint: str
    start_hint: str
    model_name_enforced: bool = True  # False: the server answers with its one loaded model whatever the name


PRESETS: dict[str, LLMPreset] = {
    "openai": LLMPreset(
        "openai",
        "OpenAI or any OpenAI-compatible endpoint",
        None,
        False,
        "json_object",
        "the served model name, e.g. gpt-4o-mini",
        "set llm.base_url to the endpoint, e.g. https://api.openai.com/v1",
    ),
    "ollama": LLMPreset(
        "ollama",
        "Ollama",
        "http://127.0.0.1:11434/v1",
        False,
        "json_schema",
        "a pulled model tag, e.g. llama3.2:3b or qwen2.5:7b-instruct (see `ollama list`)",
        "start it with `ollama serve` and pull the model, e.g. `ollama pull llama3.2:3b`",
    ),
    "llamacpp": LLMPreset(
        "llamacpp",
        "llama.cpp server",
        "http://127.0.0.1:8080/v1",
        False,
        "json_schema",
        "any name works with one loaded model; the server lists it under GET /v1/models",
        "start it with `llama-server -m model.gguf --port 8080`",
        model_name_enforced=False,
    ),
    "vllm": LLMPreset(
        "vllm",
        "vLLM",
        "http://127.0.0.1:8000/v1",
        False,
        "json_schema",
        "the Hugging Face id the server was started with, e.g. Qwen/Qwen2.5-7B-Instruct",
        "start it with `vllm serve Qwen/Qwen2.5-7B-Instruct --port 8000`",
    ),
}

#: Backends that are a real server reached over HTTP (``none`` and ``fake`` are not).
HTTP_BACKENDS = tuple(PRESETS)


def preset_for(backend: str) -> LLMPreset:
    """The preset of an HTTP backend; ``KeyError`` for ``none``/``fake``."""
    return PRESETS[backend]


def response_format(mode: StructuredOutput, schema: dict[str, Any]) -> dict[str, Any] | None:
    """The ``response_format`` field that asks a server for JSON in ``mode`` (``None``: do not ask)."""
    if mode == "json_schema":
        return {"type": "json_schema", "json_schema": {"name": "cns_response", "schema": schema}}
    if mode == "json_object":
        return {"type": "json_object"}
    return None


@dataclass(frozen=True)
class ResolvedLLMSettings:
    """``llm.*`` after the preset filled the gaps: what the client actually uses."""

    backend: str
    base_url: str
    model: str
    structured_output: StructuredOutput
    base_url_from_preset: bool


def resolve_llm_settings(config: LLMConfig) -> ResolvedLLMSettings:
    """Apply the backend's preset to ``config``; a missing URL or model is a :class:`ConfigError`."""
    preset = PRESETS.get(config.backend)
    if preset is None:
        raise ConfigError.for_key(
            "llm.backend", f"{config.backend!r} is not a server backend; expected one of {HTTP_BACKENDS}"
        )
    base_url = (config.base_url or "").strip() or preset.default_base_url
    if not base_url:
        raise ConfigError.for_key(
            "llm.base_url",
            f"required for llm.backend {preset.backend!r}; {preset.start_hint} (env CNS_LLM__BASE_URL). "
            "For a local server use llm.backend ollama, llamacpp or vllm, which know their address",
        )
    if not base_url.startswith(("http://", "https://")):
        raise ConfigError.for_key("llm.base_url", f"must start with http:// or https://, got {base_url!r}")
    if not config.model or not config.model.strip():
        raise ConfigError.for_key(
            "llm.model",
            f"required for llm.backend {preset.backend!r}: {preset.model_hint} (env CNS_LLM__MODEL); "
            "`cns llm check` lists the models the server offers",
        )
    mode: StructuredOutput = (
        preset.structured_output if config.structured_output == "auto" else config.structured_output
    )
    return ResolvedLLMSettings(
        preset.backend, base_url, config.model.strip(), mode, not (config.base_url or "").strip()
    )
