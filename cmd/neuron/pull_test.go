// Tests of `neuron pull` against a minimal hub serving one LFS file: the
// path printed, the progress lines, offline use of the cache and the flags.

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/helexa/helexa/hub"
)

// pullHub serves org/repo/m-Q8_0.gguf the way the hub serves an LFS file.
func pullHub(t *testing.T, content []byte) *httptest.Server {
	sum := sha256.Sum256(content)
	commit := strings.Repeat("ab", 20)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/org/repo/resolve/main/m-Q8_0.gguf", "/org/repo/resolve/" + commit + "/m-Q8_0.gguf":
			w.Header().Set("X-Repo-Commit", commit)
			w.Header().Set("X-Linked-Etag", `"`+hex.EncodeToString(sum[:])+`"`)
			w.Header().Set("X-Linked-Size", strconv.Itoa(len(content)))
			w.Header().Set("Content-Length", strconv.Itoa(len(content)))
			if r.Method == http.MethodGet {
				w.Write(content)
			}
		case "/api/models/org/repo":
			w.Write([]byte(`{"sha":"` + commit + `","siblings":[{"rfilename":"m-Q8_0.gguf"},{"rfilename":"README.md"}]}`))
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(srv.Close)
	return srv
}

func TestRunPull(t *testing.T) {
	content := bytes.Repeat([]byte("GGUF"), 50_000)
	srv := pullHub(t, content)
	o := hub.Options{CacheDir: t.TempDir(), Endpoint: srv.URL}
	var out, errOut bytes.Buffer
	if err := runPull(context.Background(), &out, &errOut, "org/repo:Q8_0", o, false); err != nil {
		t.Fatal(err)
	}
	path := strings.TrimSpace(out.String())
	got, err := os.ReadFile(path)
	if err != nil || !bytes.Equal(got, content) {
		t.Fatalf("printed path %q: %d bytes, %v", path, len(got), err)
	}
	if !strings.Contains(errOut.String(), "m-Q8_0.gguf") || !strings.Contains(errOut.String(), "done") {
		t.Errorf("progress output %q lacks the file's final line", errOut.String())
	}
	if strings.Contains(errOut.String(), "\r") {
		t.Errorf("plain output has carriage returns: %q", errOut.String())
	}

	// Offline, the same reference comes from the cache.
	srv.Close()
	o.Offline = true
	out.Reset()
	if err := runPull(context.Background(), &out, &errOut, "org/repo:Q8_0", o, false); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(out.String()) != path {
		t.Errorf("offline path %q, want %q", out.String(), path)
	}
	err = runPull(context.Background(), &out, &errOut, "org/other:Q8_0", o, false)
	if !errors.Is(err, hub.ErrOffline) {
		t.Errorf("offline miss: %v, want hub.ErrOffline", err)
	}
}

func TestPullCommandFlags(t *testing.T) {
	cmd, _, err := rootCmd.Find([]string{"pull"})
	if err != nil || cmd.Name() != "pull" {
		t.Fatalf("pull not registered: %v", err)
	}
	for _, name := range []string{"cache-dir", "offline", "token"} {
		if cmd.Flags().Lookup(name) == nil {
			t.Errorf("flag --%s missing", name)
		}
	}
}
