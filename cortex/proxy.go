// This file holds the proxy: one request sent to the neurons the router
// chose, one after another while nothing has reached the client yet (connect
// error, redirect, 503 or 429 such as a full queue), never after. A 200 is
// relayed as it arrives: an SSE stream event by event, each written and
// flushed as soon as its blank line arrives, byte for byte; a stream that
// breaks (the neuron dies, stalls past idle_timeout, or cortex reaches its
// drain deadline) ends with exactly one error event and "data: [DONE]", and
// the partial event cut off by the break is dropped rather than sent
// truncated. Any other status before the body is re-framed as an OpenAI
// error. The client leaving cancels the upstream request at once.

package cortex

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/helexa/helexa/api"
)

// Bounds of the proxy.
const (
	// maxErrorBody bounds what is read of an upstream error answer.
	maxErrorBody = 64 << 10
	// maxEventBytes bounds one SSE event: a chunk carries a few tokens
	// (with logprobs, a few KiB), so 1 MiB means a neuron gone wrong.
	maxEventBytes = 1 << 20
	// readBuf is the size of one read of an upstream body.
	readBuf = 32 << 10
)

// bufPool recycles the relay's read buffers: a fresh zeroed 32 KiB per
// request showed in the throughput benchmark's profile.
var bufPool = sync.Pool{New: func() any { b := make([]byte, readBuf); return &b }}

// Reasons a relay ended early.
var (
	errStalled   = errors.New("the neuron sent nothing within idle_timeout")
	errDraining  = errors.New("cortex is shutting down")
	errNoDone    = errors.New("the neuron ended the stream without [DONE]")
	errHugeEvent = fmt.Errorf("the neuron sent an SSE event over %d bytes", maxEventBytes)
)

var (
	sseDone       = []byte("data: [DONE]")
	sseErrorStart = []byte(`data: {"error"`)
)

// outcome is what one attempt on one neuron came to.
type outcome int

const (
	finished outcome = iota // an answer (or an error) reached the client
	retry                   // nothing reached the client; another neuron may take it
)

// proxy sends the request to the best candidate, and to the next ones while
// an attempt fails before its first byte.
func (g *Gateway) proxy(w http.ResponseWriter, r *http.Request, rec *requestRecord, body []byte, cands []candidate) {
	tried := map[string]bool{}
	var last *api.Error
	for attempt := 0; attempt <= g.cfg.MaxRetries; attempt++ {
		c, ok := pick(cands, tried)
		if !ok {
			break
		}
		tried[c.n.url] = true
		if attempt > 0 {
			rec.Retries++
			g.metrics.retries.WithLabelValues(rec.Model).Inc()
		}
		res, apiErr := g.attempt(w, r, rec, body, c)
		if res == finished {
			return
		}
		last = apiErr
		g.log.Debug("neuron failed before the first byte", "neuron", c.n.url, "model", rec.Model, "error", apiErr.Message)
	}
	if last == nil {
		last = api.Unavailable(api.CodeUnavailable, "no healthy neuron serves the model %q now", rec.Model)
	}
	if last.Status == http.StatusServiceUnavailable || last.Status == http.StatusTooManyRequests {
		w.Header().Set("Retry-After", "1")
	}
	rec.fail(w, last)
}

