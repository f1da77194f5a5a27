// End-to-end tests: the real daemon (engine, CPU backend, hub client) with a
// reference mini model as a default model, driven by the official OpenAI Go
// client — model list, chat, a stream with usage whose every chunk is
// checked, completions, errors — and as a real process that receives SIGTERM
// in the middle of a stream. The mini model has random weights: the tests
// check shapes, counts and consistency, not text.

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/packages/respjson"
	"github.com/openai/openai-go/v3/shared"

	"github.com/helexa/helexa/gguf"
	"github.com/helexa/helexa/internal/reftest"
	"github.com/helexa/helexa/tokenizer"
)

const e2eKey = "e2e-secret"

func TestEndToEndOpenAIClient(t *testing.T) {
	model := reftest.Model(t, "mini-f32")
	var logs syncBuffer
	cfg := &Config{
		APIKeys:  []string{e2eKey},
		MaxQueue: 4,
		Hub:      HubConfig{CacheDir: t.TempDir(), Offline: true},
		Engine:   EngineConfig{Device: "cpu", Threads: 2, CtxSize: 512},
		DefaultModels: []DefaultModel{
			{Model: model, Alias: "mini"},
			{Model: "Qwen/Qwen3-0.6B-GGUF:Q8_0"}, // not cached, hub offline: reported, skipped
		},
	}
	mgr := newEngineManager(cfg, slog.New(slog.NewJSONHandler(&logs, nil)))
	base, sigs, done := startDaemon(t, cfg, mgr, &logs)
	defer func() {
		sigs <- syscall.SIGTERM
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
		if !strings.Contains(logs.String(), `"msg":"model unloaded","model":"mini"`) {
			t.Errorf("mini not unloaded at exit")
		}
	}()

	// The missing hub model is explained in the log, and the daemon serves anyway.
	if !regexp.MustCompile(`default model not loaded.*Qwen/Qwen3-0.6B-GGUF:Q8_0.*not in the hub cache and the hub is offline`).MatchString(logs.String()) {
		t.Errorf("no clear reason for the missing hub model in the log:\n%s", logs.String())
	}

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	client := openai.NewClient(option.WithBaseURL(base+"/v1/"), option.WithAPIKey(e2eKey), option.WithMaxRetries(0))

	t.Run("models", func(t *testing.T) {
		page, err := client.Models.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(page.Data) != 1 || page.Data[0].ID != "mini" || page.Data[0].OwnedBy != "neuron" || page.Data[0].Created == 0 {
			t.Errorf("models %+v", page.Data)
		}
	})

	params := openai.ChatCompletionNewParams{
		Model:       "mini",
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("Hello!")},
		MaxTokens:   openai.Int(12),
		Temperature: openai.Float(0), // greedy: the stream must repeat the same text
	}
	var text string
	t.Run("chat", func(t *testing.T) {
		cc, err := client.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(cc.ID, "chatcmpl-") || cc.Model != "mini" || cc.Created == 0 || len(cc.Choices) != 1 {
			t.Fatalf("completion %s", cc.RawJSON())
		}
		ch := cc.Choices[0]
		if ch.Message.Role != "assistant" || (ch.FinishReason != "stop" && ch.FinishReason != "length") {
			t.Errorf("choice %s", ch.RawJSON())
		}
		u := cc.Usage
		if u.PromptTokens <= 0 || u.CompletionTokens <= 0 || u.CompletionTokens > 12 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
			t.Errorf("usage %s", u.RawJSON())
		}
		if ch.FinishReason == "length" && u.CompletionTokens != 12 {
			t.Errorf("finish_reason length after %d of 12 tokens", u.CompletionTokens)
		}
		text = reasoningOf(ch.Message.JSON.ExtraFields) + "|" + ch.Message.Content
	})

	t.Run("stream with usage", func(t *testing.T) {
		sp := params
		sp.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
		stream := client.Chat.Completions.NewStreaming(ctx, sp)
		var chunks []openai.ChatCompletionChunk
		for stream.Next() {
			chunks = append(chunks, stream.Current())
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if len(chunks) < 3 {
			t.Fatalf("%d chunks", len(chunks))
		}
		var content, reasoning string
		finishes := 0
		for i, ch := range chunks {
			if ch.ID != chunks[0].ID || !strings.HasPrefix(ch.ID, "chatcmpl-") || ch.Object != "chat.completion.chunk" ||
				ch.Model != "mini" || ch.Created != chunks[0].Created {
				t.Errorf("chunk %d envelope: %s", i, ch.RawJSON())
			}
			last := i == len(chunks)-1
			if last {
				if len(ch.Choices) != 0 || !ch.JSON.Usage.Valid() || !strings.Contains(ch.RawJSON(), `"choices":[]`) {
					t.Errorf("usage chunk %s", ch.RawJSON())
				}
				u := ch.Usage
				if u.CompletionTokens <= 0 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
					t.Errorf("stream usage %s", u.RawJSON())
				}
				continue
			}
			if len(ch.Choices) != 1 || ch.Choices[0].Index != 0 || ch.JSON.Usage.Valid() {
				t.Errorf("chunk %d: %s", i, ch.RawJSON())
				continue
			}
			d := ch.Choices[0].Delta
			if i == 0 && (d.Role != "assistant" || !d.JSON.Content.Valid() || d.Content != "") {
				t.Errorf("first chunk must carry the role: %s", ch.RawJSON())
			}
			if i > 0 && d.Role != "" {
				t.Errorf("role repeated in chunk %d", i)
			}
			if fr := ch.Choices[0].FinishReason; fr != "" {
				finishes++
				if i != len(chunks)-2 || (fr != "stop" && fr != "length") {
					t.Errorf("finish_reason %q in chunk %d of %d", fr, i, len(chunks))
				}
			} else if i > 0 && d.Content == "" && reasoningOf(d.JSON.ExtraFields) == "" && len(d.ToolCalls) == 0 {
				t.Errorf("chunk %d carries nothing: %s", i, ch.RawJSON())
			}
			content += d.Content
			reasoning += reasoningOf(d.JSON.ExtraFields)
		}
		if finishes != 1 {
			t.Errorf("%d chunks with a finish_reason", finishes)
		}
		if got := reasoning + "|" + content; text != "" && got != text {
			t.Errorf("greedy stream differs from the non-streamed answer:\nstream %q\nplain  %q", got, text)
		}
	})

	t.Run("tool round trip with logprobs", func(t *testing.T) {
		// The assistant's earlier tool call comes back as the SDK turns a
		// response message into a parameter.
		var prior openai.ChatCompletionMessage
		if err := json.Unmarshal([]byte(`{"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function",`+
			`"function":{"name":"get_weather","arguments":"{\"city\":\"Paris\"}"}}]}`), &prior); err != nil {
			t.Fatal(err)
		}
		tool := openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
			Name:        "get_weather",
			Description: openai.String("Current weather of a city"),
			Parameters: shared.FunctionParameters{"type": "object",
				"properties": map[string]any{"city": map[string]any{"type": "string"}}, "required": []string{"city"}},
		})
		cc, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "mini",
			Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Weather in Paris?"), prior.ToParam(),
				openai.ToolMessage(`{"temp_c":21}`, "call_1")},
			Tools:           []openai.ChatCompletionToolUnionParam{tool},
			ToolChoice:      openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("auto")},
			ReasoningEffort: "none",
			MaxTokens:       openai.Int(8),
			Logprobs:        openai.Bool(true),
			TopLogprobs:     openai.Int(2),
		})
		if err != nil {
			t.Fatal(err)
		}
		ch := cc.Choices[0]
		switch ch.FinishReason {
		case "stop", "length":
		case "tool_calls":
			for _, tc := range ch.Message.ToolCalls {
				if tc.ID == "" || tc.Function.Name == "" || !json.Valid([]byte(tc.Function.Arguments)) {
					t.Errorf("tool call %s", tc.RawJSON())
				}
			}
		default:
			t.Errorf("finish_reason %q", ch.FinishReason)
		}
		lps := ch.Logprobs.Content
		if len(lps) == 0 || len(lps) > int(cc.Usage.CompletionTokens) {
			t.Fatalf("%d logprobs for %d tokens: %s", len(lps), cc.Usage.CompletionTokens, ch.Logprobs.RawJSON())
		}
		for _, lp := range lps {
			if lp.Logprob > 0 || len(lp.TopLogprobs) != 2 || lp.TopLogprobs[0].Logprob < lp.TopLogprobs[1].Logprob {
				t.Errorf("logprob %s", lp.RawJSON())
			}
		}
	})

	t.Run("completions", func(t *testing.T) {
		cp, err := client.Completions.New(ctx, openai.CompletionNewParams{
			Model:     "mini",
			Prompt:    openai.CompletionNewParamsPromptUnion{OfString: openai.String("The capital of France is")},
			MaxTokens: openai.Int(5),
		})
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(cp.ID, "cmpl-") || len(cp.Choices) != 1 || cp.Usage.CompletionTokens <= 0 || cp.Usage.CompletionTokens > 5 {
			t.Errorf("completion %s", cp.RawJSON())
		}
	})

	t.Run("errors", func(t *testing.T) {
		_, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "Qwen/Qwen3-0.6B-GGUF:Q8_0", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("x")}})
		var apiErr *openai.Error
		// A default model that failed to load: 503 so that a gateway tries
		// another neuron, with the reason.
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 503 || apiErr.Code != "model_failed" || !strings.Contains(apiErr.Message, "offline") {
			t.Errorf("failed default model: %v", err)
		}
		long := strings.Repeat("hello world ", 300) // over the 512-token context
		_, err = client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
			Model: "mini", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage(long)}})
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "context_length_exceeded" {
			t.Fatalf("long prompt: %v", err)
		}
		var body struct {
			Error struct {
				NPromptTokens int `json:"n_prompt_tokens"`
				NCtx          int `json:"n_ctx"`
			} `json:"error"`
		}
		if json.Unmarshal([]byte(apiErr.RawJSON()), &body.Error); body.Error.NCtx != 512 || body.Error.NPromptTokens <= 512 {
			t.Errorf("context error counts: %s", apiErr.RawJSON())
		}
		bad := openai.NewClient(option.WithBaseURL(base+"/v1/"), option.WithAPIKey("wrong"), option.WithMaxRetries(0))
		_, err = bad.Models.List(ctx)
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 401 {
			t.Errorf("wrong key: %v", err)
		}
	})

	t.Run("management", func(t *testing.T) {
		call := func(method, path, body string) (int, string) {
			req, _ := http.NewRequestWithContext(ctx, method, base+path, strings.NewReader(body))
			req.Header.Set("Authorization", "Bearer "+e2eKey)
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			return resp.StatusCode, string(b)
		}
		notGGUF := filepath.Join(t.TempDir(), "notes.gguf")
		os.WriteFile(notGGUF, []byte("this is not a model"), 0o644)
		q8 := filepath.Join(filepath.Dir(model), "mini-q8_0.gguf")
		for _, tc := range []struct {
			name, method, path, body string
			status                   int
			has                      string
		}{
			{"load missing file", "POST", "/models/load", `{"model":"/nonexistent/x.gguf"}`, 404, `"code":"model_not_found"`},
			// Outside the model directories (the default model's): the same
			// answer as a missing file.
			{"load a file outside the model dirs", "POST", "/models/load", `{"model":"` + notGGUF + `"}`, 404, `"code":"model_not_found"`},
			{"load", "POST", "/models/load", `{"model":"` + q8 + `","alias":"q8","ctx_size":256}`, 200, `"ctx_size":256`},
			{"load again", "POST", "/models/load", `{"model":"` + q8 + `","alias":"q8"}`, 200, `"id":"q8"`},
			{"listed", "GET", "/models", ``, 200, `"id":"q8"`},
			{"endpoint", "GET", "/models/q8/endpoint", ``, 200, `"endpoint":"` + base + `/v1"`},
			{"chat", "POST", "/v1/chat/completions", `{"model":"q8","max_tokens":3,"messages":[{"role":"user","content":"hi"}]}`, 200, `"object":"chat.completion"`},
			{"unload", "POST", "/models/unload", `{"model":"q8"}`, 200, `"status":"unloaded"`},
			{"chat after unload", "POST", "/v1/chat/completions", `{"model":"q8","messages":[{"role":"user","content":"hi"}]}`, 404, `"code":"model_not_found"`},
			{"unload again", "POST", "/models/unload", `{"model":"q8"}`, 404, `"code":"model_not_found"`},
		} {
			status, body := call(tc.method, tc.path, tc.body)
			if status != tc.status || !strings.Contains(body, tc.has) {
				t.Errorf("%s: %d %s, want %d with %s", tc.name, status, body, tc.status, tc.has)
			}
		}
	})

	t.Run("metrics", func(t *testing.T) {
		req, _ := http.NewRequestWithContext(ctx, "GET", base+"/metrics", nil)
		req.Header.Set("Authorization", "Bearer "+e2eKey)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, want := range []string{`neuron_generation_tokens_total{model="mini"}`, `neuron_time_to_first_token_seconds_count{model="mini"}`,
			`neuron_kv_cache_usage_ratio{model="mini"} 0`, `neuron_model_load_seconds{model="mini"}`} {
			if !strings.Contains(string(b), want) {
				t.Errorf("metrics lack %s", want)
			}
		}
	})
}

