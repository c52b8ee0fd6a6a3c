"""Forecaster configuration: one name everywhere (--lookback, config.lookback, the JSON key, the label).
Kept free of heavy imports: the CLI builds its option choices from these tuples."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace

from core.errors import InputError, check_options
from core.params import check_choices, param

ARCHITECTURES = ("rnn", "lstm", "gru", "bilstm", "bigru", "attention", "seq2seq")
AUTO = "auto"  # several candidates, the best by backtest
AUTO_CANDIDATES = ("gru", "lstm", "attention")
MODELS = (*ARCHITECTURES, AUTO)
NORMS = ("none", "batch", "layer")
SCALINGS = ("auto", "standard", "log")
LOSSES = ("mae", "mse", "pinball")
REFITS = ("full", "tune")
STATISTICAL = ("auto_ets", "auto_theta", "auto_arima", "mstl")  # forecaster.statistical's, not imported
PEERS = ("auto_ets", "auto_theta")  # the default: AutoARIMA costs ten times their CPU (bench/RESULTS.md)
SKIPS = ("seasonal", "none")
MIN_WINDOWS = 50  # training windows a default lookback leaves the longest series
MAX_BUDGET = 24 * 60  # minutes: a day
WINDOW_BUDGET = 50_000  # training windows a group spreads evenly over its series, by default


@dataclass(frozen=True)
class ForecastConfig:
    model: str = param(
        AUTO, "auto tries gru, lstm and attention and keeps the best by backtest MASE.", MODELS
    )
    lookback: int = param(0, "Input steps; 0: four horizons, at least a season and a horizon.")
    horizon: int = param(12, "Steps forecast at once.")
    layers: int = param(1, "Recurrent layers.")
    units: int = param(32, "Units per recurrent layer.")
    dropout: float = param(0.0, "Dropout layers between recurrent layers.")
    recurrent_dropout: float = param(
        0.0, "Dropout inside the recurrent cells; disables cuDNN on GPU (warns)."
    )
    norm: str = param("none", "Normalisation between recurrent layers.", NORMS)
    epochs: int = param(100, "Upper bound; early stopping decides.")
    batch_size: int = param(0, "0: 64, growing with the training windows up to 512.")
    learning_rate: float = param(1e-3, "Adam's learning rate.")
    patience: int = param(10, "Epochs without a better validation loss before training stops.")
    seed: int = param(0, "Seed of the weights and the shuffling.")
    season: int = param(0, "Seasonal period for baselines and MASE; 0: from the frequency.")
    calendar: bool = param(True, "Calendar features from the time stamps.")
    covariates: tuple[str, ...] = param(
        help="Comma-separated series, or 'group' for the target's group mates.", factory=tuple
    )
    validation: float = param(0.2, internal=True)
    skip: str = param(
        "seasonal",
        "Add the seasonal-naive forecast of the input to the output: the network learns corrections.",
        SKIPS,
    )
    scaling: str = param(
        "auto",
        "Window normalisation: log (relative to the last value; positive series), standard (mean and "
        "spread); auto: log where every value is positive.",
        SCALINGS,
    )
    loss: str = param(
        "mae",
        "Training loss; pinball: quantile heads (0.1 ... 0.9) trained by the pinball loss, the median issued "
        "and the intervals their 80% band, conformalised on the backtest.",
        LOSSES,
    )
    history: int = param(
        0, "Latest training windows per series; 0: an even share of 50,000 (at least 10 horizons)."
    )
    ensemble: int = param(1, "Networks from consecutive seeds; median.")
    peers: tuple[str, ...] = param(
        help="Statistical methods backtested beside the baselines (auto_ets, auto_theta, auto_arima, mstl; "
        "'none' for none): the network must beat them, and a combination of it with them is tried.",
        factory=lambda: PEERS,
    )
    refit: str = param(
        "tune",
        "The issued model: the backtest's networks tuned on all the data, or fresh ones trained on it.",
        REFITS,
    )

    def __post_init__(self) -> None:
        check_choices(self)
        peers = () if self.peers in (("none",), ("",)) else tuple(self.peers)
        unknown = [p for p in peers if p not in STATISTICAL]
        if unknown:
            raise InputError(f"--peers {','.join(unknown)}: choose from {', '.join(STATISTICAL)}, or none")
        object.__setattr__(self, "peers", peers)
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
            (
                "--loss",
                self.loss,
                self.loss != "pinball" or self.model != "seq2seq",
                "mae or mse for seq2seq",
            ),
        ]
        check_options(checks)

    def resolved(self, season: int, series: list, windows: int, stride: int) -> ForecastConfig:
        """The concrete settings for this data: the season; where no lookback was given, four horizons (at
        least a season and a horizon), shortened towards a season and a horizon so that the longest series
        keeps MIN_WINDOWS training windows before its backtest, and below that where the longest series
        would otherwise hold no training window and backtest window at all; log scaling where every value
        is positive; an even share of the window budget per series."""
        import numpy as np

        lookback = self.lookback
        if not lookback:
            longest = max(len(v) for v in series)
            cutoff = longest - self.horizon - (windows - 1) * stride
            room = cutoff - self.horizon - MIN_WINDOWS + 1
            usual = max(4 * self.horizon, season + self.horizon)
            fits = longest - 2 * self.horizon  # one training window and one backtest window
            lookback = max(2, min(usual, max(room, season + self.horizon), fits))
        positive = all(np.min(v) > 0 for v in series)
        scaling = self.scaling
        if scaling == "auto":
            scaling = "log" if positive else "standard"
        elif scaling == "log" and not positive:
            raise InputError("--scaling log needs every value to be positive; use --scaling standard")
        history = self.history or max(10 * self.horizon, -(-WINDOW_BUDGET // len(series)))
        return replace(self, season=season, lookback=lookback, scaling=scaling, history=history)

    @property
    def searching(self) -> bool:
        """Whether several candidates are tried (auto), not one architecture."""
        return self.model == AUTO

    def candidates(self) -> tuple[str, ...]:
        """The architectures the backtest tries: auto's, or the one asked for."""
        return AUTO_CANDIDATES if self.searching else (self.model,)

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
        return asdict(self) | {"covariates": list(self.covariates), "peers": list(self.peers)}

    @classmethod
    def from_json(cls, data: dict) -> ForecastConfig:
        known = {k: v for k, v in data.items() if k in cls.__dataclass_fields__}
        # a version stored before the peers existed was compared with the simple baselines alone
        return cls(
            **known | {"covariates": tuple(data.get("covariates", ())), "peers": tuple(data.get("peers", ()))}
        )


