#!/usr/bin/env bash
# attention: engine/cpu's BenchmarkAttention* (decode of 8 sequences at
# position 4000, contiguous and scattered blocks; a 32-row prefill over 1000
# cached positions) on a base revision (default: where HEAD left main) and
# on the working tree, the two test binaries run alternately round by
# round; prints per benchmark the median ns/op of each side and the median
# of the per-round ratios base/tree. The base gets the tree's attention_bench_test.go so both
# sides run the same benchmarks. -B runs other benchmarks of the package
# instead (a -test.bench pattern; the base keeps its own benchmark files
# then, so pick ones both sides have). Not part of `make test`.
#
#   bash bench/attention.sh                 # branch point vs the tree, 5 rounds
#   bash bench/attention.sh -r 9 -n 40x -b HEAD~3
#   bash bench/attention.sh -B 'MatMulPrefill/(F16|BF16)/' -r 7
#   GODEBUG=cpu.avx512f=off bash bench/attention.sh -B 'MatMulFloatRows/^F16$/'
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/.." && pwd)"

rounds=5 benchtime=20x base="$(git -C "$root" merge-base main HEAD)" bench=Attention
while [ $# -gt 0 ]; do
	case "$1" in
	-r) rounds="$2"; shift 2 ;;
	-n) benchtime="$2"; shift 2 ;;
	-b) base="$2"; shift 2 ;;
	-B) bench="$2"; shift 2 ;;
	-h | --help) sed -n '2,15p' "$0"; exit 0 ;;
	*) echo "attention: unknown argument $1" >&2; exit 2 ;;
	esac
done
tmp="$(mktemp -d)"
cleanup() {
	git -C "$root" worktree remove --force "$tmp/base" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
git -C "$root" worktree add -q --detach "$tmp/base" "$base"
[ "$bench" != Attention ] || cp "$root/engine/cpu/attention_bench_test.go" "$tmp/base/engine/cpu/"
(cd "$tmp/base" && go test -c -o "$tmp/base.test" ./engine/cpu)
(cd "$root" && go test -c -o "$tmp/tree.test" ./engine/cpu)
for r in $(seq "$rounds"); do
	for side in base tree; do
		"$tmp/$side.test" -test.run '^$' -test.bench "$bench" -test.benchtime="$benchtime" |
			awk -v r="$r" -v s="$side" '/^Benchmark/ { print r, s, $1, $3 }'
	done
done >"$tmp/raw"
awk '
	{ v[$3, $2, $1] = $4; names[$3] = 1; if ($1 > n) n = $1 }
	function median(a, k,   i, j, t) {
		for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (a[j] < a[i]) { t = a[i]; a[i] = a[j]; a[j] = t }
		return k % 2 ? a[(k + 1) / 2] : (a[k / 2] + a[k / 2 + 1]) / 2
	}
	END {
		printf "%-40s %14s %14s %8s\n", "benchmark (" n " rounds)", "base ns/op", "tree ns/op", "ratio"
		for (b in names) {
			for (i = 1; i <= n; i++) { x[i] = v[b, "base", i]; y[i] = v[b, "tree", i]; q[i] = x[i] / y[i] }
			printf "%-40s %14.0f %14.0f %8.2f\n", b, median(x, n), median(y, n), median(q, n)
		}
	}' "$tmp/raw"
