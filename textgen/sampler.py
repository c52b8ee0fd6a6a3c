"""Sampling without TensorFlow: the recurrent state is carried from character to character (O(1) work
per character) in NumPy, for any number of streams at once, from weights exported by `model.export_weights`.
A test holds it equal to the Keras model's outputs within 1e-5 for LSTM and GRU."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
from threadpoolctl import threadpool_limits


def _sigmoid_(x: np.ndarray) -> None:
    """1 / (1 + e^-x) in place, as 0.5 * (tanh(x / 2) + 1): no overflow warnings."""
    x *= 0.5
    np.tanh(x, out=x)
    x += 1.0
    x *= 0.5


@dataclass
class CharModel:
    cell: str
    embedding: np.ndarray  # (vocab, emb)
    layers: list[tuple[np.ndarray, np.ndarray, np.ndarray]]  # kernel, recurrent, bias per layer
    dense_kernel: np.ndarray
    dense_bias: np.ndarray

    @classmethod
    def from_arrays(cls, cell: str, arrays: dict) -> CharModel:
        n = sum(1 for k in arrays if k.startswith("kernel_"))
        f32 = {k: np.asarray(v, dtype=np.float32) for k, v in arrays.items()}
        layers = [(f32[f"kernel_{i}"], f32[f"recurrent_{i}"], f32[f"bias_{i}"]) for i in range(n)]
        model = cls(cell, f32["embedding"], layers, f32["dense_kernel"], f32["dense_bias"])
        # The first layer's input projection of every character, computed once: a lookup per step.
        kernel0, _, bias0 = layers[0]
        input_bias = bias0 if cell == "lstm" else bias0[0]
        model._first = model.embedding @ kernel0 + input_bias
        return model

    @property
    def units(self) -> int:
        return self.layers[0][1].shape[0]

    def initial_state(self, streams: int) -> list[tuple[np.ndarray, ...]]:
        zeros = lambda: np.zeros((streams, self.units), dtype=np.float32)  # noqa: E731
        return [(zeros(), zeros()) if self.cell == "lstm" else (zeros(),) for _ in self.layers]

    def step(self, ids: np.ndarray, state: list) -> tuple[np.ndarray, list]:
        """One character for each stream: logits (streams, vocab) and the new state."""
        new_state, x = [], None
        for i, (kernel, recurrent, bias) in enumerate(self.layers):
            if i == 0:
                projected = self._first[ids]
            else:
                projected = x @ kernel
                projected += bias if self.cell == "lstm" else bias[0]
            if self.cell == "lstm":
                h, c = self._lstm(projected, *state[i], recurrent)
                new_state.append((h, c))
            else:
                h = self._gru(projected, state[i][0], recurrent, bias[1])
                new_state.append((h,))
            x = h
        logits = x @ self.dense_kernel
        logits += self.dense_bias
        return logits, new_state

    def _lstm(self, xz: np.ndarray, h: np.ndarray, c: np.ndarray, recurrent: np.ndarray):
        """Gates in Keras' order: input, forget, cell, output."""
        u = self.units
        z = h @ recurrent
        z += xz
        _sigmoid_(z[:, : 2 * u])
        _sigmoid_(z[:, 3 * u :])
        np.tanh(z[:, 2 * u : 3 * u], out=z[:, 2 * u : 3 * u])
        c = c * z[:, u : 2 * u]
        c += z[:, :u] * z[:, 2 * u : 3 * u]
        h = np.tanh(c)
        h *= z[:, 3 * u :]
        return h, c

    def _gru(
        self, xz: np.ndarray, h: np.ndarray, recurrent: np.ndarray, recurrent_bias: np.ndarray
    ) -> np.ndarray:
        """reset_after=True: the reset gate scales the recurrent product. In-place arithmetic: at one
        character per step the cost is in the number of array operations, not in the arithmetic."""
        u = self.units
        hz = h @ recurrent
        hz += recurrent_bias
        gates = xz[:, : 2 * u] + hz[:, : 2 * u]  # update and reset gates together
        _sigmoid_(gates)
        candidate = hz[:, 2 * u :] * gates[:, u:]
        candidate += xz[:, 2 * u :]
        np.tanh(candidate, out=candidate)
        new = h - candidate
        new *= gates[:, :u]
        new += candidate
        return new

    def sequence_logits(self, ids: np.ndarray) -> np.ndarray:
        """Logits at every position of (streams, length) ids: what the Keras model outputs."""
        state = self.initial_state(ids.shape[0])
        out = []
        for t in range(ids.shape[1]):
            logits, state = self.step(ids[:, t], state)
            out.append(logits)
        return np.stack(out, axis=1)


