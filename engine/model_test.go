// This file tests loading and running a model written by the test itself
// with the gguf writer: configuration and shape errors that name what is
// wrong, batch errors instead of panics, and the batch invariants of Forward
// (prefill in one call equals token by token; sequences in one batch do not
// see each other; an f16 KV cache stays close to f32).

package engine_test

import (
	"encoding/binary"
	"errors"
	"math"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
)

// Shape of the tiny test model.
const (
	tnLayer, tnEmbd, tnFF, tnHead, tnHeadKV, tHeadDim, tnVocab = 2, 64, 96, 4, 2, 16, 100
)

type tensorSpec struct {
	name  string
	typ   gguf.Type
	shape []int64
	data  []byte
}

// tinySpec is a Qwen3 model's metadata and tensors before writing; tests
// mutate it to produce broken files.
type tinySpec struct {
	keys    []string
	values  map[string]any
	tensors []tensorSpec
}

func f32Data(rng *rand.Rand, n int, mean, std float64) []byte {
	b := make([]byte, 4*n)
	for i := range n {
		binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(mean+std*rng.NormFloat64())))
	}
	return b
}

// newTinySpec returns a random F32 Qwen3 model (fixed seed).
func newTinySpec(tied bool) *tinySpec {
	rng := rand.New(rand.NewPCG(42, 43))
	s := &tinySpec{values: map[string]any{}}
	kv := func(k string, v any) { s.keys = append(s.keys, k); s.values[k] = v }
	kv("general.architecture", "qwen3")
	kv("qwen3.block_count", uint32(tnLayer))
	kv("qwen3.context_length", uint32(256))
	kv("qwen3.embedding_length", uint32(tnEmbd))
	kv("qwen3.feed_forward_length", uint32(tnFF))
	kv("qwen3.attention.head_count", uint32(tnHead))
	kv("qwen3.attention.head_count_kv", uint32(tnHeadKV))
	kv("qwen3.rope.freq_base", float32(1e6))
	kv("qwen3.attention.layer_norm_rms_epsilon", float32(1e-6))
	kv("qwen3.attention.key_length", uint32(tHeadDim))
	kv("qwen3.attention.value_length", uint32(tHeadDim))
	add := func(name string, ne0, ne1 int, mean, std float64) {
		shape := []int64{int64(ne0), int64(ne1)}
		if ne1 == 1 {
			shape = shape[:1]
		}
		s.tensors = append(s.tensors, tensorSpec{name, gguf.TypeF32, shape, f32Data(rng, ne0*ne1, mean, std)})
	}
	add("token_embd.weight", tnEmbd, tnVocab, 0, 0.1)
	for l := range tnLayer {
		p := func(n string) string { return "blk." + string(rune('0'+l)) + "." + n + ".weight" }
		add(p("attn_norm"), tnEmbd, 1, 1, 0.3)
		add(p("attn_q"), tnEmbd, tnHead*tHeadDim, 0, 1/math.Sqrt(tnEmbd))
		add(p("attn_k"), tnEmbd, tnHeadKV*tHeadDim, 0, 1/math.Sqrt(tnEmbd))
		add(p("attn_v"), tnEmbd, tnHeadKV*tHeadDim, 0, 1/math.Sqrt(tnEmbd))
		add(p("attn_q_norm"), tHeadDim, 1, 1, 0.3)
		add(p("attn_k_norm"), tHeadDim, 1, 1, 0.3)
		add(p("attn_output"), tnHead*tHeadDim, tnEmbd, 0, 1/math.Sqrt(tnHead*tHeadDim))
		add(p("ffn_norm"), tnEmbd, 1, 1, 0.3)
		add(p("ffn_gate"), tnEmbd, tnFF, 0, 1/math.Sqrt(tnEmbd))
		add(p("ffn_up"), tnEmbd, tnFF, 0, 1/math.Sqrt(tnEmbd))
		add(p("ffn_down"), tnFF, tnEmbd, 0, 1/math.Sqrt(tnFF))
	}
	add("output_norm.weight", tnEmbd, 1, 1, 0.3)
	if !tied {
		add("output.weight", tnEmbd, tnVocab, 0, 1/math.Sqrt(tnEmbd))
	}
	return s
}

