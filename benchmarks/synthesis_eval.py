"""Evaluate the whole path — pair search → synthesis → critics — on public labelled data.

Pairs are built from the **test** split of ``cns.models.data_splits`` (never used for tuning):

* FEVER-Symmetric: each claim has one supporting and one refuting evidence sentence. Narrative T
  ("the claim is true": hypothesis = the claim) cites the supporting sentence, narrative F
  ("It is not true that <claim>") the refuting one. Both sentences carry the same canonical
  evidence key ``fever:page/<claim hash>`` (they come from the claim's Wikipedia page), and each
  narrative also cites its own sentence under a row key, so ``E = 1/3``.
* PERSPECTRUM: for each claim, the first *support* and first *undermine* perspective cluster become
  two narratives (hypothesis = the cluster's first sentence, claims = the other sentences) that
  share the key ``perspectrum:claim/<id>`` (content = the debate claim).

* the example corpus (``examples/``): the 12 documents ingested with the heuristic extractor.

Parents are scored with the critics against the whole population, pairs are found with
:func:`cns.pairs.find_chiral_pairs`, and each pair is synthesized (a) by the offline dialectical
synthesizer and (b) by the configured LLM (``llm.backend: openai``). When no LLM is configured, an
LLM behind the fake OpenAI-compatible HTTP server stands in, scripted to answer valid JSON
assembled from the prompt: that row is then a **pipeline test** (HTTP, JSON parsing, validation,
provenance audit, critics), not a measure of synthesis quality, and the row says so.

Columns: pairs synthesized, syntheses produced (a candidate SNO exists), accepted, mean trust and
trust gain over the better parent, the share of claims whose provenance was verified against a
parent span (goal 100 %), and the readability checks of :mod:`cns.synthesis.readability` over the
hypothesis and the section sentences (offline) or claims (LLM): glued connectives, raw markup,
sentences not starting with a capital, sentences over the length limit, mean sentence length.

    HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 .venv/bin/python benchmarks/synthesis_eval.py
    ... --fake-models   # deterministic fakes instead of MiniLM + the configured NLI
"""

from __future__ import annotations

import argparse
import json
import re
import statistics
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from cns.config import CNSConfig
from cns.core.evidence import EvidenceItem
from cns.core.ids import stable_id
from cns.core.sno import StructuredNarrativeObject
from cns.critics.evaluator import Evaluator, build_reference_index
from cns.ingestion import HeuristicExtractor, build_sno, load_path, sno_id_for
from cns.logging_setup import configure_logging
from cns.models import load_embedder, load_llm, load_nli
from cns.models.data_splits import PerspectiveCluster, load_fever, load_perspectrum
from cns.models.llm_openai import OpenAICompatibleLLM
from cns.pairs import ChiralPair, PairSearchOptions, find_chiral_pairs
from cns.ports import Embedder, LLMClient, NLIModel
from cns.synthesis import SynthesisEngine, SynthesisResult, check_readability, section_text
from cns.testing.fake_openai_server import FakeOpenAIServer, RecordedRequest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"


def _sno(
    hypothesis: str, claims: list[str], evidence: list[EvidenceItem], sno_id: str
) -> StructuredNarrativeObject:
    sno = StructuredNarrativeObject(hypothesis, sno_id=sno_id, evidence_set=evidence)
    for text in claims:
        sno.add_reasoning_edge(sno.add_claim(text), "root", "supports")
    return sno


def fever_population(limit: int) -> list[StructuredNarrativeObject]:
    by_claim: dict[str, dict[str, str]] = {}
    for row in load_fever("test"):
        by_claim.setdefault(row.claim, {})[row.label] = row.evidence
    out = []
    for claim, rows in sorted(by_claim.items())[:limit]:
        if {"SUPPORTS", "REFUTES"} - rows.keys():
            continue
        page = f"fever:page/{stable_id(claim, length=16)}"
        claim_text = claim.rstrip(" .")
        for label, hyp in (("SUPPORTS", claim_text), ("REFUTES", f"It is not true that {claim_text}")):
            sentence = rows[label]
            items = [
                EvidenceItem(sentence, source_id=page),
                EvidenceItem(sentence, source_id=f"fever:row/{stable_id(claim, label, length=16)}"),
            ]
            out.append(_sno(hyp, [sentence], items, stable_id("fever", claim, label)))
    return out


