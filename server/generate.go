// This file holds what the chat and completion handlers share: reading the
// body, admission of a generation (model lookup, the per-model queue, the
// context that ends it when the client leaves or the drain deadline passes),
// the answer to a failed generation, the SSE writer, the meter that feeds the
// latency metrics and the request log line, and the sampling defaults.

package server

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/helexa/helexa/api"
)

// statusClientClosed is logged for requests whose client went away before
// the answer (nginx's convention; nothing reaches the client).
const statusClientClosed = 499

// admission is a generation that may run: it holds the model and a turn in
// its queue until done is called.
type admission struct {
	gen  Generator
	ctx  context.Context
	done func()
	// keepAlive is the request's keep_alive, applied when it ends.
	keepAlive *api.KeepAlive
}

// admit looks the model up, waits for a turn in its queue, and returns the
// context the generation runs under: it ends when the client disconnects or
// when the drain deadline passes. With AutoLoad, a request whose model an
// explicit unload takes before it is queued waits for the unload to end
// and loads the model again (a second time at most) instead of 503
// model_unloading.
func (s *Server) admit(c echo.Context, model string) (*admission, error) {
	for attempt := 0; ; attempt++ {
		adm, err := s.admitOnce(c, model)
		if !s.opts.AutoLoad || !errors.Is(err, errUnloading) || attempt == 2 {
			return adm, err
		}
	}
}

// admitOnce is one try of admit.
func (s *Server) admitOnce(c echo.Context, model string) (*admission, error) {
	if s.State() == StateDraining {
		return nil, api.Unavailable(api.CodeShuttingDown, "neuron is shutting down")
	}
	// Held until the request is in the model's queue: no idle unload or
	// eviction takes the model from under it (keepalive.go).
	unhold, err := s.hold(c.Request().Context(), model)
	if err != nil {
		return nil, errClientGone
	}
	defer unhold()
	gen, release, err := s.opts.Models.Acquire(model)
	if err != nil && s.opts.AutoLoad && errors.Is(err, ErrModelNotFound) {
		gen, release, err = s.autoLoad(c.Request().Context(), model)
	}
	if err != nil {
		if errors.Is(err, ErrModelNotFound) {
			if e := s.notServing(model); e != nil {
				return nil, e
			}
			return nil, s.modelNotFound(model)
		}
		return nil, err
	}
	ctx, cancel := context.WithCancel(c.Request().Context())
	stopWatch := context.AfterFunc(s.stop, cancel)
	g := s.gate(model)
	queued := time.Now()
	if err := g.enter(ctx); err != nil {
		ended := ctx.Err() != nil
		stopWatch()
		cancel()
		release()
		if ended {
			if e := s.endedError(c); e != nil {
				return nil, e
			}
		}
		return nil, err
	}
	s.metrics.req.queueTime.WithLabelValues(model).Observe(time.Since(queued).Seconds())
	s.touch(model, nil, false)
	adm := &admission{gen: gen, ctx: ctx}
	adm.done = func() {
		s.touch(model, adm.keepAlive, true)
		g.leave()
		stopWatch()
		cancel()
		release()
	}
	return adm, nil
}

// admitGeneration records the request's model and admits it. When it
// cannot run, it returns a nil admission and the error the handler returns:
// a client that left is logged as such, and a streamed request refused
// while the server shuts down gets the error as an SSE event.
func (s *Server) admitGeneration(c echo.Context, model string, stream bool) (*admission, error) {
	info(c).model = model
	adm, err := s.admit(c, model)
	if errors.Is(err, errClientGone) {
		return nil, clientGone(c)
	}
	if err != nil {
		if stream && s.stop.Err() != nil {
			(&sseWriter{c: c}).fail(toAPIError(err))
			return nil, nil
		}
		return nil, err
	}
	return adm, nil
}

// errClientGone marks a request whose client disconnected.
var errClientGone = errors.New("server: client disconnected")

// endedError explains why a generation's context ended: the drain deadline
// (503 shutting_down) or the client leaving (errClientGone).
func (s *Server) endedError(c echo.Context) error {
	if s.stop.Err() != nil {
		return api.Unavailable(api.CodeShuttingDown, "neuron is shutting down; the request was ended at the drain deadline")
	}
	if c.Request().Context().Err() != nil {
		return errClientGone
	}
	return nil
}

// generationError classifies a Generate error: a context that ended (client
// gone, drain deadline) or an error of the request itself.
func (s *Server) generationError(c echo.Context, ctx context.Context, err error) error {
	if ctx.Err() != nil {
		if e := s.endedError(c); e != nil {
			return e
		}
	}
	if errors.Is(err, ErrModelNotFound) {
		return s.modelNotFound(info(c).model)
	}
	return err
}

// generationFailed answers a Generate error: a client that left is only
// logged, a stream that has started (or any stream while the server shuts
// down) ends with an error event, and anything else is a plain HTTP error.
// w is only used when stream is true.
func (s *Server) generationFailed(c echo.Context, adm *admission, w *sseWriter, stream bool, err error) error {
	err = s.generationError(c, adm.ctx, err)
	if errors.Is(err, errClientGone) {
		return clientGone(c)
	}
	if stream && (w.started || s.stop.Err() != nil) {
		info(c).errMsg = err.Error()
		w.fail(toAPIError(err))
		return nil
	}
	return err
}

