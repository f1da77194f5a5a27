#!/usr/bin/env bash
# gpu-check: the CUDA backend's whole device run in one command. Run it from
# the repository root on a GPU machine, with .gpu/ built by
# scripts/gpu-prepare.sh carried along:
#
#   bash scripts/gpu-check.sh
#
# Steps (each one's failure is recorded in the summary, none stops the run):
#   1. nvidia-smi: card, driver, memory, clocks
#   2. ptxas (when the toolkit is there): assemble each PTX for its architecture,
#      report registers and spills
#   3. the GPU tests (.gpu/cuda.test -test.v) in three processes: host-only
#      tests, per-op parity, model parity / memory / graphs; then the engine's
#      model parity suite on the GPU (.gpu/engine.test, go test ./engine -tags cuda)
#   4. neuron synth + neuron bench --device cuda: 0.6b q8_0 and q4_k_m, then
#      compute-sanitizer memcheck over a short subset of the tests, then 8b
#      q4_k_m and q8_0, then racecheck over the same subset
# and prints a summary table last: steps, per-op max normalized error,
# model parity lines, bench tokens/s. Logs go to $OUT (the device run's
# returned folder) or .gpu/out: env.log, tests.log, sanitizer.log,
# bench.log, summary.txt.
#
# GPU_CHECK_BUDGET (seconds, default 480) bounds the whole run; steps that
# would start with less than their minimum left are recorded as skipped.
# Steps run in order of importance, so a short budget loses the least.
set -u
cd "$(dirname "$0")/.."

G=.gpu
OUTDIR="${OUT:-$G/out}"
mkdir -p "$OUTDIR"
BUDGET="${GPU_CHECK_BUDGET:-480}"
MODELS="${GPU_CHECK_MODELS:-/tmp/helexa-models}"
START=$(date +%s)
SUMMARY="$OUTDIR/summary.txt"
ENVLOG="$OUTDIR/env.log" TESTLOG="$OUTDIR/tests.log" SANLOG="$OUTDIR/sanitizer.log" BENCHLOG="$OUTDIR/bench.log"
: >"$ENVLOG"; : >"$TESTLOG"; : >"$SANLOG"; : >"$BENCHLOG"
ROWS=()
BENCH_ROWS=()

export HELEXA_CUDA_REQUIRED=1 # a GPU test that cannot open the device fails instead of skipping
export HELEXA_REFERENCE="$PWD/$G/reference"

elapsed() { echo $(($(date +%s) - START)); }

