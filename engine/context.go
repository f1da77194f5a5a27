// This file holds Context: the state of a model's running sequences — its
// paged KV cache (blocks shared by up to Seqs sequences, see kvseq.go) and
// the activation buffers of the forward pass, allocated once for the
// largest batch so that Forward allocates nothing — and the checks that turn
// a bad batch into an error before any op runs.

package engine

import (
	"errors"
	"fmt"
)

// ErrBadBatch reports a Forward batch the context cannot run: too many rows,
// a token outside the vocabulary, a sequence slot or position outside the
// cache, or a logit row that is not in the batch. A position beyond the
// cache is also ErrContextLength.
var ErrBadBatch = errors.New("engine: bad batch")

// Default context sizes used when ContextOptions leaves them zero.
const (
	// defaultBatch is the default prefill chunk, llama.cpp's n_batch default.
	defaultBatch = 512
	// DefaultBlockSize is the positions per KV cache block: vLLM's default
	// block size, small enough that a prompt prefix is reused to within 15
	// tokens and a sequence wastes at most 15 positions.
	DefaultBlockSize = 16
	// maxLogitRows bounds the rows whose logits one matrix product computes;
	// more logit rows are done in chunks of this size. 32 rows of a 151936
	// vocabulary are 19 MiB.
	maxLogitRows = 32
)

// ContextOptions size a Context. Zero fields take defaults: Seqs 1, Ctx
// DefaultCtxSize, Batch the smaller of 512 and Seqs*Ctx, KV f16, BlockSize
// 16, Blocks enough for every slot to hold Ctx positions
// (Seqs*ceil(Ctx/BlockSize)).
type ContextOptions struct {
	Seqs  int    // sequence slots: the most sequences running at once
	Ctx   int    // positions per sequence
	Batch int    // most rows per Forward call
	KV    KVType // KV cache element type
	// Blocks is the size of the paged KV cache in blocks of BlockSize
	// positions, shared by all sequences.
	Blocks    int
	BlockSize int
}

// Context is the state needed to run a model on up to Seqs sequences: the KV
// cache and preallocated scratch buffers. It is not safe for concurrent use.
type Context struct {
	m         *Model
	o         ContextOptions
	kv        KVCache
	rows      Rows
	attnScale float32
	logitCap  int
	pg        *pager // the KV cache's block tables, allocator and prefix index

	// Scratch activations, [Batch, width] unless noted.
	x      Buffer // residual stream [Batch, nEmbd]
	xb     Buffer // normalized input of a block [Batch, nEmbd]
	q      Buffer // queries [Batch, nHead*headDim]
	k      Buffer // keys [Batch, nHeadKV*headDim]
	v      Buffer // values [Batch, nHeadKV*headDim]
	att    Buffer // attention output [Batch, nHead*headDim]
	proj   Buffer // attn_output / ffn_down result [Batch, nEmbd]
	gate   Buffer // ffn_gate result, then SwiGLU [Batch, nFF]
	up     Buffer // ffn_up result [Batch, nFF]
	lx     Buffer // rows that want logits [logitCap, nEmbd]
	logits Buffer // [logitCap, nVocab]
}

// NewContext allocates a context for m.
func (m *Model) NewContext(o ContextOptions) (*Context, error) {
	cfg := m.cfg
	o, err := o.resolve(cfg)
	if err != nil {
		return nil, err
	}
	c := &Context{m: m, o: o, attnScale: attnScale(cfg.HeadDim), logitCap: min(o.Batch, maxLogitRows)}
	width := o.width()
	c.kv, err = m.b.NewKVCache(KVShape{Layers: cfg.NLayer, Blocks: o.Blocks, BlockSize: o.BlockSize, KVDim: cfg.KVDim(), Type: o.KV})
	if err == nil {
		c.rows, err = m.b.NewRows(o.Batch, o.Seqs*width)
	}
	sizes := scratchSizes(cfg, o)
	for i, dst := range c.scratch() {
		if err != nil {
			break
		}
		*dst, err = m.b.NewBuffer(sizes[i])
	}
	if err != nil {
		c.Free()
		return nil, fmt.Errorf("engine: new context: %w", err)
	}
	c.pg = newPager(o.Blocks, o.BlockSize, o.Seqs, width)
	return c, nil
}

// Options returns the options the context was created with, defaults filled in.
func (c *Context) Options() ContextOptions { return c.o }

// Model returns the model the context runs.
func (c *Context) Model() *Model { return c.m }

// KVBytes is the memory the KV cache occupies.
func (c *Context) KVBytes() int64 {
	if c.kv == nil {
		return 0
	}
	return c.kv.Bytes()
}

// scratch lists the scratch buffers in scratchSizes order.
func (c *Context) scratch() []*Buffer {
	return []*Buffer{&c.x, &c.xb, &c.q, &c.k, &c.v, &c.att, &c.proj, &c.gate, &c.up, &c.lx, &c.logits}
}

// Free releases the cache and buffers; the context refuses Forward after
// it.
func (c *Context) Free() {
	for _, b := range c.scratch() {
		if *b != nil {
			(*b).Free()
		}
	}
	if c.rows != nil {
		c.rows.Free()
	}
	if c.kv != nil {
		c.kv.Free()
	}
	for _, b := range c.scratch() {
		*b = nil
	}
	// The pager stays: KVStats may be running on another goroutine (a
	// model list during an unload) and reads it without a lock.
	c.kv, c.rows = nil, nil
}

