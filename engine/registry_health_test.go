// This file tests that the registry reports a backend's device failure
// (HealthReporter) in the model list and logs it once.

package engine

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"
)

// failingBackend reports a device failure once failed is set, as the CUDA
// backend does after a kernel fault.
type failingBackend struct {
	Backend
	failed atomic.Bool
}

func (f *failingBackend) Failed() error {
	if f.failed.Load() {
		return errors.New("cuda:0 failed: CUDA_ERROR_ILLEGAL_ADDRESS")
	}
	return nil
}

func TestRegistryReportsFailedBackend(t *testing.T) {
	var logs bytes.Buffer
	r := NewRegistry(slog.New(slog.NewTextHandler(&logs, nil)))
	b := &failingBackend{}
	r.models["m"] = &entry{info: ModelInfo{ID: "m", Backend: "cuda:0"}, backend: b}
	if l := r.List(); len(l) != 1 || l[0].Error != "" {
		t.Fatalf("healthy model listed as %+v", l)
	}
	b.failed.Store(true)
	for range 2 {
		if l := r.List(); len(l) != 1 || !strings.Contains(l[0].Error, "ILLEGAL_ADDRESS") {
			t.Fatalf("model on a failed device listed as %+v", l)
		}
	}
	if n := strings.Count(logs.String(), "model backend failed"); n != 1 {
		t.Fatalf("failure logged %d times, want once:\n%s", n, logs.String())
	}
}
