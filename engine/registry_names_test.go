// This file tests the registry's names: an id or alias names one model
// only, and an id that is being unloaded cannot be loaded again (and so
// reported as loaded) until the unload has finished.

package engine_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/helexa/helexa/engine"
	"github.com/helexa/helexa/internal/reftest"
)

func TestRegistryNamesAreUnique(t *testing.T) {
	r := engine.NewRegistry(nil)
	defer r.Close(context.Background())
	ctx := context.Background()
	if _, err := r.Load(ctx, engine.LoadOptions{Path: reftest.Model(t, "mini-f32"), ID: "a", Aliases: []string{"chat"}, Device: "cpu", CtxSize: 256}); err != nil {
		t.Fatal(err)
	}
	q8 := reftest.Model(t, "mini-q8_0")
	for _, tc := range []struct {
		name string
		o    engine.LoadOptions
		want string
	}{
		{"alias taken", engine.LoadOptions{Path: q8, ID: "b", Aliases: []string{"chat"}}, `"chat" already names model "a"`},
		{"id is an alias", engine.LoadOptions{Path: q8, ID: "chat"}, `"chat" already names model "a"`},
		{"alias is an id", engine.LoadOptions{Path: q8, ID: "b", Aliases: []string{"a"}}, `"a" already names model "a"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.o.Device, tc.o.CtxSize = "cpu", 256
			_, err := r.Load(ctx, tc.o)
			if !errors.Is(err, engine.ErrModelExists) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want ErrModelExists with %s", err, tc.want)
			}
			if n := len(r.List()); n != 1 {
				t.Fatalf("%d models loaded after a refused load, want 1", n)
			}
		})
	}
	g, release, err := r.Acquire("chat")
	if err != nil {
		t.Fatal(err)
	}
	release()
	if g == nil {
		t.Fatal("alias acquired no generator")
	}
}

func TestRegistryLoadWhileUnloading(t *testing.T) {
	r := engine.NewRegistry(nil)
	defer r.Close(context.Background())
	ctx := context.Background()
	o := engine.LoadOptions{Path: reftest.Model(t, "mini-f32"), ID: "m", Device: "cpu", CtxSize: 256}
	if _, err := r.Load(ctx, o); err != nil {
		t.Fatal(err)
	}
	_, release, err := r.Acquire("m") // a generation in flight holds the model
	if err != nil {
		t.Fatal(err)
	}
	unloaded := make(chan error, 1)
	go func() { unloaded <- r.Unload(ctx, "m") }() // waits for the release
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, rel, err := r.Acquire("m")
		if errors.Is(err, engine.ErrModelNotLoaded) {
			break // the unload has begun
		}
		if err == nil {
			rel()
		}
		if time.Now().After(deadline) {
			t.Fatal("unload did not begin")
		}
		time.Sleep(time.Millisecond)
	}
	if _, err := r.Load(ctx, o); !errors.Is(err, engine.ErrModelBusy) {
		t.Fatalf("Load during unload: %v, want ErrModelBusy", err)
	}
	release()
	if err := <-unloaded; err != nil {
		t.Fatalf("Unload: %v", err)
	}
	if _, err := r.Load(ctx, o); err != nil {
		t.Fatalf("Load after unload: %v", err)
	}
	if list := r.List(); len(list) != 1 || list[0].ID != "m" {
		t.Fatalf("List = %+v", list)
	}
}
