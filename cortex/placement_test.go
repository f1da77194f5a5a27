// Tests of model placement (load, unload, auto_load) and of finding neurons
// through neuron_dns.

package cortex

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/helexa/helexa/api"
)

// place calls a placement route of the gateway at base.
func place(t *testing.T, base, action string, req PlaceRequest) (PlaceResponse, error) {
	t.Helper()
	var out PlaceResponse
	err := Call(context.Background(), http.DefaultClient, http.MethodPost, base+"/cortex/models/"+action, "", req, &out)
	return out, err
}

func TestPlacement(t *testing.T) {
	a := newFakeNeuron(t, okJSON("a"), "big")
	a.setModels(api.ModelEntry{ID: "big", Status: api.StatusReady, MemoryBytes: 8 << 30})
	b := newFakeNeuron(t, okJSON("b"), "small")
	b.setModels(api.ModelEntry{ID: "small", Status: api.StatusReady, MemoryBytes: 1 << 30})
	g, srv := newTestGateway(t, testConfig(a.url(), b.url()))

	t.Run("cortex chooses the neuron with the least memory in use", func(t *testing.T) {
		out, err := place(t, srv.URL, "load", PlaceRequest{Model: "/models/x.gguf", Alias: "x"})
		if err != nil || len(out.Results) != 1 || out.Results[0].Neuron != b.url() || out.Results[0].Model.ID != "x" {
			t.Fatalf("load: %+v, %v", out, err)
		}
		if c, _ := g.reg.candidates("x"); len(c) != 1 || c[0].n.url != b.url() {
			t.Errorf("the placed model is not routable at once: %v", c)
		}
		resp := postChat(t, srv.URL, "x", false)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Cortex-Neuron") != b.url() {
			t.Errorf("request for the placed model: %d on %s", resp.StatusCode, resp.Header.Get("X-Cortex-Neuron"))
		}
	})
	t.Run("named neuron", func(t *testing.T) {
		out, err := place(t, srv.URL, "load", PlaceRequest{Model: "x", Neuron: a.url() + "/"})
		if err != nil || out.Results[0].Neuron != a.url() {
			t.Fatalf("load on a: %+v, %v", out, err)
		}
		if c, _ := g.reg.candidates("x"); len(c) != 2 {
			t.Errorf("x on %d neurons, want 2", len(c))
		}
		_, err = place(t, srv.URL, "load", PlaceRequest{Model: "x", Neuron: "http://10.9.9.9:13131"})
		if e, ok := err.(*api.Error); !ok || e.Status != 404 || !strings.Contains(e.Message, "not part of the fleet") {
			t.Errorf("load on a stranger: %v", err)
		}
	})
	t.Run("bad bodies", func(t *testing.T) {
		for _, req := range []PlaceRequest{{}, {Model: "x", Neuron: "ftp://x"}} {
			if _, err := place(t, srv.URL, "load", req); err == nil {
				t.Errorf("%+v accepted", req)
			}
		}
	})
	t.Run("a neuron that cannot load passes to the next", func(t *testing.T) {
		b.loadErr = api.ServerError("out of memory")
		defer func() { b.loadErr = nil }()
		out, err := place(t, srv.URL, "load", PlaceRequest{Model: "y"})
		if err != nil || out.Results[0].Neuron != a.url() || b.loads.Load() < 2 {
			t.Errorf("load with b failing: %+v, %v", out, err)
		}
	})
	t.Run("a wrong request is not tried everywhere", func(t *testing.T) {
		a.loadErr = api.Invalid("model", "no such file")
		b.loadErr = api.Invalid("model", "no such file")
		defer func() { a.loadErr, b.loadErr = nil, nil }()
		before := a.loads.Load() + b.loads.Load()
		_, err := place(t, srv.URL, "load", PlaceRequest{Model: "/nope.gguf"})
		if e, ok := err.(*api.Error); !ok || e.Status != 400 || a.loads.Load()+b.loads.Load() != before+1 {
			t.Errorf("bad model: %v after %d loads", err, a.loads.Load()+b.loads.Load()-before)
		}
	})
	t.Run("unload everywhere", func(t *testing.T) {
		out, err := place(t, srv.URL, "unload", PlaceRequest{Model: "x"})
		if err != nil || len(out.Results) != 2 || out.Results[0].Status != "unloaded" || out.Results[1].Status != "unloaded" {
			t.Fatalf("unload: %+v, %v", out, err)
		}
		resp := postChat(t, srv.URL, "x", false)
		if e := readAPIError(t, resp); resp.StatusCode != 404 {
			t.Errorf("request after the unload: %d %+v", resp.StatusCode, e)
		}
		if _, err := place(t, srv.URL, "unload", PlaceRequest{Model: "x"}); err == nil {
			t.Errorf("unloading a model no neuron has succeeded")
		}
	})
}

func TestAutoLoad(t *testing.T) {
	a := newFakeNeuron(t, okJSON("a"), "base")
	cfg := testConfig(a.url())
	cfg.AutoLoad, cfg.Catalog = true, []string{"org/cat:Q8_0"}
	_, srv := newTestGateway(t, cfg)

	var wg sync.WaitGroup
	statuses := make([]int, 4)
	for i := range statuses {
		wg.Go(func() {
			resp := postChat(t, srv.URL, "org/cat:Q8_0", false)
			resp.Body.Close()
			statuses[i] = resp.StatusCode
		})
	}
	wg.Wait()
	if !slices.Equal(statuses, []int{200, 200, 200, 200}) || a.loads.Load() != 1 {
		t.Errorf("statuses %v after %d loads, want 200s after one", statuses, a.loads.Load())
	}
	resp := postChat(t, srv.URL, "not/in:catalog", false)
	if e := readAPIError(t, resp); resp.StatusCode != 404 || a.loads.Load() != 1 {
		t.Errorf("model outside the catalog: %d %+v", resp.StatusCode, e)
	}
}

// TestNeuronDNS finds a neuron through a name re-resolved at every poll
// (localhost, from /etc/hosts) instead of a configured URL.
func TestNeuronDNS(t *testing.T) {
	a := newFakeNeuron(t, okJSON("a"), "m")
	_, port, _ := strings.Cut(a.addr, ":")
	cfg := testConfig()
	cfg.NeuronDNS = "localhost:" + port
	g, srv := newTestGateway(t, cfg)
	n := neuronStatus(t, g, "http://127.0.0.1:"+port)
	if !n.Up {
		t.Fatalf("neuron found through DNS not up: %+v", n)
	}
	resp := postChat(t, srv.URL, "m", false)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("request through a discovered neuron: %d", resp.StatusCode)
	}
	// A name that no longer resolves keeps the last answer.
	g.cfg.NeuronDNS = "no-such-host.invalid:" + port
	g.PollNow(context.Background())
	if n := neuronStatus(t, g, "http://127.0.0.1:"+port); !n.Up {
		t.Errorf("a failed lookup dropped the fleet: %+v", n)
	}
}
