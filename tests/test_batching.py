"""Continuous batching (textgen.batching): jobs that join a running step loop at different steps, with
different prompts, lengths, parameters and stop strings, each get the text they get alone."""

from __future__ import annotations

import numpy as np
import pytest

from textgen.batching import Batcher, Job, run_alone
from textgen.sampler import CharModel, SamplingParams, StreamNoise, generate

CHARS = list("abcdefgh")


def model(cell: str) -> CharModel:
    g = 4 if cell == "lstm" else 3
    rng = np.random.default_rng(5)
    arrays = {
        "embedding": rng.normal(size=(8, 4)),
        "kernel_0": rng.normal(size=(4, g * 10)),
        "recurrent_0": rng.normal(size=(10, g * 10)),
        "bias_0": np.zeros(g * 10) if cell == "lstm" else np.zeros((2, g * 10)),
        "kernel_1": rng.normal(size=(10, g * 10)),
        "recurrent_1": rng.normal(size=(10, g * 10)),
        "bias_1": np.zeros(g * 10) if cell == "lstm" else np.zeros((2, g * 10)),
        "dense_kernel": rng.normal(size=(10, 8)),
        "dense_bias": rng.normal(size=8),
    }
    return CharModel.from_arrays(cell, arrays)


def alone(m: CharModel, prompt, length, n, params, seed) -> list[str]:
    ids = np.stack(list(generate(m, np.array(prompt), length, n, params, seed)))
    return ["".join(CHARS[i] for i in ids[:, k]) for k in range(n)]


def test_each_streams_draws_are_its_own_generators_however_the_blocks_are_cut():
    """The draws come in blocks that start small and double (a new stream's first character does not
    wait for 256 steps of draws): stream i's are still its generator's, in order, so a seed gives the
    text it always gave."""
    noise = StreamNoise(7, 3, 5)
    drawn = np.stack([noise.gumbel() for _ in range(700)], axis=1)  # (streams, steps, vocab)
    for i, seed in enumerate([7, [7, 1], [7, 2]]):
        expected = np.random.default_rng(seed).gumbel(size=(700, 5)).astype(np.float32)
        assert np.array_equal(drawn[i], expected)
    uniform = StreamNoise(7, 2, 5)
    taken = np.stack([uniform.uniform() for _ in range(300)], axis=1)
    assert np.array_equal(taken[1], np.random.default_rng([7, 1]).random((300, 1)))


@pytest.mark.parametrize("cell", ["lstm", "gru"])
def test_jobs_joining_at_different_steps_get_their_own_text(cell):
    m = model(cell)
    asks = [
        ([1, 2, 3], 40, 1, SamplingParams(0.8), 7),
        ([4], 25, 3, SamplingParams(1.0, top_k=3, top_p=0.9), 8),
        ([1] * 12, 60, 2, SamplingParams(0), 9),
        ([2, 5], 5, 1, SamplingParams(1.3), 10),
    ]
    batcher = Batcher(m, CHARS)
    jobs, widest = [], 0
    for step in range(200):
        if step % 4 == 0 and len(jobs) < len(asks):  # a new request every fourth step
            prompt, length, n, params, seed = asks[len(jobs)]
            jobs.append(Job(np.array(prompt), n, length, params, seed))
            batcher.add(jobs[-1])
        widest = max(widest, batcher.rows)
        if not batcher.busy:
            break
        batcher.step()
    assert widest >= 5 and not batcher.busy  # several jobs shared steps, and all ended
    for job, (prompt, length, n, params, seed) in zip(jobs, asks, strict=True):
        assert job.outputs == alone(m, prompt, length, n, params, seed)
        assert job.finish == ["length"] * n


def test_a_stop_string_ends_its_stream_and_is_held_back_until_it_cannot_match():
    m = model("gru")
    free = alone(m, [1], 200, 2, SamplingParams(1.0), 3)
    stop = free[0][30:32]  # a pair that occurs in stream 0
    sent: dict[int, list] = {0: [], 1: []}
    job = Job(np.array([1]), 2, 200, SamplingParams(1.0), 3, (stop, "zz"))
    reader = job.reader()
    job.notify = lambda: [sent[k].append((t, f)) for k, t, f, _ in reader.news()]
    run_alone(m, CHARS, job)
    cut = free[0].index(stop)
    assert job.outputs[0] == free[0][:cut] and job.finish[0] == "stop"
    assert "".join(t for t, _ in sent[0]) == job.outputs[0] and sent[0][-1][1] == "stop"
    for k in (0, 1):  # nothing delivered was ever taken back
        assert [f for _, f in sent[k]].count(None) == len(sent[k]) - 1
    if stop not in free[1]:
        assert job.outputs[1] == free[1] and job.finish[1] == "length"


def test_a_cancelled_job_leaves_the_batch_and_the_others_go_on():
    m = model("lstm")
    batcher = Batcher(m, CHARS)
    a, b = Job(np.array([1]), 2, 50, SamplingParams(), 1), Job(np.array([2]), 1, 50, SamplingParams(), 2)
    batcher.add(a)
    batcher.add(b)
    for _ in range(10):
        batcher.step()
    a.cancelled = True
    assert batcher.step() == [a] and batcher.rows == 1
    while batcher.busy:
        batcher.step()
    assert b.outputs == alone(m, [2], 50, 1, SamplingParams(), 2)


def test_logprobs_recorded_while_sampling_are_the_texts_scores_and_follow_a_stop():
    from textgen.sampler import score

    m = model("lstm")
    free = alone(m, [1, 2], 120, 1, SamplingParams(0.9), 4)[0]
    stop = free[60:62]
    job = Job(np.array([1, 2]), 1, 120, SamplingParams(0.9), 4, (stop,), logprobs=3)
    run_alone(m, CHARS, job)
    text = job.outputs[0]
    assert text == free[: free.index(stop)] and len(job.scores[0]) == len(text)
    ids = np.array([1, 2] + [CHARS.index(c) for c in text])
    scored = score(m, ids, 3)
    got = np.array([s[0] for s in job.scores[0]])
    np.testing.assert_allclose(got, scored.logprobs[1:], atol=1e-5)
    for (_, top), top_ids, top_lps in zip(
        job.scores[0], scored.top_ids[1:], scored.top_logprobs[1:], strict=True
    ):
        assert list(top) == [CHARS[i] for i in top_ids]
        np.testing.assert_allclose(list(top.values()), top_lps, atol=1e-5)
