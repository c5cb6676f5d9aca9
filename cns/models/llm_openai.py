"""``LLMClient`` for OpenAI-compatible ``/v1/chat/completions`` servers (OpenAI, vLLM, Ollama, llama.cpp).

Why it looks the way it does:

* one ``httpx.Client`` per instance, so connections are pooled and reused across calls;
* transient failures (408/409/429, 5xx, connect errors, timeouts, dropped connections) are retried with
  exponential backoff ``backoff_seconds · 2^attempt``; a ``Retry-After`` header is honoured but
  capped so a misbehaving server cannot stall a synthesis for minutes; other 4xx are the caller's
  or the operator's mistake and fail at once with the server's own message;
* with ``json_schema`` the server is asked for JSON the way it understands (``llm.structured_output``,
  from the backend preset, :mod:`cns.models.llm_presets`), and the reply is parsed
  (:mod:`cns.models.json_output`), validated, and repaired once by sending the problems back to the
  model — small local models often need exactly one nudge; a server that rejects the requested
  ``response_format`` is asked again with the next weaker form (json_schema → json_object → none);
* a circuit breaker: once a call has failed to reach the server at all (every retry a connection
  error), further calls fail at once for ``circuit_reset_seconds`` instead of each spending its own
  retries — a server that is down costs one retry cycle, not one per document;
* the API key and prompts never reach the logs: only sizes, a short hash, token counts, latency.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import random
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
from pydantic import SecretStr

from cns.config.settings import LLMConfig
from cns.errors import ConfigError, LLMResponseError, ModelUnavailableError
from cns.logging_setup import get_logger
from cns.models.circuit import CircuitBreaker
from cns.models.json_output import extract_json_object, validate_json
from cns.models.llm_presets import StructuredOutput, resolve_llm_settings, response_format

log = get_logger(__name__)

_JSON_INSTRUCTION = (
    "Reply with only a JSON object (no prose, no code fences) that matches this JSON schema:\n"
)
_RETRYABLE_STATUS = frozenset({408, 409, 429})  # plus every 5xx; the same set the official SDK retries
_WEAKER_FORMAT: dict[StructuredOutput, StructuredOutput] = {
    "json_schema": "json_object",
    "json_object": "none",
}
_REPAIR_INSTRUCTION = (
    "Your previous reply was not valid: {problems}. Reply again with only the corrected JSON object "
    "matching the schema."
)


@dataclass(frozen=True)
class LLMUsage:
    """Cumulative token usage of one client (as reported by the server)."""

    prompt_tokens: int = 0
    completion_tokens: int = 0
    calls: int = 0

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def normalise_base_url(base_url: str) -> str:
    """``http://host:11434``, ``…/v1`` and ``…/v1/`` all become ``…/v1`` (no trailing slash)."""
    url = base_url.strip().rstrip("/")
    url = url.removesuffix("/chat/completions")
    return url if url.endswith("/v1") else url + "/v1"


