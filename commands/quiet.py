"""TensorFlow's start-up chatter (absl/oneDNN/"Could not find cuda drivers" lines written by its C++
libraries straight to file descriptor 2, which no environment variable silences any more) kept off the
screen: while the `tensorflow` package is first imported, descriptor 2 points at /dev/null. Its Python
warnings (tf.function retracing and the like) are lowered to errors. `recur --verbose` shows everything."""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import logging
import os
import sys
from contextlib import contextmanager


@contextmanager
def _stderr_silenced():
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with open(os.devnull, "w") as null:
            os.dup2(null.fileno(), 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, real: importlib.abc.Loader) -> None:
        self.real = real

    def create_module(self, spec):
        return self.real.create_module(spec)

    def exec_module(self, module) -> None:
        with _stderr_silenced():
            self.real.exec_module(module)
        for name in ("tensorflow", "absl"):
            logging.getLogger(name).setLevel(logging.ERROR)


class _QuietFinder(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path, target=None):
        if name != "tensorflow":
            return None
        sys.meta_path.remove(self)
        spec = importlib.machinery.PathFinder.find_spec(name, path)
        if spec is not None and spec.loader is not None:
            spec.loader = _QuietLoader(spec.loader)
        return spec


def quiet_tensorflow() -> None:
    """Install the hook once, before anything imports TensorFlow."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietFinder())
