//go:build cuda

// The model parity suite of parity_test.go on the GPU: `go test ./engine
// -tags cuda` runs the reference models through the engine on the CUDA
// backend against llama.cpp's logits, at the same tolerances as the CPU
// path. On a machine without a usable GPU the tests skip and say why;
// HELEXA_CUDA_REQUIRED=1 (set by scripts/gpu-check.sh) makes that a failure,
// so a broken driver cannot pass silently.

package engine_test

import (
	"errors"
	"os"
	"slices"
	"testing"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/engine/cuda"
	"github.com/helexa/helexa/internal/reftest"
)

// requireCUDA skips the test when no CUDA device can be opened (fails under
// HELEXA_CUDA_REQUIRED=1) and logs the device otherwise.
func requireCUDA(t *testing.T) {
	t.Helper()
	b, err := cuda.Open(0)
	if err != nil {
		if errors.Is(err, cuda.ErrNoDevice) && os.Getenv("HELEXA_CUDA_REQUIRED") != "1" {
			t.Skipf("skipping the CUDA model parity suite: no usable GPU here (%v); run it on an NVIDIA GPU machine (HELEXA_CUDA_REQUIRED=1 turns this skip into a failure)", err)
		}
		t.Fatalf("open the CUDA backend: %v", err)
	}
	defer b.Close()
	t.Logf("device %s (%s), compute capability %d, PTX %s", b.Name(), b.DeviceName(), b.ComputeCapability(), b.Arch())
	if !slices.Contains(engine.Backends(), "cuda") {
		t.Fatal(`backend "cuda" is not registered with the engine`)
	}
}

func TestParityLlamaCppCUDA(t *testing.T) {
	reftest.Dir(t)
	requireCUDA(t)
	runParity(t, "cuda")
}

func TestParityF16CacheCUDA(t *testing.T) {
	reftest.Dir(t)
	requireCUDA(t)
	runParityF16Cache(t, "cuda")
}
