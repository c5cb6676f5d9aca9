"""Typed settings for every tunable of CNS.

Precedence, highest first: keyword arguments > environment (``CNS_`` prefix, nested keys with
``__``, e.g. ``CNS_MODELS__NLI``; JSON for structured values, e.g. ``CNS_CRITIC_WEIGHTS``) >
the YAML file named by ``CNS_CONFIG_FILE`` (profiles in ``config/dev.yaml``,
``config/prod.yaml``) > the defaults below.

Every threshold lives here, in one place, so it can be tuned and documented (docs/configuration.md). Invalid values fail when the config is built, with a
:class:`cns.errors.ConfigError` naming the key.
"""

from __future__ import annotations

import difflib
import json
import os
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import pydantic
import yaml
from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationInfo, field_validator, model_validator
from pydantic_core import PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    SettingsError,
    YamlConfigSettingsSource,
)

from cns.config.backends import EmbeddingBackendName, LLMBackendName, NLIBackendName
from cns.config.environment import unknown_env_message, unknown_env_vars
from cns.config.extraction import ExtractionConfig
from cns.config.notices import config_notice
from cns.config.timing import timing_problems
from cns.errors import ConfigError

CONFIG_FILE_ENV = "CNS_CONFIG_FILE"
#: Error type of an unsafe combination of timing settings (it names its own keys).
UNSAFE_TIMING = "unsafe_timing"


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)


class CriticWeights(_Section):
    """Weights of the critic pipeline. The trust score is the weighted mean of the critic scores,
    T = Σ wᵢ sᵢ / Σ wᵢ: the weights are divided by their sum, so they need not sum to 1 (5/0/0 is
    the same as 1/0/0, and 2/1/1 the same as 0.5/0.25/0.25)."""

    grounding: float = Field(
        0.4, ge=0.0, description="weight of the NLI grounding critic (divided by the sum of the three)"
    )
    logic: float = Field(
        0.3,
        ge=0.0,
        description="weight of the reasoning-graph logic critic (divided by the sum of the three)",
    )
    novelty: float = Field(
        0.3, ge=0.0, description="weight of the novelty–parsimony critic (divided by the sum of the three)"
    )

    @model_validator(mode="after")
    def _positive_total(self) -> CriticWeights:
        if self.grounding + self.logic + self.novelty <= 0:
            raise ValueError("at least one critic weight must be positive (all weights are 0)")
        positive = [name for name, weight in self.as_dict().items() if weight > 0]
        if len(positive) == 1:
            config_notice(
                f"critic weights {self.grounding:g}/{self.logic:g}/{self.novelty:g} "
                f"(grounding/logic/novelty) give the {positive[0]} critic all of the weight: "
                f"the trust score is its score alone"
            )
        return self

    def as_dict(self) -> dict[str, float]:
        return {"grounding": self.grounding, "logic": self.logic, "novelty": self.novelty}


#: Named weight presets, in (grounding, logic, novelty) order.
CRITIC_WEIGHT_PRESETS: dict[str, CriticWeights] = {
    "default": CriticWeights(grounding=0.4, logic=0.3, novelty=0.3),
    "exploration": CriticWeights(grounding=0.1, logic=0.1, novelty=0.8),
    "verification": CriticWeights(grounding=0.45, logic=0.45, novelty=0.1),
}


class ChiralityMethod(StrEnum):
    """How the opposition term of chirality is computed (an embedding distance 1 − cos measures topic change, not opposition)."""

    NARRATIVE = "narrative"  # hypothesis + claims + stance toward shared evidence (default)
    NLI = "nli"  # max(p_contra(a→b), p_contra(b→a)) of the two hypotheses — one sentence pair
    EMBEDDING = "embedding"  # 1 − cos(H_a, H_b) of the hypothesis embeddings — measures topic change
    HYBRID = "hybrid"  # weighted mix of the two


class ModelsConfig(_Section):
    """Model backends. ``fake`` backends are deterministic and need no weights (tests, CI)."""

    embedding: str = Field("sentence-transformers/all-MiniLM-L6-v2", description="embedding model id or path")
    embedding_backend: EmbeddingBackendName = Field(
        "sentence-transformers", description="`sentence-transformers` or the deterministic `fake`"
    )
    nli: str = Field("roberta-large-mnli", description="MNLI-style model for the `transformers` NLI backend")
    nli_backend: NLIBackendName = Field(
        "auto", description="`auto` = transformers if its weights are local, else the shipped `embedded` NLI"
    )
    synthesis: str = Field(
        "mistralai/Mistral-7B-Instruct-v0.1", description="informational: the reference synthesis LLM"
    )
    device: str = Field("cpu", description="torch device for local models")
    num_threads: int | None = Field(None, ge=1, description="CPU threads for torch (null = torch default)")
    batch_size: int = Field(32, ge=1, le=4096, description="batch size for embedding and NLI")
    nli_precision: Literal["auto", "fp32", "bf16", "int8"] = Field(
        "auto",
        description="embedded NLI arithmetic: `auto` = bf16 where the CPU has native bf16 "
        "(avx512_bf16/amx_bf16 flags), else fp32; `int8` = linear layers quantized at load time (opt-in)",
    )
    max_length: int = Field(256, ge=16, le=4096, description="token truncation length for NLI inputs")
    embedding_cache: bool = Field(
        True, description="cache embeddings by (model, sha256 of text) under data_dir"
    )
    nli_cache: bool = Field(
        True, description="cache NLI judgements by (model, sha256 of both texts) under data_dir"
    )


