"""What is in the store: listing, showing, exporting and deleting series and corpora. Listing stays free of
numpy and pandas so that it answers at once."""

from __future__ import annotations

import itertools
from pathlib import Path

from core.errors import ConflictError
from core.files import write_atomic
from core.outputs import csv_safe, may_replace, output_format, output_path, record_written
from core.settings import Settings
from core.timefmt import format_ts
from db import light


def _series_row(r) -> dict:
    """One listing row, from a sqlite3.Row or a mapping of the same keys."""
    return {
        "name": r["name"],
        "group": r["group_name"],
        "time_kind": r["time_kind"],
        "freq": r["freq"],
        "n_obs": r["n_obs"],
        "first": format_ts(r["first_ts"], r["time_kind"], r["freq"]),
        "last": format_ts(r["last_ts"], r["time_kind"], r["freq"]),
        "gaps": r["n_gaps"],
    }


def _orm_series_row(s, groups: dict[int, str]) -> dict:
    keys = ["name", "time_kind", "freq", "n_obs", "first_ts", "last_ts", "n_gaps"]
    return _series_row({k: getattr(s, k) for k in keys} | {"group_name": groups.get(s.group_id)})


def list_series(settings: Settings) -> list[dict]:
    with light.reader(settings.db_url) as conn:
        if conn is not None:
            return [_series_row(r) for r in light.series_rows(conn)]
    from db import series as q
    from db.engine import read_session

    with read_session(settings) as session:
        groups = q.list_groups(session)
        return [_orm_series_row(s, groups) for s in q.list_series(session)]


def show_series(settings: Settings, name: str) -> dict:
    """Length, range, frequency, gaps and summary statistics of a series (or of each member of a group)."""
    import numpy as np

    from db import series as q
    from db.engine import read_session

    with read_session(settings) as session:
        subject = q.resolve(session, name)
        groups = q.list_groups(session)
        out = []
        for s in subject.series:
            ts, values = q.load_points(session, s.id)
            row = _orm_series_row(s, groups) | {"unit": s.unit} | _stats(np.asarray(values, dtype=np.float64))
            row["gap_list"] = _gap_list(np.asarray(ts, dtype=np.int64), s)
            out.append(row)
    return {"name": name, "group": subject.group is not None, "series": out}


def _stats(v) -> dict:
    import numpy as np

    if len(v) == 0:
        return {}
    q25, q50, q75 = np.percentile(v, [25, 50, 75])
    return {
        "mean": float(v.mean()),
        "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0,
        "min": float(v.min()),
        "p25": float(q25),
        "median": float(q50),
        "p75": float(q75),
        "max": float(v.max()),
    }


def _gap_list(ts, s, limit: int = 10) -> list[dict]:
    """The first missing stretches: where each starts and how many steps it misses."""
    from readers.timeaxis import grid

    if s.n_gaps == 0 or s.freq is None or len(ts) < 2:
        return []
    full = grid(int(ts[0]), int(ts[-1]), s.time_kind, s.freq)
    pos = {int(t): i for i, t in enumerate(full)}
    idx = [pos[int(t)] for t in ts]
    out = []
    for a, b in itertools.pairwise(idx):
        if b - a > 1:
            out.append({"after": format_ts(int(full[a]), s.time_kind, s.freq), "missing": b - a - 1})
            if len(out) == limit:
                break
    return out


def export_series(settings: Settings, name: str, out: str | Path, force: bool = False) -> dict:
    """A series (two columns) or a group (one column per member) as CSV, written atomically."""
    import pandas as pd

    from db import series as q
    from db.engine import read_session

    output_format(settings, out, None, {".csv": "csv"}, "csv")
    target = output_path(settings, out, name, ".csv")
    may_replace(settings, target, force)
    with read_session(settings) as session:
        subject = q.resolve(session, name)
        frames = []
        for s in subject.series:
            ts, values = q.load_points(session, s.id)
            # A group's columns are its members' names within it (a wide file's columns, a long file's ids).
            label = s.name.removeprefix(f"{subject.group.name}/") if subject.group is not None else "value"
            frames.append(pd.Series(values, index=pd.Index(ts, name="time"), name=label))
        kind = subject.series[0].time_kind if subject.series else "int"
    frame = pd.concat(frames, axis=1) if frames else pd.DataFrame()
    if kind == "datetime":
        frame.index = pd.to_datetime(frame.index, unit="s").rename("time")
    frame.columns = [csv_safe(c) for c in frame.columns]
    write_atomic(target, lambda tmp: frame.to_csv(tmp, index=True))
    record_written(settings, target)
    return {"name": name, "path": str(target), "rows": len(frame), "columns": len(frame.columns)}


