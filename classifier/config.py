"""Classifier configuration."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from core.errors import check_options
from core.params import check_choices, param

ARCHITECTURES = ("rnn", "lstm", "gru", "bilstm", "bigru", "attention", "deep")
POOLS = ("max", "last")


@dataclass(frozen=True)
class ClassifyConfig:
    model: str = param("bilstm", "Architecture.", ARCHITECTURES)
    units: int = param(64, "Units per recurrent layer.")
    layers: int = param(1, "Recurrent layers (deep: at least 3).")
    embedding: int = param(32, "Token embedding size.")
    max_tokens: int = param(2_000, "Vocabulary size; rarer words share the out-of-vocabulary token.")
    pool: str = param(
        "max",
        "Sequence to vector: max over the steps, or the last state (attention pools by attention).",
        POOLS,
    )
    max_length: int = param(64, "Tokens per text.")
    dropout: float = param(0.3, "Dropout on the embeddings and between layers.")
    epochs: int = param(30, "Upper bound; early stopping on validation loss decides.")
    batch_size: int = param(32, "Items per training step.")
    learning_rate: float = param(2e-3, "Adam's learning rate.")
    patience: int = param(4, "Epochs without a better validation loss before training stops.")
    seed: int = param(0, "Seed of the split, the weights and the shuffling.")
    test: float = param(0.2, "Stratified share held out for scoring.")
    validation: float = param(0.1, internal=True)
    class_weights: bool = param(True, "Balance rare classes.")
    ensemble: int = param(1, "Train N networks (seeds seed..seed+N-1) and average their probabilities.")

    def __post_init__(self) -> None:
        check_choices(self)
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
