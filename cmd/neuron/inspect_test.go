// Tests of `neuron inspect` against the reference mini models: the JSON
// output must agree with the reference README's description of each file, and
// a malformed file must make the command fail.

package main

import (
	"bytes"
	"encoding/json"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/helexa/helexa/gguf"
	"github.com/helexa/helexa/internal/reftest"
)

// inspectRefFiles lists each reference model with its general.file_type and
// tensor type counts, from the reference README's table.
var inspectRefFiles = []struct {
	file     string
	fileType uint32
	types    map[string]int
}{
	{"mini-f32.gguf", 0, map[string]int{"F32": 25}},
	{"mini-tied-f32.gguf", 0, map[string]int{"F32": 24}},
	{"mini-f16.gguf", 1, map[string]int{"F16": 16, "F32": 9}},
	{"mini-bf16.gguf", 32, map[string]int{"BF16": 16, "F32": 9}},
	{"mini-q8_0.gguf", 7, map[string]int{"Q8_0": 16, "F32": 9}},
	{"mini-q6_k.gguf", 18, map[string]int{"Q6_K": 16, "F32": 9}},
	{"mini-q5_k_m.gguf", 17, map[string]int{"Q5_K": 13, "Q6_K": 3, "F32": 9}},
	{"mini-q4_k_m.gguf", 15, map[string]int{"Q4_K": 13, "Q6_K": 3, "F32": 9}},
	{"mini-q4_0.gguf", 2, map[string]int{"Q4_0": 15, "Q6_K": 1, "F32": 9}},
}

type inspectOutput struct {
	Version  int                        `json:"version"`
	Metadata map[string]json.RawMessage `json:"metadata"`
	Tensors  []inspectTensor            `json:"tensors"`
}

func TestInspectJSONReference(t *testing.T) {
	dir := reftest.Path(t, "models")
	for _, ref := range inspectRefFiles {
		t.Run(ref.file, func(t *testing.T) {
			path := filepath.Join(dir, ref.file)
			var out bytes.Buffer
			if err := runInspect(&out, path, true); err != nil {
				t.Fatal(err)
			}
			var got inspectOutput
			if err := json.Unmarshal(out.Bytes(), &got); err != nil {
				t.Fatalf("output is not one JSON object: %v", err)
			}
			if got.Version != 3 {
				t.Errorf("version %d", got.Version)
			}
			if len(got.Metadata) != 26 {
				t.Errorf("%d metadata keys, want 26", len(got.Metadata))
			}
			for key, want := range map[string]string{
				"general.architecture":            `"qwen3"`,
				"qwen3.block_count":               "2",
				"qwen3.embedding_length":          "256",
				"qwen3.feed_forward_length":       "512",
				"qwen3.attention.head_count":      "4",
				"qwen3.attention.head_count_kv":   "2",
				"qwen3.context_length":            "4096",
				"qwen3.rope.freq_base":            "1e+06",
				"tokenizer.ggml.eos_token_id":     "2050",
				"tokenizer.ggml.add_bos_token":    "false",
				"general.file_type":               strconv.Itoa(int(ref.fileType)),
				"general.quantization_version":    "2",
				"tokenizer.ggml.padding_token_id": "2048",
			} {
				if v := string(got.Metadata[key]); v != want {
					t.Errorf("%s = %s, want %s", key, v, want)
				}
			}
			var tokens []string
			var tokenTypes []int32
			var merges []string
			json.Unmarshal(got.Metadata["tokenizer.ggml.tokens"], &tokens)
			json.Unmarshal(got.Metadata["tokenizer.ggml.token_type"], &tokenTypes)
			json.Unmarshal(got.Metadata["tokenizer.ggml.merges"], &merges)
			if len(tokens) != 2112 || len(tokenTypes) != 2112 || len(merges) != 1792 {
				t.Errorf("arrays in full: %d tokens, %d token types, %d merges; want 2112, 2112, 1792", len(tokens), len(tokenTypes), len(merges))
			} else if tokens[2049] != "<|im_start|>" || tokens[2073] != "</think>" || tokens[2074] != "[PAD2074]" {
				t.Errorf("tokens 2049, 2073, 2074 = %q %q %q", tokens[2049], tokens[2073], tokens[2074])
			}

			shapes := reftest.MiniShapes(ref.file == "mini-tied-f32.gguf")
			if len(got.Tensors) != len(shapes) {
				t.Errorf("%d tensors, want %d", len(got.Tensors), len(shapes))
			}
			counts := map[string]int{}
			var prevEnd uint64
			for i, tt := range got.Tensors {
				counts[tt.Type]++
				want, ok := shapes[tt.Name]
				if !ok || !slices.Equal(tt.Shape, want) {
					t.Errorf("tensor %q shape %v, want %v", tt.Name, tt.Shape, want)
					continue
				}
				typ, err := gguf.ParseType(tt.Type)
				if err != nil {
					t.Fatal(err)
				}
				if len(want) == 1 && typ != gguf.TypeF32 {
					t.Errorf("norm tensor %q is %s, want F32", tt.Name, tt.Type)
				}
				rows := int64(1)
				for _, d := range want[1:] {
					rows *= d
				}
				if tt.Size != typ.RowSize(want[0])*rows {
					t.Errorf("tensor %q: size %d, %s %v needs %d", tt.Name, tt.Size, tt.Type, want, typ.RowSize(want[0])*rows)
				}
				// Tensors are stored in order, each at the next multiple of
				// the alignment (32) after the previous one.
				if i > 0 && (tt.Offset%32 != 0 || tt.Offset < prevEnd || tt.Offset-prevEnd >= 32) {
					t.Errorf("tensor %q at offset %d; previous tensor ends at %d", tt.Name, tt.Offset, prevEnd)
				}
				if i == 0 && tt.Offset != 0 {
					t.Errorf("first tensor at offset %d", tt.Offset)
				}
				prevEnd = tt.Offset + uint64(tt.Size)
			}
			for typ, n := range ref.types {
				if counts[typ] != n {
					t.Errorf("%d tensors of type %s, want %d (all: %v)", counts[typ], typ, n, counts)
				}
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if prevEnd > uint64(st.Size()) {
				t.Errorf("tensor data ends at %d past the file size %d", prevEnd, st.Size())
			}
		})
	}
}

func TestInspectTextSummarises(t *testing.T) {
	dir := reftest.Path(t, "models")
	var out bytes.Buffer
	if err := runInspect(&out, filepath.Join(dir, "mini-q4_k_m.gguf"), false); err != nil {
		t.Fatal(err)
	}
	text := out.String()
	for _, want := range []string{
		"GGUF version 3, 1524672 bytes",
		"qwen3.block_count",
		"[string; 2112]",
		"... 2104 more]",
		"... 1784 more]",
		"(4116 bytes)",
		"tensors: 25,",
		"blk.1.ffn_down.weight",
		"Q6_K  [512, 256]",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("text output lacks %q", want)
		}
	}
	if strings.Contains(text, "[PAD2111]") {
		t.Errorf("text output prints the token array in full")
	}
	if n := strings.Count(text, "\n"); n > 80 {
		t.Errorf("text output has %d lines; long arrays should be summarised", n)
	}
}

