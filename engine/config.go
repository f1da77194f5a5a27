// This file reads a model's hyperparameters from GGUF metadata into Config
// and checks them: every key the forward pass needs is required, and the
// invariants the ops rely on (whole query-head groups, an even head width,
// the embedding's shape) are verified before any weight is touched.

package engine

import (
	"errors"
	"fmt"

	"github.com/helexa/helexa/gguf"
)

// ErrUnsupportedModel reports a model the engine cannot run (another
// architecture, a RoPE scaling scheme it does not implement).
var ErrUnsupportedModel = errors.New("engine: unsupported model")

// ErrInvalidModel reports a model file whose metadata or tensors are wrong
// for its architecture: a missing or out-of-range hyperparameter, an
// invariant that does not hold, a tensor of the wrong shape.
var ErrInvalidModel = errors.New("engine: invalid model")

// invalidModel marks err as ErrInvalidModel without changing its message,
// unless it already says the model is unsupported.
func invalidModel(err error) error {
	if err == nil || errors.Is(err, ErrUnsupportedModel) || errors.Is(err, ErrInvalidModel) {
		return err
	}
	return &markedError{err: err, mark: ErrInvalidModel}
}

// markedError is an error that also matches a sentinel under errors.Is.
type markedError struct{ err, mark error }

func (e *markedError) Error() string   { return e.err.Error() }
func (e *markedError) Unwrap() []error { return []error{e.err, e.mark} }

// Config holds the hyperparameters of a Qwen3 model.
type Config struct {
	Arch      string  // general.architecture ("qwen3")
	NLayer    int     // transformer blocks
	NEmbd     int     // residual stream width
	NFF       int     // feed-forward hidden width
	NHead     int     // query heads
	NHeadKV   int     // key/value heads
	HeadDim   int     // width of one head
	NVocab    int     // rows of token_embd.weight
	NCtxTrain int     // context length the model was trained for
	RopeBase  float32 // RoPE frequency base (rope.freq_base)
	NormEps   float32 // RMS-norm epsilon
	// TiedOutput is true when the file has no output.weight and the token
	// embedding doubles as the output matrix.
	TiedOutput bool
	// Pooling is <arch>.pooling_type when the file has it (embedding
	// models), else PoolingUnset.
	Pooling Pooling
}

// ConfigFromGGUF reads the configuration of a qwen3 model. A missing or
// mistyped key is an error naming the key; every error but an unsupported
// model is ErrInvalidModel.
func ConfigFromGGUF(f *gguf.File) (Config, error) {
	c, err := configFromGGUF(f)
	return c, invalidModel(err)
}

func configFromGGUF(f *gguf.File) (Config, error) {
	var c Config
	arch, err := f.String("general.architecture")
	if err != nil {
		return c, fmt.Errorf("engine: %w", err)
	}
	if arch != "qwen3" {
		return c, fmt.Errorf("%w: architecture %q (supported: qwen3)", ErrUnsupportedModel, arch)
	}
	c.Arch = arch
	ints := []struct {
		key string
		dst *int
	}{
		{"block_count", &c.NLayer},
		{"context_length", &c.NCtxTrain},
		{"embedding_length", &c.NEmbd},
		{"feed_forward_length", &c.NFF},
		{"attention.head_count", &c.NHead},
		{"attention.head_count_kv", &c.NHeadKV},
		{"attention.key_length", &c.HeadDim},
	}
	for _, k := range ints {
		key := arch + "." + k.key
		v, err := f.Uint32(key)
		if err != nil {
			return c, fmt.Errorf("engine: %w", err)
		}
		if v == 0 || v > 1<<24 {
			return c, fmt.Errorf("engine: %s = %d out of range", key, v)
		}
		*k.dst = int(v)
	}
	valueLen, err := f.Uint32(arch + ".attention.value_length")
	if err != nil {
		return c, fmt.Errorf("engine: %w", err)
	}
	if int(valueLen) != c.HeadDim {
		return c, fmt.Errorf("%w: %s.attention.value_length %d differs from key_length %d", ErrUnsupportedModel, arch, valueLen, c.HeadDim)
	}
	if c.RopeBase, err = f.Float32(arch + ".rope.freq_base"); err != nil {
		return c, fmt.Errorf("engine: %w", err)
	}
	if c.NormEps, err = f.Float32(arch + ".attention.layer_norm_rms_epsilon"); err != nil {
		return c, fmt.Errorf("engine: %w", err)
	}
	if s, err := f.String(arch + ".rope.scaling.type"); err == nil && s != "none" {
		return c, fmt.Errorf("%w: %s.rope.scaling.type %q", ErrUnsupportedModel, arch, s)
	}

	emb, err := f.Tensor("token_embd.weight")
	if err != nil {
		return c, fmt.Errorf("engine: %w", err)
	}
	if len(emb.Shape) != 2 || emb.Shape[0] != int64(c.NEmbd) || emb.Shape[1] <= 0 || emb.Shape[1] > 1<<24 {
		return c, fmt.Errorf("engine: tensor %q: shape %v, want [%d, nVocab]", emb.Name, emb.Shape, c.NEmbd)
	}
	c.NVocab = int(emb.Shape[1])
	if c.Pooling, err = poolingFromGGUF(f, arch); err != nil {
		return c, err
	}
	_, err = f.Tensor("output.weight")
	c.TiedOutput = err != nil
	return c, c.check()
}

// check verifies the invariants the forward pass relies on.
func (c Config) check() error {
	switch {
	case c.NLayer <= 0 || c.NEmbd <= 0 || c.NFF <= 0 || c.NHead <= 0 || c.NHeadKV <= 0 || c.HeadDim <= 0 || c.NVocab <= 0:
		return fmt.Errorf("engine: config %+v has a non-positive dimension", c)
	case c.NHead%c.NHeadKV != 0:
		return fmt.Errorf("engine: head_count %d is not a multiple of head_count_kv %d", c.NHead, c.NHeadKV)
	case c.HeadDim%2 != 0:
		return fmt.Errorf("engine: key_length %d is odd (RoPE rotates pairs)", c.HeadDim)
	case !(c.RopeBase > 0):
		return fmt.Errorf("engine: rope.freq_base %g is not positive", c.RopeBase)
	case !(c.NormEps > 0):
		return fmt.Errorf("engine: layer_norm_rms_epsilon %g is not positive", c.NormEps)
	}
	return nil
}

// KVDim is the width of one K (or V) cache row, nHeadKV*headDim.
func (c Config) KVDim() int { return c.NHeadKV * c.HeadDim }

// QDim is the width of the query (and attention output), nHead*headDim.
func (c Config) QDim() int { return c.NHead * c.HeadDim }
