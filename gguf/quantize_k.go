// This file quantizes float32 to ggml's k-quant weight formats (Q2_K, Q3_K,
// Q4_K, Q5_K, Q6_K) with the algorithms of ggml's reference quantizers
// (ggml-quants.c quantize_row_q*_K_ref and their helpers make_qx_quants,
// make_q3_quants and make_qkx2_quants): each 16- or 32-element sub-block gets
// a scale (and a minimum) found by a small search that minimises a weighted
// error, then the sub-block scales are themselves quantized to 4, 6 or 8 bits
// against a super-block scale stored as F16, and the elements are quantized
// again against the stored scales.

package gguf

// groupMaxEps is ggml's threshold below which a group counts as all zero
// (ggml-quants.c GROUP_MAX_EPS).
const groupMaxEps = 1e-15

func clampInt(v, lo, hi int32) int32 { return max(lo, min(hi, v)) }

// makeQXQuants picks a symmetric scale for x with quants in -nmax..nmax-1,
// stored in L offset by nmax. It minimises the error weighted by x² over the
// scales (nmax+0.1k)/max for k in -9..9 (make_qx_quants, rmse_type 1).
func makeQXQuants(nmax int32, x []float32, L []int8) float32 {
	maxv, amax := absMax(x)
	if amax < groupMaxEps {
		clear(L)
		return 0
	}
	fn := float32(nmax)
	iscale := -fn / maxv
	var sumlx, suml2 float32
	for i, v := range x {
		l := clampInt(nearestInt(iscale*v), -nmax, nmax-1)
		L[i] = int8(l + nmax)
		w := v * v
		fl := float32(l)
		sumlx += float32(float32(w*v) * fl)
		suml2 += float32(float32(w*fl) * fl)
	}
	var scale float32
	if suml2 != 0 {
		scale = sumlx / suml2
	}
	best := scale * sumlx
	for is := -9; is <= 9; is++ {
		if is == 0 {
			continue
		}
		iscale = -(fn + float32(float32(0.1)*float32(is))) / maxv
		sumlx, suml2 = 0, 0
		for _, v := range x {
			l := float32(clampInt(nearestInt(iscale*v), -nmax, nmax-1))
			w := v * v
			sumlx += float32(float32(w*v) * l)
			suml2 += float32(float32(w*l) * l)
		}
		if suml2 > 0 && float32(sumlx*sumlx) > float32(best*suml2) {
			for i, v := range x {
				L[i] = int8(nmax + clampInt(nearestInt(iscale*v), -nmax, nmax-1))
			}
			scale = sumlx / suml2
			best = scale * sumlx
		}
	}
	return scale
}

// makeQ3Quants picks a symmetric scale for x with quants in -nmax..nmax-1
// (stored offset by nmax), refining single quants while the x²-weighted error
// drops (make_q3_quants with do_rmse).
func makeQ3Quants(nmax int32, x []float32, L []int8) float32 {
	maxv, amax := absMax(x)
	if amax < groupMaxEps {
		clear(L)
		return 0
	}
	iscale := -float32(nmax) / maxv
	var sumlx, suml2 float32
	for i, v := range x {
		l := clampInt(nearestInt(iscale*v), -nmax, nmax-1)
		L[i] = int8(l)
		w := v * v
		sumlx += float32(float32(w*v) * float32(l))
		suml2 += float32(float32(w*float32(l)) * float32(l))
	}
	for range 5 {
		changed := 0
		for i, v := range x {
			w := v * v
			li := float32(L[i])
			slx := sumlx - float32(float32(w*v)*li)
			if slx <= 0 {
				continue
			}
			sl2 := suml2 - float32(float32(w*li)*li)
			nl := clampInt(nearestInt(float32(v*sl2)/slx), -nmax, nmax-1)
			if nl == int32(L[i]) {
				continue
			}
			fl := float32(nl)
			slx += float32(float32(w*v) * fl)
			sl2 += float32(float32(w*fl) * fl)
			if sl2 > 0 && float32(float32(slx*slx)*suml2) > float32(float32(sumlx*sumlx)*sl2) {
				L[i] = int8(nl)
				sumlx, suml2 = slx, sl2
				changed++
			}
		}
		if changed == 0 {
			break
		}
	}
	for i := range L {
		L[i] += int8(nmax)
	}
	if suml2 > 0 {
		return sumlx / suml2
	}
	return 0
}

