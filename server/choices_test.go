// Tests of several choices per request at the HTTP layer, with a fake
// generator that emits two choices: the body's choices and finish reasons,
// the stream's per-choice role and finish chunks, n reaching the
// generator, and a generator that reports a choice nobody asked for.

package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/helexa/helexa/api"
)

func twoChoiceGen() *fakeGen {
	g := newFakeGen(
		Delta{Index: 0, Content: "red", Tokens: 1},
		Delta{Index: 0, Content: " blue", Tokens: 1},
		Delta{Index: 1, Reasoning: "hmm", Tokens: 1},
		Delta{Index: 1, Content: "green", Tokens: 1},
	)
	g.result = Result{FinishReason: "stop", FinishReasons: []string{"stop", "length"}, PromptTokens: 5, CompletionTokens: 4}
	return g
}

func TestChatChoices(t *testing.T) {
	gen := twoChoiceGen()
	s, _ := testServer(t, Options{}, gen)
	rec := do(s, "POST", "/v1/chat/completions", `{"model":"m","n":2,"messages":[{"role":"user","content":"hi"}]}`)
	if rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if n := gen.lastReq.Load().N; n != 2 {
		t.Errorf("generator asked for %d choices", n)
	}
	var cc api.ChatCompletion
	if err := json.Unmarshal(rec.Body.Bytes(), &cc); err != nil {
		t.Fatal(err)
	}
	if len(cc.Choices) != 2 || *cc.Choices[0].Message.Content != "red blue" || cc.Choices[0].FinishReason != "stop" ||
		cc.Choices[1].Index != 1 || *cc.Choices[1].Message.Content != "green" || cc.Choices[1].Message.ReasoningContent != "hmm" ||
		cc.Choices[1].FinishReason != "length" || cc.Usage.CompletionTokens != 4 {
		t.Errorf("completion %s", rec.Body)
	}

	rec = do(s, "POST", "/v1/chat/completions", `{"model":"m","n":2,"stream":true,"messages":[{"role":"user","content":"hi"}]}`)
	events := sseEvents(t, rec.Body)
	// role 0, red, blue, role 1, hmm, green, finish 0, finish 1, [DONE]
	var shape []string
	for _, ev := range events[:len(events)-1] {
		var ch api.ChatCompletionChunk
		if err := json.Unmarshal([]byte(ev), &ch); err != nil {
			t.Fatal(err)
		}
		c := ch.Choices[0]
		part := ""
		switch {
		case c.FinishReason != nil:
			part = "finish:" + *c.FinishReason
		case c.Delta.Role != "":
			part = "role"
		case c.Delta.ReasoningContent != "":
			part = c.Delta.ReasoningContent
		case c.Delta.Content != nil:
			part = *c.Delta.Content
		}
		shape = append(shape, string(rune('0'+c.Index))+" "+part)
	}
	want := "0 role|0 red|0  blue|1 role|1 hmm|1 green|0 finish:stop|1 finish:length"
	if got := strings.Join(shape, "|"); got != want || events[len(events)-1] != "[DONE]" {
		t.Errorf("stream\n got %s\nwant %s", got, want)
	}
}

func TestCompletionChoices(t *testing.T) {
	s, _ := testServer(t, Options{}, twoChoiceGen())
	rec := do(s, "POST", "/v1/completions", `{"model":"m","n":2,"prompt":"a"}`)
	var cp api.Completion
	if err := json.Unmarshal(rec.Body.Bytes(), &cp); err != nil || rec.Code != 200 {
		t.Fatalf("%d %s", rec.Code, rec.Body)
	}
	if len(cp.Choices) != 2 || cp.Choices[0].Text != "red blue" || cp.Choices[1].Text != "green" ||
		*cp.Choices[1].FinishReason != "length" {
		t.Errorf("completion %s", rec.Body)
	}
}

func TestChoiceOutOfRange(t *testing.T) {
	s, _ := testServer(t, Options{}, twoChoiceGen())
	rec := do(s, "POST", "/v1/chat/completions", `{"model":"m","messages":[{"role":"user","content":"hi"}]}`)
	if rec.Code != http.StatusInternalServerError || !strings.Contains(rec.Body.String(), "choice 1 of a request for 1") {
		t.Errorf("%d %s", rec.Code, rec.Body)
	}
}
