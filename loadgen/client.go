// This file sends one streaming chat completion and records what a load
// test measures of it: when each chunk that carries text arrived, how many
// tokens it held where the stream says (logprobs), the usage of the final
// chunk (stream_options.include_usage), the finish reason, and what went
// wrong, as a kind that errors are counted by. The wire types are the few
// fields of the OpenAI API the test reads or sends, so it speaks to any
// OpenAI-compatible server.

package loadgen

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// message is a chat message.
type message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// chatRequest is the body sent. IgnoreEOS is the extension field vLLM and
// llama.cpp's server read (servers that do not know it ignore it); a
// LogitBias banning the end-of-generation tokens does the same on any
// server.
type chatRequest struct {
	Model              string             `json:"model"`
	Messages           []message          `json:"messages"`
	Stream             bool               `json:"stream"`
	StreamOptions      map[string]bool    `json:"stream_options"`
	MaxTokens          int                `json:"max_tokens"`
	Temperature        float64            `json:"temperature"`
	Seed               *int64             `json:"seed,omitempty"`
	IgnoreEOS          bool               `json:"ignore_eos,omitempty"`
	LogitBias          map[string]float64 `json:"logit_bias,omitempty"`
	ChatTemplateKwargs map[string]any     `json:"chat_template_kwargs,omitempty"`
}

// chunk is one event of a streamed chat completion, or an error event.
type chunk struct {
	Choices []struct {
		Delta struct {
			Content          string            `json:"content"`
			ReasoningContent string            `json:"reasoning_content"`
			ToolCalls        []json.RawMessage `json:"tool_calls"`
		} `json:"delta"`
		Logprobs *struct {
			Content []json.RawMessage `json:"content"`
		} `json:"logprobs"`
		FinishReason *string `json:"finish_reason"`
	} `json:"choices"`
	Usage *usage     `json:"usage"`
	Error *wireError `json:"error"`
}

// usage is the token count of a response; PromptTokensDetails.CachedTokens
// is the part of the prompt the server reused (OpenAI's field).
type usage struct {
	PromptTokens        int `json:"prompt_tokens"`
	CompletionTokens    int `json:"completion_tokens"`
	PromptTokensDetails *struct {
		CachedTokens int `json:"cached_tokens"`
	} `json:"prompt_tokens_details"`
}

// wireError is the object of an OpenAI error body.
type wireError struct {
	Message string `json:"message"`
	Type    string `json:"type"`
	Code    any    `json:"code"` // a string on most servers, a number on some
}

// kind names the error for counting: its code, else its type.
func (e *wireError) kind() string {
	if e == nil {
		return "unknown"
	}
	if e.Code != nil {
		if s := fmt.Sprint(e.Code); s != "" {
			return s
		}
	}
	if e.Type != "" {
		return e.Type
	}
	return "unknown"
}

// result is what one request measured. Times are offsets from start.
type result struct {
	start time.Time
	// chunks are the arrival times of the chunks that carried text or
	// tool calls; chunkTokens their token counts where the stream gave
	// them (logprobs), else 0.
	chunks      []time.Duration
	chunkTokens []int
	end         time.Duration
	usage       *usage
	finish      string
	text        string
	// errKind is empty for a request that succeeded; err says more.
	errKind string
	err     error
}

// ttft is the time to the first chunk with text.
func (r *result) ttft() time.Duration { return r.chunks[0] }

// completionTokens is usage.completion_tokens, else the number of chunks
// with text (one token each, as far as the client can tell).
func (r *result) completionTokens() int {
	if r.usage != nil {
		return r.usage.CompletionTokens
	}
	return len(r.chunks)
}

// client sends the requests of a test.
type client struct {
	http   *http.Client
	url    string // the chat-completions URL
	apiKey string
}

func newClient(base, apiKey string, hc *http.Client) *client {
	if hc == nil {
		hc = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1024, DisableCompression: true}}
	}
	return &client{http: hc, url: strings.TrimRight(base, "/") + "/v1/chat/completions", apiKey: apiKey}
}

// maxEvent bounds one SSE line; a chunk is a few hundred bytes.
const maxEvent = 1 << 20

// stream sends req and reads its stream to the end.
func (c *client) stream(ctx context.Context, req *chatRequest) *result {
	res := &result{start: time.Now()}
	fail := func(kind string, err error) *result {
		res.end = time.Since(res.start)
		res.errKind, res.err = kind, err
		return res
	}
	body, err := json.Marshal(req)
	if err != nil {
		return fail("encode", err)
	}
	hreq, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return fail("request", err)
	}
	hreq.Header.Set("Content-Type", "application/json")
	hreq.Header.Set("Accept", "text/event-stream")
	if c.apiKey != "" {
		hreq.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.http.Do(hreq)
	if err != nil {
		return fail(transportKind(ctx, err), err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var eb struct {
			Error *wireError `json:"error"`
		}
		kind := "http " + strconv.Itoa(resp.StatusCode)
		if json.Unmarshal(b, &eb) == nil && eb.Error != nil {
			kind += " " + eb.Error.kind()
		}
		return fail(kind, fmt.Errorf("loadgen: %s: %s", resp.Status, bytes.TrimSpace(b)))
	}
	if kind, err := readStream(ctx, resp.Body, res); kind != "" {
		return fail(kind, err)
	}
	res.end = time.Since(res.start)
	return res
}

// readStream reads a response's events into res, stamping each chunk with
// its arrival since res.start; on failure it returns the error's kind.
func readStream(ctx context.Context, body io.Reader, res *result) (kind string, err error) {
	var text strings.Builder
	defer func() { res.text = text.String() }()
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 0, 64<<10), maxEvent)
	done := false
	for !done && sc.Scan() {
		data, ok := bytes.CutPrefix(sc.Bytes(), []byte("data:"))
		if !ok {
			continue // comments, event names, blank separators
		}
		data = bytes.TrimSpace(data)
		if string(data) == "[DONE]" {
			done = true
			break
		}
		at := time.Since(res.start)
		var ch chunk
		if err := json.Unmarshal(data, &ch); err != nil {
			return "bad chunk", fmt.Errorf("loadgen: chunk %q: %w", data, err)
		}
		if ch.Error != nil {
			return "stream " + ch.Error.kind(), fmt.Errorf("loadgen: error event: %s", ch.Error.Message)
		}
		if ch.Usage != nil {
			res.usage = ch.Usage
		}
		for _, c := range ch.Choices {
			if c.FinishReason != nil && *c.FinishReason != "" {
				res.finish = *c.FinishReason
			}
			if c.Delta.Content == "" && c.Delta.ReasoningContent == "" && len(c.Delta.ToolCalls) == 0 {
				continue
			}
			text.WriteString(c.Delta.Content)
			res.chunks = append(res.chunks, at)
			n := 0
			if c.Logprobs != nil {
				n = len(c.Logprobs.Content)
			}
			res.chunkTokens = append(res.chunkTokens, n)
		}
	}
	switch err := sc.Err(); {
	case errors.Is(err, bufio.ErrTooLong):
		return "bad chunk", fmt.Errorf("loadgen: event longer than %d bytes", maxEvent)
	case err != nil:
		return transportKind(ctx, err), err
	case !done:
		return "truncated stream", errors.New("loadgen: stream ended without [DONE]")
	case len(res.chunks) == 0:
		return "no output", errors.New("loadgen: stream carried no text")
	}
	return "", nil
}

// transportKind names an error below HTTP: the test's deadline or a
// connection failure.
func transportKind(ctx context.Context, err error) string {
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		return "timeout"
	}
	return "transport"
}
