"""The memorisation check: the longest run a sample shares verbatim with the corpus, from a suffix array
built once, equal to a brute-force search on random texts, and linear in the sample on a large corpus."""

from __future__ import annotations

import random

from tests.conftest import DATA
from textgen.overlap import CorpusIndex, longest_shared, longest_shared_many


def brute(sample: str, corpus: str) -> int:
    return max(
        (j - i for i in range(len(sample)) for j in range(i + 1, len(sample) + 1) if sample[i:j] in corpus),
        default=0,
    )


def test_the_suffix_array_sorts_every_suffix():
    rng = random.Random(0)
    for _ in range(300):
        text = "".join(rng.choice("ab\n") for _ in range(rng.randint(1, 70)))
        assert list(CorpusIndex.build(text).suffixes) == sorted(range(len(text)), key=lambda i: text[i:])


def test_the_longest_shared_run_equals_a_brute_force_search():
    rng = random.Random(1)
    for _ in range(400):
        corpus = "".join(rng.choice("abcé") for _ in range(rng.randint(1, 90)))
        sample = "".join(rng.choice("abcéz") for _ in range(rng.randint(1, 40)))  # z: never in the corpus
        start, length = longest_shared(CorpusIndex.build(corpus), sample)
        assert length == brute(sample, corpus) and sample[start : start + length] in corpus


def test_many_samples_at_once_are_each_measured_on_their_own():
    """One search for several samples (the service measures a batch): each one's run stays inside it."""
    rng = random.Random(3)
    for _ in range(150):
        corpus = "".join(rng.choice("abcé") for _ in range(rng.randint(1, 90)))
        samples = [
            "".join(rng.choice("abcz") for _ in range(rng.randint(0, 30))) for _ in range(rng.randint(1, 5))
        ]
        found = longest_shared_many(CorpusIndex.build(corpus), samples)
        assert [length for _, length in found] == [brute(s, corpus) for s in samples]
        assert all(s[a : a + n] in corpus for s, (a, n) in zip(samples, found, strict=True))


def test_a_long_sample_against_a_real_corpus():
    """A 20,000-character sample against a megabyte; timings on larger corpora are in bench/textgen.py."""
    lines = (DATA / "tinyshakespeare.txt").read_text().splitlines(keepends=True)
    rng = random.Random(2)
    corpus = "".join(rng.sample(lines, len(lines)))
    index = CorpusIndex.from_bytes(CorpusIndex.build(corpus).to_bytes())
    copied = corpus[1_000_000:1_000_700]
    pieces = [corpus[p : p + rng.randint(3, 30)] for p in rng.sample(range(len(corpus) - 40), 1500)]
    sample = ("".join(pieces)[:19_000] + copied)[:20_000]
    start, length = longest_shared(index, sample)
    assert length >= len(copied) and sample[start : start + length] in corpus


def test_placing_every_fourth_position_first_finds_what_placing_all_finds():
    """The search places a sample's every 4th position, then only those that may hold the longest run:
    the same run, at the same first position, as placing every position (stride 1)."""
    rng = random.Random(4)
    for _ in range(200):
        corpus = "".join(rng.choice("abcé") for _ in range(rng.randint(1, 300)))
        samples = [
            "".join(rng.choice("abcz") for _ in range(rng.randint(0, 120))) for _ in range(rng.randint(1, 6))
        ]
        index = CorpusIndex.build(corpus)
        assert longest_shared_many(index, samples) == longest_shared_many(index, samples, stride=1)
