// This file holds helpers shared by the backend's tests and benchmarks:
// random weights of every supported type, buffers from slices, and a float64
// reference matrix product.

package cpu

import (
	"encoding/binary"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
)

// allTypes are the weight types MatMul supports, in a fixed order.
var allTypes = []gguf.Type{
	gguf.TypeF32, gguf.TypeF16, gguf.TypeBF16,
	gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ4_1, gguf.TypeQ5_0, gguf.TypeQ5_1,
	gguf.TypeQ2_K, gguf.TypeQ3_K, gguf.TypeQ4_K, gguf.TypeQ5_K, gguf.TypeQ6_K,
}

// scaleOffsets are the byte offsets of the f16 scale fields in one block of
// each block type (ggml-common.h block_* structs); random bytes elsewhere
// are valid quants, but a random f16 there could be NaN or huge.
var scaleOffsets = map[gguf.Type][]int{
	gguf.TypeQ8_0: {0},
	gguf.TypeQ4_0: {0},
	gguf.TypeQ4_1: {0, 2},
	gguf.TypeQ5_0: {0},
	gguf.TypeQ5_1: {0, 2},
	gguf.TypeQ2_K: {80, 82}, // scales[16] qs[64] d dmin
	gguf.TypeQ3_K: {108},    // hmask[32] qs[64] scales[12] d
	gguf.TypeQ4_K: {0, 2},   // d dmin scales[12] qs[128]
	gguf.TypeQ5_K: {0, 2},   // d dmin scales[12] qh[32] qs[128]
	gguf.TypeQ6_K: {208},    // ql[128] qh[64] scales[16] d
}

// randomWeight returns ne1 rows of ne0 random elements of type typ, raw.
func randomWeight(rng *rand.Rand, typ gguf.Type, ne0, ne1 int) []byte {
	data := make([]byte, typ.RowSize(int64(ne0))*int64(ne1))
	switch typ {
	case gguf.TypeF32:
		for i := 0; i < len(data); i += 4 {
			binary.LittleEndian.PutUint32(data[i:], math.Float32bits(float32(rng.NormFloat64())))
		}
		return data
	case gguf.TypeF16:
		for i := 0; i < len(data); i += 2 {
			binary.LittleEndian.PutUint16(data[i:], gguf.F32ToF16(float32(rng.NormFloat64())))
		}
		return data
	case gguf.TypeBF16:
		for i := 0; i < len(data); i += 2 {
			binary.LittleEndian.PutUint16(data[i:], gguf.F32ToBF16(float32(rng.NormFloat64())))
		}
		return data
	}
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	bs := typ.TypeSize()
	for blk := 0; blk < len(data); blk += bs {
		for _, off := range scaleOffsets[typ] {
			s := float32(0.002 + 0.01*rng.Float64())
			binary.LittleEndian.PutUint16(data[blk+off:], gguf.F32ToF16(s))
		}
	}
	return data
}

// randomVec returns n standard normal floats.
func randomVec(rng *rand.Rand, n int) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64())
	}
	return v
}

// newBuffer returns a backend buffer holding v.
func newBuffer(t testing.TB, b *Backend, v []float32) engine.Buffer {
	t.Helper()
	x, err := b.NewBuffer(len(v))
	if err != nil {
		t.Fatal(err)
	}
	if err := b.Write(x, v); err != nil {
		t.Fatal(err)
	}
	return x
}

// newRows returns a backend batch holding rs, without block tables.
func newRows(t testing.TB, b *Backend, rs []engine.Row) engine.Rows {
	t.Helper()
	return newRowsTab(t, b, rs, engine.BlockTables{})
}

// newRowsTab returns a backend batch holding rs and the block tables tab.
func newRowsTab(t testing.TB, b *Backend, rs []engine.Row, tab engine.BlockTables) engine.Rows {
	t.Helper()
	r, err := b.NewRows(len(rs), len(tab.Table))
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Set(rs, tab); err != nil {
		t.Fatal(err)
	}
	return r
}

// dequantAll dequantizes a whole weight with gguf's reference code.
func dequantAll(t testing.TB, typ gguf.Type, data []byte, n int) []float32 {
	t.Helper()
	out := make([]float32, n)
	if err := gguf.Dequantize(typ, data, out); err != nil {
		t.Fatal(err)
	}
	return out
}

// refMatMul returns x[n, ne0] · Wᵀ for W [ne1, ne0] in float64.
func refMatMul(w []float32, x []float32, n, ne0, ne1 int) []float64 {
	out := make([]float64, n*ne1)
	for r := range n {
		for o := range ne1 {
			var s float64
			for i := range ne0 {
				s += float64(w[o*ne0+i]) * float64(x[r*ne0+i])
			}
			out[r*ne1+o] = s
		}
	}
	return out
}

// maxRelErr returns max|got-want| / max|want| (max|want| floored at 1e-30)
// and the absolute maximum difference.
func maxRelErr(got []float32, want []float64) (rel, abs float64) {
	var scale float64
	for i, w := range want {
		scale = max(scale, math.Abs(w))
		d := math.Abs(float64(got[i]) - w)
		if d > abs || math.IsNaN(d) {
			abs = d
		}
	}
	return abs / max(scale, 1e-30), abs
}

// engineOpts returns backend options with the given thread count.
func engineOpts(threads int) engine.BackendOptions { return engine.BackendOptions{Threads: threads} }
