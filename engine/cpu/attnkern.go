// This file holds Attention's inner loops over an f16 cache run: the scores
// of one query against a run of key rows of one block, and the weighted sum
// of a run of value rows into the output. Each dispatches to the amd64
// assembly (attn_amd64.s; attn512_amd64.s where the CPU has AVX-512) when
// the CPU has AVX2/FMA/F16C and the head width suits it, and otherwise
// loops over the per-position dotF16 and axpyF16; the assembly gives, per position and per output element, the
// same arithmetic as those per-position kernels, so a row's output does
// not depend on how its positions fall into calls.

package cpu

import "math"

// dotsF16 writes out[p] = dotF16(q, k[p*stride:p*stride+len(q)]) for
// p < len(out).
func dotsF16(q []float32, k []uint16, stride int, out []float32) {
	hd, np := len(q), len(out)
	if np == 0 {
		return
	}
	k = k[:(np-1)*stride+hd]
	if hasAVX2 && hd%16 == 0 && hd > 0 {
		done := 0
		if hasAVX512 && np >= 8 {
			done = np &^ 7
			dotsF16AVX512(&q[0], &k[0], stride, done, hd, &out[0])
		}
		if done < np {
			dotsF16AVX2(&q[0], &k[done*stride], stride, np-done, hd, &out[done])
		}
		return
	}
	for p := range out {
		out[p] = dotF16(q, k[p*stride:p*stride+hd])
	}
}

// accF16 adds w[p]·f16(v[p*stride+i]) to out[i] for p < len(w) in order of
// p, as len(w) axpyF16 calls would.
func accF16(out, w []float32, v []uint16, stride int) {
	hd, np := len(out), len(w)
	if np == 0 {
		return
	}
	v = v[:(np-1)*stride+hd]
	if hasAVX512 && hd%128 == 0 && hd > 0 {
		accF16AVX512(&out[0], &w[0], &v[0], stride, np, hd)
		return
	}
	if hasAVX2 && hd%64 == 0 && hd > 0 {
		accF16AVX2(&out[0], &w[0], &v[0], stride, np, hd)
		return
	}
	for p, a := range w {
		axpyF16(out, a, v[p*stride:p*stride+hd])
	}
}

// expf is a float32 exp for softmax, within a few ulp of math.Exp over
// [-88, 88] (the input is clamped to that range, so it returns 0 below
// about -87.3): k = round(x·log2 e), r = (x - k·C1) - k·C2 with C1+C2 ≈ ln 2,
// a degree-6 polynomial in r, times 2^k. Each operation rounds to float32
// (no fused multiply-add), which expShiftAVX2 repeats bit for bit.
func expf(x float32) float32 {
	const (
		c1 = 0.693359375
		c2 = -2.12194440e-4
	)
	x = min(max(x, -88), 88)
	k := float32(math.RoundToEven(float64(x * math.Log2E)))
	r := x - float32(k*c1)
	r -= float32(k * c2)
	z := r * r
	y := float32(1.9875691500e-4)
	y = float32(y*r) + 1.3981999507e-3
	y = float32(y*r) + 8.3334519073e-3
	y = float32(y*r) + 4.1665795894e-2
	y = float32(y*r) + 1.6666665459e-1
	y = float32(y*r) + 5.0000001201e-1
	y = float32(float32(y*z)+r) + 1
	return y * math.Float32frombits(uint32(int32(k)+127)<<23)
}

// expShift sets s[p] = expf(s[p] - mx).
func expShift(s []float32, mx float32) {
	i := 0
	if hasAVX2 && len(s) >= 8 {
		i = len(s) &^ 7
		expShiftAVX2(&s[0], i, mx)
	}
	for ; i < len(s); i++ {
		s[i] = expf(s[i] - mx)
	}
}
