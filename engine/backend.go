// Backend is the eager, kernel-sized interface the forward pass runs on.
//
// The model code in qwen3.go calls these ops one per line; a backend (engine/cpu,
// engine/cuda) implements them on its device and registers itself with
// Register. Weights keep their GGUF type on the device and MatMul dispatches on
// it. Ops do not return errors: a shape mismatch is a programmer error (a
// panic), and a device error is sticky — the backend records the first one and
// returns it from Sync and Read, which the engine calls once per forward pass.

package engine

import (
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"

	"github.com/helexa/helexa/gguf"
)

// Row is one row of a batch: a token at a position in a sequence. Prefill,
// decode and several sequences at once all use the same batch shape.
type Row struct {
	Token int32 // token id
	Pos   int32 // position in its sequence, from 0
	Seq   int32 // sequence slot in the KV cache
}

// Weight is a model tensor resident on a backend in its GGUF type.
type Weight interface {
	// Type is the tensor's GGUF element type.
	Type() gguf.Type
	// Dims returns (ne0, ne1): input features and output features for a
	// matrix, (n, 1) for a vector.
	Dims() (ne0, ne1 int)
	// Bytes is the memory the weight occupies on the device.
	Bytes() int64
	// Free releases the device memory (a no-op for memory-mapped CPU weights).
	Free()
}

// Buffer is a float32 activation buffer on a backend.
type Buffer interface {
	// Len is the number of float32 elements.
	Len() int
	Free()
}

// Rows is a batch description uploaded to a backend once per forward pass:
// the rows and the block tables their StoreKV and Attention address the
// paged KV cache through.
type Rows interface {
	// Cap is the largest batch Set accepts.
	Cap() int
	// Set uploads the batch rows and the block tables; ops called
	// afterwards see them. The table may be uploaded only when t.Gen
	// differs from the last Set's (a Gen of 0 always uploads); it fails
	// beyond the capacity of the rows or the table.
	Set(rows []Row, t BlockTables) error
	Free()
}

// BlockTables map the positions of every sequence slot to blocks of a paged
// KV cache: the block of position p of slot s is Table[s*Width+p/BlockSize]
// (-1 where no block is mapped; a row's ops may only touch mapped blocks).
type BlockTables struct {
	Table []int32 // [seqs, Width] block indices
	Width int     // blocks per slot: the most positions of a sequence / BlockSize, rounded up
	// Gen changes whenever Table's contents change, so a device backend
	// uploads the table only then; 0 means unknown (always upload).
	Gen uint64
}

// ContiguousTables maps slot s of seqs slots to blocks s*width ..
// s*width+width-1, the layout of a cache of one contiguous region per
// slot; backend tests use it.
func ContiguousTables(seqs, width int) BlockTables {
	t := BlockTables{Table: make([]int32, seqs*width), Width: width}
	for i := range t.Table {
		t.Table[i] = int32(i)
	}
	return t
}

// KVCache holds the keys and values of every layer in Blocks blocks of
// BlockSize positions, shared by all sequences through block tables.
type KVCache interface {
	Blocks() int
	BlockSize() int
	Bytes() int64
	Free()
}

// KVType selects the element type of a KV cache.
type KVType int

const (
	KVF16 KVType = iota // half precision (default)
	KVF32               // single precision
)

// elemSize is the bytes of one cache element of type t.
func (t KVType) elemSize() int {
	if t == KVF32 {
		return 4
	}
	return 2
}

// KVShape describes a paged KV cache to allocate: per layer, K and V each
// [Blocks, BlockSize, KVDim].
type KVShape struct {
	Layers    int    // transformer layers
	Blocks    int    // blocks shared by all sequences
	BlockSize int    // positions per block
	KVDim     int    // nHeadKV * headDim, the width of one K (or V) row
	Type      KVType // element type
}

