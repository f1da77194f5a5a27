// This file declares the quantized dot-product kernels of quant_amd64.s.

package cpu

//go:noescape
func dotQ8_0AVX2(x *float32, w *byte, nb int) float32

//go:noescape
func dotQ4_0AVX2(x *float32, w *byte, nb int) float32

//go:noescape
func dotQ4_KSuperAVX2(x *float32, q *byte, s *[16]float32) float32

//go:noescape
func dotQ6_KSuperAVX2(x *float32, b *byte, s *[16]float32) float32

//go:noescape
func dotQ5_KSuperAVX2(x *float32, qh *byte, q *byte, s *[16]float32) float32
