"""Text generator pipelines: train a character model on a corpus and register it."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from core.errors import RecurError
from core.settings import Settings
from db import corpus as cq
from db import registry
from db.engine import read_session
from pipelines.sampling import corpus_index
from runtime.training import Fitted, still_held, train_and_register
from textgen.config import TextGenConfig
from textgen.data import split
from textgen.train import bits, train
from textgen.vocab import Vocabulary


def weights_npz(arrays: dict) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _start_point(settings: Settings, corpus: str, text: str, resume: bool):
    """The vocabulary and, with --resume, the weights and config of the corpus's latest version."""
    if not resume:
        return Vocabulary.of(text), None, None
    with read_session(settings) as session:
        versions = [v for v in registry.list_versions(session, "textgen", corpus) if v.status == "ready"]
        if not versions:
            raise RecurError(
                f"--resume: corpus {corpus!r} has no trained version yet; train without --resume"
            )
        latest = versions[-1]
        from runtime.artifacts import load_model

        weights, config = load_model(latest).get_weights(), dict(latest.config)
    vocab = Vocabulary(config["vocabulary"])
    if vocab.unknown(text):
        raise RecurError(
            f"--resume: the corpus now has characters version {latest.id} never saw "
            f"({', '.join(map(repr, vocab.unknown(text)[:10]))}); train from scratch"
        )
    return vocab, weights, TextGenConfig.from_json(config)


@dataclass(frozen=True)
class TextgenRun:
    """How one text generator's training is carried out, beside what its configuration decides."""

    resume: bool = False  # from the corpus's latest version
    preview: bool = False  # a short sample after every epoch
    say: Callable[[str], None] = print  # progress lines
    verbose: int = 0  # Keras' own progress bar
    force: bool = False  # promote whatever the validation loss
    device: str = "auto"
    precision: str = "float32"


def train_textgen(
    settings: Settings, corpus: str, cfg: TextGenConfig, run: TextgenRun = TextgenRun()
) -> dict:
    from textgen.model import export_weights

    resume, say, verbose, force = run.resume, run.say, run.verbose, run.force

    with read_session(settings) as session:
        found = cq.get_corpus(session, corpus)
        text, read = cq.corpus_text(session, found), cq.read_of(session, found)
    vocab, weights, previous_cfg = _start_point(settings, corpus, text, resume)
    if previous_cfg is not None:  # the architecture must match the weights it resumes from
        cfg = TextGenConfig.from_json(
            previous_cfg.to_json() | {"epochs": cfg.epochs, "time_limit": cfg.time_limit}
        )
    arrays = split(text, vocab, cfg)
    report = _epoch_reporter(cfg, vocab, say, run.preview)

    def fit() -> Fitted:
        progress = _progress_reporter(say) if not verbose else None
        result = train(cfg, arrays, len(vocab), verbose, report, weights, progress)
        metrics = {
            "val_loss": result.best_val_loss,
            "val_bpc": bits(result.best_val_loss),
            "chars_per_s": result.chars_per_s,
            "seconds": result.seconds,
            "validation_s": result.validation_s,
            "train_chars": int(arrays.x_train.size),
        }
        config = cfg.to_json() | {"vocabulary": vocab.chars, "resumed": resume}
        inference = weights_npz(export_weights(result.model, cfg))
        return Fitted(result, cfg.cell, config, metrics, cfg.cell, inference=inference)

    def gate(session, fitted: Fitted) -> tuple[bool, str]:
        still_held(cq.changed(session, corpus, read))
        current = registry.champion(session, "textgen", corpus)
        best = (current.metrics or {}).get("val_loss") if current is not None else None
        new = fitted.metrics["val_loss"]
        promote = force or best is None or new < best
        return promote, _reason(force, new, best, promote)

    done = train_and_register(settings, "textgen", corpus, fit, gate, run.device, run.precision)
    corpus_index(settings, text)  # the memorisation check's index, built once per corpus text
    metrics = {k: v for k, v in done.metrics.items() if k != "decision"}
    return {
        "version": done.version,
        "corpus": corpus,
        "alias": done.alias,
        "reason": done.reason,
        "device": done.device,
        "epochs": done.fitted.result.epochs_run,
    } | metrics


def _reason(force: bool, new: float, best: float | None, promote: bool) -> str:
    if force:
        return "promoted with --force"
    if best is None:
        return "first version"
    verb = "beats" if promote else "does not beat"
    return f"validation loss {new:.4f} nats {verb} the champion's {best:.4f}"


def _progress_reporter(say):
    """Inside an epoch, every few seconds: a line for a log or a pipe (a terminal shows Keras' bar)."""

    def report(p: dict) -> None:
        say(
            f"  epoch {p['epoch']}: step {p['step']}/{p['steps']}, {p['chars_per_s']:,.0f} chars/s, "
            f"ETA {p['eta_s']:.0f} s"
        )

    return report


def _epoch_reporter(cfg: TextGenConfig, vocab: Vocabulary, say, preview: bool):
    def report(epoch: int, logs: dict, model) -> None:
        say(
            f"epoch {epoch}: loss {logs.get('loss', float('nan')):.4f}, "
            f"validation {logs.get('val_loss', float('nan')):.4f} nats = {logs['val_bpc']:.3f} bits/char "
            f"({logs['seconds']:.0f} s)"
        )
        if preview:
            from textgen.model import export_weights
            from textgen.sampler import CharModel, SamplingParams, generate

            char_model = CharModel.from_arrays(cfg.cell, export_weights(model, cfg))
            start = vocab.prompt_ids("\n", "skip")
            ids = [int(i[0]) for i in generate(char_model, start, 120, 1, SamplingParams(0.8), seed=epoch)]
            say("  | " + vocab.decode(ids).replace("\n", "\n  | "))

    return report
