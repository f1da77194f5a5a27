// Embeddings: one vector per input (text or token ids) from the final
// hidden state, as llama.cpp computes them (the output of output_norm, its
// "result_norm"), pooled over each input's tokens as the model's
// <arch>.pooling_type says (last token when the file does not say, which is
// what Qwen3-Embedding uses and what a chat model served for embeddings
// gets), then L2-normalized.
//
// Several inputs run in one forward call: each input is a sequence of its
// own in a context made for the request (as many slots as inputs in the
// group, as many positions as the longest), so the generator's KV cache is
// left alone. Forward calls take the generator's lock, so embeddings and
// generation take turns on the backend.

package engine

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/helexa/helexa/gguf"
)

// Pooling is how the hidden states of an input's tokens become one vector.
// The GGUF key <arch>.pooling_type holds llama.cpp's enum
// llama_pooling_type (none 0, mean 1, cls 2, last 3, rank 4), which is the
// Pooling value minus one: the zero Pooling means the file does not say.
type Pooling int

// Pooling types.
const (
	PoolingUnset Pooling = iota // no pooling_type: embeddings pool the last token
	PoolingNone                 // one vector per token: not served
	PoolingMean
	PoolingCLS // the first token
	PoolingLast
	PoolingRank // reranking head: not served
)

// String names a pooling type as llama.cpp does.
func (p Pooling) String() string {
	switch p {
	case PoolingUnset:
		return "unset"
	case PoolingNone:
		return "none"
	case PoolingMean:
		return "mean"
	case PoolingCLS:
		return "cls"
	case PoolingLast:
		return "last"
	case PoolingRank:
		return "rank"
	}
	return fmt.Sprintf("pooling(%d)", int(p))
}

// poolingFromGGUF reads <arch>.pooling_type when present.
func poolingFromGGUF(f *gguf.File, arch string) (Pooling, error) {
	key := arch + ".pooling_type"
	if _, ok := f.Lookup(key); !ok {
		return PoolingUnset, nil
	}
	v, err := f.Uint32(key)
	if err != nil {
		return PoolingUnset, fmt.Errorf("engine: %w", err)
	}
	if v > 4 { // LLAMA_POOLING_TYPE_RANK, the last
		return PoolingUnset, fmt.Errorf("%w: %s = %d", ErrUnsupportedModel, key, v)
	}
	return Pooling(v + 1), nil
}

// Embedding limits: inputs per forward group (each is a sequence slot of
// the request's context) and inputs per request (OpenAI's limit is 2048).
const (
	maxEmbedGroup  = 16
	MaxEmbedInputs = 2048
)

// EmbedResult holds one L2-normalized vector per input, in input order,
// and the number of tokens the inputs came to.
type EmbedResult struct {
	Embeddings   [][]float32
	PromptTokens int
}

// Embed computes the embeddings of texts (tokenized, BOS prepended and EOS
// appended when the vocabulary asks for them, as llama.cpp does) or of
// token-id inputs (used as they are); exactly one of the two is given. An
// input longer than the context is a *ContextLengthError; an empty input or
// an id outside the vocabulary is ErrBadRequest.
func (g *Generator) Embed(ctx context.Context, texts []string, tokens [][]int32) (*EmbedResult, error) {
	inputs, err := g.embedInputs(texts, tokens)
	if err != nil {
		return nil, err
	}
	pool := g.model.Config().Pooling
	switch pool {
	case PoolingUnset:
		pool = PoolingLast
	case PoolingNone, PoolingRank:
		return nil, fmt.Errorf("%w: the model's pooling type %s gives no sentence embedding", ErrBadRequest, pool)
	}
	res := &EmbedResult{Embeddings: make([][]float32, len(inputs))}
	for _, in := range inputs {
		res.PromptTokens += len(in)
	}
	// Groups: consecutive inputs whose tokens fill at most one batch (an
	// input longer than a batch goes alone, in several calls).
	for start := 0; start < len(inputs); {
		end, total := start, 0
		for end < len(inputs) && end-start < maxEmbedGroup && (end == start || total+len(inputs[end]) <= g.batch) {
			total += len(inputs[end])
			end++
		}
		if err := g.embedGroup(ctx, inputs[start:end], pool, res.Embeddings[start:end]); err != nil {
			return nil, err
		}
		start = end
	}
	return res, nil
}

