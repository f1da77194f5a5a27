// Tests of models on demand with a real daemon and the reference models:
// auto_load loads a catalog model on its first request, concurrent first
// requests share one load, a load that outlasts load_timeout answers 503
// with Retry-After, keep_alive unloads idle models (never under an open
// stream, never the pinned default), LRU eviction at max_loaded_models, a
// load that cannot fit answers 503 insufficient_memory while the loaded
// models serve, and a fixed set (auto_load and evict off) keeps its 409.

package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/internal/reftest"
)

// startOnDemand starts a daemon with auto_load and a catalog of two
// reference models, "a" and "b", and stops it at the end of the test.
func startOnDemand(t *testing.T, loadTimeout time.Duration, tweak ...func(*Config)) (string, *syncBuffer) {
	t.Helper()
	a, b := reftest.Model(t, "mini-f32"), reftest.Model(t, "mini-q8_0")
	cfg := &Config{
		MaxQueue: 16,
		Hub:      HubConfig{CacheDir: t.TempDir(), Offline: true},
		Engine:   EngineConfig{Device: "cpu", Threads: 2, CtxSize: 256, LoadTimeout: loadTimeout},
		AutoLoad: true,
		Models:   []DefaultModel{{Model: a, Alias: "a"}, {Model: b, Alias: "b"}},
	}
	for _, f := range tweak {
		f(cfg)
	}
	return startEngine(t, cfg)
}

// chatOnce posts a short chat to model and returns the status and body.
func chatOnce(t *testing.T, base, model string) (int, http.Header, string) {
	t.Helper()
	body := `{"model":"` + model + `","max_tokens":4,"messages":[{"role":"user","content":"hi"}]}`
	resp, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Error(err)
		return 0, nil, ""
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, resp.Header, string(out)
}

func TestOnDemandCatalogLoad(t *testing.T) {
	base, logs := startOnDemand(t, 0)

	// Before any request, the catalog is listed and marked as not loaded.
	resp, err := http.Get(base + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	var list api.ModelList
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Data) != 2 || list.Data[0].ID != "a" || list.Data[0].Status != api.StatusNotLoaded ||
		list.Data[1].ID != "b" || list.Data[1].Status != api.StatusNotLoaded {
		t.Fatalf("GET /v1/models before any load: %+v", list.Data)
	}

	// GET /models too, which is what a cortex in front polls.
	if ids := catalogNow(t, base); !slices.Equal(ids, []string{"a", "b"}) {
		t.Errorf("GET /models lists %v as not loaded, want a and b", ids)
	}

	if resp, err := http.Get(base + "/v1/models/b"); err != nil {
		t.Error(err)
	} else {
		var m api.Model
		err := json.NewDecoder(resp.Body).Decode(&m)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || m.ID != "b" || m.Status != api.StatusNotLoaded {
			t.Errorf("GET /v1/models/b: %d %+v %v", resp.StatusCode, m, err)
		}
	}

	// Eight concurrent first requests for "a" all succeed on one load.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			if status, _, body := chatOnce(t, base, "a"); status != http.StatusOK {
				t.Errorf("first request for a: %d %s", status, body)
			}
		})
	}
	wg.Wait()
	if n := strings.Count(logs.String(), `"msg":"model loaded","model":"a"`); n != 1 {
		t.Errorf("model a loaded %d times, want 1", n)
	}
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `neuron_model_loads_total{model="a"} 1`) {
		t.Errorf("metrics do not count one load of a:\n%s", grepLines(string(metrics), "neuron_model_loads"))
	}

	// Now "a" is listed as loaded, "b" still as loadable.
	resp, err = http.Get(base + "/v1/models")
	if err != nil {
		t.Fatal(err)
	}
	list = api.ModelList{}
	err = json.NewDecoder(resp.Body).Decode(&list)
	resp.Body.Close()
	if err != nil || len(list.Data) != 2 || list.Data[0].ID != "a" || list.Data[0].Status != "" || list.Data[1].Status != api.StatusNotLoaded {
		t.Errorf("GET /v1/models after loading a: %+v %v", list.Data, err)
	}
	if ids := catalogNow(t, base); !slices.Equal(ids, []string{"b"}) {
		t.Errorf("GET /models lists %v as not loaded after loading a, want b", ids)
	}

	// A name that is neither in the catalog nor a model file is the usual 404.
	if status, _, body := chatOnce(t, base, "no-such-model"); status != http.StatusNotFound {
		t.Errorf("unknown model: %d %s", status, body)
	}
}

