// This file holds per-model admission: a model runs a bounded number of
// generations at once (the engine scheduler's sequence slots, which batch
// them into shared forward passes) and lines the rest up in a bounded FIFO
// queue. A request that gives
// up while queued (client gone) leaves the queue at once. Unloading a model
// closes its gate and waits for it to empty; an idle unload or an eviction
// closes it only if it is empty already (tryClose), and a request that finds
// it closing may wait until the unload has ended either way (settled).

package server

import (
	"container/list"
	"context"
	"errors"
	"sync"
	"time"
)

// Admission errors.
var (
	errQueueFull = errors.New("server: queue full")
	errUnloading = errors.New("server: model is being unloaded")
)

// gate admits the generations of one model.
type gate struct {
	parallel, maxQueue int
	// onChange reports running and waiting counts after every change
	// (metrics); called with mu held, so it must not call back.
	onChange func(running, waiting int)

	mu      sync.Mutex
	running int
	waiters list.List // of chan struct{}, closed when admitted
	closing bool
	// retired is set once the model is unloaded: the gate is out of use.
	retired bool
	// changed is closed and replaced whenever running or the queue
	// shrinks, and when an unload ends (reopen, retire).
	changed chan struct{}
}

func newGate(parallel, maxQueue int, onChange func(running, waiting int)) *gate {
	if parallel < 1 {
		parallel = 1
	}
	if maxQueue < 0 {
		maxQueue = 0
	}
	if onChange == nil {
		onChange = func(int, int) {}
	}
	return &gate{parallel: parallel, maxQueue: maxQueue, onChange: onChange, changed: make(chan struct{})}
}

// enter waits for a turn. It fails at once with errQueueFull or
// errUnloading, or with ctx's error when ctx ends first. Every nil return
// must be paired with a leave.
func (g *gate) enter(ctx context.Context) error {
	g.mu.Lock()
	if g.closing {
		g.mu.Unlock()
		return errUnloading
	}
	if g.running < g.parallel && g.waiters.Len() == 0 {
		g.running++
		g.onChange(g.running, g.waiters.Len())
		g.mu.Unlock()
		return nil
	}
	if g.waiters.Len() >= g.maxQueue {
		g.mu.Unlock()
		return errQueueFull
	}
	ready := make(chan struct{})
	elem := g.waiters.PushBack(ready)
	g.onChange(g.running, g.waiters.Len())
	g.mu.Unlock()

	select {
	case <-ready:
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		select {
		case <-ready:
			// Admitted while giving up: hand the turn on.
			g.mu.Unlock()
			g.leave()
		default:
			g.waiters.Remove(elem)
			g.onChange(g.running, g.waiters.Len())
			g.signal()
			g.mu.Unlock()
		}
		return ctx.Err()
	}
}

// leave ends a turn and admits the next waiter.
func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.running--
	for g.running < g.parallel && g.waiters.Len() > 0 {
		ready := g.waiters.Remove(g.waiters.Front()).(chan struct{})
		g.running++
		close(ready)
	}
	g.onChange(g.running, g.waiters.Len())
	g.signal()
}

// signal wakes drain waiters; mu must be held.
func (g *gate) signal() {
	close(g.changed)
	g.changed = make(chan struct{})
}

// counts returns the running and waiting generations.
func (g *gate) counts() (running, waiting int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.running, g.waiters.Len()
}

// isClosing reports whether an unload is waiting on the gate.
func (g *gate) isClosing() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closing
}

// close stops admitting and waits until nothing runs or waits, for at most
// timeout. On success the gate stays closed; on timeout (false) it opens
// again. Queued requests are not evicted: they are waited for too.
func (g *gate) close(ctx context.Context, timeout time.Duration) bool {
	t := time.NewTimer(timeout)
	defer t.Stop()
	g.mu.Lock()
	g.closing = true
	for g.running > 0 || g.waiters.Len() > 0 {
		ch := g.changed
		g.mu.Unlock()
		select {
		case <-ch:
		case <-t.C:
			g.reopen()
			return false
		case <-ctx.Done():
			g.reopen()
			return false
		}
		g.mu.Lock()
	}
	g.mu.Unlock()
	return true
}

// tryClose stops admitting if nothing runs or waits and no unload is under
// way; it reports whether it closed the gate.
func (g *gate) tryClose() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing || g.running > 0 || g.waiters.Len() > 0 {
		return false
	}
	g.closing = true
	return true
}

// reopen admits requests again after a close.
func (g *gate) reopen() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.closing = false
	g.signal()
}

// retire marks the gate's model as unloaded.
func (g *gate) retire() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.retired = true
	g.signal()
}

// settled waits until no unload is under way on the gate: the model was
// unloaded (retire) or stays (reopen). It fails only when ctx ends first.
func (g *gate) settled(ctx context.Context) error {
	g.mu.Lock()
	for g.closing && !g.retired {
		ch := g.changed
		g.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
		g.mu.Lock()
	}
	g.mu.Unlock()
	return nil
}
