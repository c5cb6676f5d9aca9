"""The app uses exactly what it is given: an injected store, publisher and probe are never replaced."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient

from cns.api import create_app
from cns.store.sql import SQLStore
from tests.api.api_helpers import RecordingPublisher, config_for


def test_an_injected_empty_store_is_used_not_shadowed_by_a_second_one(tmp_path: Path) -> None:
    """An empty store is falsy (``len() == 0``); the lifespan once opened a second, unclosed store."""
    config = config_for(tmp_path)
    publisher = RecordingPublisher()
    with SQLStore.open(config=config) as store:
        assert len(store) == 0 and not store
        app = create_app(config, store=store, publisher=publisher)
        with TestClient(app) as client:
            services = app.state.services
            assert services.store is store and services.publisher is publisher
            accepted = client.post("/ingest", json={"source": "a.txt", "text": "Walking helps mood."})
            assert accepted.status_code == 202
        assert store.get_job(accepted.json()["job_id"]) is not None  # written through the injected store
        assert publisher.sent and publisher.sent[0][1] == (accepted.json()["job_id"],)
