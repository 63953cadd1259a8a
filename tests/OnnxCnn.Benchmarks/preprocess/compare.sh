#!/usr/bin/env bash
# Interleaved rounds of 'onnxcnn bench preprocess' against the PIL + torchvision reference
# (DataLoader, 2 worker processes) on the same folder, without and with augmentation; prints each
# round and the medians of the same-run ratios. Usage:
#   tests/OnnxCnn.Benchmarks/preprocess/compare.sh DIR [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../../.." && pwd)
data=${1:?usage: compare.sh DIR [ROUNDS]}
rounds=${2:-5}
augment="rotation=20,shift=0.1,zoom=0.1,shear=10,hflip"
rate() { sed -n 's/.*"imagesPerSecond": *\([0-9.]*\).*/\1/p' | head -1; }
"$repo/onnxcnn" bench preprocess --data "$data" --json >/dev/null   # build once, warm the file cache
results=()
for round in $(seq 1 "$rounds"); do
  ours=$("$repo/onnxcnn" bench preprocess --data "$data" --workers 2 --json | tr -d '\n' | rate)
  theirs=$(/usr/bin/python3 "$here/torchvision_bench.py" "$data" --workers 2 --no-augment | rate)
  ours_aug=$("$repo/onnxcnn" bench preprocess --data "$data" --workers 2 --augment "$augment" --json | tr -d '\n' | rate)
  theirs_aug=$(/usr/bin/python3 "$here/torchvision_bench.py" "$data" --workers 2 | rate)
  echo "round $round: plain $ours vs $theirs, augmented $ours_aug vs $theirs_aug images/s"
  results+=("$ours $theirs $ours_aug $theirs_aug")
done
printf '%s\n' "${results[@]}" | /usr/bin/python3 -c '
import statistics, sys
rows = [list(map(float, line.split())) for line in sys.stdin if line.strip()]
med = lambda xs: statistics.median(xs)
print("median plain:     onnxcnn %.1f, torchvision %.1f, ratio %.2fx" % (med([r[0] for r in rows]), med([r[1] for r in rows]), med([r[0] / r[1] for r in rows])))
print("median augmented: onnxcnn %.1f, torchvision %.1f, ratio %.2fx" % (med([r[2] for r in rows]), med([r[3] for r in rows]), med([r[2] / r[3] for r in rows])))
'
