"""S15[invisible]: text with nothing visible is refused at the door (row of docs/reliability.md).

Before: a text made only of zero-width or combining characters was accepted with 202 and its job
then failed in the worker. Now it is a 422 naming the field, with nothing stored or enqueued.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.api.api_helpers import api_client
from tests.reliability.reliability_support import conservation, record

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(300)]
INVISIBLE = {
    "zero-width": "\u200b\u200c\u200d\ufeff" * 50,
    "combining": "\u0301\u0308\u0327" * 50,
    "mixed": "\u200b \u0301\n\u2060\u00ad" * 20,
}


def test_text_with_no_visible_character_is_a_422(tmp_path: Path) -> None:
    with api_client(tmp_path) as (client, store, publisher):
        for name, text in INVISIBLE.items():
            one = client.post("/ingest", json={"source": name, "text": text})
            assert one.status_code == 422, (name, one.text)
            assert one.json()["error"]["details"][0]["loc"] == ["body", "text"]
            batch = client.post(
                "/ingest/batch",
                json={"documents": [{"source": "ok", "text": "Fine."}, {"source": name, "text": text}]},
            )
            assert batch.status_code == 422 and batch.json()["error"]["details"][0]["loc"] == [
                "body",
                "documents",
                1,
                "text",
            ]
        assert (
            client.post("/ingest", json={"source": "s", "text": "e\u0301t\u00e9\u200b."}).status_code == 202
        )
        assert len(publisher.sent) == 1
        check = conservation(store)
    record(
        "S15[invisible]",
        "POST /ingest and /ingest/batch with text made only of zero-width, combining or soft-hyphen characters",
        "422 'only zero-width, combining, control or space characters', loc names the text; nothing "
        "stored or enqueued (before: 202, then the job failed in the worker)",
        lost=check.lost,
        duplicated=check.duplicated + check.jobs - 1,
    )
