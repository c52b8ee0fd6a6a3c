"""Text generator settings tried side by side on one accelerator: each candidate (the `gpu` preset with some
options changed, as `recur textgen train --preset gpu --units ...` would) trains through the pipeline for
the same time budget, all at once, one process each. Sharing the card makes every candidate slower than
it would be alone, so a loss reached here is reached sooner alone.

    KERAS_BACKEND=jax python bench/gpu_sweep.py --minutes 5 --out DIR [--only NAME ...]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

LONG = {"patience": 1000}  # the budget decides; the best epoch's weights are kept
CANDIDATES = {
    "preset": {},
    "preset-budget": LONG,
    "wide": LONG | {"units": 1024, "dropout": 0.5, "seq_len": 256, "batch_size": 128},
    "deep": LONG | {"layers": 4, "units": 768, "dropout": 0.5, "seq_len": 256, "batch_size": 128},
    "dropout-0.5": LONG | {"dropout": 0.5},
    "768-slow": LONG | {"units": 768, "dropout": 0.5, "learning_rate": 1e-3},
}


def run_one(name: str, minutes: float, preset_name: str, device: str) -> dict:
    from bench.gpu import textgen_gpu
    from runtime.device import share_the_card

    share_the_card()
    home = Path(tempfile.mkdtemp(prefix=f"recur-sweep-{name}-"))
    out = textgen_gpu(home, minutes, device, preset_name, CANDIDATES[name])
    return {"name": name, "overrides": CANDIDATES[name]} | out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=5.0)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--only", nargs="*", default=list(CANDIDATES))
    parser.add_argument("--preset", default="gpu", help="tiny with --device cpu: a smoke run")
    parser.add_argument("--device", default="gpu")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if args.child:
        result = run_one(args.child, args.minutes, args.preset, args.device)
        (args.out / f"{args.child}.json").write_text(json.dumps(result, indent=1, default=str))
        return
    children = {}
    for name in args.only:
        cmd = [
            sys.executable,
            __file__,
            "--child",
            name,
            "--minutes",
            str(args.minutes),
            "--out",
            str(args.out),
        ]
        cmd += ["--preset", args.preset, "--device", args.device]
        log = (args.out / f"{name}.log").open("w")
        children[name] = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    for name, child in children.items():
        child.wait()
        path = args.out / f"{name}.json"
        got = json.loads(path.read_text()) if path.exists() else {"failed": child.returncode}
        print(f"{name}: {got.get('val_loss', got)} nats, {got.get('seconds', 0):.0f} s, {CANDIDATES[name]}")


if __name__ == "__main__":
    main()
