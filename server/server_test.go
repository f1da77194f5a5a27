// HTTP contract tests: every bad request gets its status and OpenAI error
// type, and the happy paths (chat, streaming, completions, model
// management, health, metrics) have the documented shape.

package server

import (
	"bufio"
	"bytes"
	"errors"

	"encoding/json"
	"io"

	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helexa/helexa/api"
)

// testServer builds a server over a fake manager holding model "m" with gen.
func testServer(t *testing.T, o Options, gen *fakeGen) (*Server, *fakeManager) {
	t.Helper()
	fm := newFakeManager()
	if gen != nil {
		fm.add("m", gen)
	}
	o.Models = fm
	s := New(o)
	s.SetState(StateReady)
	return s, fm
}

// do sends a request to the handler and returns the recorder.
func do(s *Server, method, path, body string, hdr ...string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

// decodeError decodes an OpenAI error body.
func decodeError(t *testing.T, b []byte) *api.Error {
	t.Helper()
	var er api.ErrorResponse
	if err := json.Unmarshal(b, &er); err != nil || er.Error == nil {
		t.Fatalf("not an error body: %s (%v)", b, err)
	}
	return er.Error
}

// sseEvents splits an event stream into its data payloads.
func sseEvents(t *testing.T, r io.Reader) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "" {
			continue
		}
		data, ok := strings.CutPrefix(line, "data: ")
		if !ok {
			t.Fatalf("unexpected SSE line %q", line)
		}
		out = append(out, data)
	}
	return out
}

const chatBody = `{"model":"m","messages":[{"role":"user","content":"hi"}]}`

