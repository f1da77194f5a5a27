// Tests of models that neurons list as not_loaded (their catalog, loaded on
// the first request): cortex routes a request for one to such a neuron when
// none has it ready, lists it as loadable, and prefers a neuron where it is
// ready.

package cortex

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/helexa/helexa/api"
)

func TestLoadableModelRouting(t *testing.T) {
	notLoaded := func(id string) api.ModelEntry { return api.ModelEntry{ID: id, Status: api.StatusNotLoaded} }
	ready := func(id string, mem int64) api.ModelEntry {
		return api.ModelEntry{ID: id, Status: api.StatusReady, MemoryBytes: mem}
	}
	// a serves m; b and c can load cat (b has more room: c holds a model);
	// b also lists m as loadable, which must not take m's requests from a.
	a := newFakeNeuron(t, okJSON("a"), "m")
	b := newFakeNeuron(t, okJSON("b"))
	c := newFakeNeuron(t, okJSON("c"))
	b.setModels(notLoaded("cat"), notLoaded("m"))
	c.setModels(notLoaded("cat"), ready("other", 4<<30))
	b.setBudget(8 << 30)
	c.setBudget(8 << 30)
	// full lists cat2 with the most room but cannot load it; d can.
	full := newFakeNeuron(t, func(w http.ResponseWriter, r *http.Request) {
		writeError(w, api.Unavailable("insufficient_memory", "model cat2 needs 9 GiB, 8 GiB budget"))
	})
	d := newFakeNeuron(t, okJSON("d"))
	full.setModels(notLoaded("cat2"))
	full.setBudget(64 << 30)
	d.setModels(notLoaded("cat2"))
	d.setBudget(1 << 30)
	g, srv := newTestGateway(t, testConfig(a.url(), b.url(), c.url(), full.url(), d.url()))

	// Concurrent first requests all go to the one neuron with the most room.
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			resp := postChat(t, srv.URL, "cat", false)
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("request for cat: %d", resp.StatusCode)
			}
		})
	}
	wg.Wait()
	if b.hits.Load() != 8 || c.hits.Load() != 0 {
		t.Errorf("requests for cat: %d on b, %d on c; want all 8 on b", b.hits.Load(), c.hits.Load())
	}
	// Ready beats loadable.
	resp := postChat(t, srv.URL, "m", false)
	resp.Body.Close()
	if resp.StatusCode != 200 || a.hits.Load() != 1 || b.hits.Load() != 8 {
		t.Errorf("request for m: %d, a %d hits, b %d", resp.StatusCode, a.hits.Load(), b.hits.Load())
	}
	// A neuron that cannot load it answers 503 before any byte: the next
	// loadable neuron takes the request.
	resp = postChat(t, srv.URL, "cat2", false)
	resp.Body.Close()
	if resp.StatusCode != 200 || full.hits.Load() != 1 || d.hits.Load() != 1 {
		t.Errorf("request for cat2: %d, full %d hits, d %d", resp.StatusCode, full.hits.Load(), d.hits.Load())
	}

	// GET /v1/models lists the loadable models as not_loaded, with their
	// neurons, after the ready ones.
	var list struct {
		Data []struct {
			api.Model
			Neurons []string `json:"neurons"`
		} `json:"data"`
	}
	getJSON(t, srv.URL+"/v1/models", &list)
	var got []string
	for _, m := range list.Data {
		got = append(got, m.ID+":"+m.Status+":"+strings.Join(m.Neurons, ","))
	}
	want := []string{"m::" + a.url(), "other::" + c.url(),
		"cat:not_loaded:" + strings.Join(sorted(b.url(), c.url()), ","), "cat2:not_loaded:" + strings.Join(sorted(full.url(), d.url()), ",")}
	if !slices.Equal(got, want) {
		t.Errorf("GET /v1/models:\n got %v\nwant %v", got, want)
	}
	var one api.Model
	getJSON(t, srv.URL+"/v1/models/cat", &one)
	if one.ID != "cat" || one.Status != api.StatusNotLoaded {
		t.Errorf("GET /v1/models/cat: %+v", one)
	}

	// The status shows where each model is loadable.
	var st Status
	getJSON(t, srv.URL+"/cortex/status", &st)
	for _, ms := range st.Models {
		if ms.ID == "cat" && (len(ms.Neurons) != 0 || !slices.Equal(ms.Loadable, sorted(b.url(), c.url()))) {
			t.Errorf("cat in the status: %+v", ms)
		}
		if ms.ID == "m" && (!slices.Equal(ms.Ready, []string{a.url()}) || !slices.Equal(ms.Loadable, []string{b.url()})) {
			t.Errorf("m in the status: %+v", ms)
		}
	}
	var table bytes.Buffer
	if err := st.WriteTable(&table, time.Now()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(table.String(), "LOADABLE ON") || !strings.Contains(grepLine(table.String(), "cat2 "), d.url()) {
		t.Errorf("status table:\n%s", table.String())
	}

	// Once c has cat ready, its requests go there.
	c.setModels(ready("cat", 1<<30), ready("other", 4<<30))
	g.PollNow(context.Background())
	resp = postChat(t, srv.URL, "cat", false)
	resp.Body.Close()
	if resp.StatusCode != 200 || c.hits.Load() != 1 || b.hits.Load() != 8 {
		t.Errorf("cat ready on c: %d, c %d hits, b %d", resp.StatusCode, c.hits.Load(), b.hits.Load())
	}
	// An unknown model's 404 names what can be loaded.
	resp = postChat(t, srv.URL, "nope", false)
	if e := readAPIError(t, resp); resp.StatusCode != 404 || !strings.Contains(e.Message, "loads on request: cat2") {
		t.Errorf("unknown model: %d %+v", resp.StatusCode, e)
	}
}

// getJSON GETs url and decodes its 200 answer into v.
func getJSON(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatal(err)
	}
}

// sorted returns its arguments sorted.
func sorted(s ...string) []string {
	slices.Sort(s)
	return s
}

// grepLine returns the first line of s that starts with prefix.
func grepLine(s, prefix string) string {
	for _, l := range strings.Split(s, "\n") {
		if strings.HasPrefix(l, prefix) {
			return l
		}
	}
	return ""
}
