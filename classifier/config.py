"""Classifier configuration."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from db.errors import InputError, check_options

ARCHITECTURES = ("rnn", "lstm", "gru", "bilstm", "bigru", "attention", "deep")
_CELL_OF = {"bilstm": "lstm", "bigru": "gru", "attention": "lstm", "deep": "lstm"}


def recurrent_cell(architecture: str) -> str:
    """The recurrent cell an architecture is built from (rnn, lstm or gru)."""
    return _CELL_OF.get(architecture, architecture)


@dataclass(frozen=True)
class ClassifyConfig:
    model: str = "bilstm"
    units: int = 64
    layers: int = 1
    embedding: int = 64
    max_tokens: int = 10_000
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

    def __post_init__(self) -> None:
        if self.model not in ARCHITECTURES:
            raise InputError(f"unknown model {self.model!r}; choose one of: {', '.join(ARCHITECTURES)}")
        check_options(
            [
                ("--units", self.units, self.units >= 1, "at least 1"),
                ("--layers", self.layers, self.layers >= 1, "at least 1"),
                ("--max-length", self.max_length, self.max_length >= 2, "at least 2"),
                ("--epochs", self.epochs, self.epochs >= 1, "at least 1"),
                ("--dropout", self.dropout, 0 <= self.dropout < 1, "in [0, 1)"),
                ("--test", self.test, 0 < self.test < 0.5, "in (0, 0.5)"),
            ]
        )

    def to_json(self) -> dict:
        return asdict(self)

    @classmethod
    def from_json(cls, data: dict) -> ClassifyConfig:
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
