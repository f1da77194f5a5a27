// Package benchmodel opens a GGUF model on the CPU backend for the
// programs under bench/, which measure the engine directly.
package benchmodel

import (
	"errors"

	"github.com/helexa/helexa/engine"
	_ "github.com/helexa/helexa/engine/cpu" // registers the cpu backend
	"github.com/helexa/helexa/gguf"
)

// Open loads the model at path on a new CPU backend with threads workers
// (0: all cores). The returned close frees the model, the backend and the
// file, in that order.
func Open(path string, threads int) (*engine.Model, func(), error) {
	f, err := gguf.Open(path)
	if err != nil {
		return nil, nil, err
	}
	b, err := engine.OpenBackend("cpu", 0, engine.BackendOptions{Threads: threads})
	if err != nil {
		f.Close()
		return nil, nil, err
	}
	m, err := engine.LoadModel(f, b)
	if err != nil {
		return nil, nil, errors.Join(err, b.Close(), f.Close())
	}
	return m, func() { m.Free(); b.Close(); f.Close() }, nil
}