func TestOnDemandLoadTimeout(t *testing.T) {
	base, _ := startOnDemand(t, time.Nanosecond)
	status, h, body := chatOnce(t, base, "b")
	if status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || !strings.Contains(body, "load timeout") {
		t.Errorf("load past load_timeout: %d Retry-After %q %s", status, h.Get("Retry-After"), body)
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

func TestOnDemandConfig(t *testing.T) {
	c, err := parseConfig(t, "auto_load = true\n[[models]]\nmodel = \"/m/a.gguf\"\nalias = \"a\"\nctx_size = 512\n", nil)
	if err != nil {
		t.Fatal(err)
	}
	if !c.AutoLoad || len(c.Models) != 1 || c.Models[0].Alias != "a" || c.Models[0].CtxSize != 512 {
		t.Errorf("auto_load and [[models]] not read: %+v %+v", c.AutoLoad, c.Models)
	}
	if _, err := parseConfig(t, "[[models]]\nmodel = \"/m/a.gguf\"\naliass = \"a\"\n", nil); err == nil || !strings.Contains(err.Error(), "models[0].aliass") {
		t.Errorf("unknown catalog key: %v", err)
	}
	if _, err := parseConfig(t, "[[models]]\nalias = \"a\"\n", nil); err == nil || !strings.Contains(err.Error(), "models[0].model") {
		t.Errorf("catalog entry without model: %v", err)
	}
}

func TestKeepAliveConfig(t *testing.T) {
	for in, want := range map[string]time.Duration{`"5m"`: 5 * time.Minute, `"-1s"`: -1, `"0s"`: 0, `"0"`: 0,
		`"-1"`: -1, `-1`: -1, `30`: 30 * time.Second, `"90"`: 90 * time.Second} {
		c, err := parseConfig(t, "keep_alive = "+in+"\n", nil)
		if err != nil {
			t.Errorf("keep_alive = %s: %v", in, err)
			continue
		}
		if got, err := c.keepAlive(); err != nil || got != want {
			t.Errorf("keep_alive = %s: got %v %v, want %v", in, got, err, want)
		}
	}
	if _, err := parseConfig(t, "keep_alive = \"soon\"\n", nil); err == nil || !strings.Contains(err.Error(), "keep_alive") {
		t.Errorf("bad keep_alive: %v", err)
	}
	// A configuration built without defaults keeps models for ever.
	if got, err := (&Config{}).keepAlive(); err != nil || got >= 0 {
		t.Errorf("empty keep_alive: %v %v", got, err)
	}
}

// modelList returns GET /models' entries.
func modelList(t *testing.T, base string) []api.ModelEntry {
	t.Helper()
	resp, err := http.Get(base + "/models")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var list api.ModelsResponse
	if err := json.NewDecoder(resp.Body).Decode(&list); err != nil {
		t.Fatal(err)
	}
	return list.Data
}

// modelsNow returns GET /models' entries by id, less the catalog models
// listed as not loaded.
func modelsNow(t *testing.T, base string) map[string]api.ModelEntry {
	t.Helper()
	out := map[string]api.ModelEntry{}
	for _, e := range modelList(t, base) {
		if e.Status != api.StatusNotLoaded {
			out[e.ID] = e
		}
	}
	return out
}

// catalogNow returns the ids GET /models lists as not loaded.
func catalogNow(t *testing.T, base string) []string {
	t.Helper()
	var out []string
	for _, e := range modelList(t, base) {
		if e.Status == api.StatusNotLoaded {
			out = append(out, e.ID)
		}
	}
	return out
}

// waitLog polls the daemon's log for a line containing s (the log line of
// an unload follows the model's removal); false after limit.
func waitLog(logs *syncBuffer, s string, limit time.Duration) bool {
	for start := time.Now(); !strings.Contains(logs.String(), s); time.Sleep(10 * time.Millisecond) {
		if time.Since(start) > limit {
			return false
		}
	}
	return true
}

// waitUnloaded polls GET /models until id is gone; false after limit.
func waitUnloaded(t *testing.T, base, id string, limit time.Duration) bool {
	t.Helper()
	for start := time.Now(); time.Since(start) < limit; time.Sleep(20 * time.Millisecond) {
		if _, ok := modelsNow(t, base)[id]; !ok {
			return true
		}
	}
	return false
}

func TestOnDemandKeepAlive(t *testing.T) {
	pinned := reftest.Model(t, "mini-f16")
	base, logs := startOnDemand(t, 0, func(c *Config) {
		c.KeepAlive = "300ms"
		c.DefaultModels = []DefaultModel{{Model: pinned, Alias: "pinned"}}
	})
	before := time.Now()
	if status, _, body := chatOnce(t, base, "a"); status != http.StatusOK {
		t.Fatalf("chat a: %d %s", status, body)
	}
	ms := modelsNow(t, base)
	a, p := ms["a"], ms["pinned"]
	if a.Pinned || a.LastUsed == nil || a.LastUsed.Before(before) || a.IdleDeadline == nil ||
		a.IdleDeadline.Sub(*a.LastUsed) != 300*time.Millisecond {
		t.Errorf("a in GET /models: pinned %v last_used %v idle_deadline %v", a.Pinned, a.LastUsed, a.IdleDeadline)
	}
	if !p.Pinned || p.IdleDeadline != nil {
		t.Errorf("default model in GET /models: pinned %v idle_deadline %v", p.Pinned, p.IdleDeadline)
	}
	if !waitUnloaded(t, base, "a", 10*time.Second) {
		t.Fatal("a still loaded 10s after its 300ms keep_alive")
	}
	if !waitLog(logs, `"msg":"idle model unloaded","model":"a"`, 5*time.Second) {
		t.Error("idle unload not logged")
	}
	resp, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(metrics), `neuron_model_idle_unloads_total{model="a"} 1`) {
		t.Errorf("idle unload not counted:\n%s", grepLines(string(metrics), "idle_unloads"))
	}
	// The pinned default model outlives several keep_alives.
	if _, ok := modelsNow(t, base)["pinned"]; !ok {
		t.Error("the pinned default model was unloaded")
	}
	// keep_alive 0 in a request: unloaded right after it; -1: kept.
	body := `{"model":"b","max_tokens":2,"keep_alive":0,"messages":[{"role":"user","content":"hi"}]}`
	resp, err = http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !waitUnloaded(t, base, "b", 10*time.Second) {
		t.Errorf("keep_alive 0: status %d, b not unloaded", resp.StatusCode)
	}
	body = `{"model":"a","max_tokens":2,"keep_alive":"-1s","messages":[{"role":"user","content":"hi"}]}`
	resp, err = http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	time.Sleep(600 * time.Millisecond)
	if e, ok := modelsNow(t, base)["a"]; resp.StatusCode != http.StatusOK || !ok || e.IdleDeadline != nil {
		t.Errorf("keep_alive -1: status %d, a loaded %v, idle deadline %v", resp.StatusCode, ok, e.IdleDeadline)
	}
	// A bad keep_alive is a 400 naming the field.
	body = `{"model":"a","keep_alive":"soon","messages":[{"role":"user","content":"hi"}]}`
	resp, err = http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(out), `"param":"keep_alive"`) {
		t.Errorf("bad keep_alive: %d %s", resp.StatusCode, out)
	}
}

