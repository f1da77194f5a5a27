// This file checks the activation quantization kernel against its Go
// reference bit for bit: random rows, crafted edge blocks (zero, NaN, ±Inf,
// huge, subnormal, halfway values) and a fuzz test over raw float bits; and
// benchmarks the two on decode-sized rows.

package cpu

import (
	"encoding/binary"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

var actFormats = []actFormat{actQ8, actQ8K}

// newActRow returns a row of n elements in format f, filled with a
// pattern so that an unwritten element shows.
func newActRow(f actFormat, n int) actRow {
	ar := actRow{
		qs:   make([]int8, n),
		d:    make([]float32, n/f.blockSize()),
		sums: make([]int16, n/f.sumGroup()),
	}
	for i := range ar.qs {
		ar.qs[i] = 0x55
	}
	for i := range ar.d {
		ar.d[i] = 12345
	}
	for i := range ar.sums {
		ar.sums[i] = 0x5555
	}
	return ar
}

// compareQuantizeRow quantizes x with quantizeRow and quantizeRowGo and
// reports the first difference, comparing scales by their bits.
func compareQuantizeRow(t *testing.T, f actFormat, x []float32) {
	t.Helper()
	got, want := newActRow(f, len(x)), newActRow(f, len(x))
	quantizeRow(f, x, got)
	quantizeRowGo(f, x, want)
	for i := range want.qs {
		if got.qs[i] != want.qs[i] {
			t.Fatalf("format %d, n %d: qs[%d] = %d, want %d (x = %g, block scale %g)",
				f, len(x), i, got.qs[i], want.qs[i], x[i], want.d[i/f.blockSize()])
		}
	}
	for i := range want.d {
		if math.Float32bits(got.d[i]) != math.Float32bits(want.d[i]) {
			t.Fatalf("format %d, n %d: d[%d] = %g (%#x), want %g (%#x)", f, len(x), i,
				got.d[i], math.Float32bits(got.d[i]), want.d[i], math.Float32bits(want.d[i]))
		}
	}
	for i := range want.sums {
		if got.sums[i] != want.sums[i] {
			t.Fatalf("format %d, n %d: sums[%d] = %d, want %d", f, len(x), i, got.sums[i], want.sums[i])
		}
	}
}

// edgeValues are the special floats the crafted blocks mix in.
var edgeValues = []float32{
	0, float32(math.Copysign(0, -1)), float32(math.NaN()), -float32(math.NaN()),
	math.Float32frombits(0x7f800001), math.Float32frombits(0xffc12345),
	float32(math.Inf(1)), float32(math.Inf(-1)), math.MaxFloat32, -math.MaxFloat32,
	math.SmallestNonzeroFloat32, -math.SmallestNonzeroFloat32, 1e-38, 3e-37, 4e-37, 1e-30,
	0.5, 1.5, 2.5, -0.5, -2.5, 126.5, -126.5, 127, -127, 1e30, -1e30,
}

// edgeRows returns rows of 512 elements (two q8K super-blocks, sixteen q8
// blocks) built around the edge cases.
func edgeRows(rng *rand.Rand) [][]float32 {
	var rows [][]float32
	row := func(fill func(i int) float32) {
		x := make([]float32, 512)
		for i := range x {
			x[i] = fill(i)
		}
		rows = append(rows, x)
	}
	row(func(int) float32 { return 0 })
	row(func(i int) float32 { return float32(math.Copysign(0, -1)) })
	// Halfway values: with amax 127 the scale is 1, with amax 254 it is 0.5.
	row(func(i int) float32 {
		if i%32 == 0 {
			return 127
		}
		return float32(i%254-127) + 0.5
	})
	row(func(i int) float32 {
		if i%32 == 0 {
			return -254
		}
		return float32(2*(i%127) - 127)
	})
	// Each edge value alone in a block of random values, and as the block.
	for _, e := range edgeValues {
		at := rng.IntN(512)
		row(func(i int) float32 {
			if i == at {
				return e
			}
			return float32(rng.NormFloat64())
		})
		row(func(i int) float32 {
			if i%37 == 0 {
				return e
			}
			return 0
		})
		row(func(i int) float32 { return e })
	}
	// Tiny blocks: subnormal and near the point where 127/amax overflows.
	for _, s := range []float32{1e-45, 1e-40, 1e-39, 3.7e-37, 3.8e-37, 1e-37} {
		row(func(i int) float32 { return s * float32(rng.NormFloat64()) })
	}
	// Random bit patterns: every exponent, NaNs, infinities, subnormals.
	for range 8 {
		row(func(int) float32 { return math.Float32frombits(rng.Uint32()) })
	}
	return rows
}

func TestQuantizeRowAssembly(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2 on this CPU: quantizeRow is quantizeRowGo")
	}
	rng := rand.New(rand.NewPCG(7, 11))
	for _, f := range actFormats {
		for _, n := range []int{256, 1024, 3072} {
			for _, scale := range []float64{1e-6, 1, 30, 1e5} {
				x := make([]float32, n)
				for i := range x {
					x[i] = float32(rng.NormFloat64() * scale)
				}
				compareQuantizeRow(t, f, x)
			}
		}
		for _, x := range edgeRows(rng) {
			compareQuantizeRow(t, f, x)
		}
	}
}

