"""`recur textgen sample`: text from a corpus's champion, streamed as it is produced.

This path is what users wait for, so it imports neither TensorFlow nor (until the text is out) SQLAlchemy:
the weights come from the version's plain-array export, verified against their sha256, read through the
standard library's sqlite3 when the store is a current SQLite file, and run by the NumPy sampler."""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import shlex
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass

import numpy as np

from core.errors import InputError, NotFoundError, RecurError, did_you_mean
from core.files import write_atomic
from core.settings import Settings
from db import light
from textgen import overlap
from textgen.config import SampleRequest
from textgen.sampler import CharModel, SamplingParams, generate
from textgen.vocab import Vocabulary


@dataclass
class LoadedGenerator:
    version: int
    cell: str
    vocab: Vocabulary
    model: CharModel
    text: str


def load(settings: Settings, corpus: str, version: int | None) -> LoadedGenerator:
    with light.reader(settings.db_url) as conn:
        if conn is not None:
            return _from_rows(
                corpus,
                light.corpus_names(conn),
                light.corpus_text(conn, corpus),
                light.model_row(conn, "textgen", corpus, version),
                version,
            )
    from db import corpus as cq
    from db import registry
    from db.engine import read_session

    with read_session(settings) as session:
        names = cq.list_names(session)
        found = cq.find_corpus(session, corpus)
        text = cq.corpus_text(session, found) if found else None
        v = (
            registry.get_version(session, version)
            if version
            else registry.champion(session, "textgen", corpus)
        )
        row = (
            None
            if v is None
            else {
                k: getattr(v, k)
                for k in ("id", "kind", "subject", "status", "config", "inference", "inference_sha256")
            }
        )
    return _from_rows(corpus, names, text, row, version)


def _from_rows(
    corpus: str, names: list[str], text: str | None, row, version: int | None = None
) -> LoadedGenerator:
    if text is None:
        raise NotFoundError(did_you_mean("corpus", corpus, names))
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
    if version and row["subject"] != corpus:
        raise InputError(f"--version {version} is a model of {row['subject']!r}, not of {corpus!r}")
    if row["kind"] != "textgen" or row["status"] != "ready" or row["inference"] is None:
        raise RecurError(f"model version {row['id']} is not a ready text generator")
    data = bytes(row["inference"])
    if hashlib.sha256(data).hexdigest() != row["inference_sha256"]:
        raise RecurError(
            f"model version {row['id']}: weights sha256 does not match: the stored weights are corrupt"
        )
    config = row["config"] if isinstance(row["config"], dict) else json.loads(row["config"])
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            arrays = {k: npz[k] for k in npz.files}
    except (ValueError, OSError) as exc:  # object arrays (pickles) are never loaded
        raise RecurError(
            f"model version {row['id']}: its stored weights are not plain arrays ({exc}); they are not "
            "loaded. Retrain the generator"
        ) from exc
    cell = config["cell"]
    return LoadedGenerator(
        int(row["id"]), cell, Vocabulary(config["vocabulary"]), CharModel.from_arrays(cell, arrays), text
    )


def sample_text(
    settings: Settings, corpus: str, req: SampleRequest, emit: Callable[[str], None] | None = None
) -> dict:
    """Generate `n` samples; with n == 1 each character goes to `emit` as soon as it exists."""
    loaded = load(settings, corpus, req.version)
    prompt_ids = loaded.vocab.prompt_ids(req.prompt or "\n", req.unknown if req.prompt else "skip")
    prompt = loaded.vocab.decode(prompt_ids) if req.prompt else ""  # what the model saw (--unknown skip)
    seed = req.seed if req.seed is not None else secrets.randbits(32)
    params = SamplingParams(req.temperature, req.top_k or 0, req.top_p)
    streams = [[] for _ in range(req.n)]
    done = np.zeros(req.n, dtype=bool)
    out = _Stream(emit if req.n == 1 else None, req.stop or "", prompt)
    started = time.perf_counter()
    for ids in generate(loaded.model, prompt_ids, req.length, req.n, params, seed):
        for s in np.flatnonzero(~done):
            streams[s].append(loaded.vocab.chars[ids[s]])
            if req.stop and "".join(streams[s][-len(req.stop) :]) == req.stop:
                del streams[s][-len(req.stop) :]
                done[s] = True
            out.update(streams[s], bool(done[s]))
        if done.all():
            break
    out.update(streams[0], True)
    seconds = time.perf_counter() - started
    texts = ["".join(s) for s in streams]
    index = corpus_index(settings, loaded.text)
    samples = [{"text": t, "longest_copied": longest_shared(index, req.prompt + t)} for t in texts]
    stored = _store(settings, loaded.version, req, seed, samples)
    chars = sum(len(t) for t in texts)
    return {
        "corpus": corpus,
        "version": loaded.version,
        "prompt": prompt,
        "stop": req.stop,
        "seed": seed,
        "samples": samples,
        "ids": stored,
        "chars_per_s": chars / seconds if seconds > 0 else None,
    }


class _Stream:
    """Characters to `emit` as soon as they are final: the prompt first, then each one that can no longer
    be the start of the stop string, so what is shown is exactly what is stored."""

    def __init__(self, emit: Callable[[str], None] | None, stop: str, prompt: str) -> None:
        self.emit, self.stop, self.prompt, self.sent = emit, stop, prompt, 0

    def update(self, stream: list[str], finished: bool) -> None:
        if self.emit is None:
            return
        if self.prompt:
            self.emit(self.prompt)
            self.prompt = ""
        final = len(stream) if finished else len(stream) - self._held(stream)
        if final > self.sent:
            self.emit("".join(stream[self.sent : final]))
            self.sent = final

    def _held(self, stream: list[str]) -> int:
        """The longest tail of `stream` that begins the stop string."""
        tail = "".join(stream[-len(self.stop) :]) if self.stop else ""
        return next((k for k in range(len(tail), 0, -1) if self.stop.startswith(tail[-k:])), 0)


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


def longest_shared(index: overlap.CorpusIndex, sample: str) -> dict:
    """The longest substring of `sample` found verbatim in the indexed training text."""
    start, length = overlap.longest_shared(index, sample)
    return {"length": length, "text": sample[start : start + length]}


def _store(settings: Settings, version: int, req: SampleRequest, seed: int, samples: list[dict]) -> list[int]:
    from db.engine import write_session
    from db.tables import Sample

    params = {k: v for k, v in asdict(req).items() if k not in ("prompt", "seed", "version")}
    with write_session(settings) as session:
        rows = [
            Sample(
                model_version_id=version,
                prompt=req.prompt,
                seed=seed,
                params=params | {"stream": k, "longest_copied": s["longest_copied"]["length"]},
                text=s["text"],
            )
            for k, s in enumerate(samples)
        ]
        session.add_all(rows)
        session.flush()
        return [r.id for r in rows]
