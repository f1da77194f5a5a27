// This file tests the SwiGLU kernel: swigluGo against a float64 silu, and
// the AVX2 version against swigluGo bit for bit, on random data and on the
// edge values of the exp (±88, ±100, ±Inf, NaN, zeros, subnormals), and
// benchmarks it at the shape of a batched decode step.

package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"
)

// swigluEdges are gate values where the exp clamps, overflows or
// underflows, or where silu is exact.
var swigluEdges = []float32{
	0, float32(math.Copysign(0, -1)), 1, -1,
	88, -88, 87.5, -87.5, 88.5, -88.5, 88.75, -88.75, 100, -100, 1e30, -1e30,
	float32(math.Inf(1)), float32(math.Inf(-1)), float32(math.NaN()),
	math.Float32frombits(0xffc00001), // a negative NaN with a payload
	math.Float32frombits(1), -math.Float32frombits(1), 0x1p-130, -0x1p-130, 0x1p-126,
	math.MaxFloat32, -math.MaxFloat32, 1e-7, -1e-7, 20, -20,
}

// TestSwiGLUGo checks swigluGo against g/(1+e^-g)·u in float64: within a
// few float32 ulp (1e-6 relative) down to 1e-30, within 1e-36 below (for
// g < -88 the float32 e^-g overflows and silu(g) is -0, where the exact
// value is under 5e-37), and NaN for a NaN or -Inf gate.
func TestSwiGLUGo(t *testing.T) {
	rng := rand.New(rand.NewPCG(61, 62))
	var g []float32
	for range 20000 {
		g = append(g, float32(200*rng.Float64()-100), float32(8*rng.Float64()-4))
	}
	g = append(g, swigluEdges...)
	u := make([]float32, len(g))
	for i := range u {
		u[i] = float32(rng.Float64() + 0.5)
	}
	d := make([]float32, len(g))
	swigluGo(d, g, u)
	for i, v := range g {
		gv, uv := float64(v), float64(u[i])
		want := gv / (1 + math.Exp(-gv)) * uv
		got := float64(d[i])
		switch {
		case math.IsNaN(gv) || math.IsInf(gv, -1):
			if !math.IsNaN(got) {
				t.Errorf("g=%g: %g, want NaN", v, got)
			}
		case math.IsInf(want, 0):
			if got != want {
				t.Errorf("g=%g u=%g: %g, want %g", v, u[i], got, want)
			}
		case math.Abs(want) >= 1e-30:
			if e := math.Abs(got-want) / math.Abs(want); e > 1e-6 || math.IsNaN(e) {
				t.Errorf("g=%g u=%g: %g, float64 %g (relative error %.3g)", v, u[i], got, want, e)
			}
		default: // g < -88 or so: the float32 exp overflows, silu flushes to -0
			if math.Abs(got-want) > 1e-36 {
				t.Errorf("g=%g u=%g: %g, want within 1e-36 of %g", v, u[i], got, want)
			}
		}
	}
	// Where -g exceeds the exp's clamp the result is a zero of g's sign,
	// as with the unclamped float32 exp's +Inf.
	for _, v := range []float32{-88.5, -100, -1e30} {
		swigluGo(d[:1], []float32{v}, []float32{1})
		if d[0] != 0 || !math.Signbit(float64(d[0])) {
			t.Errorf("g=%g: %g, want -0", v, d[0])
		}
	}
}

// TestSwiGLUAsm checks swiglu (the assembly over the multiple of eight)
// against swigluGo bit for bit, for lengths that are and are not multiples
// of eight, with the edge values placed in every lane.
func TestSwiGLUAsm(t *testing.T) {
	if !hasAVX2 {
		t.Skip("no AVX2 on this CPU: only the Go version runs")
	}
	rng := rand.New(rand.NewPCG(63, 64))
	for _, n := range []int{1, 7, 8, 9, 15, 16, 23, 64, 1001, 3072} {
		g, u := make([]float32, n), make([]float32, n)
		for i := range g {
			g[i] = float32(60 * rng.NormFloat64())
			u[i] = float32(2 * rng.NormFloat64())
			if rng.IntN(4) == 0 {
				g[i] = swigluEdges[rng.IntN(len(swigluEdges))]
			}
			if rng.IntN(16) == 0 {
				u[i] = swigluEdges[rng.IntN(len(swigluEdges))]
			}
		}
		if n >= len(swigluEdges) {
			copy(g, swigluEdges) // every edge value at least once
		}
		got, want := make([]float32, n), make([]float32, n)
		swiglu(got, g, u)
		swigluGo(want, g, u)
		for i := range got {
			if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
				t.Errorf("n=%d element %d (g=%g u=%g): %g (%#08x), swigluGo %g (%#08x)", n, i, g[i], u[i],
					got[i], math.Float32bits(got[i]), want[i], math.Float32bits(want[i]))
			}
		}
	}
	// Every edge value in every lane of one vector.
	for _, v := range swigluEdges {
		for lane := range 8 {
			g := []float32{0.5, -0.5, 3, -3, 7, -7, 0.25, -0.25}
			g[lane] = v
			u := []float32{1, -1, 2, 0.5, 3, -3, 1, 1}
			got, want := make([]float32, 8), make([]float32, 8)
			swiglu(got, g, u)
			swigluGo(want, g, u)
			for i := range got {
				if math.Float32bits(got[i]) != math.Float32bits(want[i]) {
					t.Errorf("g=%g lane %d element %d: %#08x, swigluGo %#08x", v, lane, i,
						math.Float32bits(got[i]), math.Float32bits(want[i]))
				}
			}
		}
	}
}

// BenchmarkSwiGLU runs the element loop at 8 rows of nFF = 3072 (a batched
// decode step of Qwen3-0.6B), single-threaded: the kernel (asm) against
// the former float64-exp loop (exp64) and swigluGo (go).
func BenchmarkSwiGLU(b *testing.B) {
	const n = 8 * 3072
	rng := rand.New(rand.NewPCG(65, 66))
	g, u, d := randomVec(rng, n), randomVec(rng, n), make([]float32, n)
	for i := range g {
		g[i] *= 8
	}
	kernels := []struct {
		name string
		f    func(d, g, u []float32)
	}{
		{"asm", swiglu},
		{"go", swigluGo},
		{"exp64", func(d, g, u []float32) {
			for i, v := range g {
				d[i] = v / (1 + float32(math.Exp(float64(-v)))) * u[i]
			}
		}},
	}
	for _, k := range kernels {
		b.Run(fmt.Sprintf("%s/8x3072", k.name), func(b *testing.B) {
			b.SetBytes(3 * 4 * n)
			b.ReportAllocs()
			for b.Loop() {
				k.f(d, g, u)
			}
		})
	}
}