SUBJECT_PARAMS = {"forecaster": ("subject", "series"), "textgen": ("corpus",), "classifier": ("labels",)}


def dependents(session, kind: str, names: set[str]) -> tuple[list, list]:
    """(schedules, model versions) that use any of `names`: schedules naming one in their parameters,
    versions of `kind` trained on one."""
    from sqlalchemy import select

    from db.tables import ModelVersion, Schedule

    keys = SUBJECT_PARAMS[kind]
    schedules = [
        sch
        for sch in session.scalars(select(Schedule).order_by(Schedule.name))
        if any((sch.params or {}).get(k) in names for k in keys)
    ]
    versions = list(
        session.scalars(
            select(ModelVersion)
            .where(ModelVersion.kind == kind, ModelVersion.subject.in_(names))
            .order_by(ModelVersion.id)
        )
    )
    return schedules, versions


def remove_dependents(session, what: str, schedules: list, versions: list, cascade: bool) -> dict:
    """Refuse to leave schedules and models pointing at nothing; with `cascade`, delete them and say so."""
    import shlex

    if not schedules and not versions:
        return {}
    shown = [f"schedule {s.name!r} ({s.task})" for s in schedules]
    shown += [f"model version {v.id}{' (champion)' if v.alias == 'champion' else ''}" for v in versions]
    if not cascade:
        raise ConflictError(
            f"{what} is used by {', '.join(shown)}; remove those first, or pass --cascade to delete them "
            f"with it (schedules with their run history). `recur jobs list` and `recur models list "
            f"--subject {shlex.quote(versions[0].subject if versions else schedules[0].name)}` show them"
        )
    for row in [*schedules, *versions]:
        session.delete(row)
    return {"cascaded": shown}


def delete_series(settings: Settings, name: str, cascade: bool = False) -> dict:
    """A series, or a group with all its series; schedules and models that use them only with `cascade`."""
    from db import series as q
    from db.engine import write_session

    with write_session(settings) as session:
        subject = q.resolve(session, name)
        names = {name} | {s.name for s in subject.series}
        removed = remove_dependents(session, f"{name!r}", *dependents(session, "forecaster", names), cascade)
        points = q.delete_subject(session, subject)
        return {"name": name, "series": [s.name for s in subject.series], "points": points} | removed


def _corpus_row(r) -> dict:
    return {
        "name": r["name"],
        "n_chars": r["n_chars"],
        "n_lines": r["n_lines"],
        "vocabulary_size": r["vocabulary_size"],
        "sha256": r["sha256"],
        "updated": str(r["updated_at"])[:19],
    }


def _orm_corpus_row(c) -> dict:
    keys = ["name", "n_chars", "n_lines", "sha256", "updated_at"]
    return _corpus_row({k: getattr(c, k) for k in keys} | {"vocabulary_size": len(c.vocabulary["chars"])})


def list_corpora(settings: Settings) -> list[dict]:
    with light.reader(settings.db_url) as conn:
        if conn is not None:
            return [_corpus_row(r) for r in light.corpus_rows(conn)]
    from db import corpus as cq
    from db.engine import read_session

    with read_session(settings) as session:
        return [_orm_corpus_row(c) for c in cq.list_corpora(session)]


def show_corpus(settings: Settings, name: str, top: int = 15) -> dict:
    from db import corpus as cq
    from db.engine import read_session

    with read_session(settings) as session:
        corpus = cq.get_corpus(session, name)
        vocab = corpus.vocabulary
        ranked = sorted(zip(vocab["chars"], vocab["counts"], strict=True), key=lambda kv: -kv[1])
        row = _orm_corpus_row(corpus)
        row["sources"] = [p.source for p in corpus.parts]
        row["top_chars"] = [{"char": ch, "count": n} for ch, n in ranked[:top]]
        return row


def delete_corpus(settings: Settings, name: str, cascade: bool = False) -> dict:
    from db import corpus as cq
    from db.engine import write_session

    with write_session(settings) as session:
        corpus = cq.get_corpus(session, name)
        row = _orm_corpus_row(corpus)
        removed = remove_dependents(
            session, f"corpus {name!r}", *dependents(session, "textgen", {name}), cascade
        )
        session.delete(corpus)
        return row | removed
