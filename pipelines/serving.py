"""Text generation for a long-running service: each loaded model version runs one step loop on a thread
of its own (textgen.batching), and every request for that version joins it. Versions are loaded from the
store once and kept (the least recently used dropped beyond `KEPT`); a corpus's champion is looked up again
once it has been known for CHAMPION_TTL_S, so a newly promoted version serves within seconds."""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass

from threadpoolctl import threadpool_limits

from core.errors import InputError, RecurError
from core.settings import Settings
from pipelines.sampling import LoadedGenerator, copied_runs, corpus_index, load, measured, store_samples
from textgen.batching import Batcher, Job
from textgen.overlap import CorpusIndex
from textgen.sampler import ONE_THREAD_STREAMS

KEPT = 4  # model versions kept loaded
SETTLE_S, SETTLE_MAX_S = 0.001, 0.02  # see ModelLoop._settle
CHAMPION_TTL_S = 2.0  # how long a corpus's champion, once looked up, is taken as known
# Known for longer than CHAMPION_TTL_S but not this long, the champion still serves a request at once while a
# thread looks it up again: a wave of requests never waits on the store (every third wave of 64 did, in the
# thread pool, 10 ms more for its first characters). Known for longer (an idle service), a request waits for
# the lookup, so the first request after a promotion gets the new version.
CHAMPION_STALE_S = 10.0


def parse_model(model: str) -> tuple[str, int | None]:
    """`corpus` (its champion) or `corpus@version`."""
    corpus, _, version = model.rpartition("@") if "@" in model else (model, "", "")
    if not corpus:
        raise InputError(f"model {model!r}: name a corpus, or corpus@version")
    if version and not version.isdigit():
        raise InputError(f"model {model!r}: the part after @ must be a version number")
    return corpus, int(version) if version else None


class ModelLoop:
    """One version's batcher, stepped by its own thread while any job is in it."""

    def __init__(self, corpus: str, loaded: LoadedGenerator) -> None:
        self.corpus, self.loaded = corpus, loaded
        self.batcher = Batcher(loaded.model, loaded.vocab.chars)
        self.pending: list[Job] = []
        self.closed = False
        self.wake = threading.Condition()
        self.running = False
        with self.wake:
            self._start()

    def _start(self) -> None:
        self.running = True
        threading.Thread(target=self._run, daemon=True, name=f"textgen-{self.loaded.version}").start()

    def submit(self, job: Job) -> None:
        with self.wake:
            self.pending.append(job)
            self.wake.notify()
            if not self.running:  # closed and gone while this request held it: step again
                self._start()

    def close(self) -> None:
        """The thread ends once no job is left."""
        with self.wake:
            self.closed = True
            self.wake.notify()

    def _settle(self) -> None:
        """An idle loop woken by a request waits, holding `wake`'s lock only while it checks, until no
        other request has come for SETTLE_S (at most SETTLE_MAX_S in all): the requests of a wave are read
        by the event loop while this thread sleeps instead of stepping beside it for the GIL, and start
        together."""
        deadline, seen = time.monotonic() + SETTLE_MAX_S, -1
        while len(self.pending) != seen and not self.closed:
            seen = len(self.pending)
            left = deadline - time.monotonic()
            if left <= 0:
                return
            self.wake.wait(min(SETTLE_S, left))

    def _run(self) -> None:
        limits, one_thread = None, None
        while True:
            with self.wake:
                while not self.pending and not self.batcher.busy and not self.closed:
                    self.wake.wait()
                if not self.batcher.busy:
                    self._settle()
                if self.closed and not self.pending and not self.batcher.busy:
                    self.running = False
                    return
                joining, self.pending = self.pending, []
            for job in joining:
                self.batcher.add(job)
            # BLAS threads only pay off for many streams (textgen.sampler.ONE_THREAD_STREAMS)
            if (self.batcher.rows <= ONE_THREAD_STREAMS) != one_thread:
                if limits is not None:
                    limits.restore_original_limits()
                one_thread = self.batcher.rows <= ONE_THREAD_STREAMS
                limits = threadpool_limits(1, user_api="blas") if one_thread else None
            try:
                self.batcher.step()
            except Exception as exc:  # a step that fails ends every job in it, not the loop
                for job in self.batcher.jobs:
                    job.fail(f"generation failed: {exc}")
                self.batcher = Batcher(self.loaded.model, self.loaded.vocab.chars)


