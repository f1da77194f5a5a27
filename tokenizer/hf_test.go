// This file tests loading Hugging Face tokenizer files: a small
// tokenizer.json written by the test, its error cases, and a fuzz target
// for the parser.
package tokenizer

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// smallHF returns a tokenizer.json (as a map to modify) with the 256 byte
// symbols, "he", "Ġt", "Ġthe", "ll", "llo", two added tokens and the
// Qwen2 pre-tokenizer, and a matching tokenizer_config.json.
func smallHF() (tok, cfg map[string]any) {
	vocab := map[string]any{}
	for i, s := range byteTokens("he", "Ġt", "Ġthe", "ll", "llo") {
		vocab[s] = i
	}
	tok = map[string]any{
		"version": "1.0",
		"added_tokens": []any{
			map[string]any{"id": 261, "content": "<|im_end|>", "special": true},
			map[string]any{"id": 262, "content": "<think>", "special": false},
		},
		"normalizer": map[string]any{"type": "NFC"},
		"pre_tokenizer": map[string]any{"type": "Sequence", "pretokenizers": []any{
			map[string]any{"type": "Split", "pattern": map[string]any{"Regex": qwen2Pattern}, "behavior": "Isolated", "invert": false},
			map[string]any{"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": false, "use_regex": false},
		}},
		"decoder": map[string]any{"type": "ByteLevel"},
		"model": map[string]any{
			"type":   "BPE",
			"vocab":  vocab,
			"merges": []any{[]any{"h", "e"}, []any{"Ġ", "t"}, []any{"Ġt", "he"}, "l l", "ll o"},
		},
	}
	cfg = map[string]any{
		"eos_token":     "<|im_end|>",
		"pad_token":     map[string]any{"content": "<|im_end|>"},
		"bos_token":     nil,
		"chat_template": "{{ messages }}",
	}
	return tok, cfg
}

