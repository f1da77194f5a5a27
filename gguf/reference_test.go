// This file locates the shared reference data (mini GGUF models and ggml's
// dequantization of one tensor per type) and checks the reader and the
// dequantizers against it.

package gguf

import (
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"testing"

	"github.com/helexa/helexa/internal/reftest"
)

// refModels lists the reference mini models with the main tensor type of each.
var refModels = []struct {
	file string
	main Type
	size int64 // bytes, from the reference README
}{
	{"mini-f32.gguf", TypeF32, 9115200},
	{"mini-tied-f32.gguf", TypeF32, 6952448},
	{"mini-f16.gguf", TypeF16, 4593216},
	{"mini-bf16.gguf", TypeBF16, 4593216},
	{"mini-q8_0.gguf", TypeQ8_0, 2473536},
	{"mini-q6_k.gguf", TypeQ6_K, 1925952},
	{"mini-q5_k_m.gguf", TypeQ5_K, 1719232},
	{"mini-q4_k_m.gguf", TypeQ4_K, 1524672},
	{"mini-q4_0.gguf", TypeQ4_0, 1482432},
}

func TestReadReferenceModels(t *testing.T) {
	ref := reftest.Dir(t)
	for _, m := range refModels {
		t.Run(m.file, func(t *testing.T) {
			f, err := Open(filepath.Join(ref, "models", m.file))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			if f.Version != 3 || f.Size != m.size || f.Alignment != DefaultAlignment {
				t.Errorf("version %d size %d alignment %d, want 3 %d %d", f.Version, f.Size, f.Alignment, m.size, DefaultAlignment)
			}
			if !f.Mapped() {
				t.Errorf("file not memory-mapped")
			}
			checkRefMetadata(t, f)
			shapes := reftest.MiniShapes(m.file == "mini-tied-f32.gguf")
			if len(f.Tensors) != len(shapes) {
				t.Errorf("%d tensors, want %d", len(f.Tensors), len(shapes))
			}
			var end uint64
			for _, ti := range f.Tensors {
				want, ok := shapes[ti.Name]
				if !ok {
					t.Errorf("unexpected tensor %q", ti.Name)
					continue
				}
				if !slices.Equal(ti.Shape, want) {
					t.Errorf("tensor %q shape %v, want %v", ti.Name, ti.Shape, want)
				}
				wantType := m.main
				if len(want) == 1 {
					wantType = TypeF32 // norm weights are F32 in every file
				}
				if ti.Name == "blk.0.attn_q.weight" || ti.Name == "token_embd.weight" || len(want) == 1 {
					if ti.Type != wantType {
						t.Errorf("tensor %q type %s, want %s", ti.Name, ti.Type, wantType)
					}
				}
				if ti.Size != ti.Type.RowSize(want[0])*ti.Rows() {
					t.Errorf("tensor %q size %d inconsistent with %s %v", ti.Name, ti.Size, ti.Type, want)
				}
				end = max(end, ti.Offset+uint64(ti.Size))
				data, err := f.TensorData(&ti)
				if err != nil || int64(len(data)) != ti.Size {
					t.Errorf("tensor %q data: %d bytes, err %v", ti.Name, len(data), err)
				}
			}
			if got := uint64(f.Size - f.DataOffset); got < end || got-end >= DefaultAlignment {
				t.Errorf("data section holds %d bytes, tensors end at %d", got, end)
			}
		})
	}
}

