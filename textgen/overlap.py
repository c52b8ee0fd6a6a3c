"""How much of a sample was copied from the training text: the longest run of characters it shares
verbatim with the corpus. A suffix array of the corpus is built once (prefix doubling in NumPy); then every
position of a sample is placed among the corpus's suffixes by a binary search run for all positions at
once, comparing four characters per step and skipping what the search's bounds already share. The work
per sample is proportional to its length times the logarithm of the corpus's, not to their product."""

from __future__ import annotations

import io
from dataclasses import dataclass
from functools import cached_property

import numpy as np

PER_KEY = 4  # characters packed into one uint64 comparison key (16 bits each)
FOREIGN = 0xFFFF  # a sample character the corpus never has: matches nothing
STRIDE = 4  # a sample's positions placed first (longest_shared_many)


@dataclass(frozen=True)
class CorpusIndex:
    alphabet: np.ndarray  # sorted code points of the corpus; a character's id is its position + 1
    ids: np.ndarray  # uint16, the corpus as ids
    suffixes: np.ndarray  # int32, the suffix array: start positions in lexicographic order

    @classmethod
    def build(cls, text: str) -> CorpusIndex:
        points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        alphabet, inverse = np.unique(points, return_inverse=True)
        if len(alphabet) >= FOREIGN:
            raise ValueError("more distinct characters than the index can hold")
        ids = (inverse + 1).astype(np.uint16)
        return cls(alphabet, ids, suffix_array(ids))

    def encode(self, text: str) -> np.ndarray:
        points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        at = np.searchsorted(self.alphabet, points)
        known = (at < len(self.alphabet)) & (self.alphabet[np.minimum(at, len(self.alphabet) - 1)] == points)
        return np.where(known, at + 1, FOREIGN).astype(np.uint16)

    @cached_property
    def keys(self) -> np.ndarray:
        return _keys(self.ids)

    def to_bytes(self) -> bytes:
        out = io.BytesIO()
        np.savez(out, alphabet=self.alphabet, ids=self.ids, suffixes=self.suffixes)
        return out.getvalue()

    @classmethod
    def from_bytes(cls, data: bytes) -> CorpusIndex:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            return cls(z["alphabet"], z["ids"], z["suffixes"])


def suffix_array(ids: np.ndarray) -> np.ndarray:
    """Start positions of all suffixes in lexicographic order (a shorter suffix before its extensions).
    Prefix doubling: each round sorts by (rank of the first k characters, rank of the next k)."""
    n = len(ids)
    rank = ids.astype(np.int64)
    k = 1
    while True:
        second = np.zeros(n, dtype=np.int64)
        second[: n - k] = rank[k:] + 1  # 0: the suffix ends within k characters
        key = rank * (n + 2) + second
        order = np.argsort(key, kind="stable")
        ordered = key[order]
        fresh = np.empty(n, dtype=np.int64)
        fresh[order] = np.concatenate(([0], np.cumsum(ordered[1:] != ordered[:-1])))
        rank = fresh
        if rank[order[-1]] == n - 1 or k >= n:
            return order.astype(np.int32)
        k *= 2


def _keys(ids: np.ndarray) -> np.ndarray:
    """For every position, its next PER_KEY ids packed big-endian into one uint64 (zeros past the end)."""
    padded = np.concatenate([ids.astype(np.uint64), np.zeros(PER_KEY, dtype=np.uint64)])
    keys = np.zeros(len(ids) + 1, dtype=np.uint64)
    for j in range(PER_KEY):
        keys |= padded[j : j + len(ids) + 1] << np.uint64(16 * (PER_KEY - 1 - j))
    return keys


