"""A small store for the web tests, built once with the fake backends, and apps over copies of it.

The corpus is the `cns run` test corpus (two opposed pairs of documents sharing a citation) plus
one hostile document whose hypothesis holds a ``<script>`` element and markup: every page that
shows it must show it as text.
"""

from __future__ import annotations

import re
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from cns.config import CNSConfig
from cns.services.run import run_pipeline
from cns.services.runtime import build_runtime
from cns.store.sql import SQLStore
from cns.web import create_web_app
from cns.web.state import WebState
from tests.api.api_helpers import RecordingPublisher
from tests.services.run_corpus import write_corpus

HOSTILE_NAME = "hostile<em>name.txt"
HOSTILE_TEXT = (
    "We argue that <script>window.__pwned = 1</script> tides <b>never</b> move sand on beaches because "
    "nothing pushes it. Therefore the dunes stay fixed <img src=x onerror=alert(1)> for centuries.\n"
)
SCRIPT = "<script>window.__pwned = 1</script>"


def web_config(data_dir: Path, **overrides: Any) -> CNSConfig:
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "models": {"embedding_backend": "fake", "nli_backend": "fake"},
        "thresholds": {"synthesis": 0.0},  # every synthesis is accepted: the pages show one
    }
    values.update(overrides)
    return CNSConfig(**values)


def build_store(root: Path) -> Path:
    """Ingest the corpus and the hostile document, find pairs, synthesize; the data folder."""
    corpus = write_corpus(root / "corpus")
    (corpus / HOSTILE_NAME).write_text(HOSTILE_TEXT, encoding="utf-8")
    data = root / "data"
    with build_runtime(web_config(data), "cli") as rt:
        run_pipeline(rt, [corpus], root / "out")
    return data


def copy_store(source: Path, target: Path) -> Path:
    shutil.copytree(source, target)
    return target


@contextmanager
def web_client(
    data_dir: Path, *, state: WebState | None = None, base_url: str = "http://testserver", **overrides: Any
) -> Iterator[tuple[TestClient, SQLStore, RecordingPublisher]]:
    """The web app over the store in ``data_dir`` with a recording publisher (no jobs run)."""
    config = web_config(data_dir, **overrides)
    publisher = RecordingPublisher()
    with SQLStore.open(config=config) as store:
        app = create_web_app(config, store=store, publisher=publisher, state=state)
        with TestClient(app, base_url=base_url, follow_redirects=False) as client:
            yield client, store, publisher


def csrf_of(html: str) -> str:
    """The CSRF token a page embeds (the meta tag the scripts read, or a form's hidden field)."""
    match = re.search(r'name="csrf-token" content="([0-9a-f]+)"', html) or re.search(
        r'name="csrf_token" value="([0-9a-f]+)"', html
    )
    assert match, "the page has no CSRF token"
    return match.group(1)
