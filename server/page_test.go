// Tests of the chat page: how it is served (public, embedded, no outside
// resources), and its behaviour in a real headless Chromium against a server
// whose fake model streams a scripted reply with reasoning, content, a tool
// call and usage, including the API-key flow and the stop button.

package server

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/internal/browsertest"
)

func TestChatPageServed(t *testing.T) {
	s, _ := testServer(t, Options{APIKeys: []string{"k"}}, newFakeGen())
	for _, tc := range []struct {
		path, ctype, contains string
		status                int
	}{
		{"/", "text/html", `<script src="/ui/chat.js">`, 200},
		{"/ui/chat.js", "text/javascript", "/v1/chat/completions", 200},
		{"/ui/chat.css", "text/css", "prefers-color-scheme", 200},
		{"/ui/missing.js", "application/json", "no such route", 404},
	} {
		t.Run(tc.path, func(t *testing.T) {
			rec := do(s, http.MethodGet, tc.path, "") // no API key: the page is public
			if rec.Code != tc.status || !strings.HasPrefix(rec.Header().Get("Content-Type"), tc.ctype) {
				t.Fatalf("status %d, type %q", rec.Code, rec.Header().Get("Content-Type"))
			}
			if !strings.Contains(rec.Body.String(), tc.contains) {
				t.Errorf("body lacks %q", tc.contains)
			}
		})
	}
	// The page loads nothing from elsewhere: no absolute URLs in any file.
	abs := regexp.MustCompile(`(?i)(src|href)\s*=\s*["']?(https?:)?//|@import|https?://`)
	for p := range pageFiles {
		if m := abs.FindString(do(s, http.MethodGet, p, "").Body.String()); m != "" {
			t.Errorf("%s refers outside the server: %q", p, m)
		}
	}
	// The API itself still needs the key.
	if rec := do(s, http.MethodGet, "/v1/models", ""); rec.Code != http.StatusUnauthorized {
		t.Errorf("/v1/models without a key: %d", rec.Code)
	}
}

// pageJS evaluates a JavaScript expression in the page.
func pageJS[T any](t *testing.T, ctx context.Context, expr string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr))
	if err != nil {
		t.Fatalf("%s: %v", expr, err)
	}
	return v
}

// waitJS waits until a JavaScript expression is truthy.
func waitJS(t *testing.T, ctx context.Context, expr string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](expr, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		t.Fatalf("waiting for %s: %v", expr, err)
	}
}

