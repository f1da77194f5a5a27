// This file tests the BF16 pair kernels (bf16dot_amd64.s): the 4×4 and
// eight-row kernels against each other (bit for bit: MatMul is batch
// invariant), against dotBF16PairsGo (bit for bit: it is their arithmetic)
// and against a float64 dot product, on many lengths, misaligned starts,
// extreme scales and fuzzed bit patterns; and the benchmarks in GB/s of
// weight bytes.

package cpu

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/helexa/helexa/gguf"
)

// bf16Rows returns four rows of n random BF16 values at the given scale,
// each from an element offset off into its backing slice (misaligned).
func bf16Rows(rng *rand.Rand, n, off int, scale float64) (h [4][]uint16) {
	for k := range h {
		h[k] = make([]uint16, off+n)[off:]
		for i := range h[k] {
			h[k][i] = gguf.F32ToBF16(float32(rng.NormFloat64() * scale))
		}
	}
	return h
}

// bf16Vec returns n random BF16 values of scale 1.
func bf16Vec(rng *rand.Rand, n int) []uint16 {
	x := make([]uint16, n)
	for i := range x {
		x[i] = gguf.F32ToBF16(float32(rng.NormFloat64()))
	}
	return x
}

// checkBF16Pairs runs both kernels on x (four rows of n) and w and compares
// them with dotBF16PairsGo bit for bit, and, when tol > 0, with a float64
// sum of the same BF16 products.
func checkBF16Pairs(t *testing.T, x []uint16, w [4][]uint16, tol float64) {
	t.Helper()
	n := len(x) / 4
	var got [16]float32
	bf16Dot4x4(x, &w, &got)
	for r := range 4 {
		xr := x[r*n : (r+1)*n]
		var got8 [8]float32
		w8 := [8][]uint16{w[0], w[1], w[2], w[3], w[3], w[2], w[1], w[0]}
		bf16Dot8(xr, &w8, &got8)
		for k := range 4 {
			want := dotBF16PairsGo(xr, w[k])
			if !sameFloat(got[4*r+k], want) || !sameFloat(got8[k], want) || !sameFloat(got8[7-k], want) {
				t.Fatalf("n %d: row %d weight %d: 4×4 %g, dot8 %g / %g, Go reference %g", n, r, k, got[4*r+k], got8[k], got8[7-k], want)
			}
			if tol == 0 {
				continue
			}
			var ref, mag float64
			for i, v := range xr {
				p := float64(gguf.BF16ToF32(v)) * float64(gguf.BF16ToF32(w[k][i]))
				ref += p
				mag += math.Abs(p)
			}
			if e := math.Abs(float64(want) - ref); !(e <= tol*mag) {
				t.Fatalf("n %d: row %d weight %d = %g, float64 sum %g (|terms| %g)", n, r, k, want, ref, mag)
			}
		}
	}
}

// TestBF16PairKernels runs the kernels (the assembly where the CPU has
// AVX512_BF16, else the Go reference against itself and float64) on many
// lengths, misaligned starts and scales.
func TestBF16PairKernels(t *testing.T) {
	if !hasBF16DP {
		t.Log("no AVX512_BF16 here: checking the Go reference only")
	}
	rng := rand.New(rand.NewPCG(71, 72))
	for _, n := range []int{32, 64, 96, 512, 1024, 1056, 3072} {
		for _, off := range []int{0, 1, 3} {
			for _, scale := range []float64{1, 1e-6, 1e15} {
				w := bf16Rows(rng, n, off, scale)
				xs := bf16Rows(rng, n, off, 1/scale)
				x := make([]uint16, off+4*n)[off:]
				for r := range 4 {
					copy(x[r*n:], xs[r])
				}
				checkBF16Pairs(t, x, w, 1e-5)
			}
		}
	}
}

// TestBF16PairKernelsWithoutAssembly checks that the kernels' Go fallback
// gives the assembly's bits.
func TestBF16PairKernelsWithoutAssembly(t *testing.T) {
	if !hasBF16DP {
		t.Skip("no AVX512_BF16 on this CPU: the fallback is the only path")
	}
	rng := rand.New(rand.NewPCG(73, 74))
	const n = 1024
	w := bf16Rows(rng, n, 0, 1)
	x := bf16Vec(rng, 4*n)
	var asm, goRef [16]float32
	bf16Dot4x4(x, &w, &asm)
	hasBF16DP = false
	defer func() { hasBF16DP = true }()
	bf16Dot4x4(x, &w, &goRef)
	if asm != goRef {
		t.Fatalf("assembly %v, Go fallback %v", asm, goRef)
	}
}

