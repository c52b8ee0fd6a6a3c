"""Retention of model artifacts: which versions keep their bytes under a policy, what pruning the rest
would free, and the pruning. A pruned version keeps its row — metrics, sha256, lineage: forecasts and
samples still name it — and `models show` says its artifact was pruned. Never pruned: a champion, the
last `keep_promotions` champions of a subject (what rollback restores), its newest challenger (what the
reports compare against), anything younger than `keep_days`, anything a schedule names."""

from __future__ import annotations

from core.retention import Decision, Retention, decide, summary
from core.settings import Settings
from db import retention as q
from db.engine import read_session, write_session

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
            pruned = sum(q.prune(session, ids[i : i + PRUNE_CHUNK]) for i in range(0, len(ids), PRUNE_CHUNK))
    out = {"policy": vars(policy), "dry_run": dry_run} | summary(decisions) | {"pruned": pruned}
    return out | {"versions": [d.row() for d in decisions if d.kept_for is None]}
