"""Forecaster configuration: one name everywhere (--lookback, config.lookback, the JSON key, the label)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from db.errors import InputError, check_options

ARCHITECTURES = ("rnn", "lstm", "gru", "bilstm", "bigru", "attention", "seq2seq")
# Forecaster and classifier architectures alike (deep is the classifiers' LSTM stack).
_CELL_OF = {"bilstm": "lstm", "bigru": "gru", "attention": "lstm", "seq2seq": "lstm", "deep": "lstm"}


def recurrent_cell(architecture: str) -> str:
    """The recurrent cell an architecture is built from (rnn, lstm or gru)."""
    return _CELL_OF.get(architecture, architecture)


NORMS = ("none", "batch", "layer")


@dataclass(frozen=True)
class ForecastConfig:
    model: str = "lstm"
    lookback: int = 24
    horizon: int = 12
    layers: int = 1
    units: int = 32
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    norm: str = "none"
    epochs: int = 100
    batch_size: int = 64
    learning_rate: float = 1e-3
    patience: int = 10
    seed: int = 0
    season: int = 0  # 0: from the frequency
    calendar: bool = True
    covariates: tuple[str, ...] = field(default_factory=tuple)
    validation: float = 0.2
    skip: str = "seasonal"  # add the seasonal-naive forecast to the output: the net learns corrections

    def __post_init__(self) -> None:
        if self.model not in ARCHITECTURES:
            raise InputError(
                f"unknown model {self.model!r}; choose one of: {', '.join((*ARCHITECTURES, 'auto'))}"
            )
        if self.skip not in ("seasonal", "none"):
            raise InputError(f"--skip {self.skip!r}: choose seasonal or none")
        if self.norm not in NORMS:
            raise InputError(f"--norm {self.norm!r}: choose one of {', '.join(NORMS)}")
        checks = [
            ("--horizon", self.horizon, self.horizon >= 1, "at least 1"),
            ("--lookback", self.lookback, self.lookback >= 2, "at least 2"),
            ("--layers", self.layers, self.layers >= 1, "at least 1"),
            ("--units", self.units, self.units >= 1, "at least 1"),
            ("--epochs", self.epochs, self.epochs >= 1, "at least 1"),
            ("--batch-size", self.batch_size, self.batch_size >= 1, "at least 1"),
            ("--dropout", self.dropout, 0 <= self.dropout < 1, "in [0, 1)"),
            ("--recurrent-dropout", self.recurrent_dropout, 0 <= self.recurrent_dropout < 1, "in [0, 1)"),
            ("--validation", self.validation, 0 < self.validation < 0.5, "in (0, 0.5)"),
        ]
        check_options(checks)

    def to_json(self) -> dict:
        return asdict(self) | {"covariates": list(self.covariates)}

    @classmethod
    def from_json(cls, data: dict) -> ForecastConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known | {"covariates": tuple(data.get("covariates", ()))})
