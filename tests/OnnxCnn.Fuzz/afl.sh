#!/usr/bin/env bash
# Coverage-guided fuzzing of one target with AFL++ (Debian afl++) and SharpFuzz-instrumented assemblies.
#   tests/OnnxCnn.Fuzz/afl.sh TARGET SECONDS ASSEMBLY...   e.g.  afl.sh npy 240 OnnxCnn.Runtime.dll
# Needs `dotnet tool install --global SharpFuzz.CommandLine --version 2.3.0` and `apt-get install afl++`.
# Writes artifacts/afl/TARGET/ (queue, crashes); `OnnxCnn.Fuzz.dll minimize TARGET` after copying the
# queue into tests/fixtures/fuzz/TARGET/ keeps one input per outcome.
set -euo pipefail
target=$1; seconds=$2; shift 2
root=$(cd "$(dirname "$0")/../.." && pwd)
bin=$root/artifacts/afl/$target/bin
rm -rf "$root/artifacts/afl/$target"
mkdir -p "$root/artifacts/afl/$target"
dotnet build "$root/tests/OnnxCnn.Fuzz" -c Debug -v q -nologo >/dev/null
cp -r "$root/tests/OnnxCnn.Fuzz/bin/Debug/net10.0" "$bin"
# Seeds from the uninstrumented build: instrumented code may run only under the fork server.
dotnet "$bin/OnnxCnn.Fuzz.dll" seeds "$target" "$root/artifacts/afl/$target/in"
cp "$root/tests/fixtures/fuzz/$target/"* "$root/artifacts/afl/$target/in/" 2>/dev/null || true
for assembly in "$@"; do "${SHARPFUZZ:-$HOME/.dotnet/tools/sharpfuzz}" "$bin/$assembly"; done
cd "$root/artifacts/afl/$target"
AFL_SKIP_CPUFREQ=1 AFL_NO_AFFINITY=1 AFL_I_DONT_CARE_ABOUT_MISSING_CRASHES=1 AFL_SKIP_BIN_CHECK=1 AFL_NO_UI=1 \
  timeout "$seconds" nice -n 19 afl-fuzz -i in -o out -t 10000 -m none -- dotnet "$bin/OnnxCnn.Fuzz.dll" afl "$target" > afl.log 2>&1 || true
grep -E "execs_done|corpus_count|saved_crashes|saved_hangs|run_time" out/default/fuzzer_stats || true
