// This file holds what the handlers need for several choices per request
// (n): the choice a delta belongs to, checked, and the accumulation of a
// non-streamed chat choice.

package server

import (
	"fmt"

	"github.com/helexa/helexa/api"
)

// choiceAt returns the element of per-choice state for choice i, or an
// error when the generator reports a choice the request did not ask for.
func choiceAt[T any](per []T, i int) (*T, error) {
	if i < 0 || i >= len(per) {
		return nil, fmt.Errorf("server: generator emitted choice %d of a request for %d", i, len(per))
	}
	return &per[i], nil
}

// chatChoice collects one choice of a non-streamed chat completion.
type chatChoice struct {
	content, reasoning []byte
	calls              []api.ToolCall
	lps                []api.TokenLogprob
	tcs                toolCalls
}

// add appends a delta of the choice.
func (a *chatChoice) add(d Delta) {
	a.content = append(a.content, d.Content...)
	a.reasoning = append(a.reasoning, d.Reasoning...)
	a.calls = a.tcs.collect(a.calls, d.ToolCalls)
	a.lps = append(a.lps, d.Logprobs...)
}

// choice returns the collected choice as the API sends it.
func (a *chatChoice) choice(index int, finish string, logprobs bool) api.ChatChoice {
	msg := api.ResponseMessage{Role: "assistant", ReasoningContent: string(a.reasoning), ToolCalls: a.calls}
	if len(a.content) > 0 || len(a.calls) == 0 {
		text := string(a.content)
		msg.Content = &text
	}
	ch := api.ChatChoice{Index: index, Message: msg, FinishReason: finish}
	if logprobs {
		ch.Logprobs = &api.Logprobs{Content: a.lps}
	}
	return ch
}