// checkBatch validates a forward call before any op runs: the rows, and
// outRows (indices into rows) with out holding width floats for each; what
// names the output in errors ("logit", "hidden").
func (c *Context) checkBatch(rows []Row, outRows []int, out []float32, width int, what string) error {
	if c.kv == nil {
		return fmt.Errorf("%w: context is freed", ErrBadBatch)
	}
	if len(rows) == 0 || len(rows) > c.o.Batch {
		return fmt.Errorf("%w: %d rows (batch size %d)", ErrBadBatch, len(rows), c.o.Batch)
	}
	nVocab := c.m.cfg.NVocab
	for i, r := range rows {
		switch {
		case r.Token < 0 || int(r.Token) >= nVocab:
			return fmt.Errorf("%w: row %d: token %d outside the vocabulary [0, %d)", ErrBadBatch, i, r.Token, nVocab)
		case r.Seq < 0 || int(r.Seq) >= c.o.Seqs:
			return fmt.Errorf("%w: row %d: sequence %d outside [0, %d)", ErrBadBatch, i, r.Seq, c.o.Seqs)
		case r.Pos < 0 || int(r.Pos) >= c.o.Ctx:
			return fmt.Errorf("%w: row %d: position %d outside the context size %d (%w)", ErrBadBatch, i, r.Pos, c.o.Ctx, ErrContextLength)
		}
	}
	for _, j := range outRows {
		if j < 0 || j >= len(rows) {
			return fmt.Errorf("%w: %s row %d outside the batch of %d", ErrBadBatch, what, j, len(rows))
		}
	}
	if len(out) < len(outRows)*width {
		return fmt.Errorf("%w: %s output holds %d floats, need %d", ErrBadBatch, what, len(out), len(outRows)*width)
	}
	return nil
}

// resolve checks o and fills in its defaults for a model of cfg.
func (o ContextOptions) resolve(cfg Config) (ContextOptions, error) {
	if o.Seqs < 0 || o.Ctx < 0 || o.Batch < 0 || o.Blocks < 0 || o.BlockSize < 0 {
		return o, fmt.Errorf("engine: context options %+v: negative size", o)
	}
	if o.KV != KVF16 && o.KV != KVF32 {
		return o, fmt.Errorf("engine: context options: kv type %d", o.KV)
	}
	if o.Seqs == 0 {
		o.Seqs = 1
	}
	if o.Ctx == 0 {
		o.Ctx = DefaultCtxSize(cfg, o.KV, o.Seqs)
	}
	if o.Batch == 0 {
		o.Batch = min(defaultBatch, o.Seqs*o.Ctx)
	}
	if o.BlockSize == 0 {
		o.BlockSize = DefaultBlockSize
	}
	if o.Blocks == 0 {
		o.Blocks = o.Seqs * o.width()
	}
	return o, nil
}

// width is the blocks one sequence of Ctx positions spans, the width of a
// slot's block table.
func (o ContextOptions) width() int { return (o.Ctx + o.BlockSize - 1) / o.BlockSize }

// scratchSizes lists the float32 elements of each scratch buffer of a
// context, in the order of Context.scratch: x, xb, q, k, v, att, proj,
// gate, up, lx, logits.
func scratchSizes(cfg Config, o ContextOptions) []int {
	logitCap := min(o.Batch, maxLogitRows)
	return []int{
		o.Batch * cfg.NEmbd,   // x
		o.Batch * cfg.NEmbd,   // xb
		o.Batch * cfg.QDim(),  // q
		o.Batch * cfg.KVDim(), // k
		o.Batch * cfg.KVDim(), // v
		o.Batch * cfg.QDim(),  // att
		o.Batch * cfg.NEmbd,   // proj
		o.Batch * cfg.NFF,     // gate
		o.Batch * cfg.NFF,     // up
		logitCap * cfg.NEmbd,  // lx
		logitCap * cfg.NVocab, // logits
	}
}

// ContextBytes estimates the device memory a context with options o needs
// for a model of cfg: the KV cache (K and V of every layer and position of
// every block) and the scratch activations.
func ContextBytes(cfg Config, o ContextOptions) (int64, error) {
	o, err := o.resolve(cfg)
	if err != nil {
		return 0, err
	}
	// Dimensions up to 2^24 and a context of any int could overflow int64;
	// anything above 2^60 bytes fits nowhere.
	if f := float64(o.Blocks) * float64(KVBlockBytes(cfg, o.KV, o.BlockSize)); f > 1<<60 {
		return 0, fmt.Errorf("%w: a kv cache of %d blocks of %d positions needs %.3g bytes", ErrDoesNotFit, o.Blocks, o.BlockSize, f)
	}
	n := int64(o.Blocks) * KVBlockBytes(cfg, o.KV, o.BlockSize)
	for _, s := range scratchSizes(cfg, o) {
		n += int64(s) * 4
	}
	return n, nil
}

// KVBlockBytes is the memory one KV cache block of blockSize positions
// (0: the default) takes for a model of cfg: K and V of every layer.
func KVBlockBytes(cfg Config, kv KVType, blockSize int) int64 {
	if blockSize == 0 {
		blockSize = DefaultBlockSize
	}
	return 2 * int64(cfg.NLayer) * int64(blockSize) * int64(cfg.KVDim()) * int64(kv.elemSize())
}
