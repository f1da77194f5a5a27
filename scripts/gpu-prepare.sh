#!/usr/bin/env bash
# gpu-prepare: build, on this machine, everything scripts/gpu-check.sh runs on
# a GPU machine, into the ignored folder .gpu/ that the device run carries:
#   .gpu/cuda.test   the CUDA backend's tests (go test -c -tags cuda)
#   .gpu/engine.test the engine's tests with the cuda tag: the model parity
#                    suite on the GPU (TestParity*CUDA)
#   .gpu/neuron      the daemon binary (synth and bench)
#   .gpu/reference/  the mini models and llama.cpp's expected outputs
# The binaries are static (CGO_ENABLED=0; the driver is opened at run time)
# and shipped gzipped (gpu-check.sh unpacks them): the folder must stay
# under 60 MiB (the device run's tree limit is 64 MiB).
set -euo pipefail
cd "$(dirname "$0")/.."

LIMIT_MIB=60
REF="${HELEXA_REFERENCE:-../shared/reference}"

rm -rf .gpu
mkdir -p .gpu/reference
export CGO_ENABLED=0
go test -c -tags cuda -trimpath -ldflags '-s -w' -o .gpu/cuda.test ./engine/cuda
go test -c -tags cuda -trimpath -ldflags '-s -w' -o .gpu/engine.test ./engine
go build -trimpath -ldflags '-s -w' -o .gpu/neuron ./cmd/neuron
if ! go list -deps ./cmd/neuron | grep -qx 'github.com/helexa/helexa/engine/cuda'; then
  echo "gpu-prepare: warning: cmd/neuron does not import engine/cuda; neuron bench --device cuda will fail" >&2
fi
if ! .gpu/neuron --help 2>/dev/null | grep -qw synth; then
  echo "gpu-prepare: warning: neuron has no synth command yet; gpu-check will record the bench steps as failed" >&2
fi
if [ -d "$REF/models" ]; then
  cp -r "$REF/models" "$REF/expected" .gpu/reference/
else
  echo "gpu-prepare: warning: no reference data at $REF; model parity tests will fail on the device" >&2
fi
gzip -9 .gpu/cuda.test .gpu/engine.test .gpu/neuron
# Record what was built, for the summary.
{
  echo "commit $(git rev-parse --short HEAD)$(git diff --quiet -- engine kernels || echo +dirty)"
  echo "built $(date -u +%Y-%m-%dT%H:%M:%SZ) with $(go version | cut -d' ' -f3)"
} >.gpu/BUILD

size_kib=$(du -sk .gpu | cut -f1)
echo "gpu-prepare: .gpu is $((size_kib / 1024)) MiB"
du -sh .gpu/* | sed 's/^/  /'
if [ "$size_kib" -gt $((LIMIT_MIB * 1024)) ]; then
  echo "gpu-prepare: .gpu exceeds $LIMIT_MIB MiB" >&2
  exit 1
fi
echo "gpu-prepare: run on the device (carry .gpu): bash scripts/gpu-check.sh"
