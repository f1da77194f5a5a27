// This file holds the evaluation of a list of token ids for their logits —
// EvalLogits, the work of `neuron logits`, the tool for checking numerical
// fidelity against other engines — and TopK, the selection of the largest
// logits of a row, which uses the sampler's candidate order.

package engine

import (
	"context"
	"fmt"
	"math"
)

// EvalLogits runs tokens through c as positions 0..len(tokens)-1 of
// sequence 0, in batches of c's batch size, and returns the logits of the
// last position, or of every position when all is set: nVocab floats per
// position, in position order. The cache must hold len(tokens) positions;
// ctx is checked before every batch.
func EvalLogits(ctx context.Context, c *Context, tokens []int32, all bool) ([]float32, error) {
	n := len(tokens)
	if n == 0 {
		return nil, fmt.Errorf("engine: eval logits: no tokens")
	}
	nVocab := c.Model().Config().NVocab
	batch := c.Options().Batch
	first := n - 1 // first position whose logits are returned
	if all {
		first = 0
	}
	logits := make([]float32, (n-first)*nVocab)
	rows := make([]Row, 0, batch)
	var want []int
	for start := 0; start < n; start += batch {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		rows, want = rows[:0], want[:0]
		for i := start; i < min(start+batch, n); i++ {
			rows = append(rows, Row{Token: tokens[i], Pos: int32(i)})
			if i >= first {
				want = append(want, i-start)
			}
		}
		out := logits[max(start-first, 0)*nVocab:]
		if err := c.Forward(rows, want, out); err != nil {
			return nil, err
		}
	}
	return logits, nil
}

// TopK returns the ids of the k largest values of logits (all of them when
// k exceeds its length), largest first, ties by lowest id; NaN values come
// last, by id.
func TopK(logits []float32, k int) []int32 {
	if k <= 0 {
		return nil
	}
	c := make([]candidate, 0, len(logits))
	var nan []int32
	for i, l := range logits {
		if math.IsNaN(float64(l)) {
			nan = append(nan, int32(i)) // better() has no order for NaN
			continue
		}
		c = append(c, candidate{id: int32(i), logit: l})
	}
	selectTop(c, k)
	c = c[:min(k, len(c))]
	sortCands(c)
	ids := make([]int32, 0, min(k, len(logits)))
	for _, x := range c {
		ids = append(ids, x.id)
	}
	for _, id := range nan {
		if len(ids) == k {
			break
		}
		ids = append(ids, id)
	}
	return ids
}
