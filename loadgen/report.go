// This file prints reports: a table for people, one JSON object for
// scripts. The JSON object has "load" (one entry per concurrency level)
// and "multiturn" (when that scenario ran), plus the options of the run.

package loadgen

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
)

// Output is the JSON document of a run.
type Output struct {
	URL          string           `json:"url"`
	Model        string           `json:"model"`
	PromptTokens int              `json:"prompt_tokens_asked"`
	MaxTokens    int              `json:"max_tokens"`
	Load         []*Report        `json:"load,omitempty"`
	Multiturn    *MultiturnReport `json:"multiturn,omitempty"`
}

// NewOutput starts the document of a run with o's settings.
func NewOutput(o Options) *Output {
	return &Output{URL: o.URL, Model: o.Model, PromptTokens: o.PromptTokens, MaxTokens: o.MaxTokens}
}

// WriteJSON writes out as one indented JSON object.
func (out *Output) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

// WriteText writes out as tables: the header, the load levels and the
// multi-turn scenario.
func (out *Output) WriteText(w io.Writer) error {
	if err := out.WriteHeaderText(w); err != nil {
		return err
	}
	if err := out.WriteLoadText(w); err != nil {
		return err
	}
	return out.WriteMultiturnText(w)
}

// WriteHeaderText writes the line that says what was measured.
func (out *Output) WriteHeaderText(w io.Writer) error {
	_, err := fmt.Fprintf(w, "%s  model %s  prompt ~%d tokens  max_tokens %d\n", out.URL, out.Model, out.PromptTokens, out.MaxTokens)
	return err
}

// WriteLoadText writes the table of the load levels, if any.
func (out *Output) WriteLoadText(w io.Writer) error {
	var b strings.Builder
	if len(out.Load) > 0 {
		b.WriteByte('\n')
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "conc\treqs\tok\ttok/s\tx first\tdecode tok/s\tx first\treq/s\tttft p50\tttft p99\titl p50\titl p99\ttpot p50\titl x first\tprompt/req\tcached\tshort\t")
		for _, r := range out.Load {
			cached, perReq := "-", 0
			if r.CachedTokens != nil {
				cached = fmt.Sprint(*r.CachedTokens)
			}
			if r.Succeeded > 0 {
				perReq = r.PromptTokens / r.Succeeded
			}
			fmt.Fprintf(tw, "%d\t%d\t%d\t%.1f\t%.2f\t%.1f\t%.2f\t%.2f\t%.0f\t%.0f\t%.1f\t%.1f\t%.1f\t%.2f\t%d\t%s\t%d\t\n",
				r.Concurrency, r.Requests, r.Succeeded, r.TokensPerSecond, r.SpeedupVsFirst, r.DecodeTokensPerSecond, r.DecodeSpeedupVsFirst, r.RequestsPerSecond,
				r.TTFT.P50, r.TTFT.P99, r.ITL.P50, r.ITL.P99, r.TPOT.P50, r.ITLRatioVsFirst, perReq, cached, r.ShortFinishes)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		b.WriteString("(times in ms; tok/s = completion tokens / wall time of the level; x first = vs the first level;\n" +
			" decode tok/s = tokens after each first chunk / time some request was past its first chunk;\n" +
			" prompt/req = server's prompt tokens per request; cached = reused prompt tokens in all;\n" +
			" short = requests that ended before max_tokens)\n")
		for _, r := range out.Load {
			if r.Rounds > 1 {
				fmt.Fprintf(&b, "concurrency %d: tok/s per round %s (median above)\n", r.Concurrency, fmtFloats(r.RoundTokensPerSecond))
			}
			if r.ITLEstimated {
				fmt.Fprintf(&b, "concurrency %d: chunks carried %.2f tokens on average; inter-token latency spreads each chunk's gap over its tokens\n", r.Concurrency, r.TokensPerChunk)
			}
			if !r.UsageReported {
				fmt.Fprintf(&b, "concurrency %d: some streams had no usage chunk; tokens counted as chunks\n", r.Concurrency)
			}
			for _, k := range slices.Sorted(maps.Keys(r.Errors)) {
				fmt.Fprintf(&b, "concurrency %d: %d × %s\n", r.Concurrency, r.Errors[k], k)
			}
		}
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// WriteMultiturnText writes the table of the multi-turn scenario, if it ran.
func (out *Output) WriteMultiturnText(w io.Writer) error {
	var b strings.Builder
	if m := out.Multiturn; m != nil {
		fmt.Fprintf(&b, "\nmulti-turn chat, ~%d-token history, %d conversations (%d failed)\n", m.HistoryTokens, len(m.Turns), m.Failed)
		tw := tabwriter.NewWriter(&b, 0, 0, 2, ' ', tabwriter.AlignRight)
		fmt.Fprintln(tw, "conv\tprompt 1\tttft 1 ms\tprompt 2\tcached 2\tttft 2 ms\tratio\t")
		for i, t := range m.Turns {
			if t.Error != "" {
				fmt.Fprintf(tw, "%d\t%s\t\t\t\t\t\t\n", i+1, t.Error)
				continue
			}
			cached := "-"
			if t.CachedTokens2 != nil {
				cached = fmt.Sprint(*t.CachedTokens2)
			}
			fmt.Fprintf(tw, "%d\t%d\t%.0f\t%d\t%s\t%.0f\t%.2f\t\n", i+1, t.PromptTokens1, t.TTFT1Ms, t.PromptTokens2, cached, t.TTFT2Ms, t.Ratio)
		}
		if err := tw.Flush(); err != nil {
			return err
		}
		fmt.Fprintf(&b, "median ttft: turn 1 %.0f ms, turn 2 %.0f ms: %.2fx (median of ratios %.2fx)\n",
			m.MedianTTFT1Ms, m.MedianTTFT2Ms, m.Speedup, m.MedianRatio)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fmtFloats writes xs with one decimal, separated by spaces.
func fmtFloats(xs []float64) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = fmt.Sprintf("%.1f", x)
	}
	return strings.Join(parts, " ")
}