class LLMConfig(_Section):
    """An OpenAI-compatible chat endpoint; ``backend`` picks a preset (docs/llm.md has the recipes)."""

    backend: LLMBackendName = Field(
        "none",
        description="`none` = offline synthesizer/extractor; `openai`, `ollama`, `llamacpp`, `vllm` = "
        "presets of the one OpenAI-compatible client; `fake` = scripted test double",
    )
    base_url: str | None = Field(
        None,
        description="endpoint; null = the preset's default (ollama http://127.0.0.1:11434/v1, "
        "llamacpp http://127.0.0.1:8080/v1, vllm http://127.0.0.1:8000/v1; required for openai)",
    )
    model: str | None = Field(
        None, description="model name sent to the endpoint (`cns llm check` lists them)"
    )
    api_key: SecretStr | None = Field(
        None, description="bearer key (secret; set via CNS_LLM__API_KEY; local servers need none)"
    )
    structured_output: Literal["auto", "json_schema", "json_object", "none"] = Field(
        "auto",
        description="how JSON is requested: `auto` = the preset's (json_schema for ollama/llamacpp/vllm, "
        "json_object for openai); replies are validated either way",
    )
    on_unavailable: Literal["fallback", "fail"] = Field(
        "fallback",
        description="when the up-front check of `cns run`, `ingest` or `synthesize` fails: `fallback` = offline extractor and "
        "synthesizer (recorded per SNO), `fail` = stop before ingesting",
    )
    check_timeout_seconds: float = Field(
        30.0, gt=0, description="timeout of each request of the up-front check (`cns llm check`, `cns run`)"
    )
    circuit_reset_seconds: float = Field(
        60.0,
        ge=0,
        description="after a call fails to connect, fail further calls at once for this long (0 = off)",
    )
    timeout_seconds: float = Field(60.0, gt=0, description="per-request timeout")
    max_retries: int = Field(3, ge=0, le=10, description="retries on 429/5xx/timeouts (never on other 4xx)")
    backoff_seconds: float = Field(1.0, ge=0, description="first retry delay; doubles each attempt")
    temperature: float = Field(0.2, ge=0, le=2, description="sampling temperature")
    max_tokens: int = Field(2048, ge=16, description="completion token limit")


#: the topic gate that means "same question" for the deterministic fake embedder (word hashing)
FAKE_EMBEDDER_TOPIC_GATE = (0.1, 0.3)


