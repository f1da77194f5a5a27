// Adversarial tests of the daemon, each a regression test of an attack that
// once crashed, wedged or probed it: a table of bad requests with the
// status and error code each must get, a load/unload/chat race on one id,
// slow clients, and model files truncated or rewritten under a running
// daemon. They run a real daemon with the engine on reference mini models
// copied into a model directory of the test's own.

package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/gguf"
	"github.com/helexa/helexa/internal/reftest"
)

// hardDaemon is a running daemon over a model directory holding a copy of
// the mini q8_0 model as m.gguf, loaded as "mini".
type hardDaemon struct {
	base string
	dir  string
	logs *syncBuffer
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// startHard starts a daemon; tweak may change its configuration.
func startHard(t *testing.T, tweak func(*Config)) *hardDaemon {
	t.Helper()
	src := reftest.Model(t, "mini-q8_0")
	dir := t.TempDir()
	copyFile(t, src, filepath.Join(dir, "m.gguf"))
	cfg := &Config{
		MaxQueue:        8,
		ShutdownTimeout: 10 * time.Second,
		Hub:             HubConfig{CacheDir: t.TempDir(), Offline: true},
		Engine:          EngineConfig{Device: "cpu", Threads: 2, CtxSize: 256, ModelDirs: []string{dir}, LoadTimeout: time.Minute},
		DefaultModels:   []DefaultModel{{Model: filepath.Join(dir, "m.gguf"), Alias: "mini"}},
	}
	if tweak != nil {
		tweak(cfg)
	}
	logs := &syncBuffer{}
	mgr := newEngineManager(cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	base, sigs, done := startDaemon(t, cfg, mgr, logs)
	t.Cleanup(func() {
		sigs <- syscall.SIGTERM
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("run: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("daemon did not stop")
		}
	})
	return &hardDaemon{base: base, dir: dir, logs: logs}
}

// call sends a request and returns the status, the body and the headers.
func (d *hardDaemon) call(t *testing.T, method, path, contentType, body string) (int, string, http.Header) {
	t.Helper()
	req, err := http.NewRequest(method, d.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

// errCode is the code of an OpenAI error body ("" when it is not one).
func errCode(body string) string {
	var er api.ErrorResponse
	if json.Unmarshal([]byte(body), &er) != nil || er.Error == nil {
		return ""
	}
	return er.Error.Code
}

// rewriteGGUF writes a copy of src with metadata keys replaced.
func rewriteGGUF(t *testing.T, src, dst string, kv map[string]any) {
	t.Helper()
	f, err := gguf.Open(src)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	w := gguf.NewWriter()
	for _, e := range f.KV {
		v := e.Value
		if nv, ok := kv[e.Key]; ok {
			v = nv
		}
		w.AddKV(e.Key, v)
	}
	for i := range f.Tensors {
		ti := &f.Tensors[i]
		data, err := f.TensorData(ti)
		if err != nil {
			t.Fatal(err)
		}
		w.AddTensor(ti.Name, ti.Type, ti.Shape, data)
	}
	if err := w.WriteFile(dst); err != nil {
		t.Fatal(err)
	}
}

const jsonCT = "application/json"

func TestHardeningBadRequests(t *testing.T) {
	d := startHard(t, nil)
	dir := d.dir
	fifo := filepath.Join(dir, "fifo.gguf")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Fatal(err)
	}
	notGGUF := filepath.Join(dir, "notes.gguf")
	os.WriteFile(notGGUF, []byte("root:secret-first-bytes"), 0o644)
	m := filepath.Join(dir, "m.gguf")
	rewriteGGUF(t, m, filepath.Join(dir, "heads0.gguf"), map[string]any{"qwen3.attention.head_count": uint32(0)})
	rewriteGGUF(t, m, filepath.Join(dir, "naneps.gguf"), map[string]any{"qwen3.attention.layer_norm_rms_epsilon": float32(math.NaN())})
	rewriteGGUF(t, m, filepath.Join(dir, "huge.gguf"), map[string]any{"qwen3.embedding_length": uint32(1 << 24)})
	copyFile(t, reftest.Model(t, "mini-q4_0"), filepath.Join(dir, "other.gguf"))
	outside := filepath.Join(t.TempDir(), "m.gguf")
	copyFile(t, m, outside)
	load := func(model string, extra string) string {
		return fmt.Sprintf(`{"model":%q%s}`, model, extra)
	}
	chat := `{"model":"mini","max_tokens":2,"messages":[{"role":"user","content":"hi"}]`

	for _, tc := range []struct {
		name, method, path, ct, body string
		status                       int
		code                         string
		// not must not appear in the answer (file bytes, existence).
		not string
	}{
		{"ctx_size far beyond the trained context", "POST", "/models/load", jsonCT, load(m, `,"alias":"x","ctx_size":100000000`), 400, api.CodeInvalidValue, ""},
		{"ctx_size 2^31", "POST", "/models/load", jsonCT, load(m, `,"alias":"x","ctx_size":2147483648`), 400, api.CodeInvalidValue, ""},
		{"ctx_size 4e7", "POST", "/models/load", jsonCT, load(m, `,"alias":"x","ctx_size":40000000`), 400, api.CodeInvalidValue, ""},
		{"a FIFO", "POST", "/models/load", jsonCT, load(fifo, ""), 404, api.CodeModelNotFound, ""},
		{"a directory", "POST", "/models/load", jsonCT, load(dir, ""), 404, api.CodeModelNotFound, ""},
		{"/etc/shadow", "POST", "/models/load", jsonCT, load("/etc/shadow", ""), 404, api.CodeModelNotFound, "root"},
		{"/etc/passwd", "POST", "/models/load", jsonCT, load("/etc/passwd", ""), 404, api.CodeModelNotFound, "magic"},
		{"missing file", "POST", "/models/load", jsonCT, load("/etc/no-such-file", ""), 404, api.CodeModelNotFound, ""},
		{"model outside the model dirs", "POST", "/models/load", jsonCT, load(outside, ""), 404, api.CodeModelNotFound, ""},
		{"escape by ..", "POST", "/models/load", jsonCT, load(dir+"/../../etc/passwd", ""), 404, api.CodeModelNotFound, ""},
		{"not a GGUF file", "POST", "/models/load", jsonCT, load(notGGUF, ""), 422, "invalid_model_file", "secret"},
		{"head_count 0", "POST", "/models/load", jsonCT, load(filepath.Join(dir, "heads0.gguf"), ""), 422, "invalid_model_file", ""},
		{"NaN epsilon", "POST", "/models/load", jsonCT, load(filepath.Join(dir, "naneps.gguf"), ""), 422, "invalid_model_file", ""},
		{"absurd dims", "POST", "/models/load", jsonCT, load(filepath.Join(dir, "huge.gguf"), ""), 422, "invalid_model_file", ""},
		{"a GPU this host lacks", "POST", "/models/load", jsonCT, load(m, `,"alias":"g","device":"cuda:7"`), 400, "device_unavailable", ""},
		{"alias taken by another file", "POST", "/models/load", jsonCT, load(filepath.Join(dir, "other.gguf"), `,"alias":"mini"`), 409, "model_exists", ""},
		{"load as text/plain", "POST", "/models/load", "text/plain", load(m, `,"alias":"y"`), 415, "unsupported_media_type", ""},
		{"load as a form", "POST", "/models/load", "application/x-www-form-urlencoded", load(m, `,"alias":"y"`), 415, "unsupported_media_type", ""},
		{"load without a type", "POST", "/models/load", "", load(m, `,"alias":"y"`), 415, "unsupported_media_type", ""},
		{"unload as text/plain", "POST", "/models/unload", "text/plain", `{"model":"mini"}`, 415, "unsupported_media_type", ""},
		{"logit_bias outside the vocabulary", "POST", "/v1/chat/completions", jsonCT, chat + `,"logit_bias":{"999999":5}}`, 400, api.CodeInvalidValue, ""},
		{"HEAD /health", "HEAD", "/health", "", "", 200, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, body, _ := d.call(t, tc.method, tc.path, tc.ct, tc.body)
			if status != tc.status || errCode(body) != tc.code {
				t.Errorf("%d %s, want %d with code %q", status, body, tc.status, tc.code)
			}
			if tc.not != "" && strings.Contains(body, tc.not) {
				t.Errorf("answer gives away %q: %s", tc.not, body)
			}
		})
	}

	// Missing, outside and unreadable get one and the same message.
	_, a, _ := d.call(t, "POST", "/models/load", jsonCT, load("/etc/shadow", ""))
	_, b, _ := d.call(t, "POST", "/models/load", jsonCT, load("/etc/no-such-file", ""))
	if strings.ReplaceAll(a, "/etc/shadow", "X") != strings.ReplaceAll(b, "/etc/no-such-file", "X") {
		t.Errorf("answers differ:\n%s\n%s", a, b)
	}
	// The FIFO wedged nothing: a later load goes through.
	if status, body, _ := d.call(t, "POST", "/models/load", jsonCT, load(m, `,"alias":"after-fifo","ctx_size":128`)); status != 200 {
		t.Errorf("load after the FIFO: %d %s", status, body)
	}
	// The endpoint is never the client's Host.
	req, _ := http.NewRequest("GET", d.base+"/models/mini/endpoint", nil)
	req.Host = "evil.example"
	if resp, err := http.DefaultClient.Do(req); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || strings.Contains(string(b), "evil") {
			t.Errorf("endpoint %d %s", resp.StatusCode, b)
		}
	}
	// Still alive and serving.
	if status, body, _ := d.call(t, "POST", "/v1/chat/completions", jsonCT, chat+"}"); status != 200 {
		t.Errorf("chat after the attack: %d %s", status, body)
	}
}

func TestHardeningMemoryAndModelCaps(t *testing.T) {
	d := startHard(t, func(c *Config) { c.Engine.MaxMemory = "6MiB"; c.Engine.MaxLoadedModels = 2; c.Engine.MaxParallel = 1 })
	m := filepath.Join(d.dir, "m.gguf")
	// mini takes about 4 MiB of weights; a 4096-position context far more
	// than the budget has left.
	status, body, _ := d.call(t, "POST", "/models/load", jsonCT, fmt.Sprintf(`{"model":%q,"alias":"big","ctx_size":4096}`, m))
	if status != 422 || errCode(body) != "insufficient_memory" || !strings.Contains(body, "needs") || !strings.Contains(body, "budget") {
		t.Errorf("over the budget: %d %s", status, body)
	}
	if status, body, _ := d.call(t, "POST", "/models/load", jsonCT, fmt.Sprintf(`{"model":%q,"alias":"second","ctx_size":64}`, m)); status != 200 {
		t.Fatalf("second model: %d %s", status, body)
	}
	status, body, _ = d.call(t, "POST", "/models/load", jsonCT, fmt.Sprintf(`{"model":%q,"alias":"third","ctx_size":64}`, m))
	if status != 409 || errCode(body) != "too_many_models" {
		t.Errorf("beyond max_loaded_models: %d %s", status, body)
	}
}

func TestHardeningLoadUnloadChatRace(t *testing.T) {
	d := startHard(t, nil)
	m := filepath.Join(d.dir, "m.gguf")
	loadBody := fmt.Sprintf(`{"model":%q,"alias":"r","ctx_size":128}`, m)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	for i := range 9 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for ctx.Err() == nil {
				var status int
				var body string
				switch i % 3 {
				case 0:
					status, body, _ = d.call(t, "POST", "/models/load", jsonCT, loadBody)
				case 1:
					status, body, _ = d.call(t, "POST", "/models/unload", jsonCT, `{"model":"r","timeout_s":0.2}`)
				default:
					status, body, _ = d.call(t, "POST", "/v1/chat/completions", jsonCT,
						`{"model":"r","max_tokens":3,"stream":true,"messages":[{"role":"user","content":"hi"}]}`)
				}
				mu.Lock()
				seen[fmt.Sprintf("%d %s", status, errCode(body))]++
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	for k, n := range seen {
		switch k {
		case "200 ", "404 model_not_found", "409 model_busy", "503 model_unloading", "503 queue_full", "503 model_loading":
		default:
			t.Errorf("%d answers %q", n, k)
		}
	}
	if seen["200 "] == 0 {
		t.Errorf("nothing succeeded: %v", seen)
	}
	if status, _, _ := d.call(t, "GET", "/health", "", ""); status != 200 {
		t.Errorf("health %d after the race", status)
	}
	t.Logf("answers: %v", seen)
}

// rawConn opens a connection to the daemon.
func rawConn(t *testing.T, base string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(base, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestHardeningSlowClients(t *testing.T) {
	d := startHard(t, func(c *Config) { c.ReadBodyTimeout = 300 * time.Millisecond })
	// A body trickled byte by byte is cut at the body deadline with a 408.
	c := rawConn(t, d.base)
	fmt.Fprintf(c, "POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	b, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(b), "HTTP/1.1 408") || !strings.Contains(string(b), "request_timeout") {
		t.Errorf("trickling client got %q", b)
	}
	// The daemon still answers.
	if status, _, _ := d.call(t, "GET", "/health", "", ""); status != 200 {
		t.Errorf("health %d", status)
	}
}

func TestHardeningShutdownCutsSlowBodies(t *testing.T) {
	cfg := &Config{ShutdownTimeout: 20 * time.Second, ReadBodyTimeout: time.Minute,
		Hub: HubConfig{CacheDir: t.TempDir(), Offline: true}, Engine: EngineConfig{Device: "cpu", Threads: 1}}
	logs := &syncBuffer{}
	base, sigs, done := startDaemon(t, cfg, newEngineManager(cfg, slog.New(slog.DiscardHandler)), logs)
	var conns []net.Conn
	for range 20 { // clients sending a body they never finish
		c := rawConn(t, base)
		fmt.Fprintf(c, "POST /models/load HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
		conns = append(conns, c)
	}
	idle := rawConn(t, base) // and an idle keep-alive connection
	fmt.Fprintf(idle, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	sigs <- syscall.SIGTERM
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("run: %v", err)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("shutdown waited for clients that never finish their body")
	}
	// Far below the 20 s drain deadline (and the one-minute body timeout).
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("shutdown took %s", took)
	}
}

func TestHardeningModelFileReplaced(t *testing.T) {
	d := startHard(t, nil)
	chatWith := func(model string) (int, string) {
		status, body, _ := d.call(t, "POST", "/v1/chat/completions", jsonCT,
			`{"model":"`+model+`","max_tokens":3,"messages":[{"role":"user","content":"hi"}]}`)
		return status, body
	}
	load := func(file, alias string) {
		t.Helper()
		if status, body, _ := d.call(t, "POST", "/models/load", jsonCT, fmt.Sprintf(`{"model":%q,"alias":%q,"ctx_size":128}`, file, alias)); status != 200 {
			t.Fatalf("load %s: %d %s", alias, status, body)
		}
	}
	src := filepath.Join(d.dir, "m.gguf")
	for _, name := range []string{"trunc", "inplace", "renamed"} {
		copyFile(t, src, filepath.Join(d.dir, name+".gguf"))
		load(filepath.Join(d.dir, name+".gguf"), name)
		if status, body := chatWith(name); status != 200 {
			t.Fatalf("%s before: %d %s", name, status, body)
		}
	}
	time.Sleep(20 * time.Millisecond) // a later modification time than the load's

	// Truncated under the running daemon (a re-download): the model fails,
	// the daemon lives.
	if err := os.Truncate(filepath.Join(d.dir, "trunc.gguf"), 4096); err != nil {
		t.Fatal(err)
	}
	// Rewritten in place with other bytes of the same size (cp over it).
	b, _ := os.ReadFile(src)
	for i := len(b) / 2; i < len(b)/2+4096; i++ {
		b[i] ^= 0x5a
	}
	fh, err := os.OpenFile(filepath.Join(d.dir, "inplace.gguf"), os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	fh.WriteAt(b[len(b)/2:len(b)/2+4096], int64(len(b)/2))
	fh.Close()
	// Replaced by renaming a new file over it: the loaded copy stays.
	tmp := filepath.Join(d.dir, "new.tmp")
	os.WriteFile(tmp, b, 0o644)
	if err := os.Rename(tmp, filepath.Join(d.dir, "renamed.gguf")); err != nil {
		t.Fatal(err)
	}

	for _, name := range []string{"trunc", "inplace"} {
		status, body := chatWith(name)
		if status != 503 || errCode(body) != "model_failed" || !strings.Contains(body, "changed on disk") {
			t.Errorf("%s: %d %s, want 503 model_failed", name, status, body)
		}
	}
	if status, body := chatWith("renamed"); status != 200 {
		t.Errorf("renamed: %d %s, want the loaded copy to serve", status, body)
	}
	if status, body := chatWith("mini"); status != 200 {
		t.Errorf("mini: %d %s", status, body)
	}
	var list api.ModelsResponse
	_, body, _ := d.call(t, "GET", "/models", "", "")
	json.Unmarshal([]byte(body), &list)
	states := map[string]string{}
	for _, m := range list.Data {
		states[m.ID] = m.Status
		if m.Status == api.StatusFailed && m.Error == "" {
			t.Errorf("%s failed without an error", m.ID)
		}
	}
	if states["trunc"] != "failed" || states["inplace"] != "failed" || states["renamed"] != "ready" || states["mini"] != "ready" {
		t.Errorf("states %v", states)
	}
	// A failed model unloads and loads again from the new file.
	if status, body, _ := d.call(t, "POST", "/models/unload", jsonCT, `{"model":"inplace"}`); status != 200 {
		t.Errorf("unload failed model: %d %s", status, body)
	}
	load(filepath.Join(d.dir, "inplace.gguf"), "inplace")
	if status, body := chatWith("inplace"); status != 200 {
		t.Errorf("reloaded: %d %s", status, body)
	}
}

func TestParseBytes(t *testing.T) {
	for in, want := range map[string]int64{"": 0, "0": 0, "1024": 1024, "6MiB": 6 << 20, "2gib": 2 << 30, "1.5GB": 1500000000, "512 KB": 512000} {
		if got, err := parseBytes(in); err != nil || got != want {
			t.Errorf("parseBytes(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"-1", "12 apples", "1e99TB", "GiB"} {
		if _, err := parseBytes(in); err == nil {
			t.Errorf("parseBytes(%q) accepted", in)
		}
	}
}
