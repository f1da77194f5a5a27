// This file captures a sequence of ops into a CUDA graph and replays it, the
// way a decode step is meant to run: one graph launch instead of hundreds of
// kernel launches.
//
// A graph replays exactly what was recorded: kernel arguments, pointers and
// launch shapes. Capture is made safe by construction:
//   - per-step values (the batch rows, and the KV cache's block tables when
//     their generation changed) live in device memory that Rows.Set
//     rewrites between launches; an op that would copy host memory inside a
//     capture (which would become a copy node re-reading a Go address at
//     every replay) fails the capture instead;
//   - shapes that depend on the batch's positions are sized for the bucket's
//     maximum while capturing (attention splits cover every position the
//     block tables can map);
//   - scratch buffers a graph uses are not freed while a graph lives: a
//     larger op retires the old buffer and the last graph's Destroy frees it;
//   - the host-side checks of the batch (token in the vocabulary, every
//     block up to a row's position mapped) are recorded with the graph and
//     run before every launch.
//
// The ops inside a capture must not read back, synchronize or grow a
// scratch buffer, so a step is run once uncaptured with the same shapes
// before it is captured.
package cuda

import (
	"errors"
	"fmt"
)

// errCaptureUpload is the error of a host-to-device copy inside a capture.
var errCaptureUpload = errors.New("cuda: host-to-device copy inside a graph capture (a replay would re-read the Go memory); keep per-step values in device memory or run the op uncaptured")

// Graph is an instantiated CUDA graph of backend ops.
type Graph struct {
	b      *Backend
	exec   uintptr
	checks []func() error // the captured ops' batch checks, run before each launch
}

// onReplay records a batch check of an op being captured, so that every
// launch of the graph runs it again on the rows as they are then.
func (b *Backend) onReplay(check func() error) {
	if b.capturing {
		b.replayChecks = append(b.replayChecks, check)
	}
}

// capture records the ops step queues, returning the raw graph and the
// batch checks of its ops.
func (b *Backend) capture(step func()) (uintptr, []func() error, error) {
	if err := b.Sync(); err != nil {
		return 0, nil, err
	}
	d := b.dev.d
	if err := b.dev.lock(); err != nil {
		b.dev.unlock()
		return 0, nil, err
	}
	err := d.check("cuStreamBeginCapture_v2", d.cuStreamBeginCapture(b.dev.stream, captureModeRelaxed))
	if err == nil {
		b.capturing, b.replayChecks = true, nil
	}
	b.dev.unlock()
	if err != nil {
		b.fail(err)
		return 0, nil, b.takeErr()
	}
	step()
	if err := b.dev.lock(); err != nil {
		b.dev.unlock()
		return 0, nil, err
	}
	defer b.dev.unlock()
	var g uintptr
	endErr := d.check("cuStreamEndCapture", d.cuStreamEndCapture(b.dev.stream, &g))
	checks := b.replayChecks
	b.capturing, b.replayChecks = false, nil
	b.fail(endErr)
	if opErr := b.takeErr(); opErr != nil {
		if g != 0 {
			d.cuGraphDestroy(g)
		}
		return 0, nil, fmt.Errorf("cuda: capture: %w", opErr)
	}
	return g, checks, nil
}

// Capture runs step with the stream in capture mode and instantiates the
// recorded work as a graph.
func (b *Backend) Capture(step func()) (*Graph, error) {
	g, checks, err := b.capture(step)
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
		b.fail(err)
		return nil, b.takeErr()
	}
	b.graphs++
	return &Graph{b: b, exec: exec, checks: checks}, nil
}

// Update re-captures step and updates the graph in place when the driver
// allows it (same topology, changed kernel arguments); otherwise it
// re-instantiates.
func (g *Graph) Update(step func()) error {
	b := g.b
	raw, checks, err := b.capture(step)
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
			g.checks = checks
			return nil
		}
	}
	var exec uintptr
	if err := d.check("cuGraphInstantiateWithFlags", d.cuGraphInstantiateWithFlags(&exec, raw, 0)); err != nil {
		b.fail(err)
		return b.takeErr()
	}
	d.cuGraphExecDestroy(g.exec)
	g.exec, g.checks = exec, checks
	return nil
}

// Launch checks the batch the graph's ops will read, then queues the graph
// on the backend's stream.
func (g *Graph) Launch() error {
	for _, check := range g.checks {
		if err := check(); err != nil {
			return fmt.Errorf("cuda: graph launch: %w", err)
		}
	}
	b := g.b
	if err := b.dev.lock(); err != nil {
		b.dev.unlock()
		return err
	}
	defer b.dev.unlock()
	return b.dev.d.check("cuGraphLaunch", b.dev.d.cuGraphLaunch(g.exec, b.dev.stream))
}

// Destroy frees the graph after the queued work, and with the last graph
// the scratch buffers that graphs kept alive.
func (g *Graph) Destroy() {
	if g.exec == 0 {
		return
	}
	b := g.b
	if err := b.dev.lock(); err == nil {
		b.fail(b.dev.d.check("cuStreamSynchronize", b.dev.d.cuStreamSynchronize(b.dev.stream)))
		b.dev.d.cuGraphExecDestroy(g.exec)
	}
	b.graphs--
	if b.graphs == 0 {
		b.freeRetired()
	}
	b.dev.unlock()
	g.exec = 0
}