def _leading_equal(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """How many leading ids two packed keys share (0 to PER_KEY - 1 where they differ)."""
    x = a ^ b
    out = np.zeros(len(x), dtype=np.int64)
    for j in range(PER_KEY - 1):
        shift = np.uint64(16 * (PER_KEY - 1 - j))
        out += (x >> shift) == 0
    return out


def _compare(sample: dict, corpus: dict, starts, positions, known):
    """(shared length, sign) of sample suffixes `starts` against corpus suffixes `positions`, given that
    their first `known` ids are equal: sign < 0 where the sample suffix sorts first."""
    rest = sample["end"][starts] - starts  # ids each sample suffix has
    left = np.minimum(rest, corpus["n"] - positions)  # ids both still have
    shared = known.copy()
    sign = np.zeros(len(starts), dtype=np.int64)
    open_ = np.arange(len(starts))
    while len(open_):
        done = shared[open_] >= left[open_]
        ended = open_[done]
        sign[ended] = np.sign(rest[ended] - (corpus["n"] - positions[ended]))
        shared[ended] = left[ended]
        open_ = open_[~done]
        a = sample["keys"][starts[open_] + shared[open_]]
        b = corpus["keys"][positions[open_] + shared[open_]]
        same = a == b
        differ = open_[~same]
        lead = _leading_equal(a[~same], b[~same])
        shared[differ] = np.minimum(shared[differ] + lead, left[differ])
        sign[differ] = np.where(a[~same] < b[~same], -1, 1)
        shorter = shared[differ] >= left[differ]  # the difference lies past one suffix's end
        sign[differ[shorter]] = np.sign(rest[differ[shorter]] - (corpus["n"] - positions[differ[shorter]]))
        shared[open_[same]] += PER_KEY
        open_ = open_[same]
    return shared, sign


def longest_shared(index: CorpusIndex, sample: str) -> tuple[int, int]:
    """(start, length) of the longest run of `sample` that occurs verbatim in the corpus."""
    return longest_shared_many(index, [sample])[0]


def longest_shared_many(
    index: CorpusIndex, samples: list[str], stride: int = STRIDE
) -> list[tuple[int, int]]:
    """`longest_shared` of several samples in one search: their suffixes are placed all at once (each
    ends at its own sample's end), so many samples cost about as many NumPy calls as one.

    Not every suffix need be placed. A run shared from position i+1 is at least the run from i less one,
    so the run from any position is at most the run from a later one plus the distance. Placed first:
    every `stride`-th position of a sample and its last; a sample's longest run then lies within `stride`
    positions before a placed one whose run is within `stride` - 1 of the longest placed, and only those
    positions are placed next. Every other position's run is shorter than the longest: the answer, its
    first position included, is the search of every position's."""
    if not len(index.ids) or not samples:
        return [(0, 0)] * len(samples)
    parts = [index.encode(s) for s in samples]
    sizes = np.array([len(p) for p in parts], dtype=np.int64)
    offsets = np.concatenate(([0], np.cumsum(sizes + 1)))  # a 0 after each sample, as past a string's end
    s_ids = np.concatenate([np.append(p, np.uint16(0)) for p in parts])
    sample = {"end": np.repeat(offsets[1:] - 1, sizes + 1), "keys": _keys(s_ids)}
    owner = np.repeat(np.arange(len(parts)), sizes)  # each position's sample
    local = np.arange(len(owner)) - np.repeat(np.cumsum(sizes) - sizes, sizes)  # its place in the sample
    at = local + offsets[owner]  # its place in s_ids
    best = np.zeros(len(s_ids), dtype=np.int64)
    coarse = (local % stride == stride - 1) | (local == sizes[owner] - 1)
    best[at[coarse]] = _placed(index, sample, at[coarse])
    top = np.zeros(len(parts), dtype=np.int64)
    np.maximum.at(top, owner[coarse], best[at[coarse]])
    leads = coarse & (best[at] >= top[owner] - stride + 1)  # placed ones a longest run may lie before
    near = np.zeros(len(owner), dtype=bool)
    for back in range(stride):  # the positions up to stride - 1 before each of them
        near[np.flatnonzero(leads & (local >= back)) - back] = True
    fine = near & ~coarse
    best[at[fine]] = _placed(index, sample, at[fine])
    best[s_ids == FOREIGN] = 0
    out = []
    for k, p in enumerate(parts):
        mine = best[offsets[k] : offsets[k] + len(p)]
        start = int(np.argmax(mine)) if len(p) else 0
        out.append((start, int(mine[start]) if len(p) else 0))
    return out


def _placed(index: CorpusIndex, s: dict, starts: np.ndarray) -> np.ndarray:
    """For each sample suffix at `starts`, the longest prefix it shares with any corpus suffix: a binary
    search of the suffix array for all of them at once."""
    c = {"n": len(index.ids), "keys": index.keys}
    m, n = len(starts), len(index.ids)
    lo, hi = np.zeros(m, dtype=np.int64), np.full(m, n, dtype=np.int64)
    low_lcp, high_lcp = np.zeros(m, dtype=np.int64), np.zeros(m, dtype=np.int64)
    while True:
        active = np.flatnonzero(lo < hi)
        if not len(active):
            break
        mid = (lo[active] + hi[active]) // 2
        known = np.minimum(low_lcp[active], high_lcp[active])
        shared, sign = _compare(s, c, starts[active], index.suffixes[mid].astype(np.int64), known)
        after = sign > 0  # the corpus suffix at mid sorts before the sample's: search above it
        lo[active[after]], low_lcp[active[after]] = mid[after] + 1, shared[after]
        hi[active[~after]], high_lcp[active[~after]] = mid[~after], shared[~after]
    return np.maximum(low_lcp, high_lcp)