// clientGone records a request whose client left; nothing can be sent. It
// is logged and counted as 499 even when a stream had started (200 sent).
func clientGone(c echo.Context) error {
	info(c).errMsg = "client disconnected"
	info(c).gone = true
	if !c.Response().Committed {
		c.Response().WriteHeader(statusClientClosed)
	}
	return nil
}

// sseWriter writes a text/event-stream response; headers go out with the
// first event, so errors found before any output are still plain HTTP
// errors.
type sseWriter struct {
	c       echo.Context
	started bool
}

func (w *sseWriter) start() {
	h := w.c.Response().Header()
	h.Set(echo.HeaderContentType, "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("Connection", "keep-alive")
	h.Set("X-Accel-Buffering", "no") // keep reverse proxies from buffering the stream
	w.c.Response().WriteHeader(http.StatusOK)
	w.started = true
}

// send writes one data event.
func (w *sseWriter) send(v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return w.raw(b)
}

func (w *sseWriter) raw(b []byte) error {
	if !w.started {
		w.start()
	}
	buf := make([]byte, 0, len(b)+8)
	buf = append(buf, "data: "...)
	buf = append(buf, b...)
	buf = append(buf, "\n\n"...)
	if _, err := w.c.Response().Write(buf); err != nil {
		return err
	}
	return http.NewResponseController(w.c.Response().Writer).Flush()
}

// done writes the end-of-stream marker.
func (w *sseWriter) done() error { return w.raw([]byte("[DONE]")) }

// endStream sends a stream's last chunk (the one with the finish reason),
// the usage chunk when usage is not nil, and the end marker.
func endStream(c echo.Context, w *sseWriter, last, usage any) error {
	if err := w.send(last); err != nil {
		return clientGone(c)
	}
	if usage != nil {
		if err := w.send(usage); err != nil {
			return clientGone(c)
		}
	}
	if err := w.done(); err != nil {
		return clientGone(c)
	}
	return nil
}

// fail ends a stream with one error event and the end marker.
func (w *sseWriter) fail(e *api.Error) {
	if w.send(api.ErrorResponse{Error: e}) == nil {
		w.done()
	}
}

// meter times a generation for the metrics and the log line.
type meter struct {
	ri          *reqInfo // the request's log record; ri.start is its arrival
	first, last time.Time
	ttft, itl   prometheus.Observer
}

// newMeter returns the meter of a request's generation on model.
func (s *Server) newMeter(c echo.Context, model string) *meter {
	return &meter{ri: info(c),
		ttft: s.metrics.ttft.WithLabelValues(model), itl: s.metrics.interToken.WithLabelValues(model)}
}

// tick records output covering tokens tokens.
func (m *meter) tick(tokens int) {
	now := time.Now()
	m.ri.genTokens += tokens // the count so far, if the client leaves
	if m.first.IsZero() {
		m.first = now
		m.ri.ttft = now.Sub(m.ri.start)
		m.ttft.Observe(m.ri.ttft.Seconds())
	} else if tokens > 0 {
		gap := now.Sub(m.last).Seconds() / float64(tokens)
		for range tokens {
			m.itl.Observe(gap)
		}
	}
	m.last = now
}

// finish records the result's counts.
func (s *Server) finish(m *meter, res *Result) {
	m.ri.promptTokens = res.PromptTokens
	m.ri.genTokens = res.CompletionTokens
	m.ri.finish = res.FinishReason
	if !m.first.IsZero() {
		m.ri.decode = m.last.Sub(m.first)
	}
	s.metrics.promptTokens.WithLabelValues(m.ri.model).Add(float64(res.PromptTokens))
	s.metrics.generationTokens.WithLabelValues(m.ri.model).Add(float64(res.CompletionTokens))
	s.metrics.req.observe(m.ri.model, res, time.Since(m.ri.start))
}

// samplingFrom applies the OpenAI defaults to the request's sampling fields.
func samplingFrom(p *api.GenerationParams) Sampling {
	sp := Sampling{Temperature: 1, TopP: 1, RepetitionPenalty: 1}
	set := func(dst *float32, v *float64) {
		if v != nil {
			*dst = float32(*v)
		}
	}
	set(&sp.Temperature, p.Temperature)
	set(&sp.TopP, p.TopP)
	set(&sp.MinP, p.MinP)
	set(&sp.RepetitionPenalty, p.RepetitionPenalty)
	set(&sp.PresencePenalty, p.PresencePenalty)
	set(&sp.FrequencyPenalty, p.FrequencyPenalty)
	if p.TopK != nil {
		sp.TopK = *p.TopK
	}
	if len(p.LogitBias) > 0 {
		sp.LogitBias = make(map[int32]float32, len(p.LogitBias))
		for k, v := range p.LogitBias {
			id, err := strconv.ParseInt(k, 10, 32)
			if err != nil || id < 0 {
				continue // rejected by api's validation already
			}
			sp.LogitBias[int32(id)] = float32(v)
		}
	}
	if p.Seed != nil {
		u := uint64(*p.Seed)
		sp.Seed = &u
	}
	return sp
}