// TestFMA32 checks fma32 against the exact a·b + c rounded by math/big, on
// random BF16 a and b and float32 c at every exponent gap, near-cancelling
// and near-tie sums included.
func TestFMA32(t *testing.T) {
	rng := rand.New(rand.NewPCG(77, 78))
	bf := func() float32 {
		v := gguf.BF16ToF32(uint16(rng.Uint32()))
		if v != v || math.IsInf(float64(v), 0) {
			return 1
		}
		return v
	}
	for i := range 200000 {
		a, b := bf(), bf()
		var c float32
		switch i % 4 {
		case 0: // any float32
			c = math.Float32frombits(rng.Uint32())
		case 1: // near the product's magnitude, either sign
			c = float32(float64(a)*float64(b)) * float32(1+rng.NormFloat64()*1e-3)
			if i%8 == 1 {
				c = -c
			}
		case 2: // the product half a float32 ulp of c away: a tie
			c = math.Float32frombits(rng.Uint32()&0x7fffffff | 0x3f800000)
			a, b = float32(math.Ldexp(1, rng.IntN(8)-24)), 1
		default: // far apart
			c = float32(math.Ldexp(rng.Float64()+1, rng.IntN(200)-100))
		}
		if c != c || math.IsInf(float64(c), 0) {
			continue
		}
		exact := new(big.Float).SetPrec(2000).SetFloat64(float64(a))
		exact.Mul(exact, new(big.Float).SetFloat64(float64(b)))
		exact.Add(exact, new(big.Float).SetPrec(2000).SetFloat64(float64(c)))
		want, _ := exact.Float32()
		if got := fma32(a, b, c); math.Float32bits(got) != math.Float32bits(want) && !(got == 0 && want == 0) {
			t.Fatalf("fma32(%g, %g, %g) = %g, exact rounding %g", a, b, c, got, want)
		}
	}
}

// TestRoundBF16 checks the activation rounding against gguf.F32ToBF16 on
// random bit patterns (every class: NaNs, infinities, subnormals, ties)
// at lengths with and without a tail and from misaligned starts, then a
// few values by hand: nearest, ties to even, NaN kept.
func TestRoundBF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(79, 80))
	for _, n := range []int{1, 15, 16, 17, 64, 1000, 1024} {
		for _, off := range []int{0, 1, 3} {
			x := make([]float32, off+n)[off:]
			for i := range x {
				b := rng.Uint32()
				if i%3 == 0 {
					b &^= 0x7fff // on or next to a tie
					b |= rng.Uint32() & 1 << 15
				}
				x[i] = math.Float32frombits(b)
			}
			dst := make([]uint16, off+n+1)[off:]
			dst[n] = 42
			roundBF16(dst[:n], x)
			for i, v := range x {
				if want := gguf.F32ToBF16(v); dst[i] != want {
					t.Fatalf("n %d off %d: round(%#08x) = %#04x, want %#04x", n, off, math.Float32bits(v), dst[i], want)
				}
			}
			if dst[n] != 42 {
				t.Fatalf("n %d off %d: wrote past the end", n, off)
			}
		}
	}
	x := []float32{0, 1, -1, 1.00390625, 1.01171875, 3.4e38, float32(math.Inf(-1)), float32(math.NaN()), 1e-40}
	dst := make([]uint16, len(x))
	roundBF16(dst, x)
	want := []uint16{0, 0x3f80, 0xbf80, 0x3f80, 0x3f82, 0x7f80, 0xff80}
	for i, w := range want {
		if dst[i] != w {
			t.Errorf("round(%g) = %#04x, want %#04x", x[i], dst[i], w)
		}
	}
	if f := gguf.BF16ToF32(dst[7]); f == f {
		t.Errorf("round(NaN) = %#04x, not a NaN", dst[7])
	}
	if dst[8] == 0 {
		t.Errorf("round(1e-40) = 0: a subnormal input must round to a subnormal BF16")
	}
}

// FuzzBF16Pairs checks the kernels on fuzzed bit patterns of both sides:
// infinities, NaNs and subnormals included.
func FuzzBF16Pairs(f *testing.F) {
	f.Add([]byte{0x80, 0x3f, 0xff, 0x7f, 0x01, 0x00, 0x00, 0x80}, uint8(1))
	f.Add([]byte{0x7f, 0x7f, 0x80, 0x00, 0x01, 0x80}, uint8(3))
	f.Fuzz(func(t *testing.T, bits []byte, size uint8) {
		if len(bits) < 2 {
			return
		}
		n := (int(size)%4 + 1) * bf16Block
		at := func(j int) uint16 { return uint16(bits[j%len(bits)]) | uint16(bits[(j+1)%len(bits)])<<8 }
		var w [4][]uint16
		for k := range w {
			w[k] = make([]uint16, n)
			for i := range w[k] {
				w[k][i] = at(2 * (k*n + i))
			}
		}
		x := make([]uint16, 4*n)
		for i := range x {
			x[i] = at(2*i + 1)
		}
		checkBF16Pairs(t, x, w, 0)
	})
}

// BenchmarkBF16PairKernels measures one thread's BF16 pair kernels on
// weight rows of 1024 (L1-resident, as in MatMul's tiles), in GB/s of
// weight bytes; BenchmarkHalfKernels has the float32-activation kernels
// of the same rows.
func BenchmarkBF16PairKernels(b *testing.B) {
	rng := rand.New(rand.NewPCG(75, 76))
	const n = 1024
	w := bf16Rows(rng, n, 0, 1)
	x := bf16Vec(rng, 4*n)
	b.Run("dot4x4", func(b *testing.B) {
		var out [16]float32
		b.SetBytes(4 * 2 * n)
		for b.Loop() {
			bf16Dot4x4(x, &w, &out)
		}
	})
	b.Run("dot8", func(b *testing.B) {
		var out [8]float32
		w8 := [8][]uint16{w[0], w[1], w[2], w[3], w[0], w[1], w[2], w[3]}
		b.SetBytes(8 * 2 * n)
		for b.Loop() {
			bf16Dot8(x[:n], &w8, &out)
		}
	})
	b.Run("round", func(b *testing.B) {
		xf := randomVec(rng, n)
		b.SetBytes(4 * n)
		for b.Loop() {
			roundBF16(x[:n], xf)
		}
	})
}