# gpu-prepare.sh ships the binaries gzipped (the device run's size limit).
for z in "$G"/*.gz; do
  [ -e "$z" ] || continue
  gzip -dc "$z" >"${z%.gz}" && chmod +x "${z%.gz}"
done

# run NAME MIN_SECS MAX_SECS LOG CMD...: runs CMD with a timeout (at most
# MAX_SECS, at most what the budget has left), appending to LOG; records the
# outcome in ROWS; returns CMD's status.
run() {
  local name=$1 min=$2 maxs=$3 log=$4
  shift 4
  local left=$((BUDGET - $(elapsed)))
  if [ "$left" -lt "$min" ]; then
    ROWS+=("$(printf '%-28s %-8s %5s  %s' "$name" skipped - "only ${left}s of budget left")")
    LAST_STATUS=skipped
    return 99
  fi
  local lim=$((left < maxs ? left : maxs))
  local t0
  t0=$(date +%s)
  {
    echo "=== $name: $* (timeout ${lim}s)"
  } >>"$log"
  timeout --kill-after=10 "$lim" "$@" >>"$log" 2>&1
  local rc=$?
  local secs=$(($(date +%s) - t0))
  local status=ok
  [ $rc -ne 0 ] && status="FAIL($rc)"
  [ $rc -eq 124 ] || [ $rc -eq 137 ] && status="TIMEOUT"
  # A failed step's note starts with the last line it printed.
  local why=""
  if [ $rc -ne 0 ]; then
    why="$(grep -v '^=== ' "$log" | grep -v '^[[:space:]]*$' | tail -1 | cut -c1-90); "
  fi
  echo "=== $name: exit $rc after ${secs}s" >>"$log"
  LAST_STATUS=$status
  ROWS+=("$(printf '%-28s %-8s %5s  %s' "$name" "$status" "$secs" "$why")")
  return $rc
}

# note_last appends to the last recorded row unless its step was skipped.
LAST_STATUS=
note_last() {
  [ "$LAST_STATUS" = skipped ] && return
  ROWS[${#ROWS[@]}-1]="${ROWS[${#ROWS[@]}-1]}$*"
}

# ---- 1. the card ------------------------------------------------------------
CARD=unknown
if command -v nvidia-smi >/dev/null 2>&1; then
  run "nvidia-smi" 5 30 "$ENVLOG" nvidia-smi
  nvidia-smi --query-gpu=name,driver_version,compute_cap,memory.total,memory.used,clocks.max.sm,clocks.max.mem,power.limit \
    --format=csv >>"$ENVLOG" 2>&1
  CARD=$(nvidia-smi --query-gpu=name,driver_version,compute_cap --format=csv,noheader 2>/dev/null | head -1)
else
  ROWS+=("$(printf '%-28s %-8s %5s  %s' nvidia-smi missing - "no nvidia-smi on PATH")")
fi
cat "$G/BUILD" >>"$ENVLOG" 2>/dev/null

# ---- 2. ptxas -------------------------------------------------------------------
PTXAS=$(command -v ptxas || ls /usr/local/cuda/bin/ptxas 2>/dev/null | head -1)
if [ -n "$PTXAS" ]; then
  for f in kernels/ptx/sm_*.ptx; do
    arch=$(basename "$f" .ptx)
    before=$(wc -l <"$ENVLOG")
    run "ptxas $arch" 10 120 "$ENVLOG" "$PTXAS" -arch="$arch" -v -o /dev/null "$f"
    regs=$(tail -n +"$before" "$ENVLOG" | grep -o 'Used [0-9]* registers' | awk '{if ($2>m) m=$2} END {print m+0}')
    spills=$(tail -n +"$before" "$ENVLOG" | grep -o '[0-9]* bytes spill stores' | awk '{s+=$1} END {print s+0}')
    note_last "max ${regs} regs, ${spills} spill-store bytes"
  done
else
  ROWS+=("$(printf '%-28s %-8s %5s  %s' ptxas missing - "no CUDA toolkit; PTX checked only by the driver JIT")")
fi

# ---- 3. GPU tests -----------------------------------------------------------------
if [ -x "$G/cuda.test" ]; then
  tests_group() { # name min max pattern [test binary]
    local name=$1 min=$2 maxs=$3 pat=$4 bin=${5:-$G/cuda.test}
    local before
    before=$(wc -l <"$TESTLOG")
    run "$name" "$min" "$maxs" "$TESTLOG" "$bin" -test.v -test.count=1 -test.timeout="${maxs}s" -test.run "$pat"
    local seg pass fail skip subfail
    seg=$(tail -n +"$((before + 1))" "$TESTLOG")
    pass=$(grep -c '^--- PASS' <<<"$seg")
    fail=$(grep -c '^--- FAIL' <<<"$seg")
    skip=$(grep -c '^--- SKIP' <<<"$seg")
    subfail=$(grep -c '^ \+--- FAIL' <<<"$seg")
    note_last "tests pass $pass fail $fail skip $skip; subtests failed $subfail"
  }
  tests_group "tests: host-only" 10 60 '^(TestOpenWithout|TestBackendIs|TestError|TestChoose|TestLaunchShape|TestKernelNames|TestEverySupported|TestHalf|TestWiden)'
  tests_group "tests: per-op parity" 30 180 '^TestOp[A-Z]'
  tests_group "tests: models, memory, graph" 30 180 '^(TestModel|TestCanFit|TestGraph)'
  if [ -x "$G/engine.test" ]; then
    tests_group "tests: engine parity (cuda)" 30 180 '^TestParity.*CUDA$' "$G/engine.test"
  else
    ROWS+=("$(printf '%-28s %-8s %5s  %s' "tests: engine parity" missing - "$G/engine.test not built (scripts/gpu-prepare.sh)")")
  fi
else
  ROWS+=("$(printf '%-28s %-8s %5s  %s' tests missing - "$G/cuda.test not built (scripts/gpu-prepare.sh)")")
fi

# ---- 4. synth + bench -----------------------------------------------------------------
tok_s() { # file key -> tok/s from neuron bench --json
  if command -v python3 >/dev/null 2>&1; then
    python3 -c 'import json,sys
d=json.loads(open(sys.argv[1]).read().strip().splitlines()[-1]); print("%.1f" % d[sys.argv[2]]["tok_s"])' "$1" "$2" 2>/dev/null || echo "?"
  else
    tr -d ' \n' <"$1" | grep -o "\"$2\":{[^}]*" | grep -o '"tok_s":[0-9.e+]*' | cut -d: -f2 | head -1
  fi
}
bench_model() { # preset type reps min-seconds
  local preset=$1 typ=$2 reps=$3 minsecs=$4
  if [ ! -x "$G/neuron" ]; then
    ROWS+=("$(printf '%-28s %-8s %5s  %s' "bench $preset $typ" missing - "$G/neuron not built")")
    return
  fi
  mkdir -p "$MODELS"
  local f="$MODELS/qwen3-$preset-$typ.gguf"
  if run "synth $preset $typ" "$minsecs" 180 "$BENCHLOG" "$G/neuron" synth --arch qwen3 --preset "$preset" --type "$typ" -o "$f"; then
    note_last "$(du -h "$f" | cut -f1)"
    local js="$OUTDIR/bench-$preset-$typ.json.tmp"
    if run "bench $preset $typ" "$minsecs" 180 "$BENCHLOG" bash -c "set -o pipefail; '$G/neuron' bench '$f' -p 512 -n 128 -r $reps --device cuda --json | tee '$js'"; then
      local pp tg
      pp=$(tok_s "$js" pp) tg=$(tok_s "$js" tg)
      note_last "pp512 $pp tok/s, tg128 $tg tok/s"
      BENCH_ROWS+=("$(printf '%-8s %-8s %12s %12s' "$preset" "$typ" "$pp" "$tg")")
    fi
    cat "$js" >>"$BENCHLOG" 2>/dev/null
    rm -f "$js"
  fi
  rm -f "$f" # free the disk for the next model
}

# ---- 5. compute-sanitizer ---------------------------------------------------------------
SAN=$(command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer 2>/dev/null | head -1)
# A short subset, as go test -run patterns per subtest level: the small ops,
# attention on an f16 cache, matmul (both kernels) for three weight types.
SUBSET='^TestOp(Embed|RMSNorm|RoPE|Elementwise|CopyRows|Argmax|Attention|MatMul)$/^(F16|Q4_K|Q6_K|Q8_0|gqa2-f16|n=.*|swiglu|add|idx=.*)$/^(256x96|dim=.*|heads=.*|n=.*)$/^(n=1|n=9|alias=.*|dim=.*)$'
sanitize() { # tool min max
  local tool=$1 before summ
  if [ -z "$SAN" ] || [ ! -x "$G/cuda.test" ]; then
    ROWS+=("$(printf '%-28s %-8s %5s  %s' "compute-sanitizer $tool" missing - "not on PATH or no test binary")")
    return
  fi
  before=$(wc -l <"$SANLOG")
  run "compute-sanitizer $tool" "$2" "$3" "$SANLOG" "$SAN" --tool "$tool" --error-exitcode 3 \
    "$G/cuda.test" -test.count=1 -test.run "$SUBSET"
  summ=$(tail -n +"$((before + 1))" "$SANLOG" | grep -E 'ERROR SUMMARY|RACECHECK SUMMARY' | tail -1 | sed 's/=*//')
  note_last "${summ:-no summary line}"
}

