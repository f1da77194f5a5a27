// This file benchmarks dequantization and quantization per type. Throughput
// is reported in bytes of float32 handled (b.SetBytes), so GB/s compare
// across types.

package gguf

import (
	"math/rand/v2"
	"testing"
)

// benchRow is the row length benchmarked: a 4096-wide hidden state, a
// multiple of every block size.
const benchRow = 4096

func benchInput() []float32 {
	r := rand.New(rand.NewPCG(1, 2))
	x := make([]float32, benchRow)
	for i := range x {
		x[i] = float32(r.NormFloat64())
	}
	return x
}

func BenchmarkDequantizeRow(b *testing.B) {
	x := benchInput()
	for _, c := range quantTypes {
		q, err := Quantize(c.typ, x)
		if err != nil {
			b.Fatal(err)
		}
		dst := make([]float32, benchRow)
		b.Run(c.typ.String(), func(b *testing.B) {
			b.SetBytes(4 * benchRow)
			for b.Loop() {
				DequantizeRow(c.typ, q, dst)
			}
		})
	}
}

func BenchmarkQuantizeRow(b *testing.B) {
	x := benchInput()
	for _, c := range quantTypes {
		dst := make([]byte, c.typ.RowSize(benchRow))
		b.Run(c.typ.String(), func(b *testing.B) {
			b.SetBytes(4 * benchRow)
			for b.Loop() {
				QuantizeRow(c.typ, x, dst)
			}
		})
	}
}