GATE_METRICS = ("mase", "smape", "crps")
GATE_OPTIONS = ("confidence", "metric")  # how the gate decides, beside where the windows are


@dataclass(frozen=True)
class BacktestConfig:
    """Where the backtest puts its windows, and how sure the gate must be."""

    windows: int = param(5, "Backtest windows per series (at most).")
    stride: int = param(0, "Steps between backtest origins; 0: the horizon.")
    confidence: float = param(
        0.9,
        "The gate: lower MASE than the best baseline and the champion in at least this share of bootstrap "
        "resamples of the backtest (0: any improvement).",
    )
    budget: float = param(
        6.0,
        "Minutes the backtest may spend training networks; with auto, candidates that trail are stopped "
        "early (successive halving). 0: no limit.",
    )
    metric: str = param(
        "mase",
        "What the gate and each series' choice compare: MASE, sMAPE, or CRPS (each method's backtest "
        "quantiles, scaled as MASE is).",
        choices=GATE_METRICS,
    )

    def __post_init__(self) -> None:
        check_options(
            [
                ("--windows", self.windows, self.windows >= 1, "at least 1"),
                ("--stride", self.stride, self.stride >= 0, "0 (the horizon) or more"),
                ("--confidence", self.confidence, 0 <= self.confidence < 1, "in [0, 1)"),
                ("--budget", self.budget, 0 <= self.budget <= MAX_BUDGET, f"in [0, {MAX_BUDGET}] minutes"),
            ]
        )
        check_choices(self)
