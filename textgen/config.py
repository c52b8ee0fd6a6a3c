"""Text generator configuration and presets."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from core.errors import InputError, check_options
from core.params import check_choices, param

CELLS = ("lstm", "gru")
MAX_SAMPLES, MAX_LENGTH = (
    16,
    4000,
)  # a request's caps by default, here and in the service (--max-n, --max-tokens)
CEILING_SAMPLES, CEILING_LENGTH = 1024, 1_000_000  # how far a cap may be raised
MAX_TEMPERATURE = 10.0  # beyond it every character is about equally likely: noise, whatever the model


@dataclass(frozen=True)
class TextGenConfig:
    cell: str = param("lstm", "Recurrent cell.", CELLS)
    layers: int = param(2, "Recurrent layers.")
    units: int = param(256, "Units per recurrent layer.")
    embedding: int = param(64, "Character embedding size.")
    seq_len: int = param(100, "Characters per training window.")
    dropout: float = param(0.0, "Dropout layers between recurrent layers.")
    locked: bool = param(False, "--dropout keeps one mask across a window's steps (variational dropout).")
    input_dropout: float = param(0.0, "Dropout on the character embeddings, one mask across a window.")
    embedding_dropout: float = param(0.0, "Drops whole characters from a window, wherever they occur.")
    weight_drop: float = param(0.0, "Dropout on the recurrent matrices (DropConnect), one mask a step.")
    batch_size: int = param(64, "Windows per training step.")
    carry_state: bool = param(
        False,
        "Truncated backpropagation through time: each window starts from the state the previous one ended "
        "in (a batch's rows read the text as that many streams).",
    )
    epochs: int = param(30, "Upper bound; early stopping on validation loss decides.")
    learning_rate: float = param(2e-3, "Adam's learning rate.")
    patience: int = param(3, "Epochs without a better validation loss before training stops.")
    lr_patience: int = param(1, internal=True)  # epochs without improvement before the learning rate halves
    seed: int = param(0, "Seed of the weights and the shuffling.")
    validation: float = param(0.1, "Share of the text held out at its end.")
    time_limit: float = param(0.0, "Stop after this many seconds of training (0: none).")
    decay: float = param(
        0.2,
        "With --time-limit: the learning rate decays over this last share of it, or from the first epoch "
        "that does not improve (before: constant).",
    )

    def __post_init__(self) -> None:
        check_choices(self)
        checks = [
            ("--layers", self.layers, self.layers >= 1, "at least 1"),
            ("--units", self.units, self.units >= 1, "at least 1"),
            ("--embedding", self.embedding, self.embedding >= 1, "at least 1"),
            ("--seq-len", self.seq_len, self.seq_len >= 2, "at least 2"),
            ("--epochs", self.epochs, self.epochs >= 1, "at least 1"),
            ("--patience", self.patience, self.patience >= 1, "at least 1"),
            ("lr_patience", self.lr_patience, self.lr_patience >= 1, "at least 1"),
            ("--batch-size", self.batch_size, self.batch_size >= 1, "at least 1"),
            *[(f"--{k.replace('_', '-')}", v, 0 <= v < 1, "in [0, 1)") for k, v in self._rates().items()],
            ("--validation", self.validation, 0 < self.validation < 0.5, "in (0, 0.5)"),
            ("--decay", self.decay, 0 < self.decay <= 1, "in (0, 1]"),
            ("--learning-rate", self.learning_rate, 0 < self.learning_rate <= 1, "in (0, 1]"),
        ]
        check_options(checks)

    def _rates(self) -> dict[str, float]:
        names = ("dropout", "input_dropout", "embedding_dropout", "weight_drop")
        return {k: getattr(self, k) for k in names}

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> TextGenConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})


# tiny: tests and smoke runs. cpu: what a 2-core machine trains well in ~20 minutes. gpu: a card's worth,
# 5 minutes on one accelerator (an epoch of tinyshakespeare is ~30 steps there, so many epochs).
PRESETS = {
    "tiny": TextGenConfig(layers=1, units=32, embedding=16, seq_len=32, batch_size=32, epochs=2),
    "cpu": TextGenConfig(
        cell="gru",
        layers=2,
        units=256,
        embedding=64,
        seq_len=100,
        batch_size=64,
        epochs=40,
        dropout=0.1,
        embedding_dropout=0.1,  # the one regulariser that won at this budget (bench/RESULTS.md)
        learning_rate=6e-3,
        time_limit=20 * 60,
    ),
    "gpu": TextGenConfig(
        layers=3,
        units=512,
        embedding=128,
        seq_len=128,
        batch_size=256,
        epochs=500,
        dropout=0.35,
        patience=8,
        lr_patience=2,
        decay=1.0,  # a cosine over the whole budget: this model overfits within it (bench/RESULTS.md)
        time_limit=5 * 60,
    ),
}


def preset(name: str, **overrides) -> TextGenConfig:
    if name not in PRESETS:
        raise InputError(f"--preset {name!r}: choose one of {', '.join(PRESETS)}")
    return replace(PRESETS[name], **{k: v for k, v in overrides.items() if v is not None})


UNKNOWN = ("error", "skip")
ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "\\": "\\"}


def unescape(value: str | None) -> str | None:
    r"""`\n`, `\t`, `\r` and `\\` typed on a command line (or in a schedule's parameter), as the characters
    they name."""
    if value is None:
        return None
    import re

    return re.sub(r"\\([ntr\\])", lambda m: ESCAPES[m[1]], value)


@dataclass(frozen=True)
class SampleRequest:
    """What `textgen sample` (and a `sample` schedule) asks of a text generator."""

    prompt: str = param("", "Text that primes the model's state; the sample continues it.")
    length: int = param(300, "Characters per sample.")
    temperature: float = param(1.0, f"0 is greedy; at most {MAX_TEMPERATURE:g}.")
    top_k: int | None = param(None, "Sample only from the k likeliest characters.", kind=int)
    top_p: float = param(1.0, "Nucleus: the likeliest mass p.")
    n: int = param(1, "Samples at once.")
    seed: int | None = param(None, "Same seed, same text (stored with each sample).", kind=int)
    stop: str | None = param(
        None, r"End a sample when it produces this string (\n, \t, \r and \\ are understood).", kind=str
    )
    version: int | None = param(None, "Model version; default: the corpus's champion.", kind=int)
    unknown: str = param(
        "error",
        "Characters the model never saw (in the prompt, or the text scored): refuse, or drop them.",
        UNKNOWN,
    )
    max_n: int = param(MAX_SAMPLES, f"The cap on --n (as the service's --max-n); at most {CEILING_SAMPLES}.")
    max_length: int = param(
        MAX_LENGTH, f"The cap on --length (as the service's --max-tokens); at most {CEILING_LENGTH:,}."
    )

    def __post_init__(self) -> None:
        check_options(
            [
                ("--max-n", self.max_n, 1 <= self.max_n <= CEILING_SAMPLES, f"in [1, {CEILING_SAMPLES}]"),
                (
                    "--max-length",
                    self.max_length,
                    1 <= self.max_length <= CEILING_LENGTH,
                    f"in [1, {CEILING_LENGTH}]",
                ),
            ]
        )
        if self.n > self.max_n:
            raise InputError(f"--n {self.n}: at most {self.max_n} samples at once; --max-n raises the cap")
        if self.length > self.max_length:
            raise InputError(
                f"--length {self.length}: at most {self.max_length} characters a sample; --max-length raises "
                "the cap"
            )
        if not 0 <= self.temperature <= MAX_TEMPERATURE:
            raise InputError(
                f"--temperature {self.temperature}: must be in [0, {MAX_TEMPERATURE:g}] (0 is greedy)"
            )
        if not 0 < self.top_p <= 1:
            raise InputError(f"--top-p {self.top_p}: must be in (0, 1]")
        if self.top_k is not None and self.top_k < 1:
            raise InputError(f"--top-k {self.top_k}: must be at least 1")
        if self.length < 1 or self.n < 1:
            raise InputError(f"--length {self.length} and --n {self.n} must be at least 1")
        check_choices(self)

    def seeded(self) -> SampleRequest:
        """The request with its seed: the one given, else a fresh one (stored with each sample)."""
        import secrets

        return self if self.seed is not None else replace(self, seed=secrets.randbits(32))

    def stored(self) -> dict:
        """What a stored sample records of the request beside its prompt, seed and version."""
        kept = ("prompt", "seed", "version", "max_n", "max_length")
        return {k: v for k, v in asdict(self).items() if k not in kept}
