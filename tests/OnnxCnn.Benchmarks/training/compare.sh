#!/usr/bin/env bash
# Interleaved rounds of 'onnxcnn bench train' (overlapped and --no-overlap) against PyTorch 1.13
# (torch_bench.py, same threads) on ResNet-18 layer4 + a new 10-class head, batch 32 at 224x224; prints
# each round and the medians of the step efficiency and of the same-round ratios to PyTorch.
# BASELINE=/other/checkout/onnxcnn adds that build to every round (images/s only, so it may predate
# --rounds and the efficiency report: before/after ratios). Usage:
#   [BASELINE=…/onnxcnn] tests/OnnxCnn.Benchmarks/training/compare.sh MODEL.onnx [ROUNDS] [STEPS]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
model=${1:?usage: compare.sh MODEL.onnx [ROUNDS] [STEPS]}
rounds=${2:-5}
steps=${3:-3}
threads=$(nproc)
bench() { "$1" bench train "$model" --classes 10 --trainable '/layer4/*' --batch 32 --steps "$steps" --threads "$threads" --json "${@:2}" | tr -d '\n'; }
field() { sed -n "s/.*\"$1\": *\([0-9.]*\).*/\1/p" | head -1; }
"$repo/onnxcnn" bench train "$model" --classes 10 --trainable '/layer4/*' --batch 2 --steps 1 --rounds 1 >/dev/null   # build once
echo "$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs), $threads threads; load average $(cut -d' ' -f1-3 /proc/loadavg)"
results=()
for round in $(seq 1 "$rounds"); do
  over=$(bench "$repo/onnxcnn" --rounds 1)
  seq=$(bench "$repo/onnxcnn" --rounds 1 --no-overlap)
  torch=$(/usr/bin/python3 "$here/torch_bench.py" --steps "$steps" --threads "$threads" | field imagesPerSecond)
  base=0 base_seq=0
  if [ -n "${BASELINE:-}" ]; then
    base=$(bench "$BASELINE" | field imagesPerSecond)
    base_seq=$(bench "$BASELINE" --no-overlap | field imagesPerSecond)
  fi
  row="$(echo "$over" | field imagesPerSecond) $(echo "$over" | field efficiency) $(echo "$seq" | field imagesPerSecond) $(echo "$seq" | field efficiency) $torch $base $base_seq"
  echo "round $round (load $(cut -d' ' -f1 /proc/loadavg)): overlapped / sequential / pytorch / baseline images/s and efficiency: $row"
  results+=("$row")
done
printf '%s\n' "${results[@]}" | /usr/bin/python3 -c '
import statistics, sys
rows = [list(map(float, line.split())) for line in sys.stdin if line.strip()]
med = lambda xs: statistics.median(xs)
print("median overlapped: %.1f images/s, efficiency %.3f, ratio to PyTorch %.2fx" % (med([r[0] for r in rows]), med([r[1] for r in rows]), med([r[0] / r[4] for r in rows])))
print("median sequential: %.1f images/s, efficiency %.3f, ratio to PyTorch %.2fx" % (med([r[2] for r in rows]), med([r[3] for r in rows]), med([r[2] / r[4] for r in rows])))
print("median PyTorch:    %.1f images/s" % med([r[4] for r in rows]))
if rows[0][5] > 0:
    print("baseline: overlapped %.1f (now/baseline %.2fx), sequential %.1f (%.2fx)" % (
        med([r[5] for r in rows]), med([r[0] / r[5] for r in rows]), med([r[6] for r in rows]), med([r[2] / r[6] for r in rows])))
'
