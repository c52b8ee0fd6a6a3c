"""Forecaster configuration: one name everywhere (--lookback, config.lookback, the JSON key, the label).
Kept free of heavy imports: the CLI builds its option choices from these tuples."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

from core.errors import InputError, check_options

ARCHITECTURES = ("rnn", "lstm", "gru", "bilstm", "bigru", "attention", "seq2seq")
NORMS = ("none", "batch", "layer")
SCALINGS = ("auto", "standard", "log")
LOSSES = ("mae", "mse")
REFITS = ("full", "tune")
MIN_WINDOWS = 50  # training windows a default lookback leaves the longest series
WINDOW_BUDGET = 50_000  # training windows a group spreads evenly over its series, by default


@dataclass(frozen=True)
class ForecastConfig:
    model: str = "lstm"
    lookback: int = 0  # 0: from the season and the horizon (see `resolved`)
    horizon: int = 12
    layers: int = 1
    units: int = 32
    dropout: float = 0.0
    recurrent_dropout: float = 0.0
    norm: str = "none"
    epochs: int = 100
    batch_size: int = 0  # 0: from the number of training windows (see `batch_for`)
    learning_rate: float = 1e-3
    patience: int = 10
    seed: int = 0
    season: int = 0  # 0: from the frequency
    calendar: bool = True
    covariates: tuple[str, ...] = field(default_factory=tuple)
    validation: float = 0.2
    skip: str = "seasonal"  # add the seasonal-naive forecast to the output: the net learns corrections
    scaling: str = "auto"  # standard: each window's mean and spread; log: log scale, relative to the level
    loss: str = "mae"
    history: int = 0  # training windows per series, the latest; 0: an even share of WINDOW_BUDGET
    ensemble: int = 1  # networks from consecutive seeds; the forecast is their median
    refit: str = "tune"  # the issued model: the backtest networks tuned on all the data, or fresh ones

    def __post_init__(self) -> None:
        if self.model not in ARCHITECTURES:
            raise InputError(
                f"unknown model {self.model!r}; choose one of: {', '.join((*ARCHITECTURES, 'auto'))}"
            )
        if self.skip not in ("seasonal", "none"):
            raise InputError(f"--skip {self.skip!r}: choose seasonal or none")
        if self.scaling not in SCALINGS:
            raise InputError(f"--scaling {self.scaling!r}: choose one of {', '.join(SCALINGS)}")
        if self.refit not in REFITS:
            raise InputError(f"--refit {self.refit!r}: choose one of {', '.join(REFITS)}")
        if self.loss not in LOSSES:
            raise InputError(f"--loss {self.loss!r}: choose one of {', '.join(LOSSES)}")
        if self.norm not in NORMS:
            raise InputError(f"--norm {self.norm!r}: choose one of {', '.join(NORMS)}")
        checks = [
            ("--horizon", self.horizon, self.horizon >= 1, "at least 1"),
            ("--lookback", self.lookback, self.lookback == 0 or self.lookback >= 2, "0 (auto) or at least 2"),
            ("--history", self.history, self.history >= 0, "0 (auto) or more"),
            ("--ensemble", self.ensemble, 1 <= self.ensemble <= 20, "in [1, 20]"),
            ("--season", self.season, self.season >= 0, "0 (from the frequency) or more"),
            ("--layers", self.layers, self.layers >= 1, "at least 1"),
            ("--units", self.units, self.units >= 1, "at least 1"),
            ("--epochs", self.epochs, self.epochs >= 1, "at least 1"),
            ("--batch-size", self.batch_size, self.batch_size >= 0, "0 (auto) or more"),
            ("--dropout", self.dropout, 0 <= self.dropout < 1, "in [0, 1)"),
            ("--recurrent-dropout", self.recurrent_dropout, 0 <= self.recurrent_dropout < 1, "in [0, 1)"),
            ("--validation", self.validation, 0 < self.validation < 0.5, "in (0, 0.5)"),
        ]
        check_options(checks)

    def resolved(self, season: int, series: list, windows: int, stride: int) -> ForecastConfig:
        """The concrete settings for this data: the season; where no lookback was given, four horizons (at
        least a season and a horizon), shortened towards a season and a horizon so that the longest series
        keeps MIN_WINDOWS training windows before its backtest; log scaling where every value is positive;
        an even share of the window budget per series."""
        import numpy as np

        lookback = self.lookback
        if not lookback:
            cutoff = max(len(v) for v in series) - self.horizon - (windows - 1) * stride
            room = cutoff - self.horizon - MIN_WINDOWS + 1
            usual = max(4 * self.horizon, season + self.horizon)
            lookback = max(2, min(usual, max(room, season + self.horizon)))
        positive = all(np.min(v) > 0 for v in series)
        scaling = self.scaling
        if scaling == "auto":
            scaling = "log" if positive else "standard"
        elif scaling == "log" and not positive:
            raise InputError("--scaling log needs every value to be positive; use --scaling standard")
        history = self.history or max(10 * self.horizon, -(-WINDOW_BUDGET // len(series)))
        return replace(self, season=season, lookback=lookback, scaling=scaling, history=history)

    def short_lookback(self) -> int:
        """The other lookback `--model auto` tries when none was given: one horizon, at least a season.
        Slow-moving series (ETTh1's oil temperature) forecast better from a short past; M4's weekly
        series from four horizons: the backtest decides."""
        return max(self.horizon, self.season, 2)

    def batch_for(self, windows: int) -> ForecastConfig:
        """A batch of 64 for small data, growing with the training windows (about 128 steps an epoch) up
        to 512: many series train in minutes, not hours, on two cores."""
        return replace(self, batch_size=self.batch_size or min(max(windows // 128, 64), 512))

    def to_json(self) -> dict:
        return asdict(self) | {"covariates": list(self.covariates)}

    @classmethod
    def from_json(cls, data: dict) -> ForecastConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        return cls(**known | {"covariates": tuple(data.get("covariates", ()))})
