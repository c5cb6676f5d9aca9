"""The job lease and fencing contract, held by every store (mixed into ``RepositoryContract``).

A claim takes a new fencing token and, from a worker, a lease; a live lease refuses a second
claim; renewals and final writes carry the token and are refused once the job was claimed again.
An expired lease is simulated by a lease of negative length (its expiry lies in the past), so
no test waits for a clock.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

import pytest

from cns.core.records import JobCompletion, JobState, LeaseTerms
from cns.errors import StoreError
from cns.store.rules import document_id_for
from cns.testing.contracts import sample_sno

if TYPE_CHECKING:
    from cns.store.memory import InMemoryStore
    from cns.store.sql import SQLStore

    Store = InMemoryStore | SQLStore

A = LeaseTerms("host-a:101", 30.0)
B = LeaseTerms("host-b:202", 30.0)
#: A lease whose expiry is already past: what a worker that died a lease ago left behind.
DEAD_A = LeaseTerms("host-a:101", -1.0)


class LeaseContract:
    def test_each_claim_takes_a_new_token_and_a_live_lease_refuses_a_second_claim(self, store: Store) -> None:
        job, _ = store.jobs.create_job("ingest")
        assert job.lease_token == 0 and job.lease_owner is None and job.lease_expires_at is None
        before = datetime.now(UTC)
        first = store.jobs.claim_job(job.job_id, max_deliveries=3, lease=A)
        assert first.started and first.job is not None and first.held_by is None
        assert (first.job.lease_token, first.job.lease_owner, first.job.attempts) == (1, A.holder, 1)
        assert first.job.lease_expires_at is not None
        assert (
            before + timedelta(seconds=29)
            <= first.job.lease_expires_at
            <= datetime.now(UTC) + timedelta(seconds=31)
        )
        second = store.jobs.claim_job(job.job_id, max_deliveries=3, lease=B)
        assert not second.started and second.held_by == A.holder  # a duplicate message, not a second run
        assert second.job == store.jobs.get_job(job.job_id) and second.job is not None
        assert (second.job.attempts, second.job.lease_token) == (1, 1)  # the refused delivery is not counted

    def test_a_live_lease_is_reported_before_the_poison_cap(self, store: Store) -> None:
        job, _ = store.jobs.create_job("ingest")
        assert store.jobs.claim_job(job.job_id, max_deliveries=1, lease=A).started
        capped = store.jobs.claim_job(job.job_id, max_deliveries=1, lease=B)
        assert not capped.started and capped.held_by == A.holder  # running: not a poison job
        store.jobs.claim_job(job.job_id, max_deliveries=3, lease=DEAD_A)  # (a claim while held is refused)
        assert store.jobs.get_job(job.job_id).lease_owner == A.holder  # type: ignore[union-attr]

    def test_an_expired_lease_is_claimed_again_and_fences_the_old_token(self, store: Store) -> None:
        job, _ = store.jobs.create_job("ingest")
        old = store.jobs.claim_job(job.job_id, max_deliveries=3, lease=DEAD_A).job
        assert old is not None and old.lease_token == 1
        taken = store.jobs.claim_job(job.job_id, max_deliveries=3, lease=B)
        assert taken.started and taken.job is not None
        assert (taken.job.lease_token, taken.job.lease_owner, taken.job.attempts) == (2, B.holder, 2)
        assert not store.jobs.renew_lease(job.job_id, 1, seconds=30)  # the old holder lost it
        refused = store.jobs.complete_job(job.job_id, {"by": "late"}, lease_token=1)
        assert refused.state is JobState.STARTED and refused.result is None and refused.lease_token == 2
        assert store.jobs.fail_job(job.job_id, "late failure", lease_token=1).state is JobState.STARTED
        done = store.jobs.complete_job(job.job_id, {"by": "b"}, lease_token=2)
        assert done.state is JobState.SUCCESS and done.result == {"by": "b"}
        assert store.jobs.complete_job(job.job_id, {"by": "late"}, lease_token=1).result == {"by": "b"}

    def test_renewal_extends_the_lease_and_a_release_lets_the_next_delivery_claim(self, store: Store) -> None:
        job, _ = store.jobs.create_job("ingest")
        short = LeaseTerms(A.holder, 5.0)
        claimed = store.jobs.claim_job(job.job_id, max_deliveries=3, lease=short).job
        assert claimed is not None and claimed.lease_expires_at is not None
        assert store.jobs.renew_lease(job.job_id, 1, seconds=60)
        renewed = store.jobs.get_job(job.job_id)
        assert renewed is not None and renewed.lease_expires_at is not None
        assert renewed.lease_expires_at >= claimed.lease_expires_at + timedelta(seconds=50)
        assert renewed.updated_at == claimed.updated_at  # a renewal is not a state change
        assert store.jobs.release_lease(job.job_id, 1, reserve_seconds=60)
        released = store.jobs.get_job(job.job_id)
        assert released is not None and released.lease_owner is None and released.state is JobState.STARTED
        assert released.lease_expires_at is not None and released.lease_expires_at > datetime.now(UTC)
        assert not store.jobs.renew_lease(job.job_id, 1, seconds=60)  # released: nothing to renew
        retry = store.jobs.claim_job(job.job_id, max_deliveries=3, lease=B)  # the retry claims at once
        assert retry.started and retry.job is not None and retry.job.lease_token == 2
        assert not store.jobs.release_lease(
            job.job_id, 1, reserve_seconds=60
        )  # an old token releases nothing

    def test_only_expired_leases_are_requeued_and_only_under_the_token_read(self, store: Store) -> None:
        dead, _ = store.jobs.create_job("ingest")
        alive, _ = store.jobs.create_job("ingest")
        store.jobs.claim_job(dead.job_id, max_deliveries=3, lease=DEAD_A)
        store.jobs.claim_job(alive.job_id, max_deliveries=3, lease=B)
        now = datetime.now(UTC)
        expired = store.jobs.expired_leases(now)
        assert [j.job_id for j in expired] == [dead.job_id] and expired[0].lease_owner == DEAD_A.holder
        assert store.jobs.requeue_expired(alive.job_id, 1, now=now) is None  # its lease lives
        assert store.jobs.requeue_expired(dead.job_id, 7, now=now) is None  # not the token read
        deadline = now + timedelta(minutes=15)
        requeued = store.jobs.requeue_expired(dead.job_id, 1, now=now, deadline=deadline)
        assert requeued is not None and requeued.state is JobState.PENDING
        assert (requeued.lease_owner, requeued.lease_expires_at, requeued.lease_token) == (None, None, 1)
        assert requeued.deadline == deadline
        assert store.jobs.requeue_expired(dead.job_id, 1, now=now) is None  # once
        assert not store.jobs.renew_lease(dead.job_id, 1, seconds=30)  # the frozen holder cannot renew
        assert store.jobs.expired_leases(now) == []

    def test_requeue_job_ends_the_lease(self, store: Store) -> None:
        job, _ = store.jobs.create_job("ingest")
        store.jobs.claim_job(job.job_id, max_deliveries=3, lease=A)
        requeued = store.jobs.requeue_job(job.job_id, deadline=None)
        assert requeued.state is JobState.PENDING and requeued.lease_owner is None
        assert store.jobs.claim_job(job.job_id, max_deliveries=3, lease=B).started

    def test_a_stale_completion_writes_neither_document_nor_sno(self, store: Store) -> None:
        text = "Tides follow the moon. Records from ports agree."
        job, _ = store.jobs.create_job("ingest")
        store.jobs.claim_job(job.job_id, max_deliveries=3, lease=DEAD_A)
        store.jobs.claim_job(job.job_id, max_deliveries=3, lease=B)  # handed on: token 2
        sno = sample_sno("tides follow the moon")
        sno.metadata["document_id"] = document_id_for(text)
        late = store.documents.put_with_document(
            sno, text, completes=JobCompletion(job.job_id, {"sno_id": sno.sno_id}, lease_token=1)
        )
        assert late is not None and late.state is JobState.STARTED and late.lease_token == 2
        assert not store.snos.contains(sno.sno_id) and store.snos.current_seq() == 0
        assert store.documents.get_document(document_id_for(text)) is None
        done = store.documents.put_with_document(
            sno, text, completes=JobCompletion(job.job_id, {"sno_id": sno.sno_id}, lease_token=2)
        )
        assert done is not None and done.state is JobState.SUCCESS and store.snos.current_seq() == 1

    def test_take_turn_gives_a_periodic_duty_to_one_caller_per_period(self, store: Store) -> None:
        assert store.markers.take_turn("duty", now=10_000, every=4_000)  # never taken: due
        assert not store.markers.take_turn("duty", now=12_000, every=4_000)
        assert store.markers.read("duty") == 10_000
        assert store.markers.take_turn("duty", now=14_000, every=4_000)
        store.markers.write("duty", 20_000)  # another sweeper stamped it
        assert not store.markers.take_turn("duty", now=23_999, every=4_000)
        assert store.markers.take_turn("duty", now=24_000, every=4_000)
        with pytest.raises(StoreError, match="change counter"):
            store.markers.take_turn("sno_seq", now=1, every=1)