func (s *tinySpec) tensor(name string) *tensorSpec {
	for i := range s.tensors {
		if s.tensors[i].name == name {
			return &s.tensors[i]
		}
	}
	panic("no tensor " + name)
}

func (s *tinySpec) drop(name string) {
	for i := range s.tensors {
		if s.tensors[i].name == name {
			s.tensors = append(s.tensors[:i], s.tensors[i+1:]...)
			return
		}
	}
	for i, k := range s.keys {
		if k == name {
			s.keys = append(s.keys[:i], s.keys[i+1:]...)
			return
		}
	}
	panic("nothing named " + name)
}

// open writes the model and opens it.
func (s *tinySpec) open(t testing.TB) *gguf.File {
	t.Helper()
	w := gguf.NewWriter()
	for _, k := range s.keys {
		w.AddKV(k, s.values[k])
	}
	for _, ts := range s.tensors {
		w.AddTensor(ts.name, ts.typ, ts.shape, ts.data)
	}
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

func cpuBackend(t testing.TB) engine.Backend {
	t.Helper()
	b, err := engine.OpenBackend("cpu", 0, engine.BackendOptions{Threads: 2})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func TestLoadModelErrors(t *testing.T) {
	cases := []struct {
		name   string
		mutate func(s *tinySpec)
		want   []string // substrings the error must contain
		is     error
	}{
		{"missing key", func(s *tinySpec) { s.drop("qwen3.attention.head_count_kv") }, []string{"qwen3.attention.head_count_kv"}, nil},
		{"missing rope base", func(s *tinySpec) { s.drop("qwen3.rope.freq_base") }, []string{"qwen3.rope.freq_base"}, nil},
		{"wrong key type", func(s *tinySpec) { s.values["qwen3.block_count"] = "two" }, []string{"qwen3.block_count"}, nil},
		{"other architecture", func(s *tinySpec) { s.values["general.architecture"] = "llama" }, []string{"llama"}, engine.ErrUnsupportedModel},
		{"heads not a multiple", func(s *tinySpec) { s.values["qwen3.attention.head_count"] = uint32(3) }, []string{"multiple"}, nil},
		{"odd head width", func(s *tinySpec) {
			s.values["qwen3.attention.key_length"] = uint32(15)
			s.values["qwen3.attention.value_length"] = uint32(15)
		}, []string{"odd"}, nil},
		{"value width differs", func(s *tinySpec) { s.values["qwen3.attention.value_length"] = uint32(32) }, []string{"value_length"}, engine.ErrUnsupportedModel},
		{"yarn scaling", func(s *tinySpec) {
			s.keys = append(s.keys, "qwen3.rope.scaling.type")
			s.values["qwen3.rope.scaling.type"] = "yarn"
		}, []string{"yarn"}, engine.ErrUnsupportedModel},
		{"missing tensor", func(s *tinySpec) { s.drop("blk.1.ffn_up.weight") }, []string{"blk.1.ffn_up.weight"}, nil},
		{"huge block count", func(s *tinySpec) { s.values["qwen3.block_count"] = uint32(1 << 24) }, []string{"block_count", "blk.16777215.attn_norm.weight"}, nil},
		{"missing embedding", func(s *tinySpec) { s.drop("token_embd.weight") }, []string{"token_embd.weight"}, nil},
		{"mis-shaped tensor", func(s *tinySpec) {
			ts := s.tensor("blk.0.attn_k.weight")
			ts.shape = []int64{tnEmbd, tnHead * tHeadDim}
			ts.data = make([]byte, 4*tnEmbd*tnHead*tHeadDim)
		}, []string{"blk.0.attn_k.weight", "shape"}, nil},
		{"mis-shaped output", func(s *tinySpec) {
			ts := s.tensor("output.weight")
			ts.shape = []int64{tnEmbd, tnVocab + 1}
			ts.data = make([]byte, 4*tnEmbd*(tnVocab+1))
		}, []string{"output.weight", "shape"}, nil},
		{"unsupported type", func(s *tinySpec) {
			ts := s.tensor("blk.0.attn_q.weight")
			ts.typ = gguf.TypeQ8_1
			ts.data = make([]byte, gguf.TypeQ8_1.RowSize(tnEmbd)*tnHead*tHeadDim)
		}, []string{"blk.0.attn_q.weight", "Q8_1"}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newTinySpec(false)
			c.mutate(s)
			m, err := engine.LoadModel(s.open(t), cpuBackend(t))
			if err == nil {
				m.Free()
				t.Fatal("LoadModel succeeded, want an error")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not mention %q", err, w)
				}
			}
			if c.is != nil && !errors.Is(err, c.is) {
				t.Errorf("error %q is not %v", err, c.is)
			}
		})
	}
}

