// End-to-end tests of the wider API surface against the real daemon with a
// reference mini model, driven by the official OpenAI Go client: several
// choices per request (n=3, plain and streamed, each choice equal to a
// single request with seed+i), embeddings (strings, token ids, base64,
// dimensions; a batch equals its inputs alone), and the 404 for an unknown
// model that names the loaded ones.

package main

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"

	"github.com/helexa/helexa/internal/reftest"
)

// startEngine starts a daemon with the real engine under cfg, stopped with
// SIGTERM when the test ends, and returns its base URL and its log.
func startEngine(t *testing.T, cfg *Config) (string, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	mgr := newEngineManager(cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	base, sigs, done := startDaemon(t, cfg, mgr, logs)
	t.Cleanup(func() {
		sigs <- syscall.SIGTERM
		if err := <-done; err != nil {
			t.Errorf("run: %v", err)
		}
	})
	return base, logs
}

// serveModels starts a daemon (CPU, context 512, no API key, a queue of 4)
// serving the given models, stopped with SIGTERM when the test ends, and
// returns its base URL.
func serveModels(t *testing.T, models ...DefaultModel) string {
	t.Helper()
	base, _ := startEngine(t, &Config{
		// A queue, so that a request sent as the previous stream's last
		// bytes arrive waits for its handler to return instead of a 503.
		MaxQueue:      4,
		Hub:           HubConfig{CacheDir: t.TempDir(), Offline: true},
		Engine:        EngineConfig{Device: "cpu", Threads: 2, CtxSize: 512},
		DefaultModels: models,
	})
	return base
}

// surfaceDaemon starts a daemon serving mini-f32 as "mini" (and mini-q8_0
// as "mini-q8") and returns an OpenAI client for it and its base URL.
func surfaceDaemon(t *testing.T) (openai.Client, string) {
	t.Helper()
	base := serveModels(t, DefaultModel{Model: reftest.Model(t, "mini-f32"), Alias: "mini"},
		DefaultModel{Model: reftest.Model(t, "mini-q8_0"), Alias: "mini-q8"})
	return openai.NewClient(option.WithBaseURL(base+"/v1/"), option.WithAPIKey("unused"), option.WithMaxRetries(0)), base
}

func TestEndToEndChoices(t *testing.T) {
	client, _ := surfaceDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var bias map[string]int64
	if err := json.Unmarshal([]byte(banEOG(t, reftest.Model(t, "mini-f32"))), &bias); err != nil {
		t.Fatal(err)
	}
	const maxTokens, seed = 8, 7
	params := openai.ChatCompletionNewParams{
		Model:           "mini",
		Messages:        []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Name three colours.")},
		MaxTokens:       openai.Int(maxTokens),
		Temperature:     openai.Float(1.2),
		Seed:            openai.Int(seed),
		LogitBias:       bias, // no end of generation: every choice runs to max_tokens
		ReasoningEffort: "none",
		N:               openai.Int(3),
	}

	cc, err := client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if len(cc.Choices) != 3 {
		t.Fatalf("%d choices: %s", len(cc.Choices), cc.RawJSON())
	}
	texts := make([]string, 3)
	for i, ch := range cc.Choices {
		if ch.Index != int64(i) || ch.FinishReason != "length" || ch.Message.Role != "assistant" {
			t.Errorf("choice %d: %s", i, ch.RawJSON())
		}
		texts[i] = ch.Message.Content
	}
	if u := cc.Usage; u.CompletionTokens != 3*maxTokens || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
		t.Errorf("usage %s: want %d completion tokens (3 choices of %d)", u.RawJSON(), 3*maxTokens, maxTokens)
	}
	t.Logf("choices %q", texts)
	if texts[0] == texts[1] && texts[1] == texts[2] {
		t.Errorf("three identical choices %q: the sampling streams are not separate", texts[0])
	}

	// Choice i is what a single request with seed+i gives.
	for i := range 3 {
		one := params
		one.N = openai.Int(1)
		one.Seed = openai.Int(int64(seed + i))
		r, err := client.Chat.Completions.New(ctx, one)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Choices) != 1 || r.Choices[0].Message.Content != texts[i] {
			t.Errorf("choice %d %q; alone with seed %d: %s", i, texts[i], seed+i, r.RawJSON())
		}
		if r.Usage.PromptTokens != cc.Usage.PromptTokens {
			t.Errorf("prompt counted %d times %d", cc.Usage.PromptTokens, r.Usage.PromptTokens)
		}
	}

	// Streamed, the same three choices arrive by index, each with its role
	// first and its finish reason last.
	sp := params
	sp.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	stream := client.Chat.Completions.NewStreaming(ctx, sp)
	got := make([]strings.Builder, 3)
	roles, finishes := make([]int, 3), make([]string, 3)
	var usage openai.CompletionUsage
	for stream.Next() {
		ch := stream.Current()
		if ch.JSON.Usage.Valid() && len(ch.Choices) == 0 {
			usage = ch.Usage
			continue
		}
		for _, c := range ch.Choices {
			if c.Index < 0 || c.Index > 2 {
				t.Fatalf("chunk for choice %d: %s", c.Index, ch.RawJSON())
			}
			i := c.Index
			if finishes[i] != "" {
				t.Errorf("choice %d: chunk after its finish: %s", i, ch.RawJSON())
			}
			if c.Delta.Role == "assistant" {
				roles[i]++
			}
			got[i].WriteString(c.Delta.Content)
			if c.FinishReason != "" {
				finishes[i] = string(c.FinishReason)
			}
		}
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		if roles[i] != 1 || finishes[i] != "length" || got[i].String() != texts[i] {
			t.Errorf("streamed choice %d: %d role chunks, finish %q, text %q (unstreamed %q)", i, roles[i], finishes[i], got[i].String(), texts[i])
		}
	}
	if usage.CompletionTokens != 3*maxTokens {
		t.Errorf("stream usage %s", usage.RawJSON())
	}

	// Text completions take n as well.
	cp, err := client.Completions.New(ctx, openai.CompletionNewParams{
		Model:     "mini",
		Prompt:    openai.CompletionNewParamsPromptUnion{OfString: openai.String("Once upon a time")},
		MaxTokens: openai.Int(5), N: openai.Int(2), Seed: openai.Int(3), LogitBias: bias,
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(cp.Choices) != 2 || cp.Choices[1].Index != 1 || cp.Usage.CompletionTokens != 10 {
		t.Errorf("completions n=2: %s", cp.RawJSON())
	}

	// n beyond 8 is refused.
	big := params
	big.N = openai.Int(9)
	_, err = client.Chat.Completions.New(ctx, big)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "n" {
		t.Errorf("n=9: %v", err)
	}
}

func TestEndToEndUnknownModelNamesLoaded(t *testing.T) {
	client, _ := surfaceDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	_, err := client.Chat.Completions.New(ctx, openai.ChatCompletionNewParams{
		Model: "mini-f16", Messages: []openai.ChatCompletionMessageParamUnion{openai.UserMessage("hi")}})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || apiErr.Code != "model_not_found" || apiErr.Param != "model" {
		t.Fatalf("unknown model: %v", err)
	}
	if want := `the model "mini-f16" is not loaded; loaded: mini, mini-q8`; apiErr.Message != want {
		t.Errorf("message %q, want %q", apiErr.Message, want)
	}
	_, err = client.Models.Get(ctx, "nope")
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 404 || !strings.Contains(apiErr.Message, "loaded: mini, mini-q8") {
		t.Errorf("retrieve unknown model: %v", err)
	}
}

func TestEndToEndEmbeddings(t *testing.T) {
	client, _ := surfaceDaemon(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	embed := func(p openai.EmbeddingNewParams) *openai.CreateEmbeddingResponse {
		t.Helper()
		p.Model = "mini"
		r, err := client.Embeddings.New(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	norm := func(v []float64) float64 {
		var s float64
		for _, x := range v {
			s += x * x
		}
		return math.Sqrt(s)
	}
	texts := []string{"The sky is blue.", "Sunsets are red.", "The sky is blue."}
	batch := embed(openai.EmbeddingNewParams{Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfStrings: texts}})
	if len(batch.Data) != 3 || batch.Model != "mini" || batch.Usage.PromptTokens <= 0 || batch.Usage.TotalTokens != batch.Usage.PromptTokens {
		t.Fatalf("response %s", batch.RawJSON())
	}
	tokens := int64(0)
	for i, d := range batch.Data {
		if d.Index != int64(i) || len(d.Embedding) != 256 || math.Abs(norm(d.Embedding)-1) > 1e-5 {
			t.Errorf("data[%d]: index %d, %d dims, norm %.6f", i, d.Index, len(d.Embedding), norm(d.Embedding))
		}
		// Each input alone (a string) gives the vector it has in the batch.
		one := embed(openai.EmbeddingNewParams{Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String(texts[i])}})
		tokens += one.Usage.PromptTokens
		if d := maxAbsDiff(one.Data[0].Embedding, d.Embedding); d > 1e-5 {
			t.Errorf("input %d alone differs from batched by %.3g", i, d)
		}
	}
	if tokens != batch.Usage.PromptTokens {
		t.Errorf("batch counted %d tokens, the inputs alone %d", batch.Usage.PromptTokens, tokens)
	}
	if maxAbsDiff(batch.Data[0].Embedding, batch.Data[2].Embedding) > 1e-6 || maxAbsDiff(batch.Data[0].Embedding, batch.Data[1].Embedding) < 1e-3 {
		t.Error("equal texts should embed equally and different texts differently")
	}

	// Token ids, base64 (decoded by the client), and dimensions.
	ids := embed(openai.EmbeddingNewParams{Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfTokenArrays: [][]int64{{11, 22, 33}, {44}}},
		EncodingFormat: openai.EmbeddingNewParamsEncodingFormatBase64})
	floatIDs := embed(openai.EmbeddingNewParams{Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfTokens: []int64{11, 22, 33}}})
	if !strings.HasPrefix(ids.Data[0].JSON.Embedding.Raw(), `"`) || ids.Usage.PromptTokens != 4 {
		t.Errorf("base64 response %s", ids.RawJSON())
	}
	// The same vector (batched with another input in the first request, so
	// equal to rounding; the server test checks the encoding bit for bit).
	if d := maxAbsDiff(ids.Data[0].Embedding, floatIDs.Data[0].Embedding); d > 1e-5 {
		t.Errorf("base64 (batched) and float (alone) differ by %g", d)
	}
	short := embed(openai.EmbeddingNewParams{Input: openai.EmbeddingNewParamsInputUnion{OfArrayOfTokens: []int64{11, 22, 33}},
		Dimensions: openai.Int(64)})
	v := short.Data[0].Embedding
	full := floatIDs.Data[0].Embedding
	if len(v) != 64 || math.Abs(norm(v)-1) > 1e-5 {
		t.Fatalf("dimensions 64: %d dims, norm %.6f", len(v), norm(v))
	}
	scale := norm(full[:64])
	for i := range v {
		if math.Abs(v[i]-full[i]/scale) > 1e-6 {
			t.Fatalf("dimensions 64: element %d is %g, want the normalized prefix %g", i, v[i], full[i]/scale)
		}
	}

	_, err := client.Embeddings.New(ctx, openai.EmbeddingNewParams{Model: "mini",
		Input: openai.EmbeddingNewParamsInputUnion{OfString: openai.String("x")}, Dimensions: openai.Int(999)})
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "dimensions" {
		t.Errorf("dimensions 999: %v", err)
	}
}
