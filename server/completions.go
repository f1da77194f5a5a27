// This file holds POST /v1/completions: raw prompt text (or token ids) in,
// text out, non-streaming and streaming (chunks of object "text_completion",
// a final chunk with the finish_reason, an optional usage chunk, [DONE]).

package server

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/helexa/helexa/api"
)

// completionRequest converts a validated completion request for the generator.
func completionRequest(r *api.CompletionRequest) *GenerateRequest {
	g := &GenerateRequest{
		Prompt:    r.Prompt.Text,
		Tokens:    r.Prompt.Tokens,
		MaxTokens: r.CompletionLimit(),
		Stop:      r.Stop,
		Sampling:  samplingFrom(&r.GenerationParams),
		N:         r.Choices(),
		IgnoreEOS: r.IgnoreEOS,
	}
	if r.Logprobs != nil {
		g.Logprobs = true
		g.TopLogprobs = *r.Logprobs
	}
	return g
}

// legacyLogprobs converts token logprobs to the completions API's shape;
// offset is the text length before these tokens.
func legacyLogprobs(lps []api.TokenLogprob, offset int) *api.CompletionLogprobs {
	out := &api.CompletionLogprobs{Tokens: []string{}, TokenLogprobs: []float64{}, TopLogprobs: []map[string]float64{}, TextOffset: []int{}}
	for _, lp := range lps {
		out.Tokens = append(out.Tokens, lp.Token)
		out.TokenLogprobs = append(out.TokenLogprobs, lp.Logprob)
		top := map[string]float64{}
		for _, t := range lp.TopLogprobs {
			top[t.Token] = t.Logprob
		}
		out.TopLogprobs = append(out.TopLogprobs, top)
		out.TextOffset = append(out.TextOffset, offset)
		offset += len(lp.Token)
	}
	return out
}

// completions answers POST /v1/completions.
func (s *Server) completions(c echo.Context) error {
	body, err := s.readGenerationBody(c)
	if err != nil {
		return err
	}
	req, apiErr := api.DecodeCompletionRequest(body)
	if apiErr != nil {
		return apiErr
	}
	adm, err := s.admitGeneration(c, req.Model, req.Stream)
	if adm == nil {
		return err
	}
	adm.keepAlive = req.KeepAlive
	defer adm.done()

	greq := completionRequest(req)
	m := s.newMeter(c, req.Model)
	id := "cmpl-" + newID(12)
	created := time.Now().Unix()
	choice := func(i int, text string, lp *api.CompletionLogprobs, finish *string) api.CompletionChoice {
		return api.CompletionChoice{Index: i, Text: text, Logprobs: lp, FinishReason: finish}
	}
	chunk := func(ch api.CompletionChoice) api.Completion {
		return api.Completion{ID: id, Object: "text_completion", Created: created, Model: req.Model,
			Choices: []api.CompletionChoice{ch}}
	}

	// Per choice: the text so far and, unstreamed, the logprobs.
	type textChoice struct {
		text []byte
		lps  []api.TokenLogprob
	}
	acc := make([]textChoice, greq.N)
	w := &sseWriter{c: c}
	res, err := adm.gen.Generate(adm.ctx, greq, func(d Delta) error {
		m.tick(d.Tokens)
		a, err := choiceAt(acc, d.Index)
		if err != nil {
			return err
		}
		if !req.Stream {
			a.text = append(a.text, d.Content...)
			a.lps = append(a.lps, d.Logprobs...)
			return nil
		}
		if d.Content == "" && len(d.Logprobs) == 0 {
			return nil
		}
		var lp *api.CompletionLogprobs
		if greq.Logprobs {
			lp = legacyLogprobs(d.Logprobs, len(a.text))
		}
		a.text = append(a.text, d.Content...)
		return w.send(chunk(choice(d.Index, d.Content, lp, nil)))
	})
	if err != nil {
		return s.generationFailed(c, adm, w, req.Stream, err)
	}
	s.finish(m, res)
	if !req.Stream {
		out := api.Completion{ID: id, Object: "text_completion", Created: created, Model: req.Model, Usage: usage(res)}
		for i, a := range acc {
			finish := res.finishOf(i)
			ch := choice(i, string(a.text), nil, &finish)
			if greq.Logprobs {
				ch.Logprobs = legacyLogprobs(a.lps, 0)
			}
			out.Choices = append(out.Choices, ch)
		}
		return c.JSON(http.StatusOK, out)
	}
	last := greq.N - 1
	for i := range last {
		finish := res.finishOf(i)
		if err := w.send(chunk(choice(i, "", nil, &finish))); err != nil {
			return clientGone(c)
		}
	}
	finish := res.finishOf(last)
	var u any
	if req.IncludeUsage() {
		u = api.Completion{ID: id, Object: "text_completion", Created: created, Model: req.Model,
			Choices: []api.CompletionChoice{}, Usage: usage(res)}
	}
	return endStream(c, w, chunk(choice(last, "", nil, &finish)), u)
}