def _error_message(response: httpx.Response) -> str:
    """The server's own error text (OpenAI ``{"error": {"message": ...}}`` or the raw body)."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])[:500]
    if isinstance(error, str):
        return error[:500]
    return json.dumps(body)[:500]


def _retry_after_seconds(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


class OpenAICompatibleLLM:
    """Synchronous, thread-safe chat client; use as a context manager or call :meth:`close`."""

    def __init__(
        self,
        base_url: str,
        model: str,
        *,
        api_key: SecretStr | str | None = None,
        timeout_seconds: float = 60.0,
        max_retries: int = 3,
        backoff_seconds: float = 1.0,
        max_retry_after_seconds: float = 30.0,
        jitter: bool = False,
        temperature: float = 0.2,
        max_tokens: int = 2048,
        structured_output: StructuredOutput = "json_object",
        circuit_reset_seconds: float = 0.0,
    ) -> None:
        self._url = normalise_base_url(base_url)
        self._model = model
        self._max_retries = max_retries
        self._backoff = backoff_seconds
        self._retry_after_cap = max_retry_after_seconds
        self._jitter = jitter
        self._temperature = temperature
        self._max_tokens = max_tokens
        self._structured: StructuredOutput = structured_output  # weakened once the server rejects it
        self._circuit = CircuitBreaker(circuit_reset_seconds)
        self._lock = threading.Lock()
        self._usage = LLMUsage()
        key = api_key.get_secret_value() if isinstance(api_key, SecretStr) else api_key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._http = httpx.Client(base_url=self._url, headers=headers, timeout=httpx.Timeout(timeout_seconds))

    @classmethod
    def from_config(cls, config: LLMConfig) -> OpenAICompatibleLLM:
        """Build from ``llm.*`` settings and the backend's preset; a missing URL or model is a
        :class:`ConfigError` naming the key."""
        resolved = resolve_llm_settings(config)
        return cls(
            resolved.base_url,
            resolved.model,
            api_key=config.api_key,
            timeout_seconds=config.timeout_seconds,
            max_retries=config.max_retries,
            backoff_seconds=config.backoff_seconds,
            temperature=config.temperature,
            max_tokens=config.max_tokens,
            structured_output=resolved.structured_output,
            circuit_reset_seconds=config.circuit_reset_seconds,
        )

    @property
    def name(self) -> str:
        return self._model

    @property
    def base_url(self) -> str:
        return self._url

    @property
    def structured_output(self) -> StructuredOutput:
        """How JSON is requested now (weaker than configured if the server rejected the stronger form)."""
        return self._structured

    def list_models(self) -> list[str]:
        """Model ids the server lists under ``GET /models`` (one request, no retries: a probe)."""
        self._circuit.check(self._url, self._model)
        try:
            response = self._http.get("/models")
        except httpx.TransportError as exc:
            raise ModelUnavailableError(
                f"cannot reach the LLM server at {self._url}: {type(exc).__name__}: {exc}",
                url=self._url,
            ) from None
        if response.status_code in (401, 403):
            raise self._client_error(response.status_code, _error_message(response))
        if not response.is_success:
            raise ModelUnavailableError(
                f"GET {self._url}/models answered HTTP {response.status_code}: {_error_message(response)}",
                url=self._url,
                status_code=response.status_code,
            )
        body = self._json_body(response)
        data = body.get("data") if isinstance(body.get("data"), list) else body.get("models")
        if not isinstance(data, list):
            raise LLMResponseError(
                f"GET {self._url}/models did not return an OpenAI model list", raw=response.text[:2000]
            )
        return [str(m.get("id") or m.get("name")) for m in data if isinstance(m, dict)]

    @property
    def usage(self) -> LLMUsage:
        """Tokens used so far by this client (prompt + completion, summed over calls)."""
        with self._lock:
            return self._usage

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> OpenAICompatibleLLM:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def complete(
        self,
        messages: Sequence[dict[str, str]],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
        json_schema: dict[str, Any] | None = None,
    ) -> str:
        """The assistant's text; with ``json_schema`` the validated object re-serialised as JSON."""
        if json_schema is None:
            return self._chat(list(messages), temperature, max_tokens, schema=None)
        return json.dumps(
            self.complete_json(messages, json_schema, temperature=temperature, max_tokens=max_tokens)
        )

    def complete_json(
        self,
        messages: Sequence[dict[str, str]],
        schema: dict[str, Any],
        *,
        temperature: float | None = None,
        max_tokens: int | None = None,
    ) -> dict[str, Any]:
        """A dict valid against ``schema``; one repair round-trip, then :class:`LLMResponseError`."""
        conversation = _with_schema_instruction(messages, schema)
        raw = self._chat(conversation, temperature, max_tokens, schema=schema)
        problems, data = _check(raw, schema)
        if not problems:
            return data
        log.warning("llm.json.repair", model=self._model, problems=len(problems), reply_chars=len(raw))
        repair = _REPAIR_INSTRUCTION.format(problems="; ".join(problems[:10]))
        conversation += [{"role": "assistant", "content": raw}, {"role": "user", "content": repair}]
        raw = self._chat(conversation, temperature, max_tokens, schema=schema)
        problems, data = _check(raw, schema)
        if not problems:
            return data
        raise LLMResponseError(
            f"model {self._model!r} returned invalid JSON twice (after one repair request): "
            f"{'; '.join(problems[:5])}. Try a larger model or a lower temperature",
            raw=raw,
            problems=problems,
        )

    def _chat(
        self,
        messages: list[dict[str, str]],
        temperature: float | None,
        max_tokens: int | None,
        *,
        schema: dict[str, Any] | None,
    ) -> str:
        payload: dict[str, Any] = {
            "model": self._model,
            "messages": messages,
            "temperature": self._temperature if temperature is None else temperature,
            "max_tokens": self._max_tokens if max_tokens is None else max_tokens,
        }
        body, attempt, latency_ms = self._post_with_retries(payload, schema)
        return self._read_reply(body, messages, attempt, latency_ms)

    def _post_with_retries(
        self, payload: dict[str, Any], schema: dict[str, Any] | None
    ) -> tuple[dict[str, Any], int, float]:
        """POST until success; return (body, attempt number, latency of the successful call)."""
        self._circuit.check(self._url, self._model)
        if schema is not None:
            wanted = response_format(self._structured, schema)
            payload = {k: v for k, v in payload.items() if k != "response_format"}
            if wanted is not None:
                payload["response_format"] = wanted
        last_problem = "no attempt made"
        connect_failures = 0
        for attempt in range(self._max_retries + 1):
            started = time.monotonic()
            retry_after: float | None = None
            try:
                response = self._http.post("/chat/completions", json=payload)
            except httpx.TransportError as exc:  # connect errors, timeouts, dropped connections
                last_problem = f"{type(exc).__name__}: {exc}"
                connect_failures += isinstance(exc, httpx.ConnectError)
            else:
                latency_ms = round((time.monotonic() - started) * 1000, 1)
                if response.is_success:
                    return self._json_body(response), attempt + 1, latency_ms
                message = _error_message(response)
                status = response.status_code
                if status == 400 and "response_format" in payload and _mentions_format(message):
                    weaker = _WEAKER_FORMAT.get(self._structured, "none")
                    log.warning(
                        "llm.structured_output_unsupported",
                        model=self._model,
                        rejected=self._structured,
                        next=weaker,
                    )
                    self._structured = weaker
                    return self._post_with_retries(payload, schema)
                if status not in _RETRYABLE_STATUS and status < 500:
                    raise self._client_error(status, message)
                last_problem = f"HTTP {status}: {message}"
                retry_after = _retry_after_seconds(response)
            if attempt < self._max_retries:
                delay = self._delay(attempt, retry_after)
                log.warning(
                    "llm.call.retry",
                    model=self._model,
                    attempt=attempt + 1,
                    problem=last_problem[:200],
                    delay_s=round(delay, 3),
                )
                time.sleep(delay)
        if connect_failures == self._max_retries + 1:
            self._circuit.trip(self._url, last_problem)
        raise ModelUnavailableError(
            f"LLM endpoint {self._url} (model {self._model!r}) failed {self._max_retries + 1} attempt(s); "
            f"last: {last_problem}. Check that the server is running and llm.base_url is right, "
            "or raise llm.timeout_seconds / llm.max_retries",
            url=self._url,
            model=self._model,
        )

    def _delay(self, attempt: int, retry_after: float | None) -> float:
        delay = self._backoff * (2**attempt)
        if self._jitter:
            delay *= random.uniform(0.5, 1.5)  # jitter, not cryptography
        if retry_after is not None:
            delay = max(delay, min(retry_after, self._retry_after_cap))
        return float(delay)

    def _client_error(self, status: int, message: str) -> Exception:
        if status in (401, 403):
            return ConfigError.for_key(
                "llm.api_key",
                f"the LLM server refused the credentials (HTTP {status}: {message}); "
                "set a valid key (env CNS_LLM__API_KEY)",
            )
        if status == 404:
            return ModelUnavailableError(
                f"HTTP 404 from {self._url}/chat/completions: {message}. Check llm.base_url and that "
                f"model {self._model!r} is served (llm.model)",
                status_code=status,
            )
        return LLMResponseError(
            f"the LLM server rejected the request (HTTP {status}): {message}", status_code=status
        )

    def _json_body(self, response: httpx.Response) -> dict[str, Any]:
        try:
            body = response.json()
        except ValueError:
            raise LLMResponseError(
                f"the LLM server answered HTTP {response.status_code} with a non-JSON body; "
                "is llm.base_url an OpenAI-compatible endpoint?",
                raw=response.text[:2000],
            ) from None
        if not isinstance(body, dict):
            raise LLMResponseError("the LLM server's body is not a JSON object", raw=response.text[:2000])
        return body

    def _read_reply(
        self, body: dict[str, Any], messages: list[dict[str, str]], attempt: int, latency: float
    ) -> str:
        try:
            choice = body["choices"][0]
            content = choice["message"]["content"]
        except (KeyError, IndexError, TypeError):
            raise LLMResponseError(
                "the LLM reply has no choices[0].message.content", raw=json.dumps(body)[:2000]
            ) from None
        if not isinstance(content, str):
            raise LLMResponseError(
                "the LLM reply's content is empty (refusal or tool call?)", raw=json.dumps(body)[:2000]
            )
        usage = body.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        prompt_tokens = _token_count(usage.get("prompt_tokens"))
        completion_tokens = _token_count(usage.get("completion_tokens"))
        with self._lock:
            old = self._usage
            self._usage = LLMUsage(
                old.prompt_tokens + prompt_tokens, old.completion_tokens + completion_tokens, old.calls + 1
            )
        prompt_bytes = json.dumps(messages, sort_keys=True).encode("utf-8")
        log.info(
            "llm.call.complete",
            model=self._model,
            latency_ms=latency,
            attempt=attempt,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            prompt_chars=len(prompt_bytes),
            prompt_sha=hashlib.sha256(prompt_bytes).hexdigest()[:12],
            reply_chars=len(content),
            finish_reason=choice.get("finish_reason"),
        )
        if choice.get("finish_reason") == "length":
            log.warning("llm.reply_truncated", model=self._model, completion_tokens=completion_tokens)
        return content


