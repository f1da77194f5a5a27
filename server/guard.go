// This file holds the server's defences against careless and hostile
// clients: request bodies read under a deadline and a size bound (for
// generations, the bound follows the largest loaded context), cut at once
// when the server shuts down; management endpoints that accept only JSON,
// so that a web page cannot drive them with a simple cross-site POST; and
// CORS for the OpenAI routes, for the origins the operator allows.

package server

import (
	"errors"
	"io"
	"mime"
	"net/http"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/helexa/helexa/api"
)

// jsonOverhead is what a request body may hold beyond its prompt text:
// the JSON around the messages, tools and options.
const jsonOverhead = 1 << 20

// jsonEscape bounds how much JSON encoding can grow text: a control byte
// is written as a 6-byte \u00XX escape.
const jsonEscape = 6

// readBody reads the request body up to the server's limit.
func (s *Server) readBody(c echo.Context) ([]byte, error) {
	return s.readBodyLimit(c, s.opts.MaxBodyBytes)
}

// readGenerationBody reads the body of a generation request, bounded also
// by the longest prompt any loaded model's context can take.
func (s *Server) readGenerationBody(c echo.Context) ([]byte, error) {
	limit := s.opts.MaxBodyBytes
	var most int64
	for _, m := range s.opts.Models.List() {
		if m.MaxPromptBytes <= 0 {
			most = 0
			break
		}
		most = max(most, m.MaxPromptBytes*jsonEscape+jsonOverhead)
	}
	if most > 0 {
		limit = min(limit, most)
	}
	return s.readBodyLimit(c, limit)
}

// readBodyLimit reads the request body, at most limit bytes, within the
// body timeout; shutdown cuts it short.
func (s *Server) readBodyLimit(c echo.Context, limit int64) ([]byte, error) {
	r := c.Request()
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	rc := http.NewResponseController(c.Response().Writer)
	// Without a connection (tests calling the handler directly) there is
	// no deadline to set.
	deadline := rc.SetReadDeadline(time.Now().Add(s.opts.ReadBodyTimeout)) == nil
	if deadline {
		s.mu.Lock()
		s.bodies[rc] = struct{}{}
		draining := s.State() == StateDraining
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			delete(s.bodies, rc)
			s.mu.Unlock()
		}()
		if draining {
			rc.SetReadDeadline(time.Now())
		}
	}
	b, err := io.ReadAll(http.MaxBytesReader(c.Response().Writer, r.Body, limit))
	if err == nil {
		if deadline {
			// Streams read nothing more, but keep-alive reads the next
			// request under the server's own timeouts.
			rc.SetReadDeadline(time.Time{})
		}
		return b, nil
	}
	// The deadline stays in the past and the connection closes after the
	// answer: the rest of the body is never waited for.
	c.Response().Header().Set(echo.HeaderConnection, "close")
	if errors.Is(err, os.ErrDeadlineExceeded) {
		if s.State() == StateDraining {
			return nil, api.Unavailable(api.CodeShuttingDown, "neuron is shutting down")
		}
		return nil, &api.Error{Status: http.StatusRequestTimeout, Type: api.TypeInvalidRequest, Code: "request_timeout",
			Message: "the request body was not received within " + s.opts.ReadBodyTimeout.String()}
	}
	return nil, err
}

// cutBodies makes every body read in progress fail now.
func (s *Server) cutBodies() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for rc := range s.bodies {
		rc.SetReadDeadline(time.Now())
	}
}

// requireJSON refuses a request whose body is not declared as JSON (415).
// Browsers send cross-site form posts and text/plain without asking; a
// JSON content type needs a CORS preflight that the management routes never
// grant.
func requireJSON(c echo.Context) error {
	mt, _, err := mime.ParseMediaType(c.Request().Header.Get(echo.HeaderContentType))
	if err != nil || mt != echo.MIMEApplicationJSON {
		return &api.Error{Status: http.StatusUnsupportedMediaType, Type: api.TypeInvalidRequest, Code: "unsupported_media_type",
			Message: "send the request body as Content-Type: application/json"}
	}
	return nil
}

// cors answers CORS for the OpenAI routes when the request's Origin is
// allowed: the allow headers on every answer, and 204 to a preflight.
// Other routes and origins get no CORS headers, so browsers refuse them.
func (s *Server) cors(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		origin := c.Request().Header.Get(echo.HeaderOrigin)
		if origin == "" || len(s.opts.CORSAllowedOrigins) == 0 || !strings.HasPrefix(c.Request().URL.Path, "/v1/") {
			return next(c)
		}
		if !slices.Contains(s.opts.CORSAllowedOrigins, "*") && !slices.Contains(s.opts.CORSAllowedOrigins, origin) {
			return next(c)
		}
		h := c.Response().Header()
		h.Set(echo.HeaderAccessControlAllowOrigin, origin)
		h.Add(echo.HeaderVary, echo.HeaderOrigin)
		if c.Request().Method == http.MethodOptions && c.Request().Header.Get(echo.HeaderAccessControlRequestMethod) != "" {
			h.Set(echo.HeaderAccessControlAllowMethods, "GET, POST, OPTIONS")
			h.Set(echo.HeaderAccessControlAllowHeaders, "Authorization, Content-Type, X-Request-Id")
			h.Set(echo.HeaderAccessControlMaxAge, "600")
			return c.NoContent(http.StatusNoContent)
		}
		return next(c)
	}
}
