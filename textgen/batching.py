"""Continuous batching: every request for one model shares one step loop, as serving engines do.

A request (a `Job`: a prompt, n streams, sampling parameters, a seed) joins the running batch at the next
step and leaves it the step it finishes; each step is one `CharModel.step` over the rows of every job in
the batch. A job first feeds its prompt, one character a step, then samples. Each job draws from its own
`StreamNoise(seed, n)`, so its text is what `sampler.generate` gives for the same seed and parameters,
whoever else is in the batch (up to the last bit of the matrix products, which may be blocked
differently for a different number of rows). Pure NumPy: no TensorFlow, no store, no threads — the caller
drives `step()`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from textgen.sampler import CharModel, SamplingParams, StreamNoise, choose, log_softmax

Notify = Callable[[], None]  # on the loop's thread, after each step that gave the job's streams news


@dataclass
class Job:
    """One request: `n` streams continuing `prompt_ids`, each at most `length` characters, each ending
    early at the first of `stops` (which is not part of its text). What the streams make is kept as ids,
    a column a step, and read as text by a `Reader`, from any thread."""

    prompt_ids: np.ndarray
    n: int
    length: int
    params: SamplingParams
    seed: int
    stops: tuple[str, ...] = ()
    notify: Notify | None = None
    logprobs: int | None = None  # score each character made, with this many likeliest alternatives
    scores: list[list[tuple[float, dict[str, float]]]] = field(init=False)  # per character made, when asked
    finish: list[str | None] = field(init=False)
    cancelled: bool = False
    error: str | None = None

    def __post_init__(self) -> None:
        self.made = np.zeros((self.n, self.length), dtype=np.int32)  # ids sampled, per stream and step
        self.kept = np.zeros(self.n, dtype=np.int64)  # characters of each stream's text (a stop cuts it)
        self.final = np.zeros(self.n, dtype=np.int64)  # of them, those that can no longer be taken back
        self.scores = [[] for _ in range(self.n)]
        self.finish = [None] * self.n
        self.chars: list[str] = []  # the model's characters, set when the job joins a batch
        self._open = self.n  # streams not finished
        self._fed = 0  # prompt characters fed so far
        self._made = 0  # characters sampled so far, per stream
        self._noise: StreamNoise | None = None
        self.plain = _plain(self.params)  # sampled by the Gumbel-max draw alone

    @property
    def done(self) -> bool:
        return self.cancelled or self._open == 0

    def text(self, k: int, start: int = 0, end: int | None = None) -> str:
        """Stream k's text (or the part from `start` to `end`)."""
        ids = self.made[k, start : self.kept[k] if end is None else end].tolist()
        return "".join([self.chars[i] for i in ids])

    @property
    def outputs(self) -> list[str]:
        return [self.text(k) for k in range(self.n)]

    def reader(self) -> Reader:
        return Reader(self)

    def fail(self, message: str) -> None:
        """End every unfinished stream with finish reason "error"."""
        self.error = message
        for k in range(self.n):
            self._end(k, "error")
        if self.notify is not None:
            self.notify()

    def _end(self, k: int, reason: str) -> None:
        if self.finish[k] is None:
            self._open -= 1
            self.finish[k] = reason  # after `final`: a reader that sees the reason sees the whole text

    def _record(self, chosen: np.ndarray, scored: list | None) -> None:
        """The characters each stream sampled at this step: its text grows, ends at a stop string or at
        `length`, and what can no longer be taken back becomes final."""
        m = self._made
        self.made[:, m] = chosen
        self._made = m + 1
        if scored is not None:
            for k in range(self.n):
                if self.finish[k] is None:
                    self.scores[k].append(scored[k])
        if self.stops:
            self._stopped()
        else:
            self.kept[:] = self.final[:] = m + 1
        if self._made >= self.length:
            for k in range(self.n):
                if self.finish[k] is None:
                    self.final[k] = self.kept[k]
                    self._end(k, "length")
        if self.notify is not None:
            self.notify()

    def _stopped(self) -> None:
        """Each open stream's new character: a stop string it completes ends the stream (and is cut from
        its text); characters that may still begin one are held back from `final`."""
        longest = max(len(s) for s in self.stops)
        for k in range(self.n):
            if self.finish[k] is not None:
                continue
            self.kept[k] = self._made
            tail = self.text(k, max(0, self._made - longest))
            stop = next((s for s in self.stops if tail.endswith(s)), None)
            if stop is not None:
                self.kept[k] -= len(stop)
                del self.scores[k][self.kept[k] :]
                self.final[k] = self.kept[k]
                self._end(k, "stop")
                continue
            held = next(
                (j for j in range(len(tail), 0, -1) if any(s.startswith(tail[-j:]) for s in self.stops)), 0
            )
            self.final[k] = self.kept[k] - held


Piece = tuple[int, str, str | None, list | None]  # stream, new final text, finish reason, its scores