class ChiralityConfig(_Section):
    """How opposition is measured; the narrative-level settings are explained in docs/opposition.md."""

    method: ChiralityMethod = Field(
        ChiralityMethod.NARRATIVE,
        description="`narrative` (hypothesis + claims + shared evidence, gated by topic; default, "
        "docs/opposition.md), `nli` (the two hypotheses only), `embedding` (1 − cos of the hypothesis embeddings) or `hybrid`",
    )
    halve_cosine_distance: bool = Field(True, description="divide 1 − cos by 2 (a [0, 1] range)")
    hybrid_nli_weight: float = Field(0.7, ge=0, le=1, description="weight of the NLI term in `hybrid`")
    max_claims_per_side: int = Field(
        6, ge=0, le=64, description="narrative: claims per SNO considered besides the hypothesis"
    )
    statement_pairs: int = Field(
        16,
        ge=1,
        le=256,
        description="narrative: statement pairs judged per SNO pair (hypothesis pair + most topic-similar others)",
    )
    aggregate_top_k: int = Field(
        3, ge=1, le=64, description="narrative: mean of the k strongest statement-pair oppositions"
    )
    hypothesis_weight: float = Field(
        0.4, ge=0, le=1, description="narrative: weight of the hypothesis pair against the claim pairs"
    )
    evidence_weight: float = Field(
        0.3, ge=0, le=1, description="narrative: weight of the opposite stance toward shared evidence"
    )
    max_shared_evidence: int = Field(
        2, ge=0, le=16, description="narrative: shared evidence items whose stance is judged per pair"
    )
    topic_gate: tuple[float, float] = Field(
        (0.5, 0.6),
        description="narrative: topic similarity (cosine of the two narratives' statement centroids) "
        "below the first value gives opposition 0, above the second full weight (linear in between): "
        "narratives about different questions are never opposed; measured on MiniLM (the `fake` "
        "embedding backend gets (0.1, 0.3) unless set)",
    )

    self_contrast: bool = Field(
        False,
        description="narrative: count the statement score of pairs that share no evidence only as far as "
        "the two narratives contradict each other more than each contradicts itself; opt-in: it removes "
        "same-side pairs of short debate documents (one side split over several files) but loses true "
        "pairs whose documents the model finds as self-contradictory as the two sides (docs/opposition.md)",
    )
    contrast_gate: tuple[float, float] = Field(
        (-0.05, 0.1),
        description="narrative: self contrast (mean statement-pair contradiction across the two "
        "narratives minus within each) at or below the first value gives the statement score weight "
        "0, at or above the second full weight (linear in between); measured on the debate DEV corpus",
    )
    contrast_shared_evidence: bool = Field(
        False,
        description="narrative: apply the self contrast also to pairs that share evidence; off: long "
        "essays citing the same papers contradict themselves as much as their opponent, so the "
        "contrast removed every true pair of the bundled examples (docs/opposition.md)",
    )

    @field_validator("topic_gate", "contrast_gate")
    @classmethod
    def _ordered_ramp(cls, value: tuple[float, float], info: ValidationInfo) -> tuple[float, float]:
        """A ramp rises from its first value to its second, inside the range its measure can take:
        a cosine similarity lies in [-1, 1], a difference of two such means in [-2, 2]."""
        bound, what = (1.0, "similarities") if info.field_name == "topic_gate" else (2.0, "contrasts")
        low, high = value
        if not -bound <= low < high <= bound:
            raise ValueError(f"{info.field_name} must be two {what} -{bound:g} <= low < high <= {bound:g}")
        return value


class EvidenceMatchingConfig(_Section):
    """Shared evidence beyond identical citation keys: items that state the same fact (docs/opposition.md)."""

    facts: bool = Field(True, description="count evidence items that state the same fact as shared")
    fact_weight: float = Field(
        0.5, ge=0, le=1, description="weight of a fact match in entanglement (an identical key weighs 1)"
    )
    similarity: float = Field(
        0.7, ge=-1, le=1, description="embedding cosine two items need to be judged by the NLI model"
    )
    entailment: float = Field(
        0.5, ge=0, le=1, description="both-direction entailment probability a fact match needs"
    )
    numbers_must_agree: bool = Field(
        True, description="items that quote numbers must quote the same numbers to state the same fact"
    )
    neighbours: int = Field(4, ge=1, le=64, description="nearest items per evidence item considered")
    max_items_per_sno: int = Field(
        24, ge=1, description="evidence items per SNO considered for fact matching"
    )
    max_matches_per_pair: int = Field(4, ge=1, description="fact matches recorded per SNO pair")
    max_judged_pairs: int = Field(
        4000, ge=1, description="item pairs sent to the NLI model per search (bounds the cost)"
    )


class SynthesisThresholds(_Section):
    """Pair trigger: the narratives oppose, are trusted, and share evidence (docs/opposition.md)."""

    opposition: float = Field(
        0.25,
        ge=0,
        le=1,
        description="minimum opposition of the two narratives (the `chirality.method` score); also the "
        "neutral point of the side assignment (docs/opposition.md)",
    )
    chirality: float = Field(
        0.03,
        ge=0,
        le=1,
        description="minimum chirality opposition·T_a·T_b: a trust floor on top of the opposition "
        "threshold (0.25 · 0.35 · 0.35 ≈ 0.03)",
    )
    entanglement: float = Field(0.05, ge=0, le=1, description="minimum evidential entanglement of a pair")
    potential: float = Field(0.1, ge=0, description="minimum synthesis potential of a pair")


class PairSearchConfig(_Section):
    """How candidate pairs are found beyond shared citations, and the side check (docs/opposition.md)."""

    topic_neighbours: int = Field(
        20,
        ge=0,
        le=1000,
        description="also judge each narrative's k nearest topic neighbours that share no evidence "
        "(pairs with `source: opposition`); 0 = only pairs that share evidence",
    )
    topic_max_population: int = Field(
        20000,
        ge=2,
        description="skip the topic-neighbour search (with a warning) above this many trusted "
        "narratives: it compares every narrative with every other",
    )
    side_consistency: bool = Field(
        True,
        description="split each cluster of judged pairs into two sides and drop opposed-looking pairs "
        "whose narratives land on one side",
    )
    side_contrast: bool = Field(
        True,
        description="narrative method: the side check votes, and pairs without shared evidence are "
        "ranked for `population.max_pairs`, by the self-contrasted opposition (`chirality.contrast_gate`); "
        "thresholds and reported scores stay raw. Costs the narratives' own statement pairs in NLI",
    )
    share_cap: bool = Field(
        True,
        description="share the slots of `population.max_pairs` left after the pairs that share evidence "
        "across questions (groups of narratives linked by topic-neighbour pairs): each question's best "
        "pair before any question's second; false = one global ranking",
    )


