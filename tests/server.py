"""`recur serve` as a real process on 127.0.0.1 for the tests: started on a free port (--port 0, the
address read from its first line), stopped with SIGTERM; and the flags a test starts Chromium with."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def headless_chromium(profile: Path) -> list[str]:
    """Flags for Chromium in a test: headless, a fresh profile, and nothing that reaches for the network
    (on a closed machine those connections fail, many at a time)."""
    return [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
    ]


class Server:
    def __init__(self, home: Path, *args: str, env: dict | None = None) -> None:
        self.args = [sys.executable, str(ROOT / "cli.py"), "--home", str(home), "serve", "--port", "0", *args]
        self.env = os.environ | {"RECUR_HOME": str(home)} | (env or {})
        self.lines: list[str] = []
        self.url = ""

    def __enter__(self) -> Server:
        self.proc = subprocess.Popen(
            self.args, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=self.env, cwd=ROOT
        )
        found = threading.Event()

        def read() -> None:
            for line in self.proc.stderr:
                self.lines.append(line)
                match = re.search(r"(http://[^/\s]+)/ \(dashboard\)", line)
                if match and not self.url:
                    self.url = match[1]
                    found.set()

        threading.Thread(target=read, daemon=True).start()
        deadline = time.monotonic() + 60
        while not found.wait(0.1):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError("recur serve did not start:\n" + "".join(self.lines))
        return self

    def __exit__(self, *exc) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()

    @property
    def output(self) -> str:
        return "".join(self.lines)
