"""A real Ray cluster on 127.0.0.1 for the tests: every node is a `ray start --block` process group of
its own, so that a test can kill one the way a host dies (SIGKILL to all its processes at once)."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RAY = Path(sys.executable).with_name("ray")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    def __init__(self, head_cpus: int = 1) -> None:
        self.tmp = Path(tempfile.mkdtemp(prefix="/tmp/ray"))  # short: Ray's socket paths are bounded
        self.address = f"127.0.0.1:{free_port()}"
        self.nodes: dict[str, subprocess.Popen] = {}
        port = self.address.rsplit(":", 1)[1]
        head = ["--head", f"--port={port}", "--include-dashboard=false", f"--temp-dir={self.tmp}"]
        self._start("head", [*head, f"--num-cpus={head_cpus}"])

    def _start(self, name: str, args: list[str]) -> None:
        command = [str(RAY), "start", "--block", "--node-ip-address=127.0.0.1", "--disable-usage-stats"]
        self.nodes[name] = subprocess.Popen(
            [*command, *args],
            start_new_session=True,
            stdout=subprocess.DEVNULL,
            stderr=open(self.tmp / f"{name}.log", "w"),  # noqa: SIM115 - the node's process keeps it
        )
        self.wait_for(lambda: self._node_id(name) in self.alive(), f"node {name} to join")

    def add_node(self, name: str, cpus: int = 1) -> None:
        self._start(name, [f"--address={self.address}", f"--num-cpus={cpus}"])

    def kill(self, name: str) -> None:
        """The node's host dies: every process of it killed at once, with no chance to clean up."""
        os.killpg(self.nodes.pop(name).pid, signal.SIGKILL)

    def raylets(self) -> dict[int, str]:
        """process group -> the node id its raylet runs"""
        ps = subprocess.run(["ps", "-ww", "-eo", "pgid,args"], capture_output=True, text=True).stdout
        found = {}
        for line in ps.splitlines():
            if "raylet/raylet " in line and "--node_id=" in line:
                found[int(line.split()[0])] = line.split("--node_id=")[1].split()[0]
        return found

    def _node_id(self, name: str) -> str | None:
        return self.raylets().get(self.nodes[name].pid)

    def node_of(self, node_id_prefix: str) -> str:
        """The name of the node whose Ray node id starts with this (recur's `node` column shows it)."""
        for name in self.nodes:
            if (self._node_id(name) or "").startswith(node_id_prefix):
                return name
        raise AssertionError(f"no node {node_id_prefix}")

    def alive(self) -> list[str]:
        import ray

        self.join()
        return [n["NodeID"] for n in ray.nodes() if n["Alive"]]

    def join(self) -> None:
        from core.settings import Settings
        from runtime.cluster import connect

        connect(Settings.resolve(self.tmp, "sqlite://", executor="ray", ray_address=self.address))

    def wait_for(self, predicate, what: str, timeout: float = 240.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                if predicate():
                    return
            except Exception:  # the head still starting: not yet reachable
                pass
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {what}")

    def stop(self) -> None:
        """Every node killed at once, as `kill` kills one: `ray start --block` given SIGTERM takes 30 s to
        stop its node gracefully, and nothing of a test's cluster outlives it (its directory goes too)."""
        import ray

        ray.shutdown()
        for process in self.nodes.values():
            os.killpg(process.pid, signal.SIGKILL)
        for process in self.nodes.values():
            process.wait(timeout=20)
        subprocess.run(["pkill", "-9", "-f", str(self.tmp)], check=False)  # any worker that got away
        shutil.rmtree(self.tmp, ignore_errors=True)