def _mentions_format(message: str) -> bool:
    """Whether a 400's text is about the structured-output request (so a weaker form may work)."""
    lowered = message.lower()
    return any(word in lowered for word in ("response_format", "json_schema", "json_object", "grammar"))


def _token_count(value: Any) -> int:
    """A usage count as reported; anything but a count ("many", [], 1e400, -5) is 0.

    Usage is bookkeeping: a server that garbles it must not fail the completion it came with, as
    ``int(value)`` did with ValueError/TypeError/OverflowError (found by fuzzing, issue 8).
    """
    if isinstance(value, bool):
        return 0
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, str):  # "12" from lenient servers; bounded, as int() refuses > 4300 digits
        text = value.strip()
        value = int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else 0
    return value if isinstance(value, int) and value >= 0 else 0


def _with_schema_instruction(
    messages: Sequence[dict[str, str]], schema: dict[str, Any]
) -> list[dict[str, str]]:
    """Append the schema to the last user turn: portable across chat templates that reject extra
    system turns, and it satisfies OpenAI's rule that JSON mode prompts must mention JSON."""
    conversation = [dict(m) for m in messages]
    instruction = _JSON_INSTRUCTION + json.dumps(schema, separators=(",", ":"))
    for message in reversed(conversation):
        if message.get("role") == "user":
            message["content"] = f"{message.get('content', '')}\n\n{instruction}"
            return conversation
    return [*conversation, {"role": "user", "content": instruction}]


def _check(raw: str, schema: dict[str, Any]) -> tuple[list[str], dict[str, Any]]:
    try:
        data = extract_json_object(raw)
    except LLMResponseError as exc:
        return [exc.message], {}
    return validate_json(data, schema), data
