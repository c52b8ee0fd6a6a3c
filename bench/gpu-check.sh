#!/usr/bin/env bash
# The checks that need an accelerator, in one go: the `gpu` tests, then bench/gpu.py; results under $OUT.
# On a machine without TensorFlow the Keras code runs on JAX (KERAS_BACKEND=jax, the default here).
#     OUT=/tmp/gpu-check bash bench/gpu-check.sh [minutes of text-generator training, default 5]
set -u
OUT=${OUT:-/tmp/gpu-check}
mkdir -p "$OUT"
export KERAS_BACKEND=${KERAS_BACKEND:-jax} PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
PY=${PYTHON:-python3}
{
  nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv
  $PY -c "import keras, jax; print('keras', keras.__version__, 'jax', jax.__version__, jax.devices())"
} >"$OUT/device.txt" 2>&1
cat "$OUT/device.txt"
timeout 110 $PY -m pytest -m gpu tests/test_gpu.py -q -p no:cacheprovider 2>&1 | tee "$OUT/tests.log"
timeout 450 $PY bench/gpu.py --minutes "${1:-5}" --out "$OUT/gpu.json" 2>&1 | tee "$OUT/bench.log"
