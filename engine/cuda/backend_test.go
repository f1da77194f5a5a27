// Tests of the CUDA backend that need no GPU: the behaviour without a
// driver, the kernel choice, the kernel names against the embedded PTX and
// the host-side conversions.
package cuda

import (
	"errors"
	"math"
	"os"
	"slices"
	"testing"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
	"github.com/helexa/helexa/kernels"
)

// hasDriver reports whether this host has the CUDA driver library.
func hasDriver() bool {
	for _, p := range []string{"/usr/lib/x86_64-linux-gnu/libcuda.so.1", "/usr/lib64/libcuda.so.1", "/usr/lib/libcuda.so.1", "/usr/local/nvidia/lib64/libcuda.so.1"} {
		if _, err := os.Stat(p); err == nil {
			return true
		}
	}
	return false
}

func TestOpenWithoutDriverIsErrNoDevice(t *testing.T) {
	if hasDriver() {
		t.Skip("this host has a CUDA driver; the no-device path is not reachable here")
	}
	b, err := Open(-1)
	if err == nil {
		b.Close()
		t.Fatal("Open succeeded without a driver")
	}
	if !errors.Is(err, ErrNoDevice) {
		t.Fatalf("Open error %v does not wrap ErrNoDevice", err)
	}
	// Through the registry, as neuron opens it.
	_, err = engine.OpenBackend("cuda", 0, engine.BackendOptions{})
	if !errors.Is(err, ErrNoDevice) {
		t.Fatalf("engine.OpenBackend(\"cuda\") error %v does not wrap ErrNoDevice", err)
	}
	// A second attempt gives the same answer (the driver is probed once).
	if _, err := Open(0); !errors.Is(err, ErrNoDevice) {
		t.Fatalf("second Open: %v", err)
	}
}

func TestBackendIsRegistered(t *testing.T) {
	if !slices.Contains(engine.Backends(), "cuda") {
		t.Fatalf("backend \"cuda\" not registered: %v", engine.Backends())
	}
}

func TestErrorMatchesSentinels(t *testing.T) {
	cases := []struct {
		name   string
		code   int32
		target error
		want   bool
	}{
		{"no device", cudaErrNoDevice, ErrNoDevice, true},
		{"insufficient driver", cudaErrInsufficientD, ErrNoDevice, true},
		{"out of memory", cudaErrOutOfMemory, ErrOutOfMemory, true},
		{"out of memory is not no device", cudaErrOutOfMemory, ErrNoDevice, false},
		{"illegal address", 700, ErrOutOfMemory, false},
		{"illegal address fails the device", 700, ErrDeviceFailed, true},
		{"launch failure fails the device", 719, ErrDeviceFailed, true},
		{"out of memory leaves the device usable", cudaErrOutOfMemory, ErrDeviceFailed, false},
		{"launch out of resources leaves the device usable", 701, ErrDeviceFailed, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := error(&Error{Call: "cuX", Code: c.code, Name: "N", Msg: "m"})
			if got := errors.Is(err, c.target); got != c.want {
				t.Fatalf("errors.Is(code %d, %v) = %v, want %v", c.code, c.target, got, c.want)
			}
		})
	}
	e := &Error{Call: "cuMemAlloc_v2", Code: 2, Name: "CUDA_ERROR_OUT_OF_MEMORY", Msg: "out of memory"}
	if want := "cuda: cuMemAlloc_v2: CUDA_ERROR_OUT_OF_MEMORY (2): out of memory"; e.Error() != want {
		t.Fatalf("Error() = %q, want %q", e.Error(), want)
	}
}

func TestChooseMatMul(t *testing.T) {
	cases := []struct {
		name  string
		typ   gguf.Type
		cc    int
		nRows int
		want  kernel
	}{
		{"decode q4_k", gguf.TypeQ4_K, 90, 1, kernel{"matvec_q4_k_f32", kindMatVec}},
		{"small batch q8_0", gguf.TypeQ8_0, 80, matvecMaxRows, kernel{"matvec_q8_0_f32", kindMatVec}},
		{"prefill q8_0", gguf.TypeQ8_0, 80, matvecMaxRows + 1, kernel{"matmul_q8_0_f32", kindMatMul}},
		{"prefill f16 hopper", gguf.TypeF16, 90, 512, kernel{"matmul_f16_f32", kindMatMul}},
		{"prefill bf16 ada", gguf.TypeBF16, 89, 64, kernel{"matmul_bf16_f32", kindMatMul}},
		{"prefill f32 stays exact", gguf.TypeF32, 90, 100, kernel{"matvec_f32_f32", kindMatVec}},
		{"prefill q6_k", gguf.TypeQ6_K, 120, 33, kernel{"matmul_q6_k_f32", kindMatMul}},
		{"prefill q5_k", gguf.TypeQ5_K, 86, 9, kernel{"matmul_q5_k_f32", kindMatMul}},
		{"prefill q4_0", gguf.TypeQ4_0, 80, 4096, kernel{"matmul_q4_0_f32", kindMatMul}},
		{"no tensor cores before sm_80", gguf.TypeQ4_K, 75, 512, kernel{"matvec_q4_k_f32", kindMatVec}},
		{"unsupported type", gguf.TypeQ2_K, 90, 1, kernel{}},
		{"unsupported iq", gguf.TypeIQ4_XS, 90, 512, kernel{}},
		{"empty batch", gguf.TypeF32, 90, 0, kernel{}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if got := chooseMatMul(c.typ, c.cc, c.nRows); got != c.want {
				t.Fatalf("chooseMatMul(%s, %d, %d) = %+v, want %+v", c.typ, c.cc, c.nRows, got, c.want)
			}
		})
	}
}

