"""The population lifecycle is one path: the CLI's cycle and the service's jobs store the same things.

Each test here failed before the two copies (``workflow/cycle.py`` + ``attempt_log.py`` and
``services/synthesis_jobs.py``) were replaced by :mod:`cns.workflow.lifecycle`: an ``error``
attempt read back as ``rejected`` by the worker, the worker's synthesis had no
``archive_reason`` or ``metadata.source``, the CLI recorded the attempt before storing the SNO,
``cns pairs`` and beat paired syntheses while ``cns run`` did not, and nothing re-scored in
the service.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from cns.config import CNSConfig
from cns.core.ids import stable_id
from cns.core.sno import SNOStatus, StructuredNarrativeObject
from cns.errors import ModelUnavailableError, StoreError
from cns.services.jobs import run_job
from cns.services.queries import list_syntheses
from cns.services.synthesis_jobs import find_and_schedule, rescore_job_handler, sweep, synthesize_job_handler
from cns.store.sql import JobState, SQLStore, pair_id_for
from cns.testing.fakes import HashEmbedder, RuleNLI, ScriptedLLM
from cns.workflow import CNSWorkflowManager
from cns.workflow.lifecycle import (
    RESCORE_MARKER,
    PendingAttempts,
    StoreAttemptLog,
    outcome_of,
    pairing_population,
    rescore_due,
    rescore_if_due,
    synthesize_and_store,
)
from tests.api.api_helpers import RecordingPublisher, config_for
from tests.conftest import make_sno

EVIDENCE = [("Coffee trial with 100 adults measured memory.", "doi:10.1000/coffee"),
            ("A second cohort of 80 adults was followed.", "doi:10.1000/cohort")]  # fmt: skip
OPPOSED = ("Coffee improves memory in adults", "Coffee worsens memory in adults")
EMBEDDER = HashEmbedder(384)


def seed(store: SQLStore, texts: tuple[str, ...] = OPPOSED) -> list[StructuredNarrativeObject]:
    """Active SNOs extracted from stored documents (what ingestion leaves behind)."""
    snos = []
    for text in texts:
        sno = make_sno(
            text,
            [f"{text} in the trial"],
            EVIDENCE,
            embedder=EMBEDDER,
            trust=0.8,
            sno_id=stable_id("seed", text),
        )
        sno.status = SNOStatus.ACTIVE
        document = store.put_document(f"{text}. The document.", source=f"{text[:12]}.txt")
        sno.metadata["document_id"] = document.document_id  # as ingestion's builder sets it
        store.put(sno)
        snos.append(sno)
    return snos


def memory_manager(config: CNSConfig) -> CNSWorkflowManager:
    """A manager on its own in-memory store (no markers table) holding the two opposed SNOs."""
    memory = CNSWorkflowManager(config, embedder=EMBEDDER, nli=RuleNLI())
    for text in OPPOSED:
        sno = make_sno(text, [f"{text} in the trial"], EVIDENCE, embedder=EMBEDDER, trust=0.8)
        sno.status = SNOStatus.ACTIVE
        memory.store.put(sno)
    return memory


def cli_manager(config: CNSConfig, store: SQLStore, llm: Any = None) -> CNSWorkflowManager:
    return CNSWorkflowManager(config, store=store, embedder=EMBEDDER, nli=RuleNLI(), llm=llm)


def worker_manager(config: CNSConfig, store: SQLStore, llm: Any = None) -> CNSWorkflowManager:
    return CNSWorkflowManager(config, store=store, embedder=EMBEDDER, nli=RuleNLI(), llm=llm)


@pytest.fixture
def stores(tmp_path: Path) -> Iterator[tuple[SQLStore, SQLStore]]:
    """Two stores seeded alike: one for the single-machine path, one for the service path."""
    with (
        SQLStore.open(tmp_path / "cli.sqlite3") as cli,
        SQLStore.open(tmp_path / "service.sqlite3") as service,
    ):
        seed(cli)
        seed(service)
        yield cli, service


def through_cli(config: CNSConfig, store: SQLStore, llm: Any = None) -> str:
    manager = cli_manager(config, store, llm)
    report = manager.run_cycle(rescore=False)
    [(pair, _)] = report.results
    return pair_id_for(*pair.key)


def through_service(config: CNSConfig, store: SQLStore, llm: Any = None) -> str:
    publisher = RecordingPublisher()
    manager = worker_manager(config, store, llm)
    assert (
        find_and_schedule(store=store, publisher=publisher, config=config, manager=manager)["scheduled"] == 1
    )
    [job] = store.list_jobs(kind="synthesize")
    done = run_job(
        store, job.job_id, max_deliveries=3, handler=synthesize_job_handler(store, manager, config)
    )
    assert done.state is JobState.SUCCESS, done.error
    return str(job.payload["pair_id"])


def stored_synthesis(store: SQLStore, pair_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """(the attempt, the synthesized SNO's status and lifecycle metadata) of the pair's one attempt."""
    [attempt] = store.list_attempts(pair_id)
    assert attempt.result_sno_id is not None
    sno = store.get(attempt.result_sno_id)
    keys = ("parent_ids", "source", "archive_reason", "accepted")
    return (
        {"accepted": attempt.accepted, "result_sno_id": attempt.result_sno_id, "reasons": attempt.reasons},
        {"status": sno.status.value, **{k: sno.metadata.get(k) for k in keys}},
    )


@pytest.mark.parametrize("threshold", [0.99, 0.0], ids=["rejected", "accepted"])
def test_cli_and_worker_store_the_same_synthesis(tmp_path: Path, stores: Any, threshold: float) -> None:
    config = config_for(tmp_path, thresholds={"synthesis": threshold})
    cli, service = stores
    by_cli = stored_synthesis(cli, through_cli(config, cli))
    by_worker = stored_synthesis(service, through_service(config, service))
    assert by_cli == by_worker
    attempt, sno = by_worker
    assert sno["source"] == "synthesis" and len(sno["parent_ids"]) == 2
    if threshold:  # rejected: archived, with the reasons the attempt recorded
        assert attempt["accepted"] is False and sno["status"] == "archived"
        assert "below thresholds.synthesis 0.99" in sno["archive_reason"]
    else:
        assert attempt["accepted"] is True and sno["status"] == "active" and sno["archive_reason"] is None


def test_critic_rejection_is_stored_archived_with_its_reason(tmp_path: Path) -> None:
    """Moved from the engine's test: a candidate the critics reject is stored archived."""
    from tests.synthesis.synth_fixtures import answer
    from tests.synthesis.synth_fixtures import config as synth_config

    config = synth_config(thresholds={"synthesis": 0.99}, population={"max_refinements": 1})
    manager = CNSWorkflowManager(
        config, embedder=EMBEDDER, nli=RuleNLI(), llm=ScriptedLLM(default=answer(["E1", "E2", "E3"]))
    )
    from tests.synthesis.synth_fixtures import make_pair

    pair = make_pair(EMBEDDER, RuleNLI())
    result = synthesize_and_store(manager, pair)
    assert not result.accepted and result.attempts == 2 and result.sno is not None
    stored = manager.store.get(result.sno.sno_id)
    assert stored.status is SNOStatus.ARCHIVED
    assert "below thresholds.synthesis 0.99" in stored.metadata["archive_reason"]
    assert manager.attempt_log.get(*pair.key).outcome == "rejected"  # type: ignore[union-attr]


def test_an_error_attempt_means_error_in_both_paths(tmp_path: Path, stores: Any) -> None:
    """accepted=None is an error everywhere: stored NULL, read back as ``error``, listed as such."""
    config = config_for(tmp_path, llm={"on_unavailable": "fail"})
    cli, service = stores
    down = ModelUnavailableError("the LLM server is down (test)")
    for store, path in ((cli, through_cli), (service, through_service)):
        pair_id = path(config, store, ScriptedLLM(default=down))
        [attempt] = store.list_attempts(pair_id)
        assert attempt.accepted is None and attempt.result_sno_id is None
        assert attempt.reasons == ["the LLM server is down (test)"]
        pair = store.get_pair(pair_id)
        assert pair is not None
        record = StoreAttemptLog(store, 60.0).get(pair.sno_a, pair.sno_b)
        assert record is not None and record.outcome == "error"
        [listed] = list_syntheses(store, limit=5, offset=0).items
        assert listed["accepted"] is None and listed["outcome"] == "error"
        assert list_syntheses(store, limit=5, offset=0, accepted=False).total == 0  # not a rejection
    assert [outcome_of(v) for v in (True, False, None)] == ["accepted", "rejected", "error"]


class _CrashOnSynthesis:
    """Makes ``store.put`` of a synthesized SNO fail once, as a crash between the two writes would."""

    def __init__(self, store: SQLStore) -> None:
        self.store, self.put, self.crashed = store, store.put, False

    def __call__(self, sno: StructuredNarrativeObject, **kwargs: Any) -> None:
        if "parent_ids" in sno.metadata and not self.crashed:
            self.crashed = True
            raise StoreError("store put failed: disk I/O error (test)")
        self.put(sno, **kwargs)


def test_store_then_record_survives_a_crash_in_the_cli_path(tmp_path: Path, stores: Any) -> None:
    config = config_for(tmp_path)
    store, _ = stores
    store.put = _CrashOnSynthesis(store)  # type: ignore[method-assign]
    manager = cli_manager(config, store)
    with pytest.raises(StoreError, match="disk I/O error"):
        manager.run_cycle(rescore=False)
    [pair] = store.list_pairs()
    assert store.list_attempts(pair.pair_id) == []  # no attempt names an SNO that was never stored
    again = manager.run_cycle(rescore=False)  # not in cooldown: synthesized again
    [(_, result)] = again.results
    assert not result.skipped and result.sno is not None
    [attempt] = store.list_attempts(pair.pair_id)
    assert attempt.result_sno_id == result.sno.sno_id and store.contains(attempt.result_sno_id)


def test_a_crash_in_the_worker_path_leaves_neither_candidate_nor_attempt(
    tmp_path: Path, stores: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A synthesize job writes its candidate, its attempt and its SUCCESS in one transaction: a
    failure at the attempt rolls the candidate back too, and the redelivery writes all three."""
    from cns.store.sql import _pairs

    config = config_for(tmp_path)
    _, store = stores
    publisher = RecordingPublisher()
    manager = worker_manager(config, store)
    find_and_schedule(store=store, publisher=publisher, config=config, manager=manager)
    [job] = store.list_jobs(kind="synthesize")
    handler = synthesize_job_handler(store, manager, config)
    real, crashed = _pairs.record_attempt_in, []

    def crash_once(session: Any, write: Any) -> Any:
        if not crashed:
            crashed.append(write.result_sno_id)
            raise StoreError("store write failed: disk I/O error (test)")
        return real(session, write)

    monkeypatch.setattr(_pairs, "record_attempt_in", crash_once)
    with pytest.raises(StoreError):  # the task retries (the delivery was counted)
        run_job(store, job.job_id, max_deliveries=3, handler=handler)
    assert store.list_attempts(job.payload["pair_id"]) == []
    assert crashed and not store.contains(crashed[0])  # the candidate went with the transaction
    assert store.get_job(job.job_id).state is JobState.STARTED
    done = run_job(store, job.job_id, max_deliveries=3, handler=handler)  # the redelivery
    assert done.state is JobState.SUCCESS and done.result is not None and not done.result["skipped"]
    [attempt] = store.list_attempts(job.payload["pair_id"])
    assert attempt.result_sno_id == done.result["sno_id"] and store.contains(attempt.result_sno_id)


def _overtaken_before_writing(store: SQLStore, job_id: str, handler: Any) -> None:
    """Patch ``store.put_synthesis``: the delivery has synthesized (past the cooldown check) and is
    slow to write; meanwhile its lease runs out, the reconciler requeues the job and another
    worker does it all; then the late write goes ahead with the old token."""
    from cns.core.records import LeaseTerms

    write, took_over = store.put_synthesis, []

    def late_write(*args: Any, **kwargs: Any) -> Any:
        if not took_over:
            took_over.append(True)
            store.requeue_job(job_id)
            other = store.claim_job(job_id, max_deliveries=3, lease=LeaseTerms("other-host:9", 30.0)).job
            assert other is not None
            winner = handler(other)
            assert winner.state is JobState.SUCCESS and winner.lease_token == other.lease_token
        return write(*args, **kwargs)

    store.put_synthesis = late_write  # type: ignore[method-assign]


def test_a_synthesis_delivery_that_lost_its_job_adds_no_candidate_and_no_attempt(
    tmp_path: Path, stores: Any
) -> None:
    """Its lease ran out while it synthesized and another worker took the job over and finished
    it: the late delivery's candidate, attempt and SUCCESS are all refused, so the pair keeps
    one attempt and the one synthesis of the worker that took over."""
    import structlog

    config = config_for(tmp_path)
    _, store = stores
    manager = worker_manager(config, store)
    find_and_schedule(store=store, publisher=RecordingPublisher(), config=config, manager=manager)
    [job] = store.list_jobs(kind="synthesize")
    handler = synthesize_job_handler(store, manager, config)
    before = {s.sno_id for s in store.list()}
    _overtaken_before_writing(store, job.job_id, handler)
    with structlog.testing.capture_logs() as logs:
        late = run_job(store, job.job_id, max_deliveries=3, handler=handler)
    assert late.state is JobState.SUCCESS and late.lease_token == 2
    assert len(store.list_attempts(job.payload["pair_id"])) == 1
    syntheses = {s.sno_id for s in store.list()} - before
    assert len(syntheses) == 1 and late.result is not None and late.result["sno_id"] in syntheses
    assert [e["lease_token"] for e in logs if e["event"] == "job.fenced"] == [1]
    assert any(e["event"] == "synthesis.fenced" for e in logs)


def test_a_failed_synthesis_records_its_error_attempt_under_the_same_fence(
    tmp_path: Path, stores: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A synthesis that fails (the model errs) has no candidate but an "error" attempt: it is
    written with the job's SUCCESS, and a late delivery's error attempt is refused like a candidate."""
    config = config_for(tmp_path)
    _, store = stores
    manager = worker_manager(config, store)
    find_and_schedule(store=store, publisher=RecordingPublisher(), config=config, manager=manager)
    [job] = store.list_jobs(kind="synthesize")

    def fails(*_: Any, **__: Any) -> Any:
        raise ModelUnavailableError("the LLM endpoint is unreachable (test)")

    monkeypatch.setattr(manager.synthesis_engine, "_run", fails)
    handler = synthesize_job_handler(store, manager, config)
    _overtaken_before_writing(store, job.job_id, handler)
    late = run_job(store, job.job_id, max_deliveries=3, handler=handler)
    assert late.state is JobState.SUCCESS and late.lease_token == 2
    assert late.result is not None and late.result["sno_id"] is None
    [attempt] = store.list_attempts(job.payload["pair_id"])  # the winner's only
    assert attempt.accepted is None and "unreachable" in " ".join(map(str, attempt.reasons))


def test_pending_attempts_write_nothing_until_flushed(tmp_path: Path, stores: Any) -> None:
    store, _ = stores
    a, b = (s.sno_id for s in store.list())
    from cns.store.sql import PairRecord

    store.record_pair(PairRecord(a, b, 0.5, 0.5, 0.5))
    log = StoreAttemptLog(store, 60.0)
    pending = PendingAttempts(log)
    held = pending.record(a, b, "accepted", reason="ok", result_sno_id="s1")
    assert held.attempts == 1 and log.get(a, b) is None and pending.ready(a, b)
    [written] = pending.flush()
    assert written.outcome == "accepted" and log.get(a, b) == written and not log.ready(a, b)
    assert pending.flush() == []


def test_one_setting_decides_whether_syntheses_pair_in_every_path(tmp_path: Path, stores: Any) -> None:
    """A third SNO that is a synthesis and opposes the first: it pairs only if the setting says so."""
    cli, service = stores
    for store in (cli, service):
        synthesis = make_sno(
            "Coffee harms memory in adults", ["harm in the trial"], EVIDENCE, embedder=EMBEDDER, trust=0.8
        )
        synthesis.status = SNOStatus.ACTIVE
        synthesis.metadata["parent_ids"] = [s.sno_id for s in store.list()]
        store.put(synthesis)
    for allowed, expected in ((False, 1), (True, 2)):
        config = config_for(tmp_path / str(allowed), population={"pair_syntheses": allowed})
        found_by_cli = cli_manager(config, cli).find_pairs()
        by_beat = find_and_schedule(
            store=service,
            publisher=RecordingPublisher(),
            config=config,
            manager=worker_manager(config, service),
        )
        assert len(found_by_cli.pairs) == by_beat["pairs"] == expected
        assert len(pairing_population(cli_manager(config, cli))) == 2 + int(allowed)


def test_the_service_rescores_when_the_population_grew(tmp_path: Path) -> None:
    """Beat's sweep publishes a re-score before searching pairs; the re-score then searches."""
    config = config_for(tmp_path)
    publisher = RecordingPublisher()
    with SQLStore.open(config=config) as store:
        seed(store)
        manager = worker_manager(config, store)
        first = sweep(store=store, publisher=publisher, config=config, manager=manager)
        [job] = store.list_jobs(kind="rescore")
        assert first == {"pairs": 0, "scheduled": 0, "rescore_job_id": job.job_id}
        assert publisher.sent == [("cns.rescore_population", (job.job_id,))]
        assert (
            sweep(store=store, publisher=publisher, config=config, manager=manager)["rescore_job_id"]
            == job.job_id
        )
        assert len(store.list_jobs(kind="rescore")) == 1  # queued: never published twice
        handler = rescore_job_handler(store, manager, publisher, config)
        done = run_job(store, job.job_id, max_deliveries=3, handler=handler)
        assert done.state is JobState.SUCCESS and done.result is not None
        assert done.result["mark"] == 2 and done.result["pairs"] == 1 and done.result["scheduled"] == 1
        assert store.read_marker(RESCORE_MARKER) == 2
        assert all(s.evaluation is not None for s in store.list())  # every SNO was re-evaluated
        settled = sweep(store=store, publisher=publisher, config=config, manager=manager)
        assert settled == {"pairs": 1, "scheduled": 0}  # nothing grew: a plain pair search
        seed(store, ("Tea improves memory in adults",))
        grown = sweep(store=store, publisher=publisher, config=config, manager=manager)
        assert "rescore_job_id" in grown and len(store.list_jobs(kind="rescore")) == 2


def test_a_rescore_that_failed_for_good_does_not_block_the_pair_search(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    publisher = RecordingPublisher()
    with SQLStore.open(config=config) as store:
        seed(store)
        manager = worker_manager(config, store)
        sweep(store=store, publisher=publisher, config=config, manager=manager)
        [job] = store.list_jobs(kind="rescore")
        store.fail_job(job.job_id, "time_limit: the task exceeded its soft time limit (test)")
        assert sweep(store=store, publisher=publisher, config=config, manager=manager) == {
            "pairs": 1,
            "scheduled": 1,
        }


def test_cli_and_loop_share_the_rescore_marker(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    with SQLStore.open(config=config) as store:
        seed(store)
        manager = cli_manager(config, store)
        assert rescore_if_due(manager).changed >= 0 and store.read_marker(RESCORE_MARKER) == 2
        evaluated = {s.sno_id: s.evaluation for s in store.list()}
        assert all(evaluated.values())
        assert rescore_if_due(manager).changed == 0  # not grown: nothing re-evaluated
        assert {s.sno_id: s.evaluation for s in store.list()} == evaluated
    memory = memory_manager(config)
    rescore_if_due(memory)
    assert memory.rescored_mark == 2


def test_a_synthesis_is_scored_against_the_reference_index_that_follows_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No attempt rebuilds an index from the whole population: the engine is handed the
    manager's reference index, synced once per synthesis, and it holds every trusted narrative
    of the store (here the pair and a bystander), not only the pair's parents."""
    import cns.synthesis.engine as engine_module

    def no_rebuild(*_: Any, **__: Any) -> Any:
        raise AssertionError("the engine rebuilt a reference index")

    monkeypatch.setattr(engine_module, "build_reference_index", no_rebuild)
    config = config_for(tmp_path, thresholds={"synthesis": 0.0})
    with SQLStore.open(tmp_path / "cli.sqlite3") as store:
        seed(store)
        [bystander] = seed(store, ("Bees pollinate apple orchards in spring",))
        manager = cli_manager(config, store)
        [pair] = [p for p in manager.find_pairs().pairs if bystander.sno_id not in p.key]
        before = manager.reference.syncs
        result = synthesize_and_store(manager, pair, force=True)
        assert manager.reference.syncs == before + 1
        assert result.sno is not None and result.sno.evaluation is not None
        novelty = result.sno.evaluation["critic_results"]["novelty"]
        assert novelty["evidence"]["reference_size"] == 3
        assert result.sno.sno_id in manager.reference_index().ids()  # the accepted synthesis joins it


class _UpgradedNLI(RuleNLI):
    """The same judge under new weights: what an upgrade of the shipped model looks like."""

    version = "2"


class _UpgradedNLIInBF16(_UpgradedNLI):
    version = "2-bf16"


def _graded_by(store: SQLStore) -> set[str]:
    """The NLI models the stored trust scores were computed with (recorded by the grounding critic)."""
    return {
        s.evaluation["critic_results"]["grounding"]["models"]["nli"] for s in store.list() if s.evaluation
    }


def test_a_new_nli_model_rescores_once_without_growth_and_models_never_take_turns(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    with SQLStore.open(config=config) as store:
        seed(store)
        old = cli_manager(config, store)
        rescore_if_due(old)
        assert rescore_due(old) is None and _graded_by(store) == {"fake:rule-nli@1"}
        # an upgrade: same documents, new weights -> due once, and every SNO is judged by the new model
        new = CNSWorkflowManager(config, store=store, embedder=EMBEDDER, nli=_UpgradedNLI())
        assert rescore_due(new) == 2
        rescore_if_due(new)
        assert _graded_by(store) == {"fake:rule-nli@2"}
        assert rescore_due(new) is None
        # the same weights in another precision (another machine) are the same model
        assert (
            rescore_due(CNSWorkflowManager(config, store=store, embedder=EMBEDDER, nli=_UpgradedNLIInBF16()))
            is None
        )
        # a process still on the old model already re-scored once: no ping-pong between the two
        assert rescore_due(cli_manager(config, store)) is None
        # growth still makes a re-score due for everyone
        seed(store, ("Tea improves memory in adults",))
        assert rescore_due(new) == 3


def run_rescore(
    store: SQLStore,
    job_id: str,
    manager: CNSWorkflowManager,
    publisher: RecordingPublisher,
    config: CNSConfig,
) -> None:
    """Run a submitted ``rescore`` job the way a worker does."""
    done = run_job(
        store, job_id, max_deliveries=3, handler=rescore_job_handler(store, manager, publisher, config)
    )
    assert done.state is JobState.SUCCESS


def test_the_service_sweep_submits_a_rescore_for_a_new_model_at_the_same_population(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    publisher = RecordingPublisher()
    with SQLStore.open(config=config) as store:
        seed(store)
        old = worker_manager(config, store)
        first = sweep(store=store, publisher=publisher, config=config, manager=old)
        run_rescore(store, first["rescore_job_id"], old, publisher, config)
        assert "rescore_job_id" not in sweep(store=store, publisher=publisher, config=config, manager=old)
        new = CNSWorkflowManager(config, store=store, embedder=EMBEDDER, nli=_UpgradedNLI())
        upgraded = sweep(store=store, publisher=publisher, config=config, manager=new)
        # not the first job replayed by its key: a new job for the new model
        assert upgraded["rescore_job_id"] != first["rescore_job_id"]
        run_rescore(store, upgraded["rescore_job_id"], new, publisher, config)
        assert _graded_by(store) == {"fake:rule-nli@2"} and len(store.list_jobs(kind="rescore")) == 2
        assert "rescore_job_id" not in sweep(store=store, publisher=publisher, config=config, manager=new)


def test_an_in_memory_store_remembers_which_models_rescored(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    memory = memory_manager(config)
    rescore_if_due(memory)
    assert rescore_due(memory) is None and len(memory.rescored_models) == 1
