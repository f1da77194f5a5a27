// This file is the Qwen3 model: its weights, the loader that finds each
// tensor in a GGUF file by name and shape, and the forward pass.
//
// The architecture follows Hugging Face transformers'
// models/qwen3/modeling_qwen3.py (Qwen3ForCausalLM) and llama.cpp's
// src/models/qwen3.cpp: a pre-norm decoder whose attention applies an RMS
// norm to each query and key head before rotary embeddings (NeoX layout),
// grouped-query attention, a SwiGLU feed-forward block and an optionally
// tied output matrix. Forward reads top to bottom like llama2.c's forward():
// one backend op per line, the same code for prefill, decode and several
// sequences at once.

package engine

import (
	"fmt"
	"math"

	"github.com/helexa/helexa/gguf"
)

// layerWeights are the tensors of one transformer block; shapes in GGUF
// order [ne0, ne1] = [input features, output features].
type layerWeights struct {
	AttnNorm   Weight // [nEmbd]
	AttnQ      Weight // [nEmbd, nHead*headDim]
	AttnK      Weight // [nEmbd, nHeadKV*headDim]
	AttnV      Weight // [nEmbd, nHeadKV*headDim]
	AttnQNorm  Weight // [headDim]
	AttnKNorm  Weight // [headDim]
	AttnOutput Weight // [nHead*headDim, nEmbd]
	FFNNorm    Weight // [nEmbd]
	FFNGate    Weight // [nEmbd, nFF]
	FFNUp      Weight // [nEmbd, nFF]
	FFNDown    Weight // [nFF, nEmbd]
}

// weights are all tensors of a Qwen3 model.
type weights struct {
	TokenEmbd  Weight // [nEmbd, nVocab]
	Layers     []layerWeights
	OutputNorm Weight // [nEmbd]
	Output     Weight // [nEmbd, nVocab]; TokenEmbd itself when the output is tied
}

// Model is a loaded Qwen3 model: its configuration and its weights resident
// on a backend. A Model is read-only after LoadModel and may serve several
// Contexts.
type Model struct {
	cfg    Config
	b      Backend
	w      weights
	loaded []Weight // every distinct weight, for Bytes and Free
}

// LoadModel reads the configuration of f and makes every tensor resident on
// b, checking each against its expected shape. The weights may reference
// f's memory mapping: f must stay open until the model is freed.
func LoadModel(f *gguf.File, b Backend) (*Model, error) {
	cfg, err := ConfigFromGGUF(f)
	if err != nil {
		return nil, err
	}
	// The last block must exist before per-block slices are sized by a
	// block_count read from the file.
	if _, err := f.Tensor(fmt.Sprintf("blk.%d.attn_norm.weight", cfg.NLayer-1)); err != nil {
		return nil, fmt.Errorf("engine: %s.block_count %d: %w", cfg.Arch, cfg.NLayer, err)
	}
	m := &Model{cfg: cfg, b: b}
	load := func(name string, ne0, ne1 int) Weight {
		if err != nil {
			return nil
		}
		var w Weight
		w, err = loadTensor(f, b, name, ne0, ne1)
		if err == nil {
			m.loaded = append(m.loaded, w)
		}
		return w
	}
	nEmbd, qDim, kvDim, hd := cfg.NEmbd, cfg.QDim(), cfg.KVDim(), cfg.HeadDim
	m.w.TokenEmbd = load("token_embd.weight", nEmbd, cfg.NVocab)
	m.w.Layers = make([]layerWeights, cfg.NLayer)
	for i := range m.w.Layers {
		l := &m.w.Layers[i]
		blk := func(s string) string { return fmt.Sprintf("blk.%d.%s.weight", i, s) }
		l.AttnNorm = load(blk("attn_norm"), nEmbd, 1)
		l.AttnQ = load(blk("attn_q"), nEmbd, qDim)
		l.AttnK = load(blk("attn_k"), nEmbd, kvDim)
		l.AttnV = load(blk("attn_v"), nEmbd, kvDim)
		l.AttnQNorm = load(blk("attn_q_norm"), hd, 1)
		l.AttnKNorm = load(blk("attn_k_norm"), hd, 1)
		l.AttnOutput = load(blk("attn_output"), qDim, nEmbd)
		l.FFNNorm = load(blk("ffn_norm"), nEmbd, 1)
		l.FFNGate = load(blk("ffn_gate"), nEmbd, cfg.NFF)
		l.FFNUp = load(blk("ffn_up"), nEmbd, cfg.NFF)
		l.FFNDown = load(blk("ffn_down"), cfg.NFF, nEmbd)
	}
	m.w.OutputNorm = load("output_norm.weight", nEmbd, 1)
	if cfg.TiedOutput {
		m.w.Output = m.w.TokenEmbd // tied: logits = x · token_embdᵀ
	} else {
		m.w.Output = load("output.weight", nEmbd, cfg.NVocab)
	}
	if err != nil {
		m.Free()
		return nil, err
	}
	return m, nil
}

// loadTensor finds name in f, checks its shape against [ne0, ne1] ([ne0]
// for vectors, ne1 == 1) and loads it on b.
func loadTensor(f *gguf.File, b Backend, name string, ne0, ne1 int) (Weight, error) {
	t, err := f.Tensor(name)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	want := []int64{int64(ne0), int64(ne1)}
	if ne1 == 1 {
		want = want[:1]
	}
	if !shapeIs(t.Shape, want) {
		return nil, fmt.Errorf("engine: tensor %q: shape %v, want %v", name, t.Shape, want)
	}
	data, err := f.TensorData(t)
	if err != nil {
		return nil, fmt.Errorf("engine: %w", err)
	}
	w, err := b.LoadWeight(name, t.Type, ne0, ne1, data)
	if err != nil {
		return nil, fmt.Errorf("engine: tensor %q (%s): %w", name, t.Type, err)
	}
	return w, nil
}

