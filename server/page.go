// This file serves the chat page: GET / answers web/index.html and GET /ui/*
// its script and style sheet, all embedded in the binary. The page itself is
// public (it holds no data); the API calls it makes carry the API key the
// user types into it.

package server

import (
	"embed"
	"io/fs"
	"net/http"
	"path"

	"github.com/labstack/echo/v4"
)

//go:embed web
var webFiles embed.FS

// pageFiles maps the page's public paths to their embedded files and types.
var pageFiles = map[string]struct{ file, contentType string }{
	"/":            {"web/index.html", "text/html; charset=utf-8"},
	"/ui/chat.js":  {"web/chat.js", "text/javascript; charset=utf-8"},
	"/ui/chat.css": {"web/chat.css", "text/css; charset=utf-8"},
}

// isPagePath reports whether a route serves the chat page (no key needed).
func isPagePath(route string) bool { return route == "/" || route == "/ui/*" }

// chatPage answers GET / and GET /ui/<file> from the embedded files.
func (s *Server) chatPage(c echo.Context) error {
	p := path.Clean(c.Request().URL.Path)
	f, ok := pageFiles[p]
	if !ok {
		return echo.NewHTTPError(http.StatusNotFound)
	}
	b, err := fs.ReadFile(webFiles, f.file)
	if err != nil {
		return err
	}
	h := c.Response().Header()
	// The page is small and changes with the binary: revalidate each time.
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'")
	return c.Blob(http.StatusOK, f.contentType, b)
}
