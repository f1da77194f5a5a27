// This file benchmarks dequantization and quantization per type. Throughput
// is reported in bytes of float32 handled (b.SetBytes), so GB/s compare
// across types.

package gguf

import (
	"bytes"
	"math/rand/v2"
	"strconv"
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

// BenchmarkReadVocabMetadata parses a header shaped like a full Qwen3 GGUF:
// 151936 tokens, 151387 merges and the token types.
func BenchmarkReadVocabMetadata(b *testing.B) {
	const nTok, nMerge = 151936, 151387
	tokens := make([]string, nTok)
	types := make([]int32, nTok)
	for i := range tokens {
		tokens[i] = "tok" + strconv.Itoa(i)
		types[i] = 1
	}
	merges := make([]string, nMerge)
	for i := range merges {
		merges[i] = "a" + strconv.Itoa(i) + " b"
	}
	w := NewWriter()
	w.AddKV("tokenizer.ggml.tokens", tokens)
	w.AddKV("tokenizer.ggml.token_type", types)
	w.AddKV("tokenizer.ggml.merges", merges)
	w.AddTensor("t", TypeF32, []int64{8}, make([]byte, 32))
	var buf bytes.Buffer
	if _, err := w.WriteTo(&buf); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Read(bytes.NewReader(data), int64(len(data))); err != nil {
			b.Fatal(err)
		}
	}
}