@dataclass(frozen=True)
class SamplingParams:
    temperature: float = 1.0
    top_k: int = 0
    top_p: float = 1.0


FIRST_BLOCK = 8  # steps of draws a stream takes at first (StreamNoise)
ONE_THREAD_STREAMS = 16  # measured in bench/textgen.py --streams: one BLAS thread wins up to here


class StreamNoise:
    """The random draws of every stream, in blocks, each stream from its own generator: stream i's draws
    depend on (seed, i) only, so stream i of `--n N` is stream i of `--n M` (stream 0 on `seed` itself).
    Gumbel noise makes argmax(logits / T + noise) an exact draw from softmax(logits / T) (the Gumbel-max
    trick): one addition and one argmax per character instead of a softmax and a search."""

    def __init__(self, seed: int | None, streams: int, vocab: int, block: int = 256) -> None:
        self.rngs = [
            np.random.default_rng(seed if i == 0 or seed is None else [seed, i]) for i in range(streams)
        ]
        self.vocab, self.block = vocab, block
        self.blocks: dict[str, np.ndarray] = {}
        self.next = {"gumbel": 0, "uniform": 0}

    def _take(self, kind: str) -> np.ndarray:
        block = self.blocks.get(kind)
        if block is None or self.next[kind] == len(block):
            size = FIRST_BLOCK if block is None else min(2 * len(block), self.block)
            self.blocks[kind], self.next[kind] = self._draw(kind, size), 0
        self.next[kind] += 1
        return self.blocks[kind][self.next[kind] - 1]

    def _draw(self, kind: str, size: int) -> np.ndarray:
        """The next `size` steps' draws: (size, streams, vocab) Gumbel draws, or (size, streams, 1) uniform
        ones. A generator's draws do not depend on how they are cut into blocks, so the blocks start small
        (the first character of 64 new streams waits for 64 × 8 steps of draws, not 64 × 256: 1 ms, not
        30) and double up to `block`."""
        if kind == "gumbel":
            return np.stack([r.gumbel(size=(size, self.vocab)) for r in self.rngs], 1).astype(np.float32)
        return np.stack([r.random((size, 1)) for r in self.rngs], 1)

    def gumbel(self) -> np.ndarray:
        """(streams, vocab)"""
        return self._take("gumbel")

    def uniform(self) -> np.ndarray:
        """(streams, 1)"""
        return self._take("uniform")