// An open stream keeps its real model loaded past keep_alive; once it ends
// the model is unloaded. The client reads one event and then nothing, with
// a small receive window and small segments, so the server's writes block
// and the stream stays open for as long as the test wants.
func TestOnDemandKeepAliveStream(t *testing.T) {
	base, logs := startOnDemand(t, 0, func(c *Config) {
		c.KeepAlive = "100ms"
		c.Engine.CtxSize = 1024 // room for an answer far larger than the socket buffers
	})
	dialer := &net.Dialer{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			// A small window and small segments (loopback's are 64 KiB,
			// which lets the server's send buffer grow past the answer).
			serr = errors.Join(syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 4096),
				syscall.SetsockoptInt(int(fd), syscall.IPPROTO_TCP, syscall.TCP_MAXSEG, 536))
		})
		return errors.Join(err, serr)
	}}
	client := &http.Client{Transport: &http.Transport{DialContext: dialer.DialContext}}
	defer client.CloseIdleConnections()
	// No special token (ids 2048 to 2073 in the reference vocabulary: end
	// of text, end of turn, tool calls, thinking): the answer runs to
	// max_tokens, some 170 KiB of events.
	var bias []string
	for id := 2048; id <= 2073; id++ {
		bias = append(bias, fmt.Sprintf(`"%d":-100`, id))
	}
	body := `{"model":"a","stream":true,"max_tokens":1000,"logit_bias":{` + strings.Join(bias, ",") + `},` +
		`"messages":[{"role":"user","content":"hi"}]}`
	resp, err := client.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if line, err := r.ReadString('\n'); err != nil || !strings.HasPrefix(line, "data: ") {
		t.Fatalf("stream status %d, first line %q %v", resp.StatusCode, line, err)
	}
	// Several reaper rounds past the idle deadline, the stream is still
	// running and the model loaded.
	time.Sleep(100*time.Millisecond + 4*100*time.Millisecond)
	if e, ok := modelsNow(t, base)["a"]; !ok || e.Status != api.StatusReady || e.Running != 1 {
		t.Fatalf("during the stream: a loaded %v, %s, running %d (unloaded, or the stream ended before the check)", ok, e.Status, e.Running)
	}
	events := readEvents(r)
	if len(events) < 100 || events[len(events)-1] != "[DONE]" || strings.HasPrefix(events[len(events)-2], `{"error"`) {
		t.Errorf("stream after the wait: %d events, last %q", len(events), events[max(len(events)-2, 0):])
	}
	if !waitUnloaded(t, base, "a", 10*time.Second) {
		t.Error("a not unloaded after the stream ended and keep_alive passed")
	}
	if !waitLog(logs, `"msg":"idle model unloaded","model":"a"`, 5*time.Second) {
		t.Error("idle unload not logged")
	}
}

