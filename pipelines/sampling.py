"""`recur textgen sample`: text from a corpus's champion, streamed as it is produced.

This path is what users wait for, so it imports neither TensorFlow nor (until the text is out) SQLAlchemy:
the weights come from the version's plain-array export, verified against their sha256, read through the
standard library's sqlite3 when the store is a current SQLite file, and run by the NumPy sampler."""

from __future__ import annotations

import hashlib
import io
import shlex
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.errors import InputError, NotFoundError, RecurError, did_you_mean
from core.files import write_atomic
from core.settings import Settings
from db.generators import sampling_inputs
from db.registry import pruned_message
from db.retention import PRUNED
from textgen import overlap
from textgen.batching import Job, Notify, run_alone
from textgen.config import SampleRequest
from textgen.sampler import CharModel, SamplingParams, score
from textgen.vocab import Vocabulary


@dataclass
class LoadedGenerator:
    version: int
    cell: str
    vocab: Vocabulary
    model: CharModel
    text: str


def load(settings: Settings, corpus: str, version: int | None) -> LoadedGenerator:
    """The corpus's champion generator (or the version asked for), its weights checked, and its text."""
    found = sampling_inputs(settings, corpus, version)
    text, row = found.text, found.version
    if text is None:
        raise NotFoundError(did_you_mean("corpus", corpus, found.names))
    if row is None and version:
        raise NotFoundError(
            f"no model version {version}; "
            f"`recur models list --kind textgen --subject {shlex.quote(corpus)}` lists them"
        )
    if row is None:
        raise RecurError(
            f"corpus {corpus!r} has no trained text generator; "
            f"run `recur textgen train {shlex.quote(corpus)}`"
        )
    if version and row.subject != corpus:
        raise InputError(f"--version {version} is a model of {row.subject!r}, not of {corpus!r}")
    if row.status == PRUNED:
        raise RecurError(pruned_message(row.id))
    if row.kind != "textgen" or row.status != "ready":
        raise RecurError(f"model version {row.id} is not a ready text generator")
    data, config = row.weights(), row.config
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (ValueError, OSError) as exc:  # object arrays (pickles) are never loaded
        raise RecurError(
            f"model version {row.id}: its stored weights are not plain arrays ({exc}); they are not "
            "loaded. Retrain the generator"
        ) from exc
    cell = config["cell"]
    return LoadedGenerator(
        row.id, cell, Vocabulary(config["vocabulary"]), CharModel.from_arrays(cell, arrays), text
    )


def sample_text(
    settings: Settings, corpus: str, req: SampleRequest, emit: Callable[[str], None] | None = None
) -> dict:
    """Generate `n` samples; with n == 1 each character goes to `emit` as soon as it is final (a character
    that may still begin the stop string is held back, so what is shown is exactly what is stored)."""
    loaded = load(settings, corpus, req.version)
    prompt_ids, prompt = prompt_of(loaded, req.prompt, req.unknown)
    req = req.seeded()
    job = job_of(prompt_ids, req)
    if emit is not None and req.n == 1:
        if prompt:
            emit(prompt)
        reader = job.reader()
        job.notify = lambda: [emit(text) for _, text, _, _ in reader.news() if text]
    started = time.perf_counter()
    run_alone(loaded.model, loaded.vocab.chars, job)
    seconds = time.perf_counter() - started
    kept = keep_samples(settings, loaded, req.prompt, job, req.stored())
    chars = sum(len(t) for t in job.outputs)
    return {
        "corpus": corpus,
        "version": loaded.version,
        "prompt": prompt,
        "stop": req.stop,
        "seed": req.seed,
        "samples": kept["samples"],
        "ids": kept["ids"],
        "chars_per_s": chars / seconds if seconds > 0 else None,
    }


def prompt_of(loaded: LoadedGenerator, prompt: str, unknown: str) -> tuple[np.ndarray, str]:
    """The ids that prime the model (a new line when there is no prompt) and the prompt as the model saw
    it (`unknown="skip"` drops characters it never saw)."""
    ids = loaded.vocab.prompt_ids(prompt or "\n", unknown if prompt else "skip")
    return ids, loaded.vocab.decode(ids) if prompt else ""


def job_of(
    prompt_ids: np.ndarray, req: SampleRequest, notify: Notify | None = None, logprobs: int | None = None
) -> Job:
    """A seeded request as a job for the sampler (`notify` is called after each step that made it
    characters; with `logprobs`, each character made is scored with that many alternatives)."""
    sampling = SamplingParams(req.temperature, req.top_k or 0, req.top_p)
    return Job(prompt_ids, req.n, req.length, sampling, req.seed, stops_of(req.stop), notify, logprobs)


def stops_of(stop: str | list[str] | None) -> tuple[str, ...]:
    if stop is None:
        return ()
    return tuple(s for s in ([stop] if isinstance(stop, str) else stop) if s)


@dataclass
class Made:
    """A request's samples, measured and ready to store: the version, prompt, seed and parameters that
    made them."""

    version: int
    prompt: str
    seed: int
    params: dict
    samples: list[dict]


def measured(loaded: LoadedGenerator, prompt: str, job: Job, params: dict, copied: list[dict]) -> Made:
    """A request's samples with the longest run each shares with the training text (`copied`, from
    `copied_runs`). A stream still going (its request went away) is kept as far as it got, finish
    reason "cancelled"."""
    samples = [
        {"text": t, "longest_copied": c, "finish_reason": f or "cancelled"}
        for t, f, c in zip(job.outputs, job.finish, copied, strict=True)
    ]
    return Made(loaded.version, prompt, job.seed, params, samples)


