// The dashboard tested in a real headless Chromium (Debian's chromium,
// driven with chromedp): it asks for the API key, renders the neurons as
// cards from /cortex/status, and refreshes itself as requests happen. Set
// CORTEX_DASHBOARD_SCREENSHOT=path.png to keep the screenshot it takes.

package cortex

import (
	"bytes"
	"context"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/helexa/helexa/api"
)

// findChromium returns the chromium binary, skipping the test without one.
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("skipping: no chromium on PATH (Debian: apt-get install chromium)")
	return ""
}

func TestDashboardInChromium(t *testing.T) {
	if testing.Short() {
		t.Skip("skipping the browser test in -short mode")
	}
	browser := findChromium(t)
	a := newFakeNeuron(t, okStream(3), "qwen3-mini")
	a.setModels(api.ModelEntry{ID: "qwen3-mini", Status: api.StatusReady, KVCacheUsage: 0.4, Queued: 1},
		api.ModelEntry{ID: "<b>evil</b>", Status: api.StatusLoading}, api.ModelEntry{ID: "on-demand", Status: api.StatusNotLoaded})
	a.setBudget(3 << 30)
	b := newFakeNeuron(t, okJSON("b"), "other")
	cfg := testConfig(a.url(), b.url())
	cfg.APIKeys = []string{"dash-key"}
	g, srv := newTestGateway(t, cfg)
	b.stop()
	g.PollNow(context.Background())
	g.PollNow(context.Background())
	send := func(model string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v1/chat/completions", strings.NewReader(`{"model":"`+model+`","stream":true}`))
		req.Header.Set("Authorization", "Bearer dash-key")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	send("qwen3-mini")
	send("missing-model")

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(browser), chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true), chromedp.WindowSize(1280, 900))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 60*time.Second)
	defer cancelTimeout()

	for i, step := range []chromedp.Action[chromedp.Void]{
		chromedp.Navigate(srv.URL + "/"),
		chromedp.WaitVisible("#keyform"), // the status needs a key
		chromedp.SendKeys("#key", "dash-key"),
		chromedp.Click(`#keyform button`),
		chromedp.WaitVisible(`body[data-loaded="true"]`),
	} {
		if err := chromedp.Do(ctx, step); err != nil {
			t.Fatalf("browser step %d: %v", i, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return s
	}
	eval := func(js string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](js))
		if err != nil {
			t.Fatalf("%s: %v", js, err)
		}
		return s
	}
	summary := text("#summary")
	cards := eval(`String(document.querySelectorAll(".card.neuron").length)`)
	upCards := eval(`String(document.querySelectorAll(".card.neuron.up").length)`)
	recentRows := eval(`String(document.querySelectorAll("#recent tbody tr").length)`)
	// A model id set as HTML would read "evil"; set as text it keeps its tags.
	evil := eval(`String([...document.querySelectorAll(".models span")].some(s => s.textContent === "<b>evil</b>"))`)
	neuronText := text(".card.neuron.up")
	loadableOn := eval(`[...document.querySelectorAll("#models tbody tr")].find(r => r.cells[0].textContent === "on-demand")?.cells[3].textContent || ""`)
	if loadableOn != a.url() {
		t.Errorf("on-demand shown loadable on %q, want %s", loadableOn, a.url())
	}
	if summary != "1 of 2 neurons up · 1 of 4 models served" {
		t.Errorf("summary %q", summary)
	}
	if cards != "2" || upCards != "1" || recentRows != "2" {
		t.Errorf("%s cards (%s up), %s recent rows", cards, upCards, recentRows)
	}
	if evil != "true" {
		t.Errorf("a model id from a neuron was rendered as HTML")
	}
	for _, want := range []string{a.url(), "qwen3-mini", "ready", "loading", "queue 1", "KV 40%", "free 3.0 GiB"} {
		if !strings.Contains(neuronText, want) {
			t.Errorf("the up neuron's card lacks %q: %q", want, neuronText)
		}
	}

	// The page refreshes itself: a new request shows up without a reload.
	send("qwen3-mini")
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`#recent tbody tr:nth-child(3)`)); err != nil {
		t.Fatalf("no refresh: %v", err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if b := img.Bounds(); b.Dx() < 1000 || b.Dy() < 400 {
		t.Errorf("screenshot %v", b)
	}
	if path := os.Getenv("CORTEX_DASHBOARD_SCREENSHOT"); path != "" {
		if err := os.WriteFile(path, shot, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
