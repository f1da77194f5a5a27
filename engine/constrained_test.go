// Tests of JSON mode's sampling: SampleAllowed's retry and full-scan paths,
// and whole generations with stand-in forward passes that prefer tokens
// which would break the JSON (end of sequence, control tokens, text, the
// wrong bracket), with greedy and seeded sampling, thinking off by default
// and explicitly on, and the token limit.
package engine

import (
	"context"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/chat"
	"github.com/helexa/helexa/constrain"
	"github.com/helexa/helexa/internal/reftest"
	"github.com/helexa/helexa/tokenizer"
)

func TestSampleAllowed(t *testing.T) {
	const nVocab = 64
	// logits[i] = i: the argmax is the last id, the order is known.
	ramp := func() []float32 {
		l := make([]float32, nVocab)
		for i := range l {
			l[i] = float32(i)
		}
		return l
	}
	seed := uint64(7)
	cases := []struct {
		name      string
		p         SamplingParams
		allow     func(int32) bool
		logits    func() []float32
		want      int32 // -1: any allowed id
		maxChecks int   // upper bound on allow calls
		minChecks int   // lower bound (shows the path taken)
	}{
		{name: "best allowed: one check", allow: func(int32) bool { return true }, logits: ramp,
			want: nVocab - 1, minChecks: 1, maxChecks: 1},
		{name: "greedy retry finds the next best", allow: func(id int32) bool { return id < nVocab-2 }, logits: ramp,
			want: nVocab - 3, minChecks: 3, maxChecks: 3},
		{name: "greedy falls back to a full scan", allow: func(id int32) bool { return id == 3 }, logits: ramp,
			want: 3, minChecks: jsonRetries + 1 + nVocab, maxChecks: jsonRetries + 2 + nVocab},
		{name: "allowed only at -Inf: lowest allowed id", allow: func(id int32) bool { return id == 5 || id == 9 },
			logits: func() []float32 {
				l := ramp()
				l[5], l[9] = float32(math.Inf(-1)), float32(math.Inf(-1))
				return l
			}, want: 5, minChecks: jsonRetries + 1 + nVocab},
		{name: "seeded draw stays allowed", p: SamplingParams{Temperature: 1, Seed: &seed},
			allow: func(id int32) bool { return id%2 == 0 }, logits: ramp, want: -1, minChecks: 1},
		{name: "seeded top-k draw with a full scan", p: SamplingParams{Temperature: 1, TopK: 3, Seed: &seed},
			allow: func(id int32) bool { return id < 10 }, logits: ramp, want: -1, minChecks: jsonRetries + 1 + nVocab},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := NewSampler(nVocab, 128, tc.p, 2)
			checks := 0
			allow := func(id int32) bool { checks++; return tc.allow(id) }
			var lp TokenLogprob
			raw := tc.logits()
			id, ok := s.SampleAllowed(slices.Clone(raw), &lp, allow)
			if !ok {
				t.Fatal("no token allowed")
			}
			if !tc.allow(id) || (tc.want >= 0 && id != tc.want) {
				t.Fatalf("picked %d, want %d (allowed)", id, tc.want)
			}
			if checks < tc.minChecks || (tc.maxChecks > 0 && checks > tc.maxChecks) {
				t.Fatalf("%d allow checks, want [%d, %d]", checks, tc.minChecks, tc.maxChecks)
			}
			if lp.Token != id || len(lp.Top) != 2 || lp.Top[0].Token != nVocab-1 {
				t.Fatalf("log-probabilities %+v do not describe the model's distribution", lp)
			}
			// The same seed and logits pick the same token again.
			s.Reset(tc.p, 2, 128)
			if again, _ := s.SampleAllowed(slices.Clone(raw), nil, tc.allow); tc.p.Seed != nil && again != id {
				t.Fatalf("same seed picked %d, then %d", id, again)
			}
		})
	}
	t.Run("nothing allowed", func(t *testing.T) {
		s := NewSampler(nVocab, 128, SamplingParams{}, 0)
		if _, ok := s.SampleAllowed(ramp(), nil, func(int32) bool { return false }); ok {
			t.Fatal("reported a token when none is allowed")
		}
	})
}

