#!/usr/bin/env bash
# decode-batch: whole-model batched decode on the CPU backend, the matrix
# shape continuous batching runs: k sequences each decoding one token, all
# k rows in one Forward call. Reports the median time of a step per k and
# the aggregate throughput ratio k·t(1)/t(k) (tokens per second of k
# streams over one stream). With --baseline REV it builds the same program
# from git revision REV as well and alternates the two builds round by
# round, reporting per-round ratios (median) new/base, so the shared
# machine's load drift cancels. Not part of `make test`.
#
#   bash bench/decode-batch.sh                          # this tree, k = 1 2 4 8, a synthetic 0.6B Q8_0
#   bash bench/decode-batch.sh --baseline main -r 5     # this tree vs main, 5 rounds
#   bash bench/decode-batch.sh -m model.gguf -k "1 4 8 16" -s 20 -t 2
#   bash bench/decode-batch.sh -t 1 --cpu --baseline main   # CPU time, 1 thread
#
# --cpu takes the process CPU time of a step instead of its wall time: on
# an oversubscribed machine that is the steadier measure of the work, with
# one thread (-t 1); with more it also counts the pool's spinning.
#
# The program reads the model into memory (gguf.Read) rather than mapping
# it (--mmap maps it, as neuron does): on the shared build VM, reading
# through a mapping of the page cache measured 0.5-0.8 GB/s against
# 6-15 GB/s from process memory (a plain sequential read, 2026-12-05), which
# buries the matrix kernels under the weight stream.
# The program is written to a copy of each tree under a temporary
# directory (it needs the module's packages) and removed afterwards. Each
# sequence is first prefilled with a 32-token prompt; a step then decodes
# one row per sequence at positions 32, 33, ... (steps per measurement: -s).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

model=""
ks="1 2 4 8"
steps=16
rounds=3
threads=2
baseline=""
col=3
mmap=false
while [ $# -gt 0 ]; do
	case "$1" in
	-m) model="$2"; shift 2 ;;
	-k) ks="$2"; shift 2 ;;
	-s) steps="$2"; shift 2 ;;
	-r) rounds="$2"; shift 2 ;;
	-t) threads="$2"; shift 2 ;;
	--baseline) baseline="$2"; shift 2 ;;
	--cpu) col=4; shift ;;
	--mmap) mmap=true; shift ;;
	-h | --help) sed -n '2,/^set/p' "$0" | sed '$d'; exit 0 ;;
	*) echo "decode-batch: unknown argument $1" >&2; exit 2 ;;
	esac
done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
if [ -z "$model" ]; then
	# No -m: a synthetic 0.6B-shape Q8_0 model, written for this run.
	model="$tmp/q06-q8_0.gguf"
	(cd "$root" && go run ./cmd/neuron synth --preset 0.6b --type q8_0 -o "$model") >&2
fi
[ -f "$model" ] || { echo "decode-batch: no model at $model (-m)" >&2; exit 1; }

write_prog() {
	mkdir -p "$1/bench/decodebatchtmp"
	cat >"$1/bench/decodebatchtmp/main.go" <<'EOF'
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/helexa/helexa/engine"
	_ "github.com/helexa/helexa/engine/cpu"
	"github.com/helexa/helexa/gguf"
)

func main() {
	model := flag.String("m", "", "model")
	ks := flag.String("k", "1,2,4,8", "batch sizes")
	steps := flag.Int("s", 16, "steps per batch size")
	threads := flag.Int("t", 2, "threads")
	mmap := flag.Bool("mmap", false, "map the file instead of reading it")
	flag.Parse()
	var f *gguf.File
	var err error
	if *mmap {
		f, err = gguf.Open(*model)
	} else {
		var data []byte
		data, err = os.ReadFile(*model)
		check(err)
		f, err = gguf.Read(bytes.NewReader(data), int64(len(data)))
	}
	check(err)
	b, err := engine.OpenBackend("cpu", 0, engine.BackendOptions{Threads: *threads})
	check(err)
	m, err := engine.LoadModel(f, b)
	check(err)
	var sizes []int
	for _, s := range strings.Split(*ks, ",") {
		k, err := strconv.Atoi(s)
		check(err)
		sizes = append(sizes, k)
	}
	maxK := 0
	for _, k := range sizes {
		maxK = max(maxK, k)
	}
	const prompt = 32
	c, err := m.NewContext(engine.ContextOptions{Seqs: maxK, Ctx: prompt + *steps + 2, Batch: max(prompt, maxK)})
	check(err)
	for s := range maxK {
		rows := make([]engine.Row, prompt)
		for i := range rows {
			rows[i] = engine.Row{Token: int32((i*7 + s*13) % 2048), Pos: int32(i), Seq: int32(s)}
		}
		check(c.Forward(rows, nil, nil))
	}
	nv := m.Config().NVocab
	logits := make([]float32, maxK*nv)
	for _, k := range sizes {
		idx := make([]int, k)
		for i := range idx {
			idx[i] = i
		}
		var ts, cs []float64
		for step := -1; step < *steps; step++ { // step -1 warms up
			rows := make([]engine.Row, k)
			for i := range rows {
				rows[i] = engine.Row{Token: int32(100 + i + step), Pos: int32(prompt + max(step, 0)), Seq: int32(i)}
			}
			t0, c0 := time.Now(), cpuMs()
			check(c.Forward(rows, idx, logits[:k*nv]))
			if step >= 0 {
				ts = append(ts, float64(time.Since(t0).Microseconds())/1e3)
				cs = append(cs, cpuMs()-c0)
			}
		}
		sort.Float64s(ts)
		sort.Float64s(cs)
		fmt.Printf("%d\t%.2f\t%.2f\n", k, ts[len(ts)/2], cs[len(cs)/2])
	}
}