// embedInputs tokenizes and checks the inputs.
func (g *Generator) embedInputs(texts []string, tokens [][]int32) ([][]int32, error) {
	if (len(texts) == 0) == (len(tokens) == 0) {
		return nil, fmt.Errorf("%w: give either texts or token ids to embed", ErrBadRequest)
	}
	if n := len(texts) + len(tokens); n > MaxEmbedInputs {
		return nil, fmt.Errorf("%w: %d inputs, at most %d", ErrBadRequest, n, MaxEmbedInputs)
	}
	inputs := tokens
	if len(texts) > 0 {
		eos, addEOS := g.tok.EOS()
		addEOS = addEOS && g.tok.AddEOS()
		inputs = make([][]int32, len(texts))
		for i, t := range texts {
			if ids, err := g.PromptTokens(&GenerateRequest{Prompt: t}); err == nil {
				if addEOS && ids[len(ids)-1] != eos {
					ids = append(ids, eos)
				}
				inputs[i] = ids
			}
		}
	}
	for i, in := range inputs {
		if len(in) == 0 {
			return nil, fmt.Errorf("%w: input %d is empty", ErrBadRequest, i)
		}
		if len(in) > g.nCtx {
			return nil, &ContextLengthError{Prompt: len(in), Requested: 0, Ctx: g.nCtx}
		}
		for j, id := range in {
			if id < 0 || int(id) >= g.nVocab {
				return nil, fmt.Errorf("%w: input %d: token %d (index %d) outside the vocabulary [0, %d)", ErrBadRequest, i, id, j, g.nVocab)
			}
		}
	}
	return inputs, nil
}

// embedGroup runs a group of inputs, one sequence each, in a context made
// for them, and writes their pooled, normalized vectors to out.
func (g *Generator) embedGroup(ctx context.Context, inputs [][]int32, pool Pooling, out [][]float32) error {
	if g.model == nil {
		return errors.New("engine: embeddings need a loaded model")
	}
	nEmbd := g.model.Config().NEmbd
	longest, total := 0, 0
	for _, in := range inputs {
		longest = max(longest, len(in))
		total += len(in)
	}
	g.fwd.Lock()
	defer g.fwd.Unlock()
	c, err := g.model.NewContext(ContextOptions{Seqs: len(inputs), Ctx: longest, Batch: min(total, g.batch), KV: g.ctx.Options().KV})
	if err != nil {
		return fmt.Errorf("engine: embeddings: %w", err)
	}
	defer c.Free()

	// The rows in input order; the pooled rows of each input collected as
	// the calls produce them.
	rows := make([]Row, 0, total)
	for s, in := range inputs {
		for p, t := range in {
			rows = append(rows, Row{Token: t, Pos: int32(p), Seq: int32(s)})
		}
	}
	for s := range out {
		out[s] = make([]float32, nEmbd)
	}
	hidden := make([]float32, c.o.Batch*nEmbd)
	var want []int
	for i := 0; i < len(rows); i += c.o.Batch {
		if err := ctx.Err(); err != nil {
			return err
		}
		chunk := rows[i:min(i+c.o.Batch, len(rows))]
		want = want[:0]
		for j, r := range chunk {
			if pooled(pool, r, len(inputs[r.Seq])) {
				want = append(want, j)
			}
		}
		if err := c.forwardHidden(chunk, want, hidden); err != nil {
			return err
		}
		for k, j := range want {
			v, dst := hidden[k*nEmbd:(k+1)*nEmbd], out[chunk[j].Seq]
			for e := range dst {
				dst[e] += v[e]
			}
		}
	}
	for _, v := range out {
		normalize(v)
	}
	return nil
}

// pooled reports whether row r of an input of n tokens contributes to its
// vector. Mean pooling sums every row; the division is undone by the L2
// normalization.
func pooled(pool Pooling, r Row, n int) bool {
	switch pool {
	case PoolingMean:
		return true
	case PoolingCLS:
		return r.Pos == 0
	}
	return int(r.Pos) == n-1
}

// normalize scales v to unit L2 norm (a zero vector stays zero).
func normalize(v []float32) {
	var sum float64
	for _, x := range v {
		sum += float64(x) * float64(x)
	}
	if sum == 0 {
		return
	}
	inv := float32(1 / math.Sqrt(sum))
	for i := range v {
		v[i] *= inv
	}
}

// forwardHidden runs the model on a batch and writes the final hidden state
// (after output_norm, before the output matrix) of the listed rows to out,
// nEmbd floats per row, in list order.
func (c *Context) forwardHidden(rows []Row, outRows []int, out []float32) error {
	cfg := c.m.cfg
	if err := c.checkBatch(rows, outRows, out, cfg.NEmbd, "hidden"); err != nil {
		return err
	}
	if err := c.trunk(rows); err != nil {
		return err
	}
	b := c.m.b
	for i := 0; i < len(outRows); i += c.logitCap {
		idx := outRows[i:min(i+c.logitCap, len(outRows))]
		b.CopyRows(c.lx, c.x, idx, cfg.NEmbd)
		b.RMSNorm(c.lx, c.lx, c.m.w.OutputNorm, len(idx), cfg.NEmbd, cfg.NormEps)
		if err := b.Read(out[i*cfg.NEmbd:(i+len(idx))*cfg.NEmbd], c.lx); err != nil {
			return fmt.Errorf("engine: forward: %w", err)
		}
	}
	if err := b.Sync(); err != nil {
		return fmt.Errorf("engine: forward: %w", err)
	}
	return nil
}