func TestContractErrors(t *testing.T) {
	big := `{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("x", 2048) + `"}]}`
	cases := []struct {
		name       string
		opts       Options
		gen        *fakeGen
		method     string
		path, body string
		hdr        []string
		status     int
		typ, code  string
		param      string
	}{
		{name: "malformed json", method: "POST", path: "/v1/chat/completions", body: `{"model":`,
			status: 400, typ: api.TypeInvalidRequest},
		{name: "not an object", method: "POST", path: "/v1/chat/completions", body: `"hi"`,
			status: 400, typ: api.TypeInvalidRequest},
		{name: "wrong field type", method: "POST", path: "/v1/chat/completions",
			body:   `{"model":"m","messages":[{"role":"user","content":"hi"}],"max_tokens":"ten"}`,
			status: 400, typ: api.TypeInvalidRequest, param: "max_tokens"},
		{name: "temperature out of range", method: "POST", path: "/v1/chat/completions",
			body:   `{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":9}`,
			status: 400, typ: api.TypeInvalidRequest, param: "temperature"},
		{name: "n greater than eight", method: "POST", path: "/v1/chat/completions",
			body:   `{"model":"m","messages":[{"role":"user","content":"hi"}],"n":9}`,
			status: 400, typ: api.TypeInvalidRequest, param: "n"},
		{name: "unknown model", method: "POST", path: "/v1/chat/completions",
			body:   `{"model":"nope","messages":[{"role":"user","content":"hi"}]}`,
			status: 404, typ: api.TypeInvalidRequest, code: api.CodeModelNotFound, param: "model"},
		{name: "unknown model completions", method: "POST", path: "/v1/completions",
			body: `{"model":"nope","prompt":"x"}`, status: 404, typ: api.TypeInvalidRequest, code: api.CodeModelNotFound},
		{name: "context length", gen: &fakeGen{err: &ContextLengthError{Prompt: 120, Requested: 50, Ctx: 128}},
			method: "POST", path: "/v1/chat/completions", body: chatBody,
			status: 400, typ: api.TypeInvalidRequest, code: api.CodeContextLengthExceeded},
		{name: "context length streaming", gen: &fakeGen{err: &ContextLengthError{Prompt: 120, Requested: 50, Ctx: 128}},
			method: "POST", path: "/v1/chat/completions",
			body:   `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]}`,
			status: 400, typ: api.TypeInvalidRequest, code: api.CodeContextLengthExceeded},
		{name: "body too large", opts: Options{MaxBodyBytes: 1024}, method: "POST", path: "/v1/chat/completions",
			body: big, status: 413, typ: api.TypeInvalidRequest, code: api.CodeRequestTooLarge},
		{name: "missing api key", opts: Options{APIKeys: []string{"sekrit"}}, method: "POST",
			path: "/v1/chat/completions", body: chatBody, status: 401, typ: api.TypeInvalidRequest, code: api.CodeInvalidAPIKey},
		{name: "wrong api key", opts: Options{APIKeys: []string{"sekrit"}}, method: "GET", path: "/v1/models",
			hdr: []string{"Authorization", "Bearer sekrit2"}, status: 401, typ: api.TypeInvalidRequest, code: api.CodeInvalidAPIKey},
		{name: "api key on metrics", opts: Options{APIKeys: []string{"sekrit"}}, method: "GET", path: "/metrics",
			status: 401, typ: api.TypeInvalidRequest, code: api.CodeInvalidAPIKey},
		{name: "generator failure", gen: &fakeGen{err: errFake}, method: "POST", path: "/v1/chat/completions",
			body: chatBody, status: 500, typ: api.TypeServer},
		{name: "panic", gen: &fakeGen{panics: true}, method: "POST", path: "/v1/chat/completions",
			body: chatBody, status: 500, typ: api.TypeServer},
		{name: "unknown route", method: "GET", path: "/v2/things", status: 404, typ: api.TypeInvalidRequest},
		{name: "wrong method", method: "GET", path: "/v1/chat/completions", status: 405, typ: api.TypeInvalidRequest},
		{name: "load without model", method: "POST", path: "/models/load", body: `{}`, status: 400,
			typ: api.TypeInvalidRequest, param: "model"},
		{name: "load bad device", method: "POST", path: "/models/load", body: `{"model":"x","device":"tpu"}`,
			status: 400, typ: api.TypeInvalidRequest, param: "device"},
		{name: "load missing model", method: "POST", path: "/models/load", body: `{"model":"missing/repo:Q8_0"}`,
			status: 404, typ: api.TypeInvalidRequest, code: api.CodeModelNotFound},
		{name: "load failure", method: "POST", path: "/models/load", body: `{"model":"fail.gguf"}`,
			status: 500, typ: api.TypeServer},
		{name: "unload unknown", method: "POST", path: "/models/unload", body: `{"model":"nope"}`,
			status: 404, typ: api.TypeInvalidRequest, code: api.CodeModelNotFound},
		{name: "endpoint unknown", method: "GET", path: "/models/nope/endpoint", status: 404,
			typ: api.TypeInvalidRequest, code: api.CodeModelNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gen := tc.gen
			if gen == nil {
				gen = newFakeGen(Delta{Content: "x", Tokens: 1})
			} else if gen.started == nil {
				gen.started, gen.finished = make(chan struct{}), make(chan struct{}, 8)
			}
			s, _ := testServer(t, tc.opts, gen)
			rec := do(s, tc.method, tc.path, tc.body, tc.hdr...)
			if rec.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", rec.Code, tc.status, rec.Body)
			}
			e := decodeError(t, rec.Body.Bytes())
			if e.Type != tc.typ {
				t.Errorf("type %q, want %q", e.Type, tc.typ)
			}
			if tc.code != "" && e.Code != tc.code {
				t.Errorf("code %q, want %q", e.Code, tc.code)
			}
			if tc.param != "" && e.Param != tc.param {
				t.Errorf("param %q, want %q", e.Param, tc.param)
			}
			if e.Message == "" {
				t.Errorf("empty message")
			}
			if tc.code == api.CodeContextLengthExceeded && (e.NPromptTokens != 120 || e.NCtx != 128) {
				t.Errorf("n_prompt_tokens %d n_ctx %d, want 120 and 128", e.NPromptTokens, e.NCtx)
			}
		})
	}
}

func TestAPIKeys(t *testing.T) {
	s, _ := testServer(t, Options{APIKeys: []string{"k1", "k2"}}, newFakeGen(Delta{Content: "x"}))
	if rec := do(s, "GET", "/health", ""); rec.Code != 200 {
		t.Errorf("/health needs no key, got %d", rec.Code)
	}
	for _, h := range []string{"Bearer k1", "Bearer k2", "bearer k1"} {
		if rec := do(s, "GET", "/v1/models", "", "Authorization", h); rec.Code != 200 {
			t.Errorf("Authorization %q: status %d", h, rec.Code)
		}
	}
	for _, h := range []string{"", "Bearer", "Bearer k3", "Bearer k1x"} {
		if rec := do(s, "GET", "/v1/models", "", "Authorization", h); rec.Code != 401 {
			t.Errorf("Authorization %q accepted: %d", h, rec.Code)
		}
	}
	if rec := do(s, "GET", "/v1/models", "", "Authorization", "Basic azE6"); rec.Code != 401 {
		t.Errorf("basic auth accepted: %d", rec.Code)
	}
}

