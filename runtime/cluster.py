"""Where independent units of work run. `local` (the default): on this machine, one after another, as
always (several in a warm worker process of their own). `ray`: each unit is a Ray task on the cluster at
RECUR_RAY_ADDRESS (or RAY_ADDRESS, or the one `ray start` left on this machine; with none of them, a local
instance this command starts and stops, as `ray.init()` does), asking for one CPU (and one GPU when the
unit wants one and the cluster has any). A unit opens the shared store itself and writes its results in
its own transactions, so what the caller gets back is a summary.

Workers stay warm: a worker process (Ray's, or the local one) runs the next unit with TensorFlow already
imported, and is retired after WORKER_CALLS units so that memory cannot creep. A unit whose node dies is
retried on another (max_retries); one that raises is reported beside the others, not retried."""

from __future__ import annotations

import contextlib
import os
import socket
import sys
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

from core.errors import RecurError
from core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
WORKER_CALLS = 25  # units a worker process (Ray's, or the local one) runs before a fresh one replaces it
NODE_RETRIES = 2  # times a unit is rerun elsewhere when its worker or node dies
FORWARDED = ("KERAS_BACKEND", "TF_CPP_MIN_LOG_LEVEL")  # with every RECUR_* variable, into the tasks


@dataclass(frozen=True)
class Outcome:
    """One unit's result: its value, or the one-line error it failed with, and the node it ran on."""

    item: Any
    value: Any = None
    error: str | None = None
    node: str | None = None


def host_node() -> str:
    return socket.gethostname()


def this_node() -> str:
    """The node this code runs on: `ray:<ip>/<node id>` inside a Ray task, else the host name."""
    try:
        import ray

        if ray.is_initialized():
            context = ray.get_runtime_context()
            if context.get_task_id() is not None:
                return f"ray:{ray.util.get_node_ip_address()}/{context.get_node_id()[:8]}"
    except ImportError:
        pass
    return host_node()


_joined: list[str] = []  # the address this process joined
_joining = threading.Lock()  # the scheduler's threads dispatch at once; only one of them joins


def connect(settings: Settings) -> None:
    """Join the cluster once per process (again when asked for another one); a clear error when there is
    none to join."""
    with _joining:
        _connect(settings)


def _reachable(address: str) -> None:
    """Ray retries an unreachable address for many minutes: a clear error after a few seconds instead."""
    host, _, port = address.rpartition(":")
    try:
        socket.create_connection((host or "127.0.0.1", int(port)), timeout=5).close()
    except (OSError, ValueError) as exc:
        raise RecurError(
            f"--ray-address {address}: no Ray cluster answers there ({exc}); start one with "
            "`ray start --head`, or fix the address (host:port of its head)"
        ) from exc


def _nothing_to_join() -> bool:
    """No address given anywhere and no `ray start` on this machine: Ray's own `ray.init()` would start
    a local instance, and so does recur (a process merely running elsewhere on the host is not joined)."""
    from ray._common.utils import get_ray_address_file  # where `ray start` writes its address

    return not os.environ.get("RAY_ADDRESS") and not Path(get_ray_address_file(None)).exists()


def _token_of_its_own() -> None:
    """A local instance keeps Ray's token authentication, with a token of its own in this process's
    environment (its workers inherit it) rather than the ~/.ray/auth_token Ray would write: that file
    would switch on authentication for every later `ray start` on the machine, which clients given an
    address do not use unless told (RAY_AUTH_MODE=token)."""
    import secrets

    if "RAY_AUTH_MODE" not in os.environ and not Path.home().joinpath(".ray", "auth_token").exists():
        os.environ.setdefault("RAY_AUTH_TOKEN", secrets.token_hex(32))


