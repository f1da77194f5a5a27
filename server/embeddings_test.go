// Tests of POST /v1/embeddings over a fake embedder: the response shape,
// usage, base64 encoding (decoded back), dimensions (truncated and
// normalized again), the input reaching the embedder as sent, and the
// errors: a model that cannot embed, dimensions beyond the model's size,
// an unknown model, a bad body.

package server

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
)

// fakeEmbedder embeds input i as the unit vector along axis i (of dims).
type fakeEmbedder struct {
	*fakeGen
	dims   int
	texts  []string
	tokens [][]int32
}

func (f *fakeEmbedder) Embed(ctx context.Context, texts []string, tokens [][]int32) (*EmbedResult, error) {
	f.texts, f.tokens = texts, tokens
	n := len(texts) + len(tokens)
	res := &EmbedResult{PromptTokens: 3 * n}
	for i := range n {
		v := make([]float32, f.dims)
		v[i%f.dims] = 0.6
		v[(i+1)%f.dims] = 0.8
		res.Embeddings = append(res.Embeddings, v)
	}
	return res, nil
}

// embedManager serves one fake model, "e", whose generator embeds, and
// "m", whose generator does not.
type embedManager struct {
	*fakeManager
	emb *fakeEmbedder
}

func (m *embedManager) Acquire(id string) (Generator, func(), error) {
	if id == "e" {
		return m.emb, func() {}, nil
	}
	return m.fakeManager.Acquire(id)
}

func TestEmbeddingsEndpoint(t *testing.T) {
	fm := newFakeManager()
	fm.add("m", newFakeGen())
	fm.add("e", newFakeGen())
	emb := &fakeEmbedder{fakeGen: newFakeGen(), dims: 4}
	s := New(Options{Models: &embedManager{fakeManager: fm, emb: emb}})
	s.SetState(StateReady)

	var list struct {
		Object string `json:"object"`
		Model  string `json:"model"`
		Data   []struct {
			Object    string          `json:"object"`
			Index     int             `json:"index"`
			Embedding json.RawMessage `json:"embedding"`
		} `json:"data"`
		Usage struct {
			PromptTokens int `json:"prompt_tokens"`
			TotalTokens  int `json:"total_tokens"`
		} `json:"usage"`
	}
	post := func(body string) {
		t.Helper()
		rec := do(s, "POST", "/v1/embeddings", body)
		if rec.Code != 200 {
			t.Fatalf("%s: %d %s", body, rec.Code, rec.Body)
		}
		list.Data = nil
		if err := json.Unmarshal(rec.Body.Bytes(), &list); err != nil {
			t.Fatal(err)
		}
	}
	floats := func(raw json.RawMessage) []float32 {
		var v []float32
		if err := json.Unmarshal(raw, &v); err != nil {
			t.Fatalf("%s: %v", raw, err)
		}
		return v
	}

	post(`{"model":"e","input":["a","b","c"]}`)
	if list.Object != "list" || list.Model != "e" || len(list.Data) != 3 || list.Usage.PromptTokens != 9 || list.Usage.TotalTokens != 9 {
		t.Fatalf("response %+v", list)
	}
	for i, d := range list.Data {
		want := make([]float32, 4)
		want[i%4], want[(i+1)%4] = 0.6, 0.8
		if d.Object != "embedding" || d.Index != i || !slices.Equal(floats(d.Embedding), want) {
			t.Errorf("data[%d] = %s %d %s", i, d.Object, d.Index, d.Embedding)
		}
	}
	if !slices.Equal(emb.texts, []string{"a", "b", "c"}) || emb.tokens != nil {
		t.Errorf("embedder got %q %v", emb.texts, emb.tokens)
	}

	post(`{"model":"e","input":[[5,6],[7]],"encoding_format":"base64"}`)
	if len(emb.tokens) != 2 || !slices.Equal(emb.tokens[0], []int32{5, 6}) {
		t.Errorf("embedder got tokens %v", emb.tokens)
	}
	var b64 string
	if err := json.Unmarshal(list.Data[1].Embedding, &b64); err != nil {
		t.Fatal(err)
	}
	raw, err := base64.StdEncoding.DecodeString(b64)
	if err != nil || len(raw) != 16 {
		t.Fatalf("base64 %q: %v", b64, err)
	}
	var got []float32
	for i := 0; i < len(raw); i += 4 {
		got = append(got, math.Float32frombits(binary.LittleEndian.Uint32(raw[i:])))
	}
	if !slices.Equal(got, []float32{0, 0.6, 0.8, 0}) {
		t.Errorf("base64 decodes to %v", got)
	}

	// dimensions 1 of (0.6, 0.8, 0, 0) is (1) once normalized again.
	post(`{"model":"e","input":"a","dimensions":1}`)
	if v := floats(list.Data[0].Embedding); len(v) != 1 || math.Abs(float64(v[0])-1) > 1e-6 {
		t.Errorf("dimensions 1: %v", v)
	}
	post(`{"model":"e","input":"a","dimensions":4}`)
	if v := floats(list.Data[0].Embedding); !slices.Equal(v, []float32{0.6, 0.8, 0, 0}) {
		t.Errorf("dimensions 4: %v", v)
	}

	for _, tc := range []struct{ body, param, has string }{
		{`{"model":"m","input":"a"}`, "model", "cannot compute embeddings"},
		{`{"model":"e","input":"a","dimensions":5}`, "dimensions", "exceeds the model's embedding size 4"},
		{`{"model":"nope","input":"a"}`, "model", `the model "nope" is not loaded; loaded: e, m`},
		{`{"model":"e","input":[]}`, "input", "must not be empty"},
	} {
		rec := do(s, "POST", "/v1/embeddings", tc.body)
		e := decodeError(t, rec.Body.Bytes())
		if rec.Code/100 != 4 || e.Param != tc.param || !strings.Contains(e.Message, tc.has) {
			t.Errorf("%s: %d %+v", tc.body, rec.Code, e)
		}
	}
}
