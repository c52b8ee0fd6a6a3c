"""Classifier configuration."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from core.errors import InputError, check_options

ARCHITECTURES = ("rnn", "lstm", "gru", "bilstm", "bigru", "attention", "deep")
POOLS = ("max", "last")


@dataclass(frozen=True)
class ClassifyConfig:
    model: str = "bilstm"
    units: int = 64
    layers: int = 1
    embedding: int = 32
    max_tokens: int = 2_000  # rarer words share the out-of-vocabulary token: too rare to learn from
    pool: str = "max"  # how a sequence becomes one vector (attention models pool by attention)
    max_length: int = 64
    dropout: float = 0.3
    epochs: int = 30
    batch_size: int = 32
    learning_rate: float = 2e-3
    patience: int = 4
    seed: int = 0
    test: float = 0.2
    validation: float = 0.1
    class_weights: bool = True
    ensemble: int = 1  # networks from consecutive seeds, their probabilities averaged

    def __post_init__(self) -> None:
        if self.model not in ARCHITECTURES:
            raise InputError(f"unknown model {self.model!r}; choose one of: {', '.join(ARCHITECTURES)}")
        if self.pool not in POOLS:
            raise InputError(f"--pool {self.pool!r}: choose one of {', '.join(POOLS)}")
        check_options(
            [
                ("--units", self.units, self.units >= 1, "at least 1"),
                ("--layers", self.layers, self.layers >= 1, "at least 1"),
                ("--max-length", self.max_length, self.max_length >= 2, "at least 2"),
                ("--epochs", self.epochs, self.epochs >= 1, "at least 1"),
                ("--ensemble", self.ensemble, 1 <= self.ensemble <= 20, "in [1, 20]"),
                ("--dropout", self.dropout, 0 <= self.dropout < 1, "in [0, 1)"),
                ("--test", self.test, 0 < self.test < 0.5, "in (0, 0.5)"),
            ]
        )

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> ClassifyConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