// TestMetricsAuth checks that /metrics needs a key like every other route
// by default, and that OpenMetrics opens it alone: the OpenAI and management
// routes still answer 401 without a key.
func TestMetricsAuth(t *testing.T) {
	keyed, _ := testServer(t, Options{APIKeys: []string{"k1"}}, newFakeGen(Delta{Content: "x"}))
	if rec := do(keyed, "GET", "/metrics", ""); rec.Code != 401 {
		t.Errorf("default: /metrics without a key: status %d, want 401", rec.Code)
	}
	if rec := do(keyed, "GET", "/metrics", "", "Authorization", "Bearer k1"); rec.Code != 200 {
		t.Errorf("default: /metrics with the key: status %d, want 200", rec.Code)
	}

	open, _ := testServer(t, Options{APIKeys: []string{"k1"}, OpenMetrics: true}, newFakeGen(Delta{Content: "x"}))
	rec := do(open, "GET", "/metrics", "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "neuron_build_info") {
		t.Errorf("open metrics: /metrics without a key: status %d, body has neuron_build_info: %v",
			rec.Code, strings.Contains(rec.Body.String(), "neuron_build_info"))
	}
	for _, r := range []struct{ method, path, body string }{
		{"GET", "/v1/models", ""},
		{"POST", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`},
		{"GET", "/models", ""},
		{"POST", "/models/load", `{"model":"m"}`},
		{"POST", "/models/unload", `{"model":"m"}`},
	} {
		if rec := do(open, r.method, r.path, r.body); rec.Code != 401 {
			t.Errorf("open metrics: %s %s without a key: status %d, want 401", r.method, r.path, rec.Code)
		}
	}
	if rec := do(open, "GET", "/v1/models", "", "Authorization", "Bearer k1"); rec.Code != 200 {
		t.Errorf("open metrics: /v1/models with the key: status %d, want 200", rec.Code)
	}
}

func TestChatNonStreaming(t *testing.T) {
	gen := newFakeGen(
		Delta{Reasoning: "think", Tokens: 2},
		Delta{Content: "Hel", Tokens: 1},
		Delta{Content: "lo", Tokens: 1},
	)
	s, _ := testServer(t, Options{}, gen)
	rec := do(s, "POST", "/v1/chat/completions",
		`{"model":"m","messages":[{"role":"user","content":"hi"}],"temperature":0.2,"seed":5,"max_tokens":9,
		 "stop":["x"],"logit_bias":{"3":-100},"response_format":{"type":"json_object"},
		 "chat_template_kwargs":{"enable_thinking":false}}`)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var cc api.ChatCompletion
	if err := json.Unmarshal(rec.Body.Bytes(), &cc); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(cc.ID, "chatcmpl-") || cc.Object != "chat.completion" || cc.Model != "m" || cc.Created == 0 {
		t.Errorf("envelope %+v", cc)
	}
	if len(cc.Choices) != 1 {
		t.Fatalf("choices %d", len(cc.Choices))
	}
	ch := cc.Choices[0]
	if ch.Message.Role != "assistant" || ch.Message.Content == nil || *ch.Message.Content != "Hello" ||
		ch.Message.ReasoningContent != "think" || ch.FinishReason != "stop" {
		t.Errorf("choice %+v", ch)
	}
	if cc.Usage == nil || cc.Usage.PromptTokens != 7 || cc.Usage.CompletionTokens != 3 || cc.Usage.TotalTokens != 10 {
		t.Errorf("usage %+v", cc.Usage)
	}
	req := gen.lastReq.Load()
	if req.Sampling.Temperature != 0.2 || req.Sampling.Seed == nil || *req.Sampling.Seed != 5 || req.MaxTokens != 9 ||
		req.Sampling.TopP != 1 || req.Sampling.LogitBias[3] != -100 || !req.JSONMode || req.EnableThinking == nil ||
		*req.EnableThinking || len(req.Stop) != 1 {
		t.Errorf("generate request %+v", req)
	}
	if rec.Header().Get("X-Request-Id") == "" {
		t.Errorf("no X-Request-Id")
	}
}

func TestToolChoice(t *testing.T) {
	tools := `"tools":[{"type":"function","function":{"name":"a"}},{"type":"function","function":{"name":"b"}}]`
	cases := []struct {
		name, choice string
		tools        []string
		want         string
	}{
		{"absent", ``, []string{"a", "b"}, ""},
		{"auto", `,"tool_choice":"auto"`, []string{"a", "b"}, "auto"},
		{"none", `,"tool_choice":"none"`, nil, "none"},
		{"named", `,"tool_choice":{"type":"function","function":{"name":"b"}}`, []string{"b"}, "b"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			gen := newFakeGen(Delta{ToolCalls: []api.ToolCall{{Function: api.FunctionCall{Name: "b", Arguments: `{"x":1}`}}}})
			gen.result.FinishReason = "tool_calls"
			s, _ := testServer(t, Options{}, gen)
			rec := do(s, "POST", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}],`+tools+tc.choice+`}`)
			if rec.Code != 200 {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			req := gen.lastReq.Load()
			var names []string
			for _, tl := range req.Tools {
				names = append(names, tl.Function.Name)
			}
			if strings.Join(names, ",") != strings.Join(tc.tools, ",") || req.ToolChoice != tc.want {
				t.Errorf("tools %v choice %q, want %v %q", names, req.ToolChoice, tc.tools, tc.want)
			}
			var cc api.ChatCompletion
			json.Unmarshal(rec.Body.Bytes(), &cc)
			msg := cc.Choices[0].Message
			if msg.Content != nil || len(msg.ToolCalls) != 1 || !strings.HasPrefix(msg.ToolCalls[0].ID, "call_") ||
				msg.ToolCalls[0].Type != "function" || msg.ToolCalls[0].Index != nil || cc.Choices[0].FinishReason != "tool_calls" {
				t.Errorf("message %s", rec.Body)
			}
		})
	}
}

