// Tests of the 404 for a model that is not loaded: the message names the
// loaded models, sorted, or says that none is.

package server

import (
	"net/http"
	"testing"
)

func TestModelNotFoundNamesLoaded(t *testing.T) {
	s, fm := testServer(t, Options{}, nil)
	for _, tc := range []struct {
		name, method, path, body, want string
	}{
		{"chat, none loaded", "POST", "/v1/chat/completions", `{"model":"x","messages":[{"role":"user","content":"hi"}]}`,
			`the model "x" is not loaded; no model is loaded`},
		{"chat", "POST", "/v1/chat/completions", `{"model":"x","messages":[{"role":"user","content":"hi"}]}`,
			`the model "x" is not loaded; loaded: alpha, beta`},
		{"completions", "POST", "/v1/completions", `{"model":"x","prompt":"a"}`, `the model "x" is not loaded; loaded: alpha, beta`},
		{"retrieve", "GET", "/v1/models/x", ``, `the model "x" is not loaded; loaded: alpha, beta`},
		{"unload", "POST", "/models/unload", `{"model":"x"}`, `the model "x" is not loaded; loaded: alpha, beta`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := do(s, tc.method, tc.path, tc.body)
			if rec.Code != http.StatusNotFound {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if e := decodeError(t, rec.Body.Bytes()); e.Message != tc.want || e.Param != "model" {
				t.Errorf("error %+v, want message %q", e, tc.want)
			}
		})
		if tc.name == "chat, none loaded" {
			fm.add("beta", newFakeGen())
			fm.add("alpha", newFakeGen())
		}
	}
}
