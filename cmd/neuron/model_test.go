// This file tests how the one-shot commands resolve their MODEL argument:
// a local path as it is, a hub reference from a Hugging Face cache laid out
// as huggingface_hub lays it out (offline here: nothing is downloaded), and
// a clear error for a reference that is neither.

package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/helexa/helexa/internal/reftest"
)

// fakeCache lays out models--org--repo with one snapshot holding file,
// a copy of src, as huggingface_hub does (blob + relative symlink + refs).
func fakeCache(t *testing.T, src, file string) string {
	t.Helper()
	const commit = "0123456789abcdef0123456789abcdef01234567"
	cache := t.TempDir()
	repo := filepath.Join(cache, "models--org--repo")
	data, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	blob := filepath.Join(repo, "blobs", "aa11")
	snap := filepath.Join(repo, "snapshots", commit)
	for _, d := range []string{filepath.Dir(blob), snap, filepath.Join(repo, "refs")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(blob, data, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join("..", "..", "blobs", "aa11"), filepath.Join(snap, file)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "refs", "main"), []byte(commit), 0o644); err != nil {
		t.Fatal(err)
	}
	return cache
}

func TestResolveModel(t *testing.T) {
	mini := reftest.Model(t, "mini-q8_0")
	cache := fakeCache(t, mini, "mini-Q8_0.gguf")
	t.Setenv("HF_HUB_CACHE", cache)
	t.Setenv("HF_HUB_OFFLINE", "1")
	ctx := context.Background()

	// A local path resolves to the file itself, links followed (model_dirs
	// are compared on real paths).
	real, err := filepath.EvalSymlinks(mini)
	if err != nil {
		t.Fatal(err)
	}
	if got, err := resolveModel(ctx, mini, nil); err != nil || got != real {
		t.Errorf("local path: %q, %v; want %q", got, err, real)
	}
	for _, ref := range []string{"org/repo:Q8_0", "org/repo:q8_0", "org/repo/mini-Q8_0.gguf"} {
		got, err := resolveModel(ctx, ref, nil)
		if err != nil {
			t.Errorf("%s: %v", ref, err)
			continue
		}
		if !strings.HasPrefix(got, cache) || filepath.Base(got) != "mini-Q8_0.gguf" {
			t.Errorf("%s: resolved to %s, want the snapshot file under %s", ref, got, cache)
		}
	}
	for _, ref := range []string{"org/repo:Q4_K_M", "org/other:Q8_0", "./no-such-model.gguf"} {
		if got, err := resolveModel(ctx, ref, nil); err == nil || !strings.Contains(err.Error(), ref) {
			t.Errorf("%s: got %q, err %v; want an error naming the reference", ref, got, err)
		}
	}

	// A command takes the hub reference like a path.
	var out bytes.Buffer
	if err := runTokenize(&out, nil, tokenizeOptions{model: "org/repo:Q8_0", json: true}, []string{"Hello, world!"}); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSpace(out.String()); got != `{"ids":[39,301,385,11,1879,0]}` {
		t.Errorf("tokenize through the hub reference: %s", got)
	}
}