// reasoningOf returns the reasoning_content extra field of a message or delta.
func reasoningOf(extra map[string]respjson.Field) string {
	f, ok := extra["reasoning_content"]
	if !ok {
		return ""
	}
	var s string
	json.Unmarshal([]byte(f.Raw()), &s)
	return s
}

// daemonProcessEnv makes the test binary run `neuron` with the arguments in
// it (see TestDaemonProcessHelper).
const daemonProcessEnv = "HELEXA_TEST_NEURON_ARGS"

// TestDaemonProcessHelper is the body of the subprocess that
// TestDaemonProcessSIGTERM starts; it does nothing in a normal run.
func TestDaemonProcessHelper(t *testing.T) {
	args := os.Getenv(daemonProcessEnv)
	if args == "" {
		return
	}
	rootCmd.SetArgs(strings.Split(args, "\x1f"))
	if err := rootCmd.Execute(); err != nil {
		os.Stderr.WriteString("neuron: " + err.Error() + "\n")
		os.Exit(1)
	}
	os.Exit(0)
}

func TestDaemonProcessSIGTERM(t *testing.T) {
	model := reftest.Model(t, "mini-f32")
	args := []string{"serve", "--listen", "127.0.0.1:0", "--log-format", "json", "--device", "cpu", "--threads", "1",
		"--ctx-size", "2048", "--hub-offline", "--hub-cache-dir", t.TempDir(), "--model", model}
	cmd := exec.Command(os.Args[0], "-test.run=^TestDaemonProcessHelper$")
	cmd.Env = append(os.Environ(), daemonProcessEnv+"="+strings.Join(args, "\x1f"))
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	// Read the log until the daemon says where it listens.
	lines := make(chan string, 256)
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	var log []string
	addr, loaded := "", false
	timeout := time.After(30 * time.Second)
	for addr == "" || !loaded { // it listens first, then loads its default model
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("daemon exited before listening:\n%s", strings.Join(log, "\n"))
			}
			log = append(log, l)
			var rec struct {
				Msg  string `json:"msg"`
				Addr string `json:"addr"`
			}
			if json.Unmarshal([]byte(l), &rec) == nil && rec.Msg == "neuron listening" {
				addr = rec.Addr
			}
			loaded = loaded || rec.Msg == "default models loaded"
		case <-timeout:
			t.Fatalf("daemon did not listen:\n%s", strings.Join(log, "\n"))
		}
	}

	// Banning the end-of-generation tokens makes the stream run to its
	// max_tokens, long enough for the signal to arrive in its middle (the
	// test checks that it did).
	body := `{"model":"` + model + `","stream":true,"max_tokens":1500,"temperature":0,"logit_bias":` + banEOG(t, model) +
		`,"messages":[{"role":"user","content":"hi"}]}`
	resp, err := http.Post("http://"+addr+"/v1/chat/completions", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if _, err := r.ReadString('\n'); err != nil { // the stream is under way
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	events := readEvents(r)
	for l := range lines {
		log = append(log, l)
	}
	err = cmd.Wait()
	if err != nil {
		t.Errorf("exit: %v\n%s", err, strings.Join(log, "\n"))
	}
	joined := strings.Join(events, "\n")
	if len(events) < 2 || events[len(events)-1] != "[DONE]" || strings.Contains(joined, `"error"`) ||
		!strings.Contains(joined, `"finish_reason":"length"`) {
		t.Errorf("stream did not complete after SIGTERM: %q", events[max(len(events)-3, 0):])
	}
	all := strings.Join(log, "\n")
	i, j := strings.Index(all, `"msg":"signal received`), strings.Index(all, `"msg":"model unloaded"`)
	if i < 0 || j < i || !strings.Contains(all, `"msg":"neuron stopped"`) {
		t.Errorf("shutdown sequence missing from the log:\n%s", all)
	}
	// The stream was still running when the signal came: its request line
	// (written when it ends) follows the signal's.
	if k := strings.Index(all, `"path":"/v1/chat/completions"`); k < i {
		t.Errorf("the stream ended before the signal; the test proves nothing:\n%s", all)
	}
}

// banEOG returns a logit_bias object banning the model's end-of-generation
// tokens.
func banEOG(t *testing.T, path string) string {
	t.Helper()
	f, err := gguf.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tok, err := tokenizer.FromGGUF(f)
	if err != nil {
		t.Fatal(err)
	}
	bias := map[string]int{}
	for _, id := range tok.EOG() {
		bias[strconv.Itoa(int(id))] = -100
	}
	b, _ := json.Marshal(bias)
	return string(b)
}