// makeQKX2Quants fits x ≈ scale*L - min with L in 0..nmax and min >= 0,
// trying the scales (nmax + rmin + rdelta*k)/(max-min) for k in 0..nstep and
// solving the weighted least squares for scale and min at each; the error is
// weighted squared or, with useMad, weighted absolute (make_qkx2_quants). It
// returns the scale and the (positive) minimum.
func makeQKX2Quants(nmax int32, x, weights []float32, L, Laux []uint8, rmin, rdelta float32, nstep int, useMad bool) (float32, float32) {
	lo, hi := x[0], x[0]
	sumW := weights[0]
	sumX := sumW * x[0]
	for i := 1; i < len(x); i++ {
		lo, hi = min(lo, x[i]), max(hi, x[i])
		w := weights[i]
		sumW += w
		sumX += float32(w * x[i])
	}
	lo = min(lo, 0)
	if hi == lo {
		clear(L)
		return 0, -lo
	}
	fn := float32(nmax)
	errOf := func(scale, mn float32, q []uint8) float32 {
		var e float32
		for i, v := range x {
			diff := float32(scale*float32(q[i])) + mn - v
			if useMad {
				diff = abs32(diff)
			} else {
				diff *= diff
			}
			e += float32(weights[i] * diff)
		}
		return e
	}
	iscale := fn / (hi - lo)
	scale := 1 / iscale
	for i, v := range x {
		L[i] = uint8(clampInt(nearestInt(iscale*(v-lo)), 0, nmax))
	}
	best := errOf(scale, lo, L)
	for is := 0; is <= nstep; is++ {
		iscale = (float32(rmin+float32(rdelta*float32(is))) + fn) / (hi - lo)
		var sumL, sumL2, sumXL float32
		for i, v := range x {
			l := clampInt(nearestInt(iscale*(v-lo)), 0, nmax)
			Laux[i] = uint8(l)
			w := weights[i]
			fl := float32(l)
			sumL += float32(w * fl)
			sumL2 += float32(float32(w*fl) * fl)
			sumXL += float32(float32(w*fl) * v)
		}
		D := float32(sumW*sumL2) - float32(sumL*sumL)
		if D <= 0 {
			continue
		}
		thisScale := (float32(sumW*sumXL) - float32(sumX*sumL)) / D
		thisMin := (float32(sumL2*sumX) - float32(sumL*sumXL)) / D
		if thisMin > 0 {
			thisMin = 0
			thisScale = sumXL / sumL2
		}
		if e := errOf(thisScale, thisMin, Laux); e < best {
			copy(L, Laux[:len(L)])
			best, scale, lo = e, thisScale, thisMin
		}
	}
	return scale, -lo
}

// packQ2Quants stores 256 2-bit quants: byte l of each 32-byte group holds
// elements l, l+32, l+64 and l+96 of a 128-element half.
func packQ2Quants(L []uint8, qs []byte) {
	for h := range 2 {
		for l := range 32 {
			j := 128*h + l
			qs[32*h+l] = L[j] | L[j+32]<<2 | L[j+64]<<4 | L[j+96]<<6
		}
	}
}

func quantQ2_K(src []float32, dst []byte) {
	var L, Laux [QK_K]uint8
	var weights [16]float32
	var scales, mins [QK_K / 16]float32
	const q4scale = 15
	for i := range len(src) / QK_K {
		x := src[i*QK_K : (i+1)*QK_K]
		b := dst[i*q2KSize : (i+1)*q2KSize]
		var maxScale, maxMin float32
		for j := range QK_K / 16 {
			xs := x[16*j : 16*j+16]
			for l, v := range xs {
				weights[l] = abs32(v)
			}
			scales[j], mins[j] = makeQKX2Quants(3, xs, weights[:], L[16*j:16*j+16], Laux[:16], -0.5, 0.1, 15, true)
			maxScale, maxMin = max(maxScale, scales[j]), max(maxMin, mins[j])
		}
		sc := b[0:16]
		clear(sc)
		if maxScale > 0 {
			iscale := q4scale / maxScale
			for j := range sc {
				sc[j] = uint8(nearestInt(iscale * scales[j]))
			}
			putF16(b[80:], maxScale/q4scale)
		} else {
			putF16(b[80:], 0)
		}
		if maxMin > 0 {
			iscale := q4scale / maxMin
			for j := range sc {
				sc[j] |= uint8(nearestInt(iscale*mins[j])) << 4
			}
			putF16(b[82:], maxMin/q4scale)
		} else {
			putF16(b[82:], 0)
		}
		dAll, mAll := f16At(b, 80), f16At(b, 82)
		for j := range QK_K / 16 {
			d := dAll * float32(sc[j]&0xf)
			if d == 0 {
				continue
			}
			dm := mAll * float32(sc[j]>>4)
			for ii := range 16 {
				L[16*j+ii] = uint8(clampInt(nearestInt((x[16*j+ii]+dm)/d), 0, 3))
			}
		}
		packQ2Quants(L[:], b[16:80])
	}
}