def perspectrum_population(limit: int) -> list[StructuredNarrativeObject]:
    out = []
    for claim in load_perspectrum("test")[:limit]:
        sides: dict[str, tuple[int, PerspectiveCluster]] = {}
        for i, cluster in enumerate(claim.perspectives):
            sides.setdefault(cluster.stance, (i, cluster))
        if {"support", "undermine"} - sides.keys():
            continue
        shared = EvidenceItem(claim.claim, source_id=f"perspectrum:claim/{claim.claim_id}")
        for stance in ("support", "undermine"):
            i, cluster = sides[stance]
            texts = [t for t in cluster.texts if t]
            own = EvidenceItem(" ".join(texts), source_id=f"perspectrum:cluster/{claim.claim_id}/{i}")
            out.append(
                _sno(
                    texts[0], texts[1:4], [shared, own], stable_id("perspectrum", str(claim.claim_id), stance)
                )
            )
    return out


def example_population(embedder: Embedder, nli: NLIModel) -> list[StructuredNarrativeObject]:
    """The example corpus, ingested with the offline heuristic extractor."""
    extractor = HeuristicExtractor(embedder, nli)
    tag = f"{extractor.name}@{extractor.version}"
    return [
        build_sno(
            doc,
            extractor.extract(doc),
            sno_id=sno_id_for(doc.document_id, tag),
            embedder=embedder,
            embedding_dim=embedder.dimension,
            backends={"embedder": embedder.name, "nli": nli.name},
        )
        for doc in load_path(EXAMPLES).documents
    ]


def scripted_answer(request: RecordedRequest) -> str:
    """A valid synthesis JSON assembled from the prompt (pipeline test, not a real model)."""
    user = next(
        m["content"] for m in reversed(request.messages) if m.get("role") == "user" and "TASK" in m["content"]
    )
    hyps = re.findall(r"^Hypothesis: (.*)$", user, flags=re.M)
    ids = sorted(set(re.findall(r"^- (E\d+): ", user, flags=re.M)), key=lambda x: int(x[1:]))
    claims = [
        {"id": "c1", "text": hyps[0], "type": "thesis"},
        {"id": "c2", "text": hyps[1], "type": "antithesis"},
    ]
    return json.dumps(
        {
            "hypothesis": f"Both positions address one question: {hyps[0]}; yet {hyps[1]}",
            "claims": claims,
            "edges": [{"src": c["id"], "tgt": "root", "relation": "supports"} for c in claims],
            "evidence_ids": ids,
            "reasoning": "pipeline test answer",
        }
    )


def models(config: CNSConfig, fake: bool) -> tuple[Embedder, NLIModel, str]:
    """Real MiniLM + the configured NLI; each falls back to its fake separately, with a printed note."""
    if fake:
        return (
            load_embedder(config, backend="fake"),
            load_nli("fake", config),
            "fake embedder + fake NLI (requested)",
        )
    try:
        embedder = load_embedder(config)
    except Exception as exc:
        print(f"NOTE: embedder unavailable ({type(exc).__name__}: {exc}); using the fake HashEmbedder")
        embedder = load_embedder(config, backend="fake")
    try:
        nli = load_nli(config=config)
    except Exception as exc:
        print(f"NOTE: NLI unavailable ({type(exc).__name__}: {str(exc)[:160]}); using the fake RuleNLI")
        nli = load_nli("fake", config)
    return embedder, nli, f"{embedder.name} + {nli.name}"


def synthesis_text(result: SynthesisResult) -> list[str]:
    """What a reader reads: the hypothesis, then the sections (offline) or the claims (LLM)."""
    sno = result.sno
    if sno is None:
        return []
    body = section_text(sno.metadata) or [c.content for c in sno.claims() if c.claim_id != "root"]
    return [sno.central_hypothesis, *body]


def _parent_sentences(pair: ChiralPair) -> list[str]:
    return [c.content for s in (pair.sno_a, pair.sno_b) for c in s.claims()]


def summarise(name: str, pairs: list[ChiralPair], results: list[SynthesisResult]) -> str:
    produced = [r for r in results if r.sno is not None]
    evaluated = [r for r in produced if r.metrics.get("trust") is not None]
    accepted = [r for r in results if r.accepted]
    gain = [r.metrics["trust_gain"] for r in evaluated if r.metrics.get("trust_gain") is not None]
    audits = [r.sno.metadata.get("provenance_audit") or {} for r in produced if r.sno is not None]
    claims = sum(a.get("claims", 0) for a in audits)
    verified = sum(a.get("verified", 0) for a in audits)
    checks = [
        check_readability(synthesis_text(r), sentence_starts=_parent_sentences(p))
        for p, r in zip(pairs, results, strict=True)
        if r.sno is not None
    ]
    words = [c.mean_words for c in checks if c.sentences]
    mean = statistics.fmean
    nan = float("nan")
    return (
        f"| {name} | {len(results)} | {len(produced)} | {len(accepted)} ({len(accepted) / max(1, len(results)):.0%}) | "
        f"{mean(r.metrics['trust'] for r in evaluated) if evaluated else nan:.3f} | "
        f"{mean(gain) if gain else nan:+.3f} | "
        f"{verified}/{claims} ({verified / claims if claims else nan:.0%}) | "
        f"{sum(c.ok for c in checks)}/{len(checks)} | {sum(len(c.glued) for c in checks)} | "
        f"{sum(len(c.markup) for c in checks)} | {sum(len(c.lowercase_starts) for c in checks)} | "
        f"{sum(len(c.long_sentences) for c in checks)} | {mean(words) if words else nan:.1f} |"
    )


