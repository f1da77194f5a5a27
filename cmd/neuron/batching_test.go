// This file tests continuous batching and prompt reuse through a real
// daemon: with the model's own max_parallel 2 (the daemon's is 4), two of three long streams run at once (the
// third waits) and GET /models shows the KV blocks they hold; a chat's
// second turn reports the prompt tokens it took from the cache; when all
// have ended, no block is held.

package main

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/internal/reftest"
)

func TestBatchingAndPromptReuseE2E(t *testing.T) {
	modelPath := reftest.Model(t, "mini-q8_0")
	base, _ := startEngine(t, &Config{
		MaxQueue:      4,
		Hub:           HubConfig{CacheDir: t.TempDir(), Offline: true},
		Engine:        EngineConfig{Device: "cpu", Threads: 1, CtxSize: 1024, MaxParallel: 4, StepTokens: 128},
		DefaultModels: []DefaultModel{{Model: modelPath, Alias: "mini", MaxParallel: 2, StepTokens: 64}}, // the model's own
	})
	models := func() api.ModelEntry {
		resp, err := http.Get(base + "/models")
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var l struct {
			Data []api.ModelEntry `json:"data"`
		}
		if err := json.NewDecoder(resp.Body).Decode(&l); err != nil || len(l.Data) != 1 {
			t.Fatalf("GET /models: %v, %+v", err, l)
		}
		return l.Data[0]
	}
	waitModels := func(what string, cond func(api.ModelEntry) bool) api.ModelEntry {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			m := models()
			if cond(m) {
				return m
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: last %+v", what, m)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	idle := waitModels("loaded", func(m api.ModelEntry) bool { return m.Status == api.StatusReady })
	if idle.MaxParallel != 2 || idle.KVBlocks == 0 || idle.KVBlockSize == 0 || idle.KVBlocksUsed != 0 {
		t.Fatalf("idle model %+v", idle)
	}

	// A chat, then its next turn: the second reuses the first's prompt.
	history := strings.Repeat("The quick brown fox jumps over the lazy dog. ", 12)
	turn := func(msgs string) api.Usage {
		body := `{"model":"mini","max_tokens":8,"temperature":0,"messages":` + msgs + `}`
		resp, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var c api.ChatCompletion
		if err := json.NewDecoder(resp.Body).Decode(&c); err != nil || resp.StatusCode != 200 || c.Usage == nil {
			t.Fatalf("chat: %s, %v, %+v", resp.Status, err, c)
		}
		return *c.Usage
	}
	first := turn(`[{"role":"user","content":"` + history + `"}]`)
	second := turn(`[{"role":"user","content":"` + history + `"},{"role":"assistant","content":"Yes."},{"role":"user","content":"And then?"}]`)
	if first.PromptTokensDetails == nil || first.PromptTokensDetails.CachedTokens != 0 {
		t.Errorf("first turn usage %+v", first)
	}
	if second.PromptTokensDetails == nil || second.PromptTokensDetails.CachedTokens < 64 ||
		second.PromptTokensDetails.CachedTokens >= second.PromptTokens {
		t.Errorf("second turn usage %+v (first %+v): the history was not reused", second, first)
	}

	// Three long streams: two run together, one waits.
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body := `{"model":"mini","stream":true,"max_tokens":900,"temperature":0,"logit_bias":` + banEOG(t, modelPath) +
		`,"messages":[{"role":"user","content":"count"}]}`
	ended := startStreams(ctx, base, body, 3)
	busy := waitModels("two running, one queued", func(m api.ModelEntry) bool {
		return m.Running == 2 && m.Queued == 1 && m.KVBlocksUsed > 0
	})
	t.Logf("idle %+v; busy %+v", idle, busy)
	cancel()
	for range 3 {
		select {
		case <-ended:
		case <-time.After(30 * time.Second):
			t.Fatal("a stream did not end after its client left")
		}
	}
	waitModels("back to idle", func(m api.ModelEntry) bool {
		return m.Running == 0 && m.Queued == 0 && m.KVBlocksUsed == 0 && m.KVCacheUsage == 0
	})
}
