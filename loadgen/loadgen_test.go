// Tests of the load generator against an in-process fake OpenAI server
// whose streams have known shapes and timings: token counts when chunks
// carry several tokens, errors counted by kind, the request body, the
// multi-turn messages, the JSON document, and the statistics on results
// with exact times.

package loadgen

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// fakeServer streams, for each request, chunks of tokensPerChunk tokens
// (the text "t " per token) until max_tokens, gap apart, the first after
// firstDelay; usage when asked, with cached tokens when cached >= 0.
type fakeServer struct {
	tokensPerChunk int
	gap            time.Duration
	firstDelay     func(req *chatRequest) time.Duration
	cached         int
	noUsage        bool
	// fail, when it returns non-zero, answers that status with an error
	// body of that code instead; midError sends an error event after the
	// first chunk; truncate ends the stream without [DONE].
	fail     func(n int, req *chatRequest) (int, string)
	midError func(n int) bool
	truncate func(n int) bool

	mu   sync.Mutex
	n    int
	reqs []chatRequest
	auth []string
}

func (f *fakeServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req chatRequest
	if r.URL.Path != "/v1/chat/completions" || json.NewDecoder(r.Body).Decode(&req) != nil {
		http.Error(w, `{"error":{"message":"bad","type":"invalid_request_error","code":null}}`, 400)
		return
	}
	f.mu.Lock()
	n := f.n
	f.n++
	f.reqs = append(f.reqs, req)
	f.auth = append(f.auth, r.Header.Get("Authorization"))
	f.mu.Unlock()
	if f.fail != nil {
		if status, code := f.fail(n, &req); status != 0 {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(status)
			fmt.Fprintf(w, `{"error":{"message":"no","type":"service_unavailable_error","code":%q}}`, code)
			return
		}
	}
	w.Header().Set("Content-Type", "text/event-stream")
	fl := w.(http.Flusher)
	send := func(s string) {
		fmt.Fprintf(w, "data: %s\n\n", s)
		fl.Flush()
	}
	send(`{"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}`)
	if f.firstDelay != nil {
		time.Sleep(f.firstDelay(&req))
	}
	for sent := 0; sent < req.MaxTokens; {
		if sent > 0 {
			time.Sleep(f.gap)
		}
		k := min(f.tokensPerChunk, req.MaxTokens-sent)
		send(fmt.Sprintf(`{"choices":[{"index":0,"delta":{"content":%q},"finish_reason":null}]}`, strings.Repeat("t ", k)))
		sent += k
		if f.midError != nil && f.midError(n) {
			send(`{"error":{"message":"engine fell over","type":"server_error","code":"internal"}}`)
			return
		}
	}
	if f.truncate != nil && f.truncate(n) {
		return
	}
	send(`{"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}`)
	if !f.noUsage && req.StreamOptions["include_usage"] {
		prompt := 0
		for _, m := range req.Messages {
			prompt += len(strings.Fields(m.Content)) + 4
		}
		details := ""
		if f.cached >= 0 {
			details = fmt.Sprintf(`,"prompt_tokens_details":{"cached_tokens":%d}`, f.cached)
		}
		send(fmt.Sprintf(`{"choices":[],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d%s}}`,
			prompt, req.MaxTokens, prompt+req.MaxTokens, details))
	}
	send("[DONE]")
}

