// This file captures a sequence of ops into a CUDA graph and replays it, the
// way a decode step is meant to run: one graph launch instead of hundreds of
// kernel launches. The ops inside a capture must not read back, synchronize
// or grow a scratch buffer, so a step is run once uncaptured with the same
// shapes before it is captured.
package cuda

import "fmt"

// Graph is an instantiated CUDA graph of backend ops.
type Graph struct {
	b    *Backend
	exec uintptr
}

// capture records the ops step queues, returning the raw graph.
func (b *Backend) capture(step func()) (uintptr, error) {
	if err := b.Sync(); err != nil {
		return 0, err
	}
	d := b.dev.d
	if err := b.dev.lock(); err != nil {
		b.dev.unlock()
		return 0, err
	}
	err := d.check("cuStreamBeginCapture_v2", d.cuStreamBeginCapture(b.dev.stream, captureModeRelaxed))
	b.dev.unlock()
	if err != nil {
		return 0, err
	}
	step()
	if err := b.dev.lock(); err != nil {
		b.dev.unlock()
		return 0, err
	}
	defer b.dev.unlock()
	var g uintptr
	endErr := d.check("cuStreamEndCapture", d.cuStreamEndCapture(b.dev.stream, &g))
	if opErr := b.takeErr(); opErr != nil || endErr != nil {
		if g != 0 {
			d.cuGraphDestroy(g)
		}
		if opErr != nil {
			return 0, fmt.Errorf("cuda: capture: %w", opErr)
		}
		return 0, endErr
	}
	return g, nil
}

// Capture runs step with the stream in capture mode and instantiates the
// recorded work as a graph.
func (b *Backend) Capture(step func()) (*Graph, error) {
	g, err := b.capture(step)
	if err != nil {
		return nil, err
	}
	d := b.dev.d
	if err := b.dev.lock(); err != nil {
		b.dev.unlock()
		d.cuGraphDestroy(g)
		return nil, err
	}
	defer b.dev.unlock()
	defer d.cuGraphDestroy(g)
	var exec uintptr
	if err := d.check("cuGraphInstantiateWithFlags", d.cuGraphInstantiateWithFlags(&exec, g, 0)); err != nil {
		return nil, err
	}
	return &Graph{b: b, exec: exec}, nil
}

// Update re-captures step and updates the graph in place when the driver
// allows it (same topology, changed kernel arguments); otherwise it
// re-instantiates.
func (g *Graph) Update(step func()) error {
	b := g.b
	raw, err := b.capture(step)
	if err != nil {
		return err
	}
	d := b.dev.d
	if err := b.dev.lock(); err != nil {
		b.dev.unlock()
		d.cuGraphDestroy(raw)
		return err
	}
	defer b.dev.unlock()
	defer d.cuGraphDestroy(raw)
	if d.cuGraphExecUpdate != nil {
		var info graphExecUpdateInfo
		if d.cuGraphExecUpdate(g.exec, raw, &info) == cudaSuccess {
			return nil
		}
	}
	var exec uintptr
	if err := d.check("cuGraphInstantiateWithFlags", d.cuGraphInstantiateWithFlags(&exec, raw, 0)); err != nil {
		return err
	}
	d.cuGraphExecDestroy(g.exec)
	g.exec = exec
	return nil
}

// Launch queues the graph on the backend's stream.
func (g *Graph) Launch() error {
	b := g.b
	if err := b.dev.lock(); err != nil {
		b.dev.unlock()
		return err
	}
	defer b.dev.unlock()
	return b.dev.d.check("cuGraphLaunch", b.dev.d.cuGraphLaunch(g.exec, b.dev.stream))
}

// Destroy frees the graph.
func (g *Graph) Destroy() {
	if g.exec == 0 {
		return
	}
	b := g.b
	if err := b.dev.lock(); err == nil {
		b.fail(b.dev.d.check("cuStreamSynchronize", b.dev.d.cuStreamSynchronize(b.dev.stream)))
		b.dev.d.cuGraphExecDestroy(g.exec)
	}
	b.dev.unlock()
	g.exec = 0
}