// cpuMs is the process's user plus system CPU time in ms.
func cpuMs() float64 {
	var ru syscall.Rusage
	check(syscall.Getrusage(syscall.RUSAGE_SELF, &ru))
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e6
}

func check(err error) {
	if err != nil {
		fmt.Fprintln(os.Stderr, "decodebatch:", err)
		os.Exit(1)
	}
}
EOF
}

build() { # build <tree> <out>
	write_prog "$1"
	(cd "$1" && go build -o "$2" ./bench/decodebatchtmp)
	rm -rf "$1/bench/decodebatchtmp"
}

mkdir -p "$tmp/new"
(cd "$root" && git ls-files -co --exclude-standard -z | xargs -0 cp --parents -t "$tmp/new")
build "$tmp/new" "$tmp/new.bin"
sides="new"
if [ -n "$baseline" ]; then
	mkdir -p "$tmp/base"
	(cd "$root" && git archive "$baseline" | tar -x -C "$tmp/base")
	build "$tmp/base" "$tmp/base.bin"
	sides="new base"
fi

kcsv="$(echo $ks | tr ' ' ',')"
: >"$tmp/results.tsv"
for r in $(seq 1 "$rounds"); do
	order="$sides"
	[ $((r % 2)) -eq 0 ] && order="$(echo $sides | awk '{for (i = NF; i > 0; i--) printf "%s ", $i}')"
	for side in $order; do
		"$tmp/$side.bin" -m "$model" -k "$kcsv" -s "$steps" -t "$threads" -mmap="$mmap" |
			awk -v s="$side" -v r="$r" -v c="$col" '{print r "\t" s "\t" $1 "\t" $(c-1)}' >>"$tmp/results.tsv"
	done
done

echo "# $(date -u +%FT%TZ) $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
what="wall"; [ "$col" = 4 ] && what="process CPU"
echo "# model $model, $threads threads, $steps steps per size, $rounds rounds (median $what ms per step)"
awk -F'\t' -v sides="$sides" '
function median(list,   n, a, i, j, t) {
	n = split(list, a, " ")
	for (i = 2; i <= n; i++) { t = a[i]; for (j = i - 1; j > 0 && a[j] > t; j--) a[j+1] = a[j]; a[j+1] = t }
	return n % 2 ? a[(n+1)/2] : (a[n/2] + a[n/2+1]) / 2
}
{ ms[$2, $3] = ms[$2, $3] " " $4; v[$1, $2, $3] = $4; if (!($3 in seen)) { seen[$3] = 1; ks[++nk] = $3 }; nr = $1 }
END {
	ns = split(sides, S, " ")
	printf "k"
	for (i = 1; i <= ns; i++) printf "\t%s ms/step\t%s agg×", S[i], S[i]
	if (ns == 2) printf "\tnew/base time"
	printf "\n"
	for (q = 1; q <= nk; q++) {
		k = ks[q]; printf "%s", k
		for (i = 1; i <= ns; i++) {
			s = S[i]; agg = ""
			for (r = 1; r <= nr; r++) agg = agg " " (k * v[r, s, ks[1]] / v[r, s, k] / ks[1])
			printf "\t%.1f\t%.2f", median(ms[s, k]), median(agg)
		}
		if (ns == 2) { rat = ""; for (r = 1; r <= nr; r++) rat = rat " " (v[r, "new", k] / v[r, "base", k]); printf "\t%.2f", median(rat) }
		printf "\n"
	}
}' "$tmp/results.tsv"