class Reader:
    """What a job's streams made since the last read, for a consumer on any thread: each stream's final
    text in pieces, its finish reason once, and the pieces' scores when the job records them."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self.sent = [0] * job.n
        self.ended = [False] * job.n

    @property
    def done(self) -> bool:
        return all(self.ended)

    def news(self) -> list[Piece]:
        job, out = self.job, []
        for k in range(job.n):
            if self.ended[k]:
                continue
            finish = job.finish[k]  # read before `final`, which is published first
            final = int(job.final[k])
            if final > self.sent[k] or finish is not None:
                scores = job.scores[k][self.sent[k] : final] if job.logprobs is not None else None
                out.append((k, job.text(k, self.sent[k], final), finish, scores))
                self.sent[k], self.ended[k] = final, finish is not None
        return out


class Batcher:
    """The step loop of one model. `add` a job, call `step()` until `busy` is false."""

    def __init__(self, model: CharModel, chars: list[str]) -> None:
        self.model, self.chars = model, chars
        self.jobs: list[Job] = []
        self.state: list[tuple[np.ndarray, ...]] = model.initial_state(0)
        self.logits = np.zeros((0, len(model.dense_bias)), dtype=np.float32)
        self._key: list = []  # the plain jobs' layout of the last step (see _layout)
        self._at_scale: tuple[np.ndarray, np.ndarray] = (np.zeros(0, dtype=np.int64), np.zeros(0))
        self.steps = 0  # steps run, and the most rows one of them had: what batching did
        self.peak_rows = 0

    @property
    def busy(self) -> bool:
        return bool(self.jobs)

    @property
    def rows(self) -> int:
        return self.logits.shape[0]

    def add(self, job: Job) -> None:
        """The job's streams join the batch: zero state, and the distribution the model gives before any
        input (as `sampler.generate` starts)."""
        job._noise = StreamNoise(job.seed, job.n, len(self.model.dense_bias))
        job.chars = self.chars
        fresh = self.model.initial_state(job.n)
        self.state = [
            tuple(np.concatenate([a, b]) for a, b in zip(old, new, strict=True))
            for old, new in zip(self.state, fresh, strict=True)
        ]
        bias = np.repeat(self.model.dense_bias[None, :], job.n, axis=0)
        self.logits = np.concatenate([self.logits, bias])
        self.jobs.append(job)

    def _choose(self, sampling: list[tuple[Job, slice]], ids: np.ndarray) -> None:
        """The next id of every sampling row: one product and one argmax for all plain jobs (what
        `sampler.choose` computes for each: logits × float32(1/T) + its own Gumbel draws), `choose` for
        the others."""
        plain = [(job, rows) for job, rows in sampling if job.plain]
        if plain:
            at, scale = self._layout(plain)
            noise = np.concatenate([job._noise.gumbel() for job, _ in plain])
            ids[at] = np.argmax(self.logits[at] * scale[:, None] + noise, axis=1)
        for job, rows in sampling:
            if not job.plain:
                ids[rows] = choose(self.logits[rows], job.params, noise=job._noise)

    def _layout(self, plain: list[tuple[Job, slice]]) -> tuple[np.ndarray, np.ndarray]:
        """The rows of the plain jobs and each row's 1/T: the same from step to step until a job joins,
        leaves or starts sampling, so kept until then."""
        key = [(job, rows.start) for job, rows in plain]  # the jobs themselves: an id may be reused
        same = len(key) == len(self._key) and all(
            a is b and i == j for (a, i), (b, j) in zip(key, self._key, strict=True)
        )
        if not same:
            at = np.concatenate([np.arange(rows.start, rows.stop) for _, rows in plain])
            scale = np.repeat(
                np.array([1.0 / job.params.temperature for job, _ in plain], dtype=np.float32),
                [job.n for job, _ in plain],
            )
            self._key, self._at_scale = key, (at, scale)
        return self._at_scale

    def step(self) -> list[Job]:
        """One character for every job in the batch (a prompt character fed, or one sampled and recorded,
        the job notified); returns the jobs that finished at this step, already out of the batch."""
        self.steps += 1
        self.peak_rows = max(self.peak_rows, self.rows)
        ids = np.empty(self.rows, dtype=np.int64)
        sampling, row = [], 0
        for job in self.jobs:
            rows = slice(row, row + job.n)
            if job._fed < len(job.prompt_ids):
                ids[rows] = job.prompt_ids[job._fed]
                job._fed += 1
            elif not job.cancelled:
                sampling.append((job, rows))
            row += job.n
        self._choose(sampling, ids)
        for job, rows in sampling:
            job._record(ids[rows], _scored(self.logits[rows], ids[rows], job.logprobs, self.chars))
        finished = [j for j in self.jobs if j.done]
        if finished:
            keep = np.concatenate([np.full(j.n, not j.done) for j in self.jobs])
            ids = ids[keep]
            self.logits = self.logits[keep]
            self.state = [tuple(a[keep] for a in layer) for layer in self.state]
            self.jobs = [j for j in self.jobs if not j.done]
        if self.jobs:
            self.logits, self.state = self.model.step(ids, self.state)
        return finished


def _scored(logits: np.ndarray, chosen: np.ndarray, top: int | None, chars: list[str]) -> list | None:
    """Each row's chosen character's log-probability under the model (temperature 1, no cut-offs: what
    the model says, not how it was sampled) and the `top` likeliest characters'; None when not asked."""
    if top is None:
        return None
    lsm = log_softmax(logits)
    picked = lsm[np.arange(len(chosen)), chosen]
    order = np.argsort(-lsm, axis=1, kind="stable")[:, :top]
    return [(float(picked[r]), {chars[i]: float(lsm[r, i]) for i in order[r]}) for r in range(len(chosen))]


def _plain(params: SamplingParams) -> bool:
    """Sampled by the Gumbel-max draw alone (no top-k, no nucleus, not greedy)."""
    return params.temperature > 0 and not params.top_k and params.top_p >= 1.0


def run_alone(model: CharModel, chars: list[str], job: Job) -> Job:
    """One job, start to end, in a batch of its own (what `textgen sample` does)."""
    batcher = Batcher(model, chars)
    batcher.add(job)
    while batcher.busy:
        batcher.step()
    return job
