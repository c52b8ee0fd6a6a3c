"""What the service reads: subjects with their champions against the baselines, forecasts, vintages'
scores, schedules and the run ledger, corpora and samples, as plain records, a page at a time (keyset
pagination: a page continues after the last name or before the last id of the one before). Read-only and
free of TensorFlow."""

from __future__ import annotations

from dataclasses import dataclass

from core.settings import Settings
from db import activity, registry
from db import schedules as sq
from db import series as q
from db.activity import FAILED
from db.engine import read_session
from pipelines.report_forecasts import best_baseline
from pipelines.vintages import forecast_records, score_vintages


@dataclass(frozen=True)
class Page:
    rows: list[dict]
    next: str | int | None  # the cursor of the next page; None on the last one


def _page(rows: list[dict], limit: int, key: str) -> Page:
    """`rows` holds up to limit + 1 rows: the extra one only says that there is a next page."""
    if len(rows) > limit:
        return Page(rows[:limit], rows[limit - 1][key])
    return Page(rows, None)


def open_store(settings: Settings) -> None:
    """The store exists and is at the current schema (migrated on first use) before anyone asks."""
    with read_session(settings):
        pass


def champion_summary(row: dict | None) -> dict | None:
    """A champion's backtest against its best baseline (MASE, lower is better)."""
    if row is None:
        return None
    metrics = row["metrics"] or {}
    baseline, mase, baseline_mase = best_baseline(metrics)
    return {
        "version": row["id"],
        "architecture": row["architecture"],
        "mase": mase,
        "baseline": baseline,
        "baseline_mase": baseline_mase,
        "skill": None if not mase or not baseline_mase else 1 - mase / baseline_mase,
        "decision": metrics.get("decision"),
        "promoted_at": row["promoted_at"].isoformat(timespec="seconds") if row["promoted_at"] else None,
    }


def subjects(settings: Settings, after: str | None = None, limit: int = 100) -> Page:
    """Each group and each series of its own, by name, with its champion's scores."""
    with read_session(settings) as session:
        groups = q.list_groups(session)
        members: dict[str, int] = {}
        for s in q.list_series(session):
            key = groups[s.group_id] if s.group_id is not None else s.name
            members[key] = members.get(key, 0) + 1
        names = sorted(n for n in members if after is None or n > after)[: limit + 1]
        found = registry.champions(session, "forecaster", names)
        lost = registry.newest(session, "forecaster", [n for n in names if n not in found])
    group_names = set(groups.values())
    rows = [
        {
            "name": n,
            "kind": "group" if n in group_names else "series",
            "series": members[n],
            "champion": champion_summary(found.get(n)),
            "challenger": champion_summary(lost.get(n)),  # without a champion: the newest that lost
        }
        for n in names
    ]
    return _page(rows, limit, "name")


def subject(settings: Settings, name: str) -> dict:
    """One subject: its series, its champion and challenger with their full backtest."""
    with read_session(settings) as session:
        found = q.resolve(session, name)
        versions = activity.latest_versions(session, "forecaster", name)
        shown = {
            alias: {
                "id": v.id,
                "architecture": v.architecture,
                "metrics": v.metrics,
                "promoted_at": v.promoted_at,
                "created_at": v.created_at.isoformat(timespec="seconds"),
            }
            for alias, v in versions.items()
        }
        series = [s.name for s in found.series]
    champion = shown.get("champion")
    metrics = (champion or {}).get("metrics") or {}
    return {
        "name": name,
        "kind": "group" if found.group is not None else "series",
        "series": series,
        "champion": champion_summary(champion),
        "backtest": metrics.get("backtest"),
        "decision": metrics.get("decision"),
        "challenger": champion_summary(shown.get("challenger")),
    }


def forecast(settings: Settings, name: str, vintage: int | None = None) -> list[dict]:
    return forecast_records(settings, name, latest_only=True, vintage=vintage)


def vintages(settings: Settings, name: str) -> list[dict]:
    return score_vintages(settings, name)


def schedules(settings: Settings) -> list[dict]:
    with read_session(settings) as session:
        rows = []
        for s in sq.all_schedules(session):
            last = sq.runs(session, s.id, limit=1)
            rows.append(
                {
                    "name": s.name,
                    "task": s.task,
                    "cron": s.cron,
                    "timezone": s.timezone,
                    "enabled": s.enabled,
                    "retries": s.retries,
                    "timeout_s": s.timeout_s,
                    "params": s.params,
                    "last_date": last[0].logical_date if last else None,
                    "last_status": last[0].status if last else None,
                }
            )
        state = sq.scheduler_state(session)
    return [r | {"scheduler": state["state"]} for r in rows]


def runs(
    settings: Settings,
    schedule: str | None = None,
    failed: bool = False,
    before: int | None = None,
    limit: int = 100,
) -> Page:
    """The ledger, newest first (only failures with `failed`)."""
    with read_session(settings) as session:
        rows = sq.history(session, schedule, limit + 1, before, tuple(FAILED) if failed else ())
    return _page(rows, limit, "id")


def corpora(settings: Settings) -> list[dict]:
    """Every corpus and its text generator's champion (None before one is trained)."""
    from pipelines.catalog import list_corpora

    rows = list_corpora(settings)
    with read_session(settings) as session:
        found = registry.champions(session, "textgen")
    for r in rows:
        c = found.get(r["name"])
        r["champion"] = (
            None if c is None else {"version": c["id"], "val_bpc": (c["metrics"] or {}).get("val_bpc")}
        )
    return rows


def samples(
    settings: Settings, corpus: str | None = None, before: int | None = None, limit: int = 100
) -> Page:
    """Stored samples, newest first."""
    with read_session(settings) as session:
        if corpus is not None:
            from db.corpus import get_corpus

            get_corpus(session, corpus)
        found = activity.recent_samples(session, corpus, limit + 1, before)
        rows = [
            {
                "id": s.id,
                "model_version": s.model_version_id,
                "prompt": s.prompt,
                "text": s.text,
                "seed": s.seed,
                "params": s.params,
                "created_at": s.created_at.isoformat(timespec="seconds"),
            }
            for s in found
        ]
    return _page(rows, limit, "id")
