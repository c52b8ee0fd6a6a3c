"""The character vocabulary saved with a model, and its rule for characters it has never seen."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.errors import InputError


@dataclass(frozen=True)
class Vocabulary:
    chars: str

    @classmethod
    def of(cls, text: str) -> Vocabulary:
        return cls("".join(sorted(set(text))))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str) -> np.ndarray:
        index = {c: i for i, c in enumerate(self.chars)}
        return np.fromiter((index[c] for c in text), dtype=np.int32, count=len(text))

    def decode(self, ids) -> str:
        return "".join(self.chars[int(i)] for i in ids)

    def unknown(self, text: str) -> list[str]:
        known = set(self.chars)
        return sorted({c for c in text if c not in known})

    def prompt_ids(self, prompt: str, on_unknown: str = "error") -> np.ndarray:
        """The rule for unseen characters: refuse, naming them (default), or drop them (`skip`)."""
        missing = self.unknown(prompt)
        if missing and on_unknown == "error":
            shown = ", ".join(repr(c) for c in missing)
            raise InputError(
                f"the prompt has characters the model never saw: {shown}; remove them or pass --unknown skip"
            )
        return self.encode("".join(c for c in prompt if c not in set(missing)))
