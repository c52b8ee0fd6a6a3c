"""`recur serve` under load: characters per second in all and the latency of the first character at 1, 8
and 64 concurrent streams, against the reference of one `recur textgen sample` process per request, side
by side in one run; and the bare NumPy sampler's chars/s for the same number of streams in one batch
(what the service's step loop could reach with no HTTP and no bookkeeping).

    python bench/serve.py [--length 400] [--levels 1,8,64] [--repeat 3]

The model has `--preset cpu`'s shape (a 2-layer GRU of 256 units, 65 characters), trained briefly: speed
does not depend on how well it writes. Each request asks for --length characters with its own seed, no
prompt, temperature 0.8, streamed (`stream: true`, server-sent events read as they arrive; for the
reference, the process's stdout). The service's clients are coroutines in this one process, each on a
connection of its own (a minimal HTTP/1.1 client: no library's overhead in the latency); at each level
the same number of requests is sent (`--requests`, at least the level), `level` at a time, `--repeat`
times (3), each run followed at once by one of the bare sampler (the machine's speed drifts over minutes):
each side's chars/s is its best run, and the service's first-character latencies are those of every
request of every run.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CORPUS = ROOT / "data" / "tinyshakespeare.txt"
# After a bare run, its BLAS threads spin on a core for a while before they sleep (OpenBLAS waits about
# 0.1 s): the next service run would share the two cores with them (first characters at 64 streams took
# 95 ms instead of 30-45 in such runs).
BLAS_IDLE_S = 0.5
RECUR = [sys.executable, str(ROOT / "cli.py")]


def build(home: Path) -> None:
    env = {"RECUR_HOME": str(home)}
    run = lambda *a: subprocess.run([*RECUR, *a], check=True, capture_output=True, env=_env(env))  # noqa: E731
    run("corpus", "ingest", str(CORPUS), "--name", "shakespeare")
    run("textgen", "train", "shakespeare", "--preset", "cpu", "--epochs", "1", "--time-limit", "60")


def _env(extra: dict) -> dict:
    import os

    return os.environ | extra


async def one_request(url: str, seed: int, length: int) -> tuple[float, float, int]:
    """(seconds to the first character, seconds in all, characters) of one streamed completion, on a new
    connection, the request sent in one write and the chunked answer read as it arrives. (httpx's async
    client adds ~35 ms before the first character here on its own, measured against this client.)"""
    host, port = url.removeprefix("http://").split(":")
    body = json.dumps(
        {"model": "shakespeare", "max_tokens": length, "seed": seed, "temperature": 0.8, "stream": True}
    ).encode()
    head = (
        f"POST /v1/completions HTTP/1.1\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
    )
    started, first, chars = time.perf_counter(), None, 0
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(head.encode() + body)
    status = await reader.readline()
    assert b" 200 " in status, status
    while (await reader.readline()).strip():  # the headers
        pass
    buffer = ""
    while size := int((await reader.readline()).strip() or b"0", 16):  # chunked: size, data, CRLF
        buffer += (await reader.readexactly(size)).decode()
        await reader.readline()
        while "\n\n" in buffer:
            event, buffer = buffer.split("\n\n", 1)
            if not event.startswith("data: {"):
                continue
            for choice in json.loads(event[6:]).get("choices", []):
                if choice["text"] and first is None:
                    first = time.perf_counter() - started
                chars += len(choice["text"])
    writer.close()
    return first, time.perf_counter() - started, chars


async def service_level(url: str, level: int, requests: int, length: int) -> dict:
    gate = asyncio.Semaphore(level)

    async def gated(seed: int):
        async with gate:
            return await one_request(url, seed, length)

    started = time.perf_counter()
    done = await asyncio.gather(*(gated(1000 + i) for i in range(requests)))
    return summary(done, time.perf_counter() - started)


def reference_level(home: Path, level: int, requests: int, length: int) -> dict:
    """`requests` sample processes, `level` at a time, each streaming to a pipe read as it comes."""
    import selectors

    args = ["--home", str(home), "textgen", "sample", "shakespeare", "--length", str(length)]
    pending, running, done = list(range(requests)), {}, []
    selector = selectors.DefaultSelector()
    started = time.perf_counter()
    while pending or running:
        while pending and len(running) < level:
            seed = 1000 + pending.pop(0)
            proc = subprocess.Popen(
                [*RECUR, *args, "--seed", str(seed), "--temperature", "0.8"],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            running[proc.stdout] = [proc, time.perf_counter(), None, 0]
            selector.register(proc.stdout, selectors.EVENT_READ)
        for key, _ in selector.select(timeout=1):
            entry = running[key.fileobj]
            data = key.fileobj.read1(65536)
            if data:
                if entry[2] is None:
                    entry[2] = time.perf_counter() - entry[1]
                entry[3] += len(data.decode("utf-8", "replace"))
                continue
            selector.unregister(key.fileobj)
            entry[0].wait()
            done.append((entry[2], time.perf_counter() - entry[1], min(entry[3], length)))
            del running[key.fileobj]
    return summary(done, time.perf_counter() - started)


def bare_level(loaded, level: int, length: int) -> float:
    """The bare NumPy sampler here (on the generator `load` gave), `level` streams as one batch, no
    service: chars/s."""
    import numpy as np

    from textgen.sampler import SamplingParams, generate

    prompt = loaded.vocab.prompt_ids("\n")
    started = time.perf_counter()
    for _ in generate(loaded.model, np.asarray(prompt), length, level, SamplingParams(0.8), 0):
        pass
    return level * length / (time.perf_counter() - started)


def best_of(runs: list[dict]) -> dict:
    """The best chars/s of repeated runs (as the bare sampler's is its best), the first-character latencies
    of all of them together."""
    firsts = sorted(f for r in runs for f in r["firsts"])
    best = max(runs, key=lambda r: r["chars_per_s"])
    return best | _latency(firsts)


def _latency(firsts: list[float]) -> dict:
    q = lambda p: firsts[min(len(firsts) - 1, round(p * (len(firsts) - 1)))] * 1000  # noqa: E731
    return {"first_p50_ms": statistics.median(firsts) * 1000, "first_p99_ms": q(0.99), "firsts": firsts}


def summary(done: list[tuple], wall: float) -> dict:
    firsts = sorted(d[0] for d in done if d[0] is not None)
    return {"chars_per_s": sum(d[2] for d in done) / wall, "requests": len(done), "wall_s": wall} | _latency(
        firsts
    )


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--length", type=int, default=400)
    parser.add_argument("--levels", default="1,8,64")
    parser.add_argument(
        "--requests", type=int, default=64, help="requests at each level (at least the level)"
    )
    parser.add_argument(
        "--repeat", type=int, default=3, help="service runs at each level: the best chars/s, all latencies"
    )
    args = parser.parse_args()
    from tests.server import Server

    with tempfile.TemporaryDirectory() as tmp:
        home = Path(tmp) / "home"
        print("training a --preset cpu shaped generator for a minute ...", flush=True)
        build(home)
        rows, bare = [], {}
        from core.settings import Settings
        from pipelines.sampling import load

        loaded = load(Settings.resolve(home), "shakespeare", None)
        with Server(home) as server:
            asyncio.run(service_level(server.url, 1, 2, 50))  # load the model once before timing
            for level in map(int, args.levels.split(",")):
                requests = max(level, args.requests if level > 1 else min(args.requests, 16))
                runs, bares = [], []
                for _ in range(args.repeat):  # each run beside a bare one, at the same moment
                    runs.append(asyncio.run(service_level(server.url, level, requests, args.length)))
                    bares.append(bare_level(loaded, level, args.length))
                    time.sleep(BLAS_IDLE_S)
                rows.append((level, best_of(runs), None))
                bare[level] = max(bares)
        for i, (level, served, _) in enumerate(rows):
            rows[i] = (level, served, reference_level(home, level, served["requests"], args.length))
    print(f"\n{args.length} characters a request, temperature 0.8; chars/s over all requests at each level")
    print(
        "| streams | requests | service chars/s | first char p50 / p99 | one process per request: chars/s |"
        " first char p50 / p99 | throughput ratio | bare sampler chars/s | service / bare |"
    )
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for level, s, r in rows:
        print(
            f"| {level} | {s['requests']} | {s['chars_per_s']:,.0f} | {s['first_p50_ms']:,.0f} / "
            f"{s['first_p99_ms']:,.0f} ms | {r['chars_per_s']:,.0f} | {r['first_p50_ms']:,.0f} / "
            f"{r['first_p99_ms']:,.0f} ms | {s['chars_per_s'] / r['chars_per_s']:.1f}× | "
            f"{bare[level]:,.0f} | {s['chars_per_s'] / bare[level]:.0%} |"
        )


if __name__ == "__main__":
    main()