func quantQ3_K(src []float32, dst []byte) {
	var L [QK_K]int8
	var scales [QK_K / 16]float32
	for i := range len(src) / QK_K {
		x := src[i*QK_K : (i+1)*QK_K]
		b := dst[i*q3KSize : (i+1)*q3KSize]
		var maxScale, amax float32
		for j := range QK_K / 16 {
			scales[j] = makeQ3Quants(4, x[16*j:16*j+16], L[16*j:16*j+16])
			if a := abs32(scales[j]); a > amax {
				amax, maxScale = a, scales[j]
			}
		}
		sc := b[96:108]
		clear(sc)
		if maxScale != 0 {
			iscale := -32 / maxScale
			for j := range QK_K / 16 {
				l := uint8(clampInt(int32(int8(nearestInt(iscale*scales[j]))), -32, 31) + 32)
				if j < 8 {
					sc[j] = l & 0xf
				} else {
					sc[j-8] |= (l & 0xf) << 4
				}
				sc[8+j%4] |= (l >> 4) << (2 * (j / 4))
			}
			putF16(b[108:], 1/iscale)
		} else {
			putF16(b[108:], 0)
		}
		dAll := f16At(b, 108)
		for j := range QK_K / 16 {
			var s uint8
			if j < 8 {
				s = sc[j] & 0xf
			} else {
				s = sc[j-8] >> 4
			}
			s |= (sc[8+j%4] >> (2 * (j / 4)) & 3) << 4
			d := dAll * float32(int32(s)-32)
			if d == 0 {
				continue
			}
			for ii := range 16 {
				L[16*j+ii] = int8(clampInt(nearestInt(x[16*j+ii]/d), -4, 3) + 4)
			}
		}
		hmask := b[0:32]
		clear(hmask)
		var U [QK_K]uint8
		for j := range QK_K {
			l := uint8(L[j])
			if l > 3 {
				hmask[j%32] |= 1 << (j / 32)
				l -= 4
			}
			U[j] = l
		}
		packQ2Quants(U[:], b[32:96])
	}
}

// packScaleMinK4 stores eight 6-bit scales and minimums in the twelve bytes
// get_scale_min_k4 reads.
func packScaleMinK4(ls, lm *[8]uint8, s []byte) {
	for j := range 8 {
		if j < 4 {
			s[j] = ls[j]
			s[j+4] = lm[j]
		} else {
			s[j+4] = ls[j]&0xf | (lm[j]&0xf)<<4
			s[j-4] |= (ls[j] >> 4) << 6
			s[j] |= (lm[j] >> 4) << 6
		}
	}
}

