// This file declares the activation quantization kernel of
// actquant_amd64.s; quantizeRow in actquant.go calls it where hasAVX2 is
// set, and quantizeRowGo is its reference (TestQuantizeRowAssembly).

package cpu

// quantizeBlocksAVX2 quantizes nb blocks of bs (32 or 256) float32 from x
// into qs, d and sums (one int16 sum per 32 elements for bs 32, per 16 for
// bs 256), exactly as quantizeBlockGo. It stops at the first block whose
// maximum |x| is NaN, infinite or so small that 127/max overflows, and
// returns the number of blocks done before it (nb when all were).
//
//go:noescape
func quantizeBlocksAVX2(x *float32, qs *int8, d *float32, sums *int16, nb, bs int) int