def choose(
    logits: np.ndarray,
    params: SamplingParams,
    rng: np.random.Generator | None = None,
    noise: StreamNoise | None = None,
) -> np.ndarray:
    """One id per row: greedy at temperature 0, else softmax(logits / T) cut to top-k and top-p. The draws
    come from `noise` (one generator per stream) or else from `rng`."""
    if params.temperature == 0:
        return np.argmax(logits, axis=1)
    if noise is not None and not params.top_k and params.top_p >= 1.0:
        return np.argmax(logits * (1.0 / params.temperature) + noise.gumbel(), axis=1)
    z = logits.astype(np.float64) / params.temperature
    if params.top_k and params.top_k < z.shape[1]:
        kth = np.partition(z, -params.top_k, axis=1)[:, -params.top_k][:, None]
        z = np.where(z < kth, -np.inf, z)
    p = np.exp(z - z.max(axis=1, keepdims=True))
    p /= p.sum(axis=1, keepdims=True)
    if params.top_p < 1.0:
        order = np.argsort(-p, axis=1)
        sorted_p = np.take_along_axis(p, order, axis=1)
        keep_sorted = np.cumsum(sorted_p, axis=1) - sorted_p < params.top_p  # always keeps the first
        keep = np.zeros_like(keep_sorted)
        np.put_along_axis(keep, order, keep_sorted, axis=1)
        p = np.where(keep, p, 0.0)
        p /= p.sum(axis=1, keepdims=True)
    u = noise.uniform() if noise is not None else rng.random((p.shape[0], 1))
    return np.minimum((np.cumsum(p, axis=1) < u).sum(axis=1), p.shape[1] - 1)


def generate(
    model: CharModel,
    prompt_ids: np.ndarray,
    length: int,
    streams: int,
    params: SamplingParams,
    seed: int | None,
) -> Iterator[np.ndarray]:
    """Yield the next character id of every stream, `length` times. The prompt primes the state; with no
    prompt the streams start from a zero state and the model's distribution after it."""
    noise = StreamNoise(seed, streams, len(model.dense_bias))
    # BLAS threads cost more than they give on the small products of a few streams (and a loaded machine
    # makes them crawl): one thread up to ONE_THREAD_STREAMS streams, the library's default above
    with threadpool_limits(1 if streams <= ONE_THREAD_STREAMS else None, user_api="blas"):
        state = model.initial_state(streams)
        logits = np.repeat(model.dense_bias[None, :], streams, axis=0)
        for cid in prompt_ids:
            logits, state = model.step(np.full(streams, cid, dtype=np.int64), state)
        for _ in range(length):
            ids = choose(logits, params, noise=noise)
            yield ids
            logits, state = model.step(ids, state)


def log_softmax(logits: np.ndarray) -> np.ndarray:
    """Natural-log probabilities of each row, in float64 (sums of many stay exact enough to compare)."""
    z = logits.astype(np.float64)
    z -= z.max(axis=-1, keepdims=True)
    z -= np.log(np.exp(z).sum(axis=-1, keepdims=True))
    return z


@dataclass
class Scored:
    """A text under a model: the log-probability of each character after the first, given all before it
    (the first has no context), and the `top` likeliest characters' ids and log-probabilities there."""

    logprobs: np.ndarray  # (len - 1,)
    top_ids: np.ndarray  # (len - 1, top)
    top_logprobs: np.ndarray  # (len - 1, top)


SCORE_BLOCK = 4096  # characters whose logits are held at once while scoring


def score(model: CharModel, ids: np.ndarray, top: int = 0) -> Scored:
    """`ids` read one character a step, the state carried throughout (as the sampler reads a prompt)."""
    logprobs, top_ids, top_lps = [], [], []
    with threadpool_limits(1, user_api="blas"):
        state = model.initial_state(1)
        for start in range(0, max(len(ids) - 1, 0), SCORE_BLOCK):
            block = ids[start : min(start + SCORE_BLOCK, len(ids) - 1)]
            rows = []
            for cid in block:
                logits, state = model.step(np.array([cid]), state)
                rows.append(logits[0])
            lsm = log_softmax(np.stack(rows))
            after = ids[start + 1 : start + 1 + len(block)]
            logprobs.append(lsm[np.arange(len(block)), after])
            order = np.argsort(-lsm, axis=1, kind="stable")[:, :top]
            top_ids.append(order)
            top_lps.append(np.take_along_axis(lsm, order, axis=1))
    if not logprobs:
        return Scored(np.zeros(0), np.zeros((0, top), dtype=np.int64), np.zeros((0, top)))
    return Scored(np.concatenate(logprobs), np.concatenate(top_ids), np.concatenate(top_lps))
