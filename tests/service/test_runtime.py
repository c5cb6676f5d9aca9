"""``build_runtime(config, role)``: one builder for the CLI, the workers and the API, differing
only where a role needs it to (a saved index, models loaded up front, a broker publisher)."""

from __future__ import annotations

from pathlib import Path

import pytest

from cns.errors import ConfigError
from cns.services.runtime import ROLES, build_runtime, reference_path
from cns.store.sql import SQLStore
from cns.testing.contracts import sample_sno
from cns.testing.fakes import HashEmbedder, RuleNLI
from tests.api.api_helpers import RecordingPublisher, config_for


def test_the_cli_saves_its_reference_index_and_the_next_command_loads_it(tmp_path: Path) -> None:
    config = config_for(tmp_path, embedding_dim=8)
    path = reference_path(config)
    with build_runtime(config, "cli", embedder=HashEmbedder(8), nli=RuleNLI()) as first:
        first.store.put(sample_sno("kept", trust=0.9, status="active"))
        assert len(first.manager.reference_index()) == 1
        assert first.reference.persisted and first.reference.path == path
    assert path.is_file()
    with build_runtime(config, "cli", embedder=HashEmbedder(8), nli=RuleNLI()) as second:
        assert second.reference.synced_seq == second.store.current_seq() == 1  # loaded, not rebuilt
        assert len(second.reference) == 1


def test_a_cli_command_that_scores_nothing_loads_no_index(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    with build_runtime(config, "cli") as runtime:
        assert runtime.store.counts()["snos"] == 0
    assert not reference_path(config).exists()


def test_the_worker_loads_its_models_now_and_keeps_the_index_in_memory(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    publisher = RecordingPublisher()
    with build_runtime(config, "worker", publisher=publisher) as runtime:
        assert runtime.publisher is publisher
        assert runtime.manager._embedder is not None and runtime.manager._nli is not None
        assert not runtime.reference.persisted
        runtime.manager.reference_index()
    assert not reference_path(config).exists()


def test_the_api_loads_no_model_and_leaves_an_injected_store_open(tmp_path: Path) -> None:
    config = config_for(tmp_path)
    with SQLStore.open(config=config) as store:
        runtime = build_runtime(config, "api", store=store, publisher=RecordingPublisher())
        assert runtime.manager._embedder is None and runtime.manager._nli is None
        runtime.close()
        assert store.counts()["snos"] == 0  # still open: its owner closes it


def test_a_runtime_without_a_broker_says_so(tmp_path: Path) -> None:
    with (
        build_runtime(config_for(tmp_path), "cli") as runtime,
        pytest.raises(ConfigError, match="the cli runtime has no broker publisher"),
    ):
        _ = runtime.publisher


def test_an_unknown_role_lists_the_roles(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="unknown runtime role 'beat'; use one of cli, worker, api"):
        build_runtime(config_for(tmp_path), "beat")  # type: ignore[arg-type]
    assert set(ROLES) == {"cli", "worker", "api"}