// LRU eviction at engine.max_loaded_models = 2 with a pinned default
// model, and the 503 for a model that cannot fit the memory budget at all.
func TestOnDemandEviction(t *testing.T) {
	pinned, a, b, big := reftest.Model(t, "mini-q4_0"), reftest.Model(t, "mini-q8_0"), reftest.Model(t, "mini-q4_k_m"), reftest.Model(t, "mini-f32")
	base, logs := startOnDemand(t, 0, func(c *Config) {
		c.Engine.MaxLoadedModels = 2
		// At ctx_size 256 the quantized models take 2 to 7 MiB each, the
		// f32 model 12 MiB: more than the whole budget.
		c.Engine.MaxMemory = "11MiB"
		c.DefaultModels = []DefaultModel{{Model: pinned, Alias: "pinned"}}
		c.Models = []DefaultModel{{Model: a, Alias: "a"}, {Model: b, Alias: "b"}, {Model: big, Alias: "big"}}
	})
	for _, m := range []string{"a", "pinned", "b"} {
		if status, _, body := chatOnce(t, base, m); status != http.StatusOK {
			t.Fatalf("chat %s: %d %s", m, status, body)
		}
	}
	// b's load evicted a, the least recently used unpinned model.
	ms := modelsNow(t, base)
	if _, ok := ms["a"]; ok || len(ms) != 2 {
		t.Errorf("after b: loaded %v, want pinned and b", keys(ms))
	}
	if !strings.Contains(logs.String(), `"msg":"model evicted","model":"a","for":"b"`) {
		t.Error("eviction of a not logged")
	}
	// a again: b is now the least recently used unpinned model.
	if status, _, body := chatOnce(t, base, "a"); status != http.StatusOK {
		t.Fatalf("chat a again: %d %s", status, body)
	}
	if _, ok := modelsNow(t, base)["b"]; ok {
		t.Error("b not evicted for a")
	}
	// big cannot fit however much is unloaded: 503 insufficient_memory,
	// and the pinned model still serves.
	status, h, body := chatOnce(t, base, "big")
	if status != http.StatusServiceUnavailable || h.Get("Retry-After") == "" || !strings.Contains(body, `"code":"insufficient_memory"`) ||
		!strings.Contains(body, "MiB") {
		t.Errorf("big: %d %s", status, body)
	}
	if _, ok := modelsNow(t, base)["pinned"]; !ok {
		t.Fatal("the pinned default model was evicted")
	}
	for _, m := range []string{"pinned", "a"} {
		if status, _, body := chatOnce(t, base, m); status != http.StatusOK {
			t.Errorf("%s after the refused load: %d %s", m, status, body)
		}
	}
	// An explicit load that cannot fit gets the same 503 (evict follows
	// auto_load), naming its need and the budget; nothing is evicted.
	resp, err := http.Post(base+"/models/load", "application/json", strings.NewReader(`{"model":"`+big+`","alias":"big2"}`))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusServiceUnavailable || !strings.Contains(string(out), `"code":"insufficient_memory"`) ||
		!strings.Contains(string(out), "needs") || !strings.Contains(string(out), "memory budget") {
		t.Errorf("POST /models/load of big: %d %s", resp.StatusCode, out)
	}
	if ms := modelsNow(t, base); len(ms) != 2 {
		t.Errorf("after the refused loads: loaded %v, want pinned and a", keys(ms))
	}
	resp, err = http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	for _, m := range []string{"a", "b"} {
		if !strings.Contains(string(metrics), `neuron_model_evictions_total{model="`+m+`"} 1`) {
			t.Errorf("eviction of %s not counted:\n%s", m, grepLines(string(metrics), "evictions"))
		}
	}
}