func TestChatStreaming(t *testing.T) {
	gen := newFakeGen(
		Delta{Reasoning: "hmm", Tokens: 1},
		Delta{Content: "Hi", Tokens: 1},
		Delta{ToolCalls: []api.ToolCall{{Function: api.FunctionCall{Name: "f", Arguments: "{}"}}}, Tokens: 5},
		Delta{ToolCalls: []api.ToolCall{{Function: api.FunctionCall{Name: "g", Arguments: "{}"}}}, Tokens: 5},
	)
	gen.result.FinishReason = "tool_calls"
	s, _ := testServer(t, Options{}, gen)
	for _, includeUsage := range []bool{false, true} {
		body := `{"model":"m","stream":true,"messages":[{"role":"user","content":"hi"}]`
		if includeUsage {
			body += `,"stream_options":{"include_usage":true}`
		}
		rec := do(s, "POST", "/v1/chat/completions", body+`}`)
		if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/event-stream") {
			t.Fatalf("status %d type %q", rec.Code, rec.Header().Get("Content-Type"))
		}
		events := sseEvents(t, rec.Body)
		want := 6 // role, reasoning, content, 2 tool calls, finish
		if includeUsage {
			want++
		}
		if len(events) != want+1 || events[len(events)-1] != "[DONE]" {
			t.Fatalf("include_usage=%v: %d events, want %d + [DONE]: %q", includeUsage, len(events), want, events)
		}
		var chunks []api.ChatCompletionChunk
		for _, e := range events[:len(events)-1] {
			var ch api.ChatCompletionChunk
			if err := json.Unmarshal([]byte(e), &ch); err != nil {
				t.Fatalf("chunk %s: %v", e, err)
			}
			chunks = append(chunks, ch)
		}
		for _, ch := range chunks {
			if ch.ID != chunks[0].ID || ch.Object != "chat.completion.chunk" || ch.Model != "m" || ch.Created != chunks[0].Created {
				t.Errorf("chunk envelope differs: %+v vs %+v", ch, chunks[0])
			}
		}
		if d := chunks[0].Choices[0].Delta; d.Role != "assistant" || d.Content == nil || *d.Content != "" {
			t.Errorf("first chunk %+v", d)
		}
		if d := chunks[1].Choices[0].Delta; d.ReasoningContent != "hmm" || d.Content != nil {
			t.Errorf("reasoning chunk %+v", d)
		}
		if d := chunks[2].Choices[0].Delta; d.Content == nil || *d.Content != "Hi" {
			t.Errorf("content chunk %+v", d)
		}
		for i, ci := range []int{3, 4} {
			tc := chunks[ci].Choices[0].Delta.ToolCalls
			if len(tc) != 1 || tc[0].Index == nil || *tc[0].Index != i || tc[0].ID == "" || tc[0].Type != "function" {
				t.Errorf("tool call chunk %d: %+v", ci, tc)
			}
		}
		for _, ch := range chunks[:5] {
			if ch.Choices[0].FinishReason != nil || ch.Usage != nil {
				t.Errorf("finish_reason or usage before the end: %+v", ch)
			}
		}
		fin := chunks[5].Choices[0]
		if fin.FinishReason == nil || *fin.FinishReason != "tool_calls" {
			t.Errorf("final chunk %+v", fin)
		}
		if includeUsage {
			u := chunks[6]
			if u.Choices == nil || len(u.Choices) != 0 || u.Usage == nil || u.Usage.CompletionTokens != 4 || u.Usage.TotalTokens != 11 {
				t.Errorf("usage chunk %+v", u)
			}
			if !strings.Contains(events[6], `"choices":[]`) {
				t.Errorf("usage chunk must carry an empty choices list: %s", events[6])
			}
		}
	}
}

