"""NLI by prompting an LLM (``models.nli_backend: llm``) for when no NLI weights are available.

Pairs are judged in numbered batches (one prompt for ``batch_size`` pairs keeps cost and latency
down); items the batch answer lacks or garbles are re-asked one pair per prompt, and an item the
model still cannot judge gets the uninformative row (1/3, 1/3, 1/3) plus a warning, so a single
bad answer never fails a whole critic run. Answers are normalised defensively: negatives are
clipped, rows renormalised (percentages work too), and label-only answers become 0.9/0.05/0.05.
Transport failures (:class:`~cns.errors.ModelUnavailableError`) are *not* hidden: a dead endpoint
must not silently turn every score into "neutral".
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from cns.errors import ConfigError, LLMResponseError
from cns.logging_setup import get_logger
from cns.models.json_output import extract_json_object
from cns.ports import NLI_LABELS, FloatArray, LLMClient

log = get_logger(__name__)

SYSTEM_PROMPT = (
    "You are a careful natural-language-inference judge. For each premise/hypothesis pair decide whether "
    "the premise entails the hypothesis, contradicts it, or is neutral (neither). Give probabilities "
    "that sum to 1. Judge only from the premise text, not from world knowledge."
)
BATCH_TEMPLATE = (
    "Judge each item below. Answer with a JSON object "
    '{{"results": [{{"id": <item id>, "entailment": p, "neutral": p, "contradiction": p}}, ...]}} '
    "with exactly one result per item id.\n\nItems:\n{items}"
)
PAIR_TEMPLATE = (
    'Answer with a JSON object {{"entailment": p, "neutral": p, "contradiction": p}}.\n\n'
    "Premise: {premise}\nHypothesis: {hypothesis}"
)
_PROBS = {label: {"type": "number"} for label in NLI_LABELS}
_LABEL = {"label": {"type": "string"}}
BATCH_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["results"],
    "properties": {
        "results": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["id"],
                "properties": {"id": {"type": "integer"}, **_PROBS, **_LABEL},
            },
        }
    },
}
PAIR_SCHEMA: dict[str, Any] = {"type": "object", "properties": {**_PROBS, **_LABEL}}
_UNIFORM = (1 / 3, 1 / 3, 1 / 3)
_LABEL_ALIASES = {
    "entail": 0,
    "support": 0,
    "neutral": 1,
    "unknown": 1,
    "unrelated": 1,
    "contrad": 2,
    "refute": 2,
}


def row_from_answer(item: Mapping[str, Any]) -> tuple[float, float, float] | None:
    """(entailment, neutral, contradiction) from one answer item, or ``None`` if it says nothing usable.

    Missing probabilities share the mass the given ones leave; a ``label`` alone is one-hot-ish.
    """
    probs = item.get("probabilities")
    source: Mapping[str, Any] = probs if isinstance(probs, Mapping) else item
    given: dict[int, float] = {}
    for col, label in enumerate(NLI_LABELS):
        value = source.get(label)
        if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
            given[col] = max(0.0, float(value))
    if given:
        scale = 100.0 if max(given.values()) > 1.0 else 1.0  # percentages
        # each value capped at 1 after scaling: 1e308 three times would otherwise sum to inf and
        # normalise to NaN (found by fuzzing, issue 8)
        probs = {col: min(1.0, value / scale) for col, value in given.items()}
        missing = [c for c in range(3) if c not in probs]
        rest = max(0.0, 1.0 - sum(probs.values()))
        row = [probs.get(c, rest / len(missing) if missing else 0.0) for c in range(3)]
        total = sum(row)
        if total > 0:
            return (row[0] / total, row[1] / total, row[2] / total)
    verdict = item.get("label")
    if isinstance(verdict, str):
        key = verdict.strip().lower()
        for prefix, col in _LABEL_ALIASES.items():
            if key.startswith(prefix):
                row = [0.05, 0.05, 0.05]
                row[col] = 0.9
                return (row[0], row[1], row[2])
    return None


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class LLMNLI:
    """:class:`~cns.ports.NLIModel` backed by any :class:`~cns.ports.LLMClient`."""

    def __init__(self, llm: LLMClient | None, *, batch_size: int = 8, max_text_chars: int = 4000) -> None:
        if llm is None:  # ``load_llm`` returns None when llm.backend is "none"
            raise ConfigError.for_key(
                "llm.backend", "the llm NLI backend needs an LLM; set llm.backend and llm.base_url"
            )
        if batch_size < 1:
            raise ValueError("batch_size must be at least 1")
        self._llm = llm
        self._batch_size = batch_size
        self._max_chars = max_text_chars
        self.unjudged = 0  # items that got the uniform row, over this instance's lifetime

    @property
    def name(self) -> str:
        return f"llm:{self._llm.name}"

    @property
    def version(self) -> str:
        """Changes whenever the prompts change, so cached critic results are not reused across prompts."""
        template = "\x00".join((SYSTEM_PROMPT, BATCH_TEMPLATE, PAIR_TEMPLATE))
        return hashlib.sha256(template.encode("utf-8")).hexdigest()[:12]

    def predict(self, pairs: Sequence[tuple[str, str]]) -> FloatArray:
        """``(n, 3)`` float32 rows (entailment, neutral, contradiction), each summing to 1."""
        out = np.empty((len(pairs), 3), dtype=np.float32)
        for start in range(0, len(pairs), self._batch_size):
            chunk = pairs[start : start + self._batch_size]
            rows = self._judge_batch(chunk) if len(chunk) > 1 else [None]
            failed = 0
            for i, (pair, row) in enumerate(zip(chunk, rows, strict=True)):
                final = row or self._judge_pair(pair)
                if final is None:
                    failed += 1
                    final = _UNIFORM
                out[start + i] = final
            if failed:
                self.unjudged += failed
                log.warning("nli.llm.unjudged", model=self._llm.name, count=failed, batch=len(chunk))
        if len(out):
            out = np.clip(out, 0.0, None)
            out /= out.sum(axis=1, keepdims=True)
        return out

    def _ask(self, prompt: str, schema: dict[str, Any], max_tokens: int) -> dict[str, Any] | None:
        messages = [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}]
        try:
            text = self._llm.complete(messages, temperature=0.0, max_tokens=max_tokens, json_schema=schema)
            return extract_json_object(text)
        except LLMResponseError as exc:
            log.warning("nli.llm.bad_answer", model=self._llm.name, problem=exc.message[:200])
            return None

    def _judge_batch(self, chunk: Sequence[tuple[str, str]]) -> list[tuple[float, float, float] | None]:
        items = [
            {"id": i + 1, "premise": _clip(p, self._max_chars), "hypothesis": _clip(h, self._max_chars)}
            for i, (p, h) in enumerate(chunk)
        ]
        prompt = BATCH_TEMPLATE.format(items=json.dumps(items, ensure_ascii=False, indent=1))
        answer = self._ask(prompt, BATCH_SCHEMA, max_tokens=64 + 48 * len(chunk))
        rows: list[tuple[float, float, float] | None] = [None] * len(chunk)
        results = answer.get("results") if answer else None
        if not isinstance(results, list):
            return rows
        by_position = len(results) == len(chunk)
        for position, item in enumerate(results):
            if not isinstance(item, Mapping):
                continue
            raw_id = item.get("id")
            index = raw_id - 1 if isinstance(raw_id, int) and not isinstance(raw_id, bool) else None
            if index is None and by_position:
                index = position
            if index is not None and 0 <= index < len(chunk) and rows[index] is None:
                rows[index] = row_from_answer(item)
        missing = sum(r is None for r in rows)
        if missing:
            log.warning("nli.llm.batch_fallback", model=self._llm.name, missing=missing, batch=len(chunk))
        return rows

    def _judge_pair(self, pair: tuple[str, str]) -> tuple[float, float, float] | None:
        premise, hypothesis = _clip(pair[0], self._max_chars), _clip(pair[1], self._max_chars)
        answer = self._ask(
            PAIR_TEMPLATE.format(premise=premise, hypothesis=hypothesis), PAIR_SCHEMA, max_tokens=96
        )
        if not answer:
            return None
        results = answer.get("results")  # some models copy the batch format even for one pair
        if isinstance(results, list) and len(results) == 1 and isinstance(results[0], Mapping):
            answer = dict(results[0])
        return row_from_answer(answer)
