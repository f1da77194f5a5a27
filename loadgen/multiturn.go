// This file holds the multi-turn scenario, which measures prompt-prefix
// reuse as a chat client sees it. Each conversation opens with a history
// of about HistoryTokens tokens (alternating user and assistant turns) and
// a question; its second turn sends the same messages plus the first reply
// as an assistant message and a short new question. A server that reuses
// the first turn's prompt answers the second much sooner. Conversations run
// one after another, each with its own history, so every first turn is
// cold; the report gives the medians of both turns' TTFT and their ratio.

package loadgen

import (
	"context"
	"fmt"
)

// MultiturnOptions configure the multi-turn scenario; the server, model
// and sampling come from Options.
type MultiturnOptions struct {
	Conversations int
	HistoryTokens int
	// TurnTokens is the length of each history message.
	TurnTokens int
	// ReplyTokens is max_tokens of both turns.
	ReplyTokens int
}

// Turn is one conversation's measurement.
type Turn struct {
	TTFT1Ms         float64 `json:"ttft1_ms"`
	TTFT2Ms         float64 `json:"ttft2_ms"`
	PromptTokens1   int     `json:"prompt_tokens1"`
	PromptTokens2   int     `json:"prompt_tokens2"`
	CachedTokens2   *int    `json:"cached_tokens2"`
	Ratio           float64 `json:"ratio"`
	Error           string  `json:"error,omitempty"`
	FirstReplyChars int     `json:"first_reply_chars"`
}

// MultiturnReport is the outcome of the scenario.
type MultiturnReport struct {
	HistoryTokens int    `json:"history_tokens"`
	Turns         []Turn `json:"conversations"`
	// Medians over the conversations that completed both turns.
	MedianTTFT1Ms float64 `json:"median_ttft1_ms"`
	MedianTTFT2Ms float64 `json:"median_ttft2_ms"`
	// Speedup is MedianTTFT1Ms / MedianTTFT2Ms; MedianRatio the median
	// of the per-conversation ratios.
	Speedup     float64 `json:"speedup"`
	MedianRatio float64 `json:"median_ratio"`
	Failed      int     `json:"failed"`
}

// Multiturn runs the scenario.
func Multiturn(ctx context.Context, o Options, m MultiturnOptions) (*MultiturnReport, error) {
	if o.Concurrency == 0 {
		o.Concurrency = 1
	}
	if o.PromptTokens == 0 {
		o.PromptTokens = 1 // unused here; keeps check's rule for the load options
	}
	if o.MaxTokens == 0 {
		o.MaxTokens = max(m.ReplyTokens, 1)
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	if m.Conversations < 1 || m.HistoryTokens < 1 || m.ReplyTokens < 1 {
		return nil, fmt.Errorf("%w: conversations, history tokens and reply tokens must be at least 1", ErrOptions)
	}
	if m.TurnTokens < 1 {
		m.TurnTokens = 100
	}
	c := newClient(o.URL, o.APIKey, o.HTTPClient)
	if err := warmup(ctx, c, &o); err != nil {
		return nil, err
	}
	rep := &MultiturnReport{HistoryTokens: m.HistoryTokens}
	var t1, t2, ratios []float64
	for i := range m.Conversations {
		turn := conversation(ctx, c, &o, m, i)
		rep.Turns = append(rep.Turns, turn)
		if turn.Error != "" {
			rep.Failed++
			o.progress("conversation %d: %s", i+1, turn.Error)
		} else {
			t1, t2, ratios = append(t1, turn.TTFT1Ms), append(t2, turn.TTFT2Ms), append(ratios, turn.Ratio)
			o.progress("conversation %d: ttft %.0f ms then %.0f ms (%.1fx)", i+1, turn.TTFT1Ms, turn.TTFT2Ms, turn.Ratio)
		}
		if err := ctx.Err(); err != nil {
			return rep, err
		}
	}
	if len(t1) > 0 {
		rep.MedianTTFT1Ms, rep.MedianTTFT2Ms, rep.MedianRatio = median(t1), median(t2), median(ratios)
		rep.Speedup = ratio(rep.MedianTTFT1Ms, rep.MedianTTFT2Ms)
	}
	return rep, nil
}

// conversation runs the two turns of conversation i.
func conversation(ctx context.Context, c *client, o *Options, m MultiturnOptions, i int) Turn {
	msgs := history(o.Seed, i, m.HistoryTokens, m.TurnTokens)
	msgs = append(msgs, message{Role: "user", Content: fmt.Sprintf("conversation %d: what letter comes next", i)})
	send := func(msgs []message) *result {
		rctx, cancel := context.WithTimeout(ctx, o.timeout())
		defer cancel()
		return c.stream(rctx, o.request(msgs, m.ReplyTokens))
	}
	r1 := send(msgs)
	if r1.errKind != "" {
		return Turn{Error: "turn 1: " + r1.errKind}
	}
	msgs = append(msgs, message{Role: "assistant", Content: r1.text},
		message{Role: "user", Content: "now name the first letter only"})
	r2 := send(msgs)
	if r2.errKind != "" {
		return Turn{Error: "turn 2: " + r2.errKind}
	}
	t := Turn{TTFT1Ms: msOf(r1.ttft()), TTFT2Ms: msOf(r2.ttft()), FirstReplyChars: len(r1.text)}
	t.Ratio = ratio(t.TTFT1Ms, t.TTFT2Ms)
	if r1.usage != nil {
		t.PromptTokens1 = r1.usage.PromptTokens
	}
	if r2.usage != nil {
		t.PromptTokens2 = r2.usage.PromptTokens
		if d := r2.usage.PromptTokensDetails; d != nil {
			n := d.CachedTokens
			t.CachedTokens2 = &n
		}
	}
	return t
}