func mustJSON(t testing.TB, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFromFilesSmall(t *testing.T) {
	tok, cfg := smallHF()
	dir := t.TempDir()
	tp, cp := filepath.Join(dir, "tokenizer.json"), filepath.Join(dir, "tokenizer_config.json")
	if err := os.WriteFile(tp, mustJSON(t, tok), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(cp, mustJSON(t, cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	tk, err := FromFiles(tp, cp)
	if err != nil {
		t.Fatal(err)
	}
	// "hello the<think>" -> "he" "llo" "Ġthe" "<think>" (byte-level ids of
	// the letters are their byte values).
	if got, want := tk.Encode("hello the<think>"), []int32{256, 260, 258, 262}; !slices.Equal(got, want) {
		t.Errorf("Encode = %v, want %v", got, want)
	}
	if got := tk.Decode([]int32{256, 260, 258, 261}); got != "hello the<|im_end|>" {
		t.Errorf("Decode = %q", got)
	}
	if id, ok := tk.EOS(); !ok || id != 261 {
		t.Errorf("EOS = %d, %v", id, ok)
	}
	if id, ok := tk.PAD(); !ok || id != 261 {
		t.Errorf("PAD = %d, %v", id, ok)
	}
	if tk.ChatTemplate() != "{{ messages }}" {
		t.Errorf("ChatTemplate = %q", tk.ChatTemplate())
	}
	if _, err := FromFiles(tp, ""); err != nil {
		t.Errorf("without config: %v", err)
	}
	if _, err := FromFiles(filepath.Join(dir, "missing.json"), ""); err == nil || !strings.HasPrefix(err.Error(), "tokenizer: ") {
		t.Errorf("missing file: error %v", err)
	}
}

// TestParseHFPostProcessorBOS checks that a TemplateProcessing
// post-processor starting with a special token (as in Llama 3's
// tokenizer.json) makes it BOS with AddBOS set, unless the config decides.
func TestParseHFPostProcessorBOS(t *testing.T) {
	template := map[string]any{"type": "Sequence", "processors": []any{
		map[string]any{"type": "ByteLevel"},
		map[string]any{"type": "TemplateProcessing", "single": []any{
			map[string]any{"SpecialToken": map[string]any{"id": "<|im_end|>", "type_id": 0}},
			map[string]any{"Sequence": map[string]any{"id": "A", "type_id": 0}},
		}},
	}}
	for _, tt := range []struct {
		name    string
		post    any
		cfgBOS  any
		wantBOS int32
		wantAdd bool
	}{
		{"no post-processor", nil, nil, -1, false},
		{"template", template, nil, 261, true},
		{"template, config says no", template, false, 261, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tok, cfg := smallHF()
			tok["post_processor"] = tt.post
			if tt.cfgBOS != nil {
				cfg["add_bos_token"] = tt.cfgBOS
			}
			v, err := ParseHF(mustJSON(t, tok), mustJSON(t, cfg))
			if err != nil {
				t.Fatal(err)
			}
			if v.BOS != tt.wantBOS || v.AddBOS != tt.wantAdd {
				t.Errorf("BOS %d AddBOS %v, want %d %v", v.BOS, v.AddBOS, tt.wantBOS, tt.wantAdd)
			}
		})
	}
}

func TestParseHFErrors(t *testing.T) {
	tests := []struct {
		name   string
		modify func(tok, cfg map[string]any)
		want   string
	}{
		{"unknown model type", func(tok, cfg map[string]any) { tok["model"].(map[string]any)["type"] = "WordPiece" }, `unsupported model type "WordPiece"`},
		{"byte fallback", func(tok, cfg map[string]any) { tok["model"].(map[string]any)["byte_fallback"] = true }, "byte_fallback"},
		{"unknown split pattern", func(tok, cfg map[string]any) {
			tok["pre_tokenizer"].(map[string]any)["pretokenizers"].([]any)[0].(map[string]any)["pattern"] = map[string]any{"Regex": `\w+`}
		}, "unsupported pre-tokenizer split pattern"},
		{"no pre-tokenizer", func(tok, cfg map[string]any) { tok["pre_tokenizer"] = nil }, "no pre_tokenizer"},
		{"metaspace pre-tokenizer", func(tok, cfg map[string]any) { tok["pre_tokenizer"] = map[string]any{"type": "Metaspace"} }, "unsupported pre_tokenizer"},
		{"unknown normalizer", func(tok, cfg map[string]any) { tok["normalizer"] = map[string]any{"type": "Lowercase"} }, `unsupported normalizer "Lowercase"`},
		{"unknown decoder", func(tok, cfg map[string]any) { tok["decoder"] = map[string]any{"type": "WordPiece"} }, `unsupported decoder "WordPiece"`},
		{"merge of unknown token", func(tok, cfg map[string]any) {
			tok["model"].(map[string]any)["merges"] = []any{"h zz"}
		}, `"zz" is not in the vocabulary`},
		{"malformed merge", func(tok, cfg map[string]any) { tok["model"].(map[string]any)["merges"] = []any{"he"} }, "not two tokens"},
		{"merges of wrong type", func(tok, cfg map[string]any) { tok["model"].(map[string]any)["merges"] = 7 }, "merges"},
		{"eos not in vocabulary", func(tok, cfg map[string]any) { cfg["eos_token"] = "</s>" }, `eos_token "</s>" is not in the vocabulary`},
		{"negative id", func(tok, cfg map[string]any) { tok["model"].(map[string]any)["vocab"].(map[string]any)["zz"] = -4 }, "out of range"},
		{"sparse ids", func(tok, cfg map[string]any) { tok["model"].(map[string]any)["vocab"].(map[string]any)["zz"] = 1 << 20 }, "ids up to"},
		{"duplicate id", func(tok, cfg map[string]any) { tok["model"].(map[string]any)["vocab"].(map[string]any)["zz"] = 3 }, "id 3 used by two tokens"},
		{"missing byte symbol", func(tok, cfg map[string]any) { delete(tok["model"].(map[string]any)["vocab"].(map[string]any), "A") }, "byte 0x41"},
		{"empty added token", func(tok, cfg map[string]any) {
			tok["added_tokens"] = []any{map[string]any{"id": 263, "content": ""}}
		}, "added token 263 is empty"},
		{"not json", func(tok, cfg map[string]any) { tok["model"] = "x" }, "tokenizer.json"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tok, cfg := smallHF()
			tt.modify(tok, cfg)
			v, err := ParseHF(mustJSON(t, tok), mustJSON(t, cfg))
			if err == nil {
				_, err = New(v)
			}
			if err == nil {
				t.Fatalf("no error, want one containing %q", tt.want)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "tokenizer: ") {
				t.Errorf("error %q, want one starting with tokenizer: and containing %q", err, tt.want)
			}
			if strings.Contains(tt.want, "unsupported") && !errors.Is(err, ErrInvalid) {
				t.Errorf("error %q is not ErrInvalid", err)
			}
		})
	}
}

func FuzzParseHF(f *testing.F) {
	tok, cfg := smallHF()
	f.Add(mustJSON(f, tok), mustJSON(f, cfg))
	f.Add([]byte(`{"model":{"type":"BPE","vocab":{"a":0},"merges":["a a"]}}`), []byte(`{"eos_token":{"content":"a"}}`))
	f.Fuzz(func(t *testing.T, tokJSON, cfgJSON []byte) {
		v, err := ParseHF(tokJSON, cfgJSON)
		if err != nil {
			return
		}
		tk, err := New(v)
		if err != nil {
			return
		}
		for _, id := range tk.Encode("hello the <|im_end|> 中文 \xff") {
			if id < 0 || int(id) >= tk.VocabSize() {
				t.Fatalf("id %d out of range", id)
			}
		}
	})
}

// TestFromFilesTooLarge names a file far bigger than any tokenizer.json
// (sparse, so nothing is written): it is refused by its size, not read.
func TestFromFilesTooLarge(t *testing.T) {
	p := filepath.Join(t.TempDir(), "model.safetensors")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(2 * maxHFFileSize); err != nil {
		t.Fatal(err)
	}
	f.Close()
	_, err = FromFiles(p, "")
	if err == nil || !strings.Contains(err.Error(), "too large") {
		t.Fatalf("FromFiles of a %d-byte file: %v, want a too-large error", 2*maxHFFileSize, err)
	}
}