def copied_runs(index: overlap.CorpusIndex, samples: list[str]) -> list[dict]:
    """The longest substring of each sample found verbatim in the indexed training text, all in one
    search."""
    found = overlap.longest_shared_many(index, samples)
    return [{"length": n, "text": s[a : a + n]} for s, (a, n) in zip(samples, found, strict=True)]


def keep_samples(settings: Settings, loaded: LoadedGenerator, prompt: str, job: Job, params: dict) -> dict:
    """The samples, measured and stored; their ids."""
    copied = copied_runs(corpus_index(settings, loaded.text), [prompt + t for t in job.outputs])
    made = measured(loaded, prompt, job, params, copied)
    (ids,) = store_samples(settings, [made])
    return {"samples": made.samples, "ids": ids}


def corpus_index(settings: Settings, text: str) -> overlap.CorpusIndex:
    """The corpus's suffix index (textgen.overlap), built once per corpus text and kept in the home's
    cache folder under the text's sha256; a damaged cache file is rebuilt."""
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    path = settings.subdir("cache") / f"corpus-{digest[:32]}.npz"
    if path.exists():
        try:
            return overlap.CorpusIndex.from_bytes(path.read_bytes())
        except (OSError, ValueError, KeyError):
            pass
    index = overlap.CorpusIndex.build(text)
    write_atomic(path, lambda tmp: tmp.write_bytes(index.to_bytes()))
    return index


def store_samples(settings: Settings, batch: list[Made]) -> list[list[int]]:
    """Several requests' samples in one transaction (a service under load stores them together); the ids
    of each request's samples."""
    from db.engine import write_session
    from db.tables import Sample

    with write_session(settings) as session:
        rows = [
            [
                Sample(
                    model_version_id=made.version,
                    prompt=made.prompt,
                    seed=made.seed,
                    params=made.params
                    | {
                        "stream": k,
                        "longest_copied": s["longest_copied"]["length"],
                        "finish_reason": s["finish_reason"],
                    },
                    text=s["text"],
                )
                for k, s in enumerate(made.samples)
            ]
            for made in batch
        ]
        session.add_all([r for request in rows for r in request])
        session.flush()
        return [[r.id for r in request] for request in rows]


def prompt_scores(loaded: LoadedGenerator, prompt: str, top: int) -> list:
    """A prompt's characters under the model, as the service's logprobs give them: None for the first
    (nothing comes before it), then (log-probability, {character: log-probability} of the `top`
    likeliest) for each, given those before it."""
    if not prompt:
        return []
    chars = loaded.vocab.chars
    scored = score(loaded.model, loaded.vocab.prompt_ids(prompt, "error"), top)
    rest = [
        (float(lp), {chars[i]: float(v) for i, v in zip(ids, lps, strict=True)})
        for lp, ids, lps in zip(scored.logprobs, scored.top_ids, scored.top_logprobs, strict=True)
    ]
    return [None, *rest]


def score_file(
    settings: Settings, corpus: str, path, version: int | None = None, unknown: str = "error", per_line=False
) -> dict:
    """How likely a text is under a corpus's generator: nats and bits per character, each character given
    all before it (the state carried through the file; the first character has nothing before it and is
    not counted), and with `per_line` each line's (a line owns the newline that ends it)."""
    from pathlib import Path

    from db.corpus import read_texts

    if not Path(path).is_file():
        raise InputError(f"{path}: not a file; `textgen score` reads one text file")
    text = read_texts(Path(path))[0].text
    loaded = load(settings, corpus, version)
    missing = loaded.vocab.unknown(text)
    if missing and unknown == "error":
        at = min(text.index(c) for c in missing)
        line, column = text.count("\n", 0, at) + 1, at - text.rfind("\n", 0, at)
        raise InputError(
            f"{path}: line {line}, column {column}: {text[at]!r} is a character version {loaded.version} "
            f"never saw ({len(missing)} such: {', '.join(map(repr, missing[:10]))}); "
            "--unknown skip drops them"
        )
    kept = "".join(c for c in text if c not in set(missing))
    if len(kept) < 2:
        raise InputError(f"{path}: fewer than 2 characters to score (the first has no context)")
    scored = score(loaded.model, loaded.vocab.encode(kept))
    out = {"corpus": corpus, "version": loaded.version, "file": str(path), **_rate(-scored.logprobs)}
    out["skipped"] = len(text) - len(kept)
    if per_line:
        out["lines"] = _per_line(kept, -scored.logprobs)
    return out


def _rate(nats: np.ndarray) -> dict:
    mean = float(nats.mean()) if len(nats) else None
    return {"chars": len(nats), "nats": mean, "bits": mean / np.log(2) if mean is not None else None}


def _per_line(text: str, nats: np.ndarray) -> list[dict]:
    """Each line's characters' figures (`nats[i]` is character i + 1's); the first line's first
    character has none."""
    lines, start = [], 0
    for number, line in enumerate(text.splitlines(keepends=True), start=1):
        part = nats[max(start - 1, 0) : start + len(line) - 1]
        lines.append({"line": number, **_rate(part), "text": line.rstrip("\n")})
        start += len(line)
    return lines
