// This file tests quantization: the error bounds of ggml's
// test-quantize-fns, stability under re-quantization, and byte-identical
// output against llama-quantize on the reference models.

package gguf

import (
	"bytes"
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/helexa/helexa/internal/reftest"
)

// quantTypes are the types Quantize produces, with the largest total error
// ggml's tests/test-quantize-fns.cpp allows for each (MAX_QUANTIZATION_TOTAL_ERROR
// 0.002, _2BITS 0.0075 for Q2_K, _3BITS 0.0040 for Q3_K).
var quantTypes = []struct {
	typ    Type
	maxErr float64
}{
	{TypeF32, 0.002}, {TypeF16, 0.002}, {TypeBF16, 0.002},
	{TypeQ4_0, 0.002}, {TypeQ4_1, 0.002}, {TypeQ5_0, 0.002}, {TypeQ5_1, 0.002}, {TypeQ8_0, 0.002},
	{TypeQ2_K, 0.0075}, {TypeQ3_K, 0.0040}, {TypeQ4_K, 0.002}, {TypeQ5_K, 0.002}, {TypeQ6_K, 0.002},
	{TypeQ8_K, 0.002},
}

// cosData is test-quantize-fns' synthetic data: 0.1 + 2*cos(i + offset).
func cosData(offset float32, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = 0.1 + 2*float32(math.Cos(float64(float32(i)+offset)))
	}
	return x
}

// totalError is test-quantize-fns' array_rmse: sqrt(sum of squared
// differences) / n.
func totalError(a, b []float32) float64 {
	var sum float64
	for i := range a {
		d := float64(a[i]) - float64(b[i])
		sum += d * d
	}
	return math.Sqrt(sum) / float64(len(a))
}

func roundTrip(t *testing.T, typ Type, x []float32) ([]byte, []float32) {
	t.Helper()
	q, err := Quantize(typ, x)
	if err != nil {
		t.Fatal(err)
	}
	if int64(len(q)) != typ.RowSize(int64(len(x))) {
		t.Fatalf("%s: %d bytes for %d elements, want %d", typ, len(q), len(x), typ.RowSize(int64(len(x))))
	}
	y := make([]float32, len(x))
	if err := Dequantize(typ, q, y); err != nil {
		t.Fatal(err)
	}
	return q, y
}

func TestQuantizeErrorBounds(t *testing.T) {
	const n = 32 * 128 // test-quantize-fns test_size
	for _, c := range quantTypes {
		t.Run(c.typ.String(), func(t *testing.T) {
			x := cosData(0, n)
			_, y := roundTrip(t, c.typ, x)
			if e := totalError(x, y); e > c.maxErr {
				t.Errorf("total error %.6f above ggml's bound %.4f", e, c.maxErr)
			} else {
				t.Logf("total error %.6f (bound %.4f)", e, c.maxErr)
			}
		})
	}
}

// TestQuantizeStable checks that quantizing dequantized values again changes
// them by much less than the first quantization did: the grid is (nearly) a
// fixed point.
func TestQuantizeStable(t *testing.T) {
	x := cosData(0.5, 4096)
	for _, c := range quantTypes {
		t.Run(c.typ.String(), func(t *testing.T) {
			_, y := roundTrip(t, c.typ, x)
			_, z := roundTrip(t, c.typ, y)
			first, second := totalError(x, y), totalError(y, z)
			if second > first/100 {
				t.Errorf("re-quantization error %.3g not well below first error %.3g", second, first)
			}
			t.Logf("first %.3g, second %.3g", first, second)
		})
	}
}

func TestQuantizeSpecialBlocks(t *testing.T) {
	for _, c := range quantTypes {
		t.Run(c.typ.String(), func(t *testing.T) {
			zero := make([]float32, 256)
			_, y := roundTrip(t, c.typ, zero)
			for i, v := range y {
				if v != 0 {
					t.Fatalf("zero block: element %d dequantized to %v", i, v)
				}
			}
			cst := make([]float32, 256)
			for i := range cst {
				cst[i] = -0.75
			}
			_, y = roundTrip(t, c.typ, cst)
			for i, v := range y {
				if math.Abs(float64(v)+0.75) > 0.75/64 {
					t.Fatalf("constant block: element %d dequantized to %v, want about -0.75", i, v)
				}
			}
		})
	}
}

// TestQuantizeMatchesLlamaQuantize quantizes blk.0.attn_q.weight of
// mini-f32.gguf and compares with the same tensor in the files llama-quantize
// made from it (no importance matrix, so ggml's reference quantizers ran).
func TestQuantizeMatchesLlamaQuantize(t *testing.T) {
	ref := reftest.Dir(t)
	src, err := Open(filepath.Join(ref, "models", "mini-f32.gguf"))
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ti, err := src.Tensor("blk.0.attn_q.weight")
	if err != nil {
		t.Fatal(err)
	}
	raw, err := src.TensorData(ti)
	if err != nil {
		t.Fatal(err)
	}
	x := make([]float32, ti.Elements())
	DequantizeRow(TypeF32, raw, x)
	for _, c := range []struct {
		file string
		typ  Type
	}{
		{"mini-f16.gguf", TypeF16}, {"mini-bf16.gguf", TypeBF16}, {"mini-q8_0.gguf", TypeQ8_0},
		{"mini-q4_0.gguf", TypeQ4_0}, {"mini-q6_k.gguf", TypeQ6_K}, {"mini-q4_k_m.gguf", TypeQ4_K},
		{"mini-q5_k_m.gguf", TypeQ5_K},
	} {
		t.Run(c.typ.String(), func(t *testing.T) {
			f, err := Open(filepath.Join(ref, "models", c.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			qt, err := f.Tensor(ti.Name)
			if err != nil {
				t.Fatal(err)
			}
			if qt.Type != c.typ {
				t.Fatalf("%s holds %s", c.file, qt.Type)
			}
			want, err := f.TensorData(qt)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Quantize(c.typ, x)
			if err != nil {
				t.Fatal(err)
			}
			bs := c.typ.TypeSize()
			differ := 0
			for i := 0; i < len(want); i += bs {
				if !bytes.Equal(got[i:i+bs], want[i:i+bs]) {
					if differ < 3 {
						t.Logf("block %d differs:\n got % x\nwant % x", i/bs, got[i:i+bs], want[i:i+bs])
					}
					differ++
				}
			}
			if differ > 0 {
				t.Errorf("%d of %d blocks differ from llama-quantize", differ, len(want)/bs)
			}
		})
	}
}

func TestRoundHalfAway(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	check := func(f float32) {
		if got, want := roundHalfAway(f), int32(math.Round(float64(f))); got != want {
			t.Fatalf("roundHalfAway(%v) = %d, want %d", f, got, want)
		}
	}
	for i := -300; i <= 300; i++ {
		h := float32(i) / 2 // every half-integer tie
		check(h)
		check(math.Nextafter32(h, 1000))
		check(math.Nextafter32(h, -1000))
	}
	for range 100000 {
		check(float32(r.NormFloat64() * 60))
	}
}