// TestQuantizeRowEdges checks what the edge blocks give, beyond agreeing
// with the reference: zero blocks a zero scale, non-finite blocks a NaN
// scale and zero quants, halves rounded to even.
func TestQuantizeRowEdges(t *testing.T) {
	x := make([]float32, 96)
	x[32+5] = float32(math.Inf(-1))
	x[64] = 127
	x[65], x[66], x[67] = 2.5, -3.5, 0.5
	ar := newActRow(actQ8, len(x))
	quantizeRow(actQ8, x, ar)
	if ar.d[0] != 0 || ar.qs[0] != 0 || ar.sums[0] != 0 {
		t.Errorf("zero block: d %g, qs[0] %d, sum %d; want 0, 0, 0", ar.d[0], ar.qs[0], ar.sums[0])
	}
	if ar.d[1] == ar.d[1] || ar.qs[32+5] != 0 || ar.sums[1] != 0 {
		t.Errorf("block with -Inf: d %g, qs %d, sum %d; want NaN, 0, 0", ar.d[1], ar.qs[32+5], ar.sums[1])
	}
	if ar.d[2] != 1 || ar.qs[65] != 2 || ar.qs[66] != -4 || ar.qs[67] != 0 || ar.sums[2] != 127+2-4 {
		t.Errorf("halves: d %g, qs %v, sum %d; want 1, [127 2 -4 0], 125", ar.d[2], ar.qs[64:68], ar.sums[2])
	}
}

func FuzzQuantizeRow(f *testing.F) {
	le := binary.LittleEndian
	seed := func(vals ...float32) []byte {
		b := make([]byte, 0, 4*len(vals))
		for _, v := range vals {
			b = le.AppendUint32(b, math.Float32bits(v))
		}
		return b
	}
	for _, e := range edgeValues {
		f.Add(seed(e, 1, -2, 0.25), false)
		f.Add(seed(e), true)
	}
	f.Add(seed(127, 0.5, 1.5, 2.5, -0.5, -1.5), false)
	f.Add(seed(254, 1, 3, -5, 7), true)
	f.Fuzz(func(t *testing.T, data []byte, k bool) {
		format := actQ8
		if k {
			format = actQ8K
		}
		bs := format.blockSize()
		// The bytes fill the first block and repeat, scaled, through two
		// more, so that short inputs still make whole blocks.
		n := 3 * bs
		x := make([]float32, n)
		if len(data) >= 4 {
			for i := range x {
				j := 4 * (i % (len(data) / 4))
				x[i] = math.Float32frombits(le.Uint32(data[j:]))
				if i >= bs {
					x[i] *= float32(i / bs * 3)
				}
			}
		}
		if !hasAVX2 {
			t.Skip("no AVX2 on this CPU: quantizeRow is quantizeRowGo")
		}
		compareQuantizeRow(t, format, x)
	})
}

// BenchmarkQuantizeRow times quantizeRow (the assembly where the CPU has
// AVX2) and quantizeRowGo on decode-sized rows of the 0.6B shape.
func BenchmarkQuantizeRow(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, f := range actFormats {
		for _, n := range []int{1024, 3072} {
			x := make([]float32, n)
			for i := range x {
				x[i] = float32(rng.NormFloat64())
			}
			ar := newActRow(f, n)
			for _, impl := range []struct {
				name string
				fn   func(actFormat, []float32, actRow)
			}{{"asm", quantizeRow}, {"go", quantizeRowGo}} {
				b.Run(fmt.Sprintf("fmt=%d/n=%d/%s", f, n, impl.name), func(b *testing.B) {
					b.SetBytes(int64(4 * n))
					for b.Loop() {
						impl.fn(f, x, ar)
					}
				})
			}
		}
	}
}