func checkRefMetadata(t *testing.T, f *File) {
	t.Helper()
	if s, err := f.String("general.architecture"); err != nil || s != "qwen3" {
		t.Errorf("general.architecture = %q, %v", s, err)
	}
	for key, want := range map[string]uint32{
		"qwen3.block_count": 2, "qwen3.context_length": 4096, "qwen3.embedding_length": 256,
		"qwen3.feed_forward_length": 512, "qwen3.attention.head_count": 4,
		"qwen3.attention.head_count_kv": 2, "qwen3.attention.key_length": 64,
		"tokenizer.ggml.eos_token_id": 2050, "tokenizer.ggml.bos_token_id": 2048,
	} {
		if v, err := f.Uint32(key); err != nil || v != want {
			t.Errorf("%s = %d, %v; want %d", key, v, err, want)
		}
	}
	if v, err := f.Float32("qwen3.rope.freq_base"); err != nil || v != 1e6 {
		t.Errorf("rope.freq_base = %v, %v", v, err)
	}
	if v, err := f.Float32("qwen3.attention.layer_norm_rms_epsilon"); err != nil || v != 1e-6 {
		t.Errorf("rms epsilon = %v, %v", v, err)
	}
	if v, err := f.Bool("tokenizer.ggml.add_bos_token"); err != nil || v {
		t.Errorf("add_bos_token = %v, %v", v, err)
	}
	tokens, err := f.Strings("tokenizer.ggml.tokens")
	if err != nil || len(tokens) != 2112 || tokens[2050] != "<|im_end|>" || tokens[2111] != "[PAD2111]" {
		t.Errorf("tokens: %d entries, err %v", len(tokens), err)
	}
	types, err := f.Int32s("tokenizer.ggml.token_type")
	if err != nil || len(types) != 2112 {
		t.Errorf("token_type: %d entries, err %v", len(types), err)
	}
	merges, err := f.Strings("tokenizer.ggml.merges")
	if err != nil || len(merges) != 1792 {
		t.Errorf("merges: %d entries, err %v", len(merges), err)
	}
	if tmpl, err := f.String("tokenizer.chat_template"); err != nil || len(tmpl) < 100 {
		t.Errorf("chat template: %d bytes, err %v", len(tmpl), err)
	}
}

// refDequant is one file of reference/dequant.
type refDequant struct {
	Model, Tensor, Type string
	GGMLType            uint32 `json:"ggml_type"`
	Shape               []int64
	Rows                int
	Values              []json.Number
}

func TestDequantizeMatchesGGML(t *testing.T) {
	ref := reftest.Dir(t)
	for _, name := range []string{"F16", "BF16", "Q8_0", "Q4_0", "Q4_K", "Q5_K", "Q6_K"} {
		t.Run(name, func(t *testing.T) {
			raw, err := os.ReadFile(filepath.Join(ref, "dequant", name+".json"))
			if err != nil {
				t.Fatal(err)
			}
			var rd refDequant
			if err := json.Unmarshal(raw, &rd); err != nil {
				t.Fatal(err)
			}
			want := make([]float32, len(rd.Values))
			for i, v := range rd.Values {
				x, err := strconv.ParseFloat(string(v), 32)
				if err != nil {
					t.Fatalf("value %d: %v", i, err)
				}
				want[i] = float32(x)
			}
			f, err := Open(filepath.Join(ref, "models", rd.Model))
			if err != nil {
				t.Fatal(err)
			}
			defer f.Close()
			ti, err := f.Tensor(rd.Tensor)
			if err != nil {
				t.Fatal(err)
			}
			if ti.Type.String() != rd.Type || uint32(ti.Type) != rd.GGMLType || !slices.Equal(ti.Shape, rd.Shape) {
				t.Fatalf("tensor %s %v, reference %s (%d) %v", ti.Type, ti.Shape, rd.Type, rd.GGMLType, rd.Shape)
			}
			data, err := f.TensorData(ti)
			if err != nil {
				t.Fatal(err)
			}
			ne0 := int(ti.Shape[0])
			if len(want) != rd.Rows*ne0 {
				t.Fatalf("reference has %d values for %d rows of %d", len(want), rd.Rows, ne0)
			}
			all, err := f.TensorFloat32(ti)
			if err != nil || len(all) != len(want) {
				t.Fatalf("TensorFloat32: %d values, %v", len(all), err)
			}
			for i := range all {
				if math.Float32bits(all[i]) != math.Float32bits(want[i]) {
					t.Fatalf("TensorFloat32 element %d: %v, ggml %v", i, all[i], want[i])
				}
			}
			got := make([]float32, ne0)
			rs := int(ti.RowSize())
			mismatches, maxDiff := 0, 0.0
			for r := range rd.Rows {
				if err := Dequantize(ti.Type, data[r*rs:(r+1)*rs], got); err != nil {
					t.Fatal(err)
				}
				for c, g := range got {
					w := want[r*ne0+c]
					if math.Float32bits(g) != math.Float32bits(w) {
						if mismatches < 5 {
							t.Errorf("row %d col %d: got %v (%#08x), ggml %v (%#08x)", r, c, g, math.Float32bits(g), w, math.Float32bits(w))
						}
						mismatches++
						maxDiff = max(maxDiff, math.Abs(float64(g)-float64(w)))
					}
				}
			}
			if mismatches > 0 {
				t.Errorf("%d of %d values differ from ggml, max abs difference %g", mismatches, len(want), maxDiff)
			}
		})
	}
}