class Generators:
    """The loaded versions of this service, by version id."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.loops: OrderedDict[int, ModelLoop] = OrderedDict()
        self.indexes: dict[int, CorpusIndex] = {}
        self.lock = threading.Lock()
        self.champions: dict[str, tuple[int | None, float]] = {}
        self.champion_lock = threading.Lock()
        self.refreshing: set[str] = set()  # corpora whose champion a thread is looking up again
        self.writer = SampleWriter(settings)

    def resolve(self, model: str) -> ModelLoop:
        """The loop serving `model` (corpus or corpus@version), loading the version on first use."""
        corpus, version = parse_model(model)
        wanted = version if version is not None else self._champion(corpus)
        with self.lock:
            if wanted is not None and wanted in self.loops:
                self.loops.move_to_end(wanted)
                return self.loops[wanted]
        loaded = load(self.settings, corpus, version)
        with self.lock:
            loop = self.loops.get(loaded.version) or ModelLoop(corpus, loaded)
            self.loops[loaded.version] = loop
            self.loops.move_to_end(loaded.version)
            while len(self.loops) > KEPT:
                old_version, old = self.loops.popitem(last=False)
                old.close()  # it finishes what it has, then its thread ends
                self.indexes.pop(old_version, None)
        return loop

    def cached(self, model: str) -> ModelLoop | None:
        """The loop for `model` when nothing needs the store (loaded, its champion known within
        CHAMPION_STALE_S; looked up again in the background past CHAMPION_TTL_S): lets a request skip a
        thread hop; None otherwise. Called from the event loop only."""
        try:
            corpus, version = parse_model(model)
        except InputError:
            return None
        if version is None:
            known = self.champions.get(corpus)
            age = CHAMPION_STALE_S if known is None else time.monotonic() - known[1]
            if age >= CHAMPION_STALE_S:
                return None
            if age >= CHAMPION_TTL_S and corpus not in self.refreshing:
                self.refreshing.add(corpus)
                threading.Thread(target=self._refresh, args=(corpus,), daemon=True).start()
            version = known[0]
        return self.loops.get(version)

    def _refresh(self, corpus: str) -> None:
        """The champion looked up again, its version loaded if it is new (a store that fails now leaves
        the known one, and the next request past the TTL tries again)."""
        try:
            self.resolve(corpus)
        except Exception:  # nothing to answer here: the next request past the TTL looks up again
            pass
        finally:
            self.refreshing.discard(corpus)

    def stats(self) -> list[dict]:
        """Each loaded version: steps run, streams in the widest step, streams now."""
        with self.lock:
            loops = list(self.loops.values())
        return [
            {
                "model": f"{loop.corpus}@{loop.loaded.version}",
                "steps": loop.batcher.steps,
                "peak_streams": loop.batcher.peak_rows,
                "streams": loop.batcher.rows,
                "jobs": len(loop.batcher.jobs),
                "pending": len(loop.pending),
            }
            for loop in loops
        ]

    def warm(self, say: Callable[[str], None]) -> None:
        """Load the champions of the corpora most recently trained (as many as are kept loaded) and their
        corpus indexes, so the first requests wait for neither; a version that fails to load is named and
        left for its requests to report."""
        from pipelines.api import corpora

        found = [r for r in corpora(self.settings) if r["champion"]]
        found.sort(key=lambda r: r["champion"]["version"], reverse=True)
        for row in found[:KEPT]:
            try:
                self.index(self.resolve(row["name"]))
            except RecurError as exc:
                say(f"recur serve: {row['name']} not loaded: {exc}")

    def index(self, loop: ModelLoop) -> CorpusIndex:
        """The training text's suffix index, for each sample's longest copied run."""
        version = loop.loaded.version
        if version not in self.indexes:
            self.indexes[version] = corpus_index(self.settings, loop.loaded.text)
        return self.indexes[version]

    def keep(self, loop: ModelLoop, prompt: str, job: Job, params: dict) -> dict:
        """A finished (or abandoned) request's samples, measured and stored: {"samples", "ids"}."""
        return self.writer.store(Finished(loop, prompt, job, params, self.index(loop)))

    def _champion(self, corpus: str) -> int | None:
        """Looked up at most once every CHAMPION_TTL_S: a burst of requests asks the store once."""
        from db import registry
        from db.engine import read_session

        with self.champion_lock:
            known = self.champions.get(corpus)
            if known is not None and time.monotonic() - known[1] < CHAMPION_TTL_S:
                return known[0]
            with read_session(self.settings) as session:
                version = registry.champion_ids(session, "textgen", [corpus]).get(corpus)
            self.champions[corpus] = (version, time.monotonic())
            return version


@dataclass
class Finished:
    loop: ModelLoop
    prompt: str
    job: Job
    params: dict
    index: CorpusIndex


class SampleWriter:
    """Measures and stores what requests made, many requests at a time: a request's thread hands its
    samples over and waits, and one thread measures whatever has gathered meanwhile in one search per
    corpus and stores it in one transaction (64 requests that end together are a few searches and
    transactions, not 64 of each in a row)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.queue: list[tuple[Finished, Future]] = []
        self.wake = threading.Condition()
        threading.Thread(target=self._run, daemon=True, name="sample-writer").start()

    def store(self, finished: Finished) -> dict:
        done: Future = Future()
        with self.wake:
            self.queue.append((finished, done))
            self.wake.notify()
        return done.result()

    def _run(self) -> None:
        while True:
            with self.wake:
                while not self.queue:
                    self.wake.wait()
                batch, self.queue = self.queue, []
            try:
                made = self._measured([f for f, _ in batch])
                ids = store_samples(self.settings, made)
            except Exception as exc:  # each waiting request answers with the error
                for _, done in batch:
                    done.set_exception(exc)
                continue
            for (_, done), m, stored in zip(batch, made, ids, strict=True):
                done.set_result({"samples": m.samples, "ids": stored})

    @staticmethod
    def _measured(batch: list[Finished]) -> list:
        """Every sample of the batch measured against its corpus, one search per corpus."""
        copied: dict[int, list] = {}
        for index_id in {id(f.index) for f in batch}:
            mine = [f for f in batch if id(f.index) == index_id]
            texts = [f.prompt + t for f in mine for t in f.job.outputs]
            runs = iter(copied_runs(mine[0].index, texts))
            for f in mine:
                copied[id(f)] = [next(runs) for _ in f.job.outputs]
        return [measured(f.loop.loaded, f.prompt, f.job, f.params, copied[id(f)]) for f in batch]
