from __future__ import annotations

import asyncio
import threading
import time

import pytest

from cns.errors import CNSError
from cns.synthesis import SynthesisEngine, SynthesisLimiter
from cns.testing.fakes import HashEmbedder, RuleNLI, ScriptedLLM
from tests.synthesis.synth_fixtures import answer, config, evaluator, make_pair


def test_limiter_caps_concurrent_syntheses(embedder: HashEmbedder, nli: RuleNLI) -> None:
    cf = config(population={"max_concurrent_syntheses": 2, "synthesis_cooldown_seconds": 0})
    active, peak, lock = [0], [0], threading.Lock()

    def slow_reply(_messages: object) -> str:
        with lock:
            active[0] += 1
            peak[0] = max(peak[0], active[0])
        time.sleep(0.05)
        with lock:
            active[0] -= 1
        return answer(["E1", "E2", "E3"])

    eng = SynthesisEngine(cf, evaluator=evaluator(cf, embedder, nli), llm=ScriptedLLM(default=slow_reply))
    pairs = [make_pair(embedder, nli, suffix=str(i)) for i in range(5)]
    threads = [threading.Thread(target=eng.synthesize, args=(p,), kwargs={"force": True}) for p in pairs]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert peak[0] == 2
    assert eng.limiter.active == 0


def test_the_same_pair_is_not_synthesized_twice_at_once(embedder: HashEmbedder, nli: RuleNLI) -> None:
    cf = config(population={"synthesis_cooldown_seconds": 0})
    started, release = threading.Event(), threading.Event()

    def blocking_reply(_messages: object) -> str:
        started.set()
        release.wait(5)
        return answer(["E1", "E2", "E3"])

    eng = SynthesisEngine(cf, evaluator=evaluator(cf, embedder, nli), llm=ScriptedLLM(default=blocking_reply))
    pair = make_pair(embedder, nli)
    results = []
    worker = threading.Thread(target=lambda: results.append(eng.synthesize(pair)))
    worker.start()
    assert started.wait(5)
    second = eng.synthesize(pair, force=True)
    release.set()
    worker.join()
    assert second.skipped and "already being synthesized" in second.reasons[0]
    assert results[0].accepted
    assert not eng.synthesize(pair).skipped  # free again afterwards (cooldown 0)


def test_limiter_slot_timeout_and_try_acquire() -> None:
    limiter = SynthesisLimiter(1)
    with limiter.slot():
        assert limiter.active == 1 and not limiter.try_acquire()
        with pytest.raises(CNSError, match="max_concurrent_syntheses = 1"), limiter.slot(timeout=0.01):
            pass
    assert limiter.try_acquire()
    limiter.release()
    with pytest.raises(CNSError):
        SynthesisLimiter(0)


def test_limiter_async_slot() -> None:
    limiter = SynthesisLimiter(1)
    order: list[str] = []

    async def job(name: str) -> None:
        async with limiter.async_slot():
            order.append(f"{name}+")
            await asyncio.sleep(0.02)
            order.append(f"{name}-")

    async def main() -> None:
        await asyncio.gather(job("x"), job("y"))

    asyncio.run(main())
    assert order in (["x+", "x-", "y+", "y-"], ["y+", "y-", "x+", "x-"])
    assert limiter.try_acquire()


def test_attempt_log_protocol_and_errors(embedder: HashEmbedder, nli: RuleNLI) -> None:
    from cns.errors import ConfigError
    from cns.synthesis import AttemptLog, InMemoryAttemptLog

    log = InMemoryAttemptLog(10.0)
    assert isinstance(log, AttemptLog)
    with pytest.raises(CNSError, match="cooldown_seconds"):
        InMemoryAttemptLog(-1)
    cf = config()
    llm = ScriptedLLM([ConfigError.for_key("llm.model", "missing")])
    eng = SynthesisEngine(cf, evaluator=evaluator(cf, embedder, nli), llm=llm, attempt_log=log)
    result = eng.synthesize(make_pair(embedder, nli))
    assert not result.accepted and "llm.model" in result.reasons[0]
    record = log.get("a", "b")
    assert record is not None and record.outcome == "error" and not log.ready("a", "b")
    assert 0 < log.seconds_until_ready("a", "b") <= 10.0


def test_offline_synthesis_without_shared_evidence_uses_the_union(
    embedder: HashEmbedder, nli: RuleNLI
) -> None:
    from cns.pairs import ChiralPair
    from tests.conftest import make_sno

    a = make_sno(
        "tea calms people",
        ["tea contains theanine"],
        [("tea contains theanine, a calming amino acid", "doi:10.1/t")],
        embedder=embedder,
        trust=0.7,
        sno_id="a",
    )
    b = make_sno(
        "tea excites people",
        ["tea contains caffeine"],
        [("tea contains caffeine in every cup", "doi:10.1/c")],
        embedder=embedder,
        trust=0.7,
        sno_id="b",
    )
    pair = ChiralPair(a, b, 0.4, 0.0, 0.0, frozenset(), source="opposition")
    cf = config()
    result = SynthesisEngine(cf, evaluator=evaluator(cf, embedder, nli)).synthesize(pair)
    assert result.sno is not None
    # no shared evidence: the precise point of disagreement, each side resting on its own source
    assert result.sno.central_hypothesis == (
        "Accounts A and B disagree on one point that their shared evidence leaves open: "
        "“tea calms people” against “tea excites people”."
    )
    sections = result.sno.metadata["sections"]
    assert sections["common_ground"][0] == "The two accounts cite no source in common."
    assert sections["evidence_for_each_side"][1].endswith("it rests on its own sources [2].")
    assert result.sno.evidence_keys == {"doi:10.1/t", "doi:10.1/c"}
