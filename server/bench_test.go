// Benchmarks of the server's own cost per generated token: a fake generator
// emits deltas as fast as the handler takes them, so the time is JSON
// encoding, SSE framing, metrics and flushing.

package server

import (
	"net/http/httptest"
	"strings"
	"testing"
)

// benchTokens is the number of deltas per benchmarked request.
const benchTokens = 256

func benchServer(b *testing.B) *Server {
	script := make([]Delta, benchTokens)
	for i := range script {
		script[i] = Delta{Content: "word ", Tokens: 1}
	}
	fm := newFakeManager()
	fm.add("m", newFakeGen(script...))
	s := New(Options{Models: fm})
	s.SetState(StateReady)
	return s
}

func benchRequest(b *testing.B, s *Server, body string) {
	for b.Loop() {
		req := httptest.NewRequest("POST", "/v1/chat/completions", strings.NewReader(body))
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchTokens), "ns/token")
}

func BenchmarkChatStream(b *testing.B) {
	benchRequest(b, benchServer(b), `{"model":"m","stream":true,"stream_options":{"include_usage":true},"messages":[{"role":"user","content":"hi"}]}`)
}

func BenchmarkChatNonStreaming(b *testing.B) {
	benchRequest(b, benchServer(b), `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
}
