// Structured outputs and enforced tool calls end to end: the daemon with a
// reference mini model (random weights), driven by the official OpenAI Go
// client. response_format json_schema (strict) must give content that an
// independent validator accepts, streamed or not; a schema keyword outside
// the supported subset is a 400 naming it; a forced tool call (named, or
// required with parallel_tool_calls false) must come back as tool_calls
// whose arguments validate against the function's parameters, streamed as
// index, id and name then argument fragments; and the tool result goes
// back for a final answer.

package main

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
	"github.com/openai/openai-go/v3/shared"

	"github.com/helexa/helexa/internal/reftest"
	"github.com/helexa/helexa/internal/schematest"
)

const (
	weatherSchema = `{"type":"object","properties":{"city":{"type":"string","maxLength":20},` +
		`"temperature_c":{"type":"number","minimum":-90,"maximum":60},` +
		`"conditions":{"type":"string","enum":["sunny","cloudy","rain","snow"]},` +
		`"observed":{"type":"string","format":"date"},` +
		`"alerts":{"type":"array","maxItems":2,"items":{"type":"object","properties":{"level":{"enum":["minor","severe"]},"until":{"type":["string","null"],"format":"date-time"}},"required":["level","until"],"additionalProperties":false}}},` +
		`"required":["city","temperature_c","conditions","observed","alerts"],"additionalProperties":false}`
	weatherParams = `{"type":"object","properties":{"city":{"type":"string","maxLength":16},` +
		`"unit":{"type":"string","enum":["celsius","fahrenheit"]},"days":{"type":"integer","minimum":1,"maximum":7}},` +
		`"required":["city","unit","days"],"additionalProperties":false}`
	timeParams = `{"type":"object","properties":{"timezone":{"type":"string","maxLength":24}},"required":["timezone"],"additionalProperties":false}`
)

