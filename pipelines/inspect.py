"""Looking inside a champion, for the reports: where an attention forecaster looks, and what a text
generator writes at several temperatures. Reports draw these; they compute nothing themselves."""

from __future__ import annotations

import numpy as np

from core.settings import Settings
from forecaster.config import ForecastConfig
from forecaster.evaluate import floors_for
from forecaster.subject import full_panels
from forecaster.windows import make_windows
from pipelines.sampling import load
from textgen.sampler import SamplingParams, generate


def attention_weights(settings: Settings, name: str, windows: int = 50) -> np.ndarray:
    """The attention champion's weights over its lookback for the latest `windows` inputs of each series:
    (windows, lookback)."""
    from nn.layers import attention_weights_model
    from pipelines import forecast_data as fd
    from runtime.artifacts import load_champion

    v = load_champion(settings, "forecaster", name)
    cfg = ForecastConfig.from_json(v.config)
    subject = fd.load(settings, name, cfg.covariates)
    lengths = [len(x) for x in subject.values]
    panels = full_panels(subject, cfg.calendar, v.config.get("scalers"))
    floors = np.asarray(v.config.get("floors") or floors_for(panels, lengths))
    starts = [np.arange(max(len(p) - cfg.lookback - windows, 0), len(p) - cfg.lookback + 1) for p in panels]
    w = make_windows(panels, cfg, starts, floors, with_target=False)
    return np.asarray(attention_weights_model(v.model).predict(w.x, verbose=0))


def samples_at_temperatures(
    settings: Settings, corpus: str, temperatures=(0.5, 0.8, 1.0), length: int = 160, seed: int = 0
) -> list[dict]:
    """The corpus champion's text from a new line at each temperature, with the same seed."""
    loaded = load(settings, corpus, None)
    start = loaded.vocab.prompt_ids("\n", "skip")
    out = []
    for t in temperatures:
        ids = [int(i[0]) for i in generate(loaded.model, start, length, 1, SamplingParams(t), seed)]
        out.append({"temperature": t, "sample": loaded.vocab.decode(ids)})
    return out