def _connect(settings: Settings) -> None:
    import ray

    address = settings.ray_address
    if ray.is_initialized():
        if _joined == [address] or settings.ray_address is None:
            return
        ray.shutdown()
    if settings.ray_address:
        _reachable(settings.ray_address)
    elif _nothing_to_join():
        _token_of_its_own()
        if not settings.quiet:
            print(
                "--executor ray: no Ray cluster to join (no --ray-address, RECUR_RAY_ADDRESS or RAY_ADDRESS, "
                f"none started by `ray start` here): starting a local one on this machine's {os.cpu_count()} "
                "CPUs, stopped when this command ends",
                file=sys.stderr,
            )
    env = {"PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))}
    env |= {k: v for k, v in os.environ.items() if k.startswith("RECUR_") or k in FORWARDED}
    try:
        ray.init(
            address=address,
            logging_level="ERROR",
            log_to_driver=False,
            runtime_env={"env_vars": env},
            configure_logging=False,
        )
    except (ConnectionError, RuntimeError, ValueError) as exc:
        where = address or os.environ.get("RAY_ADDRESS") or "the address `ray start` left"
        raise RecurError(
            f"--executor ray: no Ray cluster at {where} ({' '.join(str(exc).split())[:200]}); start one "
            "with `ray start --head`, or give its address with --ray-address / RECUR_RAY_ADDRESS"
        ) from exc
    _joined[:] = [address]


def has_gpus(settings: Settings) -> bool:
    import ray

    connect(settings)
    return ray.cluster_resources().get("GPU", 0) > 0


def remote(fn: Callable, settings: Settings, gpu: bool = False, retries: int = NODE_RETRIES):
    """`fn` as a Ray remote function with recur's resource requests and worker lifetime."""
    import ray

    connect(settings)
    gpus = 1 if gpu and has_gpus(settings) else 0
    return ray.remote(max_calls=WORKER_CALLS, num_cpus=1, num_gpus=gpus, max_retries=retries)(fn)


_settings_of: dict[tuple, Settings] = {}


def worker_settings(environment: dict[str, str]) -> Settings:
    """The caller's settings inside a worker, kept for the worker's life so its engine stays open; units
    inside a task run locally."""
    key = tuple(sorted(environment.items()))
    if key not in _settings_of:
        _settings_of[key] = Settings.resolve(
            environment["RECUR_HOME"], environment["RECUR_DB"], executor="local", quiet=True
        )
    return _settings_of[key]


def _unit(environment: dict[str, str], fn: Callable, item) -> tuple[Any, str | None, str]:
    try:
        return fn(worker_settings(environment), item), None, this_node()
    except RecurError as exc:
        return None, str(exc), this_node()
    except Exception as exc:  # one unit's failure is reported with the others' results
        return None, f"{type(exc).__name__}: {' '.join(str(exc).split())[:300]}", this_node()
    finally:
        release_memory()


def release_memory() -> None:
    """Between units in one process: drop the finished unit's networks and Keras' global state, so that
    a process running hundreds of units stays the size of one."""
    import gc

    if "keras" in sys.modules:
        sys.modules["keras"].backend.clear_session()
    gc.collect()


def fan_out(
    settings: Settings, fn: Callable[[Settings, Any], Any], items: Iterable, gpu: bool = False
) -> list[Outcome]:
    """fn(settings, item) for every item, in order: here one after another, or as Ray tasks at once."""
    items = list(items)
    if settings.executor != "ray":
        return _fan_out_here(settings, fn, items)
    import ray

    task = remote(_unit, settings, gpu)
    refs = [task.remote(settings.environment(), fn, item) for item in items]
    out = []
    with notices_to_stderr():
        for item, ref in zip(items, refs, strict=True):
            try:
                value, error, node = ray.get(ref)
            except ray.exceptions.RayError as exc:  # its node died more often than it was retried
                said = " ".join(str(exc).split())[:200]
                value, error, node = None, f"lost on the cluster: {type(exc).__name__}: {said}", None
            out.append(Outcome(item, value, error, node))
    return out


def notices_to_stderr():
    """Ray prints the cluster's notices (a node died, a task is retried) on the driver's stdout, which is
    recur's output (--json): while waiting on the cluster they go to stderr."""
    return contextlib.redirect_stdout(sys.stderr)


def spread(settings: Settings) -> Callable | None:
    """fan_out bound to these settings when they send units to Ray; None for `local` (run them inline)."""
    if settings.executor != "ray":
        return None
    return partial(fan_out, settings)


def _fan_out_here(settings: Settings, fn: Callable, items: list) -> list[Outcome]:
    """Several units: one after another in one warm worker process, replaced after WORKER_CALLS units, so
    that TensorFlow loads once and what repeated fits leak in one process (tensorflow #43702: ~9 MB a
    unit, measured) cannot pile up. One unit runs inline, as the one-subject commands do."""
    if len(items) < 2:
        return [Outcome(item, *_unit_here(settings, fn, item)) for item in items]
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    spawn = multiprocessing.get_context("spawn")
    out = []
    # a fresh worker for each batch (not the pool's max_tasks_per_child: it hangs on 3.11, gh-115634)
    for start in range(0, len(items), WORKER_CALLS):
        batch = items[start : start + WORKER_CALLS]
        with ProcessPoolExecutor(1, mp_context=spawn) as pool:
            futures = [pool.submit(_unit, settings.environment(), fn, item) for item in batch]
            for item, future in zip(batch, futures, strict=True):
                try:
                    out.append(Outcome(item, *future.result()))
                except BrokenProcessPool as exc:  # the worker died (killed, out of memory)
                    out.append(Outcome(item, error=f"its worker process died: {exc}", node=host_node()))
    return out


def _unit_here(settings: Settings, fn: Callable, item) -> tuple[Any, str | None, str]:
    try:
        return fn(settings, item), None, host_node()
    except RecurError as exc:
        return None, str(exc), host_node()
    finally:
        release_memory()
