// Tests of the router and proxy against hostile upstreams: each asserts what
// the client sees.

package cortex

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/helexa/helexa/api"
)

// busy reports a queue on the model so that the router prefers the others.
func busy(f *fakeNeuron, model string, queued int) {
	f.setModels(api.ModelEntry{ID: model, Status: api.StatusReady, Queued: queued})
}

func TestRoutingErrors(t *testing.T) {
	a := newFakeNeuron(t, okJSON("a"), "m1")
	b := newFakeNeuron(t, okJSON("b"), "m2")
	g, srv := newTestGateway(t, testConfig(a.url(), b.url()))

	t.Run("unknown model is 404 listing the fleet", func(t *testing.T) {
		resp := postChat(t, srv.URL, "nope", false)
		e := readAPIError(t, resp)
		if resp.StatusCode != 404 || e.Code != api.CodeModelNotFound || !strings.Contains(e.Message, "m1, m2") {
			t.Errorf("status %d error %+v", resp.StatusCode, e)
		}
	})
	t.Run("routes by model", func(t *testing.T) {
		for model, want := range map[string]string{"m1": a.url(), "m2": b.url()} {
			resp := postChat(t, srv.URL, model, false)
			resp.Body.Close()
			if resp.StatusCode != 200 || resp.Header.Get("X-Cortex-Neuron") != want {
				t.Errorf("%s: status %d on %q, want %s", model, resp.StatusCode, resp.Header.Get("X-Cortex-Neuron"), want)
			}
		}
	})
	t.Run("model whose neuron is down is 503 with Retry-After", func(t *testing.T) {
		b.stop()
		g.PollNow(context.Background())
		g.PollNow(context.Background())
		resp := postChat(t, srv.URL, "m2", false)
		e := readAPIError(t, resp)
		if resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" || e.Type != api.TypeUnavailable {
			t.Errorf("status %d Retry-After %q error %+v", resp.StatusCode, resp.Header.Get("Retry-After"), e)
		}
	})
	t.Run("bad bodies", func(t *testing.T) {
		for name, body := range map[string]string{"not json": "{", "no model": `{"messages":[]}`} {
			resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			if e := readAPIError(t, resp); resp.StatusCode != 400 || e.Type != api.TypeInvalidRequest {
				t.Errorf("%s: status %d %+v", name, resp.StatusCode, e)
			}
		}
	})
}

func TestRefusedConnectionRetriesThenEjectsAndRecovers(t *testing.T) {
	a := newFakeNeuron(t, okJSON("a"), "m")
	b := newFakeNeuron(t, okJSON("b"), "m")
	busy(b, "m", 5) // a is preferred while it is up
	g, srv := newTestGateway(t, testConfig(a.url(), b.url()))
	a.stop() // refuses connections; the registry has not noticed yet

	for i := range 2 { // fail_threshold = 2 failed requests eject a
		resp := postChat(t, srv.URL, "m", false)
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Cortex-Neuron") != b.url() || !strings.Contains(string(body), `"who":"b"`) {
			t.Fatalf("request %d: status %d from %q: %s", i, resp.StatusCode, resp.Header.Get("X-Cortex-Neuron"), body)
		}
	}
	if got := counterValue(t, g.metrics.retries.WithLabelValues("m")); got != 2 {
		t.Errorf("retries %v, want 2", got)
	}
	if n := neuronStatus(t, g, a.url()); n.Up || !strings.Contains(n.LastError, "refused") {
		t.Errorf("a after two refused requests: %+v", n)
	}
	if got := counterValue(t, g.metrics.ejections.WithLabelValues(a.url())); got != 1 {
		t.Errorf("ejections %v, want 1", got)
	}
	// Ejected, a is not tried any more: no retry.
	resp := postChat(t, srv.URL, "m", false)
	resp.Body.Close()
	if got := counterValue(t, g.metrics.retries.WithLabelValues("m")); got != 2 {
		t.Errorf("an ejected neuron was tried again (retries %v)", got)
	}

	a.restart()
	g.PollNow(context.Background())
	if n := neuronStatus(t, g, a.url()); !n.Up {
		t.Fatalf("a not back after answering a poll: %+v", n)
	}
	resp = postChat(t, srv.URL, "m", false)
	resp.Body.Close()
	if resp.Header.Get("X-Cortex-Neuron") != a.url() {
		t.Errorf("recovered a not used: answered by %s", resp.Header.Get("X-Cortex-Neuron"))
	}
}

