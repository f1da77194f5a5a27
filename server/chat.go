// This file holds POST /v1/chat/completions, non-streaming and streaming.
// A stream is: a chunk with the assistant role, one chunk per content,
// reasoning_content or tool_calls delta (a call's index, id and name, then,
// for forced calls, its arguments in fragments), a chunk with the finish_reason, a
// usage chunk with no choices when stream_options.include_usage is set, and
// "data: [DONE]". Every chunk carries the response's id.

package server

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/helexa/helexa/api"
)

// chatRequest converts a validated chat request for the generator.
func chatRequest(r *api.ChatCompletionRequest) *GenerateRequest {
	g := &GenerateRequest{
		Messages:       r.Messages,
		Tools:          r.Tools,
		EnableThinking: r.EnableThinking(),
		JSONMode:       r.ResponseFormat != nil && r.ResponseFormat.Type == "json_object",
		MaxTokens:      r.CompletionLimit(),
		Stop:           r.Stop,
		Sampling:       samplingFrom(&r.GenerationParams),
		Logprobs:       r.Logprobs != nil && *r.Logprobs,
		N:              r.Choices(),
		SingleToolCall: r.ParallelToolCalls != nil && !*r.ParallelToolCalls,
		IgnoreEOS:      r.IgnoreEOS,
	}
	if rf := r.ResponseFormat; rf != nil && rf.Type == "json_schema" && rf.JSONSchema != nil {
		g.JSONSchema = rf.JSONSchema.Schema
	}
	if r.TopLogprobs != nil {
		g.TopLogprobs = *r.TopLogprobs
	}
	if tc := r.ToolChoice; tc != nil {
		switch {
		case tc.Function != "":
			g.ToolChoice = tc.Function
			g.Tools = nil
			for _, t := range r.Tools {
				if t.Function.Name == tc.Function {
					g.Tools = append(g.Tools, t)
				}
			}
		case tc.Mode == "none":
			g.ToolChoice = "none"
			g.Tools = nil
		default:
			g.ToolChoice = tc.Mode
		}
	}
	return g
}

// toolCalls numbers a reply's tool calls: a call with a name opens the
// next index and gets an id if it has none; a call without a name is a
// fragment of the arguments of the call before it (forced calls stream
// their arguments).
type toolCalls struct{ n int }

// stream returns the calls of one delta as a stream chunk carries them.
func (t *toolCalls) stream(calls []api.ToolCall) []api.ToolCall {
	out := make([]api.ToolCall, len(calls))
	for i, tc := range calls {
		if tc.Function.Name != "" || t.n == 0 {
			if tc.ID == "" {
				tc.ID = "call_" + newID(12)
			}
			if tc.Type == "" {
				tc.Type = "function"
			}
			t.n++
		}
		idx := t.n - 1
		tc.Index = &idx
		out[i] = tc
	}
	return out
}

// collect adds the calls of one delta to a whole reply's, fragments to the
// call they continue.
func (t *toolCalls) collect(into, calls []api.ToolCall) []api.ToolCall {
	for _, tc := range t.stream(calls) {
		if n := len(into); tc.Function.Name == "" && n > 0 {
			into[n-1].Function.Arguments += tc.Function.Arguments
			continue
		}
		tc.Index = nil
		into = append(into, tc)
	}
	return into
}