func TestLaunchShapeCoversOutput(t *testing.T) {
	for _, n := range []int{1, 7, 8, 9, 63, 64, 65, 513} {
		for _, ne1 := range []int{1, 3, 64, 100, 2112} {
			k := chooseMatMul(gguf.TypeQ8_0, 90, n)
			g, blk := k.launchShape(ne1, n)
			var rowsPer, colsPer int
			switch k.kind {
			case kindMatVec:
				rowsPer, colsPer = mvRows, int(blk.x)/32
			case kindMatMul:
				rowsPer, colsPer = mmTile, mmTile
			}
			if int(g.x)*colsPer < ne1 || int(g.y)*rowsPer < n {
				t.Fatalf("n %d ne1 %d: grid %+v block %+v does not cover the output", n, ne1, g, blk)
			}
			if int(g.x-1)*colsPer >= ne1 || int(g.y-1)*rowsPer >= n {
				t.Fatalf("n %d ne1 %d: grid %+v has an empty block row/column", n, ne1, g)
			}
		}
	}
}

func TestKernelNamesAreEntriesOfEveryPTX(t *testing.T) {
	names := kernelNames()
	if len(names) != 11+3*len(weightTypes) {
		t.Fatalf("kernelNames has %d names, want %d", len(names), 11+3*len(weightTypes))
	}
	for _, cc := range kernels.Archs() {
		arch, src := kernels.PTX(cc)
		entries := kernels.Entries(src)
		for _, n := range names {
			if _, found := slices.BinarySearch(entries, n); !found {
				t.Errorf("%s: kernel %q launched by the backend is not an .entry", arch, n)
			}
		}
	}
}

func TestEverySupportedTypeHasKernels(t *testing.T) {
	if len(weightSuffix) != len(weightTypes) {
		t.Fatalf("weightSuffix has %d types, weightTypes %d", len(weightSuffix), len(weightTypes))
	}
	for _, typ := range weightTypes {
		if !Supported(typ) {
			t.Errorf("%s listed but not supported", typ)
		}
	}
	for _, typ := range []gguf.Type{gguf.TypeQ4_1, gguf.TypeQ2_K, gguf.TypeQ3_K, gguf.TypeIQ2_XXS, gguf.TypeMXFP4} {
		if Supported(typ) {
			t.Errorf("%s reported supported without kernels", typ)
		}
	}
}

// TestWidenVectorHalf checks that widenVector converts F16 and BF16 norm
// weights exactly, subnormals and specials included.
func TestWidenVectorHalf(t *testing.T) {
	widen1 := func(typ gguf.Type, h uint16) float32 {
		t.Helper()
		out, err := widenVector(typ, []byte{byte(h), byte(h >> 8)})
		if err != nil || len(out) != 1 {
			t.Fatalf("widenVector(%s, %#04x) = %v, %v", typ, h, out, err)
		}
		return out[0]
	}
	cases := []struct {
		name string
		h    uint16
		want float32
	}{
		{"one", 0x3c00, 1},
		{"minus two", 0xc000, -2},
		{"max", 0x7bff, 65504},
		{"smallest subnormal", 0x0001, float32(math.Ldexp(1, -24))},
		{"largest subnormal", 0x03ff, float32(1023 * math.Ldexp(1, -24))},
		{"negative zero", 0x8000, float32(math.Copysign(0, -1))},
		{"inf", 0x7c00, float32(math.Inf(1))},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := widen1(gguf.TypeF16, c.h)
			if math.Float32bits(got) != math.Float32bits(c.want) {
				t.Fatalf("F16 %#04x widened to %v, want %v", c.h, got, c.want)
			}
		})
	}
	if v := widen1(gguf.TypeF16, 0x7e00); v == v {
		t.Fatalf("F16 NaN widened to %v, want NaN", v)
	}
	if got := widen1(gguf.TypeBF16, 0x3fc0); got != 1.5 {
		t.Fatalf("BF16 0x3fc0 widened to %v, want 1.5", got)
	}
}

func TestWidenVectorRejectsQuantized(t *testing.T) {
	if _, err := widenVector(gguf.TypeQ8_0, make([]byte, 34)); err == nil {
		t.Fatal("widenVector accepted a Q8_0 vector")
	}
	got, err := widenVector(gguf.TypeF16, []byte{0x00, 0x3c, 0x00, 0xc0})
	if err != nil || !slices.Equal(got, []float32{1, -2}) {
		t.Fatalf("widenVector(F16) = %v, %v; want [1 -2]", got, err)
	}
}
