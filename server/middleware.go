// This file holds the middleware every request passes through — request IDs
// and the one log line per request, panic recovery, API-key checks — and the
// error handler that turns any error into the OpenAI error body.

package server

import (
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/helexa/helexa/api"
)

// reqInfoKey is the echo context key of a request's *reqInfo.
const reqInfoKey = "neuron.request"

// reqInfo collects what the request log line reports about a generation.
type reqInfo struct {
	id           string
	start        time.Time
	model        string
	promptTokens int
	genTokens    int
	ttft         time.Duration
	decode       time.Duration // from the first output to the last
	finish       string
	errMsg       string
	gone         bool // the client disconnected (logged as 499)
}

// info returns the request's reqInfo.
func info(c echo.Context) *reqInfo {
	if ri, ok := c.Get(reqInfoKey).(*reqInfo); ok {
		return ri
	}
	ri := &reqInfo{start: time.Now()}
	c.Set(reqInfoKey, ri)
	return ri
}

// newID returns n random bytes in hex.
func newID(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// validRequestID accepts a client's X-Request-Id when it is short and
// printable ASCII, so it can go into logs as it is.
func validRequestID(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < 0x21 || s[i] > 0x7e {
			return false
		}
	}
	return true
}

// requestLog assigns the request ID, counts the request in the metrics and
// writes one log line when it ends.
func (s *Server) requestLog(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		s.handlers.add()
		defer s.handlers.done()
		ri := info(c)
		ri.id = c.Request().Header.Get(echo.HeaderXRequestID)
		if !validRequestID(ri.id) {
			ri.id = newID(8)
		}
		c.Response().Header().Set(echo.HeaderXRequestID, ri.id)

		err := next(c)
		if err != nil {
			c.Error(err)
		}
		status := c.Response().Status
		if ri.gone {
			status = statusClientClosed
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		s.metrics.requests.WithLabelValues(route, c.Request().Method, strconv.Itoa(status)).Inc()

		if route == "/health" || route == "/metrics" {
			return nil // probes and scrapes would drown the log
		}
		attrs := []slog.Attr{
			slog.String("req_id", ri.id),
			slog.String("method", c.Request().Method),
			slog.String("path", c.Request().URL.Path),
			slog.Int("status", status),
			slog.Float64("dur_ms", ms(time.Since(ri.start))),
		}
		if ri.model != "" {
			attrs = append(attrs,
				slog.String("model", ri.model),
				slog.Int("prompt_tokens", ri.promptTokens),
				slog.Int("gen_tokens", ri.genTokens),
				slog.Float64("ttft_ms", ms(ri.ttft)),
				slog.Float64("tok_per_s", tokPerSec(ri.genTokens, ri.decode)))
			if ri.finish != "" {
				attrs = append(attrs, slog.String("finish_reason", ri.finish))
			}
		}
		if ri.errMsg != "" {
			attrs = append(attrs, slog.String("error", ri.errMsg))
		}
		s.log.LogAttrs(c.Request().Context(), slog.LevelInfo, "request", attrs...)
		return nil
	}
}

// ms converts a duration to fractional milliseconds, rounded to 0.01.
func ms(d time.Duration) float64 { return float64(d/(10*time.Microsecond)) / 100 }

// tokPerSec is the decode rate: tokens after the first over the time since
// the first; 0 when it cannot be measured.
func tokPerSec(tokens int, decode time.Duration) float64 {
	if tokens < 2 || decode <= 0 {
		return 0
	}
	r := float64(tokens-1) / decode.Seconds()
	return float64(int64(r*100)) / 100
}

// recoverPanic turns a handler panic into a 500 (or, in a stream under way,
// an error event) and a logged stack.
func (s *Server) recoverPanic(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) (err error) {
		defer func() {
			if r := recover(); r != nil {
				if r == http.ErrAbortHandler {
					panic(r)
				}
				s.log.Error("handler panic", "req_id", info(c).id, "panic", fmt.Sprint(r), "stack", string(debug.Stack()))
				e := api.ServerError("internal error (request %s)", info(c).id)
				if c.Response().Committed && strings.HasPrefix(c.Response().Header().Get(echo.HeaderContentType), "text/event-stream") {
					// A stream under way ends as any failed stream does.
					(&sseWriter{c: c, started: true}).fail(e)
					info(c).errMsg = e.Message
					return
				}
				err = e
			}
		}()
		return next(c)
	}
}