func TestCompletions(t *testing.T) {
	gen := newFakeGen(Delta{Content: "ab", Tokens: 1}, Delta{Content: "c", Tokens: 1})
	gen.result.FinishReason = "length"
	s, _ := testServer(t, Options{}, gen)
	rec := do(s, "POST", "/v1/completions", `{"model":"m","prompt":"x"}`)
	if rec.Code != 200 {
		t.Fatalf("status %d: %s", rec.Code, rec.Body)
	}
	var cp api.Completion
	json.Unmarshal(rec.Body.Bytes(), &cp)
	if cp.Object != "text_completion" || cp.Choices[0].Text != "abc" || *cp.Choices[0].FinishReason != "length" || cp.Usage.TotalTokens != 9 {
		t.Errorf("completion %s", rec.Body)
	}
	if req := gen.lastReq.Load(); req.Prompt != "x" || req.MaxTokens != 16 || req.Messages != nil {
		t.Errorf("request %+v", req)
	}
	rec = do(s, "POST", "/v1/completions", `{"model":"m","prompt":[1,2],"stream":true,"stream_options":{"include_usage":true}}`)
	events := sseEvents(t, rec.Body)
	if len(events) != 5 || events[4] != "[DONE]" {
		t.Fatalf("events %q", events)
	}
	var texts []string
	for _, e := range events[:3] {
		var ch api.Completion
		json.Unmarshal([]byte(e), &ch)
		texts = append(texts, ch.Choices[0].Text)
		if ch.ID != cp.ID && !strings.HasPrefix(ch.ID, "cmpl-") {
			t.Errorf("id %q", ch.ID)
		}
	}
	if strings.Join(texts, "|") != "ab|c|" || !strings.Contains(events[3], `"choices":[]`) {
		t.Errorf("stream texts %q, usage %s", texts, events[3])
	}
	if req := gen.lastReq.Load(); len(req.Tokens) != 2 {
		t.Errorf("tokens not passed: %+v", req)
	}
}

func TestHealthStates(t *testing.T) {
	s, _ := testServer(t, Options{}, nil)
	for _, tc := range []struct {
		st     State
		status int
	}{{StateStarting, 503}, {StateReady, 200}, {StateDraining, 503}} {
		s.SetState(tc.st)
		rec := do(s, "GET", "/health", "")
		if rec.Code != tc.status {
			t.Errorf("state %d: status %d, want %d", tc.st, rec.Code, tc.status)
		}
		if tc.status == 503 {
			if decodeError(t, rec.Body.Bytes()).Type != api.TypeUnavailable || rec.Header().Get("Retry-After") == "" {
				t.Errorf("state %d: %s", tc.st, rec.Body)
			}
		} else if strings.TrimSpace(rec.Body.String()) != `{"status":"ok"}` {
			t.Errorf("health body %s", rec.Body)
		}
	}
}

