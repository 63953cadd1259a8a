#!/usr/bin/env bash
# Inference throughput of OnnxCnn's binding vs ONNX Runtime's own Node.js binding, on the same
# libonnxruntime 1.30.0, interleaved in one run (the machine is noisy: compare within a run).
#   tests/OnnxCnn.Benchmarks/compare-node.sh MODEL [BATCH] [ITERATIONS] [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
model=$(realpath "$1"); batch=${2:-8}; iterations=${3:-30}; rounds=${4:-3}
ours=(); theirs=()
"$repo/onnxcnn" bench infer "$model" --batch 1 --iterations 1 --json >/dev/null  # build once, outside the timing
for r in $(seq "$rounds"); do
  o=$("$repo/onnxcnn" bench infer "$model" --batch "$batch" --iterations "$iterations" --warmup 3 --json | tr -d '\n' | sed -E 's/.*"imagesPerSecond": *([0-9.]+).*/\1/')
  n=$("$here/node/run.sh" "$model" --batch "$batch" --iterations "$iterations" --warmup 3 | sed -E 's/.*"imagesPerSecond": *([0-9.]+).*/\1/')
  echo "round $r: onnxcnn $o images/s, onnxruntime-node $n images/s"
  ours+=("$o"); theirs+=("$n")
done
median() { printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
mo=$(median "${ours[@]}"); mn=$(median "${theirs[@]}")
echo "median: onnxcnn $mo images/s, onnxruntime-node $mn images/s, ratio $(awk -v a="$mo" -v b="$mn" 'BEGIN {printf "%.3f", a/b}')"
