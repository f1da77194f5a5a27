// End-to-end test of a fleet: two real `neuron serve` processes, each
// serving a different reference mini model, behind a real cortex (the serve
// daemon of this package on a real listener), driven by the official OpenAI
// Go client. It checks routing by model and streaming through, then kills
// one neuron (its model's requests get 503 while the other's keep working)
// and restarts it (served again), with `cortex status --json` checked at
// each phase. The mini models have random weights: the test checks shapes
// and routing, not text.

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/helexa/helexa/cortex"
	"github.com/helexa/helexa/internal/reftest"
)

const fleetKey = "fleet-secret"

// neuronProc is one running neuron process.
type neuronProc struct {
	cmd  *exec.Cmd
	addr string
	logs *bytes.Buffer
}

func (n *neuronProc) url() string { return "http://" + n.addr }

// buildNeuron builds the neuron binary into dir.
func buildNeuron(t *testing.T, dir string) string {
	t.Helper()
	root, err := reftest.RepoRoot()
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "neuron")
	cmd := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, "./cmd/neuron")
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("building neuron: %v\n%s", err, out)
	}
	return bin
}

// startNeuron starts `neuron serve` with model as alias on listen and
// returns once it listens; top, when given, is more configuration before
// the tables (top-level keys, then tables of its own).
func startNeuron(t *testing.T, bin, dir, model, alias, listen string, top ...string) *neuronProc {
	t.Helper()
	conf := filepath.Join(dir, alias+".toml")
	toml := fmt.Sprintf(`listen = %q
log_format = "json"
shutdown_timeout = 2
`+strings.Join(top, "")+`
[hub]
cache_dir = %q
offline = true
[engine]
device = "cpu"
threads = 1
ctx_size = 256
[[default_models]]
model = %q
alias = %q
`, listen, filepath.Join(dir, "hub"), model, alias)
	if err := os.WriteFile(conf, []byte(toml), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "serve", "--config", conf)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + dir}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	n := &neuronProc{cmd: cmd, logs: &bytes.Buffer{}}
	t.Cleanup(func() { n.kill() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Bytes()
			n.logs.Write(append(line, '\n'))
			var rec struct{ Msg, Addr string }
			if json.Unmarshal(line, &rec) == nil && rec.Msg == "neuron listening" {
				addr <- rec.Addr
			}
		}
		close(addr)
	}()
	select {
	case a, ok := <-addr:
		if !ok {
			t.Fatalf("neuron %s exited before listening:\n%s", alias, n.logs.String())
		}
		n.addr = a
	case <-time.After(60 * time.Second):
		t.Fatalf("neuron %s not listening after 60 s", alias)
	}
	return n
}

// kill ends the process at once (SIGKILL: a crash, not a drain).
func (n *neuronProc) kill() {
	if n.cmd.ProcessState == nil {
		n.cmd.Process.Signal(syscall.SIGKILL)
		n.cmd.Wait()
	}
}

// fleetStatus runs `cortex status --json` against base.
func fleetStatus(t *testing.T, base string) cortex.Status {
	t.Helper()
	var out bytes.Buffer
	cf := &clientFlags{endpoint: base, key: fleetKey, timeout: 10 * time.Second}
	if err := runStatus(context.Background(), &out, cf, true); err != nil {
		t.Fatalf("cortex status --json: %v", err)
	}
	var st cortex.Status
	if err := json.Unmarshal(out.Bytes(), &st); err != nil {
		t.Fatalf("cortex status --json printed something else: %v\n%s", err, out.String())
	}
	return st
}

// neuronUp returns whether the status shows url up.
func neuronUp(st cortex.Status, url string) bool {
	for _, n := range st.Neurons {
		if n.URL == url {
			return n.Up
		}
	}
	return false
}

// readyOn returns the neurons the status shows model ready on.
func readyOn(st cortex.Status, model string) []string {
	for _, m := range st.Models {
		if m.ID == model {
			return m.Ready
		}
	}
	return nil
}