// chatCompletions answers POST /v1/chat/completions.
func (s *Server) chatCompletions(c echo.Context) error {
	body, err := s.readGenerationBody(c)
	if err != nil {
		return err
	}
	req, apiErr := api.DecodeChatCompletionRequest(body)
	if apiErr != nil {
		return apiErr
	}
	adm, err := s.admitGeneration(c, req.Model, req.Stream)
	if adm == nil {
		return err
	}
	adm.keepAlive = req.KeepAlive
	defer adm.done()

	greq := chatRequest(req)
	m := s.newMeter(c, req.Model)
	id := "chatcmpl-" + newID(12)
	created := time.Now().Unix()
	if req.Stream {
		return s.chatStream(c, adm, greq, m, req, id, created)
	}

	acc := make([]chatChoice, greq.N)
	res, err := adm.gen.Generate(adm.ctx, greq, func(d Delta) error {
		m.tick(d.Tokens)
		a, err := choiceAt(acc, d.Index)
		if err != nil {
			return err
		}
		a.add(d)
		return nil
	})
	if err != nil {
		return s.generationFailed(c, adm, nil, false, err)
	}
	s.finish(m, res)
	choices := make([]api.ChatChoice, len(acc))
	for i := range acc {
		choices[i] = acc[i].choice(i, res.finishOf(i), greq.Logprobs)
	}
	return c.JSON(http.StatusOK, api.ChatCompletion{
		ID: id, Object: "chat.completion", Created: created, Model: req.Model,
		Choices: choices,
		Usage:   usage(res),
	})
}

// usage builds the usage object of a result.
func usage(res *Result) *api.Usage {
	return &api.Usage{PromptTokens: res.PromptTokens, CompletionTokens: res.CompletionTokens,
		TotalTokens:         res.PromptTokens + res.CompletionTokens,
		PromptTokensDetails: &api.PromptTokensDetails{CachedTokens: res.CachedTokens}}
}

// chatStream runs a streaming chat completion.
func (s *Server) chatStream(c echo.Context, adm *admission, greq *GenerateRequest, m *meter,
	req *api.ChatCompletionRequest, id string, created int64) error {
	w := &sseWriter{c: c}
	chunk := func(i int, d api.Delta, lp *api.Logprobs, finish *string) api.ChatCompletionChunk {
		return api.ChatCompletionChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: req.Model,
			Choices: []api.ChunkChoice{{Index: i, Delta: d, Logprobs: lp, FinishReason: finish}}}
	}
	// Each choice opens with a chunk carrying the assistant role.
	roleSent := make([]bool, greq.N)
	sendRole := func(i int) error {
		if roleSent[i] {
			return nil
		}
		roleSent[i] = true
		empty := ""
		return w.send(chunk(i, api.Delta{Role: "assistant", Content: &empty}, nil, nil))
	}
	tcs := make([]toolCalls, greq.N)
	res, err := adm.gen.Generate(adm.ctx, greq, func(d Delta) error {
		m.tick(d.Tokens)
		if _, err := choiceAt(tcs, d.Index); err != nil {
			return err
		}
		i := d.Index
		if err := sendRole(i); err != nil {
			return err
		}
		var lp *api.Logprobs
		if greq.Logprobs && len(d.Logprobs) > 0 {
			lp = &api.Logprobs{Content: d.Logprobs}
		}
		if d.Reasoning != "" {
			if err := w.send(chunk(i, api.Delta{ReasoningContent: d.Reasoning}, lp, nil)); err != nil {
				return err
			}
			lp = nil
		}
		if d.Content != "" {
			text := d.Content
			if err := w.send(chunk(i, api.Delta{Content: &text}, lp, nil)); err != nil {
				return err
			}
			lp = nil
		}
		if len(d.ToolCalls) > 0 {
			if err := w.send(chunk(i, api.Delta{ToolCalls: tcs[i].stream(d.ToolCalls)}, lp, nil)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return s.generationFailed(c, adm, w, true, err)
	}
	s.finish(m, res)
	// Every choice ends with a chunk carrying its finish reason; the last
	// one goes out with the usage chunk and the end marker.
	last := greq.N - 1
	for i := range greq.N {
		if err := sendRole(i); err != nil {
			return clientGone(c)
		}
		if i == last {
			break
		}
		finish := res.finishOf(i)
		if err := w.send(chunk(i, api.Delta{}, nil, &finish)); err != nil {
			return clientGone(c)
		}
	}
	finish := res.finishOf(last)
	var u any
	if req.IncludeUsage() {
		u = api.ChatCompletionChunk{ID: id, Object: "chat.completion.chunk", Created: created, Model: req.Model,
			Choices: []api.ChunkChoice{}, Usage: usage(res)}
	}
	return endStream(c, w, chunk(last, api.Delta{}, nil, &finish), u)
}
