// Tests of the request guards: generation bodies bounded by the loaded
// contexts, CORS only for allowed origins on the OpenAI routes, JSON-only
// management endpoints, and a shared load cancelled once nobody waits.

package server

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helexa/helexa/api"
)

func TestGenerationBodyBoundedByContext(t *testing.T) {
	s, fm := testServer(t, Options{}, newFakeGen(Delta{Content: "x", Tokens: 1}))
	fm.mu.Lock()
	fm.models["m"].info.MaxPromptBytes = 1000 // a tiny context
	fm.mu.Unlock()
	big := `{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("a", 2<<20) + `"}]}`
	rec := do(s, "POST", "/v1/chat/completions", big)
	if rec.Code != http.StatusRequestEntityTooLarge || decodeError(t, rec.Body.Bytes()).Code != api.CodeRequestTooLarge {
		t.Errorf("2 MiB prompt for a tiny context: %d %s", rec.Code, rec.Body)
	}
	if rec := do(s, "POST", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`); rec.Code != 200 {
		t.Errorf("small prompt: %d %s", rec.Code, rec.Body)
	}
}

func TestCORS(t *testing.T) {
	s, _ := testServer(t, Options{CORSAllowedOrigins: []string{"https://app.example.com"}}, newFakeGen(Delta{Content: "x", Tokens: 1}))
	pre := func(path, origin string) *http.Response {
		rec := do(s, "OPTIONS", path, "", "Origin", origin, "Access-Control-Request-Method", "POST")
		return rec.Result()
	}
	if r := pre("/v1/chat/completions", "https://app.example.com"); r.StatusCode != 204 || r.Header.Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("allowed preflight: %d %v", r.StatusCode, r.Header)
	}
	if r := pre("/v1/chat/completions", "https://evil.example"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("other origin allowed: %v", r.Header)
	}
	if r := pre("/models/load", "https://app.example.com"); r.Header.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("management route allowed cross-site: %v", r.Header)
	}
	rec := do(s, "POST", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, "Origin", "https://app.example.com")
	if rec.Code != 200 || rec.Header().Get("Access-Control-Allow-Origin") != "https://app.example.com" {
		t.Errorf("allowed request: %d %v", rec.Code, rec.Header())
	}
	// No origins configured: no CORS at all.
	s2, _ := testServer(t, Options{}, newFakeGen(Delta{Content: "x", Tokens: 1}))
	if rec := do(s2, "POST", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`, "Origin", "https://app.example.com"); rec.Header().Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS without configured origins: %v", rec.Header())
	}
}

func TestLoadCancelledWhenNobodyWaits(t *testing.T) {
	s, fm := testServer(t, Options{}, nil)
	fm.loadDelay = 10 * time.Second
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() {
		_, err := s.Load(ctx, api.LoadRequest{Model: "slow"})
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	select {
	case err := <-errc:
		if err == nil {
			t.Errorf("load went through")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the load ran on with nobody waiting")
	}
	if len(fm.List()) != 0 {
		t.Errorf("model loaded for nobody")
	}
}

func TestMalformedEscapeInPathIsJSON(t *testing.T) {
	s, _ := testServer(t, Options{}, newFakeGen(Delta{Content: "x", Tokens: 1}))
	base := serve(t, s)
	for _, path := range []string{"/models/%zz/endpoint", "/v1/models/%zz", "/%"} {
		c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(c, "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", path)
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		c.Close()
		if resp.StatusCode != 400 || decodeError(t, b).Type != api.TypeInvalidRequest {
			t.Errorf("%s: %d %s", path, resp.StatusCode, b)
		}
	}
	// Valid targets, escaped ones included, are untouched.
	if resp, err := http.Get(base + "/v1/models/m"); err != nil || resp.StatusCode != 200 {
		t.Errorf("valid target: %v %v", resp, err)
	}
}

func TestDroppedStreamLogged499WithTokens(t *testing.T) {
	var buf strings.Builder
	var mu sync.Mutex
	script := make([]Delta, 200)
	for i := range script {
		script[i] = Delta{Content: "a", Tokens: 1}
	}
	gen := newFakeGen(script...)
	gen.delay = 5 * time.Millisecond
	s, _ := testServer(t, Options{Logger: newTestLogger(&buf, &mu)}, gen)
	base := serve(t, s)
	resp, err := post(context.Background(), base+"/v1/chat/completions", streamBody)
	if err != nil {
		t.Fatal(err)
	}
	r := bufio.NewReader(resp.Body)
	for range 6 { // a few events, then the client leaves
		if _, err := r.ReadString('\n'); err != nil {
			t.Fatal(err)
		}
	}
	resp.Body.Close()
	select {
	case <-gen.finished:
	case <-time.After(5 * time.Second):
		t.Fatal("generation went on after the client left")
	}
	waitFor(t, "request line", func() bool { mu.Lock(); defer mu.Unlock(); return strings.Contains(buf.String(), `"msg":"request"`) })
	mu.Lock()
	log := buf.String()
	mu.Unlock()
	var line struct {
		Status    int `json:"status"`
		GenTokens int `json:"gen_tokens"`
	}
	for _, l := range strings.Split(log, "\n") {
		if strings.Contains(l, `"msg":"request"`) {
			json.Unmarshal([]byte(l), &line)
		}
	}
	if line.Status != 499 || line.GenTokens == 0 || line.GenTokens >= len(script) {
		t.Errorf("dropped stream logged as %+v: %s", line, log)
	}
}
