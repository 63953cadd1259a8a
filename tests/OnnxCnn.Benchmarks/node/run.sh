#!/usr/bin/env bash
# Run the onnxruntime-node benchmark: installs dependencies on first use, then
#   node bench.mjs MODEL [--batch N] [--iterations K] [--warmup W] [--input-size HxW] [--threads T]
# Relative MODEL paths are resolved against the caller's working directory.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"

if [ ! -d "$HERE/node_modules/onnxruntime-node" ]; then
  # onnxruntime-node's postinstall (script/install.js) would download the CUDA
  # EP from NuGet on linux/x64; skip it: the CPU library ships in the tarball
  # (bin/napi-v6/linux/x64/).
  (cd "$HERE" && ONNXRUNTIME_NODE_INSTALL=skip npm install --no-audit --no-fund) >&2
fi

exec node "$HERE/bench.mjs" "$@"
