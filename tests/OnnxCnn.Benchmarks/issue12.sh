#!/usr/bin/env bash
# Issue 12's same-run ratios, back to back: ResNet-18 layer4 + head step efficiency and PyTorch ratio
# (training/compare.sh), PaddleOCR's classifier all-trainable step against its inference, preprocessing
# against PIL + torchvision (preprocess/compare.sh), finetune end to end against bench train and predict
# on a folder against bench infer (interleaved rounds, medians of per-round ratios). Needs /usr/bin/python3
# with torch, torchvision, onnx and PIL (Debian's python3-torch, -torchvision, -onnx, -pil), a ResNet-18
# export (tests/fixtures/graphs/generate_graphs.py --full writes one) and a folder of class folders of
# JPEGs (preprocess/make_images.py DIR 320). Usage:
#   tests/OnnxCnn.Benchmarks/issue12.sh RESNET18.onnx IMAGES_DIR [ROUNDS]
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cli="$repo/onnxcnn"
tv=${1:?usage: issue12.sh RESNET18.onnx IMAGES_DIR [ROUNDS]}
images=${2:?usage: issue12.sh RESNET18.onnx IMAGES_DIR [ROUNDS]}
rounds=${3:-5}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
field() { tr -d '\n' | sed -n "s/.*\"$1\": *\([0-9.]*\).*/\1/p" | head -1; }
median() { /usr/bin/python3 -c 'import statistics,sys; print("%.3f" % statistics.median(float(x) for x in sys.argv[1:]))' "$@"; }
ppocr="$repo/tests/fixtures/graphs/ppocr_cls/model.onnx"

echo "$(date -u '+%F %T UTC'); $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | xargs); $(nproc) cores; load $(cut -d' ' -f1-3 /proc/loadavg); main at $(git -C "$repo" rev-parse --short HEAD)"
"$cli" bench train "$ppocr" --classes 2 --trainable '*' --batch 2 --steps 1 --rounds 1 | tail -1

echo "== ResNet-18 layer4 + head, batch 32"
"$here/training/compare.sh" "$tv" "$rounds" 3 | tail -3

echo "== PaddleOCR text-direction classifier, every parameter trainable, batch 16"
ratios=() steps=() infers=()
for r in $(seq 1 "$rounds"); do
  train=$("$cli" bench train "$ppocr" --classes 2 --trainable '*' --batch 16 --steps 5 --rounds 1 --json)
  infer=$("$cli" bench infer "$ppocr" --batch 16 --iterations 50 --json)
  step=$(echo "$train" | field stepMs)
  forward=$(echo "$train" | field full)
  latency=$(/usr/bin/python3 -c "print(16000 / $(echo "$infer" | field imagesPerSecond))")
  echo "round $r: step $step ms, its forward $forward ms (step's options), bench infer $latency ms (ORT defaults)"
  steps+=("$(/usr/bin/python3 -c "print($step / $forward)")")
  infers+=("$(/usr/bin/python3 -c "print($step / $latency)")")
done
echo "median step / same-run forward: $(median "${steps[@]}")x; step / bench infer: $(median "${infers[@]}")x (target <= 4)"

echo "== preprocessing, 2 workers, against PIL + torchvision"
"$here/preprocess/compare.sh" "$images" "$rounds" | tail -2

echo "== finetune end to end vs bench train; predict FOLDER vs bench infer (zoo ResNet-18)"
"$cli" zoo resnet18 -o "$work/zoo.onnx" >/dev/null
mkdir -p "$work/few"
find "$images" -name '*.jpg' | sort | head -32 | while read -r f; do cp "$f" "$work/few/$(basename "$(dirname "$f")")_$(basename "$f")"; done
total=$(find "$images" -name '*.jpg' | wc -l)
fine=() pred=()
for r in $(seq 1 "$rounds"); do
  bench=$("$cli" bench train "$work/zoo.onnx" --classes 4 --trainable '/layer4/*' --batch 32 --steps 24 --rounds 1 --json | field imagesPerSecond)
  "$cli" finetune --model "$work/zoo.onnx" --data "$images" --out "$work/run" --overwrite --trainable '/layer4/*' --batch 32 --epochs 3 \
    --val-split 0.2 --augment rotation=20,shift=0.1,zoom=0.1,shear=10,hflip --seed 1 >/dev/null
  run=$(/usr/bin/python3 -c "import json; print(json.load(open('$work/run/metrics.json'))['throughput']['imagesPerSecond'])")
  infer=$("$cli" bench infer "$work/zoo.onnx" --batch 32 --iterations 10 --json | field imagesPerSecond)
  t0=$(date +%s.%N); "$cli" predict "$work/zoo.onnx" "$work/few" --batch 32 --top 1 >/dev/null; t1=$(date +%s.%N)
  "$cli" predict "$work/zoo.onnx" "$images" --batch 32 --top 1 >/dev/null; t2=$(date +%s.%N)
  marginal=$(/usr/bin/python3 -c "print(($total - 32) / (($t2 - $t1) - ($t1 - $t0)))")
  echo "round $r: bench train $bench, finetune $run images/s; bench infer $infer, predict marginal $marginal images/s"
  fine+=("$(/usr/bin/python3 -c "print($run / $bench)")")
  pred+=("$(/usr/bin/python3 -c "print($marginal / $infer)")")
done
echo "median finetune / bench train: $(median "${fine[@]}") (target >= 0.9); predict / bench infer: $(median "${pred[@]}") (target >= 0.9)"
