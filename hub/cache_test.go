// This file tests the cache's file operations directly: linking snapshot
// pointers to blobs.

package hub

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// TestLinkConcurrent links one pointer from several goroutines at once, as
// concurrent resolvers of one file do after the blob lock is released: every
// call must succeed and the pointer must end up reading the blob.
func TestLinkConcurrent(t *testing.T) {
	dir := t.TempDir()
	blob := filepath.Join(dir, "blobs", "b")
	if err := os.MkdirAll(filepath.Dir(blob), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(blob, []byte("contents"), 0o644); err != nil {
		t.Fatal(err)
	}
	pointer := filepath.Join(dir, "snapshots", commitA, "m.gguf")
	const goroutines, rounds = 8, 100
	errs := make([]error, goroutines)
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for range rounds {
				if err := link(blob, pointer); err != nil {
					errs[g] = err
					return
				}
			}
		})
	}
	wg.Wait()
	for g, err := range errs {
		if err != nil {
			t.Errorf("goroutine %d: %v", g, err)
		}
	}
	if b, err := os.ReadFile(pointer); err != nil || string(b) != "contents" {
		t.Fatalf("pointer reads %q, %v; want the blob's contents", b, err)
	}
	left, _ := filepath.Glob(filepath.Join(filepath.Dir(pointer), "*.tmp-link*"))
	if len(left) != 0 {
		t.Errorf("temporary links left behind: %v", left)
	}
}
