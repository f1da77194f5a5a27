// Tests of the KV cache size a load asks for: the daemon's default, a
// load request's own, and a bad one answered 400 naming kv_cache_size.

package manager

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/helexa/helexa/api"
	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/hub"
)

func TestLoadKVCacheSize(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tiny.gguf")
	if err := engine.WriteSynth(path, engine.SynthOptions{Arch: "qwen3", Preset: "tiny", Type: "q8_0", Seed: 1}); err != nil {
		t.Fatal(err)
	}
	mgr := New(Options{Device: "cpu", Threads: 1, CtxSize: 64, KVCacheSize: engine.KVCacheSize{Blocks: 9},
		ModelDirs: []string{filepath.Dir(path)}, Hub: hub.Options{CacheDir: t.TempDir(), Offline: true}})
	blocks := func(id string) int {
		g, release, err := mgr.reg.Acquire(id)
		if err != nil {
			t.Fatal(err)
		}
		defer release()
		return g.Context().KVStats().Total
	}
	if _, err := mgr.Load(context.Background(), api.LoadRequest{Model: path, Alias: "default"}); err != nil {
		t.Fatal(err)
	}
	defer mgr.Unload(context.Background(), "default")
	if n := blocks("default"); n != 9 {
		t.Errorf("the daemon's default of 9 blocks gave %d", n)
	}
	if _, err := mgr.Load(context.Background(), api.LoadRequest{Model: path, Alias: "own", KVCacheSize: "20 blocks"}); err != nil {
		t.Fatal(err)
	}
	defer mgr.Unload(context.Background(), "own")
	if n := blocks("own"); n != 20 {
		t.Errorf("a load asking for 20 blocks got %d", n)
	}
	_, err := mgr.Load(context.Background(), api.LoadRequest{Model: path, Alias: "bad", KVCacheSize: "lots"})
	var ae *api.Error
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest || ae.Param != "kv_cache_size" {
		t.Fatalf("kv_cache_size \"lots\": %v, want a 400 naming kv_cache_size", err)
	}
}
