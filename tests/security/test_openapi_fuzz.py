"""schemathesis against the API's OpenAPI document: no 5xx, every 4xx documented and in the error shape.

The app runs in-process (schemathesis's ASGI transport) over a SQLite store in ``tmp_path`` and a
recording publisher, once with auth off and once with auth on (a real key from the API-key
store; positive cases carry it, negative cases send whatever schemathesis generates). Every
operation gets ``EXAMPLES`` schema-valid and ``EXAMPLES`` schema-violating requests, generated
deterministically (``derandomize``) with no example database. Afterwards the job table must
hold exactly the jobs the API answered 202 ``created`` for, each published once: a rejected
request keeps nothing, an accepted one is not lost.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
import schemathesis
from hypothesis import example, given
from schemathesis.generation.modes import GenerationMode
from schemathesis.python.asgi import shutdown_lifespans
from schemathesis.schemas import APIOperation
from schemathesis.specs.openapi.checks import negative_data_rejection, positive_data_acceptance

from cns.api import create_app
from cns.services.apikeys import create_api_key
from cns.store.sql import SQLStore
from tests.api.api_helpers import RecordingPublisher, config_for
from tests.reliability.reliability_support import conservation, record
from tests.security.fuzz_support import fuzz_settings
from tests.security.openapi_fuzz_support import (
    FILES_OPERATION,
    NO_NEGATIVE,
    REGRESSIONS,
    FuzzTally,
    client_error_is_expected,
    error_of,
)

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(300)]

EXAMPLES = 30
REQUEST_TIMEOUT = 20.0  # seconds; a request that takes longer is a hang, not a slow answer
WRITE_OPERATIONS = {
    "POST /ingest",
    "POST /ingest/batch",
    "POST /pairs/search",
    "POST /pairs/{pair_id}/synthesize",
}


def fuzz_operation(
    operation: APIOperation, mode: GenerationMode, tally: FuzzTally, *, auth: bool, key: str | None
) -> None:
    """Send ``EXAMPLES`` generated requests to one operation and check every response."""
    label = operation.label
    fixed = {"X-API-Key": key} if key and mode is GenerationMode.POSITIVE else None
    excluded = [positive_data_acceptance]  # replaced by client_error_is_expected (state-aware)
    if label == FILES_OPERATION:
        excluded.append(negative_data_rejection)  # multipart cannot carry a non-binary "file"

    def run(case: schemathesis.Case) -> None:
        response = case.call(timeout=REQUEST_TIMEOUT)
        tally.observe(label, mode, response)
        assert response.status_code < 500, (label, response.status_code, response.text[:500])
        if key is not None:
            assert key not in response.text and key.split(".", 1)[1] not in response.text
        if response.status_code >= 400:
            error = error_of(response)
            if mode is GenerationMode.POSITIVE:
                assert client_error_is_expected(label, response.status_code, error, auth=auth), error
        case.validate_response(response, excluded_checks=excluded)

    test = given(case=operation.as_strategy(generation_mode=mode, headers=fixed))(run)
    for kwargs in REGRESSIONS.get((label, mode), []):
        test = example(case=operation.Case(**kwargs))(test)
    fuzz_settings(EXAMPLES)(test)()


def fuzz_schema(schema: schemathesis.BaseSchema, *, auth: bool, key: str | None) -> FuzzTally:
    tally = FuzzTally()
    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode is GenerationMode.NEGATIVE and operation.label in NO_NEGATIVE:
                continue
            fuzz_operation(operation, mode, tally, auth=auth, key=key)
    return tally


@pytest.mark.parametrize("auth", [False, True], ids=["auth-off", "auth-on"])
def test_openapi_fuzz_no_5xx_and_every_4xx_in_the_error_shape(tmp_path: Path, auth: bool) -> None:
    config = config_for(tmp_path, auth={"enabled": auth}, service={"rate_limit_per_minute": 0})
    publisher = RecordingPublisher()
    with SQLStore.open(config=config) as store:
        key = create_api_key(store, name="fuzz")[1] if auth else None
        app = create_app(config, store=store, publisher=publisher)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)
        try:
            tally = fuzz_schema(schema, auth=auth, key=key)
        finally:
            shutdown_lifespans()
        published = Counter(args[0] for _, args in publisher.sent)
        tally_db = conservation(store, tally.created_jobs, published)
        job_ids = {job.job_id for job in store.list_jobs()}
    created = set(tally.created_jobs)
    assert len(created) == len(tally.created_jobs)  # one created=True answer per job
    assert tally.replayed_jobs <= created  # a replay only ever returns a job created earlier
    kept_from_rejections = len(job_ids - created)  # jobs no 202 answer accounts for
    republished = sum(n - 1 for n in published.values()) + len(set(published) - created)
    assert tally_db.lost == 0 and kept_from_rejections == 0 and republished == 0
    assert tally.operations() == {op.ok().label for op in schema.get_all_operations()}
    for operation in WRITE_OPERATIONS - {"POST /pairs/{pair_id}/synthesize"}:
        assert tally.accepted(operation) > 0, (operation, tally.statuses)  # the valid key got through
    statuses = sorted({status for _, status in tally.statuses})
    record(
        f"fuzz[openapi,auth={'on' if auth else 'off'}]",
        f"schemathesis: {len(tally.operations())} operations × positive/negative cases, "
        f"{tally.total} requests (≤{EXAMPLES} per operation and mode, derandomized)",
        f"no 5xx; statuses {statuses}; every 4xx documented and in the error shape; "
        f"{len(created)} accepted jobs all stored and published once, nothing kept from rejections",
        lost=tally_db.lost,
        duplicated=kept_from_rejections + republished,
    )
