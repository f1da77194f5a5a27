//go:build cuda

// Helpers of the GPU tests (go test -tags cuda): opening the device, random
// inputs, poisoned outputs and the normalized error every comparison uses.
package cuda

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"strings"
	"testing"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/engine/cpu"
)

// requireEnv makes a missing GPU a failure instead of a skip; the device
// check script sets it so that a broken driver cannot pass silently.
const requireEnv = "HELEXA_CUDA_REQUIRED"

// emulateEnv runs these tests on the emulated device of emudriver_test.go
// instead of a GPU (slow; it checks the tests and the host side without a
// device).
const emulateEnv = "HELEXA_CUDA_EMULATE"

func emulated() bool { return os.Getenv(emulateEnv) == "1" }

// openGPU opens device 0 or skips (fails under HELEXA_CUDA_REQUIRED=1).
// Under HELEXA_CUDA_EMULATE=1 it returns a backend on the emulated device.
func openGPU(t testing.TB) *Backend {
	t.Helper()
	if emulated() {
		b, _ := newEmuBackend(t)
		return b
	}
	b, err := Open(0)
	if err != nil {
		if errors.Is(err, ErrNoDevice) && os.Getenv(requireEnv) != "1" {
			t.Skipf("skipping: %v", err)
		}
		t.Fatalf("open cuda backend: %v", err)
	}
	t.Logf("device %s (%s), compute capability %d, %d SMs, PTX %s", b.Name(), b.DeviceName(), b.ComputeCapability(), b.Multiprocessors(), b.Arch())
	return b
}

// pair opens the GPU and a CPU backend, closed when the test ends.
func pair(t testing.TB) (*Backend, engine.Backend) {
	g := openGPU(t)
	c := cpu.New(engine.BackendOptions{Threads: 4})
	t.Cleanup(func() {
		if err := g.Close(); err != nil {
			t.Errorf("close gpu backend: %v", err)
		}
		c.Close()
	})
	return g, c
}

// newRand returns a generator with a fresh seed, logged so a failure can be
// reproduced by hand.
func newRand(t testing.TB) *rand.Rand {
	seed := rand.Uint64()
	t.Logf("seed %d", seed)
	return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
}

func randn(r *rand.Rand, n int, scale float64) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64() * scale)
	}
	return x
}

// poisoned allocates a buffer of n elements filled with NaN.
func poisoned(t testing.TB, b engine.Backend, n int) engine.Buffer {
	return upload(t, b, nanFill(n))
}

// errStats compares got with the reference: the normalized error
// ‖got-ref‖/‖ref‖ and the largest absolute difference. NaN or Inf in got
// makes both +Inf.
func errStats(got []float32, ref []float64) (norm, maxAbs float64) {
	if len(got) != len(ref) {
		return math.Inf(1), math.Inf(1)
	}
	var num, den float64
	for i, g := range got {
		gv := float64(g)
		if math.IsNaN(gv) || math.IsInf(gv, 0) {
			return math.Inf(1), math.Inf(1)
		}
		d := gv - ref[i]
		num += d * d
		den += ref[i] * ref[i]
		maxAbs = max(maxAbs, math.Abs(d))
	}
	if den == 0 {
		return math.Sqrt(num), maxAbs
	}
	return math.Sqrt(num / den), maxAbs
}

func widen(x []float32) []float64 {
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)
	}
	return out
}

// checkErr fails when the normalized error of got against ref exceeds tol,
// and logs it either way in a fixed form that scripts/gpu-check.sh
// collects: key groups the cases of one op, kernel and type ("matmul/Q4_K/
// mma vs float64"); detail names the case.
func checkErr(t testing.TB, key, detail string, got []float32, ref []float64, tol float64) {
	t.Helper()
	norm, maxAbs := errStats(got, ref)
	t.Logf("opstat key=%s err=%.3g bound=%.3g maxabs=%.3g case=%s", strings.ReplaceAll(key, " ", "_"), norm, tol, maxAbs, detail)
	if !(norm <= tol) {
		t.Errorf("%s %s: normalized error %.3g exceeds %.3g (max abs diff %.3g)", key, detail, norm, tol, maxAbs)
	}
}