class ThresholdsConfig(_Section):
    ingest: float = Field(
        0.3, ge=0, le=1, description="admit an ingested SNO into the population if T > ingest"
    )
    synthesis: float = Field(0.5, ge=0, le=1, description="accept a synthesis if its T >= synthesis")
    provenance: float = Field(
        0.5,
        ge=0,
        le=1,
        description="a parent span supports a synthesized claim if it quotes it or NLI p_entail >= this",
    )
    novelty_reference_trust: float = Field(
        0.4, ge=0, le=1, description="τ_ref: SNOs with T >= this form the novelty reference set"
    )


class GroundingConfig(_Section):
    include_root: bool = Field(True, description="ground the hypothesis too, not only the sub-claims")
    top_k_evidence: int | None = Field(
        4,
        ge=1,
        description="per claim, only the k evidence items most similar by embedding (null = all, cost |V|·|E|)",
    )
    similarity_margin: float | None = Field(
        0.3,
        ge=0,
        le=2,
        description="where top_k_evidence ranks evidence, skip items whose embedding cosine is more than "
        "this below the claim's most similar item (null = keep all k); 0.3 changed no grounding score on "
        "the gold sets",
    )
    quality_weighted: bool = Field(False, description="multiply entailment by the evidence item's quality")


class LogicConfig(_Section):
    orphan_weight: float = Field(0.5, ge=0, description="weight of the no-path-to-root term")
    coherence_weight: float = Field(0.3, ge=0, description="weight of the out-degree term")
    parsimony_weight: float = Field(0.2, ge=0, description="weight of the 1 − density term")
    out_degree_scale: float = Field(3.0, gt=0, description="mean out-degree at which coherence reaches 0")
    opposing_edge_penalty: float = Field(
        0.15, ge=0, le=1, description="factor lost per contradicts/weakens edge into a supporting chain"
    )
    isolated_root_penalty: float = Field(
        0.5, ge=0, le=1, description="factor lost when nothing argues for the root"
    )


class NoveltyConfig(_Section):
    alpha: float = Field(0.7, ge=0, description="weight of the distance to the nearest trusted SNO")
    skip_opponents: bool = Field(
        True,
        description="a neighbour the NLI judges opposed, or a version of the same document, is not "
        "counted as lack of novelty (docs/critics.md)",
    )
    opponent_threshold: float = Field(
        0.5, ge=0, le=1, description="narrative opposition at which a neighbour counts as an opponent"
    )
    neighbours: int = Field(5, ge=1, le=100, description="nearest references examined for opponents")
    beta: float = Field(0.3, ge=0, description="weight of the parsimony penalty")
    parsimony_scale: float = Field(5.0, gt=0, description="|E|/|V| at which the penalty saturates")


class IndexConfig(_Section):
    """The faiss index of the novelty reference set (trusted active hypotheses), kept in step with
    the store by every process; the CLI saves it as ``data_dir/index/reference.faiss``."""

    kind: Literal["flat", "hnsw"] = Field(
        "flat", description="`flat` = exact search; `hnsw` for large populations"
    )
    hnsw_m: int = Field(32, ge=2, description="HNSW graph degree")
    ef_search: int = Field(256, ge=1, description="HNSW search breadth (recall vs speed)")
    ef_construction: int = Field(200, ge=1, description="HNSW build breadth")
    rebuild_ratio: float = Field(
        0.2, gt=0, le=1, description="rebuild HNSW when removed vectors exceed this share"
    )


class SearchConfig(_Section):
    """Asking the corpus a question: ``cns search``, ``GET /search`` and the Ask page."""

    narratives: int = Field(5, ge=1, le=50, description="narratives returned per question")
    claims: int = Field(
        8, ge=1, le=50, description="claims returned per question (the evidence an answer may cite)"
    )
    min_similarity: float = Field(
        0.2,
        ge=-1,
        le=1,
        description="narratives and claims less similar to the question than this (cosine) are left out",
    )
    opposition_threshold: float = Field(
        0.5,
        ge=0,
        le=1,
        description="opposition (NLI) at which two narratives found for a question are shown as disagreeing",
    )
    answer_max_tokens: int = Field(400, ge=16, description="longest answer the LLM may write")