// shapeIs compares a GGUF shape with want, ignoring trailing 1s.
func shapeIs(shape, want []int64) bool {
	for len(shape) > len(want) && shape[len(shape)-1] == 1 {
		shape = shape[:len(shape)-1]
	}
	if len(shape) != len(want) {
		return false
	}
	for i := range want {
		if shape[i] != want[i] {
			return false
		}
	}
	return true
}

// Config returns the model's configuration.
func (m *Model) Config() Config { return m.cfg }

// Backend returns the backend the weights are resident on.
func (m *Model) Backend() Backend { return m.b }

// Bytes is the memory the weights occupy on the backend.
func (m *Model) Bytes() int64 {
	var n int64
	for _, w := range m.loaded {
		n += w.Bytes()
	}
	return n
}

// Free releases the weights. Contexts of the model must be freed first.
func (m *Model) Free() {
	for _, w := range m.loaded {
		w.Free()
	}
	m.loaded = nil
	m.w = weights{}
}

// Forward runs the model on a batch of rows and writes the logits of the
// rows listed in logitRows (indices into rows) to logits, nVocab floats per
// listed row, in logitRows order. Each row's K and V are stored at its
// (Seq, Pos) cache slot and it attends to positions 0..Pos of its sequence;
// earlier positions must have been filled by earlier rows or calls. The
// blocks of a row's sequence up to its position are allocated here when
// not yet mapped (kvtable.go prepare); when none can be had Forward fails
// with ErrKVFull before any op runs. A row may not write into a block its
// sequence shares with others (ReusePrefix): that is ErrBadBatch; writing
// into a published block the sequence holds alone unpublishes it.
func (c *Context) Forward(rows []Row, logitRows []int, logits []float32) error {
	if err := c.checkBatch(rows, logitRows, logits, c.m.cfg.NVocab, "logit"); err != nil {
		return err
	}
	if err := c.trunk(rows); err != nil {
		return err
	}
	b, cfg, w := c.m.b, c.m.cfg, &c.m.w
	// Logits, only for the rows that want them, at most logitCap at a time.
	// The final norm is per row, so gathering the rows first and normalizing
	// only them gives the same result as normalizing every row.
	for i := 0; i < len(logitRows); i += c.logitCap {
		idx := logitRows[i:min(i+c.logitCap, len(logitRows))]
		b.CopyRows(c.lx, c.x, idx, cfg.NEmbd)
		b.RMSNorm(c.lx, c.lx, w.OutputNorm, len(idx), cfg.NEmbd, cfg.NormEps)
		b.MatMul(c.logits, w.Output, c.lx, len(idx))
		if err := b.Read(logits[i*cfg.NVocab:(i+len(idx))*cfg.NVocab], c.logits); err != nil {
			return fmt.Errorf("engine: forward: %w", err)
		}
	}
	if err := b.Sync(); err != nil {
		return fmt.Errorf("engine: forward: %w", err)
	}
	return nil
}

// trunk runs the embedding and every layer on a checked batch, leaving the
// residual stream of each row in c.x (before the output norm).
func (c *Context) trunk(rows []Row) error {
	b, cfg, w := c.m.b, c.m.cfg, &c.m.w
	n, eps := len(rows), cfg.NormEps
	if err := c.pg.prepare(rows); err != nil {
		return fmt.Errorf("engine: forward: %w", err)
	}
	if err := c.rows.Set(rows, c.pg.tables()); err != nil {
		return fmt.Errorf("engine: forward: set batch rows: %w", err)
	}

	b.Embed(c.x, w.TokenEmbd, c.rows, n)
	for il := range w.Layers {
		l := &w.Layers[il]
		// Attention block.
		b.RMSNorm(c.xb, c.x, l.AttnNorm, n, cfg.NEmbd, eps)
		b.MatMul(c.q, l.AttnQ, c.xb, n)
		b.MatMul(c.k, l.AttnK, c.xb, n)
		b.MatMul(c.v, l.AttnV, c.xb, n)
		b.RMSNorm(c.q, c.q, l.AttnQNorm, n*cfg.NHead, cfg.HeadDim, eps)
		b.RMSNorm(c.k, c.k, l.AttnKNorm, n*cfg.NHeadKV, cfg.HeadDim, eps)
		b.RoPE(c.q, c.rows, n, cfg.NHead, cfg.HeadDim, cfg.RopeBase)
		b.RoPE(c.k, c.rows, n, cfg.NHeadKV, cfg.HeadDim, cfg.RopeBase)
		b.StoreKV(c.kv, il, c.k, c.v, c.rows, n)
		b.Attention(c.att, c.q, c.kv, il, c.rows, n, cfg.NHead, cfg.NHeadKV, cfg.HeadDim, c.attnScale)
		b.MatMul(c.proj, l.AttnOutput, c.att, n)
		b.Add(c.x, c.proj, n*cfg.NEmbd)
		// Feed-forward block.
		b.RMSNorm(c.xb, c.x, l.FFNNorm, n, cfg.NEmbd, eps)
		b.MatMul(c.gate, l.FFNGate, c.xb, n)
		b.MatMul(c.up, l.FFNUp, c.xb, n)
		b.SwiGLU(c.gate, c.gate, c.up, n*cfg.NFF)
		b.MatMul(c.proj, l.FFNDown, c.gate, n)
		b.Add(c.x, c.proj, n*cfg.NEmbd)
	}
	return nil
}

// attnScale is the softmax scale 1/sqrt(headDim) (llama.cpp kq_scale).
func attnScale(headDim int) float32 { return float32(1 / math.Sqrt(float64(headDim))) }
