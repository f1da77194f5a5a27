// JSON mode over HTTP: the server, the engine adapter and the engine with a
// reference mini model, driven by the OpenAI Go client with
// response_format json_object, streaming and not. The model has random
// weights; JSON mode alone must make its content one JSON object.

package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/gguf"
	"github.com/helexa/helexa/internal/reftest"
	"github.com/helexa/helexa/server"
	"github.com/helexa/helexa/tokenizer"
)

// checkNoJSONUnasked sends params without response_format and with at most
// maxTokens tokens, the control that shows the model does not write JSON
// on its own; the test is skipped where it happens to.
func checkNoJSONUnasked(ctx context.Context, t *testing.T, client openai.Client, params openai.ChatCompletionNewParams, maxTokens int64) {
	t.Helper()
	params.ResponseFormat = openai.ChatCompletionNewParamsResponseFormatUnion{}
	params.MaxTokens = openai.Int(maxTokens)
	cc, err := client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if json.Valid([]byte(cc.Choices[0].Message.Content)) {
		t.Skipf("the model happened to write JSON unasked: %q", cc.Choices[0].Message.Content)
	}
}

func TestChatJSONModeHTTP(t *testing.T) {
	model := reftest.Model(t, "mini-q8_0")
	cfg := &Config{
		Hub:    HubConfig{CacheDir: t.TempDir(), Offline: true},
		Engine: EngineConfig{Device: "cpu", Threads: 2, CtxSize: 512, ModelDirs: []string{filepath.Dir(model)}},
	}
	log := slog.New(slog.DiscardHandler)
	mgr := newEngineManager(cfg, log)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := mgr.Load(ctx, api.LoadRequest{Model: model, Alias: "mini"}); err != nil {
		t.Fatal(err)
	}
	defer mgr.Unload(context.Background(), "mini")
	srv := server.New(server.Options{Models: mgr, Logger: log, MaxQueue: 2})
	srv.SetState(server.StateReady)
	hs := httptest.NewServer(srv.Handler())
	defer hs.Close()
	client := openai.NewClient(option.WithBaseURL(hs.URL+"/v1/"), option.WithAPIKey("unused"), option.WithMaxRetries(0))

	// The random model spreads its probability over the whole vocabulary;
	// a logit bias on the quote and the closing brace lets strings and the
	// object end within max_tokens.
	f, err := gguf.Open(model)
	if err != nil {
		t.Fatal(err)
	}
	tok, err := tokenizer.FromGGUF(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	bias := map[string]int64{}
	for s, b := range map[string]int64{`"`: 6, "}": 3} {
		ids := tok.Encode(s)
		if len(ids) != 1 {
			t.Fatalf("%q is %d tokens", s, len(ids))
		}
		bias[strconv.Itoa(int(ids[0]))] = b
	}
	jsonFormat := openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONObject: &shared.ResponseFormatJSONObjectParam{}}
	params := openai.ChatCompletionNewParams{
		Model:          "mini",
		Messages:       []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Describe a cat as a JSON object.")},
		MaxTokens:      openai.Int(200),
		Temperature:    openai.Float(1),
		Seed:           openai.Int(11),
		LogitBias:      bias,
		ResponseFormat: jsonFormat,
	}

	t.Run("text without json mode", func(t *testing.T) {
		// The same request without response_format: the control that
		// shows the model does not write JSON on its own.
		checkNoJSONUnasked(ctx, t, client, params, 30)
	})

	var content string
	t.Run("chat", func(t *testing.T) {
		cc, err := client.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		ch := cc.Choices[0]
		if ch.FinishReason != "stop" {
			t.Fatalf("finish_reason %q after %d tokens: %q", ch.FinishReason, cc.Usage.CompletionTokens, ch.Message.Content)
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(ch.Message.Content), &obj); err != nil || obj == nil {
			t.Fatalf("content %q is not a JSON object: %v", ch.Message.Content, err)
		}
		if _, ok := ch.Message.JSON.ExtraFields["reasoning_content"]; ok {
			t.Fatalf("reasoning with thinking off by default: %s", ch.RawJSON())
		}
		content = ch.Message.Content
	})

	t.Run("stream", func(t *testing.T) {
		stream := client.Chat.Completions.NewStreaming(ctx, params)
		var b strings.Builder
		finish := ""
		for stream.Next() {
			for _, ch := range stream.Current().Choices {
				b.WriteString(ch.Delta.Content)
				if ch.FinishReason != "" {
					finish = ch.FinishReason
				}
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(b.String()), &obj); err != nil || obj == nil || finish != "stop" {
			t.Fatalf("streamed content %q (finish %q) is not a JSON object: %v", b.String(), finish, err)
		}
		if content != "" && b.String() != content {
			t.Fatalf("same seed streamed %q, answered %q", b.String(), content)
		}
	})

	t.Run("length", func(t *testing.T) {
		p := params
		p.MaxTokens = openai.Int(3)
		p.LogitBias = nil
		cc, err := client.Chat.Completions.New(ctx, p)
		if err != nil {
			t.Fatal(err)
		}
		ch := cc.Choices[0]
		if ch.FinishReason != "length" || cc.Usage.CompletionTokens != 3 || !strings.HasPrefix(strings.TrimSpace(ch.Message.Content), "{") {
			t.Fatalf("finish_reason %q after %d tokens, content %q: want length after 3 and an open object", ch.FinishReason, cc.Usage.CompletionTokens, ch.Message.Content)
		}
	})
}
