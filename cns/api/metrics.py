"""``/metrics``: what an operator watches (queue depth, trust, synthesis outcomes, task latency),
computed at scrape time from shared state.

Task latency, trust and synthesis outcomes are produced by many worker processes; rather than
Prometheus multiprocess mode, the collector aggregates them from the database on each scrape
(one SQL statement per family), so every API replica reports the same cluster-wide numbers.
Queue depth is the Redis ``LLEN`` of the task queue (-1 when the broker is unreachable).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from cns.logging_setup import get_logger
from cns.ports import Publisher
from cns.services import queries
from cns.services.job_kinds import INGEST, SYNTHESIZE
from cns.store.sql import SQLStore

log = get_logger(__name__)

LATENCY_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 300.0, 900.0)
TRUST_BUCKETS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1.0)


def _histogram(
    name: str,
    doc: str,
    buckets: Sequence[float],
    counts: tuple[list[int], float, int],
    labels: dict[str, str],
) -> HistogramMetricFamily:
    cumulative, total, count = counts
    family = HistogramMetricFamily(name, doc, labels=list(labels))
    pairs = [(repr(float(b)), c) for b, c in zip(buckets, cumulative, strict=True)] + [("+Inf", count)]
    family.add_metric(list(labels.values()), pairs, total)
    return family


class CNSCollector(Collector):
    def __init__(self, store: SQLStore, publisher: Publisher) -> None:
        self.store = store
        self.publisher = publisher

    def collect(self) -> Iterator[Metric]:
        depth = self.publisher.queue_depth()
        yield GaugeMetricFamily(
            "cns_queue_depth",
            "tasks waiting in the broker queue (-1 = broker unreachable)",
            value=-1 if depth is None else depth,
        )
        try:
            yield from self._from_database()
        except Exception as exc:  # a scrape must not fail because the database blinked
            log.warning("metrics.database_unavailable", error=type(exc).__name__)
            yield GaugeMetricFamily(
                "cns_metrics_database_up", "1 if the database answered the scrape", value=0
            )

    def _from_database(self) -> Iterator[Metric]:
        jobs = GaugeMetricFamily("cns_jobs", "jobs by kind and state", labels=["kind", "state"])
        for (kind, state), n in sorted(queries.jobs_by_state(self.store).items()):
            jobs.add_metric([kind, state], n)
        yield jobs
        for kind in (INGEST, SYNTHESIZE):
            yield _histogram(
                "cns_task_latency_seconds",
                "seconds from job creation to success",
                LATENCY_BUCKETS,
                queries.job_latency_histogram(self.store, LATENCY_BUCKETS, kind),
                {"kind": kind},
            )
        yield _histogram(
            "cns_sno_trust",
            "trust scores of stored SNOs",
            TRUST_BUCKETS,
            queries.trust_histogram(self.store, TRUST_BUCKETS),
            {},
        )
        accepted, finished = queries.synthesis_outcomes(self.store)
        outcomes = GaugeMetricFamily(
            "cns_synthesis_attempts", "finished synthesis attempts", labels=["outcome"]
        )
        outcomes.add_metric(["accepted"], accepted)
        outcomes.add_metric(["rejected"], finished - accepted)
        yield outcomes
        yield GaugeMetricFamily(
            "cns_synthesis_success_ratio",
            "accepted / finished synthesis attempts (below 0.1: check prompts and thresholds)",
            value=accepted / finished if finished else 0.0,
        )
        yield GaugeMetricFamily("cns_metrics_database_up", "1 if the database answered the scrape", value=1)


def build_registry(store: SQLStore, publisher: Publisher) -> CollectorRegistry:
    """A registry per app (not the global one), so several apps in one process do not collide."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(CNSCollector(store, publisher))
    return registry
