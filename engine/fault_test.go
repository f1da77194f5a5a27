// Tests that a model file truncated under a running process costs that
// model, not the process: the SIGBUS of a read past the new end of the
// mapping becomes an error of the generation (on the calling goroutine or
// any CPU worker), and the generator refuses further work.

package engine_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/internal/reftest"
)

func TestTruncatedModelFaultsToError(t *testing.T) {
	src := reftest.Model(t, "mini-f32")
	path := filepath.Join(t.TempDir(), "m.gguf")
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
	reg := engine.NewRegistry(nil)
	if _, err := reg.Load(context.Background(), engine.LoadOptions{Path: path, ID: "m", Device: "cpu", Threads: 2, CtxSize: 64}); err != nil {
		t.Fatal(err)
	}
	defer reg.Close(context.Background())
	g, release, err := reg.Acquire("m") // checked while the file was whole
	if err != nil {
		t.Fatal(err)
	}
	defer release()
	req := engine.GenerateRequest{Tokens: []int32{1, 2, 3}, MaxTokens: 2}
	if _, err := g.Generate(context.Background(), req, nil); err != nil {
		t.Fatalf("before truncation: %v", err)
	}
	if err := os.Truncate(path, 4096); err != nil {
		t.Fatal(err)
	}
	_, err = g.Generate(context.Background(), req, nil)
	if !errors.Is(err, engine.ErrModelFault) || !errors.Is(err, engine.ErrModelFailed) {
		t.Fatalf("after truncation: %v, want a model fault", err)
	}
	if _, err := g.Generate(context.Background(), req, nil); !errors.Is(err, engine.ErrModelFailed) {
		t.Errorf("a failed model generated again: %v", err)
	}
	if _, _, err := reg.Acquire("m"); !errors.Is(err, engine.ErrModelFailed) {
		t.Errorf("acquire of a failed model: %v", err)
	}
	if l := reg.List(); len(l) != 1 || l[0].Error == "" {
		t.Errorf("list %+v", l)
	}
}
