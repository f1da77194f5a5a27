// This file holds Attention's inner loops over an f16 cache run: the scores
// of one query against a run of key rows of one block, and the weighted sum
// of a run of value rows into the output. Each dispatches to the amd64
// assembly (attn_amd64.s) when the CPU has AVX2/FMA/F16C and the head
// width suits it, and otherwise loops over the per-position dotF16 and
// axpyF16; the assembly gives, per position and per output element, the
// same arithmetic as those per-position kernels, so a row's output does
// not depend on how its positions fall into calls.

package cpu

// dotsF16 writes out[p] = dotF16(q, k[p*stride:p*stride+len(q)]) for
// p < len(out).
func dotsF16(q []float32, k []uint16, stride int, out []float32) {
	hd, np := len(q), len(out)
	if np == 0 {
		return
	}
	k = k[:(np-1)*stride+hd]
	if hasAVX2 && hd%16 == 0 && hd > 0 {
		dotsF16AVX2(&q[0], &k[0], stride, np, hd, &out[0])
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
	if hasAVX2 && hd%64 == 0 && hd > 0 {
		accF16AVX2(&out[0], &w[0], &v[0], stride, np, hd)
		return
	}
	for p, a := range w {
		axpyF16(out, a, v[p*stride:p*stride+hd])
	}
}
