// This file exports the paged KV cache's block tables to the engine_test
// package's tests.

package engine

// BlockTable returns the blocks mapped to sequence slot seq, in position
// order.
func (c *Context) BlockTable(seq int32) []int32 {
	return append([]int32(nil), c.pg.row(int(seq))[:c.pg.mapped[seq]]...)
}
