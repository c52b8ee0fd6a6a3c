"""Retention as policy: how much of the registry's history keeps its artifact bytes. Defined once; the
options of `models prune` and `db info`, the `maintenance` task's parameters and the README's table are
derived from it, and RECUR_RETENTION_<FIELD> sets a store's standing policy."""

from __future__ import annotations

import os
from collections import defaultdict
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta

from core.errors import InputError
from core.params import param

BOUNDS = {"keep_promotions": (2, 1000), "keep_days": (0, 36500), "keep_vintage_days": (1, 36500)}
VINTAGE_FIELDS = ("keep_vintage_days",)  # `forecast prune`'s; the others are `models prune`'s


@dataclass(frozen=True)
class Retention:
    keep_promotions: int = param(
        3,
        "Per subject, the artifacts of the last N champions, the current one included (2 at least: a "
        "rollback needs the one before).",
    )
    keep_days: int = param(14, "Every version younger than this many days keeps its artifact.")
    keep_vintage_days: int = param(
        90,
        "A forecast issued longer ago than this, every actual of which has arrived, keeps its scores and "
        "loses its points (each series' latest forecast stays whole).",
    )

    def __post_init__(self) -> None:
        for name, (low, high) in BOUNDS.items():
            value = getattr(self, name)
            if not low <= value <= high:
                option = "--" + name.replace("_", "-")
                variable = f"RECUR_RETENTION_{name.upper()}"
                raise InputError(f"{option} (or {variable}) {value}: must be from {low} to {high}")

    @classmethod
    def resolve(cls, **options) -> Retention:
        """Options win over RECUR_RETENTION_KEEP_PROMOTIONS / RECUR_RETENTION_KEEP_DAYS, which win over
        the defaults."""
        values = {}
        for f in fields(cls):
            variable = f"RECUR_RETENTION_{f.name.upper()}"
            raw = os.environ.get(variable)
            if raw is not None:
                if not raw.strip().isdigit():
                    raise InputError(f"{variable}={raw!r}: must be a whole number")
                values[f.name] = int(raw)
        return replace(cls(**values), **{k: v for k, v in options.items() if v is not None})


@dataclass(frozen=True)
class Held:
    """A version that still holds artifact bytes: what retention decides on."""

    id: int
    kind: str
    subject: str
    alias: str
    created_at: datetime
    promoted_at: datetime | None
    bytes: int


def named_versions(params: list[dict | None]) -> set[int]:
    values = (str((p or {}).get("version", "")) for p in params)
    return {int(v) for v in values if v.isdigit()}


@dataclass(frozen=True)
class Decision:
    version: Held
    kept_for: str | None  # None: its bytes may go

    def row(self) -> dict:
        v = self.version
        return {
            "id": v.id,
            "kind": v.kind,
            "subject": v.subject,
            "alias": v.alias,
            "created": v.created_at.isoformat(sep=" ", timespec="seconds"),
            "bytes": v.bytes,
            "kept_for": self.kept_for or "",
        }


def decide(held: list[Held], policy: Retention, scheduled: set[int]) -> list[Decision]:
    """Each ready version and why it keeps its bytes (or None)."""
    young = datetime.now(UTC).replace(tzinfo=None) - timedelta(days=policy.keep_days)
    promoted: dict[tuple[str, str], list[Held]] = defaultdict(list)
    for v in held:
        if v.promoted_at is not None:
            promoted[(v.kind, v.subject)].append(v)
    recent = {
        v.id
        for versions in promoted.values()
        for v in sorted(versions, key=lambda v: v.promoted_at, reverse=True)[: policy.keep_promotions]
    }
    newest_challenger: dict[tuple[str, str], int] = {}
    for v in held:  # newest first
        if v.alias == "challenger":
            newest_challenger.setdefault((v.kind, v.subject), v.id)
    challengers = set(newest_challenger.values())

    def reason(v: Held) -> str | None:
        if v.alias == "champion":
            return "champion"
        if v.id in recent:
            return "recent champion"
        if v.id in challengers:
            return "newest challenger"
        if v.created_at > young:
            return f"younger than {policy.keep_days} days"
        if v.id in scheduled:
            return "named by a schedule"
        return None

    return [Decision(v, reason(v)) for v in held]


def summary(decisions: list[Decision]) -> dict:
    gone = [d.version for d in decisions if d.kept_for is None]
    return {
        "versions_with_artifacts": len(decisions),
        "prunable": len(gone),
        "prunable_bytes": sum(v.bytes for v in gone),
        "kept_bytes": sum(d.version.bytes for d in decisions if d.kept_for is not None),
    }