// hashKeys hashes API keys so that comparisons take the same time whatever
// the length of the key presented.
func hashKeys(keys []string) [][32]byte {
	var out [][32]byte
	for _, k := range keys {
		if k != "" {
			out = append(out, sha256.Sum256([]byte(k)))
		}
	}
	return out
}

// auth requires a valid bearer key on every route but /health, the chat
// page and, with Options.OpenMetrics, /metrics when keys are configured.
func (s *Server) auth(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if len(s.keys) == 0 || c.Path() == "/health" || isPagePath(c.Path()) ||
			(s.opts.OpenMetrics && c.Path() == "/metrics") {
			return next(c)
		}
		// The scheme is case-insensitive (RFC 9110, section 11.1).
		scheme, token, ok := strings.Cut(c.Request().Header.Get(echo.HeaderAuthorization), " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") {
			return &api.Error{Status: http.StatusUnauthorized, Type: api.TypeInvalidRequest, Code: api.CodeInvalidAPIKey,
				Message: "missing API key: send Authorization: Bearer <key>"}
		}
		sum := sha256.Sum256([]byte(strings.TrimSpace(token)))
		match := 0
		for _, k := range s.keys {
			match |= subtle.ConstantTimeCompare(sum[:], k[:])
		}
		if match != 1 {
			return &api.Error{Status: http.StatusUnauthorized, Type: api.TypeInvalidRequest, Code: api.CodeInvalidAPIKey,
				Message: "invalid API key"}
		}
		return next(c)
	}
}

// retryAfterSeconds is the Retry-After hint sent with a 503: a queue slot or
// a restart is usually seconds away.
const retryAfterSeconds = "1"

// toAPIError maps any error to the OpenAI error it is sent as.
func toAPIError(err error) *api.Error {
	var ae *api.Error
	var he *echo.HTTPError
	var cl *ContextLengthError
	var mbe *http.MaxBytesError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.As(err, &cl):
		return api.ContextLengthExceeded(cl.Prompt, cl.Requested, cl.Ctx)
	case errors.As(err, &mbe):
		return &api.Error{Status: http.StatusRequestEntityTooLarge, Type: api.TypeInvalidRequest, Code: api.CodeRequestTooLarge,
			Message: fmt.Sprintf("request body is larger than %d bytes", mbe.Limit)}
	case errors.Is(err, ErrModelNotFound):
		return &api.Error{Status: http.StatusNotFound, Type: api.TypeInvalidRequest, Param: "model", Code: api.CodeModelNotFound,
			Message: err.Error()}
	case errors.Is(err, ErrInvalidRequest):
		return &api.Error{Status: http.StatusBadRequest, Type: api.TypeInvalidRequest, Code: api.CodeInvalidValue, Message: err.Error()}
	case errors.Is(err, ErrBusy):
		return &api.Error{Status: http.StatusConflict, Type: api.TypeConflict, Code: api.CodeModelBusy, Message: err.Error()}
	case errors.Is(err, ErrUnavailable):
		return api.Unavailable(api.CodeUnavailable, "%s", err.Error())
	case errors.Is(err, errQueueFull):
		return api.Unavailable(api.CodeQueueFull, "the model's request queue is full; retry later")
	case errors.Is(err, errUnloading):
		return api.Unavailable(api.CodeModelUnloading, "the model is being unloaded")
	case errors.As(err, &he):
		e := &api.Error{Status: he.Code, Type: api.TypeInvalidRequest, Message: fmt.Sprint(he.Message)}
		switch he.Code {
		case http.StatusNotFound:
			e.Message = "no such route"
		case http.StatusMethodNotAllowed:
			e.Message = "method not allowed on this route"
		case http.StatusRequestEntityTooLarge:
			e.Code = api.CodeRequestTooLarge
		}
		if he.Code >= 500 {
			e.Type = api.TypeServer
		}
		return e
	}
	return api.ServerError("%s", err.Error())
}

// errorHandler writes an error as the OpenAI error body.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	e := toAPIError(err)
	if e.Status == 0 {
		e.Status = http.StatusInternalServerError
	}
	ri := info(c)
	ri.errMsg = e.Message
	if e.Status >= 500 && e.Status != http.StatusServiceUnavailable {
		s.log.Error("request failed", "req_id", ri.id, "error", err)
	}
	if e.Status == http.StatusServiceUnavailable {
		c.Response().Header().Set("Retry-After", retryAfterSeconds)
	}
	if c.Request().Method == http.MethodHead {
		c.NoContent(e.Status)
		return
	}
	c.JSON(e.Status, api.ErrorResponse{Error: e})
}