// quantK45 is the shared body of the Q4_K and Q5_K quantizers: eight
// 32-element sub-blocks with 6-bit scales and minimums. It fills b's header
// (d, dmin, scales) and the quants L in 0..nmax.
func quantK45(x []float32, b []byte, nmax int32, rmin, rdelta float32, nstep int, L *[QK_K]uint8) {
	var Laux [32]uint8
	var weights [32]float32
	var scales, mins [8]float32
	var maxScale, maxMin float32
	for j := range 8 {
		xs := x[32*j : 32*j+32]
		var sumX2 float32
		for _, v := range xs {
			sumX2 += float32(v * v)
		}
		avX := sqrt32(sumX2 / 32)
		for l, v := range xs {
			weights[l] = avX + abs32(v)
		}
		scales[j], mins[j] = makeQKX2Quants(nmax, xs, weights[:], L[32*j:32*j+32], Laux[:], rmin, rdelta, nstep, false)
		maxScale, maxMin = max(maxScale, scales[j]), max(maxMin, mins[j])
	}
	var invScale, invMin float32
	if maxScale > 0 {
		invScale = 63 / maxScale
	}
	if maxMin > 0 {
		invMin = 63 / maxMin
	}
	var ls, lm [8]uint8
	for j := range 8 {
		ls[j] = min(63, uint8(nearestInt(invScale*scales[j])))
		lm[j] = min(63, uint8(nearestInt(invMin*mins[j])))
	}
	sc := b[4:16]
	clear(sc)
	packScaleMinK4(&ls, &lm, sc)
	putF16(b[0:], maxScale/63)
	putF16(b[2:], maxMin/63)
	d0, m0 := f16At(b, 0), f16At(b, 2)
	for j := range 8 {
		s, m := scaleMinK4(j, sc)
		d := d0 * float32(s)
		if d == 0 {
			continue
		}
		dm := m0 * float32(m)
		for ii := range 32 {
			L[32*j+ii] = uint8(clampInt(nearestInt((x[32*j+ii]+dm)/d), 0, nmax))
		}
	}
}

func quantQ4_K(src []float32, dst []byte) {
	var L [QK_K]uint8
	for i := range len(src) / QK_K {
		x := src[i*QK_K : (i+1)*QK_K]
		b := dst[i*q4KSize : (i+1)*q4KSize]
		quantK45(x, b, 15, -1, 0.1, 20, &L)
		q := b[16:144]
		for n := range 4 {
			for l := range 32 {
				q[32*n+l] = L[64*n+l] | L[64*n+l+32]<<4
			}
		}
	}
}

func quantQ5_K(src []float32, dst []byte) {
	var L [QK_K]uint8
	for i := range len(src) / QK_K {
		x := src[i*QK_K : (i+1)*QK_K]
		b := dst[i*q5KSize : (i+1)*q5KSize]
		quantK45(x, b, 31, -0.5, 0.1, 15, &L)
		qh, ql := b[16:48], b[48:176]
		clear(qh)
		for n := range 4 {
			m1, m2 := uint8(1)<<(2*n), uint8(2)<<(2*n)
			for j := range 32 {
				l1, l2 := L[64*n+j], L[64*n+j+32]
				if l1 > 15 {
					l1 -= 16
					qh[j] |= m1
				}
				if l2 > 15 {
					l2 -= 16
					qh[j] |= m2
				}
				ql[32*n+j] = l1 | l2<<4
			}
		}
	}
}

func quantQ6_K(src []float32, dst []byte) {
	var L [QK_K]int8
	var scales [QK_K / 16]float32
	for i := range len(src) / QK_K {
		x := src[i*QK_K : (i+1)*QK_K]
		b := dst[i*q6KSize : (i+1)*q6KSize]
		var maxScale, maxAbs float32
		for ib := range QK_K / 16 {
			scales[ib] = makeQXQuants(32, x[16*ib:16*ib+16], L[16*ib:16*ib+16])
			if a := abs32(scales[ib]); a > maxAbs {
				maxAbs, maxScale = a, scales[ib]
			}
		}
		if maxAbs < groupMaxEps {
			clear(b)
			continue
		}
		iscale := -128 / maxScale
		putF16(b[208:], 1/iscale)
		sc := b[192:208]
		for ib := range QK_K / 16 {
			sc[ib] = uint8(int8(min(127, nearestInt(iscale*scales[ib]))))
		}
		d0 := f16At(b, 208)
		for j := range QK_K / 16 {
			d := d0 * float32(int8(sc[j]))
			if d == 0 {
				continue
			}
			for ii := range 16 {
				L[16*j+ii] = int8(clampInt(nearestInt(x[16*j+ii]/d), -32, 31) + 32)
			}
		}
		for h := range 2 {
			ql := b[64*h : 64*h+64]
			qh := b[128+32*h : 128+32*h+32]
			for l := range 32 {
				j := 128*h + l
				q1, q2, q3, q4 := uint8(L[j]), uint8(L[j+32]), uint8(L[j+64]), uint8(L[j+96])
				ql[l] = q1&0xf | (q3&0xf)<<4
				ql[l+32] = q2&0xf | (q4&0xf)<<4
				qh[l] = q1>>4 | (q2>>4)<<2 | (q3>>4)<<4 | (q4>>4)<<6
			}
		}
	}
}
