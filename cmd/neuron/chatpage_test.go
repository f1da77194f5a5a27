// The chat page against the real daemon: headless Chromium opens GET /,
// picks the reference mini model, holds a two-turn conversation whose
// replies stream from the engine, and the test checks the DOM and the
// usage the page shows against the daemon's own log, and saves a
// screenshot. The mini model has random weights: the text is noise, the
// shape is what is checked.

package main

import (
	"io"
	"log/slog"
	"net/http"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/helexa/helexa/internal/browsertest"
	"github.com/helexa/helexa/internal/reftest"
	"github.com/helexa/helexa/kernels"
)

func TestChatPageRealDaemon(t *testing.T) {
	model := reftest.Model(t, "mini-f32")
	ctx := browsertest.New(t, 1280, 860, 90*time.Second)
	var logs syncBuffer
	cfg := &Config{
		APIKeys:       []string{e2eKey},
		MaxQueue:      4,
		Hub:           HubConfig{CacheDir: t.TempDir(), Offline: true},
		Engine:        EngineConfig{Device: "cpu", Threads: 2, CtxSize: 1024},
		DefaultModels: []DefaultModel{{Model: model, Alias: "qwen3-mini"}},
	}
	mgr := newEngineManager(cfg, slog.New(slog.NewJSONHandler(io.Discard, nil)))
	base, sigs, done := startDaemon(t, cfg, mgr, &logs)
	defer func() {
		sigs <- syscall.SIGTERM
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	}()

	js := func(expr string) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.Evaluate[chromedp.Void](expr)); err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
	}
	wait := func(expr string) {
		t.Helper()
		if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(60*time.Second))); err != nil {
			t.Fatalf("waiting for %s: %v", expr, err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/")); err != nil {
		t.Fatal(err)
	}
	// The key typed into the page reaches the API, and the model list loads.
	if err := chromedp.Do(ctx, chromedp.SendKeys("#api-key", e2eKey)); err != nil {
		t.Fatal(err)
	}
	js(`document.getElementById("api-key").dispatchEvent(new Event("change"))`)
	wait(`document.getElementById("model").value === "qwen3-mini"`)
	js(`(() => { const m = document.getElementById("max-tokens"); m.value = "40"; m.dispatchEvent(new Event("input")); })()`)

	send := func(text string, turn int) {
		t.Helper()
		if err := chromedp.Do(ctx, chromedp.SendKeys("#input", text), chromedp.Click("#send")); err != nil {
			t.Fatal(err)
		}
		wait(`document.querySelectorAll(".msg.assistant")[` + strconv.Itoa(turn) + `]?.dataset.state === "done"`)
	}
	if err := chromedp.Do(ctx, chromedp.SendKeys("#system", "You are a concise assistant.")); err != nil {
		t.Fatal(err)
	}
	// The first turn without thinking (the reply is content), the second
	// with it (the mini model never closes its reasoning: all of it is
	// reasoning, shown collapsed).
	js(`document.getElementById("thinking").click()`)
	send("Why is the sky blue?", 0)
	js(`document.getElementById("thinking").click()`)
	send("And why are sunsets red?", 1)

	type turn struct {
		User, Content, Reasoning, Meta, Finish, State string
		ReasoningShown, ReasoningOpen                 bool
	}
	turns, err := chromedp.Run(ctx, chromedp.Evaluate[[]turn](`[...document.querySelectorAll(".msg.assistant")].map((a, i) => ({
		User: document.querySelectorAll(".msg.user")[i].textContent,
		Content: a.querySelector(".content").textContent, Reasoning: a.querySelector(".reasoning-text").textContent,
		ReasoningShown: !a.querySelector("details.reasoning").hidden, ReasoningOpen: a.querySelector("details.reasoning").open,
		Meta: a.querySelector(".meta").textContent, Finish: a.dataset.finish ?? "", State: a.dataset.state}))`))
	if err != nil {
		t.Fatal(err)
	}
	if len(turns) != 2 || turns[0].User != "Why is the sky blue?" || turns[1].User != "And why are sunsets red?" {
		t.Fatalf("turns %+v", turns)
	}
	// Each reply shows the usage the daemon counted, as its log line has it.
	lines := regexp.MustCompile(`"path":"/v1/chat/completions","status":200.*?"prompt_tokens":(\d+),"gen_tokens":(\d+)`).FindAllStringSubmatch(logs.String(), -1)
	if len(lines) != 2 {
		t.Fatalf("%d chat log lines:\n%s", len(lines), logs.String())
	}
	if turns[0].Content == "" || turns[0].ReasoningShown {
		t.Errorf("turn 0 (no thinking): %+v", turns[0])
	}
	if turns[1].Reasoning == "" || !turns[1].ReasoningShown || turns[1].ReasoningOpen {
		t.Errorf("turn 1 (thinking): reasoning not shown collapsed: %+v", turns[1])
	}
	prevPrompt, prevGen := 0, 0
	for i, tr := range turns {
		prompt, gen := lines[i][1], lines[i][2]
		if tr.State != "done" || (tr.Finish != "stop" && tr.Finish != "length") {
			t.Errorf("turn %d: %+v", i, tr)
		}
		if !strings.Contains(tr.Meta, prompt+" prompt tokens") || !strings.Contains(tr.Meta, gen+" completion tokens") {
			t.Errorf("turn %d meta %q, daemon counted %s prompt and %s generated", i, tr.Meta, prompt, gen)
		}
		// The second request carries the first exchange, whose reply alone
		// is about as many tokens as were generated for it.
		p, _ := strconv.Atoi(prompt)
		if p <= prevPrompt+prevGen/2 {
			t.Errorf("turn %d: prompt of %d tokens after %d + %d generated: history not sent", i, p, prevPrompt, prevGen)
		}
		prevPrompt = p
		prevGen, _ = strconv.Atoi(gen)
	}
	browsertest.Screenshot(t, ctx, "chat-page.png")

	// The daemon's metrics describe the build and count both requests.
	req, _ := http.NewRequest("GET", base+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+e2eKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	metrics, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	finished := map[string]int{}
	for _, tr := range turns {
		finished[tr.Finish]++
	}
	for _, want := range []string{
		`neuron_request_success_total{finish_reason="stop",model="qwen3-mini"} ` + strconv.Itoa(finished["stop"]),
		`neuron_request_success_total{finish_reason="length",model="qwen3-mini"} ` + strconv.Itoa(finished["length"]),
		`neuron_build_info{backend="` + backends() + `",flavour="` + kernels.Current().Name + `",goversion="` + runtime.Version() + `",version="` + version + `"} 1`,
		"neuron_models_loaded 1",
		`neuron_e2e_request_latency_seconds_count{model="qwen3-mini"} 2`,
	} {
		if !strings.Contains(string(metrics), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
}