func TestModelManagement(t *testing.T) {
	s, fm := testServer(t, Options{}, nil)
	fm.loadDelay = 50 * time.Millisecond
	// Concurrent loads of one model share a single load.
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if rec := do(s, "POST", "/models/load", `{"model":"Qwen/Qwen3-0.6B-GGUF:Q8_0","ctx_size":512}`); rec.Code != 200 {
				t.Errorf("load: %d %s", rec.Code, rec.Body)
			}
		}()
	}
	wg.Wait()
	if n := fm.loads.Load(); n != 1 {
		t.Errorf("%d loads, want 1", n)
	}
	// Loading again is a no-op.
	rec := do(s, "POST", "/models/load", `{"model":"Qwen/Qwen3-0.6B-GGUF:Q8_0"}`)
	if rec.Code != 200 || fm.loads.Load() != 1 {
		t.Errorf("reload: %d, loads %d", rec.Code, fm.loads.Load())
	}
	var entry api.ModelEntry
	json.Unmarshal(rec.Body.Bytes(), &entry)
	if entry.ID != "Qwen/Qwen3-0.6B-GGUF:Q8_0" || entry.Status != api.StatusReady || entry.CtxSize != 128 {
		t.Errorf("entry %+v", entry)
	}
	if rec := do(s, "POST", "/models/load", `{"model":"/models/x.gguf","alias":"small"}`); rec.Code != 200 {
		t.Fatalf("alias load %d", rec.Code)
	}

	var list api.ModelsResponse
	json.Unmarshal(do(s, "GET", "/models", "").Body.Bytes(), &list)
	if len(list.Data) != 2 || list.Data[0].ID != "Qwen/Qwen3-0.6B-GGUF:Q8_0" || list.Data[1].ID != "small" {
		t.Errorf("/models %+v", list)
	}
	var ol api.ModelList
	json.Unmarshal(do(s, "GET", "/v1/models", "").Body.Bytes(), &ol)
	if ol.Object != "list" || len(ol.Data) != 2 || ol.Data[0].Object != "model" || ol.Data[1].ID != "small" {
		t.Errorf("/v1/models %+v", ol)
	}

	for _, path := range []string{"/v1/models/Qwen/Qwen3-0.6B-GGUF:Q8_0", "/v1/models/Qwen%2FQwen3-0.6B-GGUF:Q8_0"} {
		rec := do(s, "GET", path, "")
		var m api.Model
		json.Unmarshal(rec.Body.Bytes(), &m)
		if rec.Code != 200 || m.ID != "Qwen/Qwen3-0.6B-GGUF:Q8_0" || m.Object != "model" || m.OwnedBy != "neuron" {
			t.Errorf("GET %s: %d %s", path, rec.Code, rec.Body)
		}
	}
	if rec := do(s, "GET", "/v1/models/absent", ""); rec.Code != 404 || decodeError(t, rec.Body.Bytes()).Code != api.CodeModelNotFound {
		t.Errorf("GET /v1/models/absent: %d %s", rec.Code, rec.Body)
	}

	// The endpoint is the configured one, never the client's Host header.
	if rec := do(s, "GET", "/models/Qwen/Qwen3-0.6B-GGUF:Q8_0/endpoint", ""); rec.Code != 200 || strings.Contains(rec.Body.String(), "example.com") {
		t.Errorf("endpoint echoes the Host header: %s", rec.Body)
	}
	s.opts.AdvertiseURL = "http://neuron.example.com:13131/"
	rec = do(s, "GET", "/models/Qwen/Qwen3-0.6B-GGUF:Q8_0/endpoint", "")
	var ep api.EndpointResponse
	json.Unmarshal(rec.Body.Bytes(), &ep)
	if rec.Code != 200 || ep.ID != "Qwen/Qwen3-0.6B-GGUF:Q8_0" || ep.Endpoint != "http://neuron.example.com:13131/v1" {
		t.Errorf("endpoint %d %s", rec.Code, rec.Body)
	}
	if rec := do(s, "GET", "/models/Qwen%2FQwen3-0.6B-GGUF:Q8_0/endpoint", ""); rec.Code != 200 {
		t.Errorf("escaped endpoint %d %s", rec.Code, rec.Body)
	}

	if rec := do(s, "POST", "/models/unload", `{"model":"small"}`); rec.Code != 200 {
		t.Errorf("unload %d %s", rec.Code, rec.Body)
	}
	if ids, _ := fm.unloaded(); len(ids) != 1 || ids[0] != "small" {
		t.Errorf("unloaded %v", ids)
	}
	if rec := do(s, "POST", "/v1/chat/completions", `{"model":"small","messages":[{"role":"user","content":"x"}]}`); rec.Code != 404 {
		t.Errorf("chat to unloaded model: %d", rec.Code)
	}
}

