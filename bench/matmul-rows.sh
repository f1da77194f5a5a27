#!/usr/bin/env bash
# matmul-rows: engine/cpu's BenchmarkMatMulRows with the multi-row integer
# kernels off and on (MATMUL_GEMM=off / on, or the two values given with
# -a and -b), alternating round by round on one test binary; prints per
# benchmark the median ns per call of each side and the median of the
# per-round ratios a/b. The figure is the process CPU time per call
# (cpu-ns/op), which an oversubscribed machine disturbs far less than the
# wall time, provided one thread runs (-t 1, the default); --wall takes
# ns/op instead. With --model the Qwen3-0.6B Q8_0 shapes run
# instead, and a last table sums them into a whole decode step's matrix
# time per batch size (28 layers of q, k, v, o, gate, up, down, plus the
# output matrix), the aggregate-throughput ratio k·t(1)/t(k) it allows,
# and the marginal cost of a row. Not part of `make test`.
#
#   bash bench/matmul-rows.sh -r 5                 # 1024→3072, every type
#   bash bench/matmul-rows.sh --model -r 5 -t 2    # the model's shapes, 2 threads
#   bash bench/matmul-rows.sh -a on -b all          # gemm for 2+ rows vs for every row
#   bash bench/matmul-rows.sh -f 'Q8_0' -n 200x     # a benchmark filter, -benchtime
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

rounds=3 threads=1 a=off b=on filter="" benchtime=100x shapes="" metric=cpu-ns/op
while [ $# -gt 0 ]; do
	case "$1" in
	-r) rounds="$2"; shift 2 ;;
	-t) threads="$2"; shift 2 ;;
	-a) a="$2"; shift 2 ;;
	-b) b="$2"; shift 2 ;;
	-f) filter="$2"; shift 2 ;;
	-n) benchtime="$2"; shift 2 ;;
	--model) shapes=model; shift ;;
	--wall) metric=ns/op; shift ;;
	-h | --help) sed -n '2,17p' "$0"; exit 0 ;;
	*) echo "matmul-rows: unknown argument $1" >&2; exit 2 ;;
	esac
done
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# MATMUL_ROWS_RAW=file keeps the per-round figures (round, side, name, ns).
(cd "$root" && go test -c -o "$tmp/cpu.test" ./engine/cpu)
for r in $(seq 1 "$rounds"); do
	order="$a $b"
	[ $((r % 2)) -eq 0 ] && order="$b $a"
	for side in $order; do
		MATMUL_GEMM="$side" MATMUL_ROWS_SHAPES="$shapes" "$tmp/cpu.test" -test.run '^$' \
			-test.bench "MatMulRows/$filter" -test.benchtime "$benchtime" -test.cpu "$threads" |
			awk -v s="$side" -v r="$r" '/^BenchmarkMatMulRows/ {sub(/-[0-9]+$/, "", $1); sub(/^BenchmarkMatMulRows\//, "", $1); for (i = 4; i < NF; i++) if ($(i+1) == m) t = $i; print r "\t" s "\t" $1 "\t" t}' m="$metric" >>"$tmp/res.tsv"
	done
done
[ -n "${MATMUL_ROWS_RAW:-}" ] && cp "$tmp/res.tsv" "$MATMUL_ROWS_RAW"
echo "# $(date -u +%FT%TZ) $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $threads threads, $rounds rounds, -benchtime $benchtime"
awk -F'\t' -v A="$a" -v B="$b" -v model="$shapes" '
function median(list,   n, x, i, j, t) {
	n = split(list, x, " ")
	for (i = 2; i <= n; i++) { t = x[i]; for (j = i - 1; j > 0 && x[j] > t; j--) x[j+1] = x[j]; x[j+1] = t }
	return n % 2 ? x[(n+1)/2] : (x[n/2] + x[n/2+1]) / 2
}
{ ns[$2, $3] = ns[$2, $3] " " $4; v[$1, $2, $3] = $4; if (!($3 in seen)) { seen[$3] = 1; names[++nn] = $3 }; if ($1 > nr) nr = $1 }
END {
	printf "%-36s %12s %12s %8s\n", "benchmark", A " ns", B " ns", A "/" B
	for (q = 1; q <= nn; q++) {
		k = names[q]; rat = ""
		for (r = 1; r <= nr; r++) if (v[r, B, k] > 0) rat = rat " " v[r, A, k] / v[r, B, k]
		printf "%-36s %12.0f %12.0f %8.2f\n", k, median(ns[A, k]), median(ns[B, k]), median(rat)
	}
	if (model != "model") exit
	# Per layer: q 2048x1024, k and v 1024x1024, o 1024x2048, gate and up
	# 3072x1024, down 1024x3072; 28 layers; output 151936x1024 once.
	w["2048x1024"] = 28; w["1024x1024"] = 56; w["1024x2048"] = 28; w["3072x1024"] = 56; w["1024x3072"] = 28; w["151936x1024"] = 1
	printf "\nwhole step (matrices only), ms per step:\n%-6s %10s %10s %8s %8s %12s %12s\n", "rows", A, B, A " agg×", B " agg×", A " ms/row+", B " ms/row+"
	for (q = 1; q <= nn; q++) { split(names[q], p, "/"); sub(/rows=/, "", p[3]); if (!(p[3] in rs)) { rs[p[3]] = 1; rows[++nrw] = p[3] } }
	for (s = 1; s <= 2; s++) { side = (s == 1 ? A : B)
		for (q = 1; q <= nn; q++) { split(names[q], p, "/"); n = p[3]; sub(/rows=/, "", n); step[side, n] += w[p[2]] * median(ns[side, names[q]]) / 1e6 } }
	for (i = 1; i <= nrw; i++) { n = rows[i]
		printf "%-6s %10.1f %10.1f %8.2f %8.2f %12.2f %12.2f\n", n, step[A, n], step[B, n], n * step[A, rows[1]] / step[A, n], n * step[B, rows[1]] / step[B, n], (n > 1 ? (step[A, n] - step[A, rows[1]]) / (n - 1) : 0), (n > 1 ? (step[B, n] - step[B, rows[1]]) / (n - 1) : 0) }
}' "$tmp/res.tsv"
