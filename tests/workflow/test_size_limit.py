"""``population.size_limit``: beyond it the lowest-trust active SNOs are archived, with the reason,
before every pair search — in the CLI's cycle and in the service's sweep alike."""

from __future__ import annotations

from pathlib import Path

import pytest

from cns.core.ids import stable_id
from cns.core.sno import SNOStatus, StructuredNarrativeObject
from cns.ports import SNOStore
from cns.services.synthesis_jobs import find_and_schedule
from cns.store.memory import InMemorySNOStore
from cns.store.sql import SQLStore
from cns.testing.fakes import HashEmbedder, RuleNLI
from cns.workflow import CNSWorkflowManager
from cns.workflow.lifecycle import enforce_size_limit
from cns.workflow.lifecycle.population import over_the_limit
from tests.api.api_helpers import RecordingPublisher, config_for
from tests.conftest import make_sno

EMBEDDER = HashEmbedder(384)
TRUSTS = {"a": 0.9, "b": 0.5, "c": 0.7, "d": 0.45, "e": 0.8}


def population(store: SNOStore) -> None:
    for name, trust in TRUSTS.items():
        sno = make_sno(
            f"Claim {name} about coffee and memory", embedder=EMBEDDER, trust=trust, sno_id=stable_id(name)
        )
        sno.status = SNOStatus.ACTIVE
        store.put(sno)


def active_ids(store: SNOStore) -> set[str]:
    return {s.sno_id for s in store.list(status="active")}


def test_over_the_limit_takes_the_lowest_trust_first_ties_by_id() -> None:
    snos = [make_sno(f"h{i}", trust=t, sno_id=f"s{i}") for i, t in enumerate([0.5, 0.2, 0.5, None, 0.9])]
    assert (
        over_the_limit(snos, None) == [] and over_the_limit(snos, 5) == [] and over_the_limit(snos, 9) == []
    )
    assert [s.sno_id for s in over_the_limit(snos, 2)] == ["s3", "s1", "s0"]  # None counts as 0


def test_the_cli_path_archives_beyond_the_limit_with_the_reason(tmp_path: Path) -> None:
    store = InMemorySNOStore()
    population(store)
    manager = CNSWorkflowManager(
        config_for(tmp_path, population={"size_limit": 3}), store=store, embedder=EMBEDDER, nli=RuleNLI()
    )
    manager.find_pairs()
    assert active_ids(store) == {stable_id("a"), stable_id("e"), stable_id("c")}
    lowest: StructuredNarrativeObject = store.get(stable_id("d"))
    assert lowest.status is SNOStatus.ARCHIVED
    assert lowest.metadata["archive_reason"] == (
        "trust score 0.4500 is among the 2 lowest of 5 active SNOs; at most 3 stay active (population.size_limit)"
    )
    assert enforce_size_limit(manager) == []  # within the limit now: nothing more


@pytest.mark.parametrize("limit", [None, 5])
def test_no_limit_or_within_it_archives_nothing(tmp_path: Path, limit: int | None) -> None:
    store = InMemorySNOStore()
    population(store)
    manager = CNSWorkflowManager(
        config_for(tmp_path, population={"size_limit": limit}), store=store, embedder=EMBEDDER, nli=RuleNLI()
    )
    assert enforce_size_limit(manager) == []
    assert len(active_ids(store)) == 5


def test_the_service_sweep_applies_the_same_limit(tmp_path: Path) -> None:
    config = config_for(tmp_path, population={"size_limit": 2})
    with SQLStore.open(tmp_path / "service.sqlite3") as store:
        population(store)
        manager = CNSWorkflowManager(config, store=store, embedder=EMBEDDER, nli=RuleNLI())
        find_and_schedule(store=store, publisher=RecordingPublisher(), config=config, manager=manager)
        assert active_ids(store) == {stable_id("a"), stable_id("e")}
        assert "population.size_limit" in store.get(stable_id("b")).metadata["archive_reason"]