func TestUnavailableBeforeHeadersRetries(t *testing.T) {
	full := func(w http.ResponseWriter, r *http.Request) {
		writeError(w, api.Unavailable(api.CodeQueueFull, "queue full"))
	}
	a := newFakeNeuron(t, full, "m")
	b := newFakeNeuron(t, okJSON("b"), "m")
	busy(b, "m", 5)
	g, srv := newTestGateway(t, testConfig(a.url(), b.url()))

	resp := postChat(t, srv.URL, "m", false)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Cortex-Neuron") != b.url() || a.hits.Load() != 1 || b.hits.Load() != 1 {
		t.Errorf("status %d from %s; hits a=%d b=%d", resp.StatusCode, resp.Header.Get("X-Cortex-Neuron"), a.hits.Load(), b.hits.Load())
	}
	if n := neuronStatus(t, g, a.url()); !n.Up {
		t.Errorf("a full queue ejected the neuron")
	}

	// Every neuron full: the client gets the neuron's 503 with Retry-After.
	b.gen = full
	resp = postChat(t, srv.URL, "m", true)
	e := readAPIError(t, resp)
	if resp.StatusCode != 503 || e.Code != api.CodeQueueFull || resp.Header.Get("Retry-After") == "" {
		t.Errorf("status %d, error %+v", resp.StatusCode, e)
	}
}

func TestUpstreamErrorsAreReframed(t *testing.T) {
	for _, tc := range []struct {
		name       string
		gen        http.HandlerFunc
		wantStatus int
		wantMsg    string
	}{
		{"openai error passes", func(w http.ResponseWriter, r *http.Request) {
			writeError(w, api.Invalid("temperature", "temperature must be at most 2"))
		}, 400, "temperature must be at most 2"},
		{"html 500 becomes 502", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			io.WriteString(w, "<html>oops</html>")
		}, 502, "status 500 without an OpenAI error body"},
		{"huge error body", func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(500)
			junk := bytes.Repeat([]byte("x"), 1<<20)
			for range 32 {
				if _, err := w.Write(junk); err != nil {
					return
				}
			}
		}, 502, "without an OpenAI error body"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newFakeNeuron(t, tc.gen, "m")
			b := newFakeNeuron(t, okJSON("b"), "m")
			busy(b, "m", 5)
			_, srv := newTestGateway(t, testConfig(a.url(), b.url()))
			resp := postChat(t, srv.URL, "m", true)
			e := readAPIError(t, resp)
			if resp.StatusCode != tc.wantStatus || !strings.Contains(e.Message, tc.wantMsg) {
				t.Errorf("status %d, error %+v", resp.StatusCode, e)
			}
			if b.hits.Load() != 0 {
				t.Errorf("a non-retryable error was retried on another neuron")
			}
		})
	}
}

func TestStreamDiesAfterEvents(t *testing.T) {
	for _, tc := range []struct {
		name    string
		partial string // bytes of a cut-off event sent before dying
	}{
		{"between events", ""},
		{"inside an event", `data: {"id":"chatcmpl-1","choices":[{"delta":{"content":"cut`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var sent bytes.Buffer
			a := newFakeNeuron(t, func(w http.ResponseWriter, r *http.Request) {
				sseHead(w)
				for i := range 3 {
					io.WriteString(w, chunk(i))
					sent.WriteString(chunk(i))
				}
				io.WriteString(w, tc.partial)
				w.(http.Flusher).Flush()
				conn, _, err := http.NewResponseController(w).Hijack()
				if err == nil {
					conn.Close() // dies: no chunk terminator, no [DONE]
				}
			}, "m")
			b := newFakeNeuron(t, okStream(3), "m")
			busy(b, "m", 5)
			g, srv := newTestGateway(t, testConfig(a.url(), b.url()))

			resp := postChat(t, srv.URL, "m", true)
			defer resp.Body.Close()
			events := sseEvents(t, resp.Body)
			if resp.StatusCode != 200 || len(events) != 5 {
				t.Fatalf("status %d, %d events: %q", resp.StatusCode, len(events), events)
			}
			if got := strings.Join(events[:3], ""); got != sent.String() {
				t.Errorf("chunks changed, lost or duplicated:\ngot  %q\nwant %q", got, sent.String())
			}
			var er api.ErrorResponse
			if err := json.Unmarshal([]byte(strings.TrimPrefix(events[3], "data: ")), &er); err != nil || er.Error == nil ||
				er.Error.Type != api.TypeUnavailable {
				t.Errorf("event 4 is not one error event: %q", events[3])
			}
			if events[4] != "data: [DONE]\n\n" {
				t.Errorf("last event %q", events[4])
			}
			if b.hits.Load() != 0 {
				t.Errorf("retried after the first byte reached the client")
			}
			if n := neuronStatus(t, g, a.url()); n.Failures != 1 {
				t.Errorf("the broken stream was not counted against the neuron: %+v", n)
			}
		})
	}
}

