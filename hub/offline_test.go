// Tests of resolution without the network: HF_HUB_OFFLINE against a cache
// filled by an earlier download (and by hand, as huggingface_hub lays it
// out), offline misses, and the fallback to the cache when the hub is down.

package hub

import (
	"context"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestOfflineFromCache(t *testing.T) {
	f := newFakeHub(t, hubOpts{})
	q8 := payload(31, 30_000)
	split := [][]byte{payload(32, 1000), payload(33, 1000)}
	f.addRepo("org/repo", commitA, map[string]*fakeFile{
		"m-Q8_0.gguf":                  {content: q8, lfs: true},
		"m-Q4_0.gguf":                  {content: []byte("q4"), lfs: true},
		"s/m-Q2_K-00001-of-00002.gguf": {content: split[0], lfs: true},
		"s/m-Q2_K-00002-of-00002.gguf": {content: split[1], lfs: true},
	})
	o := f.options(t)
	online := newClient(t, o)
	ctx := context.Background()
	for _, ref := range []string{"org/repo:Q8_0", "org/repo:Q2_K"} {
		if _, err := online.Resolve(ctx, ref); err != nil {
			t.Fatal(err)
		}
	}
	before := len(f.requests())

	o.Offline = true
	off := newClient(t, o)
	for _, tc := range []struct {
		ref   string
		want  [][]byte
		fails error
	}{
		{ref: "org/repo:Q8_0", want: [][]byte{q8}},
		{ref: "org/repo:q8_0", want: [][]byte{q8}},
		{ref: "org/repo/m-Q8_0.gguf", want: [][]byte{q8}},
		{ref: "org/repo/m-Q8_0.gguf@" + commitA, want: [][]byte{q8}},
		{ref: "org/repo:Q2_K", want: split},
		{ref: "org/repo/s/m-Q2_K-00002-of-00002.gguf", want: split},
		{ref: "org/repo:Q4_0", fails: ErrOffline},        // listed online, never downloaded
		{ref: "org/repo/m-Q4_0.gguf", fails: ErrOffline}, // likewise
		{ref: "org/repo:Q8_0@v2", fails: ErrOffline},     // revision never fetched
		{ref: "org/other:Q8_0", fails: ErrOffline},       // repository never fetched
		{ref: "org/repo", fails: ErrAmbiguous},           // two models cached
	} {
		t.Run(tc.ref, func(t *testing.T) {
			paths, err := off.ResolveFiles(ctx, tc.ref)
			if tc.fails != nil {
				if !errors.Is(err, tc.fails) {
					t.Fatalf("err = %v, want %v", err, tc.fails)
				}
				if tc.fails == ErrOffline {
					for _, m := range []string{tc.ref, o.CacheDir, "HF_HUB_OFFLINE"} {
						if !strings.Contains(err.Error(), m) {
							t.Errorf("error %q does not name %q", err, m)
						}
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(paths) != len(tc.want) {
				t.Fatalf("%d paths, want %d", len(paths), len(tc.want))
			}
			for i, p := range paths {
				checkFile(t, p, tc.want[i])
			}
		})
	}
	if n := len(f.requests()); n != before {
		t.Errorf("offline resolution sent %d requests", n-before)
	}
}

// TestOfflineHandMadeCache lays a cache out by hand the way huggingface_hub
// does (blob, relative symlink, refs/main) and resolves from it.
func TestOfflineHandMadeCache(t *testing.T) {
	root := t.TempDir()
	content := []byte("GGUF weights")
	dir := filepath.Join(root, "models--Qwen--Qwen3-0.6B-GGUF")
	blob := filepath.Join(dir, "blobs", sha256Hex(content))
	snap := filepath.Join(dir, "snapshots", commitB, "Qwen3-0.6B-Q8_0.gguf")
	for _, d := range []string{filepath.Dir(blob), filepath.Dir(snap), filepath.Join(dir, "refs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	os.WriteFile(blob, content, 0o644)
	if err := os.Symlink(filepath.Join("..", "..", "blobs", sha256Hex(content)), snap); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(filepath.Join(dir, "refs", "main"), []byte(commitB), 0o644)

	c := newClient(t, Options{CacheDir: root, Offline: true})
	p, err := c.Resolve(context.Background(), "Qwen/Qwen3-0.6B-GGUF:Q8_0")
	if err != nil {
		t.Fatal(err)
	}
	if p != snap {
		t.Errorf("path = %s, want %s", p, snap)
	}
	checkFile(t, p, content)

	// A dangling symlink (blob deleted) is a miss, not a path to a
	// missing file.
	os.Remove(blob)
	if _, err := c.Resolve(context.Background(), "Qwen/Qwen3-0.6B-GGUF:Q8_0"); !errors.Is(err, ErrOffline) {
		t.Fatalf("err = %v, want ErrOffline for a dangling snapshot entry", err)
	}
	// A refs file holding garbage is an error, not a path.
	os.WriteFile(filepath.Join(dir, "refs", "main"), []byte("../../../etc"), 0o644)
	if _, err := c.Resolve(context.Background(), "Qwen/Qwen3-0.6B-GGUF:Q8_0"); err == nil {
		t.Fatal("resolved through a corrupt refs/main")
	}
}

func TestFallbackToCacheWhenHubIsDown(t *testing.T) {
	f := newFakeHub(t, hubOpts{})
	want := payload(34, 5000)
	f.addRepo("org/repo", commitA, map[string]*fakeFile{"m-Q8_0.gguf": {content: want, lfs: true}})
	o := f.options(t)
	o.Retries = 1
	first, err := newClient(t, o).Resolve(context.Background(), "org/repo:Q8_0")
	if err != nil {
		t.Fatal(err)
	}
	f.status = http.StatusServiceUnavailable
	for _, ref := range []string{"org/repo:Q8_0", "org/repo/m-Q8_0.gguf"} {
		p, err := newClient(t, o).Resolve(context.Background(), ref)
		if err != nil {
			t.Fatalf("%s with the hub failing: %v", ref, err)
		}
		if p != first {
			t.Errorf("%s: path %s, want %s", ref, p, first)
		}
	}
	f.hub.Close()
	for _, ref := range []string{"org/repo:Q8_0", "org/repo/m-Q8_0.gguf"} {
		p, err := newClient(t, o).Resolve(context.Background(), ref)
		if err != nil {
			t.Fatalf("%s with the hub down: %v", ref, err)
		}
		if p != first {
			t.Errorf("%s: path %s, want %s", ref, p, first)
		}
	}
	// Not cached and the hub down: the network error, not a cache miss.
	_, err = newClient(t, o).Resolve(context.Background(), "org/repo:Q4_0")
	if !errors.Is(err, ErrUnavailable) || !isNetworkError(err) || !strings.Contains(err.Error(), "not in the cache") {
		t.Fatalf("err = %v, want ErrUnavailable wrapping the connection error", err)
	}
}