// adversary is a forwarder that follows a script, then ranks tokens by a
// fixed preference list (the first highest) above seeded noise in [0, 1);
// the boost tokens (closing quotes and brackets) get a smaller bonus so that
// random walks end.
type adversary struct {
	nVocab int
	script []int32
	prefer []int32
	noise  *rng    // nil: no noise
	boost  []int32 // tokens lifted by 6 above the noise
	step   int
}

func (a *adversary) Forward(rows []Row, logitRows []int, logits []float32) error {
	if len(logitRows) == 0 {
		return nil
	}
	out := logits[:a.nVocab]
	for i := range out {
		out[i] = 0
		if a.noise != nil {
			out[i] = float32(a.noise.float64())
		}
	}
	if a.step < len(a.script) {
		out[a.script[a.step]] = 100
	} else {
		for i, id := range a.prefer {
			out[id] = float32(50 - i)
		}
		for _, id := range a.boost {
			out[id] += 6
		}
	}
	a.step++
	return nil
}

// single returns the id of a text that is one token.
func single(t *testing.T, tok *tokenizer.Tokenizer, text string) int32 {
	t.Helper()
	ids := tok.Encode(text)
	if len(ids) != 1 {
		t.Fatalf("%q is %d tokens %v, want 1", text, len(ids), ids)
	}
	return ids[0]
}