// rawMap decodes a JSON object for the client's parameter types.
func rawMap(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// startMini starts the daemon with the q8_0 mini model as "mini" and
// stops it when the test ends.
func startMini(t *testing.T) string {
	t.Helper()
	base, _ := startEngine(t, &Config{
		MaxQueue:      4,
		Hub:           HubConfig{CacheDir: t.TempDir(), Offline: true},
		Engine:        EngineConfig{Device: "cpu", Threads: 2, CtxSize: 1024},
		DefaultModels: []DefaultModel{{Model: reftest.Model(t, "mini-q8_0"), Alias: "mini"}},
	})
	return base
}

func TestStructuredOutputsOpenAIClient(t *testing.T) {
	base := startMini(t)
	ctx, cancel := context.WithTimeout(context.Background(), 120*time.Second)
	defer cancel()
	client := openai.NewClient(option.WithBaseURL(base+"/v1/"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	user := openai.UserMessage("What is the weather in Paris? Answer in JSON.")

	schemaFormat := func(schema string) openai.ChatCompletionNewParamsResponseFormatUnion {
		return openai.ChatCompletionNewParamsResponseFormatUnion{OfJSONSchema: &shared.ResponseFormatJSONSchemaParam{
			// The raw schema keeps its property order (a Go map would
			// sort it), which the reply must follow.
			JSONSchema: shared.ResponseFormatJSONSchemaJSONSchemaParam{Name: "weather", Strict: openai.Bool(true), Schema: json.RawMessage(schema)}}}
	}
	params := openai.ChatCompletionNewParams{
		Model:          "mini",
		Messages:       []openai.ChatCompletionMessageParamUnion{user},
		MaxTokens:      openai.Int(400),
		Temperature:    openai.Float(1),
		Seed:           openai.Int(5),
		ResponseFormat: schemaFormat(weatherSchema),
	}
	weather := schematest.Compile(t, []byte(weatherSchema))

	t.Run("control: no schema, no JSON", func(t *testing.T) {
		checkNoJSONUnasked(ctx, t, client, params, 40)
	})

	var content string
	t.Run("json_schema strict", func(t *testing.T) {
		cc, err := client.Chat.Completions.New(ctx, params)
		if err != nil {
			t.Fatal(err)
		}
		ch := cc.Choices[0]
		if ch.FinishReason != "stop" {
			t.Fatalf("finish_reason %q after %d tokens: %q", ch.FinishReason, cc.Usage.CompletionTokens, ch.Message.Content)
		}
		schematest.Check(t, weather, ch.Message.Content)
		content = ch.Message.Content
		dec := json.NewDecoder(strings.NewReader(content))
		var keys []string
		dec.Token()
		for dec.More() {
			k, _ := dec.Token()
			keys = append(keys, k.(string))
			var skip json.RawMessage
			dec.Decode(&skip)
		}
		if strings.Join(keys, ",") != "city,temperature_c,conditions,observed,alerts" {
			t.Fatalf("members in the order %v, not the schema's", keys)
		}
	})

	t.Run("json_schema stream", func(t *testing.T) {
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
		if finish != "stop" {
			t.Fatalf("finish %q: %q", finish, b.String())
		}
		schematest.Check(t, weather, b.String())
		if content != "" && b.String() != content {
			t.Fatalf("same seed streamed %q, answered %q", b.String(), content)
		}
	})

	t.Run("unsupported keyword", func(t *testing.T) {
		p := params
		p.ResponseFormat = schemaFormat(`{"type":"object","properties":{"zip":{"type":"string","pattern":"^[0-9]{5}$"}}}`)
		_, err := client.Chat.Completions.New(ctx, p)
		var apiErr *openai.Error
		if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || !strings.Contains(apiErr.Message, `"pattern"`) {
			t.Fatalf("error %v, want a 400 naming pattern", err)
		}
	})

	tool := openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{
		Name:        "get_weather",
		Description: openai.String("Weather forecast of a city"),
		Parameters:  shared.FunctionParameters(rawMap(t, weatherParams)),
		Strict:      openai.Bool(true),
	})
	// The model has random weights: strings need a bound to end.
	clock := openai.ChatCompletionFunctionTool(shared.FunctionDefinitionParam{Name: "get_time",
		Parameters: shared.FunctionParameters(rawMap(t, timeParams))})
	args := schematest.Compile(t, []byte(weatherParams))
	forced := openai.ChatCompletionNewParams{
		Model:       "mini",
		Messages:    []openai.ChatCompletionMessageParamUnion{openai.UserMessage("Weather in Paris for three days?")},
		Tools:       []openai.ChatCompletionToolUnionParam{clock, tool},
		ToolChoice:  openai.ChatCompletionToolChoiceOptionUnionParam{OfFunctionToolChoice: &openai.ChatCompletionNamedToolChoiceParam{Function: openai.ChatCompletionNamedToolChoiceFunctionParam{Name: "get_weather"}}},
		MaxTokens:   openai.Int(300),
		Temperature: openai.Float(1),
		Seed:        openai.Int(9),
	}

	var call openai.ChatCompletionMessage
	t.Run("forced tool call", func(t *testing.T) {
		cc, err := client.Chat.Completions.New(ctx, forced)
		if err != nil {
			t.Fatal(err)
		}
		ch := cc.Choices[0]
		if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) == 0 || ch.Message.Content != "" {
			t.Fatalf("finish %q, message %s", ch.FinishReason, ch.Message.RawJSON())
		}
		for _, c := range ch.Message.ToolCalls {
			if c.Function.Name != "get_weather" || !strings.HasPrefix(c.ID, "call_") {
				t.Fatalf("call %s", c.RawJSON())
			}
			schematest.Check(t, args, c.Function.Arguments)
		}
		call = ch.Message
	})

	t.Run("forced tool call stream", func(t *testing.T) {
		stream := client.Chat.Completions.NewStreaming(ctx, forced)
		var acc openai.ChatCompletionAccumulator
		headers, fragments := 0, 0
		for stream.Next() {
			chunk := stream.Current()
			acc.AddChunk(chunk)
			for _, ch := range chunk.Choices {
				for _, tc := range ch.Delta.ToolCalls {
					switch {
					case tc.ID != "" && tc.Function.Name == "get_weather" && tc.Function.Arguments == "":
						headers++
					case tc.ID == "" && tc.Function.Name == "" && tc.Function.Arguments != "":
						fragments++
					default:
						t.Fatalf("tool call delta %s is neither a header nor an argument fragment", tc.RawJSON())
					}
				}
			}
		}
		if err := stream.Err(); err != nil {
			t.Fatal(err)
		}
		if headers == 0 || fragments <= headers {
			t.Fatalf("%d call headers, %d argument fragments: the arguments did not stream", headers, fragments)
		}
		msg := acc.Choices[0].Message
		if acc.Choices[0].FinishReason != "tool_calls" || len(msg.ToolCalls) != headers {
			t.Fatalf("accumulated %s, finish %q", msg.RawJSON(), acc.Choices[0].FinishReason)
		}
		for i, c := range msg.ToolCalls {
			schematest.Check(t, args, c.Function.Arguments)
			if call.ToolCalls != nil && c.Function.Arguments != call.ToolCalls[i].Function.Arguments {
				t.Fatalf("same seed streamed arguments %s, answered %s", c.Function.Arguments, call.ToolCalls[i].Function.Arguments)
			}
		}
	})

	t.Run("required, one call", func(t *testing.T) {
		p := forced
		p.ToolChoice = openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("required")}
		p.ParallelToolCalls = openai.Bool(false)
		for seed := range int64(3) {
			p.Seed = openai.Int(seed)
			cc, err := client.Chat.Completions.New(ctx, p)
			if err != nil {
				t.Fatal(err)
			}
			ch := cc.Choices[0]
			if ch.FinishReason != "tool_calls" || len(ch.Message.ToolCalls) != 1 {
				t.Fatalf("seed %d: finish %q, message %s", seed, ch.FinishReason, ch.Message.RawJSON())
			}
			switch c := ch.Message.ToolCalls[0]; c.Function.Name {
			case "get_weather":
				schematest.Check(t, args, c.Function.Arguments)
			case "get_time":
				schematest.Check(t, schematest.Compile(t, []byte(timeParams)), c.Function.Arguments)
			default:
				t.Fatalf("seed %d: call to %q", seed, c.Function.Name)
			}
		}
	})

	t.Run("tool result, final answer", func(t *testing.T) {
		if len(call.ToolCalls) == 0 {
			t.Skip("no forced call to answer")
		}
		msgs := []openai.ChatCompletionMessageParamUnion{forced.Messages[0], call.ToParam()}
		for _, c := range call.ToolCalls {
			msgs = append(msgs, openai.ToolMessage(`{"forecast":["sunny","rain","sunny"],"unit":"celsius"}`, c.ID))
		}
		final := openai.ChatCompletionNewParams{
			Model: "mini", Messages: msgs, Tools: forced.Tools,
			ToolChoice: openai.ChatCompletionToolChoiceOptionUnionParam{OfAuto: openai.String("none")},
			MaxTokens:  openai.Int(12), Temperature: openai.Float(0),
		}
		cc, err := client.Chat.Completions.New(ctx, final)
		if err != nil {
			t.Fatal(err)
		}
		final.Messages = final.Messages[:1]
		alone, err := client.Chat.Completions.New(ctx, final)
		if err != nil {
			t.Fatal(err)
		}
		ch := cc.Choices[0]
		// Thinking is on by default: the answer starts with reasoning.
		answer := ch.Message.Content + reasoningOf(ch.Message.JSON.ExtraFields)
		if len(ch.Message.ToolCalls) != 0 || answer == "" || (ch.FinishReason != "stop" && ch.FinishReason != "length") {
			t.Fatalf("final answer %s, finish %q", ch.Message.RawJSON(), ch.FinishReason)
		}
		if cc.Usage.PromptTokens <= alone.Usage.PromptTokens+20 {
			t.Fatalf("prompt of %d tokens with the call and its result, %d without: they were not sent back", cc.Usage.PromptTokens, alone.Usage.PromptTokens)
		}
	})
}
