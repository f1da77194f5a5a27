// Tests of the capacity GET /models reports: present where the manager
// reports one, absent (as from an older neuron) where it does not.

package server

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/helexa/helexa/api"
)

// budgetManager is a fake manager with a memory budget: what is free is the
// budget less its models' memory.
type budgetManager struct {
	*fakeManager
	budget int64
}

func (b budgetManager) Capacity() api.Capacity {
	c := api.Capacity{MemoryBudgetBytes: b.budget, MaxLoadedModels: 4}
	c.MemoryFreeBytes = b.budget
	for _, m := range b.List() {
		c.MemoryFreeBytes -= m.MemoryBytes
		c.LoadedModels++
	}
	return c
}

func TestModelsCapacity(t *testing.T) {
	fm := newFakeManager()
	s := New(Options{Models: budgetManager{fakeManager: fm, budget: 64 << 20}})
	s.SetState(StateReady)
	list := func() (api.ModelsResponse, string) {
		rec := do(s, "GET", "/models", "")
		var out api.ModelsResponse
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
			t.Fatalf("GET /models: %d %s (%v)", rec.Code, rec.Body, err)
		}
		return out, rec.Body.String()
	}
	out, body := list()
	if out.Capacity == nil || out.MemoryBudgetBytes != 64<<20 || out.MemoryFreeBytes != 64<<20 || out.LoadedModels != 0 ||
		out.MaxLoadedModels != 4 || !strings.Contains(body, `"memory_free_bytes":67108864`) {
		t.Fatalf("capacity with nothing loaded: %s", body)
	}
	if rec := do(s, "POST", "/models/load", `{"model":"/models/x.gguf","alias":"x"}`); rec.Code != 200 {
		t.Fatalf("load: %d %s", rec.Code, rec.Body)
	}
	// The fake's models take 1 MiB each.
	if out, body = list(); out.Capacity == nil || out.MemoryFreeBytes != 63<<20 || out.LoadedModels != 1 || len(out.Data) != 1 {
		t.Errorf("capacity with one model: %s", body)
	}

	old, _ := testServer(t, Options{}, nil)
	rec := do(old, "GET", "/models", "")
	if strings.Contains(rec.Body.String(), "memory_") {
		t.Errorf("a manager without a budget reports one: %s", rec.Body)
	}
}