class ServiceConfig(_Section):
    """The HTTP API (``cns serve``)."""

    host: str = Field("127.0.0.1", description="bind address of `cns serve`")
    port: int = Field(8000, ge=1, le=65535, description="port of `cns serve`")
    max_body_bytes: int = Field(5_000_000, ge=1024, description="requests larger than this get 413")
    max_text_chars: int = Field(
        500_000,
        ge=1,
        description="longest document text accepted by POST /ingest (worst measured ingest at this size: "
        "57 s of the 300 s soft time limit on 2 loaded cores, benchmarks/long_document.py)",
    )
    max_batch_documents: int = Field(100, ge=1, description="most documents in one batch request")
    rate_limit_per_minute: int = Field(
        600,
        ge=0,
        description="requests per minute per client (0 = unlimited), shared by all API processes "
        "through the broker's Redis",
    )
    publish_timeout_seconds: float = Field(
        2.0, gt=0, description="give up enqueueing after this; the API answers 503"
    )
    body_read_timeout_seconds: float = Field(
        30.0, gt=0, description="a request body not fully received within this gets 408 (slow-body clients)"
    )
    max_connections: int = Field(
        1000, ge=1, description="concurrent connections per `cns serve` process; more get 503"
    )
    workers: int = Field(
        0,
        ge=0,
        le=64,
        description="uvicorn worker processes of `cns serve` (`--workers`); 0 = one per usable CPU, "
        "at most 8",
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description="addresses (or `*`) whose X-Forwarded-For is believed; empty = never (the peer "
        "address names the client)",
    )
    data_dir_min_free_mb: float = Field(
        100.0,
        ge=0,
        description="/readyz and `cns probe` report not ready when the data dir's file system has less "
        "free space than this (MiB; 0 = no check); the caches there stop writing when it is full",
    )


class LoadersConfig(_Section):
    """Limits on reading one file (`cns run`, `cns ingest`, `POST /ingest/files`): a small hostile
    file can expand to millions of characters or take minutes to parse (docs/ingestion.md)."""

    max_file_bytes: int = Field(
        10 * 1024 * 1024, ge=1, description="files larger than this are skipped, not truncated"
    )
    max_chars: int = Field(
        1_000_000, ge=1, description="a file whose extracted text is longer than this is skipped"
    )
    max_pdf_pages: int = Field(2000, ge=1, description="PDFs with more pages are skipped before extraction")
    parse_timeout_seconds: float = Field(
        30.0,
        gt=0,
        description="a PDF, HTML or Markdown parse still running after this is killed (file skipped)",
    )
    parsers: int = Field(
        2, ge=1, le=64, description="PDF/HTML/Markdown parses at once per process; the API answers 503 beyond"
    )
    parser_memory_mb: int = Field(
        1024,
        ge=64,
        description="memory one parse may add before its process is stopped (address space, watched by the caller)",
    )
    isolate_parsers: bool = Field(
        True,
        description="parse PDF, HTML and Markdown in a child process (needed for the time and memory limits)",
    )
    follow_symlinks: bool = Field(
        False,
        description="follow symbolic links that lead out of the given folders (`--follow-symlinks`); "
        "off: they are listed as skipped, with their target",
    )


class AuthConfig(_Section):
    """Who may call the API: keys are created with `cns apikey create --scope read|write|admin`."""

    enabled: bool = Field(
        False, description="require an API key (X-API-Key) on write routes, and a login on every web page"
    )
    read_access: Literal["auto", "open", "key"] = Field(
        "auto",
        description="read routes: `key` = any valid key (read scope is enough), `open` = no key; "
        "`auto` = `key` in the prod profile when auth.enabled, `open` elsewhere",
    )

    def reads_need_key(self, profile: str) -> bool:
        """Whether GET routes (SNOs, pairs, syntheses, tasks) need a key under ``profile``."""
        if not self.enabled:
            return False
        return self.read_access == "key" or (self.read_access == "auto" and profile == "prod")