# Most important first: the budget may run out before the end.
bench_model 0.6b q8_0 3 30
bench_model 0.6b q4_k_m 3 30
sanitize memcheck 40 150
bench_model 8b q4_k_m 2 90
bench_model 8b q8_0 2 90
sanitize racecheck 40 120

# ---- summary ---------------------------------------------------------------------------
{
  echo
  echo "==== helexa gpu-check on: ${CARD} ($(cat "$G/BUILD" 2>/dev/null | head -1)), $(elapsed)s ===="
  echo
  grep -o 'device cuda:.*' "$TESTLOG" | head -1 | sed 's/^/  /'
  echo
  echo "per-op max normalized error (bound) over all cases:"
  grep -o 'opstat key=[^ ]* err=[^ ]* bound=[^ ]*' "$TESTLOG" | sed 's/opstat //; s/key=//; s/err=//; s/bound=//' |
    awk '{ if (!($1 in m) || $2+0 > m[$1]+0 || $2 == "+Inf") m[$1]=$2; b[$1]=$3; n[$1]++ }
         END { for (k in m) printf "  %-36s %10s  (%s, %d cases)%s\n", k, m[k], b[k], n[k], (m[k]+0 > b[k]+0 || m[k] == "+Inf") ? "  EXCEEDS" : "" }' | sort
  echo
  echo "model parity (|dlogit| max, greedy agreement before the first near-tie):"
  grep -o 'modelstat .*' "$TESTLOG" | sed 's/modelstat /  /' || true
  echo
  if [ ${#BENCH_ROWS[@]} -gt 0 ]; then
    echo "neuron bench --device cuda (pp512 / tg128 tokens per second) on ${CARD}:"
    printf '  %-8s %-8s %12s %12s\n' preset type pp512 tg128
    for r in "${BENCH_ROWS[@]}"; do echo "  $r"; done
    echo
  fi
  echo "steps:"
  printf '  %-28s %-8s %5s  %s\n' step status secs note
  for r in "${ROWS[@]}"; do echo "  $r"; done
  echo
  echo "logs: $OUTDIR/{env,tests,sanitizer,bench}.log"
} | tee "$SUMMARY"
