// This file holds the model-listing types: the OpenAI GET /v1/models list and
// neuron's management API (GET /models, POST /models/load and /models/unload,
// GET /models/{id}/endpoint) that the gateway uses.

package api

import "time"

// ModelList is the response of GET /v1/models.
type ModelList struct {
	Object string  `json:"object"` // "list"
	Data   []Model `json:"data"`
}

// Model is one entry of GET /v1/models.
type Model struct {
	ID      string `json:"id"`
	Object  string `json:"object"` // "model"
	Created int64  `json:"created"`
	OwnedBy string `json:"owned_by"`
	// Status is StatusNotLoaded for a catalog model that a request would
	// load (auto_load); empty for a loaded one.
	Status string `json:"status,omitempty"`
}

// Model statuses reported by GET /models.
const (
	StatusLoading   = "loading"
	StatusReady     = "ready"
	StatusUnloading = "unloading"
	// StatusFailed marks a default model whose load failed, or a loaded
	// model whose device failed; ModelEntry.Error says why.
	StatusFailed = "failed"
	// StatusNotLoaded marks a catalog model that is not loaded (GET
	// /v1/models and GET /models, where cortex learns that the neuron can
	// load it); a request naming it loads it when auto_load is on.
	StatusNotLoaded = "not_loaded"
)

// ModelEntry describes a model in GET /models.
type ModelEntry struct {
	// ID is the name clients pass as "model": the alias, or the reference it
	// was loaded from.
	ID string `json:"id"`
	// Source is the reference or path the model was loaded from; Path is the
	// resolved local file.
	Source  string `json:"source"`
	Path    string `json:"path,omitempty"`
	Backend string `json:"backend"`
	Device  string `json:"device"`
	// CtxSize is the context length of a sequence, in tokens.
	CtxSize int `json:"ctx_size"`
	// MemoryBytes is the memory the weights and KV cache occupy.
	MemoryBytes int64 `json:"memory_bytes"`
	// KVCacheUsage is the fraction of KV-cache blocks in use, 0 to 1.
	KVCacheUsage float64 `json:"kv_cache_usage"`
	// KVBlocks is the KV cache's size in blocks of KVBlockSize positions,
	// KVBlocksUsed those held by running sequences.
	KVBlocks     int `json:"kv_blocks,omitempty"`
	KVBlocksUsed int `json:"kv_blocks_used"`
	KVBlockSize  int `json:"kv_block_size,omitempty"`
	// MaxParallel is the sequences the model decodes at once.
	MaxParallel int    `json:"max_parallel,omitempty"`
	Status      string `json:"status"`
	// Error is why a model's load or its device failed (Status "failed").
	Error    string    `json:"error,omitempty"`
	LoadedAt time.Time `json:"loaded_at"`
	// InFlight counts the requests running or queued for the model.
	InFlight int `json:"in_flight"`
	Running  int `json:"running"`
	Queued   int `json:"queued"`
	// LastUsed is when a request last used the model (its load, before
	// any); IdleDeadline when it is unloaded if still idle (absent: kept
	// for ever); Pinned marks a default model, never unloaded for
	// idleness or evicted.
	LastUsed     *time.Time `json:"last_used,omitempty"`
	IdleDeadline *time.Time `json:"idle_deadline,omitempty"`
	Pinned       bool       `json:"pinned,omitempty"`
}

// ModelsResponse is the response of GET /models. Capacity is absent where
// the neuron does not report it (older neurons).
type ModelsResponse struct {
	Object string       `json:"object"` // "list"
	Data   []ModelEntry `json:"data"`
	*Capacity
}

// Capacity is what a neuron admits loads against; its fields sit beside
// "data" in GET /models, which is what cortex places models by.
type Capacity struct {
	// MemoryBudgetBytes is the memory the loaded models may take together
	// (engine.max_memory); 0 where the host's memory is unknown, and then
	// MemoryFreeBytes is what the host has available, 0 if unknown too.
	MemoryBudgetBytes int64 `json:"memory_budget_bytes"`
	// MemoryFreeBytes is the budget less what the loaded and loading models
	// take, and no more than the host has available now.
	MemoryFreeBytes int64 `json:"memory_free_bytes"`
	// LoadedModels counts the models loaded or loading;
	// MaxLoadedModels is the most the neuron holds at once.
	LoadedModels    int `json:"loaded_models"`
	MaxLoadedModels int `json:"max_loaded_models"`
}

// LoadRequest is the body of POST /models/load, and one default model of the
// daemon's configuration.
type LoadRequest struct {
	// Model is a local GGUF path or a hub reference (org/repo:QUANT,
	// org/repo/file.gguf).
	Model string `json:"model"`
	// CtxSize is the context length; 0 takes the daemon's default.
	CtxSize int `json:"ctx_size,omitempty"`
	// KVCacheSize is the KV cache all the model's sequences share, in
	// memory ("2GiB") or blocks ("4096 blocks"); empty takes the daemon's
	// default.
	KVCacheSize string `json:"kv_cache_size,omitempty"`
	// Device is auto, cpu or cuda[:N]; empty takes the daemon's default.
	Device string `json:"device,omitempty"`
	// Alias is the id clients use; empty uses Model.
	Alias string `json:"alias,omitempty"`
	// MaxParallel is the sequences the model runs at once; 0 takes the
	// daemon's default.
	MaxParallel int `json:"max_parallel,omitempty"`
	// StepTokens is the token budget of one scheduler step; 0 takes the
	// daemon's default.
	StepTokens int `json:"step_tokens,omitempty"`
}

// UnloadRequest is the body of POST /models/unload.
type UnloadRequest struct {
	Model string `json:"model"`
	// TimeoutSeconds bounds the wait for running generations; 0 takes the
	// server's default. When they do not finish in time the answer is 409.
	TimeoutSeconds float64 `json:"timeout_s,omitempty"`
}

// UnloadResponse is the response of POST /models/unload.
type UnloadResponse struct {
	ID     string `json:"id"`
	Status string `json:"status"` // "unloaded"
}

// EndpointResponse is the response of GET /models/{id}/endpoint: the base
// URL of the OpenAI API that serves the model.
type EndpointResponse struct {
	ID       string `json:"id"`
	Endpoint string `json:"endpoint"`
}

// Health is the body of GET /health when the daemon serves.
type Health struct {
	Status string `json:"status"` // "ok", or "loading" (503) while default models load
}
