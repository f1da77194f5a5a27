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
	"time"

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
	// a has more in use but more free: the most free memory wins.
	a := newFakeNeuron(t, okJSON("a"), "big")
	a.setModels(api.ModelEntry{ID: "big", Status: api.StatusReady, MemoryBytes: 8 << 30})
	a.setBudget(20 << 30)
	b := newFakeNeuron(t, okJSON("b"), "small")
	b.setModels(api.ModelEntry{ID: "small", Status: api.StatusReady, MemoryBytes: 1 << 30})
	b.setBudget(4 << 30)
	g, srv := newTestGateway(t, testConfig(a.url(), b.url()))

	t.Run("cortex chooses the neuron with the most free memory", func(t *testing.T) {
		out, err := place(t, srv.URL, "load", PlaceRequest{Model: "/models/x.gguf", Alias: "x"})
		if err != nil || len(out.Results) != 1 || out.Results[0].Neuron != a.url() || out.Results[0].Model.ID != "x" {
			t.Fatalf("load: %+v, %v", out, err)
		}
		if c, _ := g.reg.candidates("x"); len(c) != 1 || c[0].n.url != a.url() {
			t.Errorf("the placed model is not routable at once: %v", c)
		}
		resp := postChat(t, srv.URL, "x", false)
		resp.Body.Close()
		if resp.StatusCode != 200 || resp.Header.Get("X-Cortex-Neuron") != a.url() {
			t.Errorf("request for the placed model: %d on %s", resp.StatusCode, resp.Header.Get("X-Cortex-Neuron"))
		}
		// The poll after the load took the fake's 100 MiB model off a's free memory.
		if n := neuronStatus(t, g, a.url()); n.Capacity == nil || n.MemoryFreeBytes != 12<<30-100<<20 || n.MemoryBudgetBytes != 20<<30 {
			t.Errorf("a's capacity after the load: %+v", n.Capacity)
		}
	})
	t.Run("named neuron", func(t *testing.T) {
		out, err := place(t, srv.URL, "load", PlaceRequest{Model: "x", Neuron: b.url() + "/"})
		if err != nil || out.Results[0].Neuron != b.url() {
			t.Fatalf("load on b: %+v, %v", out, err)
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
		for _, e := range []*api.Error{api.ServerError("out of memory"),
			{Status: 422, Type: api.TypeInvalidRequest, Param: "ctx_size", Code: "insufficient_memory", Message: "needs more"}} {
			a.loadErr = e
			before := a.loads.Load()
			out, err := place(t, srv.URL, "load", PlaceRequest{Model: "y" + e.Code})
			if err != nil || out.Results[0].Neuron != b.url() || a.loads.Load() != before+1 {
				t.Errorf("load with a answering %d: %+v, %v", e.Status, out, err)
			}
		}
		a.loadErr = nil
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

// TestPlacementOrder orders a fleet that mixes neurons reporting their
// capacity with older ones that do not.
func TestPlacementOrder(t *testing.T) {
	model := func(id string, gib int64) api.ModelEntry {
		return api.ModelEntry{ID: id, Status: api.StatusReady, MemoryBytes: gib << 30}
	}
	t.Run("older neurons: least memory in use first", func(t *testing.T) {
		a := newFakeNeuron(t, okJSON("a"))
		a.setModels(model("big", 8))
		b := newFakeNeuron(t, okJSON("b"))
		b.setModels(model("small", 1))
		g, _ := newTestGateway(t, testConfig(a.url(), b.url()))
		if got := g.placementOrder(); !slices.Equal(got, []string{b.url(), a.url()}) {
			t.Errorf("order %v, want b then a", got)
		}
		if n := neuronStatus(t, g, a.url()); n.Capacity != nil {
			t.Errorf("a neuron without a budget has capacity %+v", n.Capacity)
		}
	})
	t.Run("mixed fleet", func(t *testing.T) {
		roomy := newFakeNeuron(t, okJSON("roomy"))
		roomy.setModels(model("m1", 8))
		roomy.setBudget(16 << 30) // 8 GiB free
		snug := newFakeNeuron(t, okJSON("snug"))
		snug.setBudget(2 << 30) // 2 GiB free, nothing loaded
		old := newFakeNeuron(t, okJSON("old"))
		old.setModels(model("m2", 1))
		full := newFakeNeuron(t, okJSON("full"))
		full.setModels(model("m3", 4))
		full.setBudget(4 << 30) // nothing free
		down := newFakeNeuron(t, okJSON("down"))
		down.setBudget(64 << 30)
		g, srv := newTestGateway(t, testConfig(roomy.url(), snug.url(), old.url(), full.url(), down.url()))
		down.stop()
		g.PollNow(context.Background())
		g.PollNow(context.Background())
		blind := newFakeNeuron(t, okJSON("blind")) // reports zeros: knows nothing
		blind.setModels(model("m4", 2))
		blind.modelsHandler = func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, api.ModelsResponse{Object: "list", Data: []api.ModelEntry{model("m4", 2)},
				Capacity: &api.Capacity{MaxLoadedModels: 8, LoadedModels: 1}})
		}
		nonsense := newFakeNeuron(t, okJSON("nonsense")) // negative free: dropped
		nonsense.modelsHandler = func(w http.ResponseWriter, r *http.Request) {
			writeJSON(w, http.StatusOK, api.ModelsResponse{Object: "list", Data: []api.ModelEntry{model("m5", 3)},
				Capacity: &api.Capacity{MemoryBudgetBytes: 1 << 40, MemoryFreeBytes: -1}})
		}
		g.cfg.Neurons = append(g.cfg.Neurons, blind.url(), nonsense.url())
		g.PollNow(context.Background())
		if n := neuronStatus(t, g, nonsense.url()); !n.Up || n.Capacity != nil {
			t.Errorf("a neuron reporting negative free memory: up %v, capacity %+v", n.Up, n.Capacity)
		}
		want := []string{roomy.url(), snug.url(), old.url(), blind.url(), nonsense.url(), full.url()}
		if got := g.placementOrder(); !slices.Equal(got, want) {
			t.Errorf("order %v, want %v", got, want)
		}
		// cortex status shows the free memory, "-" for the older neuron.
		st, err := FetchStatus(context.Background(), http.DefaultClient, srv.URL, "")
		if err != nil {
			t.Fatal(err)
		}
		var buf strings.Builder
		st.WriteTable(&buf, time.Now())
		for _, line := range strings.Split(buf.String(), "\n") {
			switch {
			case strings.HasPrefix(line, roomy.url()) && !strings.HasSuffix(line, "8.0 GiB of 16.0 GiB"),
				strings.HasPrefix(line, old.url()) && !strings.HasSuffix(line, "-"),
				strings.HasPrefix(line, full.url()) && !strings.HasSuffix(line, "0.0 GiB of 4.0 GiB"):
				t.Errorf("table line %q", line)
			}
		}
		if !strings.Contains(buf.String(), "FREE MEMORY") {
			t.Errorf("table lacks the free memory:\n%s", buf.String())
		}
	})
}
