#!/usr/bin/env bash
# cortex-bench: the proxy-overhead benchmarks of package cortex on 2 cores,
# several rounds, with the median of every metric. BenchmarkProxyLatency
# alternates a direct request and one through cortex in each iteration;
# BenchmarkProxyThroughput runs direct then through cortex in each round,
# and the ratio of the two is printed per round and as a median.
#   scripts/cortex-bench.sh [ROUNDS]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-5}
pin=()
if command -v taskset >/dev/null 2>&1 && [ "$(nproc)" -ge 2 ]; then pin=(taskset -c 0,1); fi
go test -c -o /tmp/cortex-bench.test ./cortex
out=$(GOMAXPROCS=2 "${pin[@]}" /tmp/cortex-bench.test -test.run '^$' -test.bench 'ProxyLatency' -test.benchtime 300x -test.count "$rounds"
  for _ in $(seq "$rounds"); do
    GOMAXPROCS=2 "${pin[@]}" /tmp/cortex-bench.test -test.run '^$' -test.bench 'ProxyThroughput' -test.benchtime 2s
  done)
rm -f /tmp/cortex-bench.test
echo "$out" | grep -E '^(goos|goarch|cpu|Benchmark)'
echo
echo "medians over $rounds rounds:"
echo "$out" | awk '
/^Benchmark/ {
  name = $1; sub(/-[0-9]+$/, "", name)
  for (i = 3; i < NF; i += 2) { key = name " " $(i+1); vals[key] = vals[key] " " $i; keys[key] = 1 }
}
END {
  for (k in keys) {
    n = split(substr(vals[k], 2), v, " ")
    for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
    med = (n % 2) ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    printf "%-40s %-24s %12.1f\n", substr(k, 1, index(k, " ") - 1), substr(k, index(k, " ") + 1), med
  }
}' | sort
echo
echo "throughput through cortex / direct, per round:"
echo "$out" | awk '/ProxyThroughput\/direct/ { d = $(NF-1) } /ProxyThroughput\/cortex/ { r[++n] = $(NF-1) / d; printf "  %.3f\n", r[n] }
END { for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (r[j] < r[i]) { t = r[i]; r[i] = r[j]; r[j] = t }
  printf "median %.3f\n", (n % 2) ? r[(n + 1) / 2] : (r[n / 2] + r[n / 2 + 1]) / 2 }'
