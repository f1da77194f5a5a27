// Tests of the embeddings request: every input shape OpenAI accepts, the
// 400s with their param, and a fuzz test that no body panics the decoder
// and every accepted body is valid.

package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"testing"
)

func TestDecodeEmbeddingRequest(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		texts      []string
		tokens     [][]int32
		param      string // for a 400
	}{
		{"string", `{"model":"m","input":"hello"}`, []string{"hello"}, nil, ""},
		{"strings", `{"model":"m","input":["a","b"],"encoding_format":"base64","dimensions":8}`, []string{"a", "b"}, nil, ""},
		{"token ids", `{"model":"m","input":[1,2,3]}`, nil, [][]int32{{1, 2, 3}}, ""},
		{"lists of token ids", `{"model":"m","input":[[1,2],[3]]}`, nil, [][]int32{{1, 2}, {3}}, ""},
		{"missing model", `{"input":"a"}`, nil, nil, "model"},
		{"missing input", `{"model":"m"}`, nil, nil, "input"},
		{"empty list", `{"model":"m","input":[]}`, nil, nil, "input"},
		{"empty string", `{"model":"m","input":["a",""]}`, nil, nil, "input"},
		{"empty id list", `{"model":"m","input":[[1],[]]}`, nil, nil, "input"},
		{"negative id", `{"model":"m","input":[1,-2]}`, nil, nil, "input"},
		{"mixed list", `{"model":"m","input":["a",1]}`, nil, nil, "input"},
		{"number", `{"model":"m","input":5}`, nil, nil, "input"},
		{"object", `{"model":"m","input":{"text":"a"}}`, nil, nil, "input"},
		{"float id", `{"model":"m","input":[1.5]}`, nil, nil, "input"},
		{"bad format", `{"model":"m","input":"a","encoding_format":"int8"}`, nil, nil, "encoding_format"},
		{"zero dimensions", `{"model":"m","input":"a","dimensions":0}`, nil, nil, "dimensions"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, e := DecodeEmbeddingRequest([]byte(tc.body))
			if tc.param != "" {
				if e == nil || e.Status != http.StatusBadRequest || e.Param != tc.param {
					t.Fatalf("want a 400 on %s, got %+v", tc.param, e)
				}
				return
			}
			if e != nil {
				t.Fatal(e)
			}
			if !slices.Equal(r.Input.Texts, tc.texts) || !slices.EqualFunc(r.Input.Tokens, tc.tokens, slices.Equal) {
				t.Errorf("input %+v", r.Input)
			}
		})
	}
}

func FuzzDecodeEmbeddingRequest(f *testing.F) {
	for _, s := range []string{
		`{"model":"m","input":"hello"}`, `{"model":"m","input":["a","b"],"encoding_format":"base64","dimensions":8}`,
		`{"model":"m","input":[1,2,3]}`, `{"model":"m","input":[[1,2],[3]]}`, `{"model":"m","input":[]}`, `{"input":null}`, `[`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		r, e := DecodeEmbeddingRequest(body)
		if e != nil {
			if e.Status != http.StatusBadRequest || e.Message == "" {
				t.Fatalf("error %+v", e)
			}
			return
		}
		if r.Model == "" || r.Input.Len() == 0 || (len(r.Input.Texts) > 0) == (len(r.Input.Tokens) > 0) {
			t.Fatalf("accepted %s as %+v", body, r)
		}
		if _, err := json.Marshal(r.Input); err != nil {
			t.Fatal(err)
		}
	})
}
