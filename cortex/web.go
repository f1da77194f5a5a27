// This file serves the fleet dashboard: static HTML, CSS and JavaScript
// embedded in the binary (no CDN), which refresh themselves from
// GET /cortex/status.

package cortex

import (
	"embed"
	"io/fs"
	"net/http"
)

//go:embed web
var webFS embed.FS

// webFiles serves web/ under /web/.
func webFiles() http.Handler {
	return http.FileServerFS(webFS)
}

// dashboard answers GET / with the dashboard page.
func (g *Gateway) dashboard(w http.ResponseWriter, r *http.Request) {
	page, err := fs.ReadFile(webFS, "web/index.html")
	if err != nil {
		http.Error(w, "dashboard missing from the build", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-cache")
	w.Write(page)
}