func TestInspectMalformedFails(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.gguf")
	if err := os.WriteFile(bad, []byte("GGUF\x03\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff\x00\x00\x00\x00\x00\x00\x00\x00"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"inspect", bad}, {"inspect", "--json", bad}, {"inspect", filepath.Join(dir, "missing.gguf")}} {
		var out bytes.Buffer
		rootCmd.SetArgs(args)
		rootCmd.SetOut(&out)
		rootCmd.SetErr(&out)
		err := rootCmd.Execute()
		if err == nil {
			t.Errorf("neuron %v succeeded on a bad file; output %q", args, out.String())
		} else if !strings.HasPrefix(err.Error(), "gguf: ") {
			t.Errorf("neuron %v: error %q does not come from the gguf package", args, err)
		}
	}
	rootCmd.SetArgs(nil)
}

func TestInspectJSONWrittenValues(t *testing.T) {
	w := gguf.NewWriter()
	w.AddKV("bytes", []uint8{1, 255})
	w.AddKV("nan", float32(math.NaN()))
	w.AddKV("floats", []float64{1.5, math.Inf(-1)})
	w.AddKV("html", "<a&b>")
	w.AddKV("nested", []gguf.Array{{Type: gguf.ValueInt32, Values: []int32{-1}}, {Type: gguf.ValueString, Values: []string{"x"}}})
	w.AddTensor("t", gguf.TypeQ8_0, []int64{32, 2}, make([]byte, 68))
	path := filepath.Join(t.TempDir(), "w.gguf")
	if err := w.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runInspect(&out, path, true); err != nil {
		t.Fatal(err)
	}
	want := `{"version":3,"metadata":{"bytes":[1,255],"nan":"NaN","floats":[1.5,"-Inf"],"html":"<a&b>","nested":[[-1],["x"]]},` +
		`"tensors":[{"name":"t","type":"Q8_0","shape":[32,2],"offset":0,"size":68}]}` + "\n"
	if out.String() != want {
		t.Errorf("got  %s\nwant %s", out.String(), want)
	}
}
