#!/usr/bin/env bash
# constraint-bench: the cost of constrained decoding per token beside a CPU
# decode step of the Qwen3-0.6B shape, measured in the same rounds (each
# round runs every side once, so the sides alternate; the machine is shared
# and noisy, so compare medians), and the schema compile time. Writes a
# synthetic 0.6B q8_0 model (random weights, real shapes) to $BENCH_DIR
# (default /tmp/helexa-bench) once.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=${BENCH_DIR:-/tmp/helexa-bench}
rounds=${ROUNDS:-5}
model=$dir/qwen3-0.6b-q8_0.gguf
mkdir -p "$dir"
if [ ! -f "$model" ]; then
	go run ./cmd/neuron synth --preset 0.6b --type q8_0 -o "$model"
fi
go test ./constrain -run '^$' -bench 'Compile' -benchtime 200x | grep Benchmark
go test -c -o "$dir/engine.test" ./engine
lines=$dir/rounds.txt
: >"$lines"
for r in $(seq "$rounds"); do
	(cd engine && HELEXA_BENCH_MODEL=$model "$dir/engine.test" -test.run '^$' -test.bench 'ConstraintOverhead' -test.benchtime 5x) |
		grep '^Benchmark' | tee -a "$lines"
done
# Medians of ns/token per side.
for side in $(awk '{ sub(/-[0-9]+$/, "", $1); print $1 }' "$lines" | sort -u); do
	vals=$(awk -v s="$side" '{ n = $1; sub(/-[0-9]+$/, "", n); if (n == s) for (i = 2; i <= NF; i++) if ($i == "ns/token") print $(i-1) }' "$lines" | sort -n)
	count=$(echo "$vals" | wc -l)
	median=$(echo "$vals" | sed -n "$(((count + 1) / 2))p")
	printf 'median %-66s %12s ns/token (%d rounds)\n' "$side" "$median" "$count"
done
