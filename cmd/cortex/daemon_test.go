// Tests of `cortex serve` as a daemon (metrics listener, drain on SIGTERM,
// the drain deadline, a taken port) and of the load, unload and status
// commands against it.

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/cortex"
)

// slowNeuron is a neuron serving "m" whose streams send an event every
// gap, n events in all (0: without end).
func slowNeuron(t *testing.T, gap time.Duration, n int) *httptest.Server {
	t.Helper()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, `{"status":"ok"}`) })
	mux.HandleFunc("GET /models", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(api.ModelsResponse{Object: "list", Data: []api.ModelEntry{{ID: "m", Status: api.StatusReady}}})
	})
	mux.HandleFunc("POST /models/load", func(w http.ResponseWriter, r *http.Request) {
		var req api.LoadRequest
		json.NewDecoder(r.Body).Decode(&req)
		json.NewEncoder(w).Encode(api.ModelEntry{ID: req.Alias, Source: req.Model, Status: api.StatusReady})
	})
	mux.HandleFunc("POST /models/unload", func(w http.ResponseWriter, r *http.Request) {
		var req api.UnloadRequest
		json.NewDecoder(r.Body).Decode(&req)
		json.NewEncoder(w).Encode(api.UnloadResponse{ID: req.Model, Status: "unloaded"})
	})
	mux.HandleFunc("POST /v1/chat/completions", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		for i := 0; n == 0 || i < n; i++ {
			fmt.Fprintf(w, "data: {\"i\":%d}\n\n", i)
			w.(http.Flusher).Flush()
			select {
			case <-time.After(gap):
			case <-r.Context().Done():
				return
			}
		}
		io.WriteString(w, "data: [DONE]\n\n")
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// startCortex runs the serve daemon in front of neuron with extra env.
func startCortex(t *testing.T, neuron string, env ...string) (base, metrics string, sigs chan os.Signal, done chan error, logs *syncBuffer) {
	t.Helper()
	mln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	metricsAddr := mln.Addr().String()
	mln.Close()
	cfg, err := parse(t, nil, append([]string{"CORTEX_LISTEN=127.0.0.1:0", "CORTEX_METRICS_LISTEN=" + metricsAddr,
		"CORTEX_NEURONS=" + neuron, "CORTEX_POLL_INTERVAL=50ms"}, env...))
	if err != nil {
		t.Fatal(err)
	}
	logs = &syncBuffer{}
	sigs = make(chan os.Signal, 2)
	listening := make(chan net.Addr, 1)
	d := &daemon{cfg: cfg, log: slog.New(slog.NewJSONHandler(logs, nil)), signals: sigs, listening: func(a net.Addr) { listening <- a }}
	done = make(chan error, 1)
	go func() { done <- d.run() }()
	select {
	case a := <-listening:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatalf("cortex did not start: %v", err)
	}
	eventually(t, "the neuron polled", func() bool {
		resp, err := http.Get(base + "/ready")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == 200
	})
	return base, "http://" + metricsAddr, sigs, done, logs
}

func openStream(t *testing.T, base string) (*http.Response, *bufio.Reader) {
	t.Helper()
	resp, err := http.Post(base+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"m","stream":true}`))
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("stream: status %d", resp.StatusCode)
	}
	return resp, bufio.NewReader(resp.Body)
}

func readAll(r *bufio.Reader) []string {
	var events []string
	for {
		line, err := r.ReadString('\n')
		if strings.HasPrefix(line, "data: ") {
			events = append(events, strings.TrimSpace(line))
		}
		if err != nil {
			return events
		}
	}
}

func TestDaemonDrainsStreamsOnSIGTERM(t *testing.T) {
	n := slowNeuron(t, 50*time.Millisecond, 10)
	base, metrics, sigs, done, logs := startCortex(t, n.URL, "CORTEX_SHUTDOWN_TIMEOUT=10")

	resp, err := http.Get(metrics + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), "cortex_neurons_up 1") {
		t.Errorf("metrics listener: %s", body)
	}

	stream, r := openStream(t, base)
	defer stream.Body.Close()
	sigs <- syscall.SIGTERM
	events := readAll(r)
	if len(events) != 11 || events[10] != "data: [DONE]" {
		t.Errorf("the running stream was not drained whole: %q", events)
	}
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	if _, err := http.Get(base + "/health"); err == nil {
		t.Errorf("cortex still accepts after the drain")
	}
	if !strings.Contains(logs.String(), `"clean":true`) {
		t.Errorf("drain not clean:\n%s", logs.String())
	}
}

func TestDaemonDrainDeadlineEndsStreams(t *testing.T) {
	n := slowNeuron(t, 20*time.Millisecond, 0)
	base, _, sigs, done, logs := startCortex(t, n.URL, "CORTEX_SHUTDOWN_TIMEOUT=300ms")
	stream, r := openStream(t, base)
	defer stream.Body.Close()
	start := time.Now()
	sigs <- syscall.SIGTERM
	events := readAll(r)
	if len(events) < 2 || events[len(events)-1] != "data: [DONE]" || !strings.Contains(events[len(events)-2], "shutting down") {
		t.Errorf("endless stream at the drain deadline ended with %q", events[max(0, len(events)-2):])
	}
	if err := <-done; err != nil {
		t.Errorf("run: %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("shutdown took %s with shutdown_timeout 300ms", d)
	}
	if !strings.Contains(logs.String(), `"clean":false`) {
		t.Errorf("an interrupted drain logged as clean:\n%s", logs.String())
	}
}

func TestDaemonListenError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg, err := parse(t, nil, []string{"CORTEX_LISTEN=" + ln.Addr().String(), "CORTEX_NEURONS=http://127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	d := &daemon{cfg: cfg, log: slog.New(slog.DiscardHandler), signals: make(chan os.Signal)}
	if err := d.run(); err == nil || !strings.Contains(err.Error(), "listen") {
		t.Errorf("run on a taken port: %v", err)
	}
}

func TestLoadUnloadCommands(t *testing.T) {
	n := slowNeuron(t, time.Millisecond, 1)
	base, _, sigs, done, _ := startCortex(t, n.URL, "CORTEX_API_KEYS=cli-key")
	defer func() {
		sigs <- syscall.SIGTERM
		<-done
	}()
	t.Setenv("CORTEX_API_KEY", "cli-key")
	cf := &clientFlags{endpoint: base, timeout: 10 * time.Second}
	var out bytes.Buffer
	if err := runPlace(context.Background(), &out, cf, "load", cortex.PlaceRequest{Model: "/m.gguf", Alias: "m2"}); err != nil {
		t.Fatal(err)
	}
	if want := n.URL + ": /m.gguf loaded\n"; out.String() != want {
		t.Errorf("load printed %q, want %q", out.String(), want)
	}
	out.Reset()
	if err := runPlace(context.Background(), &out, cf, "unload", cortex.PlaceRequest{Model: "m"}); err != nil {
		t.Fatal(err)
	}
	if want := n.URL + ": m unloaded\n"; out.String() != want {
		t.Errorf("unload printed %q, want %q", out.String(), want)
	}
	err := runPlace(context.Background(), &out, cf, "unload", cortex.PlaceRequest{Model: "absent"})
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("unload of an absent model: %v", err)
	}
	cf.key = "wrong"
	if err := runStatus(context.Background(), &out, cf, false); err == nil || !strings.Contains(err.Error(), "API key") {
		t.Errorf("status with a wrong key: %v", err)
	}
	cf.key = ""
	out.Reset()
	if err := runStatus(context.Background(), &out, cf, false); err != nil || !strings.Contains(out.String(), n.URL) {
		t.Errorf("status table: %v\n%s", err, out.String())
	}
}