func startFake(t *testing.T, f *fakeServer) string {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestLoadtestCountsTokensInMultiTokenChunks(t *testing.T) {
	f := &fakeServer{tokensPerChunk: 3, gap: 15 * time.Millisecond, cached: 7}
	url := startFake(t, f)
	reps, err := Run(context.Background(), Options{URL: url, Model: "m", APIKey: "k", Concurrency: 2, Requests: 4,
		Warmup: 1, PromptTokens: 40, MaxTokens: 10, IgnoreEOS: true, Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	r := reps[0]
	if r.Requests != 4 || r.Succeeded != 4 || len(r.Errors) != 0 {
		t.Fatalf("requests %d ok %d errors %v", r.Requests, r.Succeeded, r.Errors)
	}
	// 10 tokens in chunks of 3,3,3,1: 4 chunks, 40 tokens in all.
	if r.CompletionTokens != 40 || r.TokensPerChunk != 2.5 || !r.ITLEstimated || r.ShortFinishes != 0 {
		t.Errorf("tokens %d per chunk %v estimated %v short %d", r.CompletionTokens, r.TokensPerChunk, r.ITLEstimated, r.ShortFinishes)
	}
	if r.CachedTokens == nil || *r.CachedTokens != 28 || !r.UsageReported {
		t.Errorf("cached %v usage reported %v", r.CachedTokens, r.UsageReported)
	}
	// Each request: 9 tokens after the first chunk's spread over 3 gaps
	// (3 each), so 9 inter-token samples of at least gap/3.
	if r.ITL.N != 16*9/4 || r.ITL.P50 < 15.0/3-0.5 {
		t.Errorf("itl %+v: want %d samples of at least %.1f ms", r.ITL, 16*9/4, 15.0/3)
	}
	// TPOT: 3 gaps of >= 15 ms over 9 tokens.
	if r.TPOT.N != 4 || r.TPOT.P50 < 3*15.0/9-0.5 {
		t.Errorf("tpot %+v", r.TPOT)
	}
	if want := float64(r.CompletionTokens) / r.WallSeconds; math.Abs(r.TokensPerSecond-want) > 1e-9 || r.WallSeconds < 3*0.015 {
		t.Errorf("tok/s %v over %v s", r.TokensPerSecond, r.WallSeconds)
	}
	// The warm-up measured the template's overhead (4 per message in the
	// fake), so the measured prompts are 40 tokens as the server counts.
	if r.PromptTokens != 4*40 {
		t.Errorf("prompt tokens %d, want %d", r.PromptTokens, 4*40)
	}
	if len(f.reqs) != 5 {
		t.Fatalf("%d requests reached the server, want 5 (1 warm-up)", len(f.reqs))
	}
	prompts := map[string]bool{}
	for i, q := range f.reqs {
		if !q.Stream || !q.StreamOptions["include_usage"] || q.MaxTokens != 10 || !q.IgnoreEOS || q.Temperature != 0 ||
			q.Seed == nil || *q.Seed != 3 || q.ChatTemplateKwargs["enable_thinking"] != false || q.Model != "m" {
			t.Errorf("request %d: %+v", i, q)
		}
		if f.auth[i] != "Bearer k" {
			t.Errorf("request %d: authorization %q", i, f.auth[i])
		}
		prompts[q.Messages[0].Content] = true
	}
	if len(prompts) != 5 {
		t.Errorf("prompts repeat: %d distinct of 5", len(prompts))
	}
}

func TestLoadtestCountsErrorsByKind(t *testing.T) {
	f := &fakeServer{tokensPerChunk: 1, cached: -1,
		fail: func(n int, req *chatRequest) (int, string) {
			switch n % 6 {
			case 1:
				return 503, "queue_full"
			case 2:
				return 429, "rate_limited"
			}
			return 0, ""
		},
		midError: func(n int) bool { return n%6 == 3 },
		truncate: func(n int) bool { return n%6 == 4 },
	}
	url := startFake(t, f)
	reps, err := Run(context.Background(), Options{URL: url, Model: "m", Concurrency: 3, Requests: 12,
		PromptTokens: 8, MaxTokens: 4})
	if err != nil {
		t.Fatal(err)
	}
	r := reps[0]
	want := map[string]int{"http 503 queue_full": 2, "http 429 rate_limited": 2, "stream internal": 2, "truncated stream": 2}
	if fmt.Sprint(r.Errors) != fmt.Sprint(want) || r.Succeeded != 4 || r.Requests != 12 {
		t.Errorf("errors %v ok %d of %d, want %v and 4 of 12", r.Errors, r.Succeeded, r.Requests, want)
	}
	if r.CompletionTokens != 16 || r.CachedTokens != nil || r.TTFT.N != 4 {
		t.Errorf("tokens %d cached %v ttft n %d", r.CompletionTokens, r.CachedTokens, r.TTFT.N)
	}
}

func TestLoadtestWarmupFailureStops(t *testing.T) {
	f := &fakeServer{tokensPerChunk: 1, fail: func(int, *chatRequest) (int, string) { return 404, "model_not_found" }}
	url := startFake(t, f)
	_, err := Run(context.Background(), Options{URL: url, Model: "m", Concurrency: 1, Warmup: 1, PromptTokens: 8, MaxTokens: 4})
	if err == nil || !strings.Contains(err.Error(), "http 404 model_not_found") {
		t.Errorf("err %v", err)
	}
}

func TestLoadtestNoUsageCountsChunks(t *testing.T) {
	f := &fakeServer{tokensPerChunk: 1, noUsage: true}
	url := startFake(t, f)
	reps, err := Run(context.Background(), Options{URL: url, Model: "m", Sweep: []int{1, 2}, PromptTokens: 8, MaxTokens: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(reps) != 2 || reps[0].Concurrency != 1 || reps[1].Concurrency != 2 || reps[0].SpeedupVsFirst != 1 {
		t.Fatalf("sweep %+v", reps)
	}
	r := reps[1]
	if r.Requests != 4 || r.CompletionTokens != 20 || r.UsageReported || r.ITLEstimated || r.ITL.N != 16 {
		t.Errorf("requests %d tokens %d usage %v estimated %v itl n %d", r.Requests, r.CompletionTokens, r.UsageReported, r.ITLEstimated, r.ITL.N)
	}
	if want := r.TokensPerSecond / reps[0].TokensPerSecond; math.Abs(r.SpeedupVsFirst-want) > 1e-9 {
		t.Errorf("speedup %v, want %v", r.SpeedupVsFirst, want)
	}
}

func TestLoadtestDuration(t *testing.T) {
	f := &fakeServer{tokensPerChunk: 1, gap: 5 * time.Millisecond}
	url := startFake(t, f)
	reps, err := Run(context.Background(), Options{URL: url, Model: "m", Concurrency: 2, Duration: 100 * time.Millisecond,
		PromptTokens: 8, MaxTokens: 4})
	if err != nil {
		t.Fatal(err)
	}
	// Each request takes at least 15 ms: at most 2 * (100/15 + 1) fit.
	if r := reps[0]; r.Requests < 2 || r.Requests > 16 || r.Succeeded != r.Requests || r.WallSeconds < 0.1 {
		t.Errorf("requests %d ok %d wall %v", r.Requests, r.Succeeded, r.WallSeconds)
	}
}

func TestLoadtestMultiturn(t *testing.T) {
	// A server that "reuses" a prompt: turn 1 (one message after the
	// history's last assistant turn) waits 80 ms before its first token.
	f := &fakeServer{tokensPerChunk: 1, cached: 0, firstDelay: func(req *chatRequest) time.Duration {
		if req.Messages[len(req.Messages)-2].Role == "assistant" && len(req.Messages) > 4 &&
			strings.HasPrefix(req.Messages[len(req.Messages)-1].Content, "now") {
			return 0
		}
		return 80 * time.Millisecond
	}}
	url := startFake(t, f)
	rep, err := Multiturn(context.Background(), Options{URL: url, Model: "m"},
		MultiturnOptions{Conversations: 2, HistoryTokens: 250, TurnTokens: 50, ReplyTokens: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Turns) != 2 || rep.Failed != 0 || rep.MedianTTFT1Ms < 80 {
		t.Fatalf("report %+v", rep)
	}
	if want := rep.MedianTTFT1Ms / rep.MedianTTFT2Ms; math.Abs(rep.Speedup-want) > 1e-9 {
		t.Errorf("speedup %v, want %v", rep.Speedup, want)
	}
	if len(f.reqs) != 4 {
		t.Fatalf("%d requests", len(f.reqs))
	}
	for c := range 2 {
		t1, t2 := f.reqs[2*c].Messages, f.reqs[2*c+1].Messages
		// 250 tokens of history in 50-token turns: 5 messages, then an
		// "ok" assistant turn so that the question follows a reply.
		if len(t1) != 7 || t1[0].Role != "user" || t1[5].Content != "ok" || t1[6].Role != "user" {
			t.Fatalf("conversation %d turn 1: %+v", c, t1)
		}
		if len(t2) != 9 || t2[7].Role != "assistant" || t2[7].Content != "t t t " || t2[8].Role != "user" {
			t.Errorf("conversation %d turn 2 tail: %+v", c, t2[7:])
		}
		for i := range t1 {
			if t1[i] != t2[i] {
				t.Errorf("conversation %d: turn 2 changes message %d", c, i)
			}
		}
		if got := rep.Turns[c]; got.CachedTokens2 == nil || got.PromptTokens2 <= got.PromptTokens1 {
			t.Errorf("conversation %d: %+v", c, got)
		}
	}
	if f.reqs[0].Messages[0].Content == f.reqs[2].Messages[0].Content {
		t.Errorf("conversations share their history")
	}
}

func TestLoadtestJSONShape(t *testing.T) {
	f := &fakeServer{tokensPerChunk: 2, cached: 1}
	url := startFake(t, f)
	o := Options{URL: url, Model: "m", Sweep: []int{1, 2}, PromptTokens: 8, MaxTokens: 4}
	out := NewOutput(o)
	var err error
	if out.Load, err = Run(context.Background(), o); err != nil {
		t.Fatal(err)
	}
	if out.Multiturn, err = Multiturn(context.Background(), o, MultiturnOptions{Conversations: 1, HistoryTokens: 20, ReplyTokens: 2}); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := out.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	load, _ := doc["load"].([]any)
	if len(load) != 2 || doc["model"] != "m" || doc["max_tokens"] != 4.0 {
		t.Fatalf("document %s", buf.String())
	}
	lvl := load[1].(map[string]any)
	for _, k := range []string{"concurrency", "requests", "succeeded", "errors", "wall_seconds", "completion_tokens",
		"prompt_tokens", "cached_tokens", "output_tokens_per_second", "requests_per_second", "ttft_ms", "itl_ms",
		"tpot_ms", "speedup_vs_first", "itl_p50_ratio_vs_first"} {
		if _, ok := lvl[k]; !ok {
			t.Errorf("level lacks %q: %v", k, lvl)
		}
	}
	for _, k := range []string{"p50", "p99", "n"} {
		if _, ok := lvl["ttft_ms"].(map[string]any)[k]; !ok {
			t.Errorf("ttft_ms lacks %q", k)
		}
	}
	mt, _ := doc["multiturn"].(map[string]any)
	for _, k := range []string{"median_ttft1_ms", "median_ttft2_ms", "speedup", "conversations"} {
		if _, ok := mt[k]; !ok {
			t.Errorf("multiturn lacks %q: %v", k, mt)
		}
	}
	var text bytes.Buffer
	if err := out.WriteText(&text); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"tok/s", "ttft p50", "itl p99", "median ttft: turn 1"} {
		if !strings.Contains(text.String(), s) {
			t.Errorf("table lacks %q:\n%s", s, text.String())
		}
	}
}

func TestLoadtestOptionErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		o    Options
	}{
		{"no url", Options{Model: "m", Concurrency: 1, PromptTokens: 1, MaxTokens: 1}},
		{"no model", Options{URL: "http://x", Concurrency: 1, PromptTokens: 1, MaxTokens: 1}},
		{"zero concurrency", Options{URL: "http://x", Model: "m", PromptTokens: 1, MaxTokens: 1}},
		{"zero in sweep", Options{URL: "http://x", Model: "m", Sweep: []int{1, 0}, PromptTokens: 1, MaxTokens: 1}},
		{"no max tokens", Options{URL: "http://x", Model: "m", Concurrency: 1, PromptTokens: 1}},
		{"negative requests", Options{URL: "http://x", Model: "m", Concurrency: 1, PromptTokens: 1, MaxTokens: 1, Requests: -1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := Run(context.Background(), tc.o); err == nil || !strings.Contains(err.Error(), "invalid options") {
				t.Errorf("err %v", err)
			}
		})
	}
}

func TestLoadtestPercentiles(t *testing.T) {
	ms := func(xs ...float64) []time.Duration {
		var out []time.Duration
		for _, x := range xs {
			out = append(out, time.Duration(x*float64(time.Millisecond)))
		}
		return out
	}
	for _, tc := range []struct {
		name          string
		in            []time.Duration
		p50, p99, max float64
	}{
		{"one", ms(7), 7, 7, 7},
		{"two", ms(10, 20), 15, 19.9, 20},
		{"unsorted", ms(5, 1, 4, 2, 3), 3, 4.96, 5},
		{"hundred and one", func() []time.Duration {
			var xs []float64
			for i := 100; i >= 0; i-- {
				xs = append(xs, float64(i))
			}
			return ms(xs...)
		}(), 50, 99, 100},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d := summarize(tc.in)
			if math.Abs(d.P50-tc.p50) > 1e-6 || math.Abs(d.P99-tc.p99) > 1e-6 || d.Max != tc.max || d.N != len(tc.in) {
				t.Errorf("%+v, want p50 %v p99 %v max %v", d, tc.p50, tc.p99, tc.max)
			}
		})
	}
	if d := summarize(nil); d.N != 0 || d.P50 != 0 {
		t.Errorf("empty: %+v", d)
	}
}

func TestLoadtestReportFromExactTimes(t *testing.T) {
	t0 := time.Unix(1000, 0)
	msd := func(x float64) time.Duration { return time.Duration(x * float64(time.Millisecond)) }
	results := []*result{
		// 4 tokens, one per chunk, 10 ms apart after a 100 ms TTFT.
		{start: t0, chunks: []time.Duration{msd(100), msd(110), msd(120), msd(130)}, chunkTokens: []int{0, 0, 0, 0},
			end: msd(140), usage: &usage{PromptTokens: 20, CompletionTokens: 4}},
		// 4 tokens in 2 chunks (1, then 3 after 30 ms): 3 samples of 10 ms.
		{start: t0.Add(msd(50)), chunks: []time.Duration{msd(200), msd(230)}, chunkTokens: []int{0, 0},
			end: msd(250), usage: &usage{PromptTokens: 20, CompletionTokens: 4}},
		// Logprobs give exact counts: 1 then 2 tokens after 40 ms.
		{start: t0, chunks: []time.Duration{msd(300), msd(340)}, chunkTokens: []int{1, 2},
			end: msd(400), usage: &usage{PromptTokens: 20, CompletionTokens: 3}},
		{start: t0, end: msd(10), errKind: "http 503 queue_full"},
	}
	r := buildReport(2, 4, results)
	if r.Requests != 4 || r.Succeeded != 3 || r.Errors["http 503 queue_full"] != 1 {
		t.Fatalf("counts %+v", r)
	}
	// Window: t0 to the last end, 50 + 250 = 300 ms vs 400 ms: 400 ms.
	if math.Abs(r.WallSeconds-0.4) > 1e-9 || math.Abs(r.TokensPerSecond-11/0.4) > 1e-6 || r.CompletionTokens != 11 {
		t.Errorf("wall %v tok/s %v tokens %d", r.WallSeconds, r.TokensPerSecond, r.CompletionTokens)
	}
	if r.ShortFinishes != 1 || r.PromptTokens != 60 || !r.ITLEstimated {
		t.Errorf("short %d prompt %d estimated %v", r.ShortFinishes, r.PromptTokens, r.ITLEstimated)
	}
	// ITL samples: 10,10,10 | 10,10,10 | 20,20 ms.
	if r.ITL.N != 8 || math.Abs(r.ITL.P50-10) > 1e-6 || math.Abs(r.ITL.Max-20) > 1e-6 {
		t.Errorf("itl %+v", r.ITL)
	}
	// Decode spans 100-130, 250-280 and 300-340 ms: 100 ms for 3+3+2
	// tokens after the first chunks.
	if math.Abs(r.DecodeSeconds-0.1) > 1e-9 || math.Abs(r.DecodeTokensPerSecond-80) > 1e-6 {
		t.Errorf("decode %v s, %v tok/s", r.DecodeSeconds, r.DecodeTokensPerSecond)
	}
	// TTFT 100, 200, 300 ms; TPOT 10, 10, 20 ms.
	if math.Abs(r.TTFT.P50-200) > 1e-6 || math.Abs(r.TPOT.P50-10) > 1e-6 || math.Abs(r.TPOT.Max-20) > 1e-6 {
		t.Errorf("ttft %+v tpot %+v", r.TTFT, r.TPOT)
	}
}

func TestLoadtestRounds(t *testing.T) {
	f := &fakeServer{tokensPerChunk: 1, gap: time.Millisecond}
	url := startFake(t, f)
	reps, err := Run(context.Background(), Options{URL: url, Model: "m", Sweep: []int{1, 2}, Rounds: 3, PromptTokens: 8, MaxTokens: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(f.reqs) != 3*(2+4) {
		t.Errorf("%d requests, want %d", len(f.reqs), 3*(2+4))
	}
	for i, r := range reps {
		if r.Rounds != 3 || len(r.RoundTokensPerSecond) != 3 || r.Requests != 3*2*r.Concurrency || r.TTFT.N != r.Requests {
			t.Fatalf("level %d: %+v", i, r)
		}
		if m := median(slices.Clone(r.RoundTokensPerSecond)); r.TokensPerSecond != m {
			t.Errorf("level %d: tok/s %v, want the median of %v", i, r.TokensPerSecond, r.RoundTokensPerSecond)
		}
	}
	// The speedup is the median of the per-round ratios, which need not
	// be the ratio of the medians.
	var ratios []float64
	for r := range 3 {
		ratios = append(ratios, reps[1].RoundTokensPerSecond[r]/reps[0].RoundTokensPerSecond[r])
	}
	if want := median(ratios); math.Abs(reps[1].SpeedupVsFirst-want) > 1e-9 || reps[0].SpeedupVsFirst != 1 {
		t.Errorf("speedups %v %v, want 1 and %v", reps[0].SpeedupVsFirst, reps[1].SpeedupVsFirst, want)
	}
}

func TestLoadtestUnion(t *testing.T) {
	t0 := time.Unix(0, 0)
	at := func(a, b int) span {
		return span{t0.Add(time.Duration(a) * time.Second), t0.Add(time.Duration(b) * time.Second)}
	}
	for _, tc := range []struct {
		name  string
		spans []span
		want  time.Duration
	}{
		{"none", nil, 0},
		{"apart", []span{at(5, 6), at(0, 2)}, 3 * time.Second},
		{"overlapping", []span{at(0, 4), at(2, 6), at(3, 5)}, 6 * time.Second},
		{"nested and touching", []span{at(0, 10), at(1, 2), at(10, 12)}, 12 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := union(tc.spans); got != tc.want {
				t.Errorf("union %v, want %v", got, tc.want)
			}
		})
	}
}
