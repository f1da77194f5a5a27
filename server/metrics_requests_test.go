// Tests of the request-level metrics: every per-model series exists from
// the model's load, a finished request lands in each histogram and in its
// finish_reason's counter, the build and the loaded-model count are
// reported, and an unload removes the model's series.

package server

import (
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// metricValue returns the value of the sample line that starts with series
// (name and labels exactly as exposed), or -1 when there is none.
func metricValue(t *testing.T, body, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		return -1
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatalf("%s: %v", series, err)
	}
	return v
}

func TestRequestMetrics(t *testing.T) {
	s, fm := testServer(t, Options{Build: BuildInfo{Version: "v1.2.3", Flavour: "generic", Backend: "cpu+cuda"}}, nil)
	fm.newGen = func() *fakeGen {
		g := newFakeGen(Delta{Content: "a", Tokens: 1}, Delta{Content: "b", Tokens: 1}, Delta{Content: "c", Tokens: 1})
		g.result = Result{FinishReason: "length", PromptTokens: 9, CompletionTokens: 3}
		return g
	}
	scrape := func() string { return do(s, "GET", "/metrics", "").Body.String() }

	body := scrape()
	if metricValue(t, body, `neuron_models_loaded`) != 0 {
		t.Errorf("models loaded before any load:\n%s", body)
	}
	if !regexp.MustCompile(`neuron_build_info\{backend="cpu\+cuda",flavour="generic",goversion="go[^"]+",version="v1.2.3"\} 1`).MatchString(body) {
		t.Errorf("no build info in:\n%s", grepLines(body, "neuron_build_info"))
	}

	if rec := do(s, "POST", "/models/load", `{"model":"x.gguf","alias":"mx"}`); rec.Code != 200 {
		t.Fatalf("load: %d %s", rec.Code, rec.Body)
	}
	// Before any request, every per-model series is there, at zero.
	body = scrape()
	for _, series := range []string{
		`neuron_num_requests_running{model="mx"}`,
		`neuron_num_requests_waiting{model="mx"}`,
		`neuron_prompt_tokens_total{model="mx"}`,
		`neuron_generation_tokens_total{model="mx"}`,
		`neuron_time_to_first_token_seconds_count{model="mx"}`,
		`neuron_inter_token_latency_seconds_count{model="mx"}`,
		`neuron_e2e_request_latency_seconds_count{model="mx"}`,
		`neuron_request_queue_time_seconds_count{model="mx"}`,
		`neuron_request_prompt_tokens_count{model="mx"}`,
		`neuron_request_generation_tokens_count{model="mx"}`,
		`neuron_request_success_total{finish_reason="stop",model="mx"}`,
		`neuron_request_success_total{finish_reason="length",model="mx"}`,
		`neuron_request_success_total{finish_reason="tool_calls",model="mx"}`,
	} {
		if v := metricValue(t, body, series); v != 0 {
			t.Errorf("%s = %v after load, want 0 (-1: missing)", series, v)
		}
	}
	if metricValue(t, body, `neuron_models_loaded`) != 1 {
		t.Errorf("models loaded: %s", grepLines(body, "neuron_models_loaded"))
	}

	for range 2 {
		if rec := do(s, "POST", "/v1/chat/completions", `{"model":"mx","messages":[{"role":"user","content":"hi"}]}`); rec.Code != 200 {
			t.Fatalf("chat: %d %s", rec.Code, rec.Body)
		}
	}
	body = scrape()
	for series, want := range map[string]float64{
		`neuron_request_success_total{finish_reason="length",model="mx"}`: 2,
		`neuron_request_success_total{finish_reason="stop",model="mx"}`:   0,
		`neuron_e2e_request_latency_seconds_count{model="mx"}`:            2,
		`neuron_request_queue_time_seconds_count{model="mx"}`:             2,
		`neuron_request_prompt_tokens_sum{model="mx"}`:                    18,
		`neuron_request_prompt_tokens_bucket{model="mx",le="8"}`:          0,
		`neuron_request_prompt_tokens_bucket{model="mx",le="16"}`:         2,
		`neuron_request_generation_tokens_sum{model="mx"}`:                6,
		`neuron_request_generation_tokens_bucket{model="mx",le="2"}`:      0,
		`neuron_request_generation_tokens_bucket{model="mx",le="4"}`:      2,
	} {
		if v := metricValue(t, body, series); v != want {
			t.Errorf("%s = %v, want %v", series, v, want)
		}
	}
	if v := metricValue(t, body, `neuron_e2e_request_latency_seconds_sum{model="mx"}`); v <= 0 {
		t.Errorf("e2e latency sum %v", v)
	}

	if rec := do(s, "POST", "/models/unload", `{"model":"mx"}`); rec.Code != 200 {
		t.Fatalf("unload: %d %s", rec.Code, rec.Body)
	}
	body = scrape()
	for _, name := range []string{"neuron_request_success_total", "neuron_e2e_request_latency_seconds_count", "neuron_num_requests_running"} {
		if strings.Contains(body, name+`{`) && strings.Contains(grepLines(body, name), `model="mx"`) {
			t.Errorf("%s of the unloaded model remains", name)
		}
	}
	if metricValue(t, body, `neuron_models_loaded`) != 0 {
		t.Errorf("models loaded after unload: %s", grepLines(body, "neuron_models_loaded"))
	}
}

// grepLines returns the lines of body that contain s.
func grepLines(body, s string) string {
	var out []string
	for _, l := range strings.Split(body, "\n") {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
