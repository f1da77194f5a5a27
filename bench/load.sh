#!/usr/bin/env bash
# load: neuron under concurrent load, as issue "Many requests at once" states
# its targets. Builds bin/neuron, writes a synthetic 0.6B-shape Q8_0 model
# (random weights; its output is noise, which is fine with a fixed output
# length), starts `neuron serve` on a free loopback port with that model as
# its default model and the given thread count, waits for /health, runs
# `neuron loadtest` (a concurrency sweep, then the multi-turn chat
# scenario), prints the report and stops the daemon. Not part of
# `make test` or CI.
#
#   bash bench/load.sh                                  # sweep 1,4,8; 64-token prompts, 32 tokens out; multiturn
#   bash bench/load.sh --model q06-q8_0.gguf   # reuse a model file instead of writing one
#   bash bench/load.sh --sweep 1,2,4,8 -n 16 --max-tokens 64 --json /tmp/load.json
#   bash bench/load.sh --rounds 3                        # 1,4,8,8,4,1,1,4,8: medians per level
#   bash bench/load.sh --no-multiturn --threads 4
#   bash bench/load.sh -- --config /tmp/neuron.toml      # everything after -- goes to neuron serve
#   NEURON_MAX_QUEUE=16 bash bench/load.sh               # NEURON_* variables reach the daemon too
#
# Options: --model FILE, --preset P and --type T (for the written model,
# default 0.6b q8_0), --threads N (default 2), --sweep LIST (1,4,8),
# --rounds N (1; the sweep in alternating order N times, medians),
# --prompt-tokens N (64), --max-tokens N (32), -n/--requests N per level
# (0: two per stream), --history-tokens N (1000), --conversations N (3),
# --reply-tokens N (16), --no-multiturn, --json FILE (also write the JSON
# report there), --neuron BIN (use that binary instead of building one).
#
# Every request bans the model's end-of-generation tokens with logit_bias
# (their ids come from `neuron tokenize`) and sends ignore_eos, so each one
# generates exactly --max-tokens tokens. The daemon's log goes to a file
# under the work directory ($WORKDIR, default a temporary one, removed at
# the end unless --keep).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

model="" preset=0.6b type=q8_0 threads=2 sweep=1,4,8 rounds=1 prompt=64 maxtok=32 requests=0
history=1000 conversations=3 reply=16 multiturn=1 json="" neuron="" keep=0
serve_extra=()
while [ $# -gt 0 ]; do
	case $1 in
	--model) model=$2; shift ;;
	--preset) preset=$2; shift ;;
	--type) type=$2; shift ;;
	--threads) threads=$2; shift ;;
	--sweep) sweep=$2; shift ;;
	--rounds) rounds=$2; shift ;;
	--prompt-tokens) prompt=$2; shift ;;
	--max-tokens) maxtok=$2; shift ;;
	-n | --requests) requests=$2; shift ;;
	--history-tokens) history=$2; shift ;;
	--conversations) conversations=$2; shift ;;
	--reply-tokens) reply=$2; shift ;;
	--no-multiturn) multiturn=0 ;;
	--json) json=$2; shift ;;
	--neuron) neuron=$2; shift ;;
	--keep) keep=1 ;;
	--) shift; serve_extra=("$@"); break ;;
	-h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
	*) echo "load.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
	esac
	shift
done

work=${WORKDIR:-$(mktemp -d)}
mkdir -p "$work"
pid=""
cleanup() {
	if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
		kill "$pid"
		wait "$pid" 2>/dev/null || true
	fi
	if [ $keep = 0 ] && [ -z "${WORKDIR:-}" ]; then rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if [ -z "$neuron" ]; then
	(cd "$root" && CGO_ENABLED=0 go build -trimpath -o bin/neuron ./cmd/neuron)
	neuron=$root/bin/neuron
fi
if [ -z "$model" ]; then
	model=$work/synth-$preset-$type.gguf
	"$neuron" synth --preset "$preset" --type "$type" -o "$model"
fi

# Qwen3's end-of-generation tokens, as this model's tokenizer numbers them.
bias="{"
for t in '<|im_end|>' '<|endoftext|>'; do
	id=$("$neuron" tokenize --model "$model" "$t")
	case $id in *[!0-9]*|"") echo "load.sh: $t is not one token in $model: $id" >&2; exit 1 ;; esac
	[ "$bias" = "{" ] || bias+=","
	bias+="\"$id\":-100"
done
bias+="}"

log=$work/neuron.log
"$neuron" serve --listen 127.0.0.1:0 --device cpu --threads "$threads" --hub-offline \
	--hub-cache-dir "$work/hub" --log-format json --model "$model" "${serve_extra[@]}" 2>"$log" &
pid=$!

# The daemon listens first (its log says where), then loads the model;
# /health answers 200 once the load is done.
addr=""
for _ in $(seq 600); do
	kill -0 "$pid" 2>/dev/null || { echo "load.sh: neuron exited:" >&2; cat "$log" >&2; exit 1; }
	addr=$(grep -o '"msg":"neuron listening"[^}]*"addr":"[^"]*"' "$log" | sed 's/.*"addr":"\([^"]*\)"/\1/' | head -1 || true)
	if [ -n "$addr" ] && [ "$(curl -s -o /dev/null -w '%{http_code}' "http://$addr/health")" = 200 ]; then
		break
	fi
	sleep 0.5
done
[ -n "$addr" ] || { echo "load.sh: neuron did not come up:" >&2; cat "$log" >&2; exit 1; }
echo "load.sh: neuron at $addr, $threads threads, model $model" >&2

scenario=load
[ $multiturn = 1 ] && scenario=all
args=(loadtest --url "http://$addr" --model "$model" --scenario "$scenario" --sweep "$sweep" --rounds "$rounds"
	--prompt-tokens "$prompt" --max-tokens "$maxtok" --requests "$requests" --logit-bias "$bias"
	--history-tokens "$history" --conversations "$conversations" --reply-tokens "$reply")
[ -z "$json" ] || args+=(--json-file "$json")
"$neuron" "${args[@]}"
