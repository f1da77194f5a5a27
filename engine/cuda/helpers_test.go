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

// setRows uploads rows with the block tables of a cache of one contiguous
// region of 1024 positions per slot for 4 slots (blocks of 16 positions,
// see contiguous).
func setRows(t testing.TB, b engine.Backend, rows []engine.Row) engine.Rows {
	t.Helper()
	return setRowsTab(t, b, rows, contiguous)
}

// contiguous maps 4 slots of 1024 positions to blocks of 16 positions in
// order: slot s, position p is at block s*64 + p/16. The caches of the
// tests that use it have testBlocks blocks of testBlockSize positions.
var contiguous = engine.ContiguousTables(4, 64)

const testBlockSize = 16

// testBlocks is the number of blocks a cache of seqs slots of ctx
// positions each needs under contiguous tables.
func testBlocks(seqs, ctx int) int { return (seqs-1)*64 + (ctx+testBlockSize-1)/testBlockSize }

// setRowsTab uploads rows with the block tables tab.
func setRowsTab(t testing.TB, b engine.Backend, rows []engine.Row, tab engine.BlockTables) engine.Rows {
	t.Helper()
	rs, err := b.NewRows(max(len(rows), 1), len(tab.Table))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(rs.Free)
	if err := rs.Set(rows, tab); err != nil {
		t.Fatal(err)
	}
	return rs
}
