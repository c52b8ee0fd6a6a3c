"""Retention of model artifacts: which versions keep their bytes under a policy, what pruning the rest
would free, and the pruning. A pruned version keeps its row — its record (forecaster.scores.record_of),
sha256, lineage: forecasts and samples still name it — and `models show` says its artifact was pruned.
Never pruned: a champion, the last `keep_promotions` champions of a subject (what rollback restores), its
newest challenger (what the reports compare against), anything younger than `keep_days`, anything a
schedule names."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from core.retention import Decision, Retention, decide, summary
from core.settings import Settings
from db import forecasts as fq
from db import retention as q
from db.engine import read_session, write_session
from db.tables import Series
from forecaster.scores import record_of

PRUNE_CHUNK = 500  # ids per UPDATE (SQLite's bound on variables is far above this)


def plan(settings: Settings, policy: Retention) -> list[Decision]:
    with read_session(settings) as session:
        return decide(q.held_versions(session), policy, q.scheduled_versions(session))


def prune_models(settings: Settings, policy: Retention, dry_run: bool = False) -> dict:
    """Drop the bytes of every version the policy does not keep (decided and pruned in one write
    transaction, so a promotion cannot slip between); with `dry_run`, only say what would go."""
    if dry_run:
        decisions = plan(settings, policy)
        pruned = 0
    else:
        with write_session(settings) as session:
            decisions = decide(q.held_versions(session), policy, q.scheduled_versions(session))
            ids = [d.version.id for d in decisions if d.kept_for is None]
            pruned = sum(
                q.prune(session, ids[i : i + PRUNE_CHUNK], record_of) for i in range(0, len(ids), PRUNE_CHUNK)
            )
    out = {"policy": vars(policy), "dry_run": dry_run} | summary(decisions) | {"pruned": pruned}
    return out | {"versions": [d.row() for d in decisions if d.kept_for is None]}


def prune_vintages(settings: Settings, policy: Retention, dry_run: bool = False) -> dict:
    """Every vintage issued more than `keep_vintage_days` ago whose every actual has arrived (so its
    scores are final), except each series' latest: its scores kept on its row (`forecast score` and the
    reports read them there) and its points deleted. With `dry_run`, only count them."""
    from pipelines.vintages import vintage_scores

    before = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=policy.keep_vintage_days)
    opened = read_session if dry_run else write_session
    with opened(settings) as session:
        frozen, observed = [], {}
        old = q.old_vintages(session, before)
        stored = fq.points_of(session, [v.id for v in old])
        for vintage in old:
            sid = vintage.series_id
            if sid not in observed:
                observed[sid] = (session.get(Series, sid), fq.observations(session, sid))
            series, seen = observed[sid]
            scores = vintage_scores(stored.get(vintage.id, []), seen, vintage.origin_ts, series)
            if 0 < scores["horizon"] == scores["arrived"]:
                frozen.append((vintage, _plain(scores)))
        points = sum(s["horizon"] for _, s in frozen)
        if not dry_run:
            q.freeze(session, frozen)
    out = {"keep_vintage_days": policy.keep_vintage_days, "dry_run": dry_run}
    return out | {"vintages": len(frozen), "points": points, "forecast_ids": [v.id for v, _ in frozen]}


def _plain(scores: dict) -> dict:
    """Scores as JSON every store takes: floats and ints, NaN as null."""
    out = {}
    for k, v in scores.items():
        value = v if v is None or isinstance(v, int) else float(v)
        out[k] = None if isinstance(value, float) and not math.isfinite(value) else value
    return out
