//go:build !amd64

// This file stands in for the amd64 assembly kernels on other
// architectures: hasAVX2 is false, so the Go versions in dot.go run.

package cpu

var hasAVX2, hasAVX512, hasBF16DP = false, false, false

func dotAVX2(a, b *float32, n int) float32                                   { panic("unreachable") }
func dotF16AVX2(a *float32, b *uint16, n int) float32                        { panic("unreachable") }
func axpyF16AVX2(y *float32, a float32, x *uint16, n int)                    { panic("unreachable") }
func axpyAVX2(y *float32, a float32, x *float32, n int)                      { panic("unreachable") }
func dotQ8_0AVX2(x *float32, w *byte, nb int) float32                        { panic("unreachable") }
func dotQ4_0AVX2(x *float32, w *byte, nb int) float32                        { panic("unreachable") }
func dotQ4_KSuperAVX2(x *float32, q *byte, s *[16]float32) float32           { panic("unreachable") }
func dotQ6_KSuperAVX2(x *float32, b *byte, s *[16]float32) float32           { panic("unreachable") }
func dotQ5_KSuperAVX2(x *float32, qh *byte, q *byte, s *[16]float32) float32 { panic("unreachable") }
func f32ToF16AVX2(dst *uint16, src *float32, n int)                          { panic("unreachable") }
func dot4x4AVX512(x *float32, xs int, w0, w1, w2, w3 *float32, n int, out *[16]float32) {
	panic("unreachable")
}
func dot4x4F16AVX512(x *float32, xs int, w0, w1, w2, w3 *uint16, n int, out *[16]float32) {
	panic("unreachable")
}
func dot4x4BF16AVX512(x *float32, xs int, w0, w1, w2, w3 *uint16, n int, out *[16]float32) {
	panic("unreachable")
}
func dot8F16AVX512(x *float32, w *[8]*uint16, n int, out *[8]float32)  { panic("unreachable") }
func dot8BF16AVX512(x *float32, w *[8]*uint16, n int, out *[8]float32) { panic("unreachable") }
func f16sToF32AVX2(dst *float32, src *uint16, n int)                   { panic("unreachable") }
func bf16sToF32AVX2(dst *float32, src *uint16, n int)                  { panic("unreachable") }
func dot4F16AVX2(x *float32, w0, w1, w2, w3 *uint16, n int, out *float32) {
	panic("unreachable")
}
func dot4BF16AVX2(x *float32, w0, w1, w2, w3 *uint16, n int, out *float32) {
	panic("unreachable")
}
func dot4AVX2(x, w0, w1, w2, w3 *float32, n int, out *float32)              { panic("unreachable") }
func dot2x4AVX2(x0, x1, w0, w1, w2, w3 *float32, n int, out *float32)       { panic("unreachable") }
func dotsF16AVX2(q *float32, k *uint16, stride, np, hd int, out *float32)   { panic("unreachable") }
func accF16AVX2(out *float32, w *float32, v *uint16, stride, np, hd int)    { panic("unreachable") }
func expShiftAVX2(s *float32, n int, mx float32)                            { panic("unreachable") }
func swigluAVX2(dst, gate, u *float32, n int)                               { panic("unreachable") }
func dotsF16AVX512(q *float32, k *uint16, stride, np, hd int, out *float32) { panic("unreachable") }
func accF16AVX512(out *float32, w *float32, v *uint16, stride, np, hd int)  { panic("unreachable") }
func dot4x4BF16DP(x *uint16, xs int, w0, w1, w2, w3 *uint16, n int, out *[16]float32) {
	panic("unreachable")
}
func dot8BF16DP(x *uint16, w *[8]*uint16, n int, out *[8]float32) { panic("unreachable") }
func roundBF16AVX512(dst *uint16, x *float32, n int)              { panic("unreachable") }
