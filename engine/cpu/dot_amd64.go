// This file declares the amd64 assembly kernels (dot_amd64.s) and turns them
// on when the CPU has AVX2, FMA and F16C.

package cpu

import "golang.org/x/sys/cpu"

// hasAVX2 selects the assembly kernels; tests turn it off to check the Go
// versions on the same machine.
var hasAVX2 = cpu.X86.HasAVX2 && cpu.X86.HasFMA && cpu.X86.HasF16C

// hasAVX512 selects the 512-bit float micro-kernel of the prefill path.
var hasAVX512 = hasAVX2 && cpu.X86.HasAVX512F

//go:noescape
func dotAVX2(a, b *float32, n int) float32

//go:noescape
func dotF16AVX2(a *float32, b *uint16, n int) float32

//go:noescape
func axpyF16AVX2(y *float32, a float32, x *uint16, n int)

//go:noescape
func axpyAVX2(y *float32, a float32, x *float32, n int)

//go:noescape
func f32ToF16AVX2(dst *uint16, src *float32, n int)

//go:noescape
func dot4AVX2(x, w0, w1, w2, w3 *float32, n int, out *float32)

//go:noescape
func dot4x4AVX512(x *float32, xs int, w0, w1, w2, w3 *float32, n int, out *[16]float32)

//go:noescape
func dot4F16AVX2(x *float32, w0, w1, w2, w3 *uint16, n int, out *float32)

//go:noescape
func dot4BF16AVX2(x *float32, w0, w1, w2, w3 *uint16, n int, out *float32)

//go:noescape
func dot2x4AVX2(x0, x1, w0, w1, w2, w3 *float32, n int, out *float32)

//go:noescape
func dotsF16AVX2(q *float32, k *uint16, stride, np, hd int, out *float32)

//go:noescape
func accF16AVX2(out *float32, w *float32, v *uint16, stride, np, hd int)

//go:noescape
func expShiftAVX2(s *float32, n int, mx float32)

//go:noescape
func swigluAVX2(dst, gate, u *float32, n int)

//go:noescape
func dotsF16AVX512(q *float32, k *uint16, stride, np, hd int, out *float32)

//go:noescape
func accF16AVX512(out *float32, w *float32, v *uint16, stride, np, hd int)

//go:noescape
func dot4x4F16AVX512(x *float32, xs int, w0, w1, w2, w3 *uint16, n int, out *[16]float32)

//go:noescape
func dot4x4BF16AVX512(x *float32, xs int, w0, w1, w2, w3 *uint16, n int, out *[16]float32)

//go:noescape
func f16sToF32AVX2(dst *float32, src *uint16, n int)

//go:noescape
func bf16sToF32AVX2(dst *float32, src *uint16, n int)

//go:noescape
func dot8F16AVX512(x *float32, w *[8]*uint16, n int, out *[8]float32)

//go:noescape
func dot8BF16AVX512(x *float32, w *[8]*uint16, n int, out *[8]float32)

// hasBF16DP selects the BF16 pair kernels (bf16dot_amd64.s) for BF16
// weights on a backend that is not exact.
var hasBF16DP = hasAVX512 && cpu.X86.HasAVX512BF16

//go:noescape
func dot4x4BF16DP(x *uint16, xs int, w0, w1, w2, w3 *uint16, n int, out *[16]float32)

//go:noescape
func dot8BF16DP(x *uint16, w *[8]*uint16, n int, out *[8]float32)

//go:noescape
func roundBF16AVX512(dst *uint16, x *float32, n int)
