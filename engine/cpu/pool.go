// This file holds the persistent worker pool the CPU ops run on: a fixed set
// of goroutines that split an index range [0, total) into chunks and claim
// them from a shared atomic counter. Between ops a worker spins for a short
// while (spinFor), so the dozens of ops of a decode step start without a
// scheduler wake-up each; after that it parks on a channel, so an idle or
// crowded machine does not burn a core. The caller works on the range
// itself and never waits for a worker to start: a worker that arrives late
// finds every chunk claimed and goes back to waiting, so the caller only
// waits for chunks already being worked on. A memory fault a worker hits
// (a model file truncated under the mapping, see engine/fault.go) is handed
// back to the caller and raised there, where it can be recovered.
//
// On a crowded machine (more runnable threads than cores) spinning backfires:
// a spinning thread uses up the share of CPU the scheduler would otherwise
// give it promptly when it wakes from sleep, and is preempted mid-op. A
// spinner that finds its clock jumped (it was descheduled) turns spinning off
// for the whole pool for a while, so the pool then behaves like one that
// parks between ops. And every watchEvery the dispatcher reads how many
// cores other processes keep busy (loadwatch.go): ops then run on as many
// threads as the cores left, on two cores beside a busy process the caller
// alone, which generates faster there than two threads waiting on each
// other.

package cpu

import (
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	"github.com/helexa/helexa/engine"
)

// task is one parallel op. run processes indices [lo, hi) on worker wid
// (0 is the calling goroutine); wid selects per-worker scratch memory.
type task interface {
	run(wid, lo, hi int)
}

// spinFor is how long an idle worker polls for the next op before parking:
// longer than the gap between the ops of one forward pass (a few µs), much
// shorter than a scheduler time slice, so a worker that spins in vain costs
// little on a busy machine.
const spinFor = 30 * time.Microsecond

// preemptGap is the clock jump between two looks of a spin loop that says
// its thread was descheduled: a look comes every 64 polls, well under a
// microsecond apart when the thread runs.
const preemptGap = 200 * time.Microsecond

// crowdedFor is how long nobody spins after a preemption was seen. The
// next spin after it probes the machine again; a probe on a machine still
// crowded costs at most one time slice.
const crowdedFor = 100 * time.Millisecond

// pool runs tasks on n workers: the caller plus n-1 goroutines that live
// until close.
//
// A dispatch publishes its task by making seq odd (open); workers that see
// an odd seq they have not served register in active, check seq again and
// claim chunks from next. When the range is exhausted the caller makes seq
// even (closed) and waits until active is zero: from then on no worker
// reads the task fields, which the next dispatch may rewrite.
type pool struct {
	mu    sync.Mutex // one dispatch at a time
	n     int
	t     task
	total int
	chunk int
	width int // threads the open task runs on: the caller and workers 1..width-1

	// use is how many threads ops run on (1..n), set from watch.
	use   atomic.Int32
	watch loadWatch

	seq    atomic.Uint64 // odd while a task is open
	next   atomic.Int64  // first unclaimed index
	active atomic.Int32  // workers inside the open task
	stop   atomic.Bool
	// crowdedUntil is the clock (ns since epoch) before which no thread
	// spins: a spinner was descheduled recently.
	crowdedUntil atomic.Int64
	epoch        time.Time
	// fault is the memory fault a worker hit in the open task, handed
	// back to the dispatching goroutine.
	fault atomic.Pointer[any]

	waiting atomic.Bool   // the caller is parked until active drops to 0
	done    chan struct{} // its wake-up token

	sleeping []atomic.Bool   // worker i+1 is parked (or about to)
	wake     []chan struct{} // one token wakes parked worker i+1
	exited   sync.WaitGroup  // the workers, for close
	_        [64]byte        // keep the hot atomics off the next object's line
}

// newPool starts a pool of n workers (at least 1).
func newPool(n int) *pool {
	if n < 1 {
		n = 1
	}
	p := &pool{n: n, sleeping: make([]atomic.Bool, n-1), wake: make([]chan struct{}, n-1), done: make(chan struct{}, 1), epoch: time.Now()}
	p.use.Store(int32(n))
	if n > 1 {
		p.watch.src = newLoadSource()
	}
	for i := range p.wake {
		p.wake[i] = make(chan struct{}, 1)
		p.exited.Add(1)
		go p.worker(i)
	}
	return p
}

// worker is helper goroutine i (worker id i+1): it serves each open task
// once, spinning between tasks and parking when none comes.
func (p *pool) worker(i int) {
	defer p.exited.Done()
	// A fault reading a truncated model file becomes a panic that
	// safeDrain recovers, instead of killing the process.
	debug.SetPanicOnFault(true)
	var served uint64
	for {
		s := p.waitTask(i, served)
		if p.stop.Load() {
			return
		}
		if s&1 == 0 || s == served {
			continue // woken for a task that has closed already
		}
		served = s
		p.active.Add(1)
		// Still open: the task fields are valid.
		if p.seq.Load() == s && i+1 < p.width {
			if r := p.safeDrain(i + 1); r != nil {
				p.keepFault(r)
			}
		}
		if p.active.Add(-1) == 0 && p.waiting.CompareAndSwap(true, false) {
			p.done <- struct{}{}
		}
	}
}

