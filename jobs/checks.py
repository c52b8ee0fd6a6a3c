"""A schedule's parameters checked when it is added, with the messages its task would give later."""

from __future__ import annotations

import re
from pathlib import Path

from core.errors import InputError
from core.settings import Settings
from jobs.tasks import TASKS, Task, plain


def validate(settings: Settings, task: str, params: dict) -> dict:
    """Check a task's parameters now, with the same messages the task would give later."""
    if task not in TASKS:
        raise InputError(f"unknown task {task!r}; tasks: {', '.join(TASKS)}")
    spec = TASKS[task]
    allowed = set(spec.required) | set(spec.optional)
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise InputError(
            f"task {task!r} takes no parameter {unknown[0]!r}; it takes: {', '.join(sorted(allowed))}"
        )
    missing = [k for k in spec.required if k not in params]
    if missing:
        raise InputError(f"task {task!r} needs --param {missing[0]}=...")
    for key, p in (spec.optional | plain(seconds=float)).items():
        if key in params:
            p.parse(str(params[key]))
    if spec.build is not None:
        try:
            spec.build(params)
        except InputError as exc:  # the configuration names its CLI options; here they are --param keys
            message = re.sub(
                r"^--(?!param )([a-z-]+) ", lambda m: f"--param {m[1].replace('-', '_')}=", str(exc)
            )
            raise InputError(message) from exc
    _check_subjects(settings, spec, params)
    if task == "classify" and bool(params.get("series")) == bool(params.get("file")):
        raise InputError("task 'classify' needs one of --param series=NAME or --param file=PATH")
    if task == "classify" and params.get("series"):
        from db import series as q
        from db.engine import read_session

        with read_session(settings) as session:
            q.resolve(session, params["series"])
    if task in ("ingest", "nightly") and params.get("path") and not Path(params["path"]).exists():
        raise InputError(f"--param path={params['path']!r}: no such file or folder")
    return params


def _check_subjects(settings: Settings, spec: Task, params: dict) -> None:
    from db import corpus as cq
    from db import labels as lq
    from db import series as q
    from db.engine import read_session

    with read_session(settings) as session:
        for key in spec.subjects:
            if key == "corpus":
                cq.get_corpus(session, params[key])
            elif key == "labels":
                lq.get_set(session, params[key])
            elif not (spec is TASKS["nightly"] and params.get("path")):
                q.resolve(session, params[key])


def parse_params(pairs: tuple[str, ...]) -> dict:
    out = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputError(f"--param {pair!r}: write key=value")
        out[key.strip().replace("-", "_")] = value
    return out