// keys lists a map's keys.
func keys[V any](m map[string]V) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	return out
}

// A server with a fixed set of models (auto_load and so evict off) keeps
// refusing loads beyond its caps, unloading nothing for them.
func TestFixedSetKeepsErrors(t *testing.T) {
	p, q, a := reftest.Model(t, "mini-q4_0"), reftest.Model(t, "mini-q8_0"), reftest.Model(t, "mini-q4_k_m")
	base, _ := startEngine(t, &Config{
		MaxQueue:      4,
		Hub:           HubConfig{CacheDir: t.TempDir(), Offline: true},
		Engine:        EngineConfig{Device: "cpu", Threads: 2, CtxSize: 256, MaxLoadedModels: 2},
		DefaultModels: []DefaultModel{{Model: p, Alias: "p"}, {Model: q, Alias: "q"}},
	})
	resp, err := http.Post(base+"/models/load", "application/json", strings.NewReader(`{"model":"`+a+`","alias":"a"}`))
	if err != nil {
		t.Fatal(err)
	}
	out, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusConflict || !strings.Contains(string(out), `"code":"too_many_models"`) {
		t.Errorf("load beyond max_loaded_models on a fixed set: %d %s", resp.StatusCode, out)
	}
	if ms := modelsNow(t, base); len(ms) != 2 {
		t.Errorf("loaded %v, want p and q", keys(ms))
	}
	for _, m := range []string{"p", "q"} {
		if status, _, body := chatOnce(t, base, m); status != http.StatusOK {
			t.Errorf("%s: %d %s", m, status, body)
		}
	}
}

func TestEvictConfig(t *testing.T) {
	for _, tc := range []struct {
		file string
		want bool
	}{
		{"", false},
		{"auto_load = true\n", true},
		{"auto_load = true\nevict = false\n", false},
		{"evict = true\n", true},
		{"auto_load = true\nevict = \"auto\"\n", true},
	} {
		c, err := parseConfig(t, tc.file, nil)
		if err != nil {
			t.Errorf("%q: %v", tc.file, err)
			continue
		}
		if got, err := c.evict(); err != nil || got != tc.want {
			t.Errorf("%q: evict %v %v, want %v", tc.file, got, err, tc.want)
		}
	}
	if c, err := parseConfig(t, "", []string{"NEURON_EVICT=true"}); err != nil || !c.evictOption() {
		t.Errorf("NEURON_EVICT=true: %v", err)
	}
	if _, err := parseConfig(t, "evict = \"sometimes\"\n", nil); err == nil || !strings.Contains(err.Error(), "evict") {
		t.Errorf("bad evict: %v", err)
	}
}