func TestStalledStreamEnds(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	a := newFakeNeuron(t, func(w http.ResponseWriter, r *http.Request) {
		sseHead(w)
		io.WriteString(w, chunk(0))
		w.(http.Flusher).Flush()
		select { // stalls
		case <-release:
		case <-r.Context().Done():
		}
	}, "m")
	cfg := testConfig(a.url())
	cfg.IdleTimeout = 200 * time.Millisecond
	_, srv := newTestGateway(t, cfg)
	start := time.Now()
	resp := postChat(t, srv.URL, "m", true)
	events := sseEvents(t, resp.Body)
	resp.Body.Close()
	if len(events) != 3 || events[0] != chunk(0) || !strings.Contains(events[1], "idle_timeout") || events[2] != "data: [DONE]\n\n" {
		t.Fatalf("events %q", events)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("stall ended after %s with idle_timeout 200ms", d)
	}
}

func TestTricklingStreamArrivesWhole(t *testing.T) {
	var sent bytes.Buffer
	for i := range 4 {
		sent.WriteString(chunk(i))
	}
	sent.WriteString("data: [DONE]\n\n")
	want := sent.String()
	a := newFakeNeuron(t, func(w http.ResponseWriter, r *http.Request) {
		sseHead(w)
		for i := range len(want) { // a byte at a time
			io.WriteString(w, want[i:i+1])
			w.(http.Flusher).Flush()
			if i%16 == 0 {
				time.Sleep(time.Millisecond)
			}
		}
	}, "m")
	cfg := testConfig(a.url())
	cfg.IdleTimeout = 500 * time.Millisecond // far above the gap between bytes, far below the whole stream? no: resets per read
	_, srv := newTestGateway(t, cfg)
	resp := postChat(t, srv.URL, "m", true)
	got, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(got) != want {
		t.Errorf("trickled stream changed:\ngot  %q\nwant %q", got, want)
	}
}

func TestFirstChunkArrivesBeforeUpstreamFinishes(t *testing.T) {
	release := make(chan struct{})
	flushedAt := make(chan time.Time, 1)
	a := newFakeNeuron(t, func(w http.ResponseWriter, r *http.Request) {
		sseHead(w)
		io.WriteString(w, chunk(0))
		w.(http.Flusher).Flush()
		flushedAt <- time.Now()
		select { // the rest waits until the client has the first chunk
		case <-release:
		case <-time.After(10 * time.Second):
		}
		io.WriteString(w, chunk(1)+"data: [DONE]\n\n")
	}, "m")
	_, srv := newTestGateway(t, testConfig(a.url()))
	resp := postChat(t, srv.URL, "m", true)
	defer resp.Body.Close()
	if resp.Header.Get("X-Accel-Buffering") != "no" || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Errorf("headers %v", resp.Header)
	}
	got := make(chan string, 1)
	go func() {
		buf := make([]byte, len(chunk(0)))
		_, err := io.ReadFull(resp.Body, buf)
		if err != nil {
			got <- "error: " + err.Error()
		}
		got <- string(buf)
	}()
	select {
	case first := <-got:
		lag := time.Since(<-flushedAt)
		if first != chunk(0) {
			t.Fatalf("first chunk %q", first)
		}
		t.Logf("first chunk reached the client %s after the upstream flushed it", lag)
	case <-time.After(5 * time.Second):
		t.Fatal("the first chunk did not reach the client while the upstream was still streaming: buffered")
	}
	close(release)
	rest, _ := io.ReadAll(resp.Body)
	if string(rest) != chunk(1)+"data: [DONE]\n\n" {
		t.Errorf("rest %q", rest)
	}
}

