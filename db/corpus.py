"""Text corpora: reading files strictly as UTF-8, and corpus queries (session first, never commit)."""

from __future__ import annotations

import hashlib
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from core.errors import InputError, NotFoundError, did_you_mean
from core.limits import limit, over
from db.tables import Corpus, CorpusText, utcnow


@dataclass(frozen=True)
class TextFile:
    path: Path
    text: str
    sha256: str


def read_texts(path: Path) -> list[TextFile]:
    """A file, or every regular file under a directory (sorted, hidden ones skipped)."""
    path = Path(path)
    if path.is_dir():
        files = sorted(
            p for p in path.rglob("*") if p.is_file() and not any(part.startswith(".") for part in p.parts)
        )
        if not files:
            raise InputError(f"{path}: the directory has no files")
    elif path.is_file():
        files = [path]
    else:
        raise InputError(f"{path}: no such file or directory")
    return [_read_text(p) for p in files]


def _read_text(path: Path) -> TextFile:
    size = path.stat().st_size
    if size > limit("RECUR_MAX_TEXT_BYTES"):
        raise over("RECUR_MAX_TEXT_BYTES", path, f"the file has {size:,} bytes")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as err:
        line = raw.count(b"\n", 0, err.start) + 1
        line_start = raw.rfind(b"\n", 0, err.start) + 1
        column = len(raw[line_start : err.start].decode("utf-8", errors="replace")) + 1
        raise InputError(
            f"{path}: line {line}, column {column} (byte offset {err.start}): byte 0x{raw[err.start]:02x} "
            "is not valid UTF-8; convert the file to UTF-8 first (e.g. iconv -f latin1 -t utf-8)"
        ) from err
    text = text.removeprefix("\ufeff")
    if (nul := text.find("\x00")) >= 0:
        line = text.count("\n", 0, nul) + 1
        column = nul - (text.rfind("\n", 0, nul) + 1) + 1
        raise InputError(
            f"{path}: line {line}, column {column}: a NUL byte; this looks like a binary file, not text"
        )
    return TextFile(path, text, hashlib.sha256(raw).hexdigest())


def vocabulary(text: str) -> dict:
    counts = Counter(text)
    chars = sorted(counts)
    return {"chars": "".join(chars), "counts": [counts[c] for c in chars]}


def merge_vocabulary(old: dict, text: str) -> dict:
    counts = Counter(dict(zip(old["chars"], old["counts"], strict=True)))
    counts.update(text)
    chars = sorted(counts)
    return {"chars": "".join(chars), "counts": [counts[c] for c in chars]}


def get_corpus(session: Session, name: str) -> Corpus:
    corpus = session.scalar(select(Corpus).where(Corpus.name == name))
    if corpus is None:
        raise NotFoundError(did_you_mean("corpus", name, list_names(session)))
    return corpus


def find_corpus(session: Session, name: str) -> Corpus | None:
    return session.scalar(select(Corpus).where(Corpus.name == name))


def list_names(session: Session) -> list[str]:
    return list(session.scalars(select(Corpus.name).order_by(Corpus.name)))


def list_corpora(session: Session) -> list[Corpus]:
    return list(session.scalars(select(Corpus).order_by(Corpus.name)))


def corpus_text(session: Session, corpus: Corpus) -> str:
    parts = session.scalars(
        select(CorpusText.text).where(CorpusText.corpus_id == corpus.id).order_by(CorpusText.seq)
    )
    return "".join(parts)


def add_part(session: Session, corpus: Corpus, part: TextFile) -> bool:
    """Append a file's text unless the same bytes are already in the corpus; True when added."""
    known = session.scalar(
        select(CorpusText.id).where(CorpusText.corpus_id == corpus.id, CorpusText.sha256 == part.sha256)
    )
    if known is not None:
        return False
    seq = len(corpus.parts)
    corpus.parts.append(CorpusText(seq=seq, source=str(part.path), sha256=part.sha256, text=part.text))
    corpus.vocabulary = merge_vocabulary(corpus.vocabulary, part.text)
    corpus.n_chars += len(part.text)
    corpus.n_lines += part.text.count("\n")
    digest = hashlib.sha256(corpus.sha256.encode() + part.sha256.encode()).hexdigest()
    corpus.sha256 = digest
    corpus.updated_at = utcnow()
    return True


@dataclass(frozen=True)
class Read:
    """What a training run read of a corpus: its row and the parts it held, in order (parts appended since
    do not change what the run learned from)."""

    corpus_id: int
    parts: tuple[str, ...]


def _part_digests(session: Session, corpus_id: int) -> tuple[str, ...]:
    query = select(CorpusText.sha256).where(CorpusText.corpus_id == corpus_id).order_by(CorpusText.seq)
    return tuple(session.scalars(query))


def read_of(session: Session, corpus: Corpus) -> Read:
    return Read(corpus.id, _part_digests(session, corpus.id))


def changed(session: Session, name: str, read: Read) -> str | None:
    """Why the store no longer holds the text `read` was, or None where it still does."""
    now = find_corpus(session, name)
    if now is None:
        return f"corpus {name!r} was deleted"
    if now.id != read.corpus_id:
        return f"corpus {name!r} was deleted and ingested again"
    if _part_digests(session, now.id)[: len(read.parts)] != read.parts:
        return f"corpus {name!r} had its text replaced"
    return None


def new_corpus(name: str) -> Corpus:
    return Corpus(name=name, sha256="", n_chars=0, n_lines=0, vocabulary={"chars": "", "counts": []})
