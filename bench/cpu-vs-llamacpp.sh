#!/usr/bin/env bash
# cpu-vs-llamacpp: neuron's CPU backend side by side with llama.cpp's
# llama-bench on the same GGUF files, the same cores and the same thread
# count. Not part of `make test` or CI: the first run builds llama-bench
# from source (several minutes on two cores) and each round runs every model
# through both programs.
#
#   bash bench/cpu-vs-llamacpp.sh                        # q8_0 q4_k_m f16, 3 rounds
#   bash bench/cpu-vs-llamacpp.sh -t "q8_0 q6_k" -r 5 -p 512 -n 128
#   bash bench/cpu-vs-llamacpp.sh --baseline /tmp/neuron-old   # neuron vs an older neuron
#   bash bench/cpu-vs-llamacpp.sh --contend              # with one busy competing process
#   bash bench/cpu-vs-llamacpp.sh --neuron /tmp/neuron-old     # that binary instead of building bin/neuron
#   bash bench/cpu-vs-llamacpp.sh --nice -5               # both sides at that niceness (root for < 0)
#   bash bench/cpu-vs-llamacpp.sh --passive               # llama.cpp threads sleep instead of spinning
#   bash bench/cpu-vs-llamacpp.sh -t "q2_k q3_k_m" --models /data/models  # model files there
#
# --passive runs llama-bench with --poll 0 and OMP_WAIT_POLICY=passive: on
# a machine other processes load, llama.cpp's default spin-waiting threads
# collapse (0.3 tok/s generation measured at load ~15 on 2 cores), which
# says nothing about its kernels; the table records the flag.
#
# llama-bench comes from $LLAMA_BENCH, else from PATH, else it is built once
# under $LLAMACPP_DIR (default ~/.cache/helexa-llamacpp): npm installs the
# package node-llama-cpp (the version scripts/llamacpp-check pins, without
# its prebuilt binaries), the llama.cpp source it ships as a git bundle is
# cloned, and cmake builds only the llama-bench target, native CPU flags,
# OpenMP on (llama.cpp's default). Models are `neuron synth --preset 0.6b`
# files of each type (`neuron synth --help` lists them), synth-0.6b-TYPE.gguf,
# written once under $LLAMACPP_DIR/models or the --models directory.
#
# Every round runs each model through both sides, alternating which goes
# first, one repetition per side (`llama-bench -r 1`, `neuron bench -r 1`,
# each after its own warm-up). The table gives, per type and test, the
# median tokens/s of each side over the rounds and the median of the
# per-round ratios neuron/other, which holds up better than a ratio of
# medians when the shared machine's load drifts. Raw figures go to
# $LLAMACPP_DIR/results-<date>.tsv.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

types="q8_0 q4_k_m f16"
rounds=3
pp=128
tg=64
threads=2
baseline=""
neuron=""
contend=0
nice=0
passive=0
models=""
usage() {
	echo "usage: $0 [-t \"TYPES\"] [-r ROUNDS] [-p PP] [-n TG] [--threads N] [--baseline NEURON_BIN] [--neuron NEURON_BIN] [--contend] [--nice N] [--passive] [--models DIR]" >&2
	exit 2
}
while [ $# -gt 0 ]; do
	case "$1" in
	-t) types="$2"; shift 2 ;;
	-r) rounds="$2"; shift 2 ;;
	-p) pp="$2"; shift 2 ;;
	-n) tg="$2"; shift 2 ;;
	--threads) threads="$2"; shift 2 ;;
	--baseline) baseline="$2"; shift 2 ;;
	--neuron) neuron="$2"; shift 2 ;;
	--contend) contend=1; shift ;;
	--nice) nice="$2"; shift 2 ;;
	--passive) passive=1; shift ;;
	--models) models="$2"; shift 2 ;;
	*) usage ;;
	esac
done
for tool in jq awk; do
	command -v "$tool" >/dev/null || { echo "$0: needs $tool" >&2; exit 1; }
done

dir="${LLAMACPP_DIR:-$HOME/.cache/helexa-llamacpp}"
models="${models:-$dir/models}"
mkdir -p "$dir" "$models"

# build_llama_bench builds llama-bench under $dir once and prints its path.
build_llama_bench() {
	local bin="$dir/build/bin/llama-bench"
	if [ -x "$bin" ]; then
		echo "$bin"
		return
	fi
	for tool in npm git cmake c++; do
		command -v "$tool" >/dev/null || { echo "$0: building llama-bench needs $tool" >&2; exit 1; }
	done
	local version
	version="$(jq -r '.dependencies["node-llama-cpp"]' "$root/scripts/llamacpp-check/package.json")"
	echo "== building llama-bench from node-llama-cpp $version under $dir (log: $dir/build.log)" >&2
	(
		cd "$dir"
		if [ ! -f node_modules/node-llama-cpp/llama/gitRelease.bundle ]; then
			npm install --ignore-scripts --omit=optional --no-audit --no-fund "node-llama-cpp@$version"
		fi
		if [ ! -d llama.cpp ]; then
			git clone -q node_modules/node-llama-cpp/llama/gitRelease.bundle llama.cpp
		fi
		cmake -S llama.cpp -B build -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF \
			-DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_SERVER=OFF
		cmake --build build --target llama-bench -j "$(nproc)"
	) >"$dir/build.log" 2>&1 || { echo "$0: llama-bench build failed, see $dir/build.log" >&2; exit 1; }
	echo "$bin"
}