// now is the pool's monotonic clock in nanoseconds.
func (p *pool) now() int64 { return int64(time.Since(p.epoch)) }

// spinning reports whether a thread about to wait may spin: not while the
// machine was found crowded recently.
func (p *pool) spinning() bool { return p.now() >= p.crowdedUntil.Load() }

// keepSpinning is called every 64 polls of a spin loop that began at start
// and last read the clock at *last; it reports whether to poll on. It says
// stop after spinFor, and at once when the clock jumped by more than
// preemptGap since the last look: the thread was descheduled, so the pool
// stops spinning for crowdedFor.
func (p *pool) keepSpinning(start int64, last *int64) bool {
	now := p.now()
	if now-*last > int64(preemptGap) {
		p.crowdedUntil.Store(now + int64(crowdedFor))
		return false
	}
	*last = now
	return now-start < int64(spinFor)
}

// waitTask returns the seq of an open task other than served, spinning for
// spinFor (unless the machine is crowded or ops run without this worker)
// and then parking until a dispatch wakes it. It returns early (any value)
// when the pool stops.
func (p *pool) waitTask(i int, served uint64) uint64 {
	if i+1 < int(p.use.Load()) && p.spinning() {
		start := p.now()
		last := start
		for spins := 0; ; spins++ {
			if s := p.seq.Load(); s&1 == 1 && s != served {
				return s
			}
			if p.stop.Load() {
				return 0
			}
			if spins&63 == 63 && !p.keepSpinning(start, &last) {
				break
			}
		}
	}
	for {
		p.sleeping[i].Store(true)
		// A dispatch between the last check and the flag would not wake
		// this worker: look once more before blocking.
		if s := p.seq.Load(); (s&1 == 1 && s != served) || p.stop.Load() {
			if p.sleeping[i].CompareAndSwap(true, false) {
				return s
			}
			// The dispatcher cleared the flag first and sends a token:
			// take it so the channel is empty for the next park.
			<-p.wake[i]
			return p.seq.Load()
		}
		<-p.wake[i]
		if s := p.seq.Load(); (s&1 == 1 && s != served) || p.stop.Load() {
			return s
		}
	}
}

// drain claims chunks until the range is exhausted.
func (p *pool) drain(wid int) {
	for {
		lo := int(p.next.Add(int64(p.chunk))) - p.chunk
		if lo >= p.total {
			return
		}
		p.t.run(wid, lo, min(lo+p.chunk, p.total))
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

// keepFault records a worker's fault for the dispatcher, unless one is
// recorded already. It is a function of its own so that the fault value
// moves to the heap only when there is one (a variable whose address is
// stored escapes, and in the worker loop that would cost an allocation per
// task).
func (p *pool) keepFault(r any) { p.fault.CompareAndSwap(nil, &r) }

// parallel runs t over [0, total) in chunks of at least minChunk indices and
// returns when all are done.
func (p *pool) parallel(t task, total, minChunk int) {
	if total <= 0 {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	width := p.threads()
	// About four chunks per worker balances uneven rows and lets a late
	// or preempted worker's share be taken by the others.
	chunk := max(minChunk, total/(4*width), 1)
	if minChunk > 1 {
		chunk = (chunk + minChunk - 1) / minChunk * minChunk // whole units of minChunk
	}
	if width == 1 || chunk >= total {
		t.run(0, 0, total)
		return
	}
	p.t, p.total, p.chunk, p.width = t, total, chunk, width
	p.next.Store(0)
	p.fault.Store(nil)
	p.seq.Add(1) // open
	for i := range width - 1 {
		if p.sleeping[i].CompareAndSwap(true, false) {
			p.wake[i] <- struct{}{}
		}
	}
	// The workers must be done with t before this returns, even when the
	// caller's own share faults; then any fault is raised here, on the
	// goroutine that can recover it.
	fault := p.safeDrain(0)
	p.seq.Add(1) // closed: no worker enters any more
	p.waitIdle()
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

// threads is the number of threads the next op runs on, after a look at
// the other load when one is due. The caller holds mu.
func (p *pool) threads() int {
	k := int(p.use.Load())
	if k2 := p.watch.update(p.now(), k, p.n); k2 != k {
		p.use.Store(int32(k2))
		k = k2
	}
	return k
}

// waitIdle returns when no worker is inside the closed task: it spins for
// spinFor (the usual case, a worker finishing its last chunk; not while the
// machine is crowded), then parks so that a worker the OS preempted
// mid-chunk can have this core.
func (p *pool) waitIdle() {
	if p.active.Load() == 0 {
		return
	}
	spin := p.spinning()
	start := p.now()
	last := start
	for spins := 0; p.active.Load() != 0; spins++ {
		if spin && (spins&63 != 63 || p.keepSpinning(start, &last)) {
			continue
		}
		p.waiting.Store(true)
		if p.active.Load() == 0 && p.waiting.CompareAndSwap(true, false) {
			return
		}
		<-p.done // the last worker out, or its token if it beat the CAS
		return
	}
}

// close stops the worker goroutines and waits for them to exit.
func (p *pool) close() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stop.Swap(true) {
		return
	}
	for i := range p.sleeping {
		if p.sleeping[i].CompareAndSwap(true, false) {
			p.wake[i] <- struct{}{}
		}
	}
	p.exited.Wait()
}
