// Helpers shared by the tests on the fake and emulated devices and the GPU
// tests (-tags cuda): buffers and batches created for a test and freed when
// it ends, NaN poison, read-back.
package cuda

import (
	"math"
	"testing"

	"github.com/helexa/helexa/engine"
)

// nanFill is the poison written to outputs before an op: any element the op
// fails to write stays NaN and fails the comparison.
func nanFill(n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(math.NaN())
	}
	return x
}

// upload allocates a buffer on b holding x.
func upload(t testing.TB, b engine.Backend, x []float32) engine.Buffer {
	t.Helper()
	buf, err := b.NewBuffer(len(x))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(buf.Free)
	if err := b.Write(buf, x); err != nil {
		t.Fatal(err)
	}
	return buf
}

func download(t testing.TB, b engine.Backend, x engine.Buffer, n int) []float32 {
	t.Helper()
	out := make([]float32, n)
	if err := b.Read(out, x); err != nil {
		t.Fatal(err)
	}
	return out
}

func setRows(t testing.TB, b engine.Backend, rows []engine.Row) engine.Rows {
	t.Helper()
	rs, err := b.NewRows(max(len(rows), 1))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rs.Free)
	if err := rs.Set(rows); err != nil {
		t.Fatal(err)
	}
	return rs
}