func TestConfigFromGGUF(t *testing.T) {
	for _, tied := range []bool{false, true} {
		cfg, err := engine.ConfigFromGGUF(newTinySpec(tied).open(t))
		if err != nil {
			t.Fatal(err)
		}
		want := engine.Config{Arch: "qwen3", NLayer: tnLayer, NEmbd: tnEmbd, NFF: tnFF, NHead: tnHead, NHeadKV: tnHeadKV,
			HeadDim: tHeadDim, NVocab: tnVocab, NCtxTrain: 256, RopeBase: 1e6, NormEps: 1e-6, TiedOutput: tied}
		if cfg != want {
			t.Errorf("tied=%v: config %+v, want %+v", tied, cfg, want)
		}
	}
}

// tinyModel loads the tiny model on the CPU backend.
func tinyModel(t testing.TB, tied bool) *engine.Model {
	t.Helper()
	m, err := engine.LoadModel(newTinySpec(tied).open(t), cpuBackend(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Free)
	return m
}

func newCtx(t testing.TB, m *engine.Model, o engine.ContextOptions) *engine.Context {
	t.Helper()
	c, err := m.NewContext(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Free)
	return c
}

func TestForwardBatchErrors(t *testing.T) {
	m := tinyModel(t, false)
	c := newCtx(t, m, engine.ContextOptions{Seqs: 2, Ctx: 8, Batch: 4})
	logits := make([]float32, 4*tnVocab)
	cases := []struct {
		name      string
		rows      []engine.Row
		logitRows []int
		logits    []float32
	}{
		{"empty", nil, nil, logits},
		{"too many rows", make([]engine.Row, 5), nil, logits},
		{"position beyond context", []engine.Row{{Token: 1, Pos: 8}}, []int{0}, logits},
		{"negative position", []engine.Row{{Token: 1, Pos: -1}}, []int{0}, logits},
		{"sequence beyond slots", []engine.Row{{Token: 1, Seq: 2}}, []int{0}, logits},
		{"token beyond vocabulary", []engine.Row{{Token: tnVocab}}, []int{0}, logits},
		{"logit row outside batch", []engine.Row{{Token: 1}}, []int{1}, logits},
		{"logits too short", []engine.Row{{Token: 1}, {Token: 2, Pos: 1}}, []int{0, 1}, logits[:tnVocab]},
	}
	for _, cs := range cases {
		t.Run(cs.name, func(t *testing.T) {
			err := c.Forward(cs.rows, cs.logitRows, cs.logits)
			if !errors.Is(err, engine.ErrBadBatch) {
				t.Fatalf("Forward error %v, want ErrBadBatch", err)
			}
			if pos := strings.Contains(cs.name, "position"); errors.Is(err, engine.ErrContextLength) != pos {
				t.Errorf("Forward error %v: errors.Is(ErrContextLength) = %v, want %v", err, !pos, pos)
			}
		})
	}
}

// forwardTol bounds float32 differences between mathematically equal
// computations done in a different order (batching changes no summation
// order here, so this is generous).
const forwardTol = 1e-5

func TestForwardBatchInvariants(t *testing.T) {
	for _, tied := range []bool{false, true} {
		m := tinyModel(t, tied)
		toks := []int32{5, 17, 99, 0, 42, 42, 7}
		n := len(toks)

		// Whole prompt in one call, logits for every position.
		all := make([]float32, n*tnVocab)
		c := newCtx(t, m, engine.ContextOptions{Ctx: 16, Batch: 8, KV: engine.KVF32})
		rows := make([]engine.Row, n)
		idx := make([]int, n)
		for i, tok := range toks {
			rows[i], idx[i] = engine.Row{Token: tok, Pos: int32(i)}, i
		}
		if err := c.Forward(rows, idx, all); err != nil {
			t.Fatal(err)
		}

		// Token by token in a fresh context.
		one := make([]float32, tnVocab)
		c1 := newCtx(t, m, engine.ContextOptions{Ctx: 16, Batch: 1, KV: engine.KVF32})
		for i, tok := range toks {
			if err := c1.Forward([]engine.Row{{Token: tok, Pos: int32(i)}}, []int{0}, one); err != nil {
				t.Fatal(err)
			}
			if d := maxDiff32(one, all[i*tnVocab:(i+1)*tnVocab]); d > forwardTol {
				t.Errorf("tied=%v position %d: token-by-token logits differ from the batch by %.3g", tied, i, d)
			}
		}

		// Two sequences interleaved in one context: seq 1 holds a different
		// prompt, and rows of both decode in one batch.
		c2 := newCtx(t, m, engine.ContextOptions{Seqs: 2, Ctx: 16, Batch: 8, KV: engine.KVF32})
		other := []int32{3, 3, 80}
		pre := []engine.Row{}
		for i, tok := range toks[:n-1] {
			pre = append(pre, engine.Row{Token: tok, Pos: int32(i), Seq: 0})
		}
		for i, tok := range other {
			pre = append(pre, engine.Row{Token: tok, Pos: int32(i), Seq: 1})
		}
		if err := c2.Forward(pre[:5], nil, nil); err != nil {
			t.Fatal(err)
		}
		if err := c2.Forward(pre[5:], nil, nil); err != nil {
			t.Fatal(err)
		}
		two := make([]float32, 2*tnVocab)
		dec := []engine.Row{{Token: 9, Pos: int32(len(other)), Seq: 1}, {Token: toks[n-1], Pos: int32(n - 1), Seq: 0}}
		if err := c2.Forward(dec, []int{1, 0}, two); err != nil {
			t.Fatal(err)
		}
		if d := maxDiff32(two[:tnVocab], all[(n-1)*tnVocab:]); d > forwardTol {
			t.Errorf("tied=%v: sequence 0 decoded beside sequence 1 differs by %.3g", tied, d)
		}

		// An f16 cache rounds K and V to 11 significant bits; logits of
		// order 1 move by about 1e-3.
		c3 := newCtx(t, m, engine.ContextOptions{Ctx: 16, Batch: 8, KV: engine.KVF16})
		h := make([]float32, n*tnVocab)
		if err := c3.Forward(rows, idx, h); err != nil {
			t.Fatal(err)
		}
		if d := maxDiff32(h, all); d > 1e-2 || d == 0 {
			t.Errorf("tied=%v: f16 cache logits differ from f32 by %.3g, want (0, 1e-2]", tied, d)
		}
	}
}

func maxDiff32(a, b []float32) float64 {
	var d float64
	for i := range a {
		e := math.Abs(float64(a[i]) - float64(b[i]))
		if e > d || math.IsNaN(e) {
			d = e
		}
	}
	return d
}

// TestForwardConcurrentContexts runs two contexts of one model from two
// goroutines; each must get the logits it gets alone.
func TestForwardConcurrentContexts(t *testing.T) {
	m := tinyModel(t, false)
	toks := [][]int32{{1, 2, 3, 4, 5, 6}, {90, 80, 70, 60}}
	want := make([][]float32, len(toks))
	run := func(c *engine.Context, ts []int32, out []float32) error {
		rows := make([]engine.Row, len(ts))
		for i, tok := range ts {
			rows[i] = engine.Row{Token: tok, Pos: int32(i)}
		}
		return c.Forward(rows, []int{len(rows) - 1}, out)
	}
	ctxs := []*engine.Context{
		newCtx(t, m, engine.ContextOptions{Ctx: 8, Batch: 8}),
		newCtx(t, m, engine.ContextOptions{Ctx: 8, Batch: 8}),
	}
	for i := range toks {
		want[i] = make([]float32, tnVocab)
		if err := run(ctxs[i], toks[i], want[i]); err != nil {
			t.Fatal(err)
		}
	}
	errs := make(chan error, 2)
	got := [][]float32{make([]float32, tnVocab), make([]float32, tnVocab)}
	for i := range toks {
		go func() {
			var err error
			for range 20 {
				if err = run(ctxs[i], toks[i], got[i]); err != nil {
					break
				}
			}
			errs <- err
		}()
	}
	for range toks {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	for i := range toks {
		if d := maxDiff32(got[i], want[i]); d != 0 {
			t.Errorf("context %d: concurrent logits differ by %.3g", i, d)
		}
	}
}
