//go:build !amd64

// This file stands in for the amd64 activation quantization kernel on other
// architectures: hasAVX2 is false, so quantizeRowGo runs.

package cpu

func quantizeBlocksAVX2(x *float32, qs *int8, d *float32, sums *int16, nb, bs int) int {
	panic("unreachable")
}
