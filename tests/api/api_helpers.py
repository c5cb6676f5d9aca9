"""A recording publisher and an app factory for the API tests (SQLite store, no broker)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from cns.api import create_app
from cns.config import CNSConfig
from cns.errors import BrokerUnavailable
from cns.store.sql import SQLStore


class RecordingPublisher:
    def __init__(self) -> None:
        self.sent: list[tuple[str, tuple[str, ...]]] = []
        self.down = False
        self.canary_ok = True

    def publish(self, task_name: str, *args: str, task_id: str | None = None) -> None:
        if self.down:
            raise BrokerUnavailable(f"the task broker did not accept {task_name} within 0.1 s (test)")
        self.sent.append((task_name, args))

    def queue_depth(self) -> int | None:
        return None if self.down else len(self.sent)

    @property
    def job_ids(self) -> list[str]:
        """The job ids that reached the (fake) broker: conservation counts these as published."""
        return [args[0] for _, args in self.sent if args]

    def ping(self) -> None:
        if self.down:
            raise BrokerUnavailable("broker down (test)")

    def canary(self, timeout: float) -> None:
        if not self.canary_ok:
            raise TimeoutError("no worker answered")


def config_for(tmp_path: Path, **overrides: Any) -> CNSConfig:
    values: dict[str, Any] = {
        "data_dir": tmp_path / "data",
        "models": {"embedding_backend": "fake", "nli_backend": "fake"},
    }
    values.update(overrides)
    return CNSConfig(**values)


@contextmanager
def api_client(tmp_path: Path, **overrides: Any) -> Iterator[tuple[TestClient, SQLStore, RecordingPublisher]]:
    config = config_for(tmp_path, **overrides)
    publisher = RecordingPublisher()
    with SQLStore.open(config=config) as store:
        app = create_app(config, store=store, publisher=publisher)
        with TestClient(app, raise_server_exceptions=False) as client:
            yield client, store, publisher