@contextmanager
def llm_client(config: CNSConfig) -> Iterator[tuple[LLMClient, str]]:
    """The configured LLM, or a scripted LLM behind the fake server (labelled a pipeline test)."""
    if config.llm.backend not in ("none", "fake"):
        llm = load_llm(config, required=True)
        assert llm is not None
        yield llm, f"LLM {config.llm.model} at {config.llm.base_url}"
        return
    with (
        FakeOpenAIServer(responder=scripted_answer) as server,
        OpenAICompatibleLLM(server.base_url, "fake-scripted", max_retries=0) as llm,
    ):
        yield llm, "LLM via fake server (pipeline test, no LLM configured)"


def run(
    name: str,
    snos: list[StructuredNarrativeObject],
    config: CNSConfig,
    embedder: Embedder,
    nli: NLIModel,
    llm: tuple[LLMClient, str],
) -> list[str]:
    evaluator = Evaluator(config, embedder=embedder, nli=nli)
    evaluator.evaluate_population(snos)
    opts = PairSearchOptions(max_pairs=len(snos))
    pairs: list[ChiralPair] = find_chiral_pairs(snos, config, nli=nli, embedder=embedder, options=opts)
    print(f"{name}: {len(snos)} narratives, {len(pairs)} chiral pairs above the thresholds")
    reference = build_reference_index(
        snos, dimension=config.embedding_dim, min_trust=config.thresholds.novelty_reference_trust
    )
    offline = SynthesisEngine(config, evaluator=evaluator)
    rows = [summarise(f"{name} · offline", pairs, [offline.synthesize(p, reference) for p in pairs])]
    online = SynthesisEngine(config, evaluator=evaluator, llm=llm[0])
    rows.append(summarise(f"{name} · {llm[1]}", pairs, [online.synthesize(p, reference) for p in pairs]))
    return rows


HEADER = [
    "| dataset · synthesizer | pairs | produced | accepted | mean trust | trust gain vs better parent | "
    "verified provenance | readable | glued | markup | lower-case starts | long sentences | words/sentence |",
    "|---|---|---|---|---|---|---|---|---|---|---|---|---|",
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--limit", type=int, default=1000, help="max claims per dataset (test split)")
    parser.add_argument("--fake-models", action="store_true")
    parser.add_argument(
        "--theta-c",
        type=float,
        default=None,
        help="override synthesis_thresholds.chirality (default: config)",
    )
    args = parser.parse_args()
    configure_logging("WARNING")
    config = CNSConfig()
    if args.theta_c is not None:
        config = config.model_copy(
            update={
                "synthesis_thresholds": config.synthesis_thresholds.model_copy(
                    update={"chirality": args.theta_c}
                )
            }
        )
    embedder, nli, label = models(config, args.fake_models)
    th = config.synthesis_thresholds
    print(
        f"models: {label}; pair thresholds C>={th.chirality} E>={th.entanglement} P>={th.potential}; "
        f"accept T>={config.thresholds.synthesis}"
    )
    start = time.perf_counter()
    rows = list(HEADER)
    with llm_client(config) as llm:
        rows += run("FEVER-Symmetric", fever_population(args.limit), config, embedder, nli, llm)
        rows += run("PERSPECTRUM", perspectrum_population(args.limit), config, embedder, nli, llm)
        examples = example_population(embedder, nli)
        example_config = config
        if args.fake_models:  # the fakes' chirality is ~0.02 on these essays: relax the trigger
            print("NOTE: examples/ with fake models uses pair thresholds C>=0.01 E>=0.3 P>=0")
            example_config = config.model_copy(
                update={
                    "synthesis_thresholds": config.synthesis_thresholds.model_copy(
                        update={"chirality": 0.01, "entanglement": 0.3, "potential": 0.0}
                    )
                }
            )
        rows += run("examples/", examples, example_config, embedder, nli, llm)
    print("\n".join(rows))
    print(f"({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()