class CeleryConfig(_Section):
    """Worker reliability settings (see docs/deployment.md)."""

    visibility_timeout_seconds: int = Field(
        3600, ge=10, description="Redis redelivers unacked tasks after this"
    )
    task_soft_time_limit_seconds: int = Field(300, ge=1, description="soft limit: the task is asked to stop")
    task_time_limit_seconds: int = Field(360, ge=1, description="hard limit: the worker child is killed")
    prefetch_multiplier: int = Field(
        1, ge=1, description="tasks reserved per worker process (1 with acks_late)"
    )
    max_deliveries: int = Field(3, ge=1, description="poison cap: a job delivered more often is failed")
    worker_concurrency: int = Field(1, ge=1, description="processes per `cns worker`")
    find_pairs_interval_seconds: float = Field(
        60.0, gt=0, description="celery beat period of the pair search"
    )
    reconcile_interval_seconds: float = Field(
        10.0,
        gt=0,
        description="period of the stuck-job reconciler (beat); workers sweep themselves when none ran for twice this",
    )
    job_deadline_seconds: float = Field(
        900.0,
        gt=0,
        description="a PENDING job older than this, or a STARTED job without a lease silent this long, is "
        "re-enqueued; must exceed the hard time limit",
    )
    lease_seconds: float = Field(
        30.0,
        ge=1,
        description="a running job's lease: when its worker stops renewing it (died, frozen) for this long, "
        "the reconciler hands the job to another worker",
    )
    lease_renew_seconds: float = Field(
        10.0,
        gt=0,
        description="how often a worker renews the lease of the job it runs (at most half the lease)",
    )
    redis_safety_check: Literal["auto", "enforce", "warn", "off"] = Field(
        "auto",
        description="broker Redis must use noeviction + appendonly; `auto` = enforce in prod, warn elsewhere",
    )

    @model_validator(mode="after")
    def _safe_timing(self) -> CeleryConfig:
        """Refuse timing settings that lose work or run a job twice (:mod:`cns.config.timing`)."""
        problems = timing_problems(self)
        if problems:
            keys = [key for problem in problems for key in problem.keys]
            message = "unsafe timing: " + "; ".join(problem.message for problem in problems)
            raise PydanticCustomError(UNSAFE_TIMING, message, {"keys": list(dict.fromkeys(keys))})
        return self


class PopulationConfig(_Section):
    size_limit: int | None = Field(
        None, ge=1, description="cap on active SNOs; lowest-trust are archived beyond it"
    )
    max_pairs: int = Field(
        50, ge=1, description="chiral pairs returned per search (and synthesized per `cns run`)"
    )
    synthesis_cooldown_seconds: float = Field(3600.0, ge=0, description="do not retry the same pair sooner")
    max_concurrent_syntheses: int = Field(5, ge=1, description="semaphore size for syntheses")
    max_refinements: int = Field(3, ge=0, le=10, description="LLM refinement rounds per synthesis")
    synthesis_unsupported_claims: Literal["drop", "flag"] = Field(
        "drop", description="synthesized claims no parent span supports: drop them, or keep them flagged"
    )
    pair_syntheses: bool = Field(
        False,
        description="let accepted syntheses pair again (a new generation per search) in `cns run`, "
        "`cns pairs`, `cns synthesize`, `cns loop` and the service alike; false = only SNOs from documents pair",
    )


