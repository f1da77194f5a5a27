// Tests of what cortex reports: authentication, the /v1/models union,
// /cortex/status and its tables, the Prometheus metrics, /ready, and how the
// neuron readiness contract steers routing.

package cortex

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/helexa/helexa/api"
)

func TestStatusMetricsAndAuth(t *testing.T) {
	a := newFakeNeuron(t, okStream(3), "m1", "shared")
	b := newFakeNeuron(t, okJSON("b"), "m2", "shared")
	b.setModels(api.ModelEntry{ID: "m2", Status: api.StatusReady, Queued: 2, KVCacheUsage: 0.25},
		api.ModelEntry{ID: "shared", Status: api.StatusReady}, api.ModelEntry{ID: "warming", Status: api.StatusLoading})
	cfg := testConfig(a.url(), b.url())
	cfg.APIKeys = []string{"k"}
	g, srv := newTestGateway(t, cfg)
	get := func(path, key string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+path, nil)
		if key != "" {
			req.Header.Set("Authorization", "Bearer "+key)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return resp
	}

	t.Run("auth", func(t *testing.T) {
		for _, path := range []string{"/cortex/status", "/v1/models"} {
			for _, key := range []string{"", "wrong"} {
				resp := get(path, key)
				if e := readAPIError(t, resp); resp.StatusCode != 401 || e.Code != api.CodeInvalidAPIKey {
					t.Errorf("%s with key %q: %d %+v", path, key, resp.StatusCode, e)
				}
			}
		}
		for _, path := range []string{"/health", "/ready", "/"} {
			resp := get(path, "")
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Errorf("%s without a key: %d", path, resp.StatusCode)
			}
		}
	})

	t.Run("models union", func(t *testing.T) {
		resp := get("/v1/models", "k")
		defer resp.Body.Close()
		var list struct {
			Object string
			Data   []struct {
				ID      string
				OwnedBy string `json:"owned_by"`
				Neurons []string
			}
		}
		json.NewDecoder(resp.Body).Decode(&list)
		got := map[string]int{}
		for _, m := range list.Data {
			got[m.ID] = len(m.Neurons)
		}
		if list.Object != "list" || len(got) != 3 || list.Data[0].OwnedBy != "cortex" || got["shared"] != 2 || got["m1"] != 1 || got["m2"] != 1 {
			t.Errorf("models %+v (warming must not be listed)", list)
		}
	})

	// One request routed, so that the metrics and recent view have it.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(`{"model":"m1","stream":true}`))
	req.Header.Set("Authorization", "Bearer k")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()

	t.Run("status json", func(t *testing.T) {
		st, err := FetchStatus(context.Background(), http.DefaultClient, srv.URL, "k")
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Neurons) != 2 || len(st.Models) != 4 {
			t.Fatalf("status %+v", st)
		}
		nb := neuronStatus(t, g, b.url())
		if !nb.Up || nb.Queued != 2 || nb.KVCacheUsage != 0.25 || len(nb.Models) != 3 {
			t.Errorf("neuron b %+v", nb)
		}
		for _, m := range st.Models {
			if m.ID == "warming" && (len(m.Ready) != 0 || len(m.Neurons) != 1) {
				t.Errorf("loading model %+v", m)
			}
		}
		if len(st.Recent) != 1 || st.Recent[0].Model != "m1" || st.Recent[0].Neuron != a.url() || st.Recent[0].Status != 200 || !st.Recent[0].Stream {
			t.Errorf("recent %+v", st.Recent)
		}
		if _, err := FetchStatus(context.Background(), http.DefaultClient, srv.URL, "bad"); err == nil || !strings.Contains(err.Error(), "API key") {
			t.Errorf("status with a bad key: %v", err)
		}
	})

	t.Run("table", func(t *testing.T) {
		st, _ := FetchStatus(context.Background(), http.DefaultClient, srv.URL, "k")
		var buf bytes.Buffer
		st.WriteTable(&buf, time.Now())
		out := buf.String()
		for _, want := range []string{"NEURON", b.url(), "warming (loading)", "25%", "MODEL", "READY ON"} {
			if !strings.Contains(out, want) {
				t.Errorf("table lacks %q:\n%s", want, out)
			}
		}
	})

	t.Run("metrics", func(t *testing.T) {
		rec := httptest.NewRecorder()
		g.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		body := rec.Body.String()
		for _, want := range []string{
			`cortex_requests_total{model="m1",neuron="` + a.url() + `",status="200"} 1`,
			"cortex_neurons_up 2",
			"cortex_models_available 3",
			`cortex_upstream_ttfb_seconds_count{neuron="` + a.url() + `"} 1`,
			`cortex_upstream_duration_seconds_count{neuron="` + a.url() + `"} 1`,
			`cortex_in_flight_requests{neuron="` + a.url() + `"} 0`,
		} {
			if !strings.Contains(body, want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})

	t.Run("ready follows the fleet", func(t *testing.T) {
		a.stop()
		b.stop()
		g.PollNow(context.Background())
		g.PollNow(context.Background())
		resp := get("/ready", "")
		if e := readAPIError(t, resp); resp.StatusCode != 503 {
			t.Errorf("ready with no neuron up: %d %+v", resp.StatusCode, e)
		}
		rec := httptest.NewRecorder()
		g.MetricsHandler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
		if !strings.Contains(rec.Body.String(), "cortex_neurons_up 0") || !strings.Contains(rec.Body.String(), "cortex_ejections_total") {
			t.Errorf("metrics after both died:\n%s", rec.Body.String())
		}
	})
}

// TestNeuronReadinessContract follows a neuron through its states: loading
// (503 {"status":"loading"}, models loading), a failed model, ready, and
// shutting down (503 shutting_down): only ready models of a neuron that is
// not shutting down take requests.
func TestNeuronReadinessContract(t *testing.T) {
	a := newFakeNeuron(t, okJSON("a"), "m")
	loading := func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		io.WriteString(w, `{"status":"loading"}`)
	}
	a.health = loading
	a.setModels(api.ModelEntry{ID: "m", Status: api.StatusLoading}, api.ModelEntry{ID: "broken", Status: api.StatusFailed, Error: "bad file"})
	g, srv := newTestGateway(t, testConfig(a.url()))

	n := neuronStatus(t, g, a.url())
	if !n.Up || n.Health != "loading" {
		t.Errorf("a loading neuron: %+v", n)
	}
	for _, model := range []string{"m", "broken"} {
		resp := postChat(t, srv.URL, model, false)
		if e := readAPIError(t, resp); resp.StatusCode != 503 || a.hits.Load() != 0 {
			t.Errorf("%s while loading/failed: %d %+v", model, resp.StatusCode, e)
		}
	}

	a.health = nil
	a.setModels(api.ModelEntry{ID: "m", Status: api.StatusReady})
	g.PollNow(context.Background())
	resp := postChat(t, srv.URL, "m", false)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("m when ready: %d", resp.StatusCode)
	}

	a.health = func(w http.ResponseWriter, r *http.Request) {
		writeError(w, api.Unavailable(api.CodeShuttingDown, "neuron is shutting down"))
	}
	g.PollNow(context.Background())
	before := a.hits.Load()
	resp = postChat(t, srv.URL, "m", false)
	if e := readAPIError(t, resp); resp.StatusCode != 503 || a.hits.Load() != before {
		t.Errorf("m on a draining neuron: %d %+v, %d new upstream hits", resp.StatusCode, e, a.hits.Load()-before)
	}
	if n := neuronStatus(t, g, a.url()); n.Health != api.CodeShuttingDown {
		t.Errorf("draining neuron's health %q", n.Health)
	}
}
