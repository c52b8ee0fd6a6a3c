"""What sampling reads of the store, as one typed value however it is read: the corpus names (for a
did-you-mean), the corpus text, and the text generator's version with its plain-array weights. Read the
light way (db.light, standard library sqlite3) where the store is SQLite at the current schema, else through
the ORM; a test holds the two equal."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from core.errors import RecurError
from core.settings import Settings
from db import light


@dataclass(frozen=True)
class StoredGenerator:
    """A text generator's version row: what is checked before its weights are used."""

    id: int
    kind: str
    subject: str
    status: str
    config: dict
    inference: bytes | None
    inference_sha256: str | None

    @classmethod
    def of(cls, row) -> StoredGenerator:
        """From a sqlite3 row or an ORM ModelVersion (the config stored as JSON text or a dict)."""
        get = row.__getitem__ if hasattr(row, "keys") else lambda k: getattr(row, k)
        config = get("config")
        inference = get("inference")
        return cls(
            int(get("id")),
            get("kind"),
            get("subject"),
            get("status"),
            config if isinstance(config, dict) else json.loads(config),
            None if inference is None else bytes(inference),
            get("inference_sha256"),
        )

    def weights(self) -> bytes:
        """The weights' bytes, refused unless their sha256 matches the one stored with them."""
        if self.inference is None:
            raise RecurError(f"model version {self.id} is not a ready text generator")
        if hashlib.sha256(self.inference).hexdigest() != self.inference_sha256:
            raise RecurError(
                f"model version {self.id}: weights sha256 does not match: the stored weights are corrupt"
            )
        return self.inference


@dataclass(frozen=True)
class SamplingInputs:
    names: list[str]  # every corpus, for a did-you-mean
    text: str | None  # the corpus's text; None: no such corpus
    version: StoredGenerator | None  # the version asked for, or the corpus's ready champion


def sampling_inputs(settings: Settings, corpus: str, version_id: int | None) -> SamplingInputs:
    with light.reader(settings.db_url) as conn:
        if conn is not None:
            row = light.model_row(conn, "textgen", corpus, version_id)
            return SamplingInputs(
                light.corpus_names(conn),
                light.corpus_text(conn, corpus),
                None if row is None else StoredGenerator.of(row),
            )
    return _through_the_orm(settings, corpus, version_id)


def _through_the_orm(settings: Settings, corpus: str, version_id: int | None) -> SamplingInputs:
    from db import corpus as cq
    from db import registry
    from db.engine import read_session

    with read_session(settings) as session:
        found = cq.find_corpus(session, corpus)
        if version_id:
            v = registry.get_version(session, version_id)
        else:
            v = registry.champion(session, "textgen", corpus)
        return SamplingInputs(
            cq.list_names(session),
            cq.corpus_text(session, found) if found else None,
            None if v is None else StoredGenerator.of(v),
        )
