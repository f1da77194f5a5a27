// This file holds the persistent worker pool the CPU ops run on: a fixed set
// of goroutines that split an index range [0, total) into chunks and take
// them from a shared atomic counter, so one dispatch costs a few channel
// sends and no allocation.

package cpu

import (
	"runtime/debug"
	"sync"
	"sync/atomic"

	"github.com/helexa/helexa/engine"
)

// task is one parallel op. run processes indices [lo, hi) on worker wid
// (0 is the calling goroutine); wid selects per-worker scratch memory.
type task interface {
	run(wid, lo, hi int)
}

// pool runs tasks on n workers: the caller plus n-1 goroutines that live
// until close.
type pool struct {
	mu    sync.Mutex // one dispatch at a time
	n     int
	wake  []chan struct{}
	wg    sync.WaitGroup
	t     task
	total int
	chunk int
	next  atomic.Int64
	// fault is the memory fault a helper hit in the current task (see
	// engine/fault.go), handed back to the dispatching goroutine.
	fault atomic.Pointer[any]
}

// newPool starts a pool of n workers (at least 1).
func newPool(n int) *pool {
	if n < 1 {
		n = 1
	}
	p := &pool{n: n}
	for i := 1; i < n; i++ {
		ch := make(chan struct{}, 1)
		p.wake = append(p.wake, ch)
		go p.worker(i, ch)
	}
	return p
}

// worker is helper goroutine wid: each wake-up drains the current task's
// range; it exits when close closes wake.
func (p *pool) worker(wid int, wake chan struct{}) {
	// A fault reading a truncated model file becomes a panic that
	// safeDrain recovers, instead of killing the process.
	debug.SetPanicOnFault(true)
	for range wake {
		if r := p.safeDrain(wid); r != nil {
			p.fault.CompareAndSwap(nil, &r)
		}
		p.wg.Done()
	}
}

// safeDrain is drain that returns a memory fault's panic value instead of
// raising it; any other panic goes on.
func (p *pool) safeDrain(wid int) (fault any) {
	defer func() {
		if r := recover(); r != nil {
			if !engine.IsFault(r) {
				panic(r)
			}
			fault = r
		}
	}()
	p.drain(wid)
	return nil
}

// drain takes chunks until the range is exhausted.
func (p *pool) drain(wid int) {
	for {
		lo := int(p.next.Add(int64(p.chunk))) - p.chunk
		if lo >= p.total {
			return
		}
		p.t.run(wid, lo, min(lo+p.chunk, p.total))
	}
}

// parallel runs t over [0, total) in chunks of at least minChunk indices and
// returns when all are done.
func (p *pool) parallel(t task, total, minChunk int) {
	if total <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	// About four chunks per worker balances uneven rows without making the
	// shared counter hot.
	chunk := max(minChunk, total/(4*p.n), 1)
	chunks := (total + chunk - 1) / chunk
	if p.n == 1 || chunks == 1 {
		t.run(0, 0, total)
		return
	}
	p.t, p.total, p.chunk = t, total, chunk
	p.next.Store(0)
	helpers := min(p.n-1, chunks-1)
	p.wg.Add(helpers)
	p.fault.Store(nil)
	for i := range helpers {
		p.wake[i] <- struct{}{}
	}
	// The helpers must be done with t before this returns, even when the
	// caller's own share faults; then any fault is raised here, on the
	// goroutine that can recover it.
	fault := p.safeDrain(0)
	p.wg.Wait()
	p.t = nil
	if fault == nil {
		if f := p.fault.Load(); f != nil {
			fault = *f
		}
	}
	if fault != nil {
		panic(fault)
	}
}

// close stops the worker goroutines.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, ch := range p.wake {
		close(ch)
	}
	p.wake = nil
}
