// Tests of the engine adapter's pieces that need no model: download progress
// lines and the conversion of log probabilities.

package main

import (
	"log/slog"
	"strings"
	"testing"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/hub"
)

func TestProgressLogger(t *testing.T) {
	var logs syncBuffer
	m := &engineManager{log: slog.New(slog.NewJSONHandler(&logs, nil))}
	p := m.progressLogger()
	p(hub.Progress{File: "a.gguf", Done: 100, Total: 1000, BytesPerSec: 2e6})
	p(hub.Progress{File: "a.gguf", Done: 200, Total: 1000, BytesPerSec: 2e6})  // within progressEvery: dropped
	p(hub.Progress{File: "b.gguf", Done: 1, Total: 10})                        // another file: logged
	p(hub.Progress{File: "a.gguf", Done: 1000, Total: 1000, BytesPerSec: 2e6}) // completion: always logged
	lines := strings.Split(strings.TrimSpace(logs.String()), "\n")
	if len(lines) != 3 {
		t.Fatalf("%d lines, want 3:\n%s", len(lines), logs.String())
	}
	if !strings.Contains(lines[0], `"msg":"downloading","file":"a.gguf","done_bytes":100,"total_bytes":1000,"mb_per_s":2,"percent":10,"eta":"0s"`) {
		t.Errorf("progress line %s", lines[0])
	}
	if !strings.Contains(lines[2], `"msg":"download complete","file":"a.gguf"`) {
		t.Errorf("completion line %s", lines[2])
	}
}

func TestLogprobsConversion(t *testing.T) {
	got := logprobs([]engine.TokenLogprob{{Token: 5, Text: "hé", Logprob: -0.5,
		Top: []engine.TopLogprob{{Token: 5, Text: "hé", Logprob: -0.5}, {Token: 6, Text: "x", Logprob: -2}}}})
	if len(got) != 1 || got[0].Token != "hé" || got[0].Logprob != -0.5 || len(got[0].Bytes) != 3 || got[0].Bytes[1] != 0xc3 ||
		len(got[0].TopLogprobs) != 2 || got[0].TopLogprobs[1].Token != "x" || got[0].TopLogprobs[1].Logprob != -2 {
		t.Errorf("converted %+v", got)
	}
	if logprobs(nil) != nil {
		t.Errorf("no logprobs must stay nil")
	}
}
