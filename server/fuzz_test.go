// Fuzz test of the JSON endpoints: no body, however malformed, may produce a
// 5xx or a response that is not JSON.

package server

import (
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
)

func FuzzJSONBodies(f *testing.F) {
	seeds := []string{
		chatBody,
		streamBody,
		`{"model":"m","messages":[{"role":"user","content":[{"type":"text","text":"a"}]}],"tools":[{"type":"function","function":{"name":"f"}}],"tool_choice":"auto"}`,
		`{"model":"m","messages":[{"role":"assistant","content":null,"tool_calls":[{"id":"1","type":"function","function":{"name":"f","arguments":"{}"}}]},{"role":"tool","tool_call_id":"1","content":"ok"}]}`,
		`{"model":"m","prompt":"x","max_tokens":3,"logprobs":2}`,
		`{"model":"m","prompt":[[1,2,3]],"stream":true,"stream_options":{"include_usage":true}}`,
		`{"model":"m","messages":[{"role":"user","content":"x"}],"logit_bias":{"1":5},"stop":"a","seed":-1}`,
		`{"model":"x.gguf","ctx_size":64,"device":"cuda:1","alias":"a"}`,
		`{"model":"m","timeout_s":0.01}`,
		`{`, `[]`, `null`, `{"model":1e999}`,
	}
	for i, s := range seeds {
		f.Add(uint8(i), []byte(s))
	}
	fm := newFakeManager()
	fm.add("m", newFakeGen(Delta{Reasoning: "r", Tokens: 1}, Delta{Content: "c", Tokens: 1}))
	s := New(Options{Models: fm, MaxBodyBytes: 1 << 16})
	s.SetState(StateReady)
	paths := []string{"/v1/chat/completions", "/v1/completions", "/models/load", "/models/unload"}
	f.Fuzz(func(t *testing.T, route uint8, body []byte) {
		path := paths[int(route)%len(paths)]
		if path == "/models/load" || path == "/models/unload" {
			// Keep the fake's model set fixed: only exercise decoding.
			var v map[string]any
			if json.Unmarshal(body, &v) == nil {
				if m, _ := v["model"].(string); m != "" && !strings.HasPrefix(m, "missing") {
					return
				}
			}
		}
		req := httptest.NewRequest("POST", path, strings.NewReader(string(body)))
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("%s: status %d for %q: %s", path, rec.Code, body, rec.Body)
		}
		if rec.Code != 200 {
			var er struct {
				Error *struct {
					Message string `json:"message"`
					Type    string `json:"type"`
				} `json:"error"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &er); err != nil || er.Error == nil || er.Error.Message == "" || er.Error.Type == "" {
				t.Fatalf("%s: status %d with a body that is not an OpenAI error: %s", path, rec.Code, rec.Body)
			}
		}
	})
}