class CNSConfig(BaseSettings):
    """All settings of a CNS deployment. Build with ``CNSConfig()`` or :meth:`load`."""

    model_config = SettingsConfigDict(
        env_prefix="CNS_",
        env_nested_delimiter="__",
        extra="forbid",
        validate_assignment=True,
        case_sensitive=False,
    )

    profile: Literal["dev", "test", "prod"] = Field("dev", description="deployment profile")
    embedding_dim: int = Field(
        384, ge=1, le=65536, description="must equal the embedding model's output size"
    )
    critic_weights: CriticWeights = Field(
        default_factory=CriticWeights,
        description="grounding/logic/novelty weights, or a preset name (`default`, `exploration`, "
        "`verification`); the trust score is T = Σ wᵢ sᵢ / Σ wᵢ, so only the ratios matter "
        "(5/0/0 = 1/0/0); all 0 is refused, and a critic given all of the weight is logged as a warning",
    )
    models: ModelsConfig = Field(default_factory=ModelsConfig)
    llm: LLMConfig = Field(default_factory=LLMConfig)
    chirality: ChiralityConfig = Field(default_factory=ChiralityConfig)
    evidence_matching: EvidenceMatchingConfig = Field(default_factory=EvidenceMatchingConfig)
    synthesis_thresholds: SynthesisThresholds = Field(default_factory=SynthesisThresholds)
    pair_search: PairSearchConfig = Field(default_factory=PairSearchConfig)
    thresholds: ThresholdsConfig = Field(default_factory=ThresholdsConfig)
    grounding: GroundingConfig = Field(default_factory=GroundingConfig)
    logic: LogicConfig = Field(default_factory=LogicConfig)
    novelty: NoveltyConfig = Field(default_factory=NoveltyConfig)
    population: PopulationConfig = Field(default_factory=PopulationConfig)
    index: IndexConfig = Field(default_factory=IndexConfig)
    search: SearchConfig = Field(default_factory=SearchConfig)
    service: ServiceConfig = Field(default_factory=ServiceConfig)
    loaders: LoadersConfig = Field(default_factory=LoadersConfig)
    auth: AuthConfig = Field(default_factory=AuthConfig)
    celery: CeleryConfig = Field(default_factory=CeleryConfig)
    extraction: ExtractionConfig = Field(default_factory=ExtractionConfig)
    data_dir: Path = Field(
        default_factory=lambda: Path.home() / ".cns", description="store, index and caches"
    )
    database_url: SecretStr | None = Field(
        None, description="SQLAlchemy URL; null = SQLite in data_dir (secret)"
    )
    broker_url: str = Field("redis://127.0.0.1:6379/0", description="Celery broker")
    result_backend: str | None = Field(
        None, description="Celery result backend (job state lives in the database)"
    )
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="log level")
    log_format: Literal["auto", "json", "console"] = Field("auto", description="`auto` = JSON when not a TTY")
    log_text_preview_chars: int = Field(80, ge=0, description="max document characters shown in logs")

    def __init__(self, **values: Any) -> None:
        unknown = unknown_env_vars(type(self), os.environ)
        if unknown:
            config_notice(unknown_env_message(unknown))
        try:
            super().__init__(**values)
        except pydantic.ValidationError as exc:
            raise _config_error(exc) from None
        except SettingsError as exc:
            raise _environment_error(exc) from None

    @model_validator(mode="after")
    def _gate_for_the_fake_embedder(self) -> CNSConfig:
        """The topic gate is measured on MiniLM; the fake word-hash embedder puts same-topic texts at
        lower cosines, so its runs get the gate that means the same there (unless one is set)."""
        if self.models.embedding_backend == "fake" and "topic_gate" not in self.chirality.model_fields_set:
            self.chirality.topic_gate = FAKE_EMBEDDER_TOPIC_GATE
        return self

    @model_validator(mode="after")
    def _safe_worker_limits(self) -> CNSConfig:
        """Refuse settings that make Celery lose or duplicate work (docs/deployment.md)."""
        c = self.celery  # the timing relations are the section's own check (CeleryConfig)
        if self.profile == "prod":
            if c.prefetch_multiplier != 1:
                raise ValueError("celery.prefetch_multiplier must be 1 in the prod profile (acks_late is on)")
            if not self.auth.enabled:
                raise ValueError("auth.enabled must be true in the prod profile")
        return self

    @field_validator("critic_weights", mode="before")
    @classmethod
    def _preset_name(cls, value: Any) -> Any:
        """Accept a preset name (``exploration``) wherever weights are expected."""
        if isinstance(value, str):
            name = value.strip().lower()
            if name in CRITIC_WEIGHT_PRESETS:
                return CRITIC_WEIGHT_PRESETS[name].model_dump()
            raise ValueError(
                f"expected a preset name ({', '.join(CRITIC_WEIGHT_PRESETS)}) or the three weights "
                """(e.g. '{"grounding": 0.5, "logic": 0.25, "novelty": 0.25}')"""
            )
        return value

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        sources: list[PydanticBaseSettingsSource] = [init_settings, _EnvSource(settings_cls)]
        config_file = os.environ.get(CONFIG_FILE_ENV)
        if config_file:
            path = Path(config_file)
            if not path.is_file():
                raise ConfigError.for_key(CONFIG_FILE_ENV, f"file {config_file!r} does not exist")
            sources.append(_YamlSource(settings_cls, yaml_file=path))
        return tuple(sources)

    @classmethod
    def load(cls, config_file: str | Path | None = None, **overrides: Any) -> CNSConfig:
        """Build the config, optionally from an explicit YAML file instead of ``CNS_CONFIG_FILE``."""
        if config_file is None:
            return cls(**overrides)
        previous = os.environ.get(CONFIG_FILE_ENV)
        os.environ[CONFIG_FILE_ENV] = str(config_file)
        try:
            return cls(**overrides)
        finally:
            if previous is None:
                os.environ.pop(CONFIG_FILE_ENV, None)
            else:
                os.environ[CONFIG_FILE_ENV] = previous

    def with_weights(self, weights: CriticWeights | dict[str, float] | str) -> CNSConfig:
        """A copy with other critic weights (a preset name, a dict or a CriticWeights)."""
        if isinstance(weights, str):
            name = weights.strip().lower()
            if name not in CRITIC_WEIGHT_PRESETS:
                raise ConfigError.for_key(
                    "critic_weights",
                    f"unknown preset {weights!r} (expected {', '.join(CRITIC_WEIGHT_PRESETS)})",
                )
            weights = CRITIC_WEIGHT_PRESETS[name]
        elif isinstance(weights, dict):
            weights = CriticWeights(**weights)
        return self.model_copy(update={"critic_weights": weights})


