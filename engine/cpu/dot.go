// This file holds the float32 inner loops of MatMul and Attention: dot
// products and axpy over f32 and f16 data. Each dispatches to the amd64
// assembly kernel when the CPU has AVX2/FMA/F16C (dot_amd64.s) and falls
// back to the plain Go loop, which is the reference the kernels are tested
// against.

package cpu

import "github.com/helexa/helexa/gguf"

// dot returns Σ a[i]·b[i] over len(a) elements.
func dot(a, b []float32) float32 {
	b = b[:len(a)]
	if hasAVX2 && len(a) >= 8 {
		return dotAVX2(&a[0], &b[0], len(a))
	}
	return dotGo(a, b)
}

// dotGo is dot in Go, with eight independent partial sums so the loop is
// not one long dependency chain.
func dotGo(a, b []float32) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		aa, bb := a[i:i+8:i+8], b[i:i+8:i+8]
		s0 += aa[0] * bb[0]
		s1 += aa[1] * bb[1]
		s2 += aa[2] * bb[2]
		s3 += aa[3] * bb[3]
		s4 += aa[4] * bb[4]
		s5 += aa[5] * bb[5]
		s6 += aa[6] * bb[6]
		s7 += aa[7] * bb[7]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * b[i]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// dotF16 returns Σ a[i]·f16(b[i]).
func dotF16(a []float32, b []uint16) float32 {
	b = b[:len(a)]
	if hasAVX2 && len(a)%16 == 0 && len(a) > 0 {
		return dotF16AVX2(&a[0], &b[0], len(a))
	}
	return dotF16Go(a, b)
}

// dotF16Go is dotF16 in Go, with dotGo's arithmetic on the widened b.
func dotF16Go(a []float32, b []uint16) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		aa, bb := a[i:i+8:i+8], b[i:i+8:i+8]
		s0 += aa[0] * f16Table[bb[0]]
		s1 += aa[1] * f16Table[bb[1]]
		s2 += aa[2] * f16Table[bb[2]]
		s3 += aa[3] * f16Table[bb[3]]
		s4 += aa[4] * f16Table[bb[4]]
		s5 += aa[5] * f16Table[bb[5]]
		s6 += aa[6] * f16Table[bb[6]]
		s7 += aa[7] * f16Table[bb[7]]
	}
	for ; i < len(a); i++ {
		s0 += a[i] * f16Table[b[i]]
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// dotBF16Go returns Σ a[i]·bf16(b[i]) with dotGo's arithmetic on the
// widened b.
func dotBF16Go(a []float32, b []uint16) float32 {
	b = b[:len(a)]
	var s0, s1, s2, s3, s4, s5, s6, s7 float32
	i := 0
	for ; i+8 <= len(a); i += 8 {
		aa, bb := a[i:i+8:i+8], b[i:i+8:i+8]
		s0 += aa[0] * gguf.BF16ToF32(bb[0])
		s1 += aa[1] * gguf.BF16ToF32(bb[1])
		s2 += aa[2] * gguf.BF16ToF32(bb[2])
		s3 += aa[3] * gguf.BF16ToF32(bb[3])
		s4 += aa[4] * gguf.BF16ToF32(bb[4])
		s5 += aa[5] * gguf.BF16ToF32(bb[5])
		s6 += aa[6] * gguf.BF16ToF32(bb[6])
		s7 += aa[7] * gguf.BF16ToF32(bb[7])
	}
	for ; i < len(a); i++ {
		s0 += a[i] * gguf.BF16ToF32(b[i])
	}
	return ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7))
}

// axpy computes y += a·x.
func axpy(y []float32, a float32, x []float32) {
	x = x[:len(y)]
	if hasAVX2 && len(y)%8 == 0 && len(y) > 0 {
		axpyAVX2(&y[0], a, &x[0], len(y))
		return
	}
	for i := range y {
		y[i] += a * x[i]
	}
}

// axpyF16 computes y += a·f16(x).
func axpyF16(y []float32, a float32, x []uint16) {
	x = x[:len(y)]
	if hasAVX2 && len(y)%8 == 0 && len(y) > 0 {
		axpyF16AVX2(&y[0], a, &x[0], len(y))
		return
	}
	for i := range y {
		y[i] += a * f16Table[x[i]]
	}
}

// MatMul's float kernels (dot4, dot2x4, dot4x4 and the 16-bit float
// dot4s of fused.go) compute each pair of activation row and weight row
// with one arithmetic, whichever kernel and however many rows a call
// covers, so that MatMul is batch invariant: the assembly's where
// rowsAsm(len) (dot_amd64.s describes it), dotGo's everywhere else.

// rowsAsm reports whether MatMul's float kernels run the assembly for rows
// of n elements.
func rowsAsm(n int) bool { return hasAVX2 && n%16 == 0 && n > 0 }

// dot4 writes out[k] = Σ x[i]·wk[i] for four equally long rows.
func dot4(x, w0, w1, w2, w3 []float32, out []float32) {
	n := len(x)
	w0, w1, w2, w3, out = w0[:n], w1[:n], w2[:n], w3[:n], out[:4]
	if rowsAsm(n) {
		dot4AVX2(&x[0], &w0[0], &w1[0], &w2[0], &w3[0], n, &out[0])
		return
	}
	out[0], out[1], out[2], out[3] = dotGo(w0, x), dotGo(w1, x), dotGo(w2, x), dotGo(w3, x)
}

// dot4x4 writes out[4r+k] = Σ x_r[i]·wk[i] for four activation rows
// x_r = x[r*len(w0):] and four weight rows of equal length.
func dot4x4(x, w0, w1, w2, w3 []float32, out *[16]float32) {
	n := len(w0)
	x, w1, w2, w3 = x[:4*n], w1[:n], w2[:n], w3[:n]
	if hasAVX512 && rowsAsm(n) {
		dot4x4AVX512(&x[0], 4*n, &w0[0], &w1[0], &w2[0], &w3[0], n, out)
		return
	}
	for r := range 4 {
		dot4(x[r*n:(r+1)*n], w0, w1, w2, w3, out[4*r:4*r+4])
	}
}

// dot2x4 writes out[k] = Σ x0[i]·wk[i] and out[4+k] = Σ x1[i]·wk[i] for
// four weight rows and two activation rows of equal length.
func dot2x4(x0, x1, w0, w1, w2, w3 []float32, out *[8]float32) {
	n := len(x0)
	x1, w0, w1, w2, w3 = x1[:n], w0[:n], w1[:n], w2[:n], w3[:n]
	if rowsAsm(n) {
		dot2x4AVX2(&x0[0], &x1[0], &w0[0], &w1[0], &w2[0], &w3[0], n, &out[0])
		return
	}
	dot4(x0, w0, w1, w2, w3, out[0:4])
	dot4(x1, w0, w1, w2, w3, out[4:8])
}
