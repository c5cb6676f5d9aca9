"""``cns llm check`` and the up-front check of ``cns run``: is the configured LLM usable right now?

Three steps, each with its own verdict, so a user learns exactly what to fix before a long run:
the server answers ``GET /v1/models`` (reachable), it lists the configured model, and one small
structured-JSON round trip comes back valid. The probe client never retries and has a short
timeout: a check that is down must say so in seconds, not after a retry cycle per step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from cns.config.settings import LLMConfig
from cns.errors import CNSError, ConfigError, LLMResponseError, ModelUnavailableError
from cns.models.llm_openai import OpenAICompatibleLLM
from cns.models.llm_presets import preset_for, resolve_llm_settings

#: Exit codes of ``cns llm check`` (1 stays "configuration or other CNS error", as for every command).
EXIT_OK = 0
EXIT_UNREACHABLE = 2
EXIT_MODEL_MISSING = 3
EXIT_BAD_JSON = 4

PROBE_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {"answer": {"type": "string", "minLength": 1}, "confident": {"type": "boolean"}},
    "required": ["answer", "confident"],
}
PROBE_MESSAGES = [
    {"role": "system", "content": "You answer in JSON."},
    {"role": "user", "content": "Which is larger, 7 or 12? Give the answer and whether you are confident."},
]


@dataclass(frozen=True)
class CheckStep:
    """One step's verdict: ``ok`` False stops the check; ``detail`` is written for a person."""

    name: str
    ok: bool
    detail: str
    seconds: float


@dataclass
class LLMCheckReport:
    backend: str
    base_url: str
    model: str
    structured_output: str
    steps: list[CheckStep] = field(default_factory=list)
    exit_code: int = EXIT_OK

    @property
    def ok(self) -> bool:
        return self.exit_code == EXIT_OK

    @property
    def problem(self) -> str:
        """The failing step's detail (empty when everything passed)."""
        return next((s.detail for s in self.steps if not s.ok), "")

    def to_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "exit_code": self.exit_code,
            "backend": self.backend,
            "base_url": self.base_url,
            "model": self.model,
            "structured_output": self.structured_output,
            "steps": [s.__dict__ for s in self.steps],
        }


def probe_client(config: LLMConfig) -> OpenAICompatibleLLM:
    """A client for checks: the configured endpoint, no retries, the check timeout, no breaker."""
    resolved = resolve_llm_settings(config)
    return OpenAICompatibleLLM(
        resolved.base_url,
        resolved.model,
        api_key=config.api_key,
        timeout_seconds=config.check_timeout_seconds,
        max_retries=0,
        temperature=0.0,
        max_tokens=128,
        structured_output=resolved.structured_output,
    )


def check_llm(config: LLMConfig, *, json_round_trip: bool = True) -> LLMCheckReport:
    """Run the steps in order and stop at the first failure; raises only :class:`ConfigError`."""
    resolved = resolve_llm_settings(config)
    report = LLMCheckReport(resolved.backend, resolved.base_url, resolved.model, resolved.structured_output)
    preset = preset_for(resolved.backend)
    with probe_client(config) as client:
        started = time.monotonic()
        try:
            served = client.list_models()
        except ConfigError:
            raise
        except CNSError as exc:
            hint = f" Is the server running? ({preset.start_hint})" if preset.default_base_url else ""
            return _fail(report, "reachable", f"{exc.message}.{hint}", started, EXIT_UNREACHABLE)
        listed = ", ".join(served[:8]) + (" …" if len(served) > 8 else "") or "none"
        report.steps.append(
            CheckStep("reachable", True, f"{resolved.base_url} lists {listed}", _since(started))
        )
        started = time.monotonic()
        present = _model_listed(resolved.model, served)
        if not present and preset.model_name_enforced:
            detail = (
                f"model {resolved.model!r} is not served here; the server lists: {listed}. "
                f"Set llm.model to one of them ({preset.model_hint})"
            )
            return _fail(report, "model", detail, started, EXIT_MODEL_MISSING)
        note = "listed" if present else f"not listed, but {preset.label} answers with its loaded model"
        report.steps.append(CheckStep("model", True, f"{resolved.model!r} {note}", _since(started)))
        if json_round_trip:
            _round_trip(client, report, preset.label)
    return report


def _round_trip(client: OpenAICompatibleLLM, report: LLMCheckReport, label: str) -> None:
    started = time.monotonic()
    try:
        answer = client.complete_json(PROBE_MESSAGES, PROBE_SCHEMA, temperature=0.0, max_tokens=128)
    except LLMResponseError as exc:
        detail = (
            f"{exc.message}. The server did not return valid JSON (structured output "
            f"{client.structured_output!r}); synthesis and extraction need it — use a larger or "
            f"instruction-tuned model, or a {label} version that supports response_format"
        )
        _fail(report, "json", detail, started, EXIT_BAD_JSON)
        return
    except ModelUnavailableError as exc:
        code = EXIT_MODEL_MISSING if exc.details.get("status_code") == 404 else EXIT_UNREACHABLE
        _fail(report, "json", exc.message, started, code)
        return
    except CNSError as exc:
        _fail(report, "json", exc.message, started, EXIT_BAD_JSON)
        return
    report.structured_output = client.structured_output
    detail = f"valid JSON {answer} (structured output {client.structured_output!r})"
    report.steps.append(CheckStep("json", True, detail[:300], _since(started)))


def _model_listed(model: str, served: list[str]) -> bool:
    """Ollama lists ``llama3.2:latest`` for a model pulled and requested as ``llama3.2``."""
    return model in served or f"{model}:latest" in served


def _fail(report: LLMCheckReport, step: str, detail: str, started: float, code: int) -> LLMCheckReport:
    report.steps.append(CheckStep(step, False, detail, _since(started)))
    report.exit_code = code
    return report


def _since(started: float) -> float:
    return round(time.monotonic() - started, 3)
