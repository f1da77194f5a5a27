// Tests of the readiness contract the gateway relies on: the daemon listens
// before its default models load; meanwhile /health is 503
// {"status":"loading"}, /models lists every default model as loading, and a
// request for one gets 503 model_loading with Retry-After; once every model
// has been tried /health is 200, /models says ready or failed (with the
// error), and only then does systemd hear READY=1.

package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/helexa/helexa/api"
)

func TestDaemonReadinessWhileLoading(t *testing.T) {
	conn := listenNotify(t)

	fm := newFakeModels(1, time.Millisecond)
	fm.loadGate = make(chan struct{})
	sigs := make(chan os.Signal, 1)
	addr := make(chan net.Addr, 1)
	done := make(chan error, 1)
	cfg := &Config{Listen: "127.0.0.1:0", ShutdownTimeout: 5 * time.Second,
		DefaultModels: []DefaultModel{{Model: "a.gguf"}, {Model: "broken.gguf"}, {Model: "org/repo:Q8_0", Alias: "c"}}}
	d := &daemon{cfg: cfg, models: fm, log: slog.New(slog.DiscardHandler), signals: sigs, listening: func(a net.Addr) { addr <- a }}
	go func() { done <- d.run() }()
	var base string
	select {
	case a := <-addr:
		base = "http://" + a.String()
	case <-time.After(5 * time.Second):
		t.Fatal("the daemon did not listen while its models load")
	}
	get := func(method, path, body string) (int, string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}
	models := func() map[string]api.ModelEntry {
		t.Helper()
		_, body, _ := get("GET", "/models", "")
		var l api.ModelsResponse
		if err := json.Unmarshal([]byte(body), &l); err != nil {
			t.Fatalf("/models %s", body)
		}
		out := map[string]api.ModelEntry{}
		for _, m := range l.Data {
			out[m.ID] = m
		}
		return out
	}
	chat := func(model string) (int, string, http.Header) {
		return get("POST", "/v1/chat/completions", `{"model":"`+model+`","messages":[{"role":"user","content":"hi"}]}`)
	}

	// While loading.
	if status, body, _ := get("GET", "/health", ""); status != 503 || strings.TrimSpace(body) != `{"status":"loading"}` {
		t.Errorf("health while loading: %d %s", status, body)
	}
	if status, _, _ := get("HEAD", "/health", ""); status != 503 {
		t.Errorf("HEAD health while loading: %d", status)
	}
	ms := models()
	for _, id := range []string{"a.gguf", "broken.gguf", "c"} {
		if ms[id].Status != api.StatusLoading {
			t.Errorf("%s listed as %q while loading: %+v", id, ms[id].Status, ms)
		}
	}
	for _, id := range []string{"a.gguf", "c"} {
		if status, body, h := chat(id); status != 503 || errCode(body) != "model_loading" || h.Get("Retry-After") == "" {
			t.Errorf("chat to %s while loading: %d %s (Retry-After %q)", id, status, body, h.Get("Retry-After"))
		}
	}
	if status, body, _ := chat("unknown"); status != 404 || errCode(body) != api.CodeModelNotFound {
		t.Errorf("chat to an unknown model: %d %s", status, body)
	}
	conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
	buf := make([]byte, 512)
	for {
		n, err := conn.Read(buf)
		if err != nil {
			break
		}
		if strings.Contains(string(buf[:n]), "READY=1") {
			t.Fatal("READY=1 sent before the default models were tried")
		}
	}

	// Loading done.
	close(fm.loadGate)
	deadline := time.Now().Add(5 * time.Second)
	for {
		status, body, _ := get("GET", "/health", "")
		if status == 200 {
			if strings.TrimSpace(body) != `{"status":"ok"}` {
				t.Errorf("health body %s", body)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("health still %d", status)
		}
		time.Sleep(5 * time.Millisecond)
	}
	ms = models()
	if ms["a.gguf"].Status != api.StatusReady || ms["c"].Status != api.StatusReady ||
		ms["broken.gguf"].Status != api.StatusFailed || !strings.Contains(ms["broken.gguf"].Error, "broken model file") {
		t.Errorf("states after loading: %+v", ms)
	}
	if status, _, _ := chat("c"); status != 200 {
		t.Errorf("chat to c: %d", status)
	}
	if status, body, _ := chat("broken.gguf"); status != 503 || errCode(body) != "model_failed" || !strings.Contains(body, "broken model file") {
		t.Errorf("chat to the failed model: %d %s", status, body)
	}
	conn.SetReadDeadline(time.Now().Add(2 * time.Second))
	ready := false
	for !ready {
		n, err := conn.Read(buf)
		if err != nil {
			t.Fatalf("no READY=1 after loading: %v", err)
		}
		ready = strings.Contains(string(buf[:n]), "READY=1")
	}
	// Unloading a failed default model forgets it.
	if status, body, _ := get("POST", "/models/unload", `{"model":"broken.gguf"}`); status != 200 {
		t.Errorf("unload failed model: %d %s", status, body)
	}
	if _, ok := models()["broken.gguf"]; ok {
		t.Errorf("failed model still listed after its unload")
	}
	sigs <- os.Interrupt
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
}