func TestHugeBodies(t *testing.T) {
	t.Run("plain body passes whole", func(t *testing.T) {
		const size = 48 << 20
		block := bytes.Repeat([]byte("0123456789abcdef"), 4096)
		h := sha256.New()
		for range size / len(block) {
			h.Write(block)
		}
		want := h.Sum(nil)
		a := newFakeNeuron(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			for range size / len(block) {
				if _, err := w.Write(block); err != nil {
					return
				}
			}
		}, "m")
		_, srv := newTestGateway(t, testConfig(a.url()))
		resp := postChat(t, srv.URL, "m", false)
		defer resp.Body.Close()
		h2 := sha256.New()
		n, err := io.Copy(h2, resp.Body)
		if err != nil || n != size || !bytes.Equal(h2.Sum(nil), want) {
			t.Errorf("got %d bytes (err %v), want %d identical", n, err, size)
		}
	})
	t.Run("endless event is cut with an error", func(t *testing.T) {
		a := newFakeNeuron(t, func(w http.ResponseWriter, r *http.Request) {
			sseHead(w)
			io.WriteString(w, chunk(0)+"data: ")
			junk := bytes.Repeat([]byte("y"), 64<<10)
			for range 64 {
				if _, err := w.Write(junk); err != nil {
					return
				}
			}
		}, "m")
		_, srv := newTestGateway(t, testConfig(a.url()))
		resp := postChat(t, srv.URL, "m", true)
		events := sseEvents(t, resp.Body)
		resp.Body.Close()
		if len(events) != 3 || events[0] != chunk(0) || !strings.Contains(events[1], "over 1048576 bytes") || events[2] != "data: [DONE]\n\n" {
			t.Errorf("%d events, first %q", len(events), events[0])
		}
	})
	t.Run("request body over the bound is 413", func(t *testing.T) {
		a := newFakeNeuron(t, okJSON("a"), "m")
		cfg := testConfig(a.url())
		cfg.MaxBodyBytes = 1024
		_, srv := newTestGateway(t, cfg)
		body := `{"model":"m","messages":[{"role":"user","content":"` + strings.Repeat("z", 4096) + `"}]}`
		resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if e := readAPIError(t, resp); resp.StatusCode != 413 || e.Code != api.CodeRequestTooLarge || a.hits.Load() != 0 {
			t.Errorf("status %d %+v", resp.StatusCode, e)
		}
	})
}

func TestRedirectIsNotFollowed(t *testing.T) {
	elsewhere := newFakeNeuron(t, okJSON("elsewhere"), "m")
	a := newFakeNeuron(t, func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.url()+r.URL.Path, http.StatusTemporaryRedirect)
	}, "m")
	b := newFakeNeuron(t, okJSON("b"), "m")
	busy(b, "m", 5)
	g, srv := newTestGateway(t, testConfig(a.url(), b.url()))
	resp := postChat(t, srv.URL, "m", false)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Cortex-Neuron") != b.url() || elsewhere.hits.Load() != 0 {
		t.Errorf("status %d from %s, redirect target hit %d times", resp.StatusCode, resp.Header.Get("X-Cortex-Neuron"), elsewhere.hits.Load())
	}
	if n := neuronStatus(t, g, a.url()); n.Failures != 1 || !strings.Contains(n.LastError, "redirect") {
		t.Errorf("the redirect was not counted against a: %+v", n)
	}

	// A redirect on /models is a failed poll.
	a.modelsHandler = func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, elsewhere.url()+"/models", http.StatusFound)
	}
	g.PollNow(context.Background())
	g.PollNow(context.Background())
	if n := neuronStatus(t, g, a.url()); n.Up || !strings.Contains(n.LastError, "redirected") {
		t.Errorf("a neuron redirecting its /models stays up: %+v", n)
	}
}