// Backend runs the ops of the forward pass on one device.
//
// Shapes: n is the number of batch rows; activations are row-major [n, dim].
// For a weight of Dims (ne0, ne1), MatMul computes dst[n, ne1] = x[n, ne0] · Wᵀ,
// i.e. dst[r][o] = Σ_i W[o][i]·x[r][i], where row o of W is ne0 contiguous
// elements in the GGUF type (the GGUF/ggml layout).
type Backend interface {
	// Name identifies the device ("cpu", "cuda:0").
	Name() string

	// LoadWeight makes a tensor resident. data holds the tensor's raw GGUF
	// bytes (it may be memory-mapped; a backend that keeps the slice must not
	// write to it). ne1 is 1 for vectors.
	LoadWeight(name string, typ gguf.Type, ne0, ne1 int, data []byte) (Weight, error)
	NewBuffer(n int) (Buffer, error)
	// NewRows allocates a batch description for up to capacity rows and
	// block tables of up to table entries.
	NewRows(capacity, table int) (Rows, error)
	NewKVCache(shape KVShape) (KVCache, error)

	// Write copies host data into dst[0:len(src)].
	Write(dst Buffer, src []float32) error
	// Read waits for queued work and copies src[0:len(dst)] to the host; it
	// returns the first error recorded since the last Sync or Read.
	Read(dst []float32, src Buffer) error
	// Sync waits for queued work and returns the first recorded error.
	Sync() error

	// Embed writes dst[r] = row rows[r].Token of w, dequantized to f32.
	// w has Dims (nEmbd, nVocab).
	Embed(dst Buffer, w Weight, rows Rows, n int)
	// RMSNorm writes dst[r] = x[r] / sqrt(mean(x[r]²) + eps) * w for n rows
	// of dim elements; w has dim elements. dst may alias x.
	RMSNorm(dst, x Buffer, w Weight, n, dim int, eps float32)
	// MatMul writes dst[n, ne1] = x[n, ne0] · Wᵀ.
	MatMul(dst Buffer, w Weight, x Buffer, n int)
	// RoPE rotates, in place, each of the nHead heads (headDim wide) of the
	// n rows of x by the row's position, NeoX layout (element i pairs with
	// i+headDim/2), θ_i = pos · base^(-2i/headDim).
	RoPE(x Buffer, rows Rows, n, nHead, headDim int, base float32)
	// StoreKV writes row r of k and v ([n, KVDim]) into layer's cache at
	// position rows[r].Pos of sequence slot rows[r].Seq, i.e. in the block
	// the rows' block tables map it to.
	StoreKV(c KVCache, layer int, k, v Buffer, rows Rows, n int)
	// Attention writes dst[n, nHead*headDim]: for each row r and head h,
	// softmax(q[r,h]·K[s, 0..p]ᵀ · scale) · V[s, 0..p], where s, p are the
	// row's Seq and Pos and K, V are read from layer's cache through the
	// block tables, using head h / (nHead/nHeadKV) (grouped-query attention).
	Attention(dst, q Buffer, c KVCache, layer int, rows Rows, n, nHead, nHeadKV, headDim int, scale float32)
	// SwiGLU writes dst[i] = silu(gate[i]) * up[i] for i < n. dst may alias gate.
	SwiGLU(dst, gate, up Buffer, n int)
	// Add writes dst[i] += x[i] for i < n.
	Add(dst, x Buffer, n int)
	// CopyRows copies row idx[i] of src to row i of dst, rows dim wide.
	CopyRows(dst, src Buffer, idx []int, dim int)

	// Close releases the backend (all resources must be freed first).
	Close() error
}

// Opener creates a backend for a device ordinal (-1 for "any").
type Opener func(device int, opts BackendOptions) (Backend, error)

// BackendOptions are the settings a backend is opened with.
type BackendOptions struct {
	Threads int // CPU worker threads; 0 = all cores
	// Exact keeps matrix products in float32 activations: no 8-bit
	// activation quantization and no rounding to BF16 for BF16 weights
	// (slower, for numerical checks).
	Exact bool
}

var (
	backendsMu sync.Mutex
	backends   = map[string]Opener{}
)

// Register makes a backend available under name ("cpu", "cuda"). Backends
// call it from init; the engine never imports a backend package.
func Register(name string, open Opener) {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	if _, dup := backends[name]; dup {
		panic("engine: backend " + name + " registered twice")
	}
	backends[name] = open
}

// Backends lists the registered backend names, sorted.
func Backends() []string {
	backendsMu.Lock()
	defer backendsMu.Unlock()
	names := make([]string, 0, len(backends))
	for n := range backends {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// OpenBackend opens the registered backend name on device ordinal dev.
func OpenBackend(name string, dev int, opts BackendOptions) (Backend, error) {
	backendsMu.Lock()
	open, ok := backends[name]
	backendsMu.Unlock()
	if !ok {
		return nil, fmt.Errorf("engine: backend %q not available (have %v)", name, Backends())
	}
	b, err := open(dev, opts)
	if err != nil {
		// Callers test the backend against nil; an opener's typed nil
		// must not reach them.
		return nil, err
	}
	return b, nil
}

// HealthReporter is implemented by backends whose device can fail for good
// (a GPU after a kernel fault). Failed returns that failure, or nil while
// the backend works; it is safe to call from any goroutine. The registry
// reports it in the model list and logs it once.
type HealthReporter interface {
	Failed() error
}

// MemoryChecker is implemented by backends whose device memory is a fixed
// budget (a GPU). CanFit returns nil when bytes more can be allocated, else
// an error naming the sizes.
type MemoryChecker interface {
	CanFit(bytes int64) error
}

// ErrDoesNotFit reports a model and context that need more memory than the
// device (or host) has.
var ErrDoesNotFit = errors.New("engine: model does not fit")

// CheckFit refuses, before anything is allocated, a model file that would
// not fit on b together with a context of options o: the weights (every
// tensor of f, in its GGUF type) plus ContextBytes. Backends that do not
// implement MemoryChecker always fit. The error wraps ErrDoesNotFit.
func CheckFit(b Backend, f *gguf.File, o ContextOptions) error {
	mc, ok := b.(MemoryChecker)
	if !ok {
		return nil
	}
	cfg, err := ConfigFromGGUF(f)
	if err != nil {
		return err
	}
	need, err := ContextBytes(cfg, o)
	if err != nil {
		return err
	}
	for _, t := range f.Tensors {
		need += t.Size
	}
	if err := mc.CanFit(need); err != nil {
		return fmt.Errorf("%w on %s: %w", ErrDoesNotFit, b.Name(), err)
	}
	return nil
}

// OpenDevice opens the backend a device string names ("auto", "cpu", "cuda",
// "cuda:N"; see ParseDevice). "auto" tries CUDA first and falls back to the
// CPU, saying why in one info line on log (which may be nil).
func OpenDevice(device string, opts BackendOptions, log *slog.Logger) (Backend, error) {
	name, ord, err := ParseDevice(device)
	if err != nil {
		return nil, err
	}
	if name != "auto" {
		return OpenBackend(name, ord, opts)
	}
	b, err := OpenBackend("cuda", -1, opts)
	if err == nil {
		return b, nil
	}
	if log != nil {
		log.Info("cuda backend unavailable, using cpu", "err", err)
	}
	return OpenBackend("cpu", -1, opts)
}