func TestModelsListsLoading(t *testing.T) {
	s, fm := testServer(t, Options{}, nil)
	fm.loadDelay = time.Second
	done := make(chan struct{})
	go func() { do(s, "POST", "/models/load", `{"model":"slow.gguf"}`); close(done) }()
	deadline := time.Now().Add(2 * time.Second)
	for {
		var list api.ModelsResponse
		json.Unmarshal(do(s, "GET", "/models", "").Body.Bytes(), &list)
		if len(list.Data) == 1 && list.Data[0].Status == api.StatusLoading {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("loading model never listed: %+v", list)
		}
		time.Sleep(5 * time.Millisecond)
	}
	// Other requests are served while the load runs.
	if rec := do(s, "GET", "/v1/models", ""); rec.Code != 200 {
		t.Errorf("/v1/models during load: %d", rec.Code)
	}
	<-done
}

func TestMetrics(t *testing.T) {
	s, _ := testServer(t, Options{}, newFakeGen(Delta{Content: "a", Tokens: 1}, Delta{Content: "b", Tokens: 1}))
	do(s, "POST", "/v1/chat/completions", chatBody)
	do(s, "POST", "/v1/chat/completions", `{"model":"zz","messages":[{"role":"user","content":"x"}]}`)
	body := do(s, "GET", "/metrics", "").Body.String()
	for _, want := range []string{
		`neuron_http_requests_total{method="POST",route="/v1/chat/completions",status="200"} 1`,
		`neuron_http_requests_total{method="POST",route="/v1/chat/completions",status="404"} 1`,
		`neuron_prompt_tokens_total{model="m"} 7`,
		`neuron_generation_tokens_total{model="m"} 2`,
		`neuron_time_to_first_token_seconds_count{model="m"} 1`,
		`neuron_inter_token_latency_seconds_count{model="m"} 1`,
		`neuron_num_requests_waiting{model="m"} 0`,
		`neuron_num_requests_running{model="m"} 0`,
		`neuron_kv_cache_usage_ratio{model="m"} 0.25`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	do(s, "POST", "/models/load", `{"model":"x.gguf"}`)
	if body := do(s, "GET", "/metrics", "").Body.String(); !strings.Contains(body, `neuron_model_load_seconds{model="x.gguf"}`) {
		t.Errorf("no load time metric")
	}
}

func TestRequestLogLine(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	s, _ := testServer(t, Options{Logger: newTestLogger(&buf, &mu)}, newFakeGen(Delta{Content: "a", Tokens: 1}, Delta{Content: "b", Tokens: 1}))
	do(s, "POST", "/v1/chat/completions", chatBody, "X-Request-Id", "abc-123")
	mu.Lock()
	defer mu.Unlock()
	var line map[string]any
	if err := json.Unmarshal(bytes.TrimSpace(buf.Bytes()), &line); err != nil {
		t.Fatalf("log %q: %v", buf.String(), err)
	}
	for _, k := range []string{"model", "req_id", "prompt_tokens", "gen_tokens", "ttft_ms", "tok_per_s", "status"} {
		if _, ok := line[k]; !ok {
			t.Errorf("log line lacks %s: %s", k, buf.String())
		}
	}
	if line["req_id"] != "abc-123" || line["gen_tokens"] != float64(2) || line["model"] != "m" {
		t.Errorf("log line %v", line)
	}
}

// waitFor polls cond for up to two seconds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestDrainingRejectsNewGenerations(t *testing.T) {
	s, _ := testServer(t, Options{}, newFakeGen(Delta{Content: "a"}))
	s.SetState(StateDraining)
	rec := do(s, "POST", "/v1/chat/completions", chatBody)
	if rec.Code != 503 || rec.Header().Get("Retry-After") == "" || decodeError(t, rec.Body.Bytes()).Code != api.CodeShuttingDown {
		t.Errorf("status %d %s", rec.Code, rec.Body)
	}

}