class _EnvSource(EnvSettingsSource):
    """The environment, where ``CNS_CRITIC_WEIGHTS`` may also be a preset name (not JSON)."""

    def decode_complex_value(self, field_name: str, field: Any, value: Any) -> Any:
        if field_name == "critic_weights" and isinstance(value, str):
            try:
                return json.loads(value)
            except ValueError:
                return value  # a preset name, or an error from the preset validator
        return super().decode_complex_value(field_name, field, value)


class _YamlSource(YamlConfigSettingsSource):
    """The YAML file, whose syntax errors name the file, line and problem in one line."""

    def _read_file(self, file_path: Any) -> dict[str, Any]:
        try:
            loaded = super()._read_file(file_path)
        except yaml.YAMLError as exc:
            raise ConfigError(
                _yaml_problem(file_path, exc), key=CONFIG_FILE_ENV, file=str(file_path)
            ) from None
        except OSError as exc:
            raise ConfigError(
                f"config file {file_path}: cannot be read ({exc.strerror or exc})",
                key=CONFIG_FILE_ENV,
                file=str(file_path),
            ) from None
        if not isinstance(loaded, dict):
            raise ConfigError(
                f"config file {file_path}: expected `key: value` lines at the top level, "
                f"found a {type(loaded).__name__}",
                key=CONFIG_FILE_ENV,
                file=str(file_path),
            )
        return loaded


def _yaml_problem(path: Any, exc: yaml.YAMLError) -> str:
    """``config file F, line L, column C: problem (context)`` from a YAML parser error."""
    if not isinstance(exc, yaml.MarkedYAMLError):
        return f"config file {path}: invalid YAML ({' '.join(str(exc).split())})"
    mark = exc.problem_mark or exc.context_mark
    where = f", line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    problem = exc.problem or "invalid YAML"
    context = ""
    if exc.context:
        context_mark = exc.context_mark
        started = f" on line {context_mark.line + 1}" if context_mark is not None else ""
        context = f" ({exc.context}{started})"
    return f"config file {path}{where}: invalid YAML: {problem}{context}"


def _environment_error(exc: SettingsError) -> ConfigError:
    """A structured value in the environment that is not JSON, named by its variable."""
    message = str(exc)
    field = message.split('"')[1] if message.count('"') >= 2 else ""
    prefix = "CNS_" + field.upper()
    names = sorted(
        name
        for name in os.environ
        if field
        and (name.upper() == prefix or name.upper().startswith(prefix + "__"))
        and not _is_json(os.environ[name])
    )
    cause = exc.__cause__
    detail = f" ({cause})" if cause is not None else ""
    variables = ", ".join(names) or f"a CNS_{field.upper()} variable"
    return ConfigError(
        f"environment variable {variables}: lists and sections must be JSON, e.g. "
        f"CNS_SERVICE__TRUSTED_PROXIES='[\"10.0.0.1\"]'{detail}",
        key=field or None,
        keys=names,
    )


def _is_json(value: str) -> bool:
    try:
        json.loads(value)
    except ValueError:
        return False
    return True


def _did_you_mean(loc: tuple[Any, ...]) -> str:
    """For an unknown key: the closest key of the same section (empty when nothing is close)."""
    model: type[BaseModel] = CNSConfig
    for part in loc[:-1]:
        field = model.model_fields.get(str(part))
        annotation = field.annotation if field is not None else None
        if not (isinstance(annotation, type) and issubclass(annotation, BaseModel)):
            return ""
        model = annotation
    close = difflib.get_close_matches(str(loc[-1]), list(model.model_fields), n=1, cutoff=0.6)
    if not close:
        return ""
    key = ".".join([*(str(p) for p in loc[:-1]), close[0]])
    return f"; did you mean '{key}' (CNS_{key.replace('.', '__').upper()})?"


def _config_error(exc: pydantic.ValidationError) -> ConfigError:
    problems = []
    keys = []
    for err in exc.errors():
        if err["type"] == UNSAFE_TIMING:  # names its own keys, and its message says what it got
            keys.extend(err.get("ctx", {}).get("keys", []))
            problems.append(str(err["msg"]))
            continue
        key = ".".join(str(p) for p in err["loc"]) or "<root>"
        keys.append(key)
        if err["type"] == "extra_forbidden":
            problems.append(
                f"'{key}': unknown key (got {err.get('input')!r}){_did_you_mean(tuple(err['loc']))}"
            )
            continue
        problem = str(err["msg"]).removeprefix("Value error, ")
        problems.append(f"'{key}': {problem} (got {err.get('input')!r})")
    message = "invalid configuration: " + "; ".join(problems)
    return ConfigError(message, key=keys[0] if keys else None, keys=keys)


@lru_cache(maxsize=1)
def get_config() -> CNSConfig:
    """The process-wide config, built once; tests call :func:`reset_config_cache` to rebuild it."""
    return CNSConfig()


def reset_config_cache() -> None:
    get_config.cache_clear()
