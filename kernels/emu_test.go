// Tests of the kernels without a GPU: the CUDA sources compiled as host C++
// against the execution-model emulation in emu/emu.h (clang++-16), run on
// random inputs against double-precision references, and their dequantizers
// compared bit for bit with ggml's own dequantization of the reference
// models (../shared/reference/dequant). Skipped when clang++-16 is absent.
package kernels_test

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helexa/helexa/gguf"
	"github.com/helexa/helexa/internal/emutest"
	"github.com/helexa/helexa/internal/reftest"
)

// TestMain removes the emulator binary the tests share.
func TestMain(m *testing.M) { emutest.Main(m) }

func TestKernelsUnderEmulation(t *testing.T) {
	bin := emutest.Build(t, "emu_main.cc")
	seed := rand.Uint64() >> 1
	out, err := exec.Command(bin, "selftest", fmt.Sprint(seed)).CombinedOutput()
	if err != nil {
		t.Fatalf("emulated kernels (seed %d): %v\n%s", seed, err, out)
	}
	if !strings.Contains(string(out), "PASS: 0 failures") {
		t.Fatalf("emulator output lacks its verdict:\n%s", out)
	}
	if testing.Verbose() {
		t.Logf("%s", out)
	}
}

// dequantCases maps the reference dequantization files to the model each
// was taken from and the kernel suffix of its type.
var dequantCases = []struct {
	typ, model, suffix string
}{
	{"F16", "mini-f16", "f16"},
	{"BF16", "mini-bf16", "bf16"},
	{"Q8_0", "mini-q8_0", "q8_0"},
	{"Q4_0", "mini-q4_0", "q4_0"},
	{"Q4_K", "mini-q4_k_m", "q4_k"},
	{"Q5_K", "mini-q5_k_m", "q5_k"},
	{"Q6_K", "mini-q6_k", "q6_k"},
}

// TestDequantizersMatchGGML runs each type's embedding kernel (which is
// nothing but its dequantizer) over every row of the reference tensor and
// requires ggml's values bit for bit: on the host nothing fuses the
// multiply-adds, so the arithmetic is ggml's.
func TestDequantizersMatchGGML(t *testing.T) {
	reftest.Path(t, "dequant") // skip before building the emulator when the data is absent
	bin := emutest.Build(t, "emu_main.cc")
	for _, c := range dequantCases {
		t.Run(c.typ, func(t *testing.T) {
			raw, err := os.ReadFile(reftest.Path(t, "dequant", c.typ+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var want struct {
				Tensor string    `json:"tensor"`
				Shape  []int     `json:"shape"`
				Rows   int       `json:"rows"`
				Values []float64 `json:"values"`
			}
			if err := json.Unmarshal(raw, &want); err != nil {
				t.Fatal(err)
			}
			f, err := gguf.Open(reftest.Model(t, c.model))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			info, err := f.Tensor(want.Tensor)
			if err != nil {
				t.Fatal(err)
			}
			data, err := f.TensorData(info)
			if err != nil {
				t.Fatal(err)
			}
			dir := t.TempDir()
			in, out := filepath.Join(dir, "raw"), filepath.Join(dir, "out")
			if err := os.WriteFile(in, data, 0o644); err != nil {
				t.Fatal(err)
			}
			ne0, rows := want.Shape[0], want.Rows
			if o, err := exec.Command(bin, "deq", c.suffix, fmt.Sprint(ne0), fmt.Sprint(rows), in, out).CombinedOutput(); err != nil {
				t.Fatalf("emu deq: %v\n%s", err, o)
			}
			got, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 4*len(want.Values) {
				t.Fatalf("%d bytes of output, want %d values", len(got), len(want.Values))
			}
			bad := 0
			for i, w := range want.Values {
				g := math.Float32frombits(binary.LittleEndian.Uint32(got[4*i:]))
				if g != float32(w) {
					if bad < 5 {
						t.Errorf("element %d (row %d col %d): %v, ggml %v", i, i/ne0, i%ne0, g, float32(w))
					}
					bad++
				}
			}
			if bad > 0 {
				t.Fatalf("%d of %d elements differ from ggml", bad, len(want.Values))
			}
		})
	}
}
