// This file checks the half-precision and bfloat16 conversions exhaustively
// against definitions computed in float64.

package gguf

import (
	"math"
	"math/rand/v2"
	"testing"
)

// halfValue is the textbook value of a half: (-1)^s * 2^(e-15) * 1.m, or
// 2^-14 * 0.m for subnormals.
func halfValue(h uint16) float64 {
	s, e, m := h>>15, int(h>>10&0x1f), float64(h&0x3ff)
	var v float64
	switch {
	case e == 0x1f && m == 0:
		v = math.Inf(1)
	case e == 0x1f:
		v = math.NaN()
	case e == 0:
		v = math.Ldexp(m/1024, -14)
	default:
		v = math.Ldexp(1+m/1024, e-15)
	}
	if s == 1 {
		v = -v
	}
	return v
}

func TestF16ToF32Exhaustive(t *testing.T) {
	for i := range 1 << 16 {
		h := uint16(i)
		got, want := F16ToF32(h), halfValue(h)
		if math.IsNaN(want) {
			if !math.IsNaN(float64(got)) || math.Float32bits(got)>>31 != uint32(h>>15) {
				t.Fatalf("%#04x: got %v, want NaN with the same sign", h, got)
			}
			continue
		}
		if float64(got) != want || math.Signbit(float64(got)) != (h>>15 == 1) {
			t.Fatalf("%#04x: got %v, want %v", h, got, want)
		}
		// Every half survives the round trip.
		if back := F32ToF16(got); back != h {
			t.Fatalf("%#04x -> %v -> %#04x", h, got, back)
		}
	}
}

// nearestHalf rounds x to the nearest half (ties to even) by searching the
// ordered positive halves: an independent definition of F32ToF16.
func nearestHalf(x float32) uint16 {
	v := math.Abs(float64(x))
	var sign uint16
	if math.Signbit(float64(x)) {
		sign = 0x8000
	}
	// The largest finite half is 65504; values at or above 65520 round to
	// infinity (the midpoint to the next power of two).
	if v >= 65520 {
		return sign | 0x7c00
	}
	lo, hi := uint16(0), uint16(0x7bff)
	for lo < hi { // first half >= v
		mid := (lo + hi) / 2
		if halfValue(mid) < v {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo > 0 {
		below, above := halfValue(lo-1), halfValue(lo)
		if d1, d2 := v-below, above-v; d1 < d2 || (d1 == d2 && (lo-1)&1 == 0) {
			lo--
		}
	}
	return sign | lo
}

func TestF32ToF16Rounding(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	check := func(x float32) {
		if got, want := F32ToF16(x), nearestHalf(x); got != want {
			t.Fatalf("F32ToF16(%v = %#08x) = %#04x, want %#04x", x, math.Float32bits(x), got, want)
		}
	}
	for range 200000 {
		// Exponents across the half range and beyond, random mantissas.
		e := r.IntN(50) - 30
		check(float32(math.Ldexp(r.Float64()*2-1, e)))
		check(math.Float32frombits(r.Uint32()&^(0xff<<23) | uint32(100+r.IntN(60))<<23))
	}
	// Midpoints between neighbouring halves round to the even one.
	for h := uint16(0); h < 0x7bff; h++ {
		mid := float32((halfValue(h) + halfValue(h+1)) / 2)
		check(mid)
		check(-mid)
	}
	for _, x := range []float32{0, float32(math.Copysign(0, -1)), 65504, 65519.99, 65520, 1e10, float32(math.Inf(-1)), 5.96e-8, 2.98e-8, 2.99e-8, 1e-30} {
		check(x)
	}
	if h := F32ToF16(float32(math.NaN())); h&0x7c00 != 0x7c00 || h&0x3ff == 0 {
		t.Errorf("NaN -> %#04x, want a NaN", h)
	}
}

func TestBF16(t *testing.T) {
	for _, c := range []struct {
		in   uint32
		want uint16
	}{
		{0x3f800000, 0x3f80}, // 1.0
		{0x3f808000, 0x3f80}, // tie, even stays
		{0x3f818000, 0x3f82}, // tie, odd rounds up
		{0x3f808001, 0x3f81}, // above the tie
		{0x7f7fffff, 0x7f80}, // largest float rounds to infinity
		{0xff800000, 0xff80}, // -infinity
	} {
		if got := F32ToBF16(math.Float32frombits(c.in)); got != c.want {
			t.Errorf("F32ToBF16(%#08x) = %#04x, want %#04x", c.in, got, c.want)
		}
	}
	if h := F32ToBF16(math.Float32frombits(0x7f800001)); h&0x7f80 != 0x7f80 || h&0x7f == 0 {
		t.Errorf("signalling NaN -> %#04x, want a quiet NaN", h)
	}
	for i := range 1 << 16 {
		h := uint16(i)
		if f := BF16ToF32(h); math.Float32bits(f) != uint32(h)<<16 {
			t.Fatalf("BF16ToF32(%#04x) bits %#08x", h, math.Float32bits(f))
		}
		if f := BF16ToF32(h); !math.IsNaN(float64(f)) && F32ToBF16(f) != h {
			t.Fatalf("BF16 %#04x does not round-trip", h)
		}
	}
}