func TestGarbageModelsMarksNeuronDown(t *testing.T) {
	for _, tc := range []struct {
		name, body, wantErr string
	}{
		{"not json", "<html>hello</html>", "not JSON"},
		{"wrong shape", `{"object":"banana","data":[]}`, "not a model list"},
		{"model without id", `{"object":"list","data":[{"status":"ready"}]}`, "without an id"},
		{"huge", `{"object":"list","data":[` + strings.Repeat(`{"id":"x","status":"ready"},`, 200000) + `]}`, "too large"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a := newFakeNeuron(t, okJSON("a"), "m")
			g, srv := newTestGateway(t, testConfig(a.url()))
			if !g.snapshot().Neurons[0].Up {
				t.Fatal("a not up at first")
			}
			a.modelsHandler = func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				io.WriteString(w, tc.body)
			}
			g.PollNow(context.Background())
			g.PollNow(context.Background())
			n := g.snapshot().Neurons[0]
			if n.Up || !strings.Contains(n.LastError, tc.wantErr) {
				t.Errorf("after garbage: up %v, last error %q", n.Up, n.LastError)
			}
			resp := postChat(t, srv.URL, "m", false)
			if e := readAPIError(t, resp); resp.StatusCode != 503 {
				t.Errorf("request to the garbage neuron's model: %d %+v", resp.StatusCode, e)
			}
			// It answers properly again: back.
			a.modelsHandler = nil
			g.PollNow(context.Background())
			if !g.snapshot().Neurons[0].Up {
				t.Errorf("not back after a good poll")
			}
		})
	}
}

func TestClientDisconnectCancelsUpstream(t *testing.T) {
	canceled := make(chan time.Time, 1)
	a := newFakeNeuron(t, func(w http.ResponseWriter, r *http.Request) {
		sseHead(w)
		for i := 0; ; i++ {
			select {
			case <-r.Context().Done():
				canceled <- time.Now()
				return
			case <-time.After(10 * time.Millisecond):
			}
			io.WriteString(w, chunk(i))
			w.(http.Flusher).Flush()
		}
	}, "m")
	_, srv := newTestGateway(t, testConfig(a.url()))
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, srv.URL+"/v1/chat/completions",
		strings.NewReader(`{"model":"m","stream":true}`))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, len(chunk(0)))
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	left := time.Now()
	cancel()
	resp.Body.Close()
	select {
	case at := <-canceled:
		t.Logf("upstream canceled %s after the client left", at.Sub(left))
	case <-time.After(5 * time.Second):
		t.Fatal("the upstream request went on after the client left")
	}
}

func TestLeastOutstandingRouting(t *testing.T) {
	hold := make(chan struct{})
	heldBy := make(chan string, 1)
	gen := func(name *string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			var body struct{ Hold bool }
			json.NewDecoder(r.Body).Decode(&body)
			if body.Hold {
				heldBy <- *name
				<-hold
			}
			writeJSON(w, 200, map[string]string{"ok": "1"})
		}
	}
	var aURL, bURL string
	a := newFakeNeuron(t, gen(&aURL), "m")
	b := newFakeNeuron(t, gen(&bURL), "m")
	aURL, bURL = a.url(), b.url()
	g, srv := newTestGateway(t, testConfig(a.url(), b.url()))
	done := make(chan struct{})
	go func() {
		defer close(done)
		resp, err := http.Post(srv.URL+"/v1/chat/completions", "application/json", strings.NewReader(`{"model":"m","hold":true}`))
		if err == nil {
			resp.Body.Close()
		}
	}()
	held := <-heldBy
	for range 5 { // the busy neuron is never chosen while the other is idle
		waitFor(t, "the previous request's end", func() bool {
			return neuronStatus(t, g, aURL).InFlight+neuronStatus(t, g, bURL).InFlight == 1
		})
		resp := postChat(t, srv.URL, "m", false)
		resp.Body.Close()
		if got := resp.Header.Get("X-Cortex-Neuron"); got == held || got == "" {
			t.Errorf("request sent to %q while %s has one outstanding and the other none", got, held)
		}
	}
	close(hold)
	<-done
}
