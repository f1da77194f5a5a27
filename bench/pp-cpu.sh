#!/usr/bin/env bash
# pp-cpu: whole-model prompt processing of two neuron binaries compared by
# process CPU time, which an oversubscribed machine disturbs far less than
# wall time: each round runs `neuron bench MODEL -p PP -n 0 -r R -t 1`
# under each binary, alternating which goes first, and subtracts the same
# binary's fixed cost (loading the model, the warm-up, one prompt token:
# `-p 1 -r 1`, measured once per binary). Prints per round the CPU seconds
# of R prompts of PP tokens on each side and the ratio old/new (> 1: the
# new binary does the work in less CPU time), then the median ratio. One
# thread, so the pool's spinning is not counted. Not part of `make test`.
#
#   bash bench/pp-cpu.sh -m model.gguf -a /tmp/neuron-old -b bin/neuron
#   bash bench/pp-cpu.sh -m model.gguf -a OLD -b NEW -p 512 -r 2 -n 5
set -euo pipefail

model="" a="" b="" pp=128 reps=3 rounds=3
while [ $# -gt 0 ]; do
	case "$1" in
	-m) model="$2"; shift 2 ;;
	-a) a="$2"; shift 2 ;;
	-b) b="$2"; shift 2 ;;
	-p) pp="$2"; shift 2 ;;
	-r) reps="$2"; shift 2 ;;
	-n) rounds="$2"; shift 2 ;;
	-h | --help) sed -n '2,14p' "$0"; exit 0 ;;
	*) echo "pp-cpu: unknown argument $1" >&2; exit 2 ;;
	esac
done
if [ -z "$model" ] || [ -z "$a" ] || [ -z "$b" ]; then
	echo "usage: $0 -m MODEL -a OLD_NEURON -b NEW_NEURON [-p PP] [-r REPS] [-n ROUNDS]" >&2
	exit 2
fi

# cpu BIN PP REPS prints the user+system CPU seconds of one neuron bench.
cpu() {
	local TIMEFORMAT='%U %S' t
	t="$({ time "$1" bench "$model" -p "$2" -n 0 -r "$3" -t 1 --json >/dev/null; } 2>&1)"
	awk '{ print $1 + $2 }' <<<"$t"
}

fa="$(cpu "$a" 1 1)" fb="$(cpu "$b" 1 1)"
echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) load $(cut -d' ' -f1-3 /proc/loadavg); $model, -p $pp -r $reps -t 1"
echo "# fixed cost (-p 1 -r 1): old ${fa}s, new ${fb}s"
printf "round\told_s\tnew_s\told/new\n"
ratios=""
for i in $(seq "$rounds"); do
	if [ $((i % 2)) = 1 ]; then x="$(cpu "$a" "$pp" "$reps")" y="$(cpu "$b" "$pp" "$reps")"
	else y="$(cpu "$b" "$pp" "$reps")" x="$(cpu "$a" "$pp" "$reps")"; fi
	line="$(awk -v i="$i" -v x="$x" -v y="$y" -v fa="$fa" -v fb="$fb" \
		'BEGIN { printf "%d\t%.2f\t%.2f\t%.2f", i, x - fa, y - fb, (x - fa) / (y - fb) }')"
	echo "$line"
	ratios="$ratios ${line##*$'\t'}"
done
tr ' ' '\n' <<<"$ratios" | sort -g | awk 'NF { r[++n] = $1 }
	END { printf "median old/new %.2f\n", n % 2 ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2 }'
