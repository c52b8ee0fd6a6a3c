"""Which recurrent cell (rnn, lstm or gru) each architecture is built from. Free of Keras, so configs and
device checks can ask without loading a framework."""

from __future__ import annotations

CELL_KINDS = ("rnn", "lstm", "gru")
# Forecaster and classifier architectures alike (deep is the classifiers' LSTM stack).
CELL_OF = {"bilstm": "lstm", "bigru": "gru", "attention": "lstm", "seq2seq": "lstm", "deep": "lstm"}


def recurrent_cell(architecture: str) -> str:
    """The recurrent cell an architecture is built from (rnn, lstm or gru)."""
    return CELL_OF.get(architecture, architecture)
