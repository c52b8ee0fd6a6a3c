"""A forecasting subject as arrays: one or more aligned series (a group is forecast by one global model),
their time stamps and covariates, and the panels the networks read. Loading it from the store is the
pipelines' concern; everything here is pure."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from forecaster.baselines import season_for
from forecaster.windows import Panel, calendar_features


@dataclass
class Subject:
    name: str
    names: list[str]
    ids: list[int]
    ts: list[np.ndarray]
    values: list[np.ndarray]
    time_kind: str
    freq: str | None
    covariate_names: list[str]
    covariates: list[np.ndarray] | None  # per series (n, c), aligned with ts
    season: int | None = None  # stored with the series (set at ingest or train), if any


def season_of(subject: Subject, given: int = 0) -> int:
    """The seasonal period: given, else stored with the series, else the frequency's usual one."""
    return given or subject.season or season_for(subject.freq, subject.time_kind)


def truncated(subject: Subject, lengths: list[int]) -> Subject:
    """The subject cut to the first `lengths[i]` points of each series (another view of the same data)."""
    cov = (
        None
        if subject.covariates is None
        else [c[:n] for c, n in zip(subject.covariates, lengths, strict=True)]
    )
    return replace(
        subject,
        ts=[t[:n] for t, n in zip(subject.ts, lengths, strict=True)],
        values=[v[:n] for v, n in zip(subject.values, lengths, strict=True)],
        covariates=cov,
    )


def panels(subject: Subject, calendar: bool, fit_until: list[int], scalers: dict | None = None):
    """Panels for each series; covariates scaled with statistics of the points before `fit_until` (the
    training split) unless `scalers` (from a stored model) are given."""
    out, fitted = [], scalers or {}
    for i, values in enumerate(subject.values):
        cov = None
        if subject.covariates is not None:
            raw = subject.covariates[i]
            if not scalers:
                mean, std = raw[: fit_until[i]].mean(axis=0), raw[: fit_until[i]].std(axis=0)
                fitted = {"mean": mean.tolist(), "std": np.where(std > 0, std, 1.0).tolist()}
            cov = (raw - np.asarray(fitted["mean"])) / np.asarray(fitted["std"])
        cal = (
            calendar_features(subject.ts[i], subject.freq)
            if calendar and subject.time_kind == "datetime"
            else None
        )
        out.append(Panel(values, cov, cal))
    return out, fitted


def full_panels(subject: Subject, calendar: bool, scalers: dict | None) -> list[Panel]:
    """Panels over each series' whole length, covariates scaled by a stored model's `scalers`."""
    return panels(subject, calendar, [len(v) for v in subject.values], scalers or None)[0]