func TestChatPageBrowser(t *testing.T) {
	reply := newFakeGen(
		Delta{Reasoning: "The user greets me. ", Tokens: 1},
		Delta{Reasoning: "I answer briefly.", Tokens: 1},
		Delta{Content: "Hello! Here is code: ", Tokens: 1},
		Delta{Content: "`x := 1` and <b>not bold</b>", Tokens: 1},
		Delta{ToolCalls: []api.ToolCall{{Function: api.FunctionCall{Name: "get_weather", Arguments: `{"city":"Paris"}`}}}, Tokens: 1},
	)
	reply.delay = 20 * time.Millisecond
	reply.result = Result{FinishReason: "tool_calls", PromptTokens: 31, CompletionTokens: 5}
	long := make([]Delta, 400)
	for i := range long {
		long[i] = Delta{Content: "word ", Tokens: 1}
	}
	slow := newFakeGen(long...)
	slow.delay = 50 * time.Millisecond

	s, fm := testServer(t, Options{APIKeys: []string{"page-key"}}, reply)
	fm.add("slow", slow)
	hs := httptest.NewServer(s.Handler())
	defer hs.Close()

	ctx := browsertest.New(t, 1280, 860, 60*time.Second)
	if err := chromedp.Do(ctx, chromedp.Navigate(hs.URL+"/")); err != nil {
		t.Fatal(err)
	}
	// Without a key the model list is refused, and the page says so.
	waitJS(t, ctx, `document.getElementById("status").textContent.includes("API key")`)
	if err := chromedp.Do(ctx,
		chromedp.SendKeys("#api-key", "page-key"),
		chromedp.Evaluate[chromedp.Void](`document.getElementById("api-key").dispatchEvent(new Event("change"))`),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.querySelectorAll("#model option").length === 2`)
	if got := pageJS[string](t, ctx, `localStorage.getItem("neuron.apiKey")`); got != "page-key" {
		t.Errorf("stored key %q", got)
	}

	// Settings reach the request: system prompt and temperature.
	if err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`(() => {
			const m = document.getElementById("model"); m.value = "m"; m.dispatchEvent(new Event("change"));
			const t = document.getElementById("temperature"); t.value = "0.25"; t.dispatchEvent(new Event("input"));
		})()`),
		chromedp.SendKeys("#system", "Answer in one line."),
		chromedp.SendKeys("#input", "Hello there"),
		chromedp.Click("#send"),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.querySelector(".msg.assistant")?.dataset.state === "done"`)
	req := reply.lastReq.Load()
	if req == nil || len(req.Messages) != 2 || req.Messages[0].Role != "system" ||
		req.Messages[1].Role != "user" || req.Sampling.Temperature != 0.25 {
		t.Fatalf("request %+v", req)
	}

	type view struct {
		User, Content, Code, Reasoning, Summary, Tool, Args, Meta, Finish string
		Open, Bold                                                        bool
	}
	v := pageJS[view](t, ctx, `(() => {
		const a = document.querySelector(".msg.assistant");
		const q = (s) => a.querySelector(s);
		return {User: document.querySelector(".msg.user").textContent, Content: q(".content").textContent,
			Code: q(".content code")?.textContent ?? "", Reasoning: q(".reasoning-text").textContent,
			Summary: q("summary").textContent, Open: q("details.reasoning").open, Bold: !!q(".content b"),
			Tool: q(".tool-name")?.textContent ?? "", Args: q(".tool-args")?.textContent ?? "",
			Meta: q(".meta").textContent, Finish: a.dataset.finish ?? ""};
	})()`)
	checks := []struct {
		name string
		ok   bool
	}{
		{"user message", v.User == "Hello there"},
		{"content as text, not HTML", v.Content == "Hello! Here is code: x := 1 and <b>not bold</b>" && !v.Bold},
		{"inline code", v.Code == "x := 1"},
		{"reasoning", v.Reasoning == "The user greets me. I answer briefly."},
		{"reasoning collapsed", !v.Open && strings.HasPrefix(v.Summary, "Thought for ")},
		{"tool call", v.Tool == "get_weather" && strings.Contains(v.Args, `"city": "Paris"`)},
		{"usage", strings.Contains(v.Meta, "31 prompt tokens") && strings.Contains(v.Meta, "5 completion tokens")},
		{"finish reason", v.Finish == "tool_calls" && strings.Contains(v.Meta, "finish: tool_calls")},
	}
	for _, c := range checks {
		if !c.ok {
			t.Errorf("%s: %+v", c.name, v)
		}
	}
	browsertest.Screenshot(t, ctx, "chat-page-fake.png")

	// The system's dark setting gives the dark theme.
	if err := chromedp.Do(ctx, chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
		_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
		return err
	})); err != nil {
		t.Fatal(err)
	}
	if bg := pageJS[string](t, ctx, `getComputedStyle(document.body).backgroundColor`); bg != "rgb(17, 20, 24)" {
		t.Errorf("dark theme background %s", bg)
	}
	browsertest.Screenshot(t, ctx, "chat-page-fake-dark.png")

	// The stop button aborts the stream, and the server ends the generation.
	if err := chromedp.Do(ctx,
		chromedp.Evaluate[chromedp.Void](`(() => { const m = document.getElementById("model"); m.value = "slow"; m.dispatchEvent(new Event("change")); })()`),
		chromedp.SendKeys("#input", "Count forever"),
		chromedp.Click("#send"),
	); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.querySelectorAll(".msg.assistant")[1]?.querySelector(".content").textContent.length > 0`)
	if !pageJS[bool](t, ctx, `document.getElementById("send").hidden && !document.getElementById("stop").hidden`) {
		t.Error("stop button not shown while streaming")
	}
	if err := chromedp.Do(ctx, chromedp.Click("#stop")); err != nil {
		t.Fatal(err)
	}
	waitJS(t, ctx, `document.querySelectorAll(".msg.assistant")[1].dataset.state === "stopped"`)
	select {
	case <-slow.finished:
	case <-time.After(5 * time.Second):
		t.Fatal("the generation did not end after stop")
	}
	if !slow.stopped.Load() {
		t.Error("the generation finished instead of being stopped")
	}
	if n := pageJS[int](t, ctx, `document.querySelectorAll(".msg.assistant")[1].querySelector(".content").textContent.split("word").length - 1`); n >= len(long) {
		t.Errorf("all %d words arrived despite stop", n)
	}

	// The page and its files need no key; the API calls carried it.
	resp, err := http.Get(hs.URL + "/ui/chat.js")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("chat.js: %d", resp.StatusCode)
	}
}