// eventually polls cond for up to 20 s.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func TestEndToEndFleet(t *testing.T) {
	modelA := reftest.Model(t, "mini-f32")
	modelB := reftest.Model(t, "mini-q8_0")
	dir := t.TempDir()
	bin := buildNeuron(t, dir)
	na := startNeuron(t, bin, dir, modelA, "mini-a", "127.0.0.1:0")
	nb := startNeuron(t, bin, dir, modelB, "mini-b", "127.0.0.1:0")

	cfg, err := parse(t, nil, []string{
		"CORTEX_LISTEN=127.0.0.1:0", "CORTEX_METRICS_LISTEN=", "CORTEX_NEURONS=" + na.url() + "," + nb.url(),
		"CORTEX_POLL_INTERVAL=100ms", "CORTEX_FAIL_THRESHOLD=2", "CORTEX_API_KEYS=" + fleetKey, "CORTEX_SHUTDOWN_TIMEOUT=5",
	})
	if err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	sigs := make(chan os.Signal, 1)
	listening := make(chan net.Addr, 1)
	d := &daemon{cfg: cfg, log: slog.New(slog.NewJSONHandler(&logs, nil)), signals: sigs,
		listening: func(a net.Addr) { listening <- a }}
	done := make(chan error, 1)
	go func() { done <- d.run() }()
	var base string
	select {
	case a := <-listening:
		base = "http://" + a.String()
	case err := <-done:
		t.Fatalf("cortex did not start: %v", err)
	}
	defer func() {
		sigs <- syscall.SIGTERM
		if err := <-done; err != nil {
			t.Errorf("cortex run: %v", err)
		}
		if !strings.Contains(logs.String(), `"msg":"cortex stopped"`) {
			t.Errorf("no clean stop in the log:\n%s", logs.String())
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	client := openai.NewClient(option.WithBaseURL(base+"/v1/"), option.WithAPIKey(fleetKey), option.WithMaxRetries(0))
	chat := func(model string) (*openai.ChatCompletion, *http.Response, error) {
		var raw *http.Response
		cc, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model:     model,
			Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Hello!")},
			MaxTokens: openai.Int(6),
		}, option.WithResponseInto(&raw))
		return cc, raw, err
	}
	stream := func(model string) (chunks int, content string, finish string, err error) {
		s := client.Chat.Completions.NewStreaming(ctx, openai.ChatCompletionNewParams{
			Model:     model,
			Messages:  []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Tell me a story.")},
			MaxTokens: openai.Int(8),
		})
		for s.Next() {
			c := s.Current()
			chunks++
			if len(c.Choices) == 1 {
				content += c.Choices[0].Delta.Content
				if c.Choices[0].FinishReason != "" {
					finish = c.Choices[0].FinishReason
				}
			}
			if c.Model != model {
				err = fmt.Errorf("chunk of model %q in a stream of %q", c.Model, model)
			}
		}
		if s.Err() != nil {
			err = s.Err()
		}
		return chunks, content, finish, err
	}
	status503 := func(err error) bool {
		var apiErr *openai.Error
		return errors.As(err, &apiErr) && apiErr.StatusCode == http.StatusServiceUnavailable
	}

	eventually(t, "both neurons up with their models", func() bool {
		st := fleetStatus(t, base)
		return slices.Equal(readyOn(st, "mini-a"), []string{na.url()}) && slices.Equal(readyOn(st, "mini-b"), []string{nb.url()})
	})

	t.Run("fleet up: routing by model and streaming", func(t *testing.T) {
		page, err := client.Models.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range page.Data {
			ids = append(ids, m.ID)
		}
		if !slices.Equal(ids, []string{"mini-a", "mini-b"}) {
			t.Errorf("models %v", ids)
		}
		for model, want := range map[string]string{"mini-a": na.url(), "mini-b": nb.url()} {
			cc, raw, err := chat(model)
			if err != nil {
				t.Fatalf("%s: %v", model, err)
			}
			if cc.Model != model || len(cc.Choices) != 1 || cc.Usage.CompletionTokens <= 0 {
				t.Errorf("%s: completion %s", model, cc.RawJSON())
			}
			if got := raw.Header.Get("X-Cortex-Neuron"); got != want {
				t.Errorf("%s answered by %s, want %s", model, got, want)
			}
			n, _, finish, err := stream(model)
			if err != nil || n < 3 || (finish != "stop" && finish != "length") {
				t.Errorf("%s stream: %d chunks, finish %q, err %v", model, n, finish, err)
			}
		}
		// Each real neuron reports its budget; what is free excludes its model.
		for _, n := range fleetStatus(t, base).Neurons {
			if n.Capacity == nil || n.MemoryBudgetBytes <= 0 || n.MemoryBytes <= 0 || n.MemoryFreeBytes <= 0 ||
				n.MemoryFreeBytes > n.MemoryBudgetBytes-n.MemoryBytes || n.LoadedModels != 1 || n.MaxLoadedModels <= 0 {
				t.Errorf("neuron %s: capacity %+v with %d bytes in use", n.URL, n.Capacity, n.MemoryBytes)
			}
		}
		_, _, err = chat("mini-c")
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || !strings.Contains(apiErr.Message, "mini-a, mini-b") {
			t.Errorf("unknown model: %v", err)
		}
	})

	t.Run("neuron a killed: mini-a 503, mini-b served", func(t *testing.T) {
		na.kill()
		// The next request for mini-a may still be tried on a (and fail
		// over to nobody); either way the client gets a 503.
		_, _, err := chat("mini-a")
		if !status503(err) {
			t.Errorf("mini-a with its neuron dead: %v", err)
		}
		eventually(t, "a marked down", func() bool { return !neuronUp(fleetStatus(t, base), na.url()) })
		st := fleetStatus(t, base)
		if len(readyOn(st, "mini-a")) != 0 || !neuronUp(st, nb.url()) || !slices.Equal(readyOn(st, "mini-b"), []string{nb.url()}) {
			t.Errorf("status after the kill: %+v", st)
		}
		if _, _, err := chat("mini-a"); !status503(err) {
			t.Errorf("mini-a with its neuron down: %v", err)
		}
		if n, _, _, err := stream("mini-b"); err != nil || n < 3 {
			t.Errorf("mini-b stream with a down: %d chunks, %v", n, err)
		}
		if _, raw, err := chat("mini-b"); err != nil || raw.Header.Get("X-Cortex-Neuron") != nb.url() {
			t.Errorf("mini-b with a down: %v", err)
		}
	})

	t.Run("neuron a restarted with a catalog: mini-a served again, mini-cat loaded through cortex", func(t *testing.T) {
		// Now with models on demand and a catalog of one, mini-b's file
		// as mini-cat, which no neuron has loaded.
		na = startNeuron(t, bin, dir, modelA, "mini-a", na.addr,
			fmt.Sprintf("auto_load = true\n[[models]]\nmodel = %q\nalias = \"mini-cat\"\n", modelB))
		eventually(t, "a back up", func() bool {
			st := fleetStatus(t, base)
			return neuronUp(st, na.url()) && slices.Equal(readyOn(st, "mini-a"), []string{na.url()})
		})
		cc, raw, err := chat("mini-a")
		if err != nil || cc.Model != "mini-a" || raw.Header.Get("X-Cortex-Neuron") != na.url() {
			t.Fatalf("mini-a after the restart: %v", err)
		}
		if n, _, _, err := stream("mini-a"); err != nil || n < 3 {
			t.Errorf("mini-a stream after the restart: %d chunks, %v", n, err)
		}
		st := fleetStatus(t, base)
		if len(st.Recent) == 0 || st.Recent[0].Model != "mini-a" || st.Recent[0].Status != 200 {
			t.Errorf("recent requests %+v", st.Recent)
		}

		// A catalog model no neuron has loaded: routed to the neuron that
		// lists it, and loaded there. (The restarted neuron lives as long
		// as this subtest.)
		st = fleetStatus(t, base)
		if len(readyOn(st, "mini-cat")) != 0 || !slices.Equal(loadableOn(st, "mini-cat"), []string{na.url()}) {
			t.Fatalf("mini-cat before any request: %+v", st.Models)
		}
		page, err := client.Models.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, m := range page.Data {
			ids = append(ids, m.ID+":"+m.JSON.ExtraFields["status"].Raw())
		}
		if !slices.Equal(ids, []string{"mini-a:", "mini-b:", `mini-cat:"not_loaded"`}) {
			t.Errorf("models with mini-cat loadable: %v", ids)
		}
		cc, raw, err = chat("mini-cat")
		if err != nil || cc.Model != "mini-cat" || raw.Header.Get("X-Cortex-Neuron") != na.url() {
			t.Fatalf("mini-cat through cortex: %v", err)
		}
		eventually(t, "mini-cat ready on a", func() bool {
			return slices.Equal(readyOn(fleetStatus(t, base), "mini-cat"), []string{na.url()})
		})
	})
}

// loadableOn returns the neurons the status shows model loadable on.
func loadableOn(st cortex.Status, model string) []string {
	for _, m := range st.Models {
		if m.ID == model {
			return m.Loadable
		}
	}
	return nil
}

// syncBuffer is a bytes.Buffer safe for concurrent use (the daemon logs
// from several goroutines).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