// runJSON runs req on a generator over f and returns the result and the
// streamed content and reasoning.
func runJSON(t *testing.T, tok *tokenizer.Tokenizer, tmpl chat.Template, f forwarder, req GenerateRequest) (*Result, string, string) {
	t.Helper()
	g := newGenerator(f, tok.VocabSize(), ContextOptions{Seqs: 1, Ctx: 1024, Batch: 64}, tok, tmpl, nil)
	var content, reasoning strings.Builder
	res, err := g.Generate(context.Background(), req, func(ev Event) error {
		content.WriteString(ev.Content)
		reasoning.WriteString(ev.Reasoning)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if res.Content != content.String() {
		t.Fatalf("result content %q, streamed %q", res.Content, content.String())
	}
	return res, content.String(), reasoning.String()
}

// parseObject checks that s is one JSON object.
func parseObject(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil || m == nil {
		t.Fatalf("content %q is not a JSON object: %v", s, err)
	}
	return m
}

func TestGenerateJSONAdversarial(t *testing.T) {
	tok, tmpl := scriptTokenizer(t)
	eos, _ := tok.EOS()
	imStart, ok := tok.ID("<|im_start|>")
	if !ok {
		t.Fatal("no <|im_start|> in the synthetic vocabulary")
	}
	hello := tok.Encode("hello")[0]
	open, closeObj, closeArr := single(t, tok, "{"), single(t, tok, "}"), single(t, tok, "]")
	quote := single(t, tok, `"`)
	user := []api.Message{{Role: "user", Content: api.Content{Text: "Reply in JSON."}}}
	prompt := func(json bool) GenerateRequest {
		return GenerateRequest{Chat: &chat.Request{Messages: user, AddGenerationPrompt: true}, JSON: json}
	}

	// Every preferred token breaks the JSON at the start: greedy JSON mode
	// must skip five of them (more than jsonRetries, so the full scan runs)
	// to reach "{", then three to reach "}".
	prefer := []int32{eos, imStart, hello, closeArr, closeObj, open}
	t.Run("greedy skips invalid tokens", func(t *testing.T) {
		free, content, _ := runJSON(t, tok, tmpl, &adversary{nVocab: tok.VocabSize(), prefer: prefer}, prompt(false))
		if json.Valid([]byte(content)) {
			t.Fatalf("without JSON mode the stand-in already produces JSON %q (tokens %v): the test proves nothing", content, free.Tokens)
		}
		res, content, _ := runJSON(t, tok, tmpl, &adversary{nVocab: tok.VocabSize(), prefer: prefer}, prompt(true))
		if content != "{}" || res.FinishReason != FinishStop {
			t.Fatalf("content %q finish %q, want {} and stop", content, res.FinishReason)
		}
		if !slices.Equal(res.Tokens, []int32{open, closeObj}) {
			t.Fatalf("tokens %v, want [%d %d]: generation goes on after the object closes", res.Tokens, open, closeObj)
		}
	})

	t.Run("token limit", func(t *testing.T) {
		req := prompt(true)
		req.MaxTokens = 1
		res, content, _ := runJSON(t, tok, tmpl, &adversary{nVocab: tok.VocabSize(), prefer: prefer}, req)
		if content != "{" || res.FinishReason != FinishLength {
			t.Fatalf("content %q finish %q, want { and length", content, res.FinishReason)
		}
	})

	// Seeded sampling over noise with the closers lifted: every run ends
	// in a valid prefix, the finished ones in an object, and the same
	// seed gives the same tokens.
	t.Run("seeded noise", func(t *testing.T) {
		stops, members := 0, 0
		for seed := range uint64(8) {
			mk := func() *adversary {
				f := &adversary{nVocab: tok.VocabSize(), noise: new(rng), prefer: []int32{eos, imStart},
					boost: []int32{closeObj, closeArr, quote}}
				f.noise.seed(seed + 100)
				return f
			}
			req := prompt(true)
			req.MaxTokens = 200
			req.Sampling = SamplingParams{Temperature: 1, TopP: 0.95, Seed: &seed}
			res, content, _ := runJSON(t, tok, tmpl, mk(), req)
			var v constrain.JSONValidator
			if !v.Feed([]byte(content)) {
				t.Fatalf("seed %d: %q is not a JSON prefix", seed, content)
			}
			switch res.FinishReason {
			case FinishStop:
				stops++
				if len(parseObject(t, content)) > 0 {
					members++
				}
			case FinishLength:
				if len(res.Tokens) != 200 {
					t.Fatalf("seed %d: length after %d tokens", seed, len(res.Tokens))
				}
			default:
				t.Fatalf("seed %d: finish %q", seed, res.FinishReason)
			}
			again, _, _ := runJSON(t, tok, tmpl, mk(), req)
			if !slices.Equal(again.Tokens, res.Tokens) {
				t.Fatalf("seed %d: tokens differ between runs", seed)
			}
		}
		if stops == 0 || members == 0 {
			t.Fatalf("%d seeded runs closed their object, %d with members: the walk does not exercise JSON mode", stops, members)
		}
	})
}

func TestGenerateJSONThinking(t *testing.T) {
	tok, tmpl := scriptTokenizer(t)
	eos, _ := tok.EOS()
	user := []api.Message{{Role: "user", Content: api.Content{Text: "Reply in JSON."}}}
	on := true

	t.Run("thinking off by default", func(t *testing.T) {
		g := newGenerator(&adversary{nVocab: tok.VocabSize()}, tok.VocabSize(), ContextOptions{Seqs: 1, Ctx: 1024, Batch: 64}, tok, tmpl, nil)
		for _, tc := range []struct {
			name      string
			req       GenerateRequest
			wantEmpty bool // the prompt closes an empty think block (thinking off)
		}{
			{"json, thinking unset", GenerateRequest{Chat: &chat.Request{Messages: user, AddGenerationPrompt: true}, JSON: true}, true},
			{"text, thinking unset", GenerateRequest{Chat: &chat.Request{Messages: user, AddGenerationPrompt: true}}, false},
			{"json, thinking on", GenerateRequest{Chat: &chat.Request{Messages: user, AddGenerationPrompt: true, EnableThinking: &on}, JSON: true}, false},
		} {
			ids, err := g.PromptTokens(&tc.req)
			if err != nil {
				t.Fatal(err)
			}
			text := tok.Decode(ids)
			if got := strings.HasSuffix(text, "<think>\n\n</think>\n\n"); got != tc.wantEmpty {
				t.Errorf("%s: prompt ends %q, empty think block %v, want %v", tc.name, text[max(0, len(text)-40):], got, tc.wantEmpty)
			}
			if tc.req.Chat.EnableThinking != nil && !*tc.req.Chat.EnableThinking {
				t.Errorf("%s: the caller's request was modified", tc.name)
			}
		}
	})

	// The reasoning holds text that is not JSON; after </think> (the token,
	// or the same text in pieces) the stand-in prefers end of sequence and
	// plain text.
	spelled := append(tok.Encode("<think>\nNot JSON: {[}\n</"), tok.Encode("think")...)
	spelled = append(spelled, tok.Encode(">\n\n")...)
	for _, tc := range []struct {
		name   string
		script []int32
	}{
		{"reasoning unconstrained, content constrained", tok.Encode("<think>\nNot JSON: {[}\n</think>\n\n")},
		{"reasoning closed in pieces", spelled},
	} {
		t.Run(tc.name, func(t *testing.T) {
			prefer := []int32{eos, tok.Encode("hello")[0], single(t, tok, "{"), single(t, tok, "}")}
			f := &adversary{nVocab: tok.VocabSize(), script: tc.script, prefer: prefer}
			req := GenerateRequest{Chat: &chat.Request{Messages: user, AddGenerationPrompt: true, EnableThinking: &on}, JSON: true}
			res, content, reasoning := runJSON(t, tok, tmpl, f, req)
			if !slices.Equal(res.Tokens[:len(tc.script)], tc.script) {
				t.Fatalf("reasoning tokens %v, want the script %v", res.Tokens[:len(tc.script)], tc.script)
			}
			if reasoning != "Not JSON: {[}" {
				t.Fatalf("reasoning %q", reasoning)
			}
			if res.FinishReason != FinishStop || content != "{}" {
				t.Fatalf("content %q finish %q, want {} and stop", content, res.FinishReason)
			}
		})
	}

	t.Run("end of sequence held back while reasoning", func(t *testing.T) {
		script := tok.Encode("<think>\nhm")
		prefer := []int32{eos, single(t, tok, "a")}
		f := &adversary{nVocab: tok.VocabSize(), script: script, prefer: prefer}
		req := GenerateRequest{Chat: &chat.Request{Messages: user, AddGenerationPrompt: true, EnableThinking: &on}, JSON: true, MaxTokens: len(script) + 3}
		res, content, _ := runJSON(t, tok, tmpl, f, req)
		if res.FinishReason != FinishLength || slices.Contains(res.Tokens, eos) || content != "" {
			t.Fatalf("finish %q tokens %v content %q: want reasoning up to the limit", res.FinishReason, res.Tokens, content)
		}
	})
}

// TestJSONConstraintAllowed checks the constraint's token verdicts against
// the validator run on each token's bytes, over the whole vocabulary of the
// synthetic model and of Qwen3 (multi-byte characters, the string fast path
// and the first-byte cache included) at several points of a JSON text.
func TestJSONConstraintAllowed(t *testing.T) {
	t.Run("synthetic", func(t *testing.T) {
		tok, _ := scriptTokenizer(t)
		checkAllowed(t, tok)
	})
	t.Run("qwen3", func(t *testing.T) {
		tok, err := tokenizer.FromFiles(reftest.Path(t, "qwen3-tokenizer", "tokenizer.json"), "")
		if err != nil {
			t.Fatal(err)
		}
		checkAllowed(t, tok)
	})
}

func checkAllowed(t *testing.T, tok *tokenizer.Tokenizer) {
	voc := NewVocab(tok, tok.VocabSize())
	for _, prefix := range []string{"", "{", `{"k`, `{"k\`, `{"k\u00`, "{\"k\xc3", "{\"k\xe4\xb8", `{"k":`, `{"k": 1`, `{"k": [tr`, `{"k": 1}`} {
		c := constrain.New(voc, constrain.NewJSONObject(), false)
		for _, id := range tok.Encode(prefix) {
			if !c.Allowed(id) {
				t.Fatalf("%q: token %d of the prefix not allowed", prefix, id)
			}
			c.Accept(id)
		}
		var v constrain.JSONValidator
		v.LimitSpace(constrain.MaxSpace)
		if !v.Feed([]byte(prefix)) {
			t.Fatalf("%q rejected", prefix)
		}
		n := 0
		for id := range int32(tok.VocabSize()) {
			b := tok.TokenBytes(id)
			want := !tok.IsSpecial(id) && tok.TokenType(id) != tokenizer.TypeUnused && len(b) > 0 && v.Accepts(b)
			if tok.IsEOG(id) {
				want = v.Complete()
			}
			if got := c.Allowed(id); got != want {
				t.Fatalf("after %q, token %d %q: allowed %v, want %v", prefix, id, b, got, want)
			}
			if want {
				n++
			}
		}
		t.Logf("after %q: %d of %d tokens allowed", prefix, n, tok.VocabSize())
	}
}

// TestSchemaConstraintAllowed checks the constraint's token verdicts (the
// whole-vocabulary mask, its string and first-bytes shortcuts) against the
// schema matcher run on each token's bytes, over the Qwen3 vocabulary at
// points of a reply: inside a free and a bounded string, in a number, at
// a key, between members, inside a format.
func TestSchemaConstraintAllowed(t *testing.T) {
	tok, err := tokenizer.FromFiles(reftest.Path(t, "qwen3-tokenizer", "tokenizer.json"), "")
	if err != nil {
		t.Fatal(err)
	}
	voc := NewVocab(tok, tok.VocabSize())
	s, err := constrain.Compile([]byte(`{"type":"object","properties":{"name":{"type":"string"},"code":{"type":"string","maxLength":3},` +
		`"n":{"type":"integer","minimum":-5,"maximum":250},"day":{"type":"string","format":"date"},"tags":{"type":"array","items":{"enum":["a b","c"]}}},` +
		`"required":["name","code","n"],"additionalProperties":false}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, prefix := range []string{"", "{", `{"name": "Jo`, `{"name": "Jo\`, `{"name": "x", "code": "ab`, `{"name": "x", "code": "abc`,
		`{"name": "x", "code": "", "n": 2`, `{"name": "x", "code": "", "n": -`, `{"name": "x", "code": "", "n": 7,`,
		`{"name": "x", "code": "", "n": 7, "day": "2024-0`, `{"name": "x", "code": "", "n": 7, "tags": ["a`} {
		c := constrain.New(voc, s.NewMatcher(), false)
		ref := s.NewMatcher()
		if !ref.Feed([]byte(prefix)) {
			t.Fatalf("%q rejected", prefix)
		}
		for _, id := range tok.Encode(prefix) {
			if !c.Allowed(id) {
				t.Fatalf("%q: token %d of the prefix not allowed", prefix, id)
			}
			c.Accept(id)
		}
		n := 0
		for id := range int32(tok.VocabSize()) {
			b := tok.TokenBytes(id)
			want := false
			switch typ := tok.TokenType(id); {
			case tok.IsEOG(id):
				want = ref.Complete()
			case typ == tokenizer.TypeNormal || typ == tokenizer.TypeByte:
				want = len(b) > 0 && ref.Accepts(b)
			case typ == tokenizer.TypeUserDefined:
				_, inString := ref.StringRoom()
				want = !inString && len(b) > 0 && ref.Accepts(b)
			}
			if got := c.Allowed(id); got != want {
				t.Fatalf("after %q, token %d %q: allowed %v, want %v", prefix, id, b, got, want)
			}
			if want {
				n++
			}
		}
		if n == 0 {
			t.Fatalf("after %q nothing is allowed", prefix)
		}
	}
}
