// Tests that synthetic models load and generate: the tiny preset in every
// file type through the registry, and the 0.6B preset's real shapes through
// the model loader.
package engine_test

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/chat"
	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/gguf"
	"github.com/helexa/helexa/internal/reftest"
)

func TestSynthTinyGenerates(t *testing.T) {
	dir := t.TempDir()
	r := engine.NewRegistry(nil)
	defer r.Close(context.Background())
	for _, typ := range engine.SynthTypes() {
		t.Run(typ, func(t *testing.T) {
			path := filepath.Join(dir, "tiny-"+typ+".gguf")
			if err := engine.WriteSynth(path, engine.SynthOptions{Arch: "qwen3", Preset: "tiny", Type: typ, Seed: 1}); err != nil {
				t.Fatal(err)
			}
			info, err := r.Load(context.Background(), engine.LoadOptions{Path: path, Device: "cpu", Threads: 1, CtxSize: 256})
			if err != nil {
				t.Fatal(err)
			}
			g, release, err := r.Acquire(info.ID)
			if err != nil {
				t.Fatal(err)
			}
			defer release()
			cfg := g.Model().Config()
			if cfg.NLayer != 2 || cfg.NEmbd != 256 || cfg.NVocab != 2112 || cfg.NHead != 4 || cfg.NHeadKV != 2 {
				t.Fatalf("config %+v", cfg)
			}
			if g.Template() == nil || g.Template().Name() != "qwen3" {
				t.Fatal("the synthetic model's chat template is not recognised as Qwen3")
			}
			tok := g.Tokenizer()
			if text := "hello world, ünïcode ☃"; tok.Decode(tok.Encode(text)) != text {
				t.Fatalf("tokenizer round trip of %q gives %q", text, tok.Decode(tok.Encode(text)))
			}
			res, err := g.Generate(context.Background(), engine.GenerateRequest{
				Chat:      &chat.Request{Messages: []api.Message{{Role: "user", Content: api.Content{Text: "hi"}}}, AddGenerationPrompt: true},
				MaxTokens: 5, IgnoreEOS: true,
			}, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Tokens) != 5 || res.FinishReason != engine.FinishLength {
				t.Fatalf("%d tokens, finish %q; want 5, length", len(res.Tokens), res.FinishReason)
			}
			// Random weights must not collapse to NaN logits (argmax 0 forever).
			allZero := true
			for _, id := range res.Tokens {
				allZero = allZero && id == 0
			}
			if allZero {
				t.Fatalf("generated only token 0: %v", res.Tokens)
			}
		})
	}
}

func TestSynthDeterministic(t *testing.T) {
	dir := t.TempDir()
	a, b, c := filepath.Join(dir, "a.gguf"), filepath.Join(dir, "b.gguf"), filepath.Join(dir, "c.gguf")
	for _, x := range []struct {
		path string
		seed uint64
	}{{a, 7}, {b, 7}, {c, 8}} {
		if err := engine.WriteSynth(x.path, engine.SynthOptions{Arch: "qwen3", Preset: "tiny", Type: "q4_k_m", Seed: x.seed}); err != nil {
			t.Fatal(err)
		}
	}
	tensor := func(path string) []byte {
		f, err := gguf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { f.Close() })
		ti, err := f.Tensor("blk.0.attn_q.weight")
		if err != nil {
			t.Fatal(err)
		}
		d, err := f.TensorData(ti)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	if string(tensor(a)) != string(tensor(b)) {
		t.Fatal("same seed wrote different weights")
	}
	if string(tensor(a)) == string(tensor(c)) {
		t.Fatal("different seeds wrote the same weights")
	}
}

func TestSynthOptionsErrors(t *testing.T) {
	for _, o := range []engine.SynthOptions{
		{Arch: "llama", Preset: "tiny", Type: "f32"},
		{Arch: "qwen3", Preset: "3b", Type: "f32"},
		{Arch: "qwen3", Preset: "tiny", Type: "q3_k_s"},
	} {
		if _, err := engine.NewSynthWriter(o); err == nil {
			t.Errorf("NewSynthWriter(%+v) succeeded", o)
		}
	}
}

