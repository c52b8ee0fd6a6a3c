"""Ingest pipelines: a file of series or a corpus of text into the store, all or nothing."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from core.errors import ConflictError, InputError
from core.settings import Settings
from db import corpus as cq
from db import series as q
from db.engine import write_session
from db.names import check_name
from db.tables import Series
from readers.csvread import IngestOptions, read_table
from readers.prepare import Plan, SeriesRows, Stored, plan, split
from readers.timeaxis import grid_size


@dataclass
class SeriesOutcome:
    name: str
    created: bool
    inserted: int
    replaced: int
    unchanged: int
    filled: int
    gaps: int
    freq: str | None
    n_obs: int


@dataclass
class IngestReport:
    path: str
    group: str | None
    time_kind: str
    rows_read: int
    series: list[SeriesOutcome] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def ingest_series(settings: Settings, path: str | Path, opts: IngestOptions) -> IngestReport:
    """Parse and validate the whole file first; then write every series in one transaction."""
    table = read_table(Path(path), opts)
    group_name = check_name(opts.name or Path(path).stem, "series")
    group, rows = split(table, opts, group_name)
    for r in rows:
        check_name(r.name, "series")
    report = IngestReport(str(path), group, table.parser.kind, len(table.ts))
    with write_session(settings) as session:
        _check_namespace(session, group, rows)
        try:
            plans = [(r, _plan(session, r, table.parser.kind, opts, path)) for r in rows]
        except InputError as exc:  # irregular spacing or gaps: maybe a day-first file read month first
            raise InputError(str(exc) + table.parser.day_first_hint(bool(opts.time_format))) from exc
        group_id = q.ensure_group(session, group, str(path)).id if group else None
        for _r, p in plans:
            report.series.append(_apply(session, p, table.parser.kind, group_id, str(path), opts))
    return report


def _check_namespace(session, group: str | None, rows: list[SeriesRows]) -> None:
    """Series and group names share one namespace, so that a name always means one thing."""
    if group and q.get_series(session, group) is not None:
        raise ConflictError(f"{group!r} is already a series; pass --name to name this group differently")
    for r in rows:
        if q.get_group(session, r.name) is not None:
            raise ConflictError(f"{r.name!r} is already a group; pass --name to name this series differently")


def _plan(session, rows: SeriesRows, kind: str, opts: IngestOptions, path) -> Plan:
    existing = q.get_series(session, rows.name)
    stored = None
    if existing is not None:
        lo, hi = int(rows.ts[0]), int(rows.ts[-1])
        overlap_ts, overlap_values = q.stored_points(session, existing.id, lo, hi)
        stored = Stored(
            time_kind=existing.time_kind,
            freq=existing.freq,
            prev=q.point_before(session, existing.id, lo),
            overlap_ts=np.asarray(overlap_ts, dtype=np.int64),
            overlap_values=np.asarray(overlap_values, dtype=np.float64),
        )
    return plan(rows, kind, stored, opts, path)


def _apply(
    session, p: Plan, kind: str, group_id: int | None, source: str, opts: IngestOptions
) -> SeriesOutcome:
    series = q.get_series(session, p.name)
    created = series is None
    if created:
        series = Series(
            name=p.name,
            group_id=group_id,
            position=p.position,
            column=p.column,
            time_kind=kind,
            source=source,
        )
        session.add(series)
    series.freq = series.freq or p.freq
    series.season = opts.season or series.season
    series.unit = opts.unit_of(p.column) or series.unit
    session.flush()
    if len(p.replace_ts):
        q.delete_points(session, series.id, p.replace_ts)
    q.write_points(session, series.id, p.insert_ts, p.insert_values)
    n, first, last = q.point_stats(session, series.id)
    gaps = 0 if series.freq is None or first is None else grid_size(first, last, kind, series.freq) - n
    q.set_stats(session, series.id, n, first, last, gaps)
    inserted = len(p.insert_ts) - len(p.replace_ts)
    return SeriesOutcome(
        p.name, created, inserted, len(p.replace_ts), p.unchanged, p.filled, gaps, series.freq, n
    )


@dataclass
class CorpusReport:
    name: str
    created: bool
    files_added: list[str]
    files_unchanged: list[str]
    n_chars: int
    n_lines: int
    vocabulary_size: int

    def as_dict(self) -> dict:
        return asdict(self)


def ingest_corpus(settings: Settings, path: str | Path, name: str | None = None) -> CorpusReport:
    """Add a file or directory of UTF-8 text to a corpus; files already in it (same bytes) are skipped."""
    texts = cq.read_texts(Path(path))
    empty = [str(t.path) for t in texts if not t.text.strip()]
    if len(empty) == len(texts):
        raise InputError(f"{path}: the text is empty; a corpus needs some text to learn from")
    name = check_name(name or Path(path).stem, "corpus")
    with write_session(settings) as session:
        corpus = cq.find_corpus(session, name)
        created = corpus is None
        if created:
            corpus = cq.new_corpus(name)
            session.add(corpus)
        added, same = [], []
        for t in texts:
            if t.text.strip():
                (added if cq.add_part(session, corpus, t) else same).append(str(t.path))
        session.flush()
        chars = len(corpus.vocabulary["chars"])
        return CorpusReport(name, created, added, same, corpus.n_chars, corpus.n_lines, chars)
