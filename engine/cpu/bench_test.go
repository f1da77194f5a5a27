// This file benchmarks MatMul for every weight type at the matrix shapes of
// a Qwen3-0.6B decode step (one activation row, or one per sequence of a
// batched step).

package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/helexa/helexa/gguf"
)

func BenchmarkMatMul(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	be := New(engineOpts(0))
	defer be.Close()
	// Qwen3-0.6B: nEmbd 1024 (attn_q/attn_output are 1024x2048 in fact,
	// attn_k/v 1024x1024), nFF 3072.
	shapes := []struct{ ne0, ne1 int }{{1024, 1024}, {1024, 3072}, {3072, 1024}}
	for _, typ := range allTypes {
		for _, s := range shapes {
			b.Run(fmt.Sprintf("%s/%dx%d", typ, s.ne1, s.ne0), func(b *testing.B) {
				data := randomWeight(rng, typ, s.ne0, s.ne1)
				w, err := be.LoadWeight("w", typ, s.ne0, s.ne1, data)
				if err != nil {
					b.Fatal(err)
				}
				x := newBuffer(b, be, randomVec(rng, s.ne0))
				dst := newBuffer(b, be, make([]float32, s.ne1))
				b.SetBytes(int64(len(data)))
				b.ReportAllocs()
				for b.Loop() {
					be.MatMul(dst, w, x, 1)
				}
			})
		}
	}
}

// BenchmarkMatMulPrefill multiplies a 64-row batch, the prompt-processing
// shape, through the dequantize-then-dot path.
func BenchmarkMatMulPrefill(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 1))
	be := New(engineOpts(0))
	defer be.Close()
	const n, ne0, ne1 = 64, 1024, 1024
	for _, typ := range allTypes {
		b.Run(fmt.Sprintf("%s/%dx%dx%d", typ, n, ne1, ne0), func(b *testing.B) {
			data := randomWeight(rng, typ, ne0, ne1)
			w, err := be.LoadWeight("w", typ, ne0, ne1, data)
			if err != nil {
				b.Fatal(err)
			}
			x := newBuffer(b, be, randomVec(rng, n*ne0))
			dst := newBuffer(b, be, make([]float32, n*ne1))
			b.ReportAllocs()
			for b.Loop() {
				be.MatMul(dst, w, x, n)
			}
			b.ReportMetric(float64(2*n*ne0*ne1)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

// BenchmarkMatMulRows multiplies n = 1..16 activation rows, the shape of a
// batched decode step (one row per running sequence), for the quantized
// types at 1024→3072, reporting the time per activation row. With
// MATMUL_ROWS_SHAPES=model it runs the Qwen3-0.6B shapes instead (q, k/v,
// o, gate/up, down and the 151936-row output matrix) for Q8_0, the inputs
// of bench/decode-batch.sh. MATMUL_GEMM=off turns the multi-row integer
// kernels off (every activation row through the one-row kernel up to
// intMaxRows rows, the float tile path beyond), the baseline of the
// comparison; =all runs them for one row too. MATMUL_ROWS_N=16,32,64 sets
// the batch sizes. cpu-ns/op
// is the process CPU time per call (see cputime_unix_test.go).
func BenchmarkMatMulRows(b *testing.B) {
	switch os.Getenv("MATMUL_GEMM") {
	case "off":
		defer func(v int) { gemmMinRows = v }(gemmMinRows)
		gemmMinRows = math.MaxInt
	case "all":
		defer func(v int) { gemmMinRows = v }(gemmMinRows)
		gemmMinRows = 1
	}
	batches := []int{1, 2, 4, 8, 16}
	if s := os.Getenv("MATMUL_ROWS_N"); s != "" {
		batches = batches[:0]
		for _, f := range strings.Split(s, ",") {
			n, err := strconv.Atoi(f)
			if err != nil || n < 1 {
				b.Fatalf("MATMUL_ROWS_N: bad batch size %q", f)
			}
			batches = append(batches, n)
		}
	}
	rng := rand.New(rand.NewPCG(1, 3))
	be := New(engineOpts(runtime.GOMAXPROCS(0))) // -test.cpu sets the threads
	defer be.Close()
	type shape struct{ ne0, ne1 int }
	types := []gguf.Type{gguf.TypeQ8_0, gguf.TypeQ4_0, gguf.TypeQ2_K, gguf.TypeQ3_K, gguf.TypeQ4_K, gguf.TypeQ5_K, gguf.TypeQ6_K}
	shapes := []shape{{1024, 3072}}
	if os.Getenv("MATMUL_ROWS_SHAPES") == "model" {
		types = []gguf.Type{gguf.TypeQ8_0}
		shapes = []shape{{1024, 2048}, {1024, 1024}, {2048, 1024}, {1024, 3072}, {3072, 1024}, {1024, 151936}}
	}
	for _, typ := range types {
		for _, s := range shapes {
			data := randomWeight(rng, typ, s.ne0, s.ne1)
			w, err := be.LoadWeight("w", typ, s.ne0, s.ne1, data)
			if err != nil {
				b.Fatal(err)
			}
			for _, n := range batches {
				b.Run(fmt.Sprintf("%s/%dx%d/rows=%d", typ, s.ne1, s.ne0, n), func(b *testing.B) {
					x := newBuffer(b, be, randomVec(rng, n*s.ne0))
					dst := newBuffer(b, be, make([]float32, n*s.ne1))
					b.ReportAllocs()
					cpu0 := cpuTimeNs()
					for b.Loop() {
						// A fresh generation each call, as in a forward
						// pass: the activation is quantized every time.
						x.(*buffer).gen++
						be.MatMul(dst, w, x, n)
					}
					b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(n)/1e3, "µs/row")
					// With one thread (-test.cpu 1) the CPU time per call
					// is the work alone; with more it includes the pool's
					// spinning.
					b.ReportMetric(float64(cpuTimeNs()-cpu0)/float64(b.N), "cpu-ns/op")
				})
			}
		}
	}
}