// TestSynthQwen3Shapes writes the 0.6B preset (about 640 MB at q8_0) and
// loads it: config from metadata, every tensor at its expected shape and
// type, the q4_k_m mix's Q6_K layers.
func TestSynthQwen3Shapes(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping: writes a 640 MB model")
	}
	path := filepath.Join(t.TempDir(), "0.6b.gguf")
	if err := engine.WriteSynth(path, engine.SynthOptions{Arch: "qwen3", Preset: "0.6b", Type: "q8_0", Seed: 1}); err != nil {
		t.Fatal(err)
	}
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := engine.ConfigFromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	want := engine.Config{Arch: "qwen3", NLayer: 28, NEmbd: 1024, NFF: 3072, NHead: 16, NHeadKV: 8, HeadDim: 128, NVocab: 151936, NCtxTrain: 40960, RopeBase: 1e6, NormEps: 1e-6, TiedOutput: true}
	if cfg != want {
		t.Fatalf("config %+v, want %+v", cfg, want)
	}
	b, err := engine.OpenBackend("cpu", 0, engine.BackendOptions{Threads: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	m, err := engine.LoadModel(f, b)
	if err != nil {
		t.Fatal(err)
	}
	m.Free()
	// The tied embedding is the output matrix: Q8_0 stays Q8_0.
	if ti, _ := f.Tensor("token_embd.weight"); ti.Type != gguf.TypeQ8_0 {
		t.Fatalf("token_embd type %v", ti.Type)
	}
}

// TestSynthMixTypes checks the K-quant mixes on the tiny preset (2 layers,
// n_head/n_head_kv 2): q4_k_m gives Q6_K to the output and to attn_v and
// ffn_down of layer 1 only, as in the reference mini-q4_k_m.gguf made by
// llama-quantize; q2_k gives Q3_K to attn_v, attn_output and ffn_down;
// q3_k_m Q5_K to attn_v of both layers (the first two) and Q4_K to
// attn_output and ffn_down (n_layer/16 is 0); each with its llama_ftype.
func TestSynthMixTypes(t *testing.T) {
	for _, c := range []struct {
		typ   string
		ftype uint32
		want  map[string]gguf.Type
	}{
		{"q4_k_m", 15, map[string]gguf.Type{
			"output.weight": gguf.TypeQ6_K, "token_embd.weight": gguf.TypeQ4_K,
			"blk.0.attn_v.weight": gguf.TypeQ4_K, "blk.1.attn_v.weight": gguf.TypeQ6_K,
			"blk.0.ffn_down.weight": gguf.TypeQ4_K, "blk.1.ffn_down.weight": gguf.TypeQ6_K,
			"blk.1.attn_output.weight": gguf.TypeQ4_K,
			"blk.1.attn_q.weight":      gguf.TypeQ4_K, "blk.1.attn_norm.weight": gguf.TypeF32,
		}},
		{"q2_k", 10, map[string]gguf.Type{
			"output.weight": gguf.TypeQ6_K, "token_embd.weight": gguf.TypeQ2_K,
			"blk.0.attn_v.weight": gguf.TypeQ3_K, "blk.1.attn_v.weight": gguf.TypeQ3_K,
			"blk.0.ffn_down.weight": gguf.TypeQ3_K, "blk.1.attn_output.weight": gguf.TypeQ3_K,
			"blk.1.attn_q.weight": gguf.TypeQ2_K, "blk.0.ffn_up.weight": gguf.TypeQ2_K,
		}},
		{"q3_k_m", 12, map[string]gguf.Type{
			"output.weight": gguf.TypeQ6_K, "token_embd.weight": gguf.TypeQ3_K,
			"blk.0.attn_v.weight": gguf.TypeQ5_K, "blk.1.attn_v.weight": gguf.TypeQ5_K,
			"blk.0.ffn_down.weight": gguf.TypeQ4_K, "blk.1.attn_output.weight": gguf.TypeQ4_K,
			"blk.1.attn_q.weight": gguf.TypeQ3_K, "blk.0.ffn_gate.weight": gguf.TypeQ3_K,
		}},
	} {
		path := filepath.Join(t.TempDir(), c.typ+".gguf")
		if err := engine.WriteSynth(path, engine.SynthOptions{Arch: "qwen3", Preset: "tiny", Type: c.typ}); err != nil {
			t.Fatal(err)
		}
		f, err := gguf.Open(path)
		if err != nil {
			t.Fatal(err)
		}
		for name, typ := range c.want {
			ti, err := f.Tensor(name)
			if err != nil {
				t.Fatal(err)
			}
			if ti.Type != typ {
				t.Errorf("%s: %s is %v, want %v", c.typ, name, ti.Type, typ)
			}
		}
		if ft, err := f.Uint32("general.file_type"); err != nil || ft != c.ftype {
			t.Errorf("%s: general.file_type = %d, %v; want %d", c.typ, ft, err, c.ftype)
		}
		f.Close()
	}
}

// TestSynthMatchesConverterLayout compares the tiny synthetic model with the
// reference mini model, which llama.cpp's converter layout produced and
// llama.cpp loads: the same metadata keys with the same value types, the same
// tensors with the same shapes, and the same special tokens at the same ids
// with the same token types.
func TestSynthMatchesConverterLayout(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := engine.WriteSynth(path, engine.SynthOptions{Arch: "qwen3", Preset: "tiny", Type: "f32", Seed: 1}); err != nil {
		t.Fatal(err)
	}
	syn, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer syn.Close()
	mini, err := gguf.Open(reftest.Model(t, "mini-f32"))
	if err != nil {
		t.Fatal(err)
	}
	defer mini.Close()
	if len(syn.KV) != len(mini.KV) {
		t.Errorf("%d metadata keys, reference has %d", len(syn.KV), len(mini.KV))
	}
	for _, kv := range mini.KV {
		got, ok := syn.Lookup(kv.Key)
		if !ok {
			t.Errorf("key %s missing", kv.Key)
			continue
		}
		if got.Type != kv.Type {
			t.Errorf("key %s has type %v, reference %v", kv.Key, got.Type, kv.Type)
		}
		if a, ok := kv.Value.(gguf.Array); ok && got.Value.(gguf.Array).Type != a.Type {
			t.Errorf("array %s has element type %v, reference %v", kv.Key, got.Value.(gguf.Array).Type, a.Type)
		}
	}
	for _, key := range []string{"qwen3.block_count", "qwen3.context_length", "qwen3.embedding_length", "qwen3.feed_forward_length",
		"qwen3.attention.head_count", "qwen3.attention.head_count_kv", "qwen3.attention.key_length",
		"tokenizer.ggml.eos_token_id", "tokenizer.ggml.padding_token_id", "tokenizer.ggml.bos_token_id"} {
		a, _ := syn.Int(key)
		b, _ := mini.Int(key)
		if a != b {
			t.Errorf("%s = %d, reference %d", key, a, b)
		}
	}
	if len(syn.Tensors) != len(mini.Tensors) {
		t.Errorf("%d tensors, reference has %d", len(syn.Tensors), len(mini.Tensors))
	}
	for _, ti := range mini.Tensors {
		got, err := syn.Tensor(ti.Name)
		if err != nil {
			t.Error(err)
			continue
		}
		if !slices.Equal(got.Shape, ti.Shape) || got.Type != ti.Type {
			t.Errorf("tensor %s: %v %v, reference %v %v", ti.Name, got.Type, got.Shape, ti.Type, ti.Shape)
		}
	}
	synTok, _ := syn.Strings("tokenizer.ggml.tokens")
	miniTok, _ := mini.Strings("tokenizer.ggml.tokens")
	synType, _ := syn.Int32s("tokenizer.ggml.token_type")
	miniType, _ := mini.Int32s("tokenizer.ggml.token_type")
	if len(synTok) != len(miniTok) || len(synType) != len(miniType) {
		t.Fatalf("%d tokens / %d types, reference %d / %d", len(synTok), len(synType), len(miniTok), len(miniType))
	}
	// The byte symbols (ids 0-255) and everything from the added tokens on.
	for id := range miniTok {
		if id >= 256 && id < 2048 {
			continue
		}
		if synTok[id] != miniTok[id] || synType[id] != miniType[id] {
			t.Errorf("token %d = %q type %d, reference %q type %d", id, synTok[id], synType[id], miniTok[id], miniType[id])
		}
	}
	if tmpl, _ := syn.String("tokenizer.chat_template"); tmpl != func() string { s, _ := mini.String("tokenizer.chat_template"); return s }() {
		t.Error("chat template differs from the reference's Qwen3 template")
	}
}