func TestWithKind(t *testing.T) {
	err := WithKind(ErrModelNotFound, errors.New(`model "x" is not in the hub cache`))
	if !errors.Is(err, ErrModelNotFound) || err.Error() != `model "x" is not in the hub cache` {
		t.Errorf("WithKind: %v", err)
	}
	e := toAPIError(WithKind(ErrUnavailable, errors.New("hub unreachable")))
	if e.Status != 503 || e.Message != "hub unreachable" {
		t.Errorf("mapped to %+v", e)
	}
}

func TestPanicMidStream(t *testing.T) {
	gen := newFakeGen()
	gen.panicAfterFirst = true
	s, _ := testServer(t, Options{}, gen)
	rec := do(s, "POST", "/v1/chat/completions", streamBody)
	events := sseEvents(t, rec.Body)
	n := len(events)
	if rec.Code != 200 || n < 3 || events[n-1] != "[DONE]" || decodeErrorEvent(t, events[n-2]).Type != api.TypeServer {
		t.Fatalf("status %d events %q", rec.Code, events)
	}
	// The daemon lives on.
	if rec := do(s, "GET", "/v1/models", ""); rec.Code != 200 {
		t.Errorf("after a panic: %d", rec.Code)
	}
}

// decodeErrorEvent decodes an SSE error payload.
func decodeErrorEvent(t *testing.T, data string) *api.Error {
	t.Helper()
	return decodeError(t, []byte(data))
}

// TestModelsListsFailedDevice checks that a model whose device failed is
// listed as failed, with the reason.
func TestModelsListsFailedDevice(t *testing.T) {
	s, fm := testServer(t, Options{}, nil)
	fm.add("gpu-model", newFakeGen(Delta{Content: "x", Tokens: 1}))
	fm.mu.Lock()
	fm.models["gpu-model"].info.Error = "cuda:0 failed: CUDA_ERROR_ILLEGAL_ADDRESS"
	fm.mu.Unlock()
	var list api.ModelsResponse
	json.Unmarshal(do(s, "GET", "/models", "").Body.Bytes(), &list)
	if len(list.Data) != 1 || list.Data[0].Status != api.StatusFailed || !strings.Contains(list.Data[0].Error, "ILLEGAL_ADDRESS") {
		t.Fatalf("/models %+v, want gpu-model failed with the device's error", list)
	}
}

// TestIgnoreEOSAndCachedTokens checks the ignore_eos extension reaches the
// generator on both OpenAI routes, and that the generator's cached prompt
// tokens reach usage.prompt_tokens_details.
func TestIgnoreEOSAndCachedTokens(t *testing.T) {
	gen := newFakeGen(Delta{Content: "abc", Tokens: 3})
	gen.result.CachedTokens = 5
	s, _ := testServer(t, Options{}, gen)
	for _, c := range []struct{ path, body string }{
		{"/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]`},
		{"/v1/completions", `{"model":"m","prompt":"x"`},
	} {
		for _, on := range []bool{false, true} {
			body := c.body + `}`
			if on {
				body = c.body + `,"ignore_eos":true}`
			}
			rec := do(s, "POST", c.path, body)
			if rec.Code != 200 {
				t.Fatalf("%s: status %d: %s", c.path, rec.Code, rec.Body)
			}
			if got := gen.lastReq.Load().IgnoreEOS; got != on {
				t.Errorf("%s %s: IgnoreEOS %v", c.path, body, got)
			}
			var r struct{ Usage api.Usage }
			if err := json.Unmarshal(rec.Body.Bytes(), &r); err != nil || r.Usage.PromptTokensDetails == nil || r.Usage.PromptTokensDetails.CachedTokens != 5 {
				t.Errorf("%s: usage %s", c.path, rec.Body)
			}
		}
	}
}
