"""`/metrics` in Prometheus' text format (prometheus_client), from a registry of the app's own: requests by
route and status, characters generated, samples stored, time to the first character and per-request
latency; and, read when scraped, each loaded model's step loop (streams stepped now, the widest step, steps
run, requests in it and waiting to join)."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily

SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Metrics:
    def __init__(self, generators) -> None:
        self.registry = registry = CollectorRegistry()
        self.requests = Counter(
            "recur_requests",
            "HTTP requests by route and status.",
            ["route", "method", "status"],
            registry=registry,
        )
        self.characters = Counter("recur_generated_characters", "Characters generated.", registry=registry)
        self.samples = Counter("recur_samples_stored", "Samples stored.", registry=registry)
        self.first = Histogram(
            "recur_time_to_first_character_seconds",
            "From a completion request's arrival to its first generated character.",
            buckets=SECONDS,
            registry=registry,
        )
        self.latency = Histogram(
            "recur_completion_seconds",
            "A completion request, arrival to last character.",
            buckets=SECONDS,
            registry=registry,
        )
        registry.register(_Loops(generators))


class _Loops:
    """Collected at scrape time from the generators' own counters: nothing is added to a step."""

    def __init__(self, generators) -> None:
        self.generators = generators

    def collect(self):
        families = {
            "streams": GaugeMetricFamily(
                "recur_batch_streams", "Streams in the step loop now.", labels=["model"]
            ),
            "peak_streams": GaugeMetricFamily(
                "recur_batch_peak_streams", "Streams in the widest step so far.", labels=["model"]
            ),
            "jobs": GaugeMetricFamily("recur_batch_requests", "Requests being generated.", labels=["model"]),
            "pending": GaugeMetricFamily(
                "recur_queue_requests", "Requests waiting to join the next step.", labels=["model"]
            ),
            "steps": CounterMetricFamily("recur_batch_steps", "Steps run.", labels=["model"]),
        }
        for row in self.generators.stats():
            for key, family in families.items():
                family.add_metric([row["model"]], row[key])
        yield from families.values()


class Timer:
    """One completion's clock: the first character and the end, observed once each."""

    def __init__(self, metrics: Metrics) -> None:
        self.metrics, self.started, self.first_seen, self.done = metrics, time.perf_counter(), False, False

    def first(self) -> None:
        if not self.first_seen:
            self.first_seen = True
            self.metrics.first.observe(time.perf_counter() - self.started)

    def end(self, characters: int, samples: int) -> None:
        if not self.done:
            self.done = True
            self.metrics.latency.observe(time.perf_counter() - self.started)
            self.metrics.characters.inc(characters)
            self.metrics.samples.inc(samples)


class Counted:
    """ASGI middleware: every HTTP request counted by its route's template (never the raw path, so the
    number of series stays bounded), method and status."""

    def __init__(self, app, metrics: Metrics) -> None:
        self.app, self.metrics = app, metrics

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = [500]

        async def sending(message) -> None:
            if message["type"] == "http.response.start":
                status[0] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.requests.labels(route, scope["method"], str(status[0])).inc()