// attempt sends the request to one neuron. With retry nothing has been
// written to w and the error says why.
func (g *Gateway) attempt(w http.ResponseWriter, r *http.Request, rec *requestRecord, body []byte, c candidate) (outcome, *api.Error) {
	n := c.n
	rec.Neuron = n.url
	n.outstanding.Add(1)
	gauge := g.metrics.inFlight.WithLabelValues(n.url)
	gauge.Inc()
	defer func() {
		n.outstanding.Add(-1)
		gauge.Dec()
	}()

	ctx, cancel := context.WithCancelCause(r.Context())
	defer cancel(nil)
	stopAbort := context.AfterFunc(g.abort, func() { cancel(errDraining) })
	defer stopAbort()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint+strings.TrimPrefix(r.URL.Path, "/v1"), bytes.NewReader(body))
	if err != nil {
		return retry, api.ServerError("building the request to %s: %v", n.url, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if a := r.Header.Get("Accept"); a != "" {
		req.Header.Set("Accept", a)
	}
	if id := r.Header.Get("X-Request-Id"); id != "" {
		req.Header.Set("X-Request-Id", id)
	}
	setUpstreamAuth(req, g.cfg.UpstreamAPIKey)

	sent := time.Now()
	resp, err := g.client.Do(req)
	if err != nil {
		if r.Context().Err() != nil {
			rec.Status = 499 // the client left; nobody to answer
			return finished, nil
		}
		g.reg.requestFailed(n.url, err)
		return retry, api.Unavailable(api.CodeUnavailable, "neuron %s unreachable: %v", n.url, err)
	}
	defer resp.Body.Close()
	defer func() { g.metrics.upstreamSeconds.WithLabelValues(n.url).Observe(time.Since(sent).Seconds()) }()

	switch s := resp.StatusCode; {
	case s >= 300 && s < 400:
		err := fmt.Errorf("redirected (status %d to %q)", s, resp.Header.Get("Location"))
		g.reg.requestFailed(n.url, err)
		return retry, &api.Error{Status: http.StatusBadGateway, Type: api.TypeServer,
			Message: fmt.Sprintf("neuron %s answered with a redirect (status %d); cortex does not follow them", n.url, s)}
	case s == http.StatusServiceUnavailable || s == http.StatusTooManyRequests:
		return retry, upstreamError(resp, n.url)
	case s != http.StatusOK:
		g.reg.requestOK(n.url)
		e := upstreamError(resp, n.url)
		rec.fail(w, e)
		return finished, nil
	}
	g.reg.requestOK(n.url)

	h := w.Header()
	h.Set("X-Cortex-Neuron", n.url)
	if id := resp.Header.Get("X-Request-Id"); id != "" {
		h.Set("X-Request-Id", id)
	}
	ct := resp.Header.Get("Content-Type")
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	rec.Status = http.StatusOK
	rl := &relay{w: w, rc: http.NewResponseController(w), body: resp.Body, idle: g.cfg.IdleTimeout, cancel: cancel,
		firstByte: func() {
			ttfb := time.Since(sent)
			rec.TTFBms = ms(ttfb)
			g.metrics.ttfbSeconds.WithLabelValues(n.url).Observe(ttfb.Seconds())
		}}
	if strings.HasPrefix(ct, "text/event-stream") {
		h.Set("Cache-Control", "no-cache")
		h.Set("X-Accel-Buffering", "no")
		w.WriteHeader(http.StatusOK)
		rl.rc.Flush()
		err = rl.stream()
	} else {
		if cl := resp.Header.Get("Content-Length"); cl != "" {
			h.Set("Content-Length", cl)
		}
		w.WriteHeader(http.StatusOK)
		err = rl.copy()
	}
	if err == nil {
		return finished, nil
	}
	if r.Context().Err() != nil && !rl.writeFailed {
		rec.Status = 499
		return finished, nil
	}
	if rl.writeFailed {
		rec.Status = 499
		rec.Error = "client went away: " + err.Error()
		return finished, nil
	}
	if errors.Is(context.Cause(ctx), errStalled) || errors.Is(context.Cause(ctx), errDraining) {
		err = context.Cause(ctx)
	}
	rec.Error = err.Error()
	if !errors.Is(err, errDraining) && !errors.Is(err, errNoDone) {
		g.reg.requestFailed(n.url, err)
	}
	if !rl.sse {
		// A plain body cannot carry an error once begun: cut the connection
		// so the client sees a broken response rather than a short one.
		panic(http.ErrAbortHandler)
	}
	rl.fail(api.Unavailable(api.CodeUnavailable, "the stream from neuron %s broke: %v", n.url, err))
	return finished, nil
}

// upstreamError turns a neuron's non-200 answer into an OpenAI error with
// the same status: the neuron's own error when its body is one, else a 502
// saying what came back.
func upstreamError(resp *http.Response, url string) *api.Error {
	b, err := readLimited(resp.Body, maxErrorBody)
	var er api.ErrorResponse
	if err == nil && json.Unmarshal(b, &er) == nil && er.Error != nil && er.Error.Message != "" {
		e := *er.Error
		e.Status = resp.StatusCode
		if e.Type == "" {
			e.Type = api.TypeServer
		}
		return &e
	}
	return &api.Error{Status: http.StatusBadGateway, Type: api.TypeServer,
		Message: fmt.Sprintf("neuron %s answered status %d without an OpenAI error body", url, resp.StatusCode)}
}

// relay copies one upstream body to the client.
type relay struct {
	w           http.ResponseWriter
	rc          *http.ResponseController
	body        io.Reader
	idle        time.Duration
	cancel      context.CancelCauseFunc
	firstByte   func()
	sse         bool
	writeFailed bool
	started     atomic.Bool
}

// read reads once with the idle timeout armed.
func (rl *relay) read(buf []byte) (int, error) {
	t := time.AfterFunc(rl.idle, func() { rl.cancel(errStalled) })
	n, err := rl.body.Read(buf)
	t.Stop()
	if n > 0 && !rl.started.Swap(true) {
		rl.firstByte()
	}
	return n, err
}

// write writes and flushes b to the client.
func (rl *relay) write(b []byte) error {
	if _, err := rl.w.Write(b); err != nil {
		rl.writeFailed = true
		rl.cancel(err)
		return err
	}
	if err := rl.rc.Flush(); err != nil {
		rl.writeFailed = true
		rl.cancel(err)
		return err
	}
	return nil
}

// copy relays a plain body, flushing after each read.
func (rl *relay) copy() error {
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	for {
		n, err := rl.read(buf)
		if n > 0 {
			if werr := rl.write(buf[:n]); werr != nil {
				return werr
			}
		}
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// stream relays an SSE body event by event. It returns nil when the stream
// ended with [DONE] (or an error event of the neuron's own), else why not.
func (rl *relay) stream() error {
	rl.sse = true
	bp := bufPool.Get().(*[]byte)
	defer bufPool.Put(bp)
	buf := *bp
	var pending []byte // bytes of an event whose end has not arrived
	var lastEvent []byte
	for {
		n, err := rl.read(buf)
		if n > 0 {
			pending = append(pending, buf[:n]...)
			if cut := lastEventEnd(pending); cut > 0 {
				if werr := rl.write(pending[:cut]); werr != nil {
					return werr
				}
				lastEvent = lastEventOf(pending[:cut], lastEvent)
				pending = append(pending[:0], pending[cut:]...)
			}
			if len(pending) > maxEventBytes {
				return errHugeEvent
			}
		}
		if err == io.EOF {
			if bytes.HasPrefix(lastEvent, sseDone) && len(bytes.TrimSpace(pending)) == 0 {
				return nil
			}
			if bytes.HasPrefix(lastEvent, sseErrorStart) {
				rl.write([]byte("data: [DONE]\n\n")) // the neuron reported its error; close it properly
				return nil
			}
			return errNoDone
		}
		if err != nil {
			return err
		}
	}
}

// fail ends a broken stream with one error event and the end marker.
func (rl *relay) fail(e *api.Error) {
	b, _ := json.Marshal(api.ErrorResponse{Error: e})
	ev := make([]byte, 0, len(b)+24)
	ev = append(ev, "data: "...)
	ev = append(ev, b...)
	ev = append(ev, "\n\ndata: [DONE]\n\n"...)
	rl.write(ev)
}

// lastEventEnd returns the index just past the last complete SSE event in
// b (after a blank line, "\n\n" or "\r\n\r\n"), or 0.
func lastEventEnd(b []byte) int {
	i := bytes.LastIndex(b, []byte("\n\n"))
	j := bytes.LastIndex(b, []byte("\r\n\r\n"))
	switch {
	case i < 0 && j < 0:
		return 0
	case j >= 0 && j+4 > i+2:
		return j + 4
	}
	return i + 2
}

// lastEventOf returns the last event of the complete events in b, trimmed
// of leading blank lines, or prev when b has none.
func lastEventOf(b, prev []byte) []byte {
	b = bytes.TrimRight(b, "\r\n")
	if k := bytes.LastIndex(b, []byte("\n\n")); k >= 0 {
		b = b[k+2:]
	} else if k := bytes.LastIndex(b, []byte("\r\n\r\n")); k >= 0 {
		b = b[k+4:]
	}
	b = bytes.TrimLeft(b, "\r\n")
	if len(b) == 0 {
		return prev
	}
	return append(prev[:0], b...)
}