if [ -z "$neuron" ]; then
	neuron="$root/bin/neuron"
	(cd "$root" && CGO_ENABLED=0 go build -o bin/neuron ./cmd/neuron)
fi
if [ -n "$baseline" ]; then
	other="neuron-base"
else
	other="llama.cpp"
	if [ -n "${LLAMA_BENCH:-}" ]; then
		llama="$LLAMA_BENCH"
	elif command -v llama-bench >/dev/null; then
		llama="$(command -v llama-bench)"
	else
		llama="$(build_llama_bench)"
	fi
fi

for t in $types; do
	f="$models/synth-0.6b-$t.gguf"
	[ -f "$f" ] || "$neuron" synth --preset 0.6b --type "$t" -o "$f" >&2
done

busy=""
cleanup() { [ -z "$busy" ] || kill "$busy" 2>/dev/null || true; }
trap cleanup EXIT
if [ "$contend" = 1 ]; then
	# One busy competing process: a shell loop that never sleeps.
	sh -c 'while :; do :; done' &
	busy=$!
fi

# run_neuron BIN MODEL prints "pp tg" tokens/s of one repetition.
run_neuron() {
	nice -n "$nice" "$1" bench "$2" -p "$pp" -n "$tg" -r 1 --threads "$threads" --device cpu --json |
		jq -r '"\(.pp.tok_s) \(.tg.tok_s)"'
}

# run_llama MODEL prints "pp tg" tokens/s of one repetition.
run_llama() {
	local pre=(env) extra=()
	if [ "$passive" = 1 ]; then
		pre=(env OMP_WAIT_POLICY=passive)
		extra=(--poll 0)
	fi
	"${pre[@]}" nice -n "$nice" "$llama" -m "$1" -p "$pp" -n "$tg" -t "$threads" -r 1 "${extra[@]}" -o json 2>/dev/null |
		jq -r '(map(select(.n_gen == 0))[0].avg_ts) as $p | (map(select(.n_prompt == 0))[0].avg_ts) as $g | "\($p) \($g)"'
}

# run_other MODEL runs the side neuron is compared with.
run_other() {
	if [ -n "$baseline" ]; then run_neuron "$baseline" "$1"; else run_llama "$1"; fi
}

raw="$dir/results-$(date -u +%Y%m%dT%H%M%SZ).tsv"
printf "round\ttype\tneuron_pp\tneuron_tg\tother_pp\tother_tg\n" >"$raw"
for r in $(seq 1 "$rounds"); do
	for t in $types; do
		f="$models/synth-0.6b-$t.gguf"
		if [ $((r % 2)) = 1 ]; then
			a="$(run_neuron "$neuron" "$f")"
			b="$(run_other "$f")"
		else
			b="$(run_other "$f")"
			a="$(run_neuron "$neuron" "$f")"
		fi
		printf "%s\t%s\t%s\t%s\n" "$r" "$t" "${a/ /$'\t'}" "${b/ /$'\t'}" | tee -a "$raw" >&2
	done
done

cpu="$(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo)"
echo
echo "machine: $cpu, $(nproc) cores; $threads threads; $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "command: bench/cpu-vs-llamacpp.sh -t \"$types\" -r $rounds -p $pp -n $tg --threads $threads${baseline:+ --baseline $baseline}$([ "$contend" = 1 ] && echo ' --contend')$([ "$nice" = 0 ] || echo " --nice $nice")$([ "$passive" = 1 ] && echo ' --passive')"
echo
echo "| type | pp$pp neuron / $other (tok/s) | ratio | tg$tg neuron / $other (tok/s) | ratio |"
echo "|---|---|---|---|---|"
for t in $types; do
	awk -F'\t' -v t="$t" '
	function median(a, n,   i, j, x) {
		for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j+1] = a[j]; a[j+1] = x }
		return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
	}
	$2 == t { n++; np[n] = $3; ng[n] = $4; op[n] = $5; og[n] = $6; rp[n] = $3 / $5; rg[n] = $4 / $6 }
	END {
		printf "| %s | %.1f / %.1f | %.2f× | %.1f / %.1f | %.2f× |\n", t,
			median(np, n), median(op, n), median(rp, n), median(ng, n), median(og, n), median(rg, n)
	}' "$raw"
done
echo
echo "(medians of $rounds alternating rounds; ratio = median of per-round neuron/$other; raw: $raw)"
